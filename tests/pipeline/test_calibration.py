"""Per-walker step-length calibration: walk estimates with known answers, the fit and its refusals, the profile
records (versions, staleness), and a calibration that carries over to another walk of the same simulated walker."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipeline import metrics
from pipeline.calibration import (
    MIN_STEPS,
    StepLengthCalibration,
    WalkEstimate,
    fit,
    step_count,
    walk_estimates,
)
from pipeline.errors import DataContractError, InsufficientDataError
from pipeline.events import make_events
from pipeline.run import process_session, spatial_result
from pipeline.spatial import COMPASS_K, SpatialConfig, spatial_metrics
from pipeline.subjects import (
    SubjectProfile,
    calibration_quality,
    read_profile,
    save_profile,
    subject_path,
    update_profile,
)
from sensors.sim.offline import standing_sensor_height_m
from tests.pipeline.test_spatial import FS, _synthetic

STEP = COMPASS_K * 2 * 0.9 * np.sin(np.deg2rad(17.5))  # the synthetic walk's compass step length (test_spatial)


def _thigh_result(n_steps: int = 30, gap_after: float | None = None) -> Any:
    s = _synthetic(n_steps=n_steps)
    events = s["events"]
    if gap_after is not None:  # a 3 s pause: two walks
        shift = np.where(events.t_s > gap_after, 3.0, 0.0)
        events = make_events(events.t_s + shift, events.side, events.kind, events.source, FS)
        n = s["n"] + int(3 * FS)
        thighs = {k: replace(v, sagittal_deg=_delay(v.sagittal_deg, gap_after, n)) for k, v in s["thighs"].items()}
    else:
        n, thighs = s["n"], s["thighs"]
    strides = metrics.stride_table(events, FS, n)
    return spatial_metrics(strides, events, FS, n, leg_length_m=0.9, thighs=thighs), strides


def _delay(x: np.ndarray, after_s: float, n: int) -> np.ndarray:
    """``x`` with 3 s inserted after ``after_s`` (the thigh angles of a paused walk)."""
    i = int(after_s * FS) + 1
    return np.concatenate([x[:i], np.full(int(3 * FS), x[i]), x[i:]])[:n]


def test_walk_estimate_known_answer() -> None:
    est = walk_estimates(*_thigh_result())["thigh"]
    # 30 ICs, 29 measured steps of STEP 0.55 s apart: 30 steps from standing to standing
    assert est.n_steps == 30
    assert est.n_lengths == 29
    assert est.distance_m == pytest.approx(30 * STEP, rel=1e-3)
    assert est.speed_m_s == pytest.approx(STEP / 0.55, rel=1e-3)
    assert est.duration_s == pytest.approx(29 * 0.55)


def test_walk_estimate_sums_bouts_and_clips_to_the_window() -> None:
    paused, strides = _thigh_result(gap_after=2.0 + 14 * 0.55 + 0.1)
    assert paused.bouts.start_s.size == 2  # the strides spanning the 3 s stop are not walking
    both = walk_estimates(paused, strides)["thigh"]
    # two walks of 15 ICs each: 2 × 15 steps, the pause is not walking
    assert both.n_steps == 30
    assert both.distance_m == pytest.approx(30 * STEP, rel=2e-3)
    assert both.speed_m_s == pytest.approx(STEP / 0.55, rel=2e-3)
    first = walk_estimates(paused, strides, end_s=10.0)["thigh"]
    assert first.n_steps == 15
    with pytest.raises(InsufficientDataError, match="no walking bout between 100 and 200 s"):
        walk_estimates(*_thigh_result(), start_s=100.0, end_s=200.0)
    with pytest.raises(DataContractError, match="must come before"):
        walk_estimates(*_thigh_result(), start_s=10.0, end_s=5.0)


def test_steps_lost_to_a_gap_still_count() -> None:
    """Four ICs refused in a row (2.75 s between the ICs either side) split the bouts; the walk still has its 30
    steps, those steps count with the mean length, and a walk where most steps have no length is refused."""
    s = _synthetic(n_steps=30)
    ev = s["events"]
    ic_index = np.flatnonzero(ev.kind == "IC")
    drop = np.isin(np.arange(ev.t_s.size), ic_index[10:14])
    events = make_events(ev.t_s[~drop], ev.side[~drop], ev.kind[~drop], ev.source[~drop], FS)
    strides = metrics.stride_table(events, FS, s["n"])
    res = spatial_metrics(strides, events, FS, s["n"], leg_length_m=0.9, thighs=s["thighs"])
    assert res.bouts.start_s.size == 2
    est = walk_estimates(res, strides)["thigh"]
    assert est.n_steps == 30
    assert est.distance_m == pytest.approx(30 * STEP, rel=1e-3)
    few = res.steps.length_thigh_m.copy()
    few[: few.size - 10] = np.nan
    with pytest.raises(InsufficientDataError, match=r"only 10 of the walk's 30 steps have a thigh step length"):
        walk_estimates(replace(res, steps=replace(res.steps, length_thigh_m=few)), strides)


def test_a_walk_without_lengths_is_refused_not_undercounted() -> None:
    res, strides = _thigh_result()
    lost = replace(res.steps, length_thigh_m=np.full(res.steps.t_s.size, np.nan))
    with pytest.raises(InsufficientDataError, match="no step lengths"):
        walk_estimates(replace(res, steps=lost), strides)


def _estimate(n_steps: int = 30, distance: float = 18.0, speed: float = 1.2) -> dict[Any, WalkEstimate]:
    return {"pelvis": WalkEstimate("pelvis", distance, speed, n_steps, n_steps - 1, 15.0, 0.6, 0.01)}


def _fit(estimates: dict[Any, WalkEstimate], reference: Any = "distance", value: float = 20.0) -> Any:
    return fit(
        estimates,
        reference,
        value,
        session="s1",
        leg_length_m=0.9,
        pendulum_length_m=0.95,
        pipeline_version="test",
        now=datetime(2026, 11, 21, tzinfo=UTC),
    )


def test_fit_factor_uncertainty_and_provenance() -> None:
    (cal,) = _fit(_estimate())
    assert cal.factor == pytest.approx(20.0 / 18.0, abs=1e-4)
    assert cal.uncertainty_pct == pytest.approx(100 / 30, abs=0.01)  # ±1 step of 30
    assert (cal.model_length_m, cal.session, cal.created) == (0.95, "s1", "2026-11-21T00:00:00+00:00")
    (by_speed,) = _fit(_estimate(), "speed", 1.32)
    assert by_speed.factor == pytest.approx(1.1)
    assert by_speed.uncertainty_pct == pytest.approx(1.96, abs=0.01)  # 1.96 relative standard errors
    assert cal.describe() == "pelvis ×1.111 from session s1 (20.0 m walk, 30 steps, ±3 %, 2026-11-21)"


@pytest.mark.parametrize(
    ("estimates", "reference", "value", "message"),
    [
        (_estimate(n_steps=MIN_STEPS - 1), "distance", 20.0, "calibrate on at least"),
        (_estimate(distance=5.0), "distance", 20.0, r"factor 4\.00, outside"),
        (_estimate(), "distance", 2000.5, "outside 2–2000 m"),
        (_estimate(), "distance", float("nan"), "outside"),
        (_estimate(), "speed", 4.4, r"km/h ÷ 3\.6"),
        (_estimate(), "time", 20.0, "distance or speed"),
        (_estimate(speed=float("nan")), "speed", 1.2, "no steady pelvis strides"),
    ],
)
def test_fit_refuses_what_cannot_be_a_walker(
    estimates: dict[Any, WalkEstimate], reference: Any, value: float, message: str
) -> None:
    with pytest.raises((DataContractError, InsufficientDataError), match=message):
        _fit(estimates, reference, value)


def test_profile_keeps_calibrations_by_method_and_drops_stale_ones(tmp_path: Path) -> None:
    (cal,) = _fit(_estimate())
    profile = SubjectProfile("p01", leg_length_m=0.9, pelvis_sensor_height_m=0.95).with_calibrations([cal])
    save_profile(tmp_path, profile)
    stored = json.loads(subject_path(tmp_path, "p01").read_text())
    assert stored["format"] == 3
    assert stored["step_length_calibration"][0]["factor"] == cal.factor
    back = read_profile(subject_path(tmp_path, "p01"))
    assert back == profile
    assert back is not None
    assert back.calibration_for("pelvis") == cal
    assert back.calibration_for("thigh") is None
    # a second walk replaces the pelvis record only
    (again,) = _fit(_estimate(distance=19.0))
    assert back.with_calibrations([again]).step_length_calibration == (again,)
    # the notes change nothing; a new sensor height invalidates the pendulum's factor, which is then dropped
    assert update_profile(tmp_path, "p01", notes="visit 2").calibration_for("pelvis") == cal
    moved = update_profile(tmp_path, "p01", pelvis_sensor_height_m=1.0)
    assert moved.step_length_calibration == ()
    # a hand-edited file whose lengths no longer match keeps the record but never applies it
    stale = replace(profile, pelvis_sensor_height_m=1.0)
    assert stale.calibration_for("pelvis") is None
    assert stale.stale_calibrations == (cal,)


def test_format_1_profiles_read_and_bad_records_are_named(tmp_path: Path) -> None:
    path = subject_path(tmp_path, "p01")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"subject": "p01", "height_m": 1.7, "format": 1}))
    old = read_profile(path)
    assert old is not None
    assert old.step_length_calibration == ()
    (cal,) = _fit(_estimate())
    record = cal.to_dict()
    for broken, message in (
        ({**record, "factor": 9.0}, "outside 0.5–2"),
        ({k: v for k, v in record.items() if k != "session"}, "missing field"),
        ({**record, "k": 1}, "unknown field"),
        ({**record, "method": "foot"}, "method must be one of"),
    ):
        path.write_text(json.dumps({"subject": "p01", "format": 2, "step_length_calibration": [broken]}))
        with pytest.raises(DataContractError, match=message):
            read_profile(path)
    path.write_text(json.dumps({"subject": "p01", "step_length_calibration": [record, record]}))
    with pytest.raises(DataContractError, match="more than one record per method"):
        read_profile(path)


@pytest.mark.parametrize("sites", [("pelvis", "left_thigh", "right_thigh"), ("left_thigh", "right_thigh")])
def test_a_calibration_carries_over_to_another_walk(
    sites: tuple[str, ...], sim_builder: Callable[..., Any], tmp_path: Path
) -> None:
    """Calibrated on one walk (the belt speed, i.e. the truth), the same walker's other walk reads within 2 % of
    the truth — also on the thighs alone, whose uncalibrated compass model reads about 12 % short."""
    first = sim_builder(tmp_path / "a", "healthy", duration_s=40.0, sites=sites, seed=0)
    other = sim_builder(tmp_path / "b", "healthy", duration_s=40.0, sites=sites, seed=1)
    truth = first.model.truth.speed_m_s
    profile = SubjectProfile(
        first.session.meta.subject,
        leg_length_m=first.model.profile.leg_length_m,
        pelvis_sensor_height_m=standing_sensor_height_m(first.model) if "pelvis" in sites else None,
    )
    strides, result = spatial_result(first.session, profile)
    estimates = walk_estimates(result, strides)
    method = "pelvis" if "pelvis" in sites else "thigh"
    assert set(estimates) == ({"pelvis", "thigh"} if "pelvis" in sites else {"thigh"})
    cals = fit(
        estimates,
        "speed",
        truth,
        session=first.session.meta.session_id,
        leg_length_m=profile.leg_length_m or 0.0,
        pendulum_length_m=profile.pendulum_length_m,
        pipeline_version="test",
    )
    save_profile(other.session.path.parent.parent, profile.with_calibrations(cals))
    result = process_session(other.session)
    df = result.summary.to_pandas()
    speed = float(df[df.metric == "walking_speed_m_s"].value.iloc[0])
    assert speed == pytest.approx(truth, rel=0.02)
    assert result.quality["spatial.calibrated"] is True
    assert result.quality["spatial.calibration"].startswith(f"{method} ×")
    uncalibrated = process_session_without(other, profile)
    assert abs(uncalibrated - truth) > abs(speed - truth)  # the calibration is what brought it there


def process_session_without(sim: Any, profile: SubjectProfile) -> float:
    save_profile(sim.session.path.parent.parent, profile)
    result = process_session(sim.session)
    assert result.quality["spatial.calibrated"] is False
    assert result.quality["spatial.calibration"].startswith("none: no calibration walk")
    df = result.summary.to_pandas()
    return float(df[df.metric == "walking_speed_m_s"].value.iloc[0])


def test_stale_calibration_is_reported_not_applied(sim_builder: Callable[..., Any], tmp_path: Path) -> None:
    sim = sim_builder(tmp_path, "healthy", duration_s=30.0)
    (cal,) = _fit(_estimate())  # measured with a 0.95 m pendulum
    profile = SubjectProfile(sim.session.meta.subject, leg_length_m=0.9, pelvis_sensor_height_m=1.0)
    save_profile(tmp_path, replace(profile, step_length_calibration=(cal,)))
    result = process_session(sim.session)
    assert result.quality["spatial.calibrated"] is False
    assert (
        "pelvis from session s1 was made with a 0.95 m pendulum, the profile now gives 1 m (from the sensor height)"
        in result.quality["spatial.calibration"]
    )
    assert result.quality["spatial.calibration_factors"] == {}


def test_a_factor_fitted_on_the_leg_length_pendulum_is_stale_under_1_2_and_says_why() -> None:
    """Before 1.2 a stature-only profile's pendulum was the leg length (0.53 × height); nobody edited the profile,
    so the message must name the pipeline change, and ``subject show`` must not list the factor as if it applied."""
    from imugait._commands import describe_subject

    (cal,) = _fit(_estimate())
    old = replace(cal, model_length_m=0.9275, pipeline_version="1.1")  # 0.530 × 1.75 m
    profile = SubjectProfile("p01", height_m=1.75).with_calibrations([old])
    assert profile.calibration_for("pelvis") is None
    assert profile.why_stale(old) == (
        "pelvis from session s1 was made with a 0.9275 m pendulum, the profile now gives 1.0622 m (from the "
        "stature); imugait 1.2 estimates the lower-back sensor height where 1.1 used the leg length"
    )
    (line,) = [x for x in describe_subject(profile) if x.startswith("step-length calibration")]
    assert "-- not applied: pelvis from session s1 was made with a 0.9275 m pendulum" in line
    assert line.endswith("re-run imugait subject calibrate")
    current = replace(old, model_length_m=1.0622, pipeline_version="1.2")
    (line,) = [x for x in describe_subject(profile.with_calibrations([current])) if x.startswith("step-length")]
    assert "not applied" not in line


def test_calibration_record_survives_json(tmp_path: Path) -> None:
    (cal,) = _fit(_estimate())
    assert StepLengthCalibration.from_dict(json.loads(json.dumps(cal.to_dict()))) == cal


def test_step_count_counts_an_ic_lost_to_a_gap() -> None:
    ic = 0.55 * np.arange(20, dtype=np.float64)
    assert step_count(ic) == 20
    assert step_count(np.delete(ic, [5, 12])) == 20  # two refused ICs: still 20 steps
    assert step_count(ic[:2]) == 2


def test_distance_calibration_on_one_walk_gives_the_speed_of_another(
    sim_builder: Callable[..., Any], tmp_path: Path
) -> None:
    """The over-ground route: the simulated walker's true distance from standing to its last IC (pelvis progression
    plus the half step the leading foot is ahead of the pelvis at double support) calibrates seed 0; seed 1's
    steady speed is then within 2 % of the truth (uncalibrated: about 3 % short)."""
    first = sim_builder(tmp_path / "a", "healthy", duration_s=40.0, seed=0)
    other = sim_builder(tmp_path / "b", "healthy", duration_s=40.0, seed=1)
    model, truth = first.model, first.model.truth
    ic = truth.events_t_s[truth.events_kind == "IC"]
    half_step = truth.speed_m_s * float(np.median(np.diff(ic))) / 2
    distance = float(truth.progression_fn(ic[-1:])[0]) + half_step
    profile = SubjectProfile(
        first.session.meta.subject,
        leg_length_m=model.profile.leg_length_m,
        pelvis_sensor_height_m=standing_sensor_height_m(model),
    )
    strides, result = spatial_result(first.session, profile)
    estimates = walk_estimates(result, strides)
    # every step counted, gaps and all; the truth has no event for the IC inside the gait-initiation ramp
    assert ic.size <= estimates["pelvis"].n_steps <= ic.size + 1
    cals = fit(
        estimates,
        "distance",
        distance,
        session="a",
        leg_length_m=model.profile.leg_length_m,
        pendulum_length_m=profile.pendulum_length_m,
        pipeline_version="test",
    )
    save_profile(other.session.path.parent.parent, profile.with_calibrations(cals))
    df = process_session(other.session).summary.to_pandas()
    speed = float(df[df.metric == "walking_speed_m_s"].value.iloc[0])
    assert speed == pytest.approx(truth.speed_m_s, rel=0.02)


def test_a_format_2_record_reads_with_the_population_factor_its_model_had(tmp_path: Path) -> None:
    """Records written before subject format 3 carry no model_factor: they were fitted with mobgap's K (pelvis)
    and the bare compass chord (thigh), and read so."""
    (pelvis,) = _fit(_estimate())
    thigh = replace(pelvis, method="thigh", model_length_m=0.9, model_factor=COMPASS_K)
    records = [{k: v for k, v in c.to_dict().items() if k != "model_factor"} for c in (pelvis, thigh)]
    path = subject_path(tmp_path, "p01")
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps(
            {
                "subject": "p01",
                "format": 2,
                "leg_length_m": 0.9,
                "pelvis_sensor_height_m": 0.95,
                "step_length_calibration": records,
            }
        )
    )
    old = read_profile(path)
    assert old is not None
    factors = {c.method: c.model_factor for c in old.step_length_calibration}
    assert factors == {"pelvis": pytest.approx(4.587 / 4), "thigh": 1.0}
    assert old.calibration_for("thigh") is not None  # still current: same leg length
    stored = old.calibration_for("thigh")
    assert stored is not None
    assert stored.factor_for(SpatialConfig()) == pytest.approx(stored.factor / COMPASS_K)
    quality = calibration_quality(old, "thigh", {"thigh": stored})
    assert quality["spatial.calibration_factors"]["thigh"] == pytest.approx(stored.factor / COMPASS_K, abs=1e-4)
    assert "population factor is now 1.150 (was 1.000)" in quality["spatial.calibration"]


def test_a_new_population_factor_keeps_the_calibrated_scale() -> None:
    """Calibrated with one compass factor, the walker's step lengths are the same under another: the record is
    rescaled (factor × model_factor / the new one), not applied on top of the new population factor."""
    s = _synthetic(n_steps=30)
    strides = metrics.stride_table(s["events"], FS, s["n"])
    lengths = {}
    for k in (1.0, 1.3):
        config = SpatialConfig(compass_k=k)
        raw = spatial_metrics(strides, s["events"], FS, s["n"], leg_length_m=0.9, thighs=s["thighs"], config=config)
        lengths[k] = raw.steps.length_thigh_m
    assert np.nanmean(lengths[1.3]) == pytest.approx(1.3 * np.nanmean(lengths[1.0]))
    estimates = walk_estimates(
        spatial_metrics(
            strides, s["events"], FS, s["n"], leg_length_m=0.9, thighs=s["thighs"], config=SpatialConfig(compass_k=1.0)
        ),
        strides,
    )
    (cal,) = fit(
        estimates,
        "distance",
        20.0,
        session="s1",
        leg_length_m=0.9,
        pendulum_length_m=None,
        pipeline_version="test",
        config=SpatialConfig(compass_k=1.0),
    )
    assert cal.model_factor == 1.0
    calibrated = {
        k: spatial_metrics(
            strides,
            s["events"],
            FS,
            s["n"],
            leg_length_m=0.9,
            thighs=s["thighs"],
            factors={"thigh": cal.factor_for(SpatialConfig(compass_k=k))},
            config=SpatialConfig(compass_k=k),
        ).steps.length_thigh_m
        for k in (1.0, 1.3)
    }
    assert np.allclose(calibrated[1.3], calibrated[1.0], equal_nan=True)
    assert np.nanmean(calibrated[1.0]) == pytest.approx(cal.factor * np.nanmean(lengths[1.0]))
    with pytest.raises(DataContractError, match="model_factor must be positive"):
        replace(cal, model_factor=0.0)

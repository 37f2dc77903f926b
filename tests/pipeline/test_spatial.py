"""Step length, stride length and walking speed: known answers, vectorised vs slow, simulator kinematics."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipeline import metrics
from pipeline.events import make_events
from pipeline.orientation import PelvisAngles, ThighAngles
from pipeline.run import load_aligned
from pipeline.spatial import (
    COMPASS_K,
    ZIJLSTRA_K_MS_MS,
    SpatialConfig,
    StrideSpatial,
    compass_step_length,
    covered_time,
    gap_quality,
    interval_means,
    interval_speed,
    long_invalid_runs,
    measured_quality,
    measured_share,
    pendulum_step_length,
    spatial_metrics,
    step_table,
    stride_means,
    turn_projection,
    vertical_displacement,
)
from pipeline.subjects import SubjectProfile
from sensors.sim.offline import standing_sensor_height_m

FS = 100.0


def test_model_formulas_known_answers() -> None:
    # h = l − √(l² − (SL/2)²) inverts the pendulum: SL = 2√(2lh − h²)
    length, sl = 0.9, 0.6
    h = length - np.sqrt(length**2 - (sl / 2) ** 2)
    assert pendulum_step_length(np.array([h]), length, k=1.0)[0] == pytest.approx(sl)
    assert pendulum_step_length(np.array([h]), length)[0] == pytest.approx(sl * ZIJLSTRA_K_MS_MS)
    assert np.isnan(pendulum_step_length(np.array([np.nan, 2.5]), 1.0)).all()
    # isosceles triangle: legs of 0.9 m 40° apart put the feet 2·0.9·sin 20° apart
    assert compass_step_length(np.array([40.0]), 0.9)[0] == pytest.approx(2 * 0.9 * np.sin(np.deg2rad(20)))
    assert np.isnan(compass_step_length(np.array([-5.0]), 0.9)[0])


def test_vertical_displacement_recovers_a_sinusoid() -> None:
    t = np.arange(0, 30, 1 / FS)
    f, amp = 1.8, 0.015  # step frequency, 3 cm peak to peak
    acc = -amp * (2 * np.pi * f) ** 2 * np.cos(2 * np.pi * f * t)
    d = vertical_displacement(acc, np.ones(t.size, dtype=bool), FS)
    core = d[int(5 * FS) : int(25 * FS)]
    assert np.ptp(core) == pytest.approx(2 * amp, rel=0.02)


def _synthetic(n_steps: int = 30, step_s: float = 0.55, h: float = 0.03, dtheta: float = 35.0) -> dict[str, Any]:
    """Alternating ICs, a vertical sinusoid at step frequency, thighs ±dtheta/2 in antiphase at stride frequency."""
    n = int((n_steps * step_s + 4) * FS)
    t = np.arange(n) / FS
    ic_t = 2.0 + step_s * np.arange(n_steps)
    side = np.where(np.arange(n_steps) % 2 == 0, "left", "right")
    fc_t = ic_t + 0.65 * 2 * step_s
    ev = make_events(
        np.concatenate([ic_t, fc_t]),
        np.concatenate([side, side]),
        np.repeat(["IC", "FC"], n_steps),
        np.full(2 * n_steps, "test"),
        FS,
    )
    w_step = 2 * np.pi / step_s
    acc = -(h / 2) * w_step**2 * np.cos(w_step * (t - 2.0))
    valid = np.ones(n, dtype=bool)
    pelvis = PelvisAngles(*(np.zeros(n) for _ in range(4)), acc, valid)
    # left thigh most flexed at left IC (t = 2 + 2k·step), right thigh mirrored
    left = (dtheta / 2) * np.cos(w_step / 2 * (t - 2.0))
    thighs = {
        "left": ThighAngles(left, np.zeros(n), np.zeros(n), valid, np.zeros(n)),
        "right": ThighAngles(-left, np.zeros(n), np.zeros(n), valid, np.zeros(n)),
    }
    return {"events": ev, "n": n, "pelvis": pelvis, "thighs": thighs, "ic_t": ic_t}


def test_step_table_known_answer_and_slow_reference() -> None:
    s = _synthetic()
    steps = step_table(s["events"], FS, s["n"], leg_length_m=0.9, pelvis=s["pelvis"], thighs=s["thighs"])
    assert np.isnan(steps.length_m[0])  # the first IC ends no step
    inner = slice(3, -3)  # filter edge effects
    assert np.allclose(steps.thigh_angle_deg[1:], 35.0, atol=0.1)
    assert np.allclose(steps.length_thigh_m[1:], COMPASS_K * 2 * 0.9 * np.sin(np.deg2rad(17.5)), rtol=1e-3)
    assert np.allclose(steps.excursion_m[inner], 0.03, rtol=0.05)
    assert set(steps.method[1:]) == {"pelvis+thigh"}
    # the reduceat excursion equals a plain per-step loop over the same displacement
    d = vertical_displacement(s["pelvis"].vertical_acc_ms2, s["pelvis"].valid, FS)
    i = s["events"].sample[s["events"].kind == "IC"]
    slow = np.array([np.ptp(d[a:b]) for a, b in zip(i[:-1], i[1:], strict=True)])
    assert np.allclose(steps.excursion_m[1:], slow)


def test_strides_bouts_and_missing_sensors() -> None:
    s = _synthetic()
    strides = metrics.stride_table(s["events"], FS, s["n"])
    res = spatial_metrics(strides, s["events"], FS, s["n"], leg_length_m=0.9, thighs=s["thighs"])
    assert res.method == "thigh"
    step = COMPASS_K * 2 * 0.9 * np.sin(np.deg2rad(17.5))
    ok = np.isfinite(res.strides.stride_length_m)
    assert ok.sum() >= len(strides) - 2
    assert np.allclose(res.strides.stride_length_m[ok], 2 * step)
    assert np.allclose(res.strides.speed_m_s[ok], 2 * step / 1.1)
    assert res.bouts.speed_m_s.shape == (1,)
    assert res.bouts.speed_m_s[0] == pytest.approx(step / 0.55)
    # the Mobilise-D / INDIP bout values: means over the bout's strides (1.1 s each)
    assert res.bouts.stride_speed_m_s[0] == pytest.approx(2 * step / 1.1)
    assert res.bouts.cadence_spm[0] == pytest.approx(120 / 1.1)
    assert res.bouts.stride_length_m[0] == pytest.approx(2 * step)
    none = spatial_metrics(strides, s["events"], FS, s["n"], leg_length_m=0.9)
    assert none.method == ""
    assert np.isnan(none.strides.speed_m_s).all()
    assert np.isnan(none.bouts.stride_speed_m_s).all()
    assert none.bouts.cadence_spm[0] == pytest.approx(120 / 1.1)  # cadence needs no lengths


def _stride_table(start: np.ndarray, end: np.ndarray) -> metrics.StrideTable:
    """Strides with only their times set (every other column NaN / False)."""
    n = start.size
    cols: dict[str, Any] = {f.name: np.full(n, np.nan) for f in dataclasses.fields(metrics.StrideTable)}
    cols.update(side=np.full(n, "left"), stride=np.arange(n, dtype=np.int32), start_s=start, end_s=end)
    cols.update(stride_time_s=end - start, valid=np.ones(n, bool), opening_valid=np.ones(n, bool))
    return metrics.StrideTable(**cols)


def test_bout_stride_means_skip_stops_and_strides_without_a_value() -> None:
    """Two bouts split by a stop: each bout's means over its own strides; a stride across the stop (over two of the
    longest steps) belongs to no bout, a stride without a length counts for cadence only."""
    start = np.array([0.0, 1.0, 2.0, 10.0, 11.2])
    end = np.array([1.0, 2.0, 10.0, 11.2, 12.4])
    strides = _stride_table(start, end)
    nan = np.nan
    per_stride = StrideSpatial(
        *(np.zeros(5),) * 2,
        np.array([1.0, nan, 0.2, 1.2, 1.4]),
        np.zeros(5),
        *(np.zeros(5),) * 2,
        np.array([1.0, nan, 0.025, 1.0, 1.4 / 1.2]),
        np.full(5, "pelvis"),
    )
    b0, b1, speed, cadence, length = stride_means(strides, per_stride)
    assert b0.tolist() == [0.0, 10.0]
    assert b1.tolist() == [2.0, 12.4]
    np.testing.assert_allclose(speed, [1.0, (1.0 + 1.4 / 1.2) / 2])
    np.testing.assert_allclose(cadence, [120.0, 100.0])
    np.testing.assert_allclose(length, [1.0, 1.3])


def test_gap_gives_no_pelvis_length() -> None:
    s = _synthetic()
    valid = np.ones(s["n"], dtype=bool)
    gap = (np.arange(s["n"]) >= int(8.0 * FS)) & (np.arange(s["n"]) < int(8.3 * FS))
    valid[gap] = False
    p = s["pelvis"]
    pelvis = PelvisAngles(p.rotation_deg, p.obliquity_deg, p.tilt_deg, p.heading_rate_dps, p.vertical_acc_ms2, valid)
    steps = step_table(s["events"], FS, s["n"], leg_length_m=0.9, pelvis=pelvis, thighs=s["thighs"])
    hit = (steps.t_s > 8.0) & (steps.t_s - steps.duration_s < 8.3)
    assert hit.sum() == 2
    assert np.isnan(steps.length_pelvis_m[hit]).all()
    assert np.isfinite(steps.length_pelvis_m[~hit][3:-3]).all()
    # the thigh model has a value there, but a session with pelvis lengths never mixes in the other model's bias
    assert np.isfinite(steps.length_thigh_m[hit]).all()
    assert np.isnan(steps.length_m[hit]).all()
    assert np.array_equal(steps.length_m, steps.length_pelvis_m, equal_nan=True)


def test_a_short_gap_is_bridged_and_marked() -> None:
    """A gap of one lost notification (8 samples) inside a step keeps the step's length, marked across_gap; the
    session quality counts it; a gap longer than ``max_bridged_gap_s`` still costs the step (test above)."""
    s = _synthetic()
    clean = step_table(s["events"], FS, s["n"], leg_length_m=0.9, pelvis=s["pelvis"], thighs=s["thighs"])
    valid = np.ones(s["n"], dtype=bool)
    valid[int(8.1 * FS) : int(8.1 * FS) + 8] = False  # 0.08 s
    p = s["pelvis"]
    pelvis = PelvisAngles(p.rotation_deg, p.obliquity_deg, p.tilt_deg, p.heading_rate_dps, p.vertical_acc_ms2, valid)
    steps = step_table(s["events"], FS, s["n"], leg_length_m=0.9, pelvis=pelvis, thighs=s["thighs"])
    hit = (steps.t_s > 8.1) & (steps.t_s - steps.duration_s < 8.18)
    assert hit.sum() == 1
    assert steps.across_gap[hit].all()
    assert not steps.across_gap[~hit].any()
    np.testing.assert_allclose(steps.length_pelvis_m, clean.length_pelvis_m, rtol=0.02)
    assert gap_quality(steps) == {
        "spatial.pelvis_steps_with_length": int(np.isfinite(steps.length_pelvis_m).sum()),
        "spatial.pelvis_steps_across_gaps": 1,
    }
    assert gap_quality(clean)["spatial.pelvis_steps_across_gaps"] == 0
    strict = step_table(
        s["events"],
        FS,
        s["n"],
        leg_length_m=0.9,
        pelvis=pelvis,
        config=dataclasses.replace(SpatialConfig(), max_bridged_gap_s=0.0),
    )
    assert np.isnan(strict.length_pelvis_m[hit]).all()  # the old rule: any invalid sample costs the step


def _with_heading_rate(s: dict[str, Any], rate_dps: np.ndarray) -> PelvisAngles:
    p = s["pelvis"]
    return PelvisAngles(p.rotation_deg, p.obliquity_deg, p.tilt_deg, rate_dps, p.vertical_acc_ms2, p.valid)


def test_turning_steps_are_projected_by_the_heading_change_and_pelvic_rotation_is_not_a_turn() -> None:
    s = _synthetic()  # 0.55 s steps
    straight = step_table(s["events"], FS, s["n"], leg_length_m=0.9, pelvis=s["pelvis"])
    t = np.arange(s["n"]) / FS
    walking = slice(2, -2)  # away from the ends of the record, where the heading filter is padded

    turning = step_table(s["events"], FS, s["n"], leg_length_m=0.9, pelvis=_with_heading_rate(s, np.full(s["n"], 60.0)))
    np.testing.assert_allclose(turning.turn_deg[walking], 60.0 * 0.55, rtol=1e-3)  # 60 °/s for 0.55 s
    np.testing.assert_allclose(
        turning.length_pelvis_m[walking], straight.length_pelvis_m[walking] * np.cos(np.deg2rad(33.0)), rtol=1e-3
    )
    np.testing.assert_allclose(turning.excursion_m, straight.excursion_m, equal_nan=True)

    # the pelvis rotating ±40 °/s back and forth at stride frequency while walking straight: not a turn
    rotating = _with_heading_rate(s, 40.0 * np.sin(2 * np.pi * t / 1.1))
    rot = step_table(s["events"], FS, s["n"], leg_length_m=0.9, pelvis=rotating)
    assert np.nanmax(rot.turn_deg[walking]) < 1.0
    np.testing.assert_allclose(rot.length_pelvis_m[walking], straight.length_pelvis_m[walking], rtol=2e-4)

    off = step_table(
        s["events"],
        FS,
        s["n"],
        leg_length_m=0.9,
        pelvis=_with_heading_rate(s, np.full(s["n"], 60.0)),
        config=dataclasses.replace(SpatialConfig(), turn_projection=False),
    )
    np.testing.assert_allclose(off.length_pelvis_m, straight.length_pelvis_m, equal_nan=True)
    np.testing.assert_allclose(off.turn_deg[walking], 60.0 * 0.55, rtol=1e-3)  # still reported


def test_turn_projection_is_capped_and_neutral_where_the_turn_is_unknown() -> None:
    np.testing.assert_allclose(
        turn_projection(np.array([0.0, 60.0, 75.0, 170.0, np.nan]), 75.0),
        [1.0, 0.5, np.cos(np.deg2rad(75.0)), np.cos(np.deg2rad(75.0)), 1.0],
    )


def test_long_invalid_runs_marks_only_runs_over_the_limit() -> None:
    valid = np.array([1, 0, 0, 1, 0, 0, 0, 0, 1, 0], dtype=bool)
    np.testing.assert_array_equal(long_invalid_runs(valid, 2), [0, 0, 0, 0, 1, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(long_invalid_runs(valid, 0), ~valid)
    assert not long_invalid_runs(np.ones(4, dtype=bool), 0).any()
    assert long_invalid_runs(np.zeros(3, dtype=bool), 2).all()


def test_thigh_model_when_the_pelvis_gives_no_length() -> None:
    s = _synthetic()
    p = s["pelvis"]
    dead = np.zeros(s["n"], dtype=bool)
    pelvis = PelvisAngles(p.rotation_deg, p.obliquity_deg, p.tilt_deg, p.heading_rate_dps, p.vertical_acc_ms2, dead)
    steps = step_table(s["events"], FS, s["n"], leg_length_m=0.9, pelvis=pelvis, thighs=s["thighs"])
    assert np.isnan(steps.length_pelvis_m).all()
    assert np.array_equal(steps.length_m, steps.length_thigh_m, equal_nan=True)
    assert set(steps.method[1:]) == {"thigh"}


def _truth_speeds(model: Any, leg_m: float, config: SpatialConfig) -> tuple[float, float]:
    """The two models applied to the simulator's own kinematics at its true ICs (no sensors, no detection)."""
    tr = model.truth
    ic = tr.events_t_s[tr.events_kind == "IC"]
    side = tr.events_side[tr.events_kind == "IC"]
    ic, side = ic[(ic > 8.0) & (ic < 52.0)], side[(ic > 8.0) & (ic < 52.0)]
    t = np.arange(ic[0], ic[-1], 0.002)
    z = model.segment_pose("pelvis", t)[1][:, 2]
    k = np.searchsorted(t, ic)
    h = np.array([np.ptp(z[a:b]) for a, b in zip(k[:-1], k[1:], strict=True)])
    step_s = np.diff(ic)
    speed_pelvis = float(np.mean(pendulum_step_length(h, leg_m, config.zijlstra_k) / step_s))
    lr = model.thigh_angles_deg("left", ic[1:])[:, 0] - model.thigh_angles_deg("right", ic[1:])[:, 0]
    dtheta = np.where(side[1:] == "left", lr, -lr)
    speed_thigh = float(np.mean(config.compass_k * compass_step_length(dtheta, leg_m) / step_s))
    return speed_pelvis, speed_thigh


@pytest.mark.parametrize("profile", ["healthy", "antalgic_right"])
def test_simulator_measurement_chain(profile: str, sim_factory: Callable[..., Any]) -> None:
    """The pipeline reproduces each model applied to the simulator's true kinematics within 5 %."""
    sim = sim_factory(profile)
    al = load_aligned(sim.session)
    n = al.t_s.size
    strides = metrics.stride_table(al.events, al.fs_hz, n, pelvis=al.pelvis, thighs=al.thighs)
    leg = sim.model.profile.leg_length_m
    res = spatial_metrics(strides, al.events, al.fs_hz, n, leg_length_m=leg, pelvis=al.pelvis, thighs=al.thighs)
    v = strides.valid
    measured_pelvis = float(np.nanmean(res.strides.speed_pelvis_m_s[v]))
    measured_thigh = float(np.nanmean(res.strides.speed_thigh_m_s[v]))
    truth_pelvis, truth_thigh = _truth_speeds(sim.model, leg, SpatialConfig())
    assert measured_pelvis == pytest.approx(truth_pelvis, rel=0.05)
    assert measured_thigh == pytest.approx(truth_thigh, rel=0.05)
    assert res.method == "pelvis+thigh"


def _steady_speed(sim: Any, leg_length_m: float, pendulum_length_m: float | None) -> float:
    """The session's speed (mean over valid strides) of a simulated session with these body lengths."""
    al = load_aligned(sim.session)
    n = al.t_s.size
    strides = metrics.stride_table(al.events, al.fs_hz, n, pelvis=al.pelvis, thighs=al.thighs)
    res = spatial_metrics(
        strides,
        al.events,
        al.fs_hz,
        n,
        leg_length_m=leg_length_m,
        pendulum_length_m=pendulum_length_m,
        pelvis=al.pelvis,
        thighs=al.thighs,
    )
    return float(np.nanmean(res.strides.speed_m_s[strides.valid]))


@pytest.mark.parametrize("profile", ["healthy", "antalgic_right"])
def test_walking_speed_within_5_pct_of_truth(profile: str, sim_factory: Callable[..., Any]) -> None:
    """With the profile a clinician enters (leg length and the sensor's standing height, the pendulum length
    mobgap's validation uses), walking speed is within 5 % of the simulator's."""
    sim = sim_factory(profile)
    speed = _steady_speed(sim, sim.model.profile.leg_length_m, standing_sensor_height_m(sim.model))
    assert speed == pytest.approx(sim.model.truth.speed_m_s, rel=0.05)


def test_walking_speed_with_only_a_leg_length(sim_factory: Callable[..., Any]) -> None:
    """Without a measured sensor height the pendulum is the lower back's height estimated from the leg length, not
    the leg length (which reads ≈ 6 % short on top of the model's own −3 % here): still within 5 %."""
    sim = sim_factory("healthy")
    profile = SubjectProfile("p01", leg_length_m=sim.model.profile.leg_length_m)
    assert profile.leg_length is not None
    speed = _steady_speed(sim, profile.leg_length.value_m, profile.pendulum_length_m)
    assert speed == pytest.approx(sim.model.truth.speed_m_s, rel=0.05)


@pytest.mark.parametrize("profile", ["healthy", "antalgic_right"])
def test_thigh_only_walking_speed_within_5_pct_of_truth(profile: str, sim_factory: Callable[..., Any]) -> None:
    """The compass chord reads the simulated walker ≈ 12 % short; its population factor (COMPASS_K, fitted on real
    walkers against their feet's inertial navigation, never on the simulator) brings it within 5 %."""
    sim = sim_factory(profile)
    al = load_aligned(sim.session)
    n = al.t_s.size
    strides = metrics.stride_table(al.events, al.fs_hz, n, pelvis=al.pelvis, thighs=al.thighs)
    res = spatial_metrics(
        strides, al.events, al.fs_hz, n, leg_length_m=sim.model.profile.leg_length_m, thighs=al.thighs
    )
    speed = float(np.nanmean(res.strides.speed_thigh_m_s[strides.valid]))
    assert speed == pytest.approx(sim.model.truth.speed_m_s, rel=0.05)


def test_process_session_uses_the_subject_profile(sim_builder: Callable[..., Any], tmp_path: Path) -> None:
    from pipeline.run import process_session
    from pipeline.subjects import SubjectProfile, save_profile

    sim = sim_builder(tmp_path, "healthy", duration_s=40.0)
    without = process_session(sim.session).summary.to_pandas()
    speed = without[without.metric == "walking_speed_m_s"]
    assert speed.value.isna().all()
    assert (speed.n == 0).all()
    save_profile(tmp_path, SubjectProfile(sim.session.meta.subject, height_m=1.70))
    result = process_session(sim.session)
    df = result.summary.to_pandas()
    assert df[df.metric == "walking_speed_m_s"].value.iloc[0] > 0.5
    assert result.quality["subject.leg_length_estimated"] is True
    assert result.quality["spatial.method"] == "pelvis+thigh"
    assert len(df) == len(without)  # placeholders replaced, not duplicated


def test_interval_speed_counts_pauses_and_unmeasured_steps() -> None:
    # ICs every 0.5 s with 0.6 m steps, then a 2 s hesitation (no length: too long a step) and 4 more steps
    ic = np.concatenate([np.arange(0.0, 3.01, 0.5), 5.0 + np.arange(0.0, 1.51, 0.5)])
    length = np.where(np.diff(ic, prepend=np.nan) <= 1.5, 0.6, np.nan)
    speed = interval_speed(np.array([0.0, 0.0, 5.0, 9.0]), np.array([6.5, 3.0, 6.5, 12.0]), ic, ic, length)
    # whole bout: 10 intervals in 6.5 s, each counted with the mean measured length (not 0.6 / 0.5 = 1.2 m/s)
    assert speed[0] == pytest.approx(0.6 * 10 / 6.5)
    assert speed[1] == pytest.approx(1.2)
    assert speed[2] == pytest.approx(1.2)
    assert np.isnan(speed[3])  # no IC inside


def test_bouts_table_with_and_without_a_profile(sim_builder: Callable[..., Any], tmp_path: Path) -> None:
    """``derived/bouts.arrow``: one row per run of strides; distance and speed only with a leg length."""
    from pipeline.run import process_session
    from pipeline.schemas import BOUTS
    from pipeline.store import read_table
    from pipeline.subjects import SubjectProfile, save_profile

    sim = sim_builder(tmp_path, "healthy", duration_s=40.0, turn_every_s=None)
    process_session(sim.session)
    bare = read_table(sim.session.derived_path("bouts"), BOUTS).to_pandas()
    assert len(bare) >= 1
    assert (bare.n_strides > 0).all()
    assert bare.speed_m_s.isna().all()
    assert bare.stride_speed_m_s.isna().all()
    assert bare.measured_share.isna().all()  # no lengths without a profile: unknown, not 0
    assert (bare.cadence_spm > 60).all()  # from the ICs alone
    save_profile(tmp_path, SubjectProfile(sim.session.meta.subject, leg_length_m=sim.model.profile.leg_length_m))
    process_session(sim.session)
    bouts = read_table(sim.session.derived_path("bouts"), BOUTS).to_pandas()
    walk = bouts.loc[bouts.duration_s.idxmax()]
    assert walk.duration_s > 25.0  # one straight walk of ~35 s after standing
    assert walk.distance_m == pytest.approx(walk.speed_m_s * walk.duration_s, rel=0.15)
    assert walk.speed_m_s == pytest.approx(sim.model.truth.speed_m_s, rel=0.2)  # see the speed xfail above
    assert walk.stride_speed_m_s == pytest.approx(walk.stride_length_m * walk.cadence_spm / 120, rel=0.05)
    # the simulator loses 2 % of its 8-sample notifications; a step keeps its length across such a gap (module
    # docstring), so the walk is measured over nearly all its time
    assert 0.9 < walk.measured_share <= 1.0


def test_interval_means_count_only_strides_wholly_inside_widened_by_the_margin() -> None:
    start, end = np.array([0.0, 5.0]), np.array([2.0, 8.0])
    s0, s1 = np.array([0.0, 1.0, 5.0, 7.5]), np.array([1.0, 2.01, 6.0, 8.5])  # 2nd and 4th cross an end
    values = np.array([1.0, 3.0, 5.0, 7.0])
    np.testing.assert_allclose(interval_means(start, end, s0, s1, values), [1.0, 5.0])
    np.testing.assert_allclose(interval_means(start, end, s0, s1, values, margin_s=0.02), [2.0, 5.0])
    assert interval_means(np.zeros(0), np.zeros(0), s0, s1, values).size == 0


def test_covered_time_counts_overlapping_covers_once_and_clips_to_each_interval() -> None:
    start, end = np.array([0.0, 10.0, 20.0]), np.array([8.0, 14.0, 22.0])
    c0, c1 = np.array([1.0, 2.0, 6.0, 12.0]), np.array([3.0, 4.0, 9.0, 13.0])  # 1–4 overlap; 6–9 crosses 8
    np.testing.assert_allclose(covered_time(start, end, c0, c1), [3.0 + 2.0, 1.0, 0.0])
    np.testing.assert_allclose(covered_time(start, end, np.zeros(0), np.zeros(0)), [0.0, 0.0, 0.0])


def test_measured_share_is_the_time_inside_strides_with_a_length() -> None:
    """Left and right strides overlap by a step: the union counts, so a bout whose every stride has a length is
    wholly measured, and one with the middle strides lost (a missed IC) only partly."""
    start = np.arange(8) * 0.55  # strides of 1.1 s, alternating sides, each starting a step after the last
    strides = _stride_table(start, start + 1.1)
    full = measured_share(np.array([0.0]), np.array([start[-1] + 1.1]), strides, np.full(8, 1.3))
    assert full[0] == pytest.approx(1.0)
    lengths = np.where((start > 1.0) & (start < 2.5), np.nan, 1.3)  # strides opening at 1.1, 1.65, 2.2 lost
    part = measured_share(np.array([0.0]), np.array([start[-1] + 1.1]), strides, lengths)
    # measured: 0–1.65 (strides opening at 0 and 0.55) and 2.75–4.95 (2.75 onwards) of 4.95 s
    assert part[0] == pytest.approx((1.65 + 2.2) / 4.95)
    none = measured_share(np.array([0.0, 3.0]), np.array([0.0, 4.0]), strides, np.full(8, np.nan))
    assert np.isnan(none[0])  # an empty interval has no share
    assert none[1] == 0.0


def test_bouts_carry_their_measured_share_and_the_quality_counts_low_ones() -> None:
    s = _synthetic()
    strides = metrics.stride_table(s["events"], FS, s["n"])
    res = spatial_metrics(strides, s["events"], FS, s["n"], leg_length_m=0.9, thighs=s["thighs"])
    assert res.bouts.measured_share[0] > 0.9
    assert measured_quality(res.bouts) == {"spatial.bouts_with_length": 1, "spatial.bouts_under_measured": 0}
    low = dataclasses.replace(res.bouts, measured_share=np.array([0.4]))
    assert measured_quality(low)["spatial.bouts_under_measured"] == 1
    none = spatial_metrics(strides, s["events"], FS, s["n"], leg_length_m=0.9)
    assert measured_quality(none.bouts) == {"spatial.bouts_with_length": 0, "spatial.bouts_under_measured": 0}

"""End to end: simulated sessions through process_session, accuracy against the model's truth, bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pyarrow import ipc

from pipeline.catalog import METRICS
from pipeline.errors import DataContractError, InsufficientDataError
from pipeline.quality import findings
from pipeline.run import PipelineConfig, ProcessResult, load_aligned, process_session
from pipeline.schemas import EVENTS, STRIDES, SUMMARY, table_metadata
from pipeline.store import SensorInfo, create_session, read_table

gait_model = pytest.importorskip("sensors.sim.gait_model")


def _value(result: ProcessResult, metric: str, side: str = "both") -> float:
    df = result.summary.to_pandas()
    return float(df[(df.metric == metric) & (df.side == side)].value.iloc[0])


def test_writes_valid_tables_with_provenance(sim_factory: Callable[..., Any]) -> None:
    sim = sim_factory("healthy")
    messages: list[str] = []
    result = process_session(sim.session, progress=messages.append)
    assert messages
    for name, schema in (("events", EVENTS), ("strides", STRIDES), ("summary", SUMMARY)):
        table = read_table(sim.session.derived_path(name), schema)
        meta = table_metadata(table.schema)
        assert json.loads(meta["config"]) == json.loads(PipelineConfig().to_json())
        assert set(json.loads(meta["inputs_sha256"])) == {"pelvis", "left_thigh", "right_thigh"}
        assert meta["pipeline_version"]
    pairs = set(zip(result.summary["metric"].to_pylist(), result.summary["side"].to_pylist(), strict=True))
    assert pairs == {(m.name, s) for m in METRICS.values() for s in m.sides}
    assert result.quality["valid_strides"] >= 60


def test_healthy_accuracy(sim_factory: Callable[..., Any]) -> None:
    sim = sim_factory("healthy")
    result = process_session(sim.session)
    truth = sim.model.truth.summary()
    # healthy: |SI| small (measured ≈ 0.1–1.5 %); tolerance 3 percentage points
    assert abs(_value(result, "stance_time_si_pct")) < 3.0
    assert abs(_value(result, "step_time_si_pct")) < 3.0
    assert _value(result, "cadence_spm") == pytest.approx(truth["cadence_spm"], abs=1.5)
    # pelvic ranges within 1.5° (measured obliquity 4.51 vs 4.50, rotation 8.98 vs 9.00, tilt 3.06 vs 3.00)
    for metric, key in (
        ("pelvic_obliquity_range_deg", "obliquity_range_deg"),
        ("pelvic_rotation_range_deg", "rotation_range_deg"),
        ("pelvic_tilt_range_deg", "tilt_range_deg"),
    ):
        assert _value(result, metric) == pytest.approx(truth[key], abs=1.5), metric


def test_antalgic_right_accuracy(sim_factory: Callable[..., Any]) -> None:
    sim = sim_factory("antalgic_right")
    result = process_session(sim.session)
    truth = sim.model.truth.summary()
    si = _value(result, "stance_time_si_pct")
    # sign correct and within ±3 pp of truth (measured ≈ −11.7 vs −9.8)
    assert si < 0
    assert si == pytest.approx(truth["stance_time_si_pct"], abs=3.0)
    assert _value(result, "step_time_si_pct") == pytest.approx(truth["step_time_si_pct"], abs=3.0)
    assert _value(result, "pelvic_obliquity_range_deg") == pytest.approx(truth["obliquity_range_deg"], abs=1.5)
    # contralateral drop: the left hip drops more in the painful right stance
    assert _value(result, "pelvic_drop_deg", "right") == pytest.approx(truth["pelvic_drop_deg_right"], abs=1.0)
    assert _value(result, "pelvic_drop_deg", "left") == pytest.approx(truth["pelvic_drop_deg_left"], abs=1.0)
    assert _value(result, "thigh_range_si_pct") < -10  # right thigh ROM scaled by 0.8


def test_pelvis_only_session(sim_factory: Callable[..., Any]) -> None:
    sim = sim_factory("antalgic_right", sites=("pelvis",))
    result = process_session(sim.session)
    sides = set(result.events.filter(pa.compute.equal(result.events["event"], "IC"))["side"].to_pylist())
    assert sides == {"left", "right"}
    assert result.quality["pelvis.laterality_agreement"] >= 0.9
    assert _value(result, "step_time_si_pct") > 0  # right step longer, as in the truth (+16 %)
    assert np.isnan(_value(result, "thigh_range_deg", "left"))


def test_thighs_only_session(sim_factory: Callable[..., Any]) -> None:
    result = process_session(sim_factory("healthy", sites=("left_thigh", "right_thigh")).session)
    assert np.isnan(_value(result, "pelvic_obliquity_range_deg"))
    assert abs(_value(result, "stance_time_si_pct")) < 3.0


def test_random_mountings_leave_results_unchanged(sim_factory: Callable[..., Any]) -> None:
    rng = np.random.default_rng(7)
    mountings = {}
    for site in ("pelvis", "left_thigh", "right_thigh"):
        q, r = np.linalg.qr(rng.normal(size=(3, 3)))
        q = q @ np.diag(np.sign(np.diag(r)))
        mountings[site] = q if np.linalg.det(q) > 0 else -q
    base = process_session(sim_factory("antalgic_right", seed=5).session)
    turned = process_session(sim_factory("antalgic_right", seed=5, mountings=mountings).session)
    a, b = base.events["t_s"].to_numpy(), turned.events["t_s"].to_numpy()
    assert a.size == pytest.approx(b.size, abs=2)
    near = np.abs(b[:, None] - a[None, :]).min(axis=1)
    assert np.median(near) < 0.005
    for metric in ("stance_time_si_pct", "pelvic_obliquity_range_deg", "cadence_spm"):
        assert _value(turned, metric) == pytest.approx(_value(base, metric), abs=1.0), metric


def test_load_aligned_for_plotting(sim_factory: Callable[..., Any]) -> None:
    aligned = load_aligned(sim_factory("healthy").session)
    n = aligned.t_s.size
    assert aligned.pelvis is not None
    assert aligned.pelvis.obliquity_deg.shape == (n,)
    assert set(aligned.thighs) == {"left", "right"}
    assert np.all((aligned.events.sample >= 0) & (aligned.events.sample < n))


def test_no_raw_files(tmp_path: Path) -> None:
    session = create_session(tmp_path, "s1", (SensorInfo(site="pelvis", family="sim", rate_hz=104.0),))
    with pytest.raises(DataContractError, match="raw"):
        process_session(session)


def test_short_stream_is_insufficient(tmp_path: Path, sim_builder: Callable[..., Any]) -> None:
    sim = sim_builder(tmp_path, "healthy", duration_s=4.0)
    with pytest.raises(InsufficientDataError):
        process_session(sim.session)


def _rewrite_raw(session: Any, site: str, change: Callable[[pa.Table], pa.Table]) -> None:
    """Rewrite one raw stream of a test session through ``change`` (a sensor fault the simulator does not make)."""
    path = session.raw_path(site)
    table = ipc.open_stream(path.read_bytes()).read_all()  # in memory: the file is rewritten below
    with pa.OSFile(str(path), "wb") as sink, ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(pa.Table.from_arrays(change(table).columns, schema=table.schema))


def _stopped_after(seconds: float, host_t0_ns: int) -> Callable[[pa.Table], pa.Table]:
    return lambda t: t.filter(pc.less(t["t_host_ns"], host_t0_ns + int(seconds * 1e9)))


def _all_nan(table: pa.Table) -> pa.Table:
    nan = pa.array(np.full(table.num_rows, np.nan), type=table.schema.field("acc_x").type)
    for axis in ("acc_x", "acc_y", "acc_z"):
        table = table.set_column(table.schema.get_field_index(axis), axis, nan)
    return table


def _lying_still(table: pa.Table) -> pa.Table:
    """The sensor was never strapped on: it lay on the table, gravity on its z axis, sensor noise only."""
    rng = np.random.default_rng(0)
    for axis, level in (
        ("acc_x", 0.0),
        ("acc_y", 0.0),
        ("acc_z", 9.81),
        ("gyr_x", 0.0),
        ("gyr_y", 0.0),
        ("gyr_z", 0.0),
    ):
        noise = level + rng.normal(0.0, 0.02 if axis.startswith("acc") else 0.2, table.num_rows)
        table = table.set_column(
            table.schema.get_field_index(axis), axis, pa.array(noise, table.schema.field(axis).type)
        )
    return table


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("stopped", " s of usable samples (it recorded "),
        ("nan", "not numbers (NaN or infinite): a sensor or file fault"),
        ("still", "less than two seconds of movement"),
    ],
)
def test_a_thigh_sensor_that_cannot_carry_its_part_is_left_out_and_named(
    tmp_path: Path, sim_builder: Callable[..., Any], fault: str, reason: str
) -> None:
    """A thigh sensor that stopped after 3 s, sent only NaN, or was never worn used to stop the whole session; the
    pelvis and the other thigh now carry it, the quality record names the sensor left out and why, and its raw file
    is left as it was."""
    sim = sim_builder(tmp_path, "antalgic_right", duration_s=40.0, seed=3)
    session = sim.session
    change = {"stopped": _stopped_after(3.0, session.meta.host_t0_ns), "nan": _all_nan, "still": _lying_still}[fault]
    _rewrite_raw(session, "left_thigh", change)
    before = session.raw_path("left_thigh").read_bytes()

    result = process_session(session)

    assert reason in result.quality["left_thigh.left_out"]
    assert "right_thigh.left_out" not in result.quality
    assert "pelvis.left_out" not in result.quality
    assert "left_thigh" not in result.quality["event_sources"]
    events = result.events.to_pandas()
    assert set(events[events.side == "left"].source) == {"pelvis"}  # the left leg's contacts from the pelvis
    assert set(events[events.side == "right"].source) >= {"right_thigh"}
    truth = sim.model.truth.summary()
    assert abs(_value(result, "cadence_spm") - truth["cadence_spm"]) < 2.0
    warnings = [f.text for f in findings(result.quality) if f.level == "warning"]
    assert any(t.startswith("The left thigh sensor was left out of the analysis: ") for t in warnings), warnings
    assert session.raw_path("left_thigh").read_bytes() == before


def test_when_no_sensor_has_enough_data_each_one_is_named(tmp_path: Path, sim_builder: Callable[..., Any]) -> None:
    sim = sim_builder(tmp_path, "healthy", duration_s=20.0, sites=("pelvis", "right_thigh"), nan_at=(0.0, 100.0))
    with pytest.raises(InsufficientDataError) as caught:
        process_session(sim.session)
    message = str(caught.value)
    for site in ("pelvis", "right_thigh"):
        assert f"{site}.arrows: only 0.0 s of usable samples (" in message
    assert message.count("not numbers (NaN or infinite)") == 2
    assert message.endswith("record at least 5 s of walking")
    assert not sim.session.derived_path("summary").exists()


def test_nan_samples_are_masked_not_fatal(tmp_path: Path, sim_builder: Callable[..., Any]) -> None:
    sim = sim_builder(tmp_path, "healthy", duration_s=40.0, nan_at=(20.0, 21.0))
    result = process_session(sim.session)
    assert result.quality["pelvis.nonfinite_samples"] > 0
    assert result.quality["valid_strides"] > 20


def test_turns_are_flagged_and_do_not_break_laterality(sim_factory: Callable[..., Any]) -> None:
    sim = sim_factory("antalgic_right", sites=("pelvis",), duration_s=90.0, seed=4, turn_every_s=15.0)
    result = process_session(sim.session)
    truth = sim.model.truth
    strides = result.strides.to_pandas()
    in_turn = np.zeros(len(strides), dtype=bool)
    for a, b in truth.turns:
        in_turn |= (strides.end_s > a).to_numpy() & (strides.start_s < b).to_numpy()
    assert not (strides.valid.to_numpy() & in_turn).any()
    assert strides.valid.sum() > 50
    ev = result.events.to_pandas()
    ic = ev[ev.event == "IC"]
    is_ic = truth.events_kind == "IC"
    j = np.abs(truth.events_t_s[is_ic][:, None] - ic.t_s.to_numpy()[None, :]).argmin(axis=1)
    assert np.mean(ic.side.to_numpy()[j] == truth.events_side[is_ic]) >= 0.9  # measured 0.99


def test_angles_need_no_strides_but_segmentation_does(tmp_path: Path) -> None:
    """``load_aligned`` gives angles for any session whose sensors can be aligned (the dashboard plots them);
    only ``process_session`` needs enough initial contacts to build strides."""
    from tests.pipeline.conftest import build_sim_session

    sim = build_sim_session(tmp_path, "healthy", duration_s=12.0)
    strict = PipelineConfig(min_ics=1000)
    aligned = load_aligned(sim.session, config=strict)
    assert aligned.pelvis is not None
    assert np.isfinite(aligned.pelvis.tilt_deg).mean() > 0.9
    assert set(aligned.thighs) == {"left", "right"}
    with pytest.raises(InsufficientDataError, match="initial contacts found; record a longer walk"):
        process_session(sim.session, config=strict)


def test_the_gyro_bias_removed_before_fusion_is_in_the_quality_record(
    sim_builder: Callable[..., Any], tmp_path: Path
) -> None:
    """A sensor's constant gyro offset is fitted and removed before its angles are computed; the session's quality
    keeps what was removed, in the segment's axes, where gravity observes it (not about the vertical)."""
    biases = {"pelvis": (2.0, -1.5, 1.0), "left_thigh": (-1.0, 2.5, 0.5)}
    sim = sim_builder(tmp_path, "healthy", duration_s=40.0, sites=("pelvis", "left_thigh"), gyr_biases=biases)
    quality = process_session(sim.session).quality
    aligned = load_aligned(sim.session)
    for site, bias in biases.items():
        stream = aligned.timeline.streams[site]
        up = aligned.alignments[site].apply(stream.acc)[stream.valid].mean(axis=0)
        up /= np.linalg.norm(up)  # the mean vertical in segment axes: a bias about it does not move 'up'
        truth = aligned.alignments[site].apply(np.asarray([bias], dtype=float))[0]  # in the pipeline's segment axes
        found = np.asarray(quality[f"{site}.gyro_bias_dps"])
        assert found.shape == (3,)
        error = found - truth
        assert np.linalg.norm(error - (error @ up) * up) < 0.2, (site, found, truth)

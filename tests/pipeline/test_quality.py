"""Quality findings (pipeline.quality): each entry of the quality record that should reach a reader does, with its
level; a clean simulated session gives no warning; real processing paths (swapped thighs, packet loss, no
profile) produce the findings people need."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pyarrow import ipc

from pipeline.quality import Finding, findings
from pipeline.run import process_session
from pipeline.subjects import SubjectProfile, save_profile
from tests.pipeline.test_crosscheck import _swap_files

CLEAN: dict[str, Any] = {
    "duration_s": 60.0,
    **{f"{s}.valid_s": 60.0 for s in ("pelvis", "left_thigh", "right_thigh")},
    "thigh_swap_check": "ok",
    "thighs_swapped": False,
    "crosscheck": {"matched": 90, "matched_fraction": 1.0, "median_offset_ms": 8.0, "side_agreement": 1.0},
    "dropout_fills": [],
    "event_sources": ["left_thigh", "right_thigh"],
    "valid_strides": 50,
    "strides": 55,
    "standing": {"start_s": 0.0, "end_s": 3.0},
    "spatial.method": "pelvis+thigh",
    "spatial.calibrated": True,
    "subject.pendulum_length_source": "sensor height",
    "spatial.bouts_with_length": 3,
    "spatial.bouts_under_measured": 0,
}


def _texts(quality: dict[str, Any], level: str) -> list[str]:
    return [f.text for f in findings(quality) if f.level == level]


def test_a_clean_record_says_nothing_and_an_empty_one_too() -> None:
    assert findings(CLEAN) == ()
    assert findings({}) == ()  # a session processed before the record existed


@pytest.mark.parametrize(
    ("change", "level", "words"),
    [
        ({"pelvis.valid_s": 51.0}, "warning", "pelvis sensor lost 15%"),
        ({"left_thigh.valid_s": 57.0}, "note", "left thigh sensor lost 5.0%"),
        ({"right_thigh.saturated_samples": 12}, "warning", "measuring range in 12 samples"),
        ({"pelvis.nonfinite_samples": 3}, "note", "3 non-numeric samples"),
        ({"pelvis.rejected_stamps": 9}, "note", "stamped 9 samples with an impossible time"),
        ({"left_thigh.clock_restarts": 1}, "note", "left thigh sensor's clock restarted once during the recording"),
        ({"pelvis.clock_restarts": 2}, "note", "clock restarted 2 times during the recording"),
        ({"left_thigh.truncated_file": True}, "warning", "ends part-way through a record"),
        ({"pelvis.clock": "host"}, "note", "timed by their arrival"),
        (  # left out: that one warning, not also a 95 % loss and a late start
            {"left_thigh.left_out": "only 2.9 s of usable samples (it recorded 2.9 s)", "left_thigh.valid_s": 2.9},
            "warning",
            "left thigh sensor was left out of the analysis: only 2.9 s of usable samples (it recorded 2.9 s).",
        ),
        ({"left_thigh.gyro_bias_dps": [4.0, -3.5, 0.0]}, "note", "gyroscope read 5.3 deg/s"),
        ({"right_thigh.mounting": {"low_confidence": True, "text": "right_thigh: sensor ..."}}, "warning", "could not"),
        ({"right_thigh.mounting": {"upside_down": True, "low_confidence": False}}, "note", "worn upside down"),
        ({"thighs_swapped": True, "thigh_swap_check": "swapped"}, "warning", "were swapped"),
        ({"thigh_swap_check": "undecided"}, "warning", "could not be confirmed"),
        ({"crosscheck": {"matched_fraction": 0.6, "median_offset_ms": 10.0}}, "warning", "Only 60%"),
        ({"crosscheck": {"matched_fraction": 1.0, "median_offset_ms": -150.0}}, "warning", "150 ms apart"),
        ({"dropout_fills": [{"side": "left", "start_s": 20.0, "end_s": 26.0}]}, "warning", "left 20.0–26.0 s"),
        ({"event_sources": ["pelvis"]}, "note", "pelvis sensor alone"),
        (
            {"left_thigh.event_rules": {"IC impact": 3, "IC gyro arrest": 20, "FC flexion fraction": 23}},
            "note",
            "20 of 23",
        ),
        ({"valid_strides": 6}, "warning", "Only 6 valid strides"),
        ({"valid_strides": 20, "strides": 50}, "warning", "Only 20 of 50 strides"),
        ({"standing": None}, "note", "No quiet standing"),
        ({"spatial.method": "none: no subject profile with height"}, "note", "No step length or walking speed"),
        ({"subject.pendulum_length_source": "stature"}, "note", "estimated from the stature"),
        ({"spatial.calibrated": False, "spatial.calibration": "none: no calibration walk"}, "note", "not calibrated"),
        ({"spatial.bouts_under_measured": 2, "spatial.bouts_with_length": 5}, "warning", "In 2 of 5 walking bouts"),
        (
            {"spatial.pelvis_steps_across_gaps": 12, "spatial.pelvis_steps_with_length": 80},
            "note",
            "12 of 80 pelvis step lengths",
        ),
    ],
)
def test_each_entry_reaches_the_reader_at_its_level(change: dict[str, Any], level: str, words: str) -> None:
    found = findings({**CLEAN, **change})
    assert len(found) == 1, found
    assert found[0].level == level
    assert words in found[0].text


def test_thresholds_sit_where_documented() -> None:
    assert _texts({**CLEAN, "pelvis.valid_s": 54.6}, "note")  # 9 % lost: a note
    assert _texts({**CLEAN, "pelvis.valid_s": 53.4}, "warning")  # 11 %: a warning
    assert not findings({**CLEAN, "pelvis.valid_s": 59.7})  # 0.5 %: nothing
    ok = {"matched_fraction": 0.85, "median_offset_ms": 95.0}
    assert not findings({**CLEAN, "crosscheck": ok})
    assert not findings({**CLEAN, "crosscheck": {"matched_fraction": float("nan"), "median_offset_ms": float("nan")}})
    pelvis_only = {**CLEAN, "event_sources": ["pelvis"], "pelvis.laterality_agreement": 0.7}
    assert any("wrong side" in t for t in _texts(pelvis_only, "warning"))
    assert not _texts({**pelvis_only, "pelvis.laterality_agreement": 0.9}, "warning")
    one_side = _texts({**pelvis_only, "pelvis.laterality_agreement": 0.21}, "warning")
    assert len(one_side) == 1  # the stronger reading replaces the wrong-side one
    assert "one leg's contacts are probably being missed" in one_side[0]
    assert "half the true values" in one_side[0]
    few = {"spatial.pelvis_steps_across_gaps": 7, "spatial.pelvis_steps_with_length": 80}  # 9 %: the 2 % loss norm
    assert not findings({**CLEAN, **few})
    assert not findings({**CLEAN, "pelvis.gyro_bias_dps": [3.0, -2.0, 0.0]})  # 3.6 deg/s: ordinary
    assert not findings({**CLEAN, "pelvis.gyro_bias_dps": "garbled"})  # a record a user edited: no crash


def test_warnings_come_first() -> None:
    found = findings({**CLEAN, "standing": None, "pelvis.saturated_samples": 1})
    assert [f.level for f in found] == ["warning", "note"]
    assert all(isinstance(f, Finding) for f in found)


def test_a_processed_simulated_session_has_no_warning(tmp_path: Path, sim_builder: Callable[..., Any]) -> None:
    sim = sim_builder(tmp_path, "healthy", duration_s=40.0)
    save_profile(tmp_path, SubjectProfile(sim.session.meta.subject, leg_length_m=0.9, pelvis_sensor_height_m=0.97))
    result = process_session(sim.session)
    assert result.quality["duration_s"] == pytest.approx(40.0, abs=1.0)
    assert [f for f in findings(result.quality) if f.level == "warning"] == []
    notes = " ".join(f.text for f in findings(result.quality))
    assert "lost" in notes  # the simulator's 2 % packet loss
    assert "not calibrated" in notes


def test_swapped_thighs_and_a_missing_profile_reach_the_reader(tmp_path: Path, sim_builder: Callable[..., Any]) -> None:
    sim = sim_builder(tmp_path, "antalgic_right", duration_s=40.0, seed=2)
    _swap_files(sim.session)
    found = findings(process_session(sim.session).quality)
    warnings = [f.text for f in found if f.level == "warning"]
    assert any("were swapped" in t for t in warnings)
    assert any("No step length" in f.text for f in found if f.level == "note")


def test_a_thigh_dropout_reaches_the_reader(tmp_path: Path, sim_builder: Callable[..., Any]) -> None:
    sim = sim_builder(tmp_path / "full", "healthy", duration_s=40.0, seed=5)
    lost = sim_builder(tmp_path / "lost", "healthy", duration_s=40.0, seed=5, sites=("left_thigh",), nan_at=(20, 26))
    shutil.copy(lost.session.raw_path("left_thigh"), sim.session.raw_path("left_thigh"))
    warnings = [f.text for f in findings(process_session(sim.session).quality) if f.level == "warning"]
    assert any("thigh sensor dropped out (left 2" in t for t in warnings), warnings
    assert any("left thigh sensor lost 1" in t for t in warnings), warnings  # 6 s of 40: 15 %


def _drop_first_seconds(session: Any, site: str, seconds: float) -> None:
    """Rewrite one raw stream as if the sensor had joined ``seconds`` after the session started."""
    path = session.raw_path(site)
    table = ipc.open_stream(path.read_bytes()).read_all()  # in memory: the file is rewritten below
    keep = pc.greater_equal(table["t_host_ns"], session.meta.host_t0_ns + int(seconds * 1e9))
    with pa.OSFile(str(path), "wb") as sink, ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.filter(keep))


def test_a_sensor_that_joined_late_is_not_reported_as_losing_data(
    tmp_path: Path, sim_builder: Callable[..., Any]
) -> None:
    sim = sim_builder(tmp_path, "healthy", duration_s=40.0, seed=5)
    _drop_first_seconds(sim.session, "left_thigh", 8.0)
    quality = process_session(sim.session).quality
    start, end = quality["left_thigh.span_s"]
    assert start == pytest.approx(8.0, abs=0.1)
    assert end == pytest.approx(quality["duration_s"], abs=0.1)
    found = findings(quality)
    texts = [f.text for f in found]
    assert any("left thigh sensor recorded from 8.0 s" in t and "joined late" in t for t in texts), texts
    # 8 s of 40 missing would be a 20 % "loss" warning; within its span it lost only the simulator's few per cent.
    assert not [f for f in found if f.level == "warning" and "left thigh" in f.text], texts


@pytest.mark.parametrize(
    ("span", "words"),
    [([5.0, 60.0], "joined late"), ([0.0, 50.0], "stopped early"), ([5.0, 50.0], "joined late and stopped early")],
)
def test_a_sensors_span_is_worded_by_which_end_is_missing(span: list[float], words: str) -> None:
    record = {**CLEAN, "pelvis.span_s": span, "pelvis.valid_s": span[1] - span[0]}
    found = findings(record)
    assert [f.level for f in found] == ["note"], found
    assert f"({words})" in found[0].text
    assert not any("lost" in f.text for f in found)  # nothing missing inside the span

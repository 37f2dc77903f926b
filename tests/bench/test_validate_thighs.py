"""bench/validate_thighs.py without its (unshipped) data: a clear skip, exit 0; the held-out walks' grouping by
heading change on synthetic thighs."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import validate_thighs as vt  # noqa: E402


def test_missing_data_is_skipped_not_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert vt.main(["--data", str(tmp_path)]) == 0
    assert "SKIPPED" in capsys.readouterr().out


def _turning_trial(turn_deg_s: float, bias_dps: float) -> tuple[vt.MarpinoTrial, vt.Reference]:
    """2 s standing, 6 s walking while turning at ``turn_deg_s`` about the vertical, 2 s standing; each thigh's
    sensor is mounted rotated (its x axis up), swings ±25° at 1 Hz about its lateral axis while walking, and its
    gyroscope reads ``bias_dps`` off on every axis."""
    t = np.arange(0.0, 10.0, 1.0 / vt.FS_HZ)
    walking = (t >= 2.0) & (t < 8.0)
    swing = np.where(walking, 25.0 * 2 * np.pi * np.cos(2 * np.pi * (t - 2.0)), 0.0)  # d/dt of 25°·sin, deg/s
    up_sensor = np.array([1.0, 0.0, 0.0])
    gyr = np.column_stack([np.where(walking, turn_deg_s, 0.0), np.zeros_like(t), swing]) + bias_dps
    acc = np.tile(up_sensor, (t.size, 1))
    empty = {s: np.zeros(t.size) for s in vt.SIDES}
    trial = vt.MarpinoTrial(
        cohort="Marzia",
        name="synthetic",
        thigh_t_s=dict.fromkeys(vt.SIDES, t),
        acc_g=dict.fromkeys(vt.SIDES, acc),
        gyr_dps=dict.fromkeys(vt.SIDES, gyr),
        heel=empty,
        toe=empty,
        row_t0_s=0.0,
        pressure_offset_s=dict.fromkeys(vt.SIDES, 0.0),
        segment_acc={},
    )
    none = np.zeros(0)
    ref = vt.Reference(none, none.astype(str), none, none.astype(str), 2.0, 8.0, 0, ())
    return trial, ref


def test_heading_change_tells_a_lap_from_a_straight_walk() -> None:
    """A half lap (30 °/s for 6 s) reads 180° despite a 2 °/s gyroscope bias and the thigh's swing; a straight walk
    with the same bias reads ~0°; the held-out group follows, a Young/Elderly trial keeps its cohort."""
    trial, ref = _turning_trial(30.0, bias_dps=2.0)
    assert vt.heading_change_deg(trial, ref) == pytest.approx(180.0, abs=2.0)
    det = vt.Detection(np.zeros(0), np.zeros(0, str), np.zeros(0, str), np.zeros(0, str), {})
    lap = vt.Outcome(trial, ref, det, heading_deg=vt.heading_change_deg(trial, ref))
    assert lap.group == "with turns"
    trial, ref = _turning_trial(0.0, bias_dps=2.0)
    assert abs(vt.heading_change_deg(trial, ref)) < 2.0
    assert vt.Outcome(trial, ref, det, heading_deg=vt.heading_change_deg(trial, ref)).group == "straight"
    young = vt.Outcome(dataclasses.replace(trial, cohort="Young"), ref, det, heading_deg=200.0)
    assert young.group == "Young"


def test_heading_change_needs_standing_before_the_walk() -> None:
    trial, ref = _turning_trial(30.0, bias_dps=0.0)
    assert np.isnan(vt.heading_change_deg(trial, dataclasses.replace(ref, start_s=1.2)))


def test_held_out_paths_are_the_additional_folders(tmp_path: Path) -> None:
    for rel in ("Young/a.xlsx", "Elderly/b.xlsx", "Additional/Marzia/1.xlsx", "Additional/Disability/D1.xlsx"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).touch()
    assert [p.relative_to(tmp_path).as_posix() for p in vt.trial_paths(tmp_path)] == ["Young/a.xlsx", "Elderly/b.xlsx"]
    assert [p.relative_to(tmp_path).as_posix() for p in vt.trial_paths(tmp_path, held_out=True)] == [
        "Additional/Marzia/1.xlsx",
        "Additional/Disability/D1.xlsx",
    ]


def test_turn_rows_pool_the_pipelines_turns_by_course() -> None:
    """Two rectangle laps (two 180° ends each) and a straight walk without turns: one row per (folder, group, turns
    per walk) with the turns' median and range and each walk's total."""
    trial, ref = _turning_trial(0.0, bias_dps=0.0)

    def walk(angles: list[float], heading: float) -> vt.Outcome:
        turns = pa.table({"angle_deg": angles, "duration_s": [4.0] * len(angles)}, schema=_TURN_COLUMNS)
        det = vt.Detection(np.zeros(0), np.zeros(0, str), np.zeros(0, str), np.zeros(0, str), {}, turns=turns)
        return vt.Outcome(trial, ref, det, heading_deg=heading)

    rows = vt.turn_rows([walk([-180.0, -176.0], -300.0), walk([-190.0, -178.0], -280.0), walk([], 5.0)])
    assert rows == [
        ["Marzia", "straight", "0", "1", "n/a", "n/a", "+0 (+0 … +0)"],
        ["Marzia", "with turns", "2", "2", "-179 (-190 … -176)", "4.0", "-362 (-368 … -356)"],
    ]


_TURN_COLUMNS = pa.schema([("angle_deg", pa.float64()), ("duration_s", pa.float64())])

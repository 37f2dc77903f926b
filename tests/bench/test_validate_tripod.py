"""bench/validate_tripod.py without its (unshipped) data: parsers on tiny files in the published formats, a skip."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import validate_tripod as vt  # noqa: E402

PHYSILOG_HEAD = (
    "Gait Up - Physilog data export\nCreated on: YYYY-MM-DD hh:mm:ss\nTotal data points: {n}\n\n"
    "Time [128 hz],Gyro [128 hz],,,Accel [128 hz],,,Baro [1 hz],,Event [128 hz],Quaternion [128 hz],,,,\n"
    "Time,Gyro X,Gyro Y,Gyro Z,Accel X,Accel Y,Accel Z,Pressure,Temperature,Quat W,Quat X,Quat Y,Quat Z,\n"
    "[s],[deg/s],[deg/s],[deg/s],[g],[g],[g],[mBar],[degree C],[],[],[],[],\n"
)


def _physilog(path: Path, n: int) -> None:
    rows = [
        f"{(k + 1) / 128:.5f},{k},0.5,-0.5,0.18,0.91,0.35,{'1020.9,27.9' if k == 0 else ','},1,0,0,0," for k in range(n)
    ]
    path.write_text(PHYSILOG_HEAD.format(n=n) + "\n".join(rows) + "\n")


def test_physilog_columns_and_units(tmp_path: Path) -> None:
    _physilog(tmp_path / "SA.csv", 2000)
    gyr, acc = vt.read_physilog(tmp_path / "SA.csv")
    assert gyr.shape == acc.shape == (2000, 3)
    assert gyr[5].tolist() == [5.0, 0.5, -0.5]  # deg/s, as exported
    assert acc[0].tolist() == pytest.approx([0.18, 0.91, 0.35])  # g, as exported


def test_foreign_or_short_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("a,b,c\n1,2,3\n")
    with pytest.raises(ValueError, match="not a Physilog export"):
        vt.read_physilog(tmp_path / "x.csv")
    _physilog(tmp_path / "short.csv", 100)
    with pytest.raises(ValueError, match="fewer than 10 s"):
        vt.read_physilog(tmp_path / "short.csv")


def test_optogait_step_times_skip_trigger_and_empty_rows(tmp_path: Path) -> None:
    (tmp_path / "optogait.csv").write_text(
        ",#,L/R,External,TFlight,TContact,TStep,Elevation\n"
        "0,External trigger,START,,,,,\n"
        "1,1,R,24.273,,0.825,,\n"
        "2,2,L,24.9,,0.8,0.62,\n"
        "3,3,R,25.5,,0.8,0.64,\n"
    )
    t = vt.read_step_times(tmp_path / "optogait.csv")
    assert np.allclose(t, [0.62, 0.64])


def test_missing_data_is_skipped_not_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert vt.main(["--data", str(tmp_path)]) == 0
    assert "SKIPPED" in capsys.readouterr().out

"""``imugait import table`` + ``imugait process`` on files recorded elsewhere, worn in unknown orientations."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.schemas import EVENTS
from pipeline.store import load_session, read_table
from sensors.sim.gait_model import GaitModel, get_profile
from tests.e2e.conftest import imugait

FS = 100.0


def _write(model: GaitModel, site: str, path: Path, *, seconds: float, units: str) -> None:
    t = np.arange(int(seconds * FS)) / FS
    acc, gyr = model.imu(site, t, rng=np.random.default_rng(1))
    if units == "g/rad":
        acc, gyr = acc / 9.80665, np.radians(gyr)
    frame = pd.DataFrame({"timestamp_ms": 1_700_000_000_000 + t * 1000.0})
    for i, axis in enumerate("xyz"):
        frame[f"acc_{axis}"] = acc[:, i]
        frame[f"gyro_{axis}"] = gyr[:, i]
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)


def _import(
    files: list[str], acc_unit: str, gyr_unit: str, data: Path, subject: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    """``imugait import table`` with the columns every file here has; ``files`` and ``extra`` carry what differs."""
    columns = ["--fs", "100", "--acc", "acc_x,acc_y,acc_z", "--gyr", "gyro_x,gyro_y,gyro_z"]
    units = ["--acc-unit", acc_unit, "--gyr-unit", gyr_unit]
    return imugait("import", "table", *files, *columns, *units, *extra, "--data", str(data), "--subject", subject)


def _events(session_path: Path) -> pd.DataFrame:
    return read_table(session_path / "derived" / "events.arrow", EVENTS).to_pandas()


@pytest.mark.slow
def test_pelvis_only_csv_imports_and_processes_with_both_sides(tmp_path: Path) -> None:
    model = GaitModel(get_profile("healthy"), duration_s=40.0, seed=3)
    csv = tmp_path / "lower_back.csv"
    _write(model, "pelvis", csv, seconds=40.0, units="g/rad")
    done = _import([str(csv), "--site", "pelvis"], "g", "rad/s", tmp_path / "data", "P1", "--time", "timestamp_ms")
    assert done.returncode == 0, done.stderr
    session = Path(done.stdout.strip().splitlines()[-1])
    assert load_session(session).meta.status == "complete"
    processed = imugait("process", str(session))
    assert processed.returncode == 0, processed.stderr
    events = _events(session)
    assert set(events["side"]) == {"left", "right"}
    ics = events[events["event"] == "IC"]
    assert len(ics) >= 40  # ~35 s of walking at ~108 steps/min


@pytest.mark.slow
def test_thigh_pair_imports_into_one_session(tmp_path: Path) -> None:
    model = GaitModel(get_profile("antalgic_right"), duration_s=40.0, seed=4)
    left, right = tmp_path / "L.parquet", tmp_path / "R.parquet"
    _write(model, "left_thigh", left, seconds=40.0, units="si")
    _write(model, "right_thigh", right, seconds=40.0, units="si")
    done = _import(
        ["--sensor", f"left_thigh={left}", "--sensor", f"right_thigh={right}"],
        "m/s2",
        "deg/s",
        tmp_path / "data",
        "P2",
        "--time",
        "timestamp_ms",
    )
    assert done.returncode == 0, done.stderr
    session = Path(done.stdout.strip().splitlines()[-1])
    assert load_session(session).raw_sites() == ["left_thigh", "right_thigh"]
    assert imugait("process", str(session)).returncode == 0
    events = _events(session)
    assert set(events["side"]) == {"left", "right"}
    assert set(events["event"]) == {"IC", "FC"}


def test_wrong_units_fail_with_a_clear_message_and_no_session(tmp_path: Path) -> None:
    model = GaitModel(get_profile("healthy"), duration_s=10.0, seed=5)
    csv = tmp_path / "x.csv"
    _write(model, "pelvis", csv, seconds=10.0, units="g/rad")
    done = _import([str(csv), "--site", "pelvis"], "m/s2", "rad/s", tmp_path / "data", "P3")
    assert done.returncode == 1
    assert "looks like g" in done.stderr
    assert not (tmp_path / "data" / "P3").exists() or not any((tmp_path / "data" / "P3").iterdir())


def test_missing_options_are_usage_errors(tmp_path: Path) -> None:
    done = imugait("import", "table", str(tmp_path / "x.csv"), "--site", "pelvis", "--data", str(tmp_path))
    assert done.returncode == 2
    assert "missing --fs, --acc, --gyr, --acc-unit, --gyr-unit" in done.stderr

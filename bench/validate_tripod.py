"""Walking speed and step length from the sacrum against a treadmill and photoelectric bars (TRIPOD excerpt).

Data: the example excerpt of TRIPOD (Trautmann et al., "TRIPOD — A Treadmill Walking Dataset with IMU,
Pressure-Distribution and Photoelectric Data for Gait Analysis", Data 2021, 6(9):95), in the GitHub repository
HPI-CH/TRIPOD (MIT licence), folder ``example_data/raw/TRIPOD_excerpt/Sub_FZ``: one healthy adult (172.5 cm, leg
length 82.5 cm, from the excerpt's metadata) walking about 160 s on a treadmill at each of three belt speeds,
3.0, 3.7 and 4.4 km/h (``PWS-20``, ``PWS``, ``PWS+20``). Sacrum sensor: GaitUp Physilog 5, 128 Hz, ``IMU/SA.csv``
(acc in g, gyro in deg/s). Reference: the belt speed, and the OptoGait bars' per-step times (``OptoGait/
optogait.csv``, column ``TStep``), whose cadence times the belt speed gives the reference step length. The data
are read from a local checkout and never copied into this repository.

Our side: the sacrum is imported as a pelvis-only session with the participant's stature and leg length in the
subject profile (TRIPOD records no sensor height, so the pipeline estimates the pendulum, the lower back's height,
from the stature: ``pipeline.subjects``), processed with the public pipeline; the session walking speed (mean
over valid strides, with its 95 % within-session interval), cadence and step length are compared with the
reference. One person on a treadmill: a check of absolute step length at three speeds, not a population
validation.

Usage::

    .venv/bin/python bench/validate_tripod.py --data <TRIPOD checkout>/example_data/raw/TRIPOD_excerpt/Sub_FZ
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from rich.console import Console
from validate_real import print_rows

from pipeline.errors import ImuGaitError
from pipeline.importer import TableImportSpec, import_tables
from pipeline.run import process_session
from pipeline.store import Session
from pipeline.subjects import SubjectProfile, save_profile

BELT_KM_H = {"PWS-20": 3.0, "PWS": 3.7, "PWS+20": 4.4}  # TRIPOD MetaInfo / paper: preferred speed and ±20 %
HEIGHT_M, LEG_LENGTH_M = 1.725, 0.825  # participant Sub_FZ, TRIPOD excerpt metadata
FS_HZ = 128.0
HEADER = (
    "trial",
    "belt m/s",
    "ours m/s [95 % CI]",
    "speed err m/s",
    "cadence ours / ref",
    "step length ours / ref m",
    "step err %",
    "valid strides",
)


@dataclass(frozen=True)
class Trial:
    name: str
    acc_g: np.ndarray  # (n, 3)
    gyr_dps: np.ndarray  # (n, 3)
    step_times_s: np.ndarray  # OptoGait TStep, one per step

    @property
    def belt_m_s(self) -> float:
        return BELT_KM_H[self.name] / 3.6

    @property
    def cadence_spm(self) -> float:
        return 60.0 / float(np.median(self.step_times_s))

    @property
    def step_length_m(self) -> float:
        return self.belt_m_s * float(np.median(self.step_times_s))


def read_physilog(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Gyro (deg/s) and acc (g) of a GaitUp Physilog CSV export: header lines, then Time, Gyro X/Y/Z, Accel X/Y/Z."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    start = next((i + 1 for i, line in enumerate(lines) if line.startswith("[s]")), None)
    if start is None:
        raise ValueError(f"{path}: not a Physilog export (no '[s],[deg/s],…' units line)")
    rows = [line.split(",")[1:7] for line in lines[start:] if line.strip()]
    values = np.array([[float(v) for v in r] for r in rows if len(r) == 6 and all(r)], dtype=np.float64)
    if values.shape[0] < FS_HZ * 10:
        raise ValueError(f"{path}: fewer than 10 s of samples")
    return values[:, :3], values[:, 3:6]


def read_step_times(path: Path) -> np.ndarray:
    """OptoGait ``TStep`` (s) of every step that has one."""
    with path.open(encoding="utf-8", errors="replace") as f:
        header = f.readline().rstrip("\n").split(",")
        col = header.index("TStep")
        out = []
        for line in f:
            cells = line.rstrip("\n").split(",")
            try:
                out.append(float(cells[col]))
            except (IndexError, ValueError):
                continue
    t = np.asarray(out)
    return t[(t > 0.2) & (t < 2.0)]


def load_trials(data: Path) -> list[Trial]:
    trials = []
    for name in BELT_KM_H:
        sa, opto = data / name / "IMU" / "SA.csv", data / name / "OptoGait" / "optogait.csv"
        if sa.is_file() and opto.is_file():
            gyr, acc = read_physilog(sa)
            trials.append(Trial(name, acc, gyr, read_step_times(opto)))
    return trials


def run_ours(
    trial: Trial, workdir: Path, sensor_height_m: float | None = None
) -> dict[tuple[str, str], tuple[float, float, float, int]]:
    """Summary rows (value, ci_low, ci_high, n) by (metric, side) of a pelvis-only session of the trial."""
    s = process_session(import_session(trial, workdir, sensor_height_m)).summary
    keys = zip(s["metric"].to_pylist(), s["side"].to_pylist(), strict=True)
    vals = zip(*(s[c].to_pylist() for c in ("value", "ci_low", "ci_high", "n")), strict=True)
    return {k: (_num(v), _num(lo), _num(hi), int(n)) for k, (v, lo, hi, n) in zip(keys, vals, strict=True)}


def import_session(trial: Trial, workdir: Path, sensor_height_m: float | None = None) -> Session:
    """The trial's sacrum IMU imported as a pelvis-only session, with the participant's profile."""
    workdir.mkdir(parents=True, exist_ok=True)
    csv = workdir / f"{trial.name}.csv"
    cols = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")
    values = np.column_stack([trial.acc_g, trial.gyr_dps])
    pacsv.write_csv(pa.table({c: values[:, i] for i, c in enumerate(cols)}), csv)
    root = workdir / "sessions"
    profile = SubjectProfile(
        "tripod-fz", height_m=HEIGHT_M, leg_length_m=LEG_LENGTH_M, pelvis_sensor_height_m=sensor_height_m
    )
    save_profile(root, profile)
    return import_tables({"pelvis": csv}, TableImportSpec(FS_HZ, cols[:3], cols[3:], "g", "deg/s"), root, "tripod-fz")


def _num(x: float | None) -> float:
    return math.nan if x is None else float(x)


def row(trial: Trial, ours: dict[tuple[str, str], tuple[float, float, float, int]] | None) -> list[str]:
    if ours is None:
        return [trial.name, f"{trial.belt_m_s:.3f}", "failed", "", "", "", "", ""]
    v, lo, hi, _ = ours[("walking_speed_m_s", "both")]
    cadence = ours[("cadence_spm", "both")][0]
    step = np.nanmean([ours[("step_length_m", s)][0] for s in ("left", "right")])
    valid = ours[("stride_time_s", "both")][3]
    return [
        trial.name,
        f"{trial.belt_m_s:.3f}",
        f"{v:.3f} [{lo:.3f}, {hi:.3f}]",
        f"{v - trial.belt_m_s:+.3f}",
        f"{cadence:.1f} / {trial.cadence_spm:.1f}",
        f"{step:.3f} / {trial.step_length_m:.3f}",
        f"{100 * (step / trial.step_length_m - 1):+.1f}",
        str(valid),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the TRIPOD excerpt's Sub_FZ folder")
    parser.add_argument(
        "--sensor-height",
        type=float,
        default=None,
        help="pendulum length (m) as a sensitivity check; TRIPOD records none, so by default the pipeline "
        "estimates it from the stature",
    )
    args = parser.parse_args(argv)
    console = Console(width=160)
    trials = load_trials(args.data) if args.data.is_dir() else []
    if not trials:
        console.print(f"SKIPPED: no TRIPOD trials (<trial>/IMU/SA.csv and OptoGait/optogait.csv) under {args.data}")
        return 0
    rows = []
    with tempfile.TemporaryDirectory(prefix="imugait-tripod-") as tmp:
        for trial in trials:
            try:
                ours = run_ours(trial, Path(tmp) / trial.name, args.sensor_height)
            except ImuGaitError as exc:
                console.print(f"[red]{trial.name}: {exc}[/red]")
                ours = None
            rows.append(row(trial, ours))
    pendulum = SubjectProfile(
        "tripod-fz", height_m=HEIGHT_M, leg_length_m=LEG_LENGTH_M, pelvis_sensor_height_m=args.sensor_height
    ).pendulum_length
    length = f"{pendulum.value_m:.3f} m ({pendulum.source})" if pendulum is not None else "none"
    title = f"imugait sacrum (pelvis-only) vs treadmill belt and OptoGait, TRIPOD Sub_FZ, pendulum = {length}"
    print_rows(console, title, HEADER, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())

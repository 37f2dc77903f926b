"""Per-walker step-length calibration on real recordings: does one walk's factor carry over to the same person's
other walks?

The population pendulum factor leaves each walker with their own bias (``pipeline.calibration``). This script
measures what one calibration walk buys, always calibrating on one recording and scoring on the *other* recordings
of the same person (leave-one-out over the choice of calibration walk), never on the walk it was fitted on:

* **IPOL** (``bench/validate_ipol.py``; 19 healthy adults, 110 trials of stand – walk 10 m – U-turn – walk back –
  stand; GitHub ``CyrilVoisard/ipol_dataset_1``, AGPL-3.0, read locally). The over-ground route of
  ``imugait subject calibrate SESSION --distance 20``: :func:`pipeline.calibration.walk_estimates` on the whole
  recording, :func:`pipeline.calibration.fit` against the nominal 20 m. The reference is the protocol's distance,
  not a measurement (the walkway length is nominal, and where the walker stopped is not recorded), so the figures
  bound the error from above by the protocol's own spread. Participants without a stature (10 and 14) have no step
  length and are left out.
* **TRIPOD** (``bench/validate_tripod.py``; one person, treadmill at three belt speeds; GitHub ``HPI-CH/TRIPOD``,
  MIT). The treadmill route (``--speed``): calibrated on one belt speed, scored at the two others.
* **Mobilise-D** (``bench/validate_real.py``; mobgap's example data, INDIP reference bouts). Two participants
  (HA/001, MS/001) have reference bouts in the straight-walk test (Test5, two ≈ 5 m walks) and in the simulated
  daily-living test (Test11, 6 bouts each). The factor is fitted on the two Test5 walks together (the reference
  bout speed over ours, duration-weighted: a ≈ 5 m walk is shorter than the calibration command accepts, so the
  bench fits on the bout speeds the script already scores) and applied to the Test11 bouts, scored per bout as in
  ``validate_real.py`` (mean absolute error, m/s).

Usage::

    .venv/bin/python bench/validate_calibration.py --ipol /tmp/datasets/voisard_ipol_dataset_1 \\
        --tripod /tmp/datasets/tripod/Sub_FZ --mobilised /tmp/mobgap_example/example_data

Each data set is optional; without any the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import validate_ipol
import validate_real
import validate_tripod
from rich.console import Console
from validate_real import print_rows

from pipeline.calibration import WalkEstimate, fit, walk_estimates
from pipeline.errors import ImuGaitError
from pipeline.run import PIPELINE_VERSION, spatial_result
from pipeline.store import Session
from pipeline.subjects import read_profile

IPOL_DISTANCE_M = 20.0


def pelvis_estimate(session: Session) -> WalkEstimate | None:
    """The uncalibrated pelvis walk estimate of a session with its stored profile (None without step lengths)."""
    profile = read_profile(session.path.parent / "subject.json")
    if profile is None or profile.leg_length is None:
        return None
    strides, result = spatial_result(session, profile)
    return walk_estimates(result, strides).get("pelvis")


def factor(est: WalkEstimate, reference: str, value: float) -> float:
    """The calibration factor the product would store (``pipeline.calibration.fit``: same checks)."""
    (cal,) = fit(
        {"pelvis": est},
        "distance" if reference == "distance" else "speed",
        value,
        session="bench",
        leg_length_m=1.0,
        pendulum_length_m=None,
        pipeline_version=PIPELINE_VERSION,
    )
    return cal.factor


# ---- IPOL: over-ground, nominal 20 m ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IpolWalk:
    participant: str
    estimate: WalkEstimate | None
    error: str = ""


def _ipol_one(trial: validate_ipol.IpolTrial) -> IpolWalk:
    with tempfile.TemporaryDirectory(prefix="imugait-cal-") as tmp:
        try:
            est = pelvis_estimate(validate_ipol.import_session(trial, Path(tmp)))
        except ImuGaitError as exc:
            return IpolWalk(trial.participant, None, str(exc))
    return IpolWalk(trial.participant, est)


def walk_time_s(est: WalkEstimate) -> float:
    """Walking time from standing to standing: the first-to-last-IC time plus one step."""
    return est.duration_s * est.n_steps / max(est.n_steps - 1, 1)


def ipol_rows(walks: Sequence[IpolWalk]) -> tuple[list[list[str]], dict[str, np.ndarray]]:
    """Per participant: uncalibrated and leave-one-out calibrated distance error against the nominal 20 m."""
    rows, pooled = [], {"raw_pct": [], "cal_pct": [], "raw_ms": [], "cal_ms": []}
    for p in sorted({w.participant for w in walks}):
        est = [w.estimate for w in walks if w.participant == p and w.estimate is not None]
        if len(est) < 2:
            continue
        d = np.array([e.distance_m for e in est])
        t = np.array([walk_time_s(e) for e in est])
        raw = d - IPOL_DISTANCE_M
        f = np.array([factor(e, "distance", IPOL_DISTANCE_M) for e in est])
        cal = np.concatenate([f[i] * np.delete(d, i) - IPOL_DISTANCE_M for i in range(d.size)])
        cal_t = np.concatenate([np.delete(t, i) for i in range(d.size)])
        pooled["raw_pct"] += list(100 * raw / IPOL_DISTANCE_M)
        pooled["cal_pct"] += list(100 * cal / IPOL_DISTANCE_M)
        pooled["raw_ms"] += list(raw / t)
        pooled["cal_ms"] += list(cal / cal_t)
        rows.append(
            [
                f"participant {p} ({d.size} walks)",
                f"{np.median(d):.1f}",
                f"{np.mean(np.abs(raw)):.2f} ({np.mean(np.abs(raw)) / IPOL_DISTANCE_M * 100:.1f} %)",
                f"{np.mean(np.abs(cal)):.2f} ({np.mean(np.abs(cal)) / IPOL_DISTANCE_M * 100:.1f} %)",
                f"{f.min():.3f}–{f.max():.3f}",
            ]
        )
    arrays = {k: np.asarray(v) for k, v in pooled.items()}
    rows.append(
        [
            "all (mean |error|)",
            "",
            f"{np.mean(np.abs(arrays['raw_pct'])):.1f} % / {np.mean(np.abs(arrays['raw_ms'])):.3f} m/s",
            f"{np.mean(np.abs(arrays['cal_pct'])):.1f} % / {np.mean(np.abs(arrays['cal_ms'])):.3f} m/s",
            "",
        ]
    )
    return rows, arrays


IPOL_HEADER = (
    "participant",
    "median distance m (uncal.)",
    "uncalibrated |err| m",
    "calibrated on another walk |err| m",
    "factors",
)


# ---- TRIPOD: treadmill ----------------------------------------------------------------------------------------------


def tripod_rows(trials: Sequence[validate_tripod.Trial], workdir: Path) -> list[list[str]]:
    est = {}
    for t in trials:
        e = pelvis_estimate(validate_tripod.import_session(t, workdir / t.name))
        if e is not None:
            est[t.name] = e
    rows = []
    belt = {t.name: t.belt_m_s for t in trials}
    for cal_name, cal_est in est.items():
        f = factor(cal_est, "speed", belt[cal_name])
        for name, e in est.items():
            if name == cal_name:
                continue
            rows.append(
                [
                    cal_name,
                    f"{f:.3f}",
                    name,
                    f"{belt[name]:.3f}",
                    f"{e.speed_m_s - belt[name]:+.3f}",
                    f"{f * e.speed_m_s - belt[name]:+.3f}",
                ]
            )
    if rows:
        raw = np.mean([abs(float(r[4])) for r in rows])
        cal = np.mean([abs(float(r[5])) for r in rows])
        rows.append(["mean |error|", "", "", "", f"{raw:.3f}", f"{cal:.3f}"])
    return rows


TRIPOD_HEADER = (
    "calibrated at",
    "factor",
    "scored at",
    "belt m/s",
    "uncalibrated err m/s",
    "calibrated err m/s",
)


# ---- Mobilise-D: straight walks → daily-living bouts -----------------------------------------------------------------


def mobilised_rows(trials: Sequence[validate_real.Trial], workdir: Path) -> list[list[str]]:
    det = {}
    for t in trials:
        folder = workdir / t.label.replace("/", "_").replace(" ", "_")
        folder.mkdir(parents=True)
        det[t.label] = validate_real.run_ours(t, folder)
    rows = []
    raw_all: list[float] = []
    cal_all: list[float] = []
    for who in sorted({(t.cohort, t.participant) for t in trials}):
        own = [t for t in trials if (t.cohort, t.participant) == who]
        straight = [t for t in own if t.test == "Test5" and t.wb_speed_m_s.size]
        daily = [t for t in own if t.test == "Test11" and t.wb_speed_m_s.size]
        if not straight or not daily:
            continue
        ours = np.concatenate([det[t.label].bout_speed_m_s for t in straight])
        ref = np.concatenate([t.wb_speed_m_s for t in straight])
        dur = np.concatenate([t.wb_duration_s for t in straight])
        ok = np.isfinite(ours) & np.isfinite(ref)
        if not ok.any():
            continue
        f = float(np.sum(ref[ok] * dur[ok]) / np.sum(ours[ok] * dur[ok]))
        v = np.concatenate([det[t.label].bout_speed_m_s for t in daily])
        r = np.concatenate([t.wb_speed_m_s for t in daily])
        good = np.isfinite(v) & np.isfinite(r)
        raw, cal = v[good] - r[good], f * v[good] - r[good]
        raw_all += list(raw)
        cal_all += list(cal)
        rows.append(
            [
                f"{who[0]}/{who[1]}",
                f"{f:.3f}",
                f"{int(good.sum())}",
                f"{np.mean(np.abs(raw)):.3f} ({np.mean(raw):+.3f})",
                f"{np.mean(np.abs(cal)):.3f} ({np.mean(cal):+.3f})",
            ]
        )
    if raw_all:
        raw_a, cal_a = np.asarray(raw_all), np.asarray(cal_all)
        rows.append(
            [
                "pooled",
                "",
                str(raw_a.size),
                f"{np.mean(np.abs(raw_a)):.3f} ({np.mean(raw_a):+.3f})",
                f"{np.mean(np.abs(cal_a)):.3f} ({np.mean(cal_a):+.3f})",
            ]
        )
    return rows


MOBILISED_HEADER = (
    "participant",
    "factor (Test5)",
    "Test11 bouts",
    "uncalibrated MAE (bias) m/s",
    "calibrated MAE (bias) m/s",
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ipol", type=Path, help="the ipol_dataset_1 folder")
    parser.add_argument("--tripod", type=Path, help="the TRIPOD excerpt's Sub_FZ folder")
    parser.add_argument("--mobilised", type=Path, help="mobgap's example_data folder")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    console = Console(width=200)
    ran = False
    ipol_dir = validate_ipol.find_data_dir(args.ipol)
    if ipol_dir is not None:
        trials = validate_ipol.load_trials(ipol_dir)
        with ProcessPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
            walks = list(pool.map(_ipol_one, trials, chunksize=4))
        for w in walks:
            if w.error:
                console.print(f"[red]participant {w.participant}: {w.error}[/red]")
        rows, _ = ipol_rows(walks)
        n = sum(w.estimate is not None for w in walks)
        print_rows(console, f"IPOL: distance vs the nominal 20 m, {n} walks, leave-one-walk-out", IPOL_HEADER, rows)
        ran = True
    with tempfile.TemporaryDirectory(prefix="imugait-cal-") as tmp:
        if args.tripod is not None and args.tripod.is_dir():
            rows = tripod_rows(validate_tripod.load_trials(args.tripod), Path(tmp) / "tripod")
            print_rows(console, "TRIPOD: treadmill, calibrated at one belt speed", TRIPOD_HEADER, rows)
            ran = True
        lab = validate_real.find_lab_dir(args.mobilised)
        if lab is not None:
            rows = mobilised_rows(validate_real.load_trials(lab), Path(tmp) / "mobilised")
            print_rows(console, "Mobilise-D: factor from the Test5 walks, Test11 bouts", MOBILISED_HEADER, rows)
            ran = True
    if not ran:
        console.print("SKIPPED: no data set given (--ipol, --tripod, --mobilised); see the module docstring")
    return 0


if __name__ == "__main__":
    sys.exit(main())

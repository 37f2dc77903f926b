"""Thigh step lengths on real walkers: the compass model against the feet's inertial navigation (Marpino dataset).

Data and reference events as ``validate_thighs.py`` (GitHub ``Marpino/Walking-dataset``, no licence file: local
use only; 35 trials of young and elderly people walking about 5 m straight; IMUs on both feet, shanks and thighs
at 100 Hz; foot switches under each heel and toe). The dataset gives no distances, so the reference stride length
comes from the foot IMUs with the zero-velocity method of ``validate_stride_length.py`` (Mariani et al. 2010, J
Biomech 43:2999: stride length within 1.5 ± 6.8 cm of an optical system in young and elderly walkers), between
foot-flat samples found from the foot switches:

* a reference stride of one foot runs from one of its foot-switch ICs to the next (the foot-switch FC of the same
  foot in between), as our strides run IC to IC;
* the foot is flat and still at the sample of smallest gyroscope norm (5-sample mean) within each stance:
  ``[IC, FC)`` of that foot, or ``[IC, IC + 0.4 s)`` for the last stance of the walk, which ends in standing;
* the foot's attitude starts from gravity at that sample, the acceleration is integrated twice between the two
  still samples with the velocity drift removed linearly (``validate_stride_length.footstep_displacements``), and
  the stride length is the horizontal distance between them; the vertical distance (the floor is level) is
  printed as the reference's own closure error.

The foot stamps are mapped onto the thighs' 100 Hz rows (the session time): in some trials the left foot holds
each 50 Hz sample twice, with its stamp; the unique samples are interpolated linearly onto the rows.

Our strides: both thighs through the pipeline as ``validate_thighs.py`` imports them (a thigh-only session), with
the walker's stature in the subject profile, so the step lengths are the thigh compass model
(``pipeline.spatial.compass_step_length``: 2·L·sin(Δθ/2), L = 0.530 × stature) and nothing else. The dataset's
tables give each participant's stature but do not say which workbook is whose, so every walker gets the mean
stature of the cohort (the dataset's Table 4.3, young: 169.5 cm; Table 4.2, elderly: 152.6 cm). A walker's own
leg length differs from that by a few per cent, which widens the per-trial spread, not the cohort mean. The
model runs with no factor (``SpatialConfig(compass_k=1)``); the pipeline's ``compass_k`` rows multiply it.

Pairing: one of our strides of the same side whose start and end are each within ±0.25 s of the reference
stride's ICs. "steady" = the stride table's ``valid`` (what the session's walking speed averages).

The population factor: per trial, Σ reference / Σ model over its steady paired strides; the factor is the median
of those over the trials it is fitted on. Scored on the trials it was not fitted on: leave one trial out (each
trial scored with the factor of the others) and leave one cohort out (young fitted, elderly scored, and the
reverse). The score is the trial's mean stride length error in per cent, the quantity a session reports.

Usage::

    .venv/bin/python bench/validate_thigh_length.py --data /tmp/datasets/marpino_walking_dataset   (~1 min)
    .venv/bin/python bench/validate_thigh_length.py --data /tmp/datasets/marpino_walking_dataset --held-out

``--held-out``: the shipped factor on ``Dataset/Additional``'s walks (``validate_thighs.ADDITIONAL``: one walker,
straight and in laps; no stature in the dataset, so :func:`height_m` gives the young cohort's), grouped straight /
with turns; no factor is fitted on them.

Needs ``openpyxl`` (``.venv/bin/pip install openpyxl``), as ``validate_thighs.py``.
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
from numpy.typing import NDArray
from rich.console import Console
from validate_real import print_rows
from validate_stride_length import _stillest, footstep_displacements
from validate_thighs import (
    ACC_G_PER_COUNT,
    COHORTS,
    DATA_ENV,
    FOOT,
    FS_HZ,
    GYR_DPS_PER_COUNT,
    SIDES,
    TURNING_DEG,
    find_data_dir,
    heading_change_deg,
    load_trial,
    read_sheet,
    reference_events,
    run_ours,
    workbooks,
)

from pipeline.run import PipelineConfig
from pipeline.spatial import SpatialConfig

FloatArray = NDArray[np.float64]
G_MS2 = 9.80665
COHORT_HEIGHT_M = {"Young": 1.695, "Elderly": 1.526}  # the dataset's Tables 4.3 and 4.2, cohort means
LAST_STANCE_S = 0.4  # the last stance of a walk: the foot is still within this long after its IC
STILL_MEAN_SAMPLES = 5
PAIR_TOLERANCE_S = 0.25
WITHIN_PCT = 5.0


@dataclass(frozen=True)
class TrialStrides:
    """One trial's reference strides (one row each) and the paired compass stride of ours (NaN: none)."""

    cohort: str
    name: str
    side: NDArray[np.str_]
    start_s: FloatArray
    duration_s: FloatArray
    reference_m: FloatArray
    closure_m: FloatArray  # vertical distance between the two still samples (level floor: 0)
    model_m: FloatArray  # compass_k = 1
    steady: NDArray[np.bool_]
    problem: str = ""
    heading_deg: float = float("nan")  # validate_thighs.heading_change_deg over the reference walking segment

    @property
    def label(self) -> str:
        return f"{self.cohort}/{self.name}"

    @property
    def group(self) -> str:
        """The cohort of a Young/Elderly trial; a held-out walk's course (as ``validate_thighs.Outcome.group``)."""
        if self.cohort in COHORTS:
            return self.cohort
        return "with turns" if abs(self.heading_deg) >= TURNING_DEG else "straight"

    @property
    def paired(self) -> NDArray[np.bool_]:
        return np.isfinite(self.model_m) & np.isfinite(self.reference_m)


def feet_on_rows(path: Path, row_t_s: FloatArray, origin_ms: float) -> dict[str, tuple[FloatArray, FloatArray]]:
    """Per side, the foot IMU's acceleration (m/s²) and angular rate (rad/s) on the thighs' rows (session time)."""
    wanted = []
    for k in FOOT.values():
        wanted += [f"Time_{k}"] + [f"Acc_read_{a}_{k}" for a in "xyz"] + [f"Gyro_read_{a}_{k}" for a in "xyz"]
    c = read_sheet(path, wanted)
    out = {}
    for side, k in FOOT.items():
        t = (c[f"Time_{k}"] - origin_ms) / 1e3
        acc = np.column_stack([c[f"Acc_read_{a}_{k}"] for a in "xyz"]) * ACC_G_PER_COUNT * G_MS2
        gyr = np.deg2rad(np.column_stack([c[f"Gyro_read_{a}_{k}"] for a in "xyz"]) * GYR_DPS_PER_COUNT)
        ok = np.isfinite(t) & np.isfinite(acc).all(axis=1) & np.isfinite(gyr).all(axis=1)
        t, acc, gyr = t[ok], acc[ok], gyr[ok]
        new = np.concatenate(([True], np.diff(t) > 0))  # a held (repeated) sample carries its stamp twice
        t, acc, gyr = t[new], acc[new], gyr[new]
        inside = (row_t_s >= t[0]) & (row_t_s <= t[-1])

        def on_rows(x: FloatArray, t: FloatArray = t, inside: NDArray[np.bool_] = inside) -> FloatArray:
            y = np.full((row_t_s.size, 3), np.nan)
            y[inside] = np.column_stack([np.interp(row_t_s[inside], t, x[:, j]) for j in range(3)])
            return y

        out[side] = (on_rows(acc), on_rows(gyr))
    return out


def reference_strides(
    ic_s: FloatArray, fc_s: FloatArray, acc: FloatArray, gyr: FloatArray, row_t0_s: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """One foot's strides between consecutive ICs with an FC between them: start (s), duration (s), horizontal
    length (m) and vertical closure (m) from the foot's inertial navigation (NaN where a still sample is missing)."""
    ic_s, fc_s = np.sort(ic_s), np.sort(fc_s)
    if ic_s.size < 2:
        empty = np.zeros(0)
        return empty, empty, empty, empty
    nxt = np.searchsorted(fc_s, ic_s, side="right")
    stance_end = np.where(nxt < fc_s.size, fc_s[np.minimum(nxt, fc_s.size - 1)], ic_s + LAST_STANCE_S)
    stance_end = np.where(
        np.concatenate((stance_end[:-1] < ic_s[1:], [True])), stance_end, ic_s + LAST_STANCE_S
    )  # no FC before the next IC of this foot: the walk ended
    has_swing = (nxt[:-1] < fc_s.size) & (fc_s[np.minimum(nxt[:-1], fc_s.size - 1)] < ic_s[1:])

    def row(t: FloatArray) -> NDArray[np.int64]:
        return np.rint((t - row_t0_s) * FS_HZ).astype(np.int64)

    norm = np.convolve(np.linalg.norm(gyr, axis=1), np.ones(STILL_MEAN_SAMPLES) / STILL_MEAN_SAMPLES, mode="same")
    still = _stillest(norm, row(ic_s), row(stance_end))
    start, end = still[:-1], still[1:]
    d = footstep_displacements(acc, gyr, np.maximum(start, 0), np.maximum(end, 0))
    ok = has_swing & (start >= 0) & (end >= 0)
    length = np.where(ok, np.hypot(d[:, 0], d[:, 1]), np.nan)
    closure = np.where(ok, d[:, 2], np.nan)
    return ic_s[:-1], np.diff(ic_s), length, closure


def height_m(cohort: str) -> float:
    """The stature given to a walker: the cohort mean; the held-out walks' author (a young adult, whose stature the
    dataset does not give) gets the young cohort's."""
    return COHORT_HEIGHT_M.get(cohort, COHORT_HEIGHT_M["Young"])


def left_out(cohort: str, name: str, problem: str) -> TrialStrides:
    """A trial with no strides scored, and why."""
    empty = np.zeros(0)
    return TrialStrides(cohort, name, empty.astype(str), *([empty] * 5), np.zeros(0, dtype=np.bool_), problem=problem)


def run_trial(path: Path) -> TrialStrides:
    trial = load_trial(path)
    ref = reference_events(trial)
    if ref.problems:
        return left_out(trial.cohort, trial.name, "; ".join(ref.problems))
    origin_ms = min(float(np.nanmin(c)) for c in read_sheet(path, ["Time_3", "Time_4"]).values())
    row_t = trial.row_t0_s + np.arange(trial.thigh_t_s["right"].size) / FS_HZ
    feet = feet_on_rows(path, row_t, origin_ms)
    config = PipelineConfig(spatial=SpatialConfig(compass_k=1.0))
    with tempfile.TemporaryDirectory(prefix="imugait-marpino-") as tmp:
        det = run_ours(trial, Path(tmp), height_m=height_m(trial.cohort), config=config)
    if det.error or det.strides is None:
        return left_out(trial.cohort, trial.name, f"pipeline failed: {det.error}")
    ours = det.strides.to_pydict()
    o_side, o_start = np.asarray(ours["side"]).astype(str), np.asarray(ours["start_s"], dtype=np.float64)
    o_end, o_len = np.asarray(ours["end_s"], dtype=np.float64), np.asarray(ours["stride_length_m"], dtype=float)
    o_valid = np.asarray(ours["valid"], dtype=np.bool_)
    parts: dict[str, list[NDArray[np.generic]]] = {k: [] for k in ("side", "start", "dur", "ref", "clo", "mod", "ok")}
    for side in SIDES:
        start, dur, length, closure = reference_strides(
            ref.times("IC", side), ref.times("FC", side), *feet[side], trial.row_t0_s
        )
        mine = np.flatnonzero(o_side == side)
        close = (np.abs(o_start[mine][None, :] - start[:, None]) <= PAIR_TOLERANCE_S) & (
            np.abs(o_end[mine][None, :] - (start + dur)[:, None]) <= PAIR_TOLERANCE_S
        )
        hit = close.any(axis=1)
        j = mine[np.argmax(close, axis=1)] if mine.size else np.zeros(start.size, dtype=np.int64)
        parts["side"].append(np.full(start.size, side))
        parts["start"].append(start)
        parts["dur"].append(dur)
        parts["ref"].append(length)
        parts["clo"].append(closure)
        parts["mod"].append(np.where(hit, o_len[j] if mine.size else np.nan, np.nan))
        parts["ok"].append(hit & (o_valid[j] if mine.size else False))
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    return TrialStrides(
        trial.cohort,
        trial.name,
        cat["side"].astype(str),
        cat["start"].astype(np.float64),
        cat["dur"].astype(np.float64),
        cat["ref"].astype(np.float64),
        cat["clo"].astype(np.float64),
        cat["mod"].astype(np.float64),
        cat["ok"].astype(np.bool_),
        heading_deg=heading_change_deg(trial, ref),
    )


def run_all(paths: Sequence[Path], jobs: int) -> list[TrialStrides]:
    if jobs <= 1:
        return [run_trial(p) for p in paths]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(run_trial, paths))


# ---- the factor -----------------------------------------------------------------------------------------------------


def trial_factor(t: TrialStrides) -> float:
    """Σ reference / Σ model over the trial's steady paired strides (NaN: none)."""
    sel = t.paired & t.steady
    return float(t.reference_m[sel].sum() / t.model_m[sel].sum()) if sel.any() else float("nan")


def fitted_factor(trials: Sequence[TrialStrides]) -> float:
    f = np.array([trial_factor(t) for t in trials])
    return float(np.median(f[np.isfinite(f)])) if np.isfinite(f).any() else float("nan")


def trial_error_pct(t: TrialStrides, k: float) -> float:
    """The trial's mean steady stride length with factor ``k`` against the reference's mean, in per cent."""
    sel = t.paired & t.steady
    if not sel.any():
        return float("nan")
    return float(100.0 * (k * t.model_m[sel].mean() / t.reference_m[sel].mean() - 1.0))


def held_out_errors(trials: Sequence[TrialStrides]) -> dict[str, FloatArray]:
    """Per trial, its error with the factor fitted on every other trial / on the other cohort."""
    lotro = np.array([trial_error_pct(t, fitted_factor([u for u in trials if u is not t])) for t in trials])
    by_cohort = {c: fitted_factor([t for t in trials if t.cohort != c]) for c in COHORTS}
    loco = np.array([trial_error_pct(t, by_cohort[t.cohort]) for t in trials])
    return {"leave one trial out": lotro, "leave one cohort out": loco}


# ---- tables ---------------------------------------------------------------------------------------------------------


def _cat(trials: Sequence[TrialStrides], name: str) -> FloatArray:
    return np.concatenate([getattr(t, name) for t in trials]) if trials else np.zeros(0)


def _groups(trials: Sequence[TrialStrides]) -> list[tuple[str, list[TrialStrides]]]:
    names = dict.fromkeys(t.group for t in trials)
    return [(g.lower(), [t for t in trials if t.group == g]) for g in names] + [("all", list(trials))]


REFERENCE_HEADER = (
    "reference (feet)",
    "trials",
    "strides",
    "with a length",
    "median stride m",
    "median speed m/s",
    "median |vertical closure| m",
    "95th pct |closure| m",
)


def reference_rows(trials: Sequence[TrialStrides]) -> list[list[str]]:
    rows = []
    for name, group in _groups(trials):
        ref, dur, clo = _cat(group, "reference_m"), _cat(group, "duration_s"), np.abs(_cat(group, "closure_m"))
        have = np.isfinite(ref)
        rows.append(
            [
                name,
                str(len(group)),
                str(ref.size),
                str(int(have.sum())),
                f"{np.median(ref[have]):.3f}",
                f"{np.median(ref[have] / dur[have]):.3f}",
                f"{np.median(clo[have]):.3f}",
                f"{np.percentile(clo[have], 95):.3f}",
            ]
        )
    return rows


MODEL_HEADER = (
    "strides",
    "model",
    "n",
    "paired % of reference",
    "ref mean m",
    "ours mean m",
    "ratio median",
    "error mean ± SD %",
    "MAE m",
)


def model_rows(trials: Sequence[TrialStrides], shipped_k: float) -> list[list[str]]:
    rows = []
    for name, group in _groups(trials):
        ref, model = _cat(group, "reference_m"), _cat(group, "model_m")
        paired, steady = np.isfinite(ref) & np.isfinite(model), _cat(group, "steady").astype(bool)
        for which, sel in (("paired", paired), ("steady", paired & steady)):
            for label, k in (("compass (k = 1)", 1.0), (f"compass × {shipped_k:.3f} (shipped)", shipped_k)):
                if label.endswith("(shipped)") and shipped_k == 1.0:
                    continue
                m, r = k * model[sel], ref[sel]
                err = 100.0 * (m / r - 1.0)
                rows.append(
                    [
                        f"{name}, {which}",
                        label,
                        str(int(sel.sum())),
                        f"{100.0 * sel.sum() / max(int(np.isfinite(ref).sum()), 1):.0f}",
                        f"{r.mean():.3f}",
                        f"{m.mean():.3f}",
                        f"{np.median(m / r):.3f}",
                        f"{err.mean():+.1f} ± {err.std(ddof=1):.1f}",
                        f"{np.abs(m - r).mean():.3f}",
                    ]
                )
    return rows


TRIAL_HEADER = ("trial", "steady pairs", "ref mean stride m", "compass (k = 1) m", "ref / compass", "heading change °")


def trial_rows(trials: Sequence[TrialStrides]) -> list[list[str]]:
    rows = []
    for t in trials:
        sel = t.paired & t.steady
        if not sel.any():
            rows.append([t.label, "0", "n/a", "n/a", "n/a", f"{t.heading_deg:+.0f}"])
            continue
        rows.append(
            [
                t.label,
                str(int(sel.sum())),
                f"{t.reference_m[sel].mean():.3f}",
                f"{t.model_m[sel].mean():.3f}",
                f"{trial_factor(t):.3f}",
                f"{t.heading_deg:+.0f}",
            ]
        )
    return rows


FACTOR_HEADER = (
    "factor",
    "fitted on",
    "factor value",
    "scored on",
    "trials",
    "trial error mean ± SD %",
    "MAE %",
    f"within ±{WITHIN_PCT:g} %",
)


def factor_rows(trials: Sequence[TrialStrides], shipped_k: float) -> list[list[str]]:
    scored = [t for t in trials if np.isfinite(trial_factor(t))]

    def row(label: str, fitted: str, value: str, on: str, err: FloatArray) -> list[str]:
        err = err[np.isfinite(err)]
        return [
            label,
            fitted,
            value,
            on,
            str(err.size),
            f"{err.mean():+.1f} ± {err.std(ddof=1):.1f}",
            f"{np.abs(err).mean():.1f}",
            f"{int((np.abs(err) <= WITHIN_PCT).sum())} of {err.size}",
        ]

    rows = [row("none (k = 1)", "", "1", "all", np.array([trial_error_pct(t, 1.0) for t in scored]))]
    if shipped_k != 1.0:
        rows.append(
            row("shipped", "", f"{shipped_k:.3f}", "all", np.array([trial_error_pct(t, shipped_k) for t in scored]))
        )
    rows.append(
        row(
            "median of trial factors",
            "all trials",
            f"{fitted_factor(scored):.3f}",
            "the same trials",
            np.array([trial_error_pct(t, fitted_factor(scored)) for t in scored]),
        )
    )
    held = held_out_errors(scored)
    rows.append(
        row("median of trial factors", "all other trials", "per trial", "each trial", held["leave one trial out"])
    )
    for c in COHORTS:
        other = [t for t in scored if t.cohort != c]
        mine = np.array([t.cohort == c for t in scored])
        rows.append(
            row(
                "median of trial factors",
                f"{'/'.join(x.lower() for x in COHORTS if x != c)}",
                f"{fitted_factor(other):.3f}",
                c.lower(),
                held["leave one cohort out"][mine],
            )
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get(DATA_ENV)
    parser.add_argument("--data", type=Path, default=Path(env) if env else None, help=f"default: ${DATA_ENV}")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--per-trial", action="store_true", help="also print one row per trial")
    parser.add_argument(
        "--held-out",
        action="store_true",
        help="score the shipped factor on the walks of Dataset/Additional (one walker: straight, and laps of a "
        "rectangle and a circle), grouped straight / with turns; no factor is fitted on them",
    )
    args = parser.parse_args(argv)
    console = Console(width=220)
    data_dir = find_data_dir(args.data)
    if data_dir is None:
        console.print(
            f"SKIPPED: no Marpino walking dataset found (--data {args.data}, ${DATA_ENV}); see validate_thighs.py."
        )
        return 0
    paths = workbooks(console, data_dir, args.held_out)
    if not paths:
        return 0
    results = run_all(paths, args.jobs)
    for t in results:
        if t.problem:
            console.print(f"left out {t.label}: {t.problem}")
    trials = [t for t in results if not t.problem]
    shipped_k = SpatialConfig().compass_k
    print_rows(
        console,
        "the reference: feet inertial navigation between foot-flat samples",
        REFERENCE_HEADER,
        reference_rows(trials),
    )
    print_rows(
        console,
        "thigh compass stride length against the reference (cohort-mean stature)",
        MODEL_HEADER,
        model_rows(trials, shipped_k),
    )
    if args.per_trial or args.held_out:
        print_rows(console, "per trial (steady paired strides)", TRIAL_HEADER, trial_rows(trials))
    if args.held_out:
        return 0
    print_rows(
        console,
        "a population factor for the compass model, scored per trial (mean steady stride length)",
        FACTOR_HEADER,
        factor_rows(trials, shipped_k),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

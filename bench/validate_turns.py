"""Turns on real recordings: the U-turn of each walk found by ``pipeline.turns``, and the strides left out as turning.

Data: the walks of ``bench/validate_ipol.py`` (Voisard et al., IPOL 2023: 19 healthy adults, 110 walks of 10 m, a
U-turn, 10 m back) and, with ``--semiogram``, the patients of ``bench/validate_semiogram.py`` (multiple sclerosis at
about 0.2 m/s, an equinovarus foot before and after surgery; same protocol). Both read from local checkouts and are
never copied here (AGPL-3.0).

Reference: each walk's ``UTurnBoundaries`` (IPOL) or the same field of the ``_ge.json`` (semiogram): the U-turn's
start and end, set by the dataset's authors with a published turn algorithm on the IMUs and checked by hand
(IPOL README). Its definition of start and end is not ours (ours: 5 % and 95 % of the heading change), so onset and
offset differences mix definition and error; the angle is checked against the protocol's nominal 180°. Steps: the
reference heel strikes (foot sensors) inside *our* turn interval, against our ICs in it.

Strides: every reference stride (heel strike to the same foot's next) and whether any of its samples lies in the
pipeline's turning mask (:func:`pipeline.metrics.turning_mask`, the rule that keeps turning strides out of every
symmetry statistic), grouped by where it lies: overlapping the U-turn, within one second of it, ending in the walk's
last ``END_S`` (walkers often turn as they stop), or the rest (straight walking). Per group, how far each stride
turned: our pelvis heading change between the stride's two heel strikes (the same phase of the pelvis's own
rotation, which so cancels), for the strides left out and for those kept. The reference U-turn of a slow walker
includes straight steps as it slows, so strides "overlapping the U-turn" that are kept are scored by how far they
turned, not by the overlap alone.

With ``--mobgap`` (run with ``.venv-bench``): mobgap 1.2.0's ``TdElGohary`` (defaults) on the same walks, in the
body frame ``validate_ipol`` builds for mobgap's detectors, scored by the same code.

Usage::

    .venv/bin/python bench/validate_turns.py --data /tmp/datasets/voisard_ipol_dataset_1
    .venv-bench/bin/python bench/validate_turns.py --data … --semiogram /tmp/datasets/ipol_semiogram --mobgap
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import validate_ipol as vi
import validate_semiogram as vsem
from rich.console import Console
from validate_real import _f, show_tables

from pipeline._signal import fill_invalid
from pipeline.errors import ImuGaitError
from pipeline.metrics import MetricsConfig, turning_mask
from pipeline.run import load_aligned
from pipeline.turns import Turns, detect_turns

NEAR_S = 1.0  # strides within this of the reference U-turn are "near" it
NOMINAL_DEG = 180.0
END_S = 1.5  # other turns starting this close to the walk's end are the walker turning while stopping


@dataclass(frozen=True)
class Walk:
    """One walk's reference: its bounds, its U-turn and its reference strides (seconds)."""

    label: str
    cohort: str
    bounds: tuple[float, float]
    uturn: tuple[float, float]
    heel_strikes: np.ndarray
    stride_start: np.ndarray
    stride_end: np.ndarray


@dataclass(frozen=True)
class Found:
    """What one detector found in one walk (turns as start, end, signed angle; steps where the detector counts them)."""

    start_s: np.ndarray
    end_s: np.ndarray
    angle_deg: np.ndarray
    steps: np.ndarray | None = None
    error: str = ""


@dataclass(frozen=True)
class WalkResult:
    walk: Walk
    ours: Found
    stride_in_mask: np.ndarray  # per reference stride: any of its samples in our turning mask
    stride_kept: np.ndarray  # per reference stride: not turning and steady, as the stride table's validity rule
    stride_turn_deg: np.ndarray  # per reference stride: |our pelvis heading change| from its first to its last sample


def walk_of(trial: vi.IpolTrial, cohort: str) -> Walk:
    """The reference of a loaded IPOL or semiogram walk: ``straight``'s two bouts leave the U-turn between them."""
    ref, straight = trial.reference, trial.straight
    starts, ends = [], []
    for side in ("left", "right"):
        hs = np.sort(ref.ic_t_s[ref.ic_side == side])
        starts.append(hs[:-1])
        ends.append(hs[1:])
    return Walk(
        ref.label,
        cohort,
        (float(ref.wb_start_s[0]), float(ref.wb_end_s[0])),
        (float(straight.wb_end_s[0]), float(straight.wb_start_s[1])),
        np.sort(ref.ic_t_s),
        np.concatenate(starts),
        np.concatenate(ends),
    )


def uturn_match(found: Found, uturn: tuple[float, float]) -> int:
    """Index of the found turn overlapping the reference U-turn the most (−1 when none overlaps it)."""
    overlap = np.minimum(found.end_s, uturn[1]) - np.maximum(found.start_s, uturn[0])
    if overlap.size == 0 or overlap.max() <= 0:
        return -1
    return int(np.argmax(overlap))


def other_turns(found: Found, walk: Walk, matched: int) -> tuple[int, int]:
    """Found turns overlapping the walk's bounds other than the matched one, and how many of them start within
    ``END_S`` of the walk's last heel strike (the walker turning while stopping)."""
    inside = (found.end_s > walk.bounds[0]) & (found.start_s < walk.bounds[1])
    if matched >= 0:
        inside[matched] = False
    return int(inside.sum()), int((inside & (found.start_s >= walk.bounds[1] - END_S)).sum())


def stride_groups(walk: Walk) -> dict[str, np.ndarray]:
    """Reference strides overlapping the U-turn, within ``NEAR_S`` of it, ending in the walk's last ``END_S`` (where
    walkers turn while stopping), and the rest (straight walking)."""
    t0, t1 = walk.uturn
    over = (walk.stride_end > t0) & (walk.stride_start < t1)
    near = ~over & (walk.stride_end > t0 - NEAR_S) & (walk.stride_start < t1 + NEAR_S)
    stop = ~over & ~near & (walk.stride_end > walk.bounds[1] - END_S)
    return {
        "overlapping the U-turn": over,
        f"within {NEAR_S:.0f} s of it": near,
        f"ending in the walk's last {END_S} s": stop,
        "straight walking (the rest)": ~over & ~near & ~stop,
    }


def _failed(walk: Walk, error: str) -> WalkResult:
    empty = np.zeros(0)
    none = np.zeros(0, dtype=bool)
    return WalkResult(walk, Found(empty, empty, empty, error=error), none, none, empty)


def run_walk(trial: vi.IpolTrial, cohort: str) -> WalkResult:
    """Our turns and turning mask on one walk, imported as a pelvis-only session as ``validate_ipol`` does."""
    walk = walk_of(trial, cohort)
    with tempfile.TemporaryDirectory(prefix="imugait-turns-") as tmp:
        try:
            aligned = load_aligned(vi.import_session(trial, Path(tmp)))
        except ImuGaitError as exc:
            return _failed(walk, str(exc))
    if aligned.pelvis is None:
        return _failed(walk, "no pelvis")
    is_ic = aligned.events.kind == "IC"
    turns: Turns = detect_turns(aligned.pelvis, aligned.fs_hz, aligned.events.t_s[is_ic], aligned.events.side[is_ic])
    config = MetricsConfig()
    mask = turning_mask(aligned.pelvis, aligned.fs_hz, config=config)
    count = np.concatenate(([0], np.cumsum(mask)))
    a = np.clip(np.floor(walk.stride_start * aligned.fs_hz).astype(np.int64), 0, mask.size)
    b = np.clip(np.ceil(walk.stride_end * aligned.fs_hz).astype(np.int64), 0, mask.size)
    turning = (count[b] - count[a]) > 0
    steady = aligned.bouts.steady if aligned.bouts is not None else np.zeros(mask.size, dtype=bool)
    unsteady = np.concatenate(([0], np.cumsum(~steady)))
    with np.errstate(invalid="ignore", divide="ignore"):
        kept = ~turning & ((unsteady[b] - unsteady[a]) / (b - a) <= config.max_unsteady_fraction)
    heading = np.concatenate(([0.0], np.cumsum(fill_invalid(aligned.pelvis.heading_rate_dps, aligned.pelvis.valid))))
    heading /= aligned.fs_hz  # heading[i]: before sample i; a stride's two ends are at the same phase of the pelvis
    found = Found(turns.start_s, turns.end_s, turns.angle_deg, turns.steps.astype(np.float64))
    return WalkResult(walk, found, turning, kept, np.abs(heading[b] - heading[a]))


def _run(args: tuple[vi.IpolTrial, str]) -> WalkResult:
    return run_walk(*args)


def run_all(trials: Sequence[tuple[vi.IpolTrial, str]], jobs: int) -> list[WalkResult]:
    if jobs <= 1:
        return [_run(t) for t in trials]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_run, trials, chunksize=4))


def mobgap_turns(trial: vi.IpolTrial) -> Found:  # pragma: no cover - needs mobgap
    """mobgap's TdElGohary (defaults) on the whole walk in the body frame of ``validate_ipol``'s mobgap runs."""
    from mobgap.turning import TdElGohary

    forward, up = vi.known_axes(trial)
    data = vi._body_frame(trial, forward, up)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        turns = TdElGohary().detect(data, sampling_rate_hz=vi.FS_HZ).turn_list_
    angle = turns["angle_deg"].to_numpy(dtype=np.float64)
    return Found(
        turns["start"].to_numpy(dtype=np.float64) / vi.FS_HZ,
        turns["end"].to_numpy(dtype=np.float64) / vi.FS_HZ,
        angle,
    )


UTURN_HEADER = (
    "detector",
    "walks",
    "U-turn found %",
    "other turns in walks (at the end)",
    "start − ref s (median, IQR)",
    "end − ref s",
    "duration s (ref)",
    "|angle| ° (median, IQR)",
    "|angle − 180°| MAE °",
)


def _median_iqr(x: np.ndarray, spec: str) -> str:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return "n/a"
    q1, med, q3 = np.percentile(x, [25, 50, 75])
    return f"{spec.format(med)} ({spec.format(q1)} … {spec.format(q3)})"


def uturn_row(name: str, walks: Sequence[Walk], found: Sequence[Found]) -> list[str]:
    """One detector's U-turn scores over ``walks`` (reference durations in brackets)."""
    onset, offset, duration, ref_duration, angle, others, at_end, hit = ([] for _ in range(8))
    for walk, f in zip(walks, found, strict=True):
        k = uturn_match(f, walk.uturn)
        hit.append(k >= 0)
        n_other, n_end = other_turns(f, walk, k)
        others.append(n_other)
        at_end.append(n_end)
        ref_duration.append(walk.uturn[1] - walk.uturn[0])
        if k >= 0:
            onset.append(f.start_s[k] - walk.uturn[0])
            offset.append(f.end_s[k] - walk.uturn[1])
            duration.append(f.end_s[k] - f.start_s[k])
            angle.append(abs(f.angle_deg[k]))
    a = np.asarray(angle)
    return [
        name,
        str(len(walks)),
        _f(100 * float(np.mean(hit)) if hit else math.nan, "{:.0f}"),
        f"{int(np.sum(others))} ({int(np.sum(at_end))})",
        _median_iqr(np.asarray(onset), "{:+.2f}"),
        _median_iqr(np.asarray(offset), "{:+.2f}"),
        f"{_f(float(np.median(duration)) if duration else math.nan, '{:.2f}')} "
        f"({_f(float(np.median(ref_duration)), '{:.2f}')})",
        _median_iqr(a, "{:.0f}"),
        _f(float(np.mean(np.abs(a - NOMINAL_DEG))) if a.size else math.nan, "{:.1f}"),
    ]


STEP_HEADER = ("walks", "our ICs in our U-turn (median)", "reference heel strikes in it", "ours − reference (mean)")


def step_row(results: Sequence[WalkResult]) -> list[str]:
    """Our ICs inside our U-turn interval against the reference heel strikes inside the same interval."""
    ours, ref = [], []
    for r in results:
        k = uturn_match(r.ours, r.walk.uturn)
        if k < 0 or r.ours.steps is None:
            continue
        a, b = r.ours.start_s[k], r.ours.end_s[k]
        ours.append(r.ours.steps[k])
        ref.append(np.count_nonzero((r.walk.heel_strikes >= a) & (r.walk.heel_strikes <= b)))
    o, f = np.asarray(ours, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    return [
        str(o.size),
        _f(float(np.median(o)) if o.size else math.nan, "{:.0f}"),
        _f(float(np.median(f)) if f.size else math.nan, "{:.0f}"),
        _f(float(np.mean(o - f)) if o.size else math.nan, "{:+.2f}"),
    ]


STRIDE_HEADER = (
    "reference strides",
    "n",
    "left out as turning %",
    "left out of the statistics % (turning or bout end)",
    "heading change of those left out ° (median)",
    "of those kept ° (median, max)",
)


def stride_rows(results: Sequence[WalkResult]) -> list[list[str]]:
    """Per group of reference strides: how many, the share with a sample in the pipeline's turning mask, the share
    the stride table's validity rule leaves out of the statistics (turning, or unsteady at a bout's end), and how
    far our pelvis heading turned over the strides left out and over those kept."""
    done = [r for r in results if r.stride_in_mask.size]
    rows = []
    for name in stride_groups(done[0].walk) if done else ():
        sel = [stride_groups(r.walk)[name] for r in done]
        turning = np.concatenate([r.stride_in_mask[s] for r, s in zip(done, sel, strict=True)])
        kept = np.concatenate([r.stride_kept[s] for r, s in zip(done, sel, strict=True)])
        turn = np.concatenate([r.stride_turn_deg[s] for r, s in zip(done, sel, strict=True)])
        rows.append(
            [
                name,
                str(kept.size),
                _f(100 * float(turning.mean()) if turning.size else math.nan, "{:.0f}"),
                _f(100 * float(1 - kept.mean()) if kept.size else math.nan, "{:.0f}"),
                _f(float(np.median(turn[~kept])) if (~kept).any() else math.nan, "{:.0f}"),
                f"{float(np.median(turn[kept])):.0f} ({float(np.max(turn[kept])):.0f})" if kept.any() else "n/a",
            ]
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get(vi.DATA_ENV)
    parser.add_argument("--data", type=Path, default=Path(env) if env else None, help="IPOL dataset folder")
    parser.add_argument("--semiogram", type=Path, help="also the ipol_semiogram patients (a checkout)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--mobgap", action="store_true", help="also mobgap's TdElGohary (needs .venv-bench)")
    parser.add_argument("--markdown", type=Path, help="also write the tables as markdown to this file")
    args = parser.parse_args(argv)
    console = Console(width=200)
    cohorts: list[tuple[str, list[vi.IpolTrial]]] = []
    ipol = vi.find_data_dir(args.data)
    if ipol is not None:
        cohorts.append(("IPOL healthy", vi.load_trials(ipol)))
    semio = vsem.find_data_dir(args.semiogram)
    if semio is not None:
        cohorts.append(("semiogram patients", vsem.load_trials(semio)))
    if not cohorts:
        console.print(
            f"SKIPPED: no IPOL dataset (--data {args.data}) nor semiogram trials (--semiogram {args.semiogram}); "
            "see bench/validate_ipol.py and bench/validate_semiogram.py for where they come from."
        )
        return 0
    tables = []
    for cohort, trials in cohorts:
        results = run_all([(t, cohort) for t in trials], args.jobs)
        failed = [(r.walk.label, r.ours.error) for r in results if r.ours.error]
        ok = [r for r in results if not r.ours.error]
        walks = [r.walk for r in ok]
        rows = [uturn_row("imugait", walks, [r.ours for r in ok])]
        if args.mobgap:
            theirs = [mobgap_turns(t) for t, r in zip(trials, results, strict=True) if not r.ours.error]
            rows.append(uturn_row("mobgap TdElGohary", walks, theirs))
        title = f"{cohort}: the U-turn of each walk against the dataset's U-turn boundaries"
        tables.append((title, UTURN_HEADER, rows))
        tables.append((f"{cohort}: steps in our U-turn", STEP_HEADER, [step_row(ok)]))
        tables.append((f"{cohort}: reference strides left out of the statistics", STRIDE_HEADER, stride_rows(ok)))
        for label, error in failed:
            console.print(f"[red]{cohort} {label}: {error}[/red]")
    show_tables(console, tables, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())

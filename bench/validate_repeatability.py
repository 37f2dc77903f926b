"""Walk-to-walk repeatability on real walkers: how much must a session value change before it means something?

A clinician follows a patient over weeks and compares one session with the next. Each session value carries a 95 %
within-session interval (``pipeline.uncertainty``) that covers the sampling of strides inside that session only;
the dashboard's comparison says "beyond stride sampling" when two intervals are apart. Whether that wording holds up
when nothing changed needs people who walked the same course several times: the IPOL 2023 lower-back dataset (19
healthy adults, 110 walks of 10 m, U-turn, 10 m back, one visit; data, licence and import as
``bench/validate_ipol.py``), each walk processed as a pelvis-only session (``pipeline.run.process_session``).

Per summary metric and side, over the people with at least two walks that give a value (one-way random-effects
ANOVA, people as groups; Weir 2005, J Strength Cond Res 19:231, for SEM and ICC; Haley & Fragala-Pinkham 2006,
Phys Ther 86:735, for the MDC):

- **SEM**: the pooled within-person SD between walks, √MS_within (the same person, the same day, the same course);
- **MDC95** = 1.96 · √2 · SEM: the smallest change between two walks that exceeds this walk-to-walk noise with 95 %
  confidence;
- **ICC(1,1)** = (MS_between − MS_within) / (MS_between + (n₀ − 1) · MS_within), n₀ the ANOVA's mean group size for
  unequal groups: how well one walk ranks people;
- **stride SE**: the root mean square of the walks' own standard errors from their 95 % intervals
  ((high − low) / 3.92), what the within-session interval already knows;
- **beyond stride sampling, same person**: the share of pairs of walks of one person whose two intervals do not
  overlap, the dashboard's wording when nothing has changed.

These are same-day walks of healthy adults, a floor: day-to-day variability and that of patients are larger. The
walks are short (≈ 8–10 straight strides per side), so the stride SE is large next to a long clinical walk's.

Usage::

    .venv/bin/python bench/validate_repeatability.py --ipol /tmp/datasets/voisard_ipol_dataset_1 [--jobs 2] [--markdown]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from validate_ipol import IpolTrial, find_data_dir, import_session, load_trials
from validate_symmetry import print_table

from pipeline.change import walk_to_walk_change
from pipeline.errors import ImuGaitError
from pipeline.run import process_session
from pipeline.schemas import SUMMARY
from pipeline.store import read_table

Z95 = 1.959963984540054
MIN_PEOPLE = 5  # a metric needs this many people with two walks or more to be reported


@dataclass(frozen=True)
class Repeatability:
    """One metric and side over the people with two walks or more."""

    metric: str
    side: str
    unit: str
    people: int
    walks: int
    mean: float
    sem: float  # √MS_within
    icc: float  # ICC(1,1)
    stride_se: float  # RMS of the walks' own SEs from their intervals; NaN without intervals
    pairs: int  # same-person pairs of walks with both intervals
    apart: int  # of which the intervals do not overlap
    beyond_held_out: int  # of which the change exceeds the walk-to-walk rule with τ from the other people

    @property
    def mdc95(self) -> float:
        return Z95 * math.sqrt(2.0) * self.sem

    @property
    def tau(self) -> float:
        """The walk-to-walk SD beyond stride sampling: √max(0, SEM² − stride SE²); NaN without intervals."""
        return math.sqrt(max(0.0, self.sem**2 - self.stride_se**2)) if math.isfinite(self.stride_se) else math.nan


def one_way_anova(values: np.ndarray, groups: np.ndarray) -> tuple[float, float, float]:
    """(MS_within, MS_between, n₀) of a one-way layout, groups of unequal size (each with two values or more)."""
    keys, index, counts = np.unique(groups, return_inverse=True, return_counts=True)
    n, k = values.size, keys.size
    if k < 2 or n <= k:
        return math.nan, math.nan, math.nan
    means = np.bincount(index, weights=values) / counts
    ms_within = float(np.sum((values - means[index]) ** 2) / (n - k))
    ms_between = float(np.sum(counts * (means - values.mean()) ** 2) / (k - 1))
    n0 = (n - float(np.sum(counts**2)) / n) / (k - 1)
    return ms_within, ms_between, n0


def icc_1_1(ms_within: float, ms_between: float, n0: float) -> float:
    """ICC(1,1) from a one-way ANOVA (Shrout & Fleiss 1979, case 1)."""
    denominator = ms_between + (n0 - 1.0) * ms_within
    return (ms_between - ms_within) / denominator if denominator > 0.0 else math.nan


def walk_to_walk_sd(values: np.ndarray, groups: np.ndarray, se: np.ndarray) -> tuple[float, float, float]:
    """(SEM, stride SE, τ) of values grouped by person (each with two values or more): SEM = √MS_within, stride SE =
    the RMS of the finite ``se``, τ = √max(0, SEM² − stride SE²) (NaN without any ``se``)."""
    ms_within, _, _ = one_way_anova(values, groups)
    finite = se[np.isfinite(se)]
    stride_se = float(np.sqrt(np.mean(finite**2))) if finite.size else math.nan
    sem = math.sqrt(ms_within) if math.isfinite(ms_within) else math.nan
    tau = math.sqrt(max(0.0, sem**2 - stride_se**2)) if math.isfinite(stride_se) and math.isfinite(sem) else math.nan
    return sem, stride_se, tau


def pair_counts(
    values: np.ndarray, low: np.ndarray, high: np.ndarray, groups: np.ndarray, tau: float | np.ndarray
) -> tuple[int, int, int]:
    """(pairs, apart, beyond) over all pairs of rows of the same group with both intervals finite: how many there
    are, in how many the two intervals do not overlap (touching intervals overlap, as in the dashboard), and in how
    many the intervals are apart and the change also exceeds :func:`pipeline.uncertainty.walk_to_walk_change`
    with ``tau`` (one value, or one per row: the τ that row's group is judged with)."""
    ok = np.isfinite(low) & np.isfinite(high) & np.isfinite(values)
    x, lo, hi, g = values[ok], low[ok], high[ok], groups[ok]
    t = np.broadcast_to(np.asarray(tau, dtype=np.float64), values.shape)[ok]
    same = g[:, None] == g[None, :]
    pairs = same & np.triu(np.ones(same.shape, dtype=bool), k=1)
    apart = (lo[:, None] > hi[None, :]) | (lo[None, :] > hi[:, None])
    beyond = walk_to_walk_change(
        x[:, None], (lo[:, None], hi[:, None]), x[None, :], (lo[None, :], hi[None, :]), t[:, None]
    )
    return int(pairs.sum()), int((pairs & apart).sum()), int((pairs & apart & beyond).sum())


def held_out_tau(values: np.ndarray, groups: np.ndarray, se: np.ndarray) -> np.ndarray:
    """Per row: τ (:func:`walk_to_walk_sd`) from the other groups' rows only (leave one person out)."""
    out = np.full(values.size, np.nan)
    for g in np.unique(groups):
        mine = groups == g
        out[mine] = walk_to_walk_sd(values[~mine], groups[~mine], se[~mine])[2]
    return out


def repeatability(rows: pd.DataFrame, min_people: int = MIN_PEOPLE) -> list[Repeatability]:
    """Per (metric, side) of ``rows`` (columns person, metric, side, unit, value, ci_low, ci_high), over the finite
    values of the people with at least two: the statistics of :class:`Repeatability`. Metrics with fewer than
    ``min_people`` such people are left out."""
    out = []
    finite = rows[np.isfinite(rows.value.to_numpy(dtype=np.float64))]
    for (metric, side), group in finite.groupby(["metric", "side"], sort=False):
        part = group[group.person.map(group.person.value_counts()) >= 2]
        people = part.person.nunique()
        if people < min_people:
            continue
        values = part.value.to_numpy(dtype=np.float64)
        groups = part.person.to_numpy()
        ms_within, ms_between, n0 = one_way_anova(values, groups)
        low, high = part.ci_low.to_numpy(dtype=np.float64), part.ci_high.to_numpy(dtype=np.float64)
        se = (high - low) / (2.0 * Z95)
        sem, stride_se, _ = walk_to_walk_sd(values, groups, se)
        pairs, apart, beyond = pair_counts(values, low, high, groups, held_out_tau(values, groups, se))
        out.append(
            Repeatability(
                str(metric),
                str(side),
                str(part.unit.iloc[0]),
                int(people),
                int(values.size),
                float(values.mean()),
                sem,
                icc_1_1(ms_within, ms_between, n0),
                stride_se,
                pairs,
                apart,
                beyond,
            )
        )
    return out


def walk_summary(trial: IpolTrial) -> pd.DataFrame:
    """One walk through the whole pipeline as a pelvis-only session: its summary rows with the person; empty (with
    an ``error`` column) when the walk cannot be processed."""
    with tempfile.TemporaryDirectory(prefix="imugait-repeat-") as tmp:
        try:
            session = import_session(trial, Path(tmp))
            process_session(session)
            summary: pd.DataFrame = read_table(session.derived_path("summary"), SUMMARY).to_pandas()
        except ImuGaitError as exc:
            return pd.DataFrame({"person": [trial.participant], "error": [str(exc)]})
    summary.insert(0, "person", trial.participant)
    return summary


def run_all(trials: Sequence[IpolTrial], jobs: int) -> pd.DataFrame:
    if jobs <= 1:
        frames = [walk_summary(t) for t in trials]
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            frames = list(pool.map(walk_summary, trials, chunksize=4))
    return pd.concat(frames, ignore_index=True)


HEADER = [
    "metric",
    "side",
    "unit",
    "people / walks",
    "mean",
    "SEM",
    "MDC95",
    "ICC(1,1)",
    "stride SE",
    "SEM / stride SE",
    "τ",
    "same person: intervals apart",
    "same person: beyond walk-to-walk (τ held out)",
]


def _g(x: float) -> str:
    """Three significant figures, or n/a."""
    return "n/a" if not math.isfinite(x) else f"{x:.3g}"


def table_rows(results: Sequence[Repeatability]) -> list[list[str]]:
    rows = []
    for r in results:
        ratio = r.sem / r.stride_se if r.stride_se > 0.0 else math.nan
        apart = f"{r.apart} of {r.pairs} ({100.0 * r.apart / r.pairs:.0f} %)" if r.pairs else "n/a"
        beyond = f"{r.beyond_held_out} ({100.0 * r.beyond_held_out / r.pairs:.1f} %)" if r.pairs else "n/a"
        rows.append(
            [
                r.metric,
                r.side,
                r.unit,
                f"{r.people} / {r.walks}",
                _g(r.mean),
                _g(r.sem),
                _g(r.mdc95),
                "n/a" if not math.isfinite(r.icc) else f"{r.icc:.2f}",
                _g(r.stride_se),
                "n/a" if not math.isfinite(ratio) else f"{ratio:.2f}",
                _g(r.tau),
                apart,
                beyond,
            ]
        )
    return rows


def walk_to_walk_mapping(results: Sequence[Repeatability]) -> dict[str, float]:
    """``pipeline.change.WALK_TO_WALK_SD`` as these results give it: per metric with intervals, the largest τ over
    its sides, two significant figures."""
    out: dict[str, float] = {}
    for r in results:
        if math.isfinite(r.tau):
            out[r.metric] = max(out.get(r.metric, 0.0), float(f"{r.tau:.2g}"))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ipol", type=Path, default=os.environ.get("IPOL_GAIT_DATA_DIR"))
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table for the docs")
    parser.add_argument("--python", action="store_true", help="also print pipeline.change.WALK_TO_WALK_SD")
    args = parser.parse_args(argv)
    console = Console(width=200)
    data = find_data_dir(args.ipol)
    if data is None:
        console.print("no data: pass --ipol DIR (the folder holding GaitData/)", style="red")
        return 2
    trials = load_trials(data)
    console.print(f"{len(trials)} IPOL walks: processing each as a pelvis-only session …", style="dim")
    rows = run_all(trials, args.jobs)
    failed = rows[rows["error"].notna()] if "error" in rows else rows.iloc[:0]
    for r in failed.itertuples():
        console.print(f"not processed ({r.person}): {r.error}", style="yellow")
    done = rows.drop(index=failed.index)
    results = repeatability(done)
    print_table(
        console,
        f"Walk-to-walk repeatability, {done.person.nunique()} healthy adults, {len(trials) - len(failed)} walks "
        "(pelvis only, one visit)",
        list(HEADER),
        table_rows(results),
        args.markdown,
    )
    shares = [100.0 * r.beyond_held_out / r.pairs for r in results if r.pairs and r.tau > 0.0]
    if shares:
        console.print(
            f"Same-person pairs called 'beyond walk-to-walk variation' with τ held out, over the {len(shares)} rows "
            f"with τ > 0: median {np.median(shares):.1f} %, {min(shares):.1f}–{max(shares):.1f} % (nominal 5 %)"
        )
    if args.python:
        console.print(f"WALK_TO_WALK_SD = {walk_to_walk_mapping(results)!r}", soft_wrap=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

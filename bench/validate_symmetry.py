"""Symmetry indices and compensation indicators on real healthy walkers (IPOL 2023 lower-back dataset).

Two questions the simulator cannot answer (``docs/validation/README.md`` §n):

1. **How close is a session's symmetry index to the reference?** Every trial of the IPOL 2023 dataset (19 healthy
   adults, 110 walks of 10 m, U-turn, 10 m back; data and licence in ``bench/validate_ipol.py``) goes through the
   whole pipeline as a pelvis-only session. The reference SI comes from the dataset's foot-sensor events, put through
   imugait's own stride definitions (:func:`pipeline.metrics.stride_table`), strides touching the U-turn left out.
   Two comparisons: *same strides* (the reference strides that open within 0.25 s of the strides our SI used: the
   error of our event timing alone) and *own strides* (each side's own stride selection: what a clinician gets),
   with how often the reference SI lies inside our 95 % within-session interval.
2. **How often does the compensation report flag healthy people?** The report written for each walk is read back;
   these people have no gait complaint, so every flag is a false alarm. Per indicator: the distribution of the
   value next to its threshold, the flagged walks and people. Thigh indicators are not assessed (no thigh sensors).

The walks are short (≈ 8–10 straight strides per side), the situation in which a point estimate is least reliable
and an interval matters most.

Usage::

    .venv/bin/python bench/validate_symmetry.py --ipol /tmp/datasets/voisard_ipol_dataset_1 [--jobs 2] [--markdown]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from event_scoring import side_offset
from rich.console import Console
from rich.table import Table
from validate_ipol import IpolTrial, find_data_dir, import_session, load_trials
from validate_real import Trial, data_dir_argument, find_lab_dir, import_trial
from validate_real import load_trials as load_mobilised

from pipeline._event_core import make_events
from pipeline.compensation import compensation_report
from pipeline.errors import ImuGaitError
from pipeline.metrics import OPENING_TIMES, SummaryRow, stride_table
from pipeline.run import process_session
from pipeline.schemas import COMPENSATION, STRIDES, SUMMARY
from pipeline.store import read_table
from pipeline.symmetry import symmetry_index

# symmetry index -> the per-stride time it compares
SI_METRICS = {
    "stance_time_si_pct": "stance_time_s",
    "step_time_si_pct": "step_time_s",
    "swing_time_si_pct": "swing_time_s",
    "single_support_time_si_pct": "single_support_time_s",
    "initial_double_support_si_pct": "initial_double_support_s",
}
PAIR_TOLERANCE_S = 0.25
MIN_STRIDES = 5  # per side, for an SI to be compared at all (ours: the summary row's n)
PER_SIDE = ("pelvic_drop_deg", "pelvic_hike_deg")  # compensation indicators assessed per side


@dataclass(frozen=True)
class SiResult:
    """One symmetry index of one trial: ours with its interval, the reference on the same and on its own strides."""

    participant: str
    metric: str
    ours: float
    ci_low: float
    ci_high: float
    ref_same: float
    ref_own: float


@dataclass(frozen=True)
class Flag:
    """One assessed compensation indicator of one trial."""

    participant: str
    indicator: str
    side: str
    value: float
    threshold: float
    flagged: bool
    assessed: bool  # False: reported, not assessed (timing indicators from pelvis-only contacts)
    flagged_if_assessed: bool  # the report recomputed as if the contacts came from thighs: the interval rule alone


@dataclass(frozen=True)
class TrialResult:
    dataset: str
    participant: str
    si: list[SiResult]
    flags: list[Flag]
    # per side and kind ("IC" / "FC"): our contact times − the reference's over the paired strides (s)
    timing: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    error: str = ""


def reference_strides(ref: Trial) -> pd.DataFrame:
    """The reference events through imugait's stride definitions; ``valid`` keeps strides inside the reference's
    bouts (for IPOL: the straight parts, U-turn left out), bout edges dropped as for ours."""
    t = np.concatenate([ref.ic_t_s, ref.fc_t_s])
    side = np.concatenate([ref.ic_side, ref.fc_side])
    kind = np.array(["IC"] * ref.ic_t_s.size + ["FC"] * ref.fc_t_s.size)
    events = make_events(t, side, kind, np.full(t.size, "reference"), ref.fs_hz)
    n = int(math.ceil(max(t.max(initial=0.0), ref.wb_end_s.max(initial=0.0)) * ref.fs_hz)) + 2
    grid = np.arange(n) / ref.fs_hz
    steady = np.zeros(n, dtype=bool)
    for a, b in zip(ref.wb_start_s, ref.wb_end_s, strict=True):
        steady |= (grid >= a) & (grid <= b)
    return pd.DataFrame(stride_table(events, ref.fs_hz, n, steady=steady).columns())


def _selected(strides: pd.DataFrame, column: str) -> pd.Series:
    return strides.opening_valid if column in OPENING_TIMES else strides.valid


def _side_si(strides: pd.DataFrame, column: str) -> float:
    """SI of the side means; NaN when a side has fewer than ``MIN_STRIDES`` values."""
    sel = strides[_selected(strides, column).astype(bool)]
    values = {s: sel.loc[sel.side == s, column].dropna() for s in ("right", "left")}
    if min(v.size for v in values.values()) < MIN_STRIDES:
        return math.nan
    return float(symmetry_index(values["right"].mean(), values["left"].mean()))


def _nearest(mine: pd.DataFrame, theirs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each of our strides: the index of the reference stride opening nearest to it, whether that is within
    ``PAIR_TOLERANCE_S``, and our opening time minus its (s). One side's strides, a few dozen each."""
    gap = mine.start_s.to_numpy()[:, None] - theirs.start_s.to_numpy()[None, :]
    near = np.abs(gap).argmin(axis=1)
    error = gap[np.arange(near.size), near]
    return near, np.abs(error) <= PAIR_TOLERANCE_S, error


def _paired(ours: pd.DataFrame, ref: pd.DataFrame) -> pd.DataFrame:
    """The reference strides opening within ``PAIR_TOLERANCE_S`` of each of ours (same side), in our order."""
    rows = []
    for side in ("left", "right"):
        mine, theirs = ours[ours.side == side], ref[ref.side == side]
        if mine.empty or theirs.empty:
            continue
        near, ok, _ = _nearest(mine, theirs)
        picked = theirs.iloc[near[ok]].copy()
        for column in SI_METRICS.values():  # our selection, the reference's values
            flag = "opening_valid" if column in OPENING_TIMES else "valid"
            picked[flag] = _selected(mine, column).to_numpy()[ok]
        rows.append(picked)
    return pd.concat(rows) if rows else ref.iloc[:0]


Case = tuple[str, IpolTrial | Trial]  # ("ipol", trial) or ("mobilised", trial)


def assess(case: Case) -> TrialResult:
    """Import and process one trial as a pelvis-only session; compare it with its reference."""
    dataset, trial = case
    with tempfile.TemporaryDirectory(prefix="imugait-symmetry-") as tmp:
        try:
            if isinstance(trial, IpolTrial):
                session, ref, who = import_session(trial, Path(tmp)), trial.straight, f"IPOL/{trial.participant}"
            else:
                session, ref, who = import_trial(trial, Path(tmp)), trial, f"{trial.cohort}/{trial.participant}"
            process_session(session)
        except ImuGaitError as exc:
            return TrialResult(dataset, "?", [], [], error=str(exc))
        report = read_table(session.derived_path("compensation"), COMPENSATION).to_pandas()
        summary = read_table(session.derived_path("summary"), SUMMARY).to_pandas()
        ours = read_table(session.derived_path("strides"), STRIDES).to_pandas()
    theirs = reference_strides(ref)
    same = _paired(ours, theirs)
    by_key = {(r.metric, r.side): r for r in summary.itertuples()}
    si = []
    for metric, column in SI_METRICS.items():
        row = by_key[(metric, "both")]
        si.append(
            SiResult(
                who,
                metric,
                float(row.value) if row.n >= MIN_STRIDES else math.nan,
                float(row.ci_low),
                float(row.ci_high),
                _side_si(same, column),
                _side_si(theirs, column),
            )
        )
    rows = [SummaryRow(r.metric, r.side, r.value, r.unit, r.n, r.ci_low, r.ci_high) for r in summary.itertuples()]
    as_thighs = {(r.indicator, _flag_side(r.indicator, r.side)): r.flagged for r in compensation_report(rows)}
    flags = [
        Flag(
            who,
            r.indicator,
            _flag_side(r.indicator, r.side),
            r.value,
            r.threshold,
            r.flagged,
            "not assessed" not in r.note,
            as_thighs.get((r.indicator, _flag_side(r.indicator, r.side)), False),
        )
        for r in report.itertuples()
        if math.isfinite(r.value)
    ]
    return TrialResult(dataset, who, si, flags, contact_errors(ours, theirs))


def contact_errors(ours: pd.DataFrame, ref: pd.DataFrame) -> dict[tuple[str, str], np.ndarray]:
    """Our IC and FC times minus the reference's, per side, over the strides that pair (opening ICs within
    ``PAIR_TOLERANCE_S``) among those our stance times use: a stride's FC is its opening IC + stance time."""
    out = {}
    for side in ("left", "right"):
        mine, theirs = ours[(ours.side == side) & ours.opening_valid], ref[ref.side == side]
        if mine.empty or theirs.empty:
            continue
        near, ok, error = _nearest(mine, theirs)
        ic_err = error[ok]
        stance_err = mine.stance_time_s.to_numpy()[ok] - theirs.stance_time_s.to_numpy()[near[ok]]
        out[(side, "IC")] = ic_err
        out[(side, "FC")] = ic_err + stance_err
    return out


def _flag_side(indicator: str, side: str) -> str:
    """Per-side indicators keep their side; a symmetry row names the smaller side only when flagged."""
    return side if indicator in PER_SIDE else "both"


def run_all(cases: Sequence[Case], jobs: int) -> list[TrialResult]:
    if jobs <= 1:
        return [assess(c) for c in cases]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(assess, cases, chunksize=4))


def _pm(x: np.ndarray) -> str:
    return f"{np.mean(x):+.1f} ± {np.std(x, ddof=1):.1f}" if x.size > 1 else "—"


def si_rows(results: Sequence[TrialResult]) -> list[list[str]]:
    df = pd.DataFrame([s.__dict__ for r in results for s in r.si])
    out = []
    for metric, all_walks in df.groupby("metric", sort=False):
        g = all_walks[np.isfinite(all_walks.ours) & np.isfinite(all_walks.ref_own)]
        same = g[np.isfinite(g.ref_same)]
        err_same = (same.ours - same.ref_same).to_numpy()
        err_own = (g.ours - g.ref_own).to_numpy()
        has_ci = np.isfinite(g.ci_low) & np.isfinite(g.ci_high)
        inside = ((g.ref_own >= g.ci_low) & (g.ref_own <= g.ci_high))[has_ci]
        out.append(
            [
                str(metric).removesuffix("_si_pct").replace("_", " "),
                str(len(g)),
                f"{np.median(np.abs(g.ref_own)):.1f} / {np.percentile(np.abs(g.ref_own), 95):.1f}",
                f"{np.median(np.abs(g.ours)):.1f} / {np.percentile(np.abs(g.ours), 95):.1f}",
                f"{_pm(err_same)} ({np.mean(np.abs(err_same)):.1f})",
                f"{_pm(err_own)} ({np.mean(np.abs(err_own)):.1f})",
                f"{inside.mean():.2f}" if inside.size else "—",
            ]
        )
    return out


SI_HEADER = [
    "SI of",
    "walks",
    "reference |SI| median / 95th pct",
    "ours |SI| median / 95th pct",
    "error, same strides: mean ± SD (MAE), pp",
    "error, own strides: mean ± SD (MAE), pp",
    "reference inside our 95 % interval",
]


def flag_rows(results: Sequence[TrialResult]) -> list[list[str]]:
    df = pd.DataFrame([f.__dict__ for r in results for f in r.flags])
    out = []
    for (indicator, side), g in df.groupby(["indicator", "side"], sort=False):
        flagged = g[g.flagged]
        per_side = indicator in PER_SIDE
        interval_rule = int(g.flagged_if_assessed.sum())
        out.append(
            [
                str(indicator) + ("" if side == "both" else f" ({side})"),
                str(len(g)),
                f"{np.median(np.abs(g.value)):.1f} / {np.percentile(np.abs(g.value), 95):.1f}",
                "—" if per_side else f"{100 * _lopo_rate(g):.0f} %",
                "other side + margin" if per_side else f"{g.threshold.iloc[0]:g}",
                f"{interval_rule} ({100 * interval_rule / len(g):.0f} %)",
                f"{len(flagged)} ({100 * len(flagged) / len(g):.0f} %)" if g.assessed.any() else "not assessed",
                f"{flagged.participant.nunique()} of {g.participant.nunique()}" if g.assessed.any() else "—",
            ]
        )
    return out


def _lopo_rate(g: pd.DataFrame) -> float:
    """Share of walks above the 95th percentile of |value| over the *other* people's walks (leave one person
    out): what a threshold set at the healthy 95th percentile would flag in people it was not set on."""
    above = 0
    for person, walks in g.groupby("participant"):
        others = np.abs(g.value[g.participant != person])
        above += int(np.sum(np.abs(walks.value) > np.percentile(others, 95)))
    return above / len(g)


def timing_rows(results: Sequence[TrialResult], *, by_participant: bool = False) -> list[list[str]]:
    """Per walk: the mean contact-time error of each side; its left/right difference across walks against the
    spread of single contacts within a walk (what the stride bootstrap sees). ``by_participant`` adds a row per
    person (for datasets of a few people)."""
    groups: list[tuple[str, Sequence[TrialResult]]] = [("all", results)]
    if by_participant:
        groups += [(p, [r for r in results if r.participant == p]) for p in sorted({r.participant for r in results})]
    out = []
    for kind in ("IC", "FC"):
        for who, members in groups:
            d, within = _side_offsets(members, kind)
            if d.size == 0:
                continue
            sd = d.std(ddof=1) if d.size > 1 else math.nan
            out.append(
                [
                    kind if who == "all" else f"{kind} {who}",
                    str(d.size),
                    f"{d.mean():+.0f} ± {sd:.0f}",
                    f"{np.median(within):.0f}",
                    f"{sd / math.sqrt(2.0):.0f}",
                ]
            )
    return out


def _side_offsets(results: Sequence[TrialResult], kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Right − left mean contact error per walk and the within-walk-side SDs, ms (walks with ≥ 2 per side)."""
    diff: list[float] = []
    within: list[float] = []
    for r in results:
        left, right = r.timing.get(("left", kind)), r.timing.get(("right", kind))
        offset = side_offset(left, right) if left is not None and right is not None else None
        if offset is None:
            continue
        diff.append(offset[0])
        within.extend(offset[1:])
    return np.array(diff) * 1000.0, np.array(within) * 1000.0


TIMING_HEADER = [
    "contact",
    "walks",
    "right − left mean error per walk, ms (mean ± SD)",
    "single contacts within a walk-side, SD ms (median)",
    "per-side offset SD, ms (= SD / √2)",
]


FLAG_HEADER = [
    "indicator",
    "walks",
    "|value| median / 95th pct",
    "above the others' 95th pct (leave one person out)",
    "threshold",
    "flagged had the contacts come from thighs",
    "flagged walks",
    "people flagged",
]


def print_table(console: Console, title: str, header: list[str], rows: list[list[str]], markdown: bool) -> None:
    if markdown:
        print(f"\n**{title}**\n")
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for r in rows:
            print("| " + " | ".join(r) + " |")
        return
    table = Table(*header, title=title)
    for r in rows:
        table.add_row(*r)
    console.print(table)


def report_dataset(
    console: Console, name: str, results: Sequence[TrialResult], markdown: bool, *, by_participant: bool = False
) -> None:
    done = [r for r in results if not r.error]
    people = len({r.participant for r in done})
    print_table(
        console,
        f"{name}: symmetry indices on {len(done)} walks of {people} people (pelvis only), in pp",
        SI_HEADER,
        si_rows(done),
        markdown,
    )
    print_table(
        console,
        f"{name}: pelvis-only contact timing against the reference, a left/right offset per walk",
        TIMING_HEADER,
        timing_rows(done, by_participant=by_participant),
        markdown,
    )
    for r in results:
        if r.error:
            console.print(f"{name}: not processed: {r.error}", style="yellow")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ipol", type=Path, default=os.environ.get("IPOL_GAIT_DATA_DIR"))
    data_dir_argument(parser)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables for the docs")
    args = parser.parse_args(argv)
    console = Console()
    ipol, mobilised = find_data_dir(args.ipol), find_lab_dir(args.data)
    if ipol is None and mobilised is None:
        console.print(
            "no data: pass --ipol DIR (the folder holding GaitData/) and/or --data DIR (mobgap's example_data)",
            style="red",
        )
        return 2
    if mobilised is not None:
        trials = load_mobilised(mobilised)
        console.print(f"{len(trials)} Mobilise-D trials (INDIP reference): processing …", style="dim")
        results = run_all([("mobilised", t) for t in trials], args.jobs)
        report_dataset(console, "Mobilise-D", results, args.markdown, by_participant=True)
    if ipol is None:
        return 0
    ipol_trials = load_trials(ipol)
    console.print(f"{len(ipol_trials)} IPOL trials (foot-sensor reference): processing …", style="dim")
    results = run_all([("ipol", t) for t in ipol_trials], args.jobs)
    report_dataset(console, "IPOL 2023 (19 healthy adults)", results, args.markdown)
    done = [r for r in results if not r.error]
    any_flag = sum(1 for r in done if any(f.flagged for f in r.flags))
    share = 100 * any_flag / max(len(done), 1)
    print_table(
        console,
        f"Compensation report on the same healthy walks: {any_flag} of {len(done)} ({share:.0f} %) with at least "
        "one flag (all false alarms)",
        FLAG_HEADER,
        flag_rows(done),
        args.markdown,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Patients the detector never saw: our pelvis-only pipeline on the example trials of Voisard et al.'s semiogram.

Data: the ``example_datasets`` folder of the GitHub repository ``CyrilVoisard/ipol_semiogram`` (AGPL-3.0; not
shipped with imugait, never commit it), published with Voisard et al., *IPOL* 2025 (article 535,
doi:10.5201/ipol.2025.535) and Front. Neurol. 2023 (doi:10.3389/fneur.2023.1237162). The protocol is IPOL dataset 1's
(``bench/validate_ipol.py``): stand, walk 10 m, U-turn, walk back, stand; Xsens MTw Awinda on the lower back (L5) at
100 Hz. Trials used here (the two ``healthy_subject`` trials are IPOL dataset 1's trials 1-1 and 1-2, already in
``validate_ipol.py``, and are left out):

- ``multiple_sclerosis/M0_edss_6`` and ``M6_edss_7``: one person with multiple sclerosis, six months apart (EDSS 6
  and 7), walking at about 0.2 m/s (the authors' own estimate for M6: 0.19 m/s, 3.0 s strides), with a long U-turn.
- ``equino_varus_foot/M0_pre_chir`` and ``M6_post_chir``: one person with an equinovarus foot, before and six months
  after surgery. In the pre-surgery trial the lower-back sensor hangs upside down (gravity on −x).

Files: ``<trial>_lb.txt`` (12 ``//`` lines of MT Manager header, then tab-separated ``PacketCounter``,
``SampleTimeFine`` (empty), ``Acc_X/Y/Z`` m/s², ``Gyr_X/Y/Z`` rad/s, … by name) and ``<trial>_ge.json``:
``LeftFootEvents`` / ``RightFootEvents`` = ``[toe-off, heel strike]`` sample pairs, ``gait start`` / ``gait end`` and
``UTurnBoundaries`` (samples, on the PacketCounter grid as in IPOL dataset 1). There is no stature, so no step length
or speed. The events come from the foot sensors by the authors' multi-pass DTW (``method_ge: mpdtw``), an algorithm:
the reference is of the same class as IPOL dataset 1's, and it can be wrong. A walk alternates feet, so each side's
contact count can differ by at most one (:func:`reference_consistent`). The pre-surgery trial has 37 left and 55
right heel strikes inside the gait boundaries (right strides of 0.7–1.6 s against left ones of 1.3–1.5 s): it is
reported but left out of the pooled rows, and its left side is the only usable reference (the per-foot recall).

Scoring as ``bench/validate_ipol.py`` (``pipeline.evaluation``): F1 at ±0.5 / 0.25 / 0.1 s, timing error and
laterality of the ±0.5 s pairs, final contacts at ±0.5 s; "straight" leaves the U-turn out. Per side (pairs split
by the reference foot): recall and the mean signed timing error, which shows a left/right timing offset that the
pooled bias averages away; the session's pelvis-only label alternation (quality ``pelvis.laterality_agreement``);
and how much the trunk feels the heel strikes (``validate_ipol.heel_strike_vertical_range``; ``validate_ipol.py``
prints the same figure for the healthy walkers).

With ``--mobgap`` (run with ``.venv-bench``) mobgap 1.2.0's IcdIonescu and IcdShinImproved, each with LrcUllrich,
run on the consistent trials as in ``validate_ipol.py --mobgap`` and are scored by the same code.

Usage::

    .venv/bin/python bench/validate_semiogram.py --data /path/to/ipol_semiogram
    .venv-bench/bin/python bench/validate_semiogram.py --data /path/to/ipol_semiogram --mobgap
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from validate_ipol import (
    IpolTrial,
    Outcome,
    compare_mobgap,
    heel_strike_vertical_range,
    packet_time_s,
    reference_trial,
    run_all,
)
from validate_real import HEADER, Detection, Trial, TrialScores, _f, markdown, print_rows, summary_rows

from pipeline.evaluation import match_events

DATA_ENV = "SEMIOGRAM_DATA_DIR"
COHORTS = ("multiple_sclerosis", "equino_varus_foot")  # healthy_subject = IPOL dataset 1 trials 1-1 and 1-2
ACC_COLUMNS = ("Acc_X", "Acc_Y", "Acc_Z")
GYR_COLUMNS = ("Gyr_X", "Gyr_Y", "Gyr_Z")


def find_data_dir(data: Path | None) -> Path | None:
    """The ``example_datasets`` folder under a repository checkout (or the folder itself), or None."""
    if data is None:
        return None
    for candidate in (data / "example_datasets", data):
        if any(any((candidate / c).glob("*_ge.json")) for c in COHORTS):
            return candidate
    return None


def read_lower_back(path: Path) -> pd.DataFrame:
    """An MT Manager export: ``//`` header lines, then a tab-separated table with named columns."""
    with path.open(encoding="utf-8", errors="replace") as f:
        n_header = 0
        for line in f:
            if not line.startswith("//"):
                break
            n_header += 1
    table = pd.read_csv(path, sep="\t", skiprows=n_header)
    missing = [c for c in ("PacketCounter", *ACC_COLUMNS, *GYR_COLUMNS) if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: no column(s) {', '.join(missing)} after {n_header} header lines")
    return table


def lower_back_samples(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time (s, from the packet counter), acceleration and angular velocity of an MT Manager export, a repeated
    packet kept once."""
    t = packet_time_s(table["PacketCounter"].to_numpy())
    keep = np.concatenate(([True], np.diff(t) > 0))  # a repeated packet is one sample
    acc = table[list(ACC_COLUMNS)].to_numpy(dtype=np.float64)[keep]
    gyr = table[list(GYR_COLUMNS)].to_numpy(dtype=np.float64)[keep]
    return t[keep], acc, gyr


def load_trial(json_path: Path) -> IpolTrial:
    meta = json.loads(json_path.read_text(encoding="utf-8"))
    name = json_path.name.removesuffix("_ge.json")
    t, acc, gyr = lower_back_samples(read_lower_back(json_path.with_name(f"{name}_lb.txt")))
    bounds = np.array([meta["gait start"], meta["gait end"]], dtype=np.float64)
    turn = np.asarray(meta["UTurnBoundaries"], dtype=np.float64)
    labels = {"cohort": "semiogram", "participant": json_path.parent.name, "trial": name}
    whole = reference_trial(meta, bounds[None, :], **labels)
    straight = reference_trial(meta, np.array([[bounds[0], turn[0]], [turn[1], bounds[1]]]), **labels)
    return IpolTrial(whole, straight, t, acc, gyr, math.nan)


def load_trials(data_dir: Path) -> list[IpolTrial]:
    return [load_trial(p) for c in COHORTS for p in sorted((data_dir / c).glob("*_ge.json"))]


def reference_consistent(trial: Trial) -> bool:
    """A walk alternates feet: the two sides' heel-strike counts differ by at most one."""
    left = int(np.count_nonzero(trial.ic_side == "left"))
    return abs(left - (trial.ic_side.size - left)) <= 1


@dataclass(frozen=True)
class SideScores:
    """Per reference foot: reference ICs, the share paired at ±0.5 s, and the mean signed error of those pairs."""

    n_reference: int
    recall: float
    mean_error_s: float


def side_scores(trial: Trial, det: Detection, tolerance_s: float = 0.5) -> dict[str, SideScores]:
    """Pair the IC detections with all reference ICs (as the F1 scoring does), then split the pairs by foot."""
    keep = trial.in_bouts(det.ic_t_s, 1.0 / trial.fs_hz)
    ref_keep = trial.in_bouts(trial.ic_t_s)
    ref_side = trial.ic_side[ref_keep]
    match = match_events(det.ic_t_s[keep], trial.ic_t_s[ref_keep], tolerance_s=tolerance_s)
    out = {}
    for side in ("left", "right"):
        n = int(np.count_nonzero(ref_side == side))
        mine = ref_side[match.reference] == side
        errors = match.error_s[mine]
        out[side] = SideScores(
            n,
            errors.size / n if n else math.nan,
            float(errors.mean()) if errors.size else math.nan,
        )
    return out


SIDE_HEADER = (
    "trial",
    "reference L/R",
    "consistent",
    "recall L",
    "recall R",
    "bias L ms",
    "bias R ms",
    "label alternation",
    "vertical acc at HS L/R m/s²",
)


def side_rows(trials: Sequence[IpolTrial], detections: Sequence[Detection]) -> list[list[str]]:
    rows = []
    for trial, det in zip(trials, detections, strict=True):
        ref = trial.reference
        s = side_scores(ref, det)
        rows.append(
            [
                ref.label,
                f"{s['left'].n_reference}/{s['right'].n_reference}",
                "yes" if reference_consistent(ref) else "NO",
                *(_f(100 * s[k].recall, "{:.0f} %") for k in ("left", "right")),
                *(_f(1e3 * s[k].mean_error_s, "{:+.0f}") for k in ("left", "right")),
                "n/a" if not math.isfinite(det.label_alternation) else f"{det.label_alternation:.2f}",
                "/".join(_f(heel_strike_vertical_range(trial, k), "{:.1f}") for k in ("left", "right")),
            ]
        )
    return rows


def scored_rows(scores: Sequence[TrialScores], consistent: Sequence[bool]) -> list[list[str]]:
    """Per-trial rows (an inconsistent reference marked), then pooled and mean-of-trials rows over the consistent
    trials only."""
    rows = [r[:10] for r in summary_rows(scores)[: len(scores)]]
    for r, ok in zip(rows, consistent, strict=True):
        if not ok:
            r[0] += " (reference inconsistent, not pooled)"
    kept = [s for s, ok in zip(scores, consistent, strict=True) if ok]
    if kept:
        tail = [r[:10] for r in summary_rows(kept)[-2:]]
        tail[0][0] = f"pooled over {len(kept)} consistent trials"
        tail[1][0] = "mean of those trials"
        rows += tail
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get(DATA_ENV)
    parser.add_argument("--data", type=Path, default=Path(env) if env else None, help=f"default: ${DATA_ENV}")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--mobgap", action="store_true", help="also run mobgap's detectors (needs .venv-bench)")
    parser.add_argument("--markdown", type=Path, help="also write the tables as markdown to this file")
    args = parser.parse_args(argv)
    console = Console(width=200)
    data_dir = find_data_dir(args.data)
    if data_dir is None:
        console.print(
            f"SKIPPED: no semiogram example trials found (--data {args.data}, ${DATA_ENV}). They are the "
            "example_datasets folder of the GitHub repository CyrilVoisard/ipol_semiogram (AGPL-3.0)."
        )
        return 0
    trials = load_trials(data_dir)
    outcomes: list[Outcome] = run_all(trials, args.jobs)
    consistent = [reference_consistent(t.reference) for t in trials]
    tables = []
    for label, pick in (
        ("whole trial", lambda o: o.whole),
        ("straight walking (U-turn left out)", lambda o: o.straight),
    ):
        title = f"imugait pelvis-only vs foot-IMU reference, semiogram patients, {label}"
        rows = scored_rows([pick(o) for o in outcomes], consistent)
        print_rows(console, title, HEADER[:10], rows)
        tables.append((title, HEADER[:10], rows))
    title = "per reference foot, whole trial (±0.5 s pairs)"
    rows = side_rows(trials, [o.detection for o in outcomes])
    print_rows(console, title, SIDE_HEADER, rows)
    tables.append((title, SIDE_HEADER, rows))
    for trial, o in zip(trials, outcomes, strict=True):
        if o.whole.error:
            console.print(f"[red]{trial.reference.label}: pipeline failed: {o.whole.error}[/red]")
    if args.mobgap:
        kept = [(t, o) for t, o, ok in zip(trials, outcomes, consistent, strict=True) if ok]
        rows = compare_mobgap(console, [t for t, _ in kept], [o for _, o in kept])
        header = ("detector", "F1 ±0.5 (pooled)", "F1 ±0.25", "F1 ±0.1", "MAE ms", "bias ms", "lat acc")
        tables.append((f"mobgap side by side, {len(kept)} consistent trials, pooled", header, rows))
    if args.markdown:
        text = "\n\n".join(f"{title}\n\n" + markdown(header, rows) for title, header, rows in tables)
        args.markdown.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

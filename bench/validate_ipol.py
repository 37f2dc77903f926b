"""Held-out real recordings: our pelvis-only pipeline on the Voisard et al. (IPOL 2023) lower-back dataset.

Data: Voisard, Vienne-Jumeau, Ricard, Oudre et al., "A lower-back and feet IMU gait dataset of healthy adults" as
published with *IPOL* 2023 (article 497), distributed in the GitHub repository ``CyrilVoisard/ipol_dataset_1``
(AGPL-3.0; not shipped with imugait, never commit it). 19 healthy adults, 110 trials: stand, walk 10 m, U-turn, walk
back, stand. Xsens MTw Awinda on the lower back (L5) and on each foot, 100 Hz. Per trial ``GaitData/<s>-<t>_lb.txt``
(tab-separated after one "Acquisition frequency" line: ``PacketCounter``, ``Acc_X/Y/Z`` m/s², ``Gyr_X/Y/Z`` rad/s,
``Mag_*``) and ``<s>-<t>.json`` with ``LeftFootEvents`` / ``RightFootEvents`` = ``[toe-off, heel strike]`` sample
pairs of each swing, ``TrialBoundaries`` and ``UTurnBoundaries`` (samples) and the participant's ``Height`` (cm).
The reference events come from the foot sensors (validated foot-IMU algorithms, checked by hand by the authors), not
from force plates: this is a reference of the same class as Mobilise-D's INDIP (foot IMUs and insoles), not a gold
standard.

Why it matters: every choice in the pelvis event detector (the IC refinement, the laterality cues) was made on
mobgap's 3 Mobilise-D participants (``bench/validate_real.py``). None of it saw these 19 people, so the figures
below are a held-out test of those choices.

Samples and time. Many trials lost packets: the event indices count samples on a uniform 100 Hz grid starting at the
first packet, so time = (PacketCounter − first PacketCounter) / 100 s (the 16-bit counter unwrapped). The raw rows
go to :func:`pipeline.importer.import_tables` *with* that time column, so the pipeline sees the gaps and masks them
as it would for a user's file. The sensor was worn tilted (about 35° of gravity on sensor z at rest); the pipeline
finds the pelvis axes itself.

Scoring (``pipeline.evaluation``, as ``bench/validate_real.py``): reference ICs = heel strikes inside the trial
boundaries, sides from the foot; detections inside the boundaries (one sample of margin); one-to-one pairing; F1 at
±0.5, ±0.25, ±0.1 s; mean absolute and signed timing error and laterality of the ±0.5 s pairs; final contacts
(toe-offs) likewise. "straight" repeats the scoring with the U-turn interval left out. Distance: our mean step length
× cadence over the trial boundaries × their duration, against the nominal 20 m (10 m out and back; the boundaries
run from the first toe-off to the last heel strike and the walkway length is nominal, so this is a plausibility
check, not a reference). With ``--mobgap`` (run with ``.venv-bench``) mobgap 1.2.0's IcdIonescu and IcdShinImproved,
each with LrcUllrich, run on the same trial interval and are scored by the same code; LrcMansour and LrcMcCamley are
scored at the reference ICs (mobgap's LRC protocol).

Usage::

    .venv/bin/python bench/validate_ipol.py --data /tmp/datasets/voisard_ipol_dataset_1
    .venv-bench/bin/python bench/validate_ipol.py --data /tmp/datasets/voisard_ipol_dataset_1 --mobgap
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from rich.console import Console
from validate_real import (
    HEADER,
    Detection,
    Trial,
    TrialScores,
    evaluate,
    label_alternation,
    markdown,
    print_rows,
    summary_rows,
)

from pipeline.errors import ImuGaitError
from pipeline.evaluation import pool
from pipeline.importer import TableImportSpec, import_tables
from pipeline.run import process_session
from pipeline.spatial import interval_speed
from pipeline.store import Session
from pipeline.subjects import SubjectProfile, save_profile

DATA_ENV = "IPOL_GAIT_DATA_DIR"
FS_HZ = 100.0
NOMINAL_DISTANCE_M = 20.0
COUNTER_MODULUS = 65536  # Xsens PacketCounter is 16 bit


@dataclass(frozen=True)
class IpolTrial:
    """One trial: the raw lower-back rows on their packet time, and the reference as a ``validate_real.Trial``."""

    reference: Trial  # one "bout" = the trial boundaries
    straight: Trial  # two "bouts": the boundaries minus the U-turn
    t_s: np.ndarray
    acc_ms2: np.ndarray  # (n, 3)
    gyr_rad_s: np.ndarray  # (n, 3)
    height_m: float

    @property
    def participant(self) -> str:
        return self.reference.participant


def find_data_dir(data: Path | None) -> Path | None:
    """The ``GaitData`` folder under the dataset folder (or the folder itself), or None."""
    if data is None:
        return None
    for candidate in (data / "GaitData", data):
        if any(candidate.glob("*-*_lb.txt")):
            return candidate
    return None


def packet_time_s(counter: np.ndarray) -> np.ndarray:
    """Seconds from the first packet: the 16-bit counter unwrapped, over the 100 Hz sample period."""
    c = np.asarray(counter, dtype=np.int64)
    wraps = np.concatenate(([0], np.cumsum(np.diff(c) < -COUNTER_MODULUS // 2)))
    c = c + wraps * COUNTER_MODULUS
    return (c - c[0]) / FS_HZ


def merge_sides(times: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The "left" and "right" event times in one time-ordered array, with the side of each."""
    t = np.concatenate([times["left"], times["right"]])
    s = np.array(["left"] * times["left"].size + ["right"] * times["right"].size)
    order = np.argsort(t, kind="stable")
    return t[order], s[order]


def reference_trial(
    meta: dict[str, Any], bouts: np.ndarray, *, cohort: str = "IPOL", participant: str = "", trial: str = ""
) -> Trial:
    """The reference of one trial: heel strikes and toe-offs from ``Left/RightFootEvents`` (``[toe-off, heel
    strike]`` sample pairs), the sample intervals ``bouts`` as its "walking bouts", the stature from ``Height`` (cm).
    ``participant`` and ``trial`` default to the IPOL file's ``Subject`` and ``Trial``."""
    events = {side: np.asarray(meta[f"{side.capitalize()}FootEvents"], dtype=np.float64) for side in ("left", "right")}
    ic = {s: e[:, 1] / FS_HZ if e.size else np.zeros(0) for s, e in events.items()}
    fc = {s: e[:, 0] / FS_HZ if e.size else np.zeros(0) for s, e in events.items()}

    ic_t, ic_s = merge_sides(ic)
    fc_t, fc_s = merge_sides(fc)
    start, end = bouts[:, 0] / FS_HZ, bouts[:, 1] / FS_HZ
    empty = np.zeros((0, 3))
    return Trial(
        cohort,
        participant or f"{int(meta['Subject']):02d}",
        "walk",
        trial or str(meta["Trial"]),
        FS_HZ,
        empty,
        empty,
        start,
        end,
        np.full(start.size, np.nan),
        end - start,
        ic_t,
        ic_s,
        fc_t,
        fc_s,
        _height_m(meta),
    )


def _height_m(meta: dict[str, Any]) -> float:
    height = meta.get("Height")
    return float(height) / 100.0 if isinstance(height, (int, float)) and math.isfinite(height) else math.nan


def load_trial(json_path: Path) -> IpolTrial:
    meta = json.loads(json_path.read_text(encoding="utf-8"))
    raw = np.loadtxt(json_path.with_name(json_path.stem + "_lb.txt"), skiprows=2, delimiter="\t", ndmin=2)
    t = packet_time_s(raw[:, 0])
    keep = np.concatenate(([True], np.diff(t) > 0))  # a repeated packet is one sample
    bounds = np.asarray(meta["TrialBoundaries"], dtype=np.float64)
    turn = np.asarray(meta["UTurnBoundaries"], dtype=np.float64)
    whole = reference_trial(meta, bounds[None, :])
    straight = reference_trial(meta, np.array([[bounds[0], turn[0]], [turn[1], bounds[1]]]))
    return IpolTrial(whole, straight, t[keep], raw[keep, 1:4], raw[keep, 4:7], _height_m(meta))


def load_trials(data_dir: Path) -> list[IpolTrial]:
    paths = sorted(data_dir.glob("*-*.json"), key=lambda p: tuple(int(x) for x in p.stem.split("-")))
    return [load_trial(p) for p in paths]


def heel_strike_vertical_range(
    trial: IpolTrial, side: str | None = None, before_s: float = 0.1, after_s: float = 0.3
) -> float:
    """How much the trunk feels the heel strikes: the median over the reference heel strikes of straight walking
    (of one ``side``, or both) of the vertical acceleration's range (max − min, m/s²) from ``before_s`` before to
    ``after_s`` after each. Vertical = the mean acceleration over the first second (the protocol starts standing);
    NaN without ICs."""
    first = trial.acc_ms2[trial.t_s < 1.0]
    if first.shape[0] == 0:
        return math.nan
    up = first.mean(axis=0)
    vertical = trial.acc_ms2 @ (up / np.linalg.norm(up))
    ref = trial.straight
    ics = ref.ic_t_s[ref.in_bouts(ref.ic_t_s) & ((ref.ic_side == side) if side else True)]
    lo = np.searchsorted(trial.t_s, ics - before_s)
    hi = np.searchsorted(trial.t_s, ics + after_s, side="right")
    ranges = [np.ptp(vertical[a:b]) for a, b in zip(lo, hi, strict=True) if b - a >= 2]
    return float(np.median(ranges)) if ranges else math.nan


def import_session(trial: IpolTrial, workdir: Path) -> Session:
    """The trial's lower-back rows, with their packet time, imported as a pelvis-only session under
    ``workdir/ipol_<participant>_<trial>``, with a subject profile holding the stature (when known)."""
    ref = trial.reference
    name = f"ipol_{ref.participant}_{ref.trial}"
    csv = workdir / f"{name}.csv"
    cols = ("t_s", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")
    values = np.column_stack([trial.t_s, trial.acc_ms2, trial.gyr_rad_s])
    pacsv.write_csv(pa.table({c: values[:, i] for i, c in enumerate(cols)}), csv)
    spec = TableImportSpec(FS_HZ, cols[1:4], cols[4:7], "m/s2", "rad/s", time_col="t_s")
    root = workdir / name
    subject = f"ipol-{ref.participant}"
    height = trial.height_m if math.isfinite(trial.height_m) else None  # two participants have none
    save_profile(root, SubjectProfile(subject, height_m=height))
    return import_tables({"pelvis": csv}, spec, root, subject)


def run_ours(trial: IpolTrial, workdir: Path) -> tuple[Detection, float]:
    """Import the lower-back rows with their packet time as a pelvis-only session, process it; the detection and
    our walked distance over the trial boundaries (m, NaN without step lengths)."""
    ref = trial.reference
    empty = np.zeros(0)
    try:
        result = process_session(import_session(trial, workdir))
    except ImuGaitError as exc:
        return Detection(empty, empty.astype(str), empty, empty.astype(str), error=str(exc)), math.nan
    ev = result.events
    t = np.asarray(ev["t_s"].to_numpy(), dtype=np.float64)
    kind, side = np.asarray(ev["event"].to_pylist()), np.asarray(ev["side"].to_pylist())
    ic, fc = kind == "IC", kind == "FC"
    distance = math.nan
    st = result.strides
    if "step_length_m" in st.column_names:
        end = np.asarray(st["end_s"].to_numpy(), dtype=np.float64)
        length = np.asarray(st["step_length_m"].to_numpy(zero_copy_only=False), dtype=np.float64)
        speed = interval_speed(ref.wb_start_s, ref.wb_end_s, t[ic], end, length)
        distance = float(speed[0] * ref.wb_duration_s[0])
    det = Detection(t[ic], side[ic], t[fc], side[fc], label_alternation=label_alternation(result.quality))
    return det, distance


@dataclass(frozen=True)
class Outcome:
    participant: str
    whole: TrialScores
    straight: TrialScores
    distance_m: float
    detection: Detection


def _score_one(trial: IpolTrial) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="imugait-ipol-") as tmp:
        det, distance = run_ours(trial, Path(tmp))
    return Outcome(trial.participant, evaluate(trial.reference, det), evaluate(trial.straight, det), distance, det)


def run_all(trials: Sequence[IpolTrial], jobs: int) -> list[Outcome]:
    if jobs <= 1:
        return [_score_one(t) for t in trials]
    with ProcessPoolExecutor(max_workers=jobs) as pool_:
        return list(pool_.map(_score_one, trials, chunksize=4))


def by_participant(scores: Sequence[TrialScores], participants: Sequence[str]) -> list[TrialScores]:
    """One TrialScores per participant: that participant's trials pooled."""
    out = []
    for p in sorted(set(participants)):
        own = [s for s, q in zip(scores, participants, strict=True) if q == p]
        ic = {tol: pool([s.ic[tol] for s in own]) for tol in own[0].ic}
        fcs = [s.fc for s in own if s.fc is not None]
        out.append(TrialScores(f"participant {p} ({len(own)} trials)", ic, pool(fcs) if fcs else None, math.nan))
    return out


# ---- mobgap side by side (only with --mobgap, in .venv-bench) ------------------------------------------------------


def _body_frame(trial: IpolTrial, forward: np.ndarray, up: np.ndarray) -> Any:
    """The trial's lower-back data on the uniform grid in mobgap's body frame (is, ml = right, pa = forward)."""
    import pandas as pd

    grid = np.arange(0.0, trial.t_s[-1] + 0.5 / FS_HZ, 1.0 / FS_HZ)
    acc = np.column_stack([np.interp(grid, trial.t_s, trial.acc_ms2[:, k]) for k in range(3)])
    gyr = np.column_stack([np.interp(grid, trial.t_s, np.degrees(trial.gyr_rad_s[:, k])) for k in range(3)])
    right = np.cross(forward, up)
    rot = np.vstack([up, right, forward])  # rows: is, ml, pa in sensor coordinates
    acc_b, gyr_b = acc @ rot.T, gyr @ rot.T
    names = ("is", "ml", "pa")
    cols = {f"acc_{n}": acc_b[:, k] for k, n in enumerate(names)} | {
        f"gyr_{n}": gyr_b[:, k] for k, n in enumerate(names)
    }
    return pd.DataFrame(cols)


def mobgap_detections(trial: IpolTrial, forward: np.ndarray, up: np.ndarray) -> dict[str, Any]:
    """mobgap's IC detectors (+ LrcUllrich) on the trial interval, and its LRCs at the reference ICs."""
    import pandas as pd
    from mobgap.initial_contacts import IcdIonescu, IcdShinImproved
    from mobgap.laterality import LrcMansour, LrcMcCamley, LrcUllrich

    data = _body_frame(trial, forward, up)
    ref = trial.reference
    a, b = int(round(ref.wb_start_s[0] * FS_HZ)), int(round(ref.wb_end_s[0] * FS_HZ)) + 1
    part = data.iloc[a:b].reset_index(drop=True)
    out: dict[str, Any] = {}
    for name, icd in (("IcdIonescu+Ullrich", IcdIonescu), ("IcdShinImproved+Ullrich", IcdShinImproved)):
        ics = icd().detect(part, sampling_rate_hz=FS_HZ).ic_list_
        if len(ics) == 0:
            out[name] = Detection(np.zeros(0), np.zeros(0, dtype=str), np.zeros(0), np.zeros(0, dtype=str))
            continue
        lr = LrcUllrich().predict(part, ics, sampling_rate_hz=FS_HZ).ic_lr_list_
        t = (np.asarray(lr["ic"], dtype=np.float64) + a) / FS_HZ
        side = np.asarray(lr["lr_label"]).astype(str)
        out[name] = Detection(t, side, np.zeros(0), np.zeros(0, dtype=str))
    inside = ref.in_bouts(ref.ic_t_s)
    ref_ic = pd.DataFrame({"ic": np.round(ref.ic_t_s[inside] * FS_HZ).astype(int) - a})
    truth = ref.ic_side[inside]
    for name, lrc in (("LrcMcCamley", LrcMcCamley), ("LrcMansour", LrcMansour), ("LrcUllrich", LrcUllrich)):
        pred = np.asarray(lrc().predict(part, ref_ic, sampling_rate_hz=FS_HZ).ic_lr_list_["lr_label"]).astype(str)
        out[name] = float(np.mean(pred == truth)) if truth.size else math.nan
    return out


def known_axes(trial: IpolTrial) -> tuple[np.ndarray, np.ndarray]:
    """Up from gravity over the first standing second; forward from the pipeline's own pelvis alignment."""
    from pipeline.align import AlignConfig, align_pelvis

    up = trial.acc_ms2[: int(FS_HZ)].mean(axis=0)
    up /= np.linalg.norm(up)
    grid = np.arange(0.0, trial.t_s[-1], 1.0 / FS_HZ)
    acc = np.column_stack([np.interp(grid, trial.t_s, trial.acc_ms2[:, k]) for k in range(3)])
    gyr = np.column_stack([np.interp(grid, trial.t_s, np.degrees(trial.gyr_rad_s[:, k])) for k in range(3)])
    alignment = align_pelvis(acc, gyr, np.ones(grid.size, dtype=bool), FS_HZ, config=AlignConfig())
    forward = alignment.rotation[0] - up * (alignment.rotation[0] @ up)
    return forward / np.linalg.norm(forward), up


def compare_mobgap(console: Console, trials: Sequence[IpolTrial], ours: Sequence[Outcome]) -> list[list[str]]:
    warnings.filterwarnings("ignore", category=UserWarning)
    det: dict[str, list[TrialScores]] = {"IcdIonescu+Ullrich": [], "IcdShinImproved+Ullrich": []}
    lrc: dict[str, list[float]] = {"LrcMcCamley": [], "LrcMansour": [], "LrcUllrich": []}
    for trial in trials:
        forward, up = known_axes(trial)
        res = mobgap_detections(trial, forward, up)
        for name, scores in det.items():
            scores.append(evaluate(trial.reference, res[name], with_fc=False))
        for name, accuracies in lrc.items():
            accuracies.append(res[name])
    header = ("detector", "F1 ±0.5 (pooled)", "F1 ±0.25", "F1 ±0.1", "MAE ms", "bias ms", "lat acc")
    rows = [_pooled_row("imugait", [o.whole for o in ours])]
    rows += [_pooled_row(name, scores) for name, scores in det.items()]
    print_rows(console, f"mobgap side by side, {len(trials)} trials, pooled", header, rows)
    lrc_rows = [[name, f"{np.nanmean(v):.3f}"] for name, v in lrc.items()]
    print_rows(console, "mobgap laterality at the reference ICs (mean of trials)", ("LRC", "accuracy"), lrc_rows)
    return rows


def _pooled_row(name: str, scores: Sequence[TrialScores]) -> list[str]:
    ic = {tol: pool([s.ic[tol] for s in scores]) for tol in (0.5, 0.25, 0.1)}
    a = ic[0.5]
    return [
        name,
        f"{ic[0.5].f1:.3f}",
        f"{ic[0.25].f1:.3f}",
        f"{ic[0.1].f1:.3f}",
        f"{a.mean_abs_error_s * 1e3:.0f}",
        f"{a.mean_error_s * 1e3:+.0f}",
        f"{a.laterality_accuracy:.3f}",
    ]


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
            f"SKIPPED: no IPOL lower-back dataset found (--data {args.data}, ${DATA_ENV}). It is the GitHub "
            "repository CyrilVoisard/ipol_dataset_1 (AGPL-3.0); pass the folder holding GaitData/."
        )
        return 0
    trials = load_trials(data_dir)
    outcomes = run_all(trials, args.jobs)
    failed = [(t.reference.label, o.whole.error) for t, o in zip(trials, outcomes, strict=True) if o.whole.error]
    participants = [o.participant for o in outcomes]
    tables = []
    for label, pick in (
        ("whole trial", lambda o: o.whole),
        ("straight walking (U-turn left out)", lambda o: o.straight),
    ):
        scores = [pick(o) for o in outcomes]
        rows = summary_rows(by_participant(scores, participants))[:-2] + summary_rows(scores)[-2:]
        rows[-1][0] = "mean of trials (macro)"
        rows = [r[:10] for r in rows]
        title = (
            f"imugait pelvis-only vs foot-IMU reference, {len(trials)} trials, {len(set(participants))} people, {label}"
        )
        print_rows(console, title, HEADER[:10], rows)
        tables.append((title, rows))
    d = np.array([o.distance_m for o in outcomes])
    d = d[np.isfinite(d)]
    if d.size:
        q1, med, q3 = np.percentile(d, [25, 50, 75])
        console.print(
            f"distance over the trial boundaries (nominal {NOMINAL_DISTANCE_M:.0f} m): median {med:.1f} m, "
            f"IQR {q1:.1f}-{q3:.1f} m, {d.size} of {len(outcomes)} trials"
        )
    impact = np.array([heel_strike_vertical_range(t) for t in trials])
    q1, med, q3 = np.nanpercentile(impact, [25, 50, 75])
    console.print(
        f"vertical acceleration range at the reference heel strikes (straight walking, -0.1…+0.3 s; median per "
        f"trial): median {med:.1f} m/s², IQR {q1:.1f}-{q3:.1f}, min {np.nanmin(impact):.1f}"
    )
    alternation = np.array([o.detection.label_alternation for o in outcomes])
    alternation = alternation[np.isfinite(alternation)]
    if alternation.size:
        console.print(
            "pelvis-only label alternation (session quality pelvis.laterality_agreement): "
            f"min {alternation.min():.2f}, median {np.median(alternation):.2f}, {alternation.size} trials"
        )
    for label, err in failed:
        console.print(f"[red]{label}: pipeline failed: {err}[/red]")
    if args.mobgap:
        rows = compare_mobgap(console, trials, outcomes)
        tables.append(("mobgap side by side (pooled)", rows))
    if args.markdown:
        text = "\n\n".join(f"{title}\n\n" + markdown(HEADER[:10], rows) for title, rows in tables[:2])
        args.markdown.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

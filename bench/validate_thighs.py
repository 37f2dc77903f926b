"""Real recordings with foot-switch reference events: our thigh event detection on the Marpino walking dataset.

Data: the GitHub repository ``Marpino/Walking-dataset`` (no licence file: use it locally, never commit it), folder
``Dataset/{Elderly,Young}/*.xlsx``: one trial per workbook (first sheet), 35 trials (16 elderly, 19 young people)
of standing, walking about 5 m straight (3-6 strides per foot) and standing again, 10-39 s. Seven IMUs sampled at
100 Hz, one column block each, suffix ``_1`` right foot, ``_2`` right shank, ``_3`` right thigh, ``_4`` left
thigh, ``_5`` left shank, ``_6`` left foot (``_7`` back: not synchronised, not used). Column names carry spaces,
which are stripped. As checked on every trial: ``Acc_read_x/y/z`` are counts of 10⁻⁴ g (median thigh norm
1.00-1.02 g), ``Gyro_read_x/y/z`` counts of 0.01 deg/s (the dataset's README: ``gyro/100·π/180`` rad/s);
``Time_k`` is each sensor's time stamp in ms. The thigh stamps ``Time_3`` and ``Time_4`` step by exactly 10 ms and
are equal row by row, so each row is one 100 Hz sample of both thighs; the feet carry force-sensitive resistors,
``Ext2_1`` / ``Ext2_6`` under the heel and ``Ext1_1`` / ``Ext1_6`` under the toe (raw counts), stamped by
``Ext_time_k``, which runs 0-10 ms after the thigh stamps (the per-trial median offset is added to the reference
times; a few single stamps are corrupt, hence the median). The left foot IMU of some trials holds every sample
twice (50 Hz); the pressure channels do not.

Which direction is loaded: the counts *rise* with load. During walking each FSR alternates between a floor near
zero and peaks of 1500-3000 counts; the heel peak comes first, the toe peak after it, and the foot IMU's angular
rate is near zero (foot flat) exactly while the heel count is high; during quiet standing both feet read
intermediate counts (weight shared by two feet and by heel and toe).

Reference rule (the classic foot-switch reference; parameters fixed before our detector was run, never tuned
against it). Per FSR channel: a 3-sample running median (drops single-sample spikes, moves no edge); levels
``lo`` = 2nd and ``hi`` = 98th percentile over the whole trial (the walk is a small share of each recording, so the
swing floor and the single-support peaks lie in these tails); a Schmitt trigger marks the channel loaded when it
rises above ``lo + 0.30·(hi − lo)`` and unloaded when it falls below ``lo + 0.20·(hi − lo)``; loaded or unloaded
runs shorter than 0.10 s are merged into their surroundings (noise, heel bounce). Heel strike (IC) = the start of
a heel-loaded run, toe-off (FC) = the end of a toe-loaded run, each timed at the linearly interpolated crossing of
the middle level ``lo + 0.25·(hi − lo)`` next to the trigger. Walking segment: in straight walking the events
follow the cycle IC right → FC left → IC left → FC right → IC right; the segment is the longest run of events in
that order with no two consecutive events more than 1.0 s apart. Events outside it (weight shifts while standing,
gait initiation and termination, a broken pattern) are not reference events; their number within 1.5 s of the
segment is reported. Sanity checks on the segment (a trial failing any is left out, with the reason printed): at
least 3 ICs per side; ICs alternate sides (by construction); every step time (IC to the next contralateral IC)
in 0.4-0.9 s; every stance (IC to the same foot's FC) 50-75 % of its stride (normative 55-70 %, widened for slow
walkers). An FSR foot switch is not a force plate: the 25 % level makes the reference IC a little late and the
reference FC a little early (the FSR rises and falls over a few tens of ms), and a sensor placement under the
heel or toe changes this by some ms.

Our detections: each trial's thigh accelerometer (g) and gyroscope (deg/s) with its time column (s from the first
thigh sample, which is the session's origin and the reference's) go through :func:`pipeline.importer.import_tables`
into a thigh-only session and :func:`pipeline.run.process_session`, as a user's import; the sites are set from
the dataset's sensor numbering, so the side labels check the pipeline's own handling of the sides (without a
pelvis sensor the swap check is "unverifiable"; its verdict and the mounting report are printed).

Scoring (``pipeline.evaluation``): per side, each kind (IC, FC) is scored against the reference events of that side
and kind inside the walking segment ``[first, last reference event]``; detections may pair with them up to the
tolerance outside the segment, but an unpaired detection counts as a false positive only inside it (the events
just before and after the segment are real but unreferenced). One-to-one pairing; F1 at ±0.5, ±0.25 and ±0.1 s;
signed timing error (detected − reference; + = late) of the ±0.5 s pairs as bias ± SD, and its mean absolute
value. "both" pools the two sides (micro). Side check: all ICs of both sides matched without regard to side at
±0.25 s (half a step); the share of pairs whose detected side is the reference side.

Clock check: for each reference IC, the time of the largest ``|Δ²‖a‖|`` (the heel-strike transient) of the foot,
shank and thigh IMU of that side within ±0.2 s, minus the IC. The foot IMU shares its housing with the FSRs, so a
median near zero there says the pressure and IMU stamps agree. ``--trim-s X`` (diagnostic) imports only the
reference walking segment ± X s: the recordings hold 5-30 s of quiet standing around a 5-7 s walk, and this shows
how much that matters to the detector (the segment comes from the reference, so it is not a user's setting).

``--held-out`` scores ``Dataset/Additional/{Marzia,LongDistance,Disability}/*.xlsx`` instead (:data:`ADDITIONAL`:
the dataset author's own walks, straight and in laps of a rectangle and a circle, a corridor walk, and a walker on
sticks), with the same reference rule, grouped by the heading change over the walk (:func:`heading_change_deg`).
Nothing in the pipeline was chosen on these walks.

Needs ``openpyxl`` to read the workbooks (not a project dependency: ``.venv/bin/pip install openpyxl``).

Usage::

    .venv/bin/python bench/validate_thighs.py --data /tmp/datasets/marpino_walking_dataset
    .venv/bin/python bench/validate_thighs.py --data /tmp/datasets/marpino_walking_dataset --trim-s 2
    .venv/bin/python bench/validate_thighs.py --data /tmp/datasets/marpino_walking_dataset --held-out
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from event_scoring import fmt as _f
from event_scoring import score_window, side_offset
from event_scoring import timing_cells as _timing
from numpy.typing import NDArray
from rich.console import Console
from scipy.ndimage import median_filter
from validate_real import print_rows

from pipeline.errors import ImuGaitError
from pipeline.evaluation import EventScores, match_events, pool, score_events
from pipeline.importer import TableImportSpec, import_tables
from pipeline.run import PipelineConfig, process_session
from pipeline.schemas import TURNS
from pipeline.store import read_table
from pipeline.subjects import SubjectProfile, save_profile

DATA_ENV = "MARPINO_DATA_DIR"
COHORTS = ("Young", "Elderly")
#: ``Dataset/Additional/<folder>``: the dataset author's own walks (5 m straight, a 5 × 3 m rectangle and a 3.6 m
#: circle; a corridor) and a walker with leg muscular atrophy on sticks and leg braces. Never used to choose anything
#: in the pipeline; scored with ``--held-out``.
ADDITIONAL = ("Marzia", "LongDistance", "Disability")
#: Held-out walks are grouped by the heading change over the reference walking segment: at or above this, "with turns".
TURNING_DEG = 45.0
STANDING_GAP_S = 1.0  # the thighs' gyroscope bias and vertical are taken up to this long before the walk starts
FS_HZ = 100.0
ACC_G_PER_COUNT = 1e-4
GYR_DPS_PER_COUNT = 1e-2
THIGH = {"right": 3, "left": 4}  # sensor suffix per side
FOOT = {"right": 1, "left": 6}
SEGMENTS = {"foot": FOOT, "shank": {"right": 2, "left": 5}, "thigh": THIGH}
CLOCK_WINDOW_S = 0.2
HEEL, TOE = "Ext2", "Ext1"
SIDES = ("left", "right")
KINDS = ("IC", "FC")
TOLERANCES_S = (0.5, 0.25, 0.1)
LATERALITY_TOLERANCE_S = 0.25

# Reference rule (fixed a priori, see the module docstring).
MEDIAN_SAMPLES = 3
LEVEL_PERCENTILES = (2.0, 98.0)
ON_FRACTION, EVENT_FRACTION, OFF_FRACTION = 0.30, 0.25, 0.20
MIN_RUN_S = 0.10
MAX_EVENT_GAP_S = 1.0
NEAR_S = 1.5
# Sanity checks of the reference.
MIN_IC_PER_SIDE = 3
STEP_RANGE_S = (0.4, 0.9)
STANCE_RANGE = (0.50, 0.75)

# The gait cycle's event order in straight walking: (kind, side) → the next (kind, side).
NEXT_EVENT = {
    ("IC", "right"): ("FC", "left"),
    ("FC", "left"): ("IC", "left"),
    ("IC", "left"): ("FC", "right"),
    ("FC", "right"): ("IC", "right"),
}

FloatArray = NDArray[np.float64]


# ---- data -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarpinoTrial:
    """One workbook: both thighs on their time stamps and the four foot pressure channels on the same rows."""

    cohort: str
    name: str
    thigh_t_s: dict[str, FloatArray]  # per side, s from the first thigh sample (the session origin)
    acc_g: dict[str, FloatArray]  # per side, (n, 3)
    gyr_dps: dict[str, FloatArray]
    heel: dict[str, FloatArray]  # per side, raw FSR counts per row
    toe: dict[str, FloatArray]
    row_t0_s: float  # session time of row 0
    pressure_offset_s: dict[str, float]  # per side: median Ext_time − Time_3, added to the row time
    segment_acc: dict[tuple[str, str], tuple[FloatArray, FloatArray]]  # (segment, side) → (stamp s, ‖a‖ g)

    @property
    def label(self) -> str:
        return f"{self.cohort}/{self.name}"


def find_data_dir(data: Path | None) -> Path | None:
    """The ``Dataset`` folder (holding ``Young/`` and ``Elderly/``) under ``data`` or ``data`` itself, or None."""
    if data is None:
        return None
    for candidate in (data / "Dataset", data):
        if any(any((candidate / c).glob("*.xlsx")) for c in COHORTS if (candidate / c).is_dir()):
            return candidate
    return None


def trial_paths(data_dir: Path, held_out: bool = False) -> list[Path]:
    """The Young and Elderly workbooks, or with ``held_out`` those of ``Additional/``'s folders."""
    if held_out:
        return [p for c in ADDITIONAL for p in sorted((data_dir / "Additional" / c).glob("*.xlsx"))]
    return [p for c in COHORTS for p in sorted((data_dir / c).glob("*.xlsx"))]


def workbooks(console: Console, data_dir: Path, held_out: bool) -> list[Path]:
    """:func:`trial_paths`, or none (with a SKIPPED line saying why) without openpyxl or without those workbooks."""
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        console.print("SKIPPED: reading the .xlsx workbooks needs openpyxl (.venv/bin/pip install openpyxl)")
        return []
    paths = trial_paths(data_dir, held_out)
    if not paths:
        console.print(f"SKIPPED: no workbooks under {data_dir / 'Additional'} ({', '.join(ADDITIONAL)})")
    return paths


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def read_sheet(path: Path, wanted: Sequence[str]) -> dict[str, FloatArray]:
    """The wanted columns of the workbook's first sheet (names stripped of spaces), as floats (NaN: not numeric)."""
    import openpyxl  # type: ignore[import-untyped]

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows)]
        missing = [w for w in wanted if w not in header]
        if missing:
            raise ValueError(f"{path}: no column(s) {', '.join(missing)}")
        idx = [header.index(w) for w in wanted]
        values = [[_float(r[i]) if i < len(r) else math.nan for i in idx] for r in rows]
    finally:
        book.close()
    table = np.asarray(values, dtype=np.float64).reshape(-1, len(wanted))
    return {w: table[:, j] for j, w in enumerate(wanted)}


def load_trial(path: Path) -> MarpinoTrial:
    wanted = []
    for k in THIGH.values():
        wanted += [f"Time_{k}"] + [f"Acc_read_{a}_{k}" for a in "xyz"] + [f"Gyro_read_{a}_{k}" for a in "xyz"]
    for k in FOOT.values():
        wanted += [f"Ext_time_{k}", f"{HEEL}_{k}", f"{TOE}_{k}"]
    for k in (1, 2, 5, 6):
        wanted += [f"Time_{k}"] + [f"Acc_read_{a}_{k}" for a in "xyz"]
    c = read_sheet(path, wanted)
    stamps = {side: c[f"Time_{k}"] for side, k in THIGH.items()}
    origin = min(float(np.nanmin(t)) for t in stamps.values())
    right_stamp = stamps["right"]
    n = right_stamp.size
    if not np.allclose(np.diff(right_stamp), 1e3 / FS_HZ):
        raise ValueError(f"{path}: right thigh stamps do not step by {1e3 / FS_HZ:g} ms; rows are not samples")
    return MarpinoTrial(
        cohort=path.parent.name,
        name=path.stem,
        thigh_t_s={s: (t - origin) / 1e3 for s, t in stamps.items()},
        acc_g={s: np.column_stack([c[f"Acc_read_{a}_{k}"] for a in "xyz"]) * ACC_G_PER_COUNT for s, k in THIGH.items()},
        gyr_dps={
            s: np.column_stack([c[f"Gyro_read_{a}_{k}"] for a in "xyz"]) * GYR_DPS_PER_COUNT for s, k in THIGH.items()
        },
        heel={s: c[f"{HEEL}_{k}"] for s, k in FOOT.items()},
        toe={s: c[f"{TOE}_{k}"] for s, k in FOOT.items()},
        row_t0_s=(float(right_stamp[0]) - origin) / 1e3,
        pressure_offset_s={s: float(np.nanmedian(c[f"Ext_time_{k}"] - right_stamp[:n])) / 1e3 for s, k in FOOT.items()},
        segment_acc={
            (seg, s): (
                (c[f"Time_{k}"] - origin) / 1e3,
                np.linalg.norm(np.column_stack([c[f"Acc_read_{a}_{k}"] for a in "xyz"]), axis=1) * ACC_G_PER_COUNT,
            )
            for seg, ks in SEGMENTS.items()
            for s, k in ks.items()
        },
    )


# ---- reference ------------------------------------------------------------------------------------------------------


def _runs(state: NDArray[np.bool_]) -> list[tuple[int, int, bool]]:
    edges = np.concatenate(([0], np.flatnonzero(np.diff(state.astype(np.int8))) + 1, [state.size]))
    return [(int(a), int(b), bool(state[a])) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def loaded_edges(counts: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Loading onsets and offsets (fractional rows) of one FSR channel by the reference rule."""
    x = median_filter(np.nan_to_num(counts, nan=float(np.nanmedian(counts))), MEDIAN_SAMPLES, mode="nearest")
    lo, hi = np.percentile(x, LEVEL_PERCENTILES)
    span = hi - lo
    if span <= 0:
        return np.zeros(0), np.zeros(0)
    on, off, level = lo + ON_FRACTION * span, lo + OFF_FRACTION * span, lo + EVENT_FRACTION * span
    state = np.zeros(x.size, dtype=bool)
    loaded = bool(x[0] > on)
    for i, v in enumerate(x):  # Schmitt trigger
        if loaded and v < off:
            loaded = False
        elif not loaded and v > on:
            loaded = True
        state[i] = loaded
    min_run = int(round(MIN_RUN_S * FS_HZ))
    for value in (False, True):  # short gaps first, then short loaded runs
        for a, b, v in _runs(state):
            if v == value and b - a < min_run and a > 0 and b < state.size:
                state[a:b] = not value
    onsets, offsets = [], []
    for a, _, v in _runs(state)[1:]:  # a transition at row a
        if v:  # rising: the last row at or below the event level before a, then interpolate
            k = a - 1
            while k > 0 and x[k] > level:
                k -= 1
            onsets.append(k + (level - x[k]) / (x[k + 1] - x[k]) if x[k + 1] != x[k] else float(k))
        else:  # falling: the last row above the event level before a
            k = a - 1
            while k > 0 and x[k] <= level:
                k -= 1
            offsets.append(k + (x[k] - level) / (x[k] - x[k + 1]) if x[k + 1] != x[k] else float(k))
    return np.asarray(onsets), np.asarray(offsets)


@dataclass(frozen=True)
class Reference:
    """Reference events of one trial (session time, s) inside its walking segment, and the sanity verdict."""

    ic_t_s: FloatArray
    ic_side: NDArray[np.str_]
    fc_t_s: FloatArray
    fc_side: NDArray[np.str_]
    start_s: float
    end_s: float
    n_near_dropped: int
    problems: tuple[str, ...]
    step_s: FloatArray = field(default_factory=lambda: np.zeros(0))
    stance: FloatArray = field(default_factory=lambda: np.zeros(0))

    def times(self, kind: str, side: str | None = None) -> FloatArray:
        t, s = (self.ic_t_s, self.ic_side) if kind == "IC" else (self.fc_t_s, self.fc_side)
        return t if side is None else t[s == side]


def _walking_segment(events: list[tuple[float, str, str]]) -> tuple[int, int]:
    """[a, b) of the longest run of events in gait-cycle order with gaps of at most MAX_EVENT_GAP_S."""
    best, i = (0, 0), 0
    while i < len(events):
        j = i
        while (
            j + 1 < len(events)
            and NEXT_EVENT[(events[j][2], events[j][1])] == (events[j + 1][2], events[j + 1][1])
            and events[j + 1][0] - events[j][0] <= MAX_EVENT_GAP_S
        ):
            j += 1
        if j + 1 - i > best[1] - best[0]:
            best = (i, j + 1)
        i = j + 1
    return best


def reference_events(trial: MarpinoTrial) -> Reference:
    events: list[tuple[float, str, str]] = []
    for side in SIDES:
        shift = trial.row_t0_s + trial.pressure_offset_s[side]
        heel_on, _ = loaded_edges(trial.heel[side])
        _, toe_off = loaded_edges(trial.toe[side])
        events += [(shift + r / FS_HZ, side, "IC") for r in heel_on]
        events += [(shift + r / FS_HZ, side, "FC") for r in toe_off]
    events.sort()
    a, b = _walking_segment(events)
    seg = events[a:b]
    empty = np.zeros(0)
    if not seg:
        return Reference(empty, empty.astype(str), empty, empty.astype(str), math.nan, math.nan, 0, ("no events",))
    start, end = seg[0][0], seg[-1][0]
    near = sum(1 for e in events[:a] + events[b:] if start - NEAR_S <= e[0] <= end + NEAR_S)
    t = np.array([e[0] for e in seg])
    sides = np.array([e[1] for e in seg])
    kind = np.array([e[2] for e in seg])
    ic, fc = kind == "IC", kind == "FC"
    problems = []
    for name in SIDES:
        n_ic = int((ic & (sides == name)).sum())
        if n_ic < MIN_IC_PER_SIDE:
            problems.append(f"{n_ic} {name} ICs in the walking segment (< {MIN_IC_PER_SIDE})")
    step = np.diff(t[ic])  # ICs alternate sides by construction of the segment
    bad_step = step[(step < STEP_RANGE_S[0]) | (step > STEP_RANGE_S[1])]
    if bad_step.size:
        problems.append(
            f"step time(s) {', '.join(f'{v:.2f}' for v in bad_step)} s outside {STEP_RANGE_S[0]}-{STEP_RANGE_S[1]} s"
        )
    stance = []
    for s in SIDES:
        ics, fcs = t[ic & (sides == s)], t[fc & (sides == s)]
        for x, y in zip(ics[:-1], ics[1:], strict=True):
            f = fcs[(fcs > x) & (fcs < y)]
            if f.size == 1:
                stance.append((f[0] - x) / (y - x))
    stance_a = np.asarray(stance)
    bad = stance_a[(stance_a < STANCE_RANGE[0]) | (stance_a > STANCE_RANGE[1])]
    if bad.size:
        problems.append(
            f"stance {', '.join(f'{100 * v:.0f}' for v in bad)} % of the stride, outside "
            f"{100 * STANCE_RANGE[0]:.0f}-{100 * STANCE_RANGE[1]:.0f} %"
        )
    return Reference(t[ic], sides[ic], t[fc], sides[fc], start, end, near, tuple(problems), step, stance_a)


# ---- our detections -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Detection:
    t_s: FloatArray
    side: NDArray[np.str_]
    kind: NDArray[np.str_]
    source: NDArray[np.str_]
    quality: dict[str, Any]
    error: str = ""
    strides: pa.Table | None = None  # the session's stride table (``derived/strides.arrow``)
    turns: pa.Table | None = None  # its turns (``derived/turns.arrow``; from the thighs' heading here)

    def times(self, kind: str, side: str | None = None) -> FloatArray:
        sel = self.kind == kind
        if side is not None:
            sel &= self.side == side
        return np.asarray(self.t_s[sel], dtype=np.float64)


def run_ours(
    trial: MarpinoTrial,
    workdir: Path,
    keep_s: tuple[float, float] | None = None,
    *,
    height_m: float | None = None,
    config: PipelineConfig | None = None,
) -> Detection:
    """Import both thighs (g, deg/s, time in s) as a thigh-only session and process it with the public pipeline.

    ``keep_s``: import only the samples in this interval (``--trim-s``); the session origin is then its first
    sample, and the event times are moved back to the trial's time. ``height_m``: the walker's stature, kept in
    the subject profile before processing (the strides then carry step lengths).
    """
    cols = ("t_s", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")
    files = {}
    origin = 0.0
    if keep_s is not None:
        origin = min(float(t[t >= keep_s[0]][0]) for t in trial.thigh_t_s.values())
    for side in SIDES:
        csv = workdir / f"{trial.cohort}_{trial.name}_{side}_thigh.csv"
        values = np.column_stack([trial.thigh_t_s[side], trial.acc_g[side], trial.gyr_dps[side]])
        if keep_s is not None:
            values = values[(values[:, 0] >= keep_s[0]) & (values[:, 0] <= keep_s[1])]
        pacsv.write_csv(pa.table({c: values[:, i] for i, c in enumerate(cols)}), csv)
        files[f"{side}_thigh"] = csv
    spec = TableImportSpec(FS_HZ, cols[1:4], cols[4:7], "g", "deg/s", time_col="t_s")
    empty = np.zeros(0)
    subject = f"marpino-{trial.cohort}-{trial.name}"
    if height_m is not None:
        save_profile(workdir / "sessions", SubjectProfile(subject, height_m=height_m))
    try:
        session = import_tables(files, spec, workdir / "sessions", subject)
        result = process_session(session, config=config or PipelineConfig())
    except ImuGaitError as exc:
        s = empty.astype(str)
        return Detection(empty, s, s, s, {}, error=str(exc))
    ev = result.events
    return Detection(
        np.asarray(ev["t_s"].to_numpy(), dtype=np.float64) + origin,
        np.asarray(ev["side"].to_pylist()).astype(str),
        np.asarray(ev["event"].to_pylist()).astype(str),
        np.asarray(ev["source"].to_pylist()).astype(str),
        dict(result.quality),
        strides=result.strides,
        turns=read_table(session.path / "derived" / "turns.arrow", TURNS),
    )


def clock_lags(trial: MarpinoTrial, ref: Reference) -> dict[str, FloatArray]:
    """Per segment (foot, shank, thigh): for each reference IC, the time of the largest ``|Δ²‖a‖|`` of that side's
    IMU within ±``CLOCK_WINDOW_S`` minus the IC (s). The heel strike transient peaks first at the foot, whose IMU
    shares its housing with the FSRs: a constant offset here would mean the reference and the IMUs disagree in
    time."""
    out = {}
    for seg in SEGMENTS:
        lags = []
        for side in SIDES:
            t, norm = trial.segment_acc[(seg, side)]
            d2 = np.zeros_like(norm)
            d2[2:] = np.abs(norm[2:] - 2.0 * norm[1:-1] + norm[:-2])
            for ic in ref.times("IC", side):
                near = np.flatnonzero(np.abs(t - ic) <= CLOCK_WINDOW_S)
                if near.size:
                    lags.append(t[near[np.argmax(d2[near])]] - ic)
        out[seg] = np.asarray(lags)
    return out


# ---- scoring --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    trial: MarpinoTrial
    reference: Reference
    detection: Detection | None  # None: reference failed, pipeline not scored
    scores: dict[tuple[str, str, float], EventScores] = field(default_factory=dict)  # (kind, side, tol)
    laterality: EventScores | None = None
    clock: dict[str, FloatArray] = field(default_factory=dict)
    heading_deg: float = math.nan  # heading change over the walking segment (:func:`heading_change_deg`)

    @property
    def ok(self) -> bool:
        return self.detection is not None and not self.detection.error

    @property
    def group(self) -> str:
        """The cohort of a Young/Elderly trial; a held-out walk's course: straight, or with turns."""
        if self.trial.cohort in COHORTS:
            return self.trial.cohort
        return "with turns" if abs(self.heading_deg) >= TURNING_DEG else "straight"


def heading_change_deg(trial: MarpinoTrial, ref: Reference) -> float:
    """How far the walker turned over the walking segment, deg (+ = to the left), from the thighs alone.

    Each thigh's angular rate, less its mean while standing before the walk (gyroscope bias), is projected on that
    standing vertical and integrated over the segment; the two thighs are averaged. The thighs tilt ±20-30° in the
    sagittal plane while walking, so this under-reads a lap, unevenly between the legs; it is meant only to tell a
    straight walk (|Δ| < 30° here) from a lap of a rectangle or circle (150-340°). NaN without 0.5 s of standing.
    """
    turned = []
    for side in SIDES:
        t, acc, gyr = trial.thigh_t_s[side], trial.acc_g[side], trial.gyr_dps[side]
        still = t < ref.start_s - STANDING_GAP_S
        if still.sum() < FS_HZ / 2:
            return math.nan
        up = np.nanmean(acc[still], axis=0)
        rate = (gyr - np.nanmean(gyr[still], axis=0)) @ (up / np.linalg.norm(up))
        inside = (t >= ref.start_s) & (t <= ref.end_s)
        turned.append(float(np.nansum(rate[inside])) / FS_HZ)
    return float(np.mean(turned))


def evaluate(trial: MarpinoTrial, ref: Reference, det: Detection) -> Outcome:
    scores = {}
    for kind in KINDS:
        for side in SIDES:
            for tol in TOLERANCES_S:
                scores[(kind, side, tol)] = score_window(
                    det.times(kind, side), ref.times(kind, side), ref.start_s, ref.end_s, tol
                )
    ic = det.kind == "IC"
    inside = ic & (det.t_s >= ref.start_s - LATERALITY_TOLERANCE_S) & (det.t_s <= ref.end_s + LATERALITY_TOLERANCE_S)
    laterality = score_events(
        det.t_s[inside],
        ref.ic_t_s,
        tolerance_s=LATERALITY_TOLERANCE_S,
        detected_side=det.side[inside],
        reference_side=ref.ic_side,
    )
    return Outcome(trial, ref, det, scores, laterality, clock_lags(trial, ref), heading_change_deg(trial, ref))


def process_one(path: Path, trim_s: float | None = None) -> Outcome:
    trial = load_trial(path)
    ref = reference_events(trial)
    if ref.problems:
        return Outcome(trial, ref, None)
    keep = None if trim_s is None else (ref.start_s - trim_s, ref.end_s + trim_s)
    with tempfile.TemporaryDirectory(prefix="imugait-marpino-") as tmp:
        det = run_ours(trial, Path(tmp), keep)
    if det.error:
        return Outcome(trial, ref, det)
    return evaluate(trial, ref, det)


def run_all(paths: Sequence[Path], jobs: int, trim_s: float | None = None) -> list[Outcome]:
    work = partial(process_one, trim_s=trim_s)
    if jobs <= 1:
        return [work(p) for p in paths]
    with ProcessPoolExecutor(max_workers=jobs) as pool_:
        return list(pool_.map(work, paths))


# ---- tables ---------------------------------------------------------------------------------------------------------


def _both(o: Outcome, kind: str, tol: float) -> EventScores:
    return pool([o.scores[(kind, side, tol)] for side in SIDES])


TRIAL_HEADER = (
    "trial",
    "ref IC L/R",
    "ref FC L/R",
    "IC F1 ±0.5/0.25/0.1",
    "IC bias ± SD ms",
    "IC MAE ms",
    "FC F1 ±0.5/0.25/0.1",
    "FC bias ± SD ms",
    "FC MAE ms",
    "side acc",
    "IC rules L | R",
    "heading change °",
)


def _rules(q: dict[str, Any], side: str) -> str:
    rules = q.get(f"{side}_thigh.event_rules", {})
    short = {"IC impact": "imp"}
    parts = []
    for name, n in rules.items():
        if name.startswith("IC") and n:
            key = short.get(name, "gyro-cal" if "calibrated" in name else "gyro")
            parts.append(f"{key} {n}")
    return ", ".join(parts) or "-"


def trial_rows(outcomes: Sequence[Outcome]) -> list[list[str]]:
    rows = []
    for o in outcomes:
        if not o.ok:
            continue
        ref = o.reference
        cells = [o.trial.label]
        for kind in KINDS:
            cells.append("/".join(str(ref.times(kind, s).size) for s in SIDES))
        for kind in KINDS:
            both = {tol: _both(o, kind, tol) for tol in TOLERANCES_S}
            cells.append("/".join(_f(both[t].f1, "{:.2f}") for t in TOLERANCES_S))
            cells += _timing(both[0.5])
        assert o.laterality is not None
        assert o.detection is not None
        cells.append(_f(o.laterality.laterality_accuracy, "{:.2f}"))
        q = o.detection.quality
        cells.append(f"{_rules(q, 'left')} | {_rules(q, 'right')}")
        cells.append(_f(o.heading_deg, "{:+.0f}"))
        rows.append(cells)
    return rows


POOLED_HEADER = (
    "group",
    "side",
    "kind",
    "trials",
    "ref",
    "det",
    "F1 ±0.5",
    "F1 ±0.25",
    "F1 ±0.1",
    "bias ± SD ms",
    "MAE ms",
    "median err ms",
)


def pooled_rows(outcomes: Sequence[Outcome]) -> list[list[str]]:
    rows = []
    for group in (*dict.fromkeys(o.group for o in outcomes if o.ok), "all"):
        mine = [o for o in outcomes if o.ok and group in ("all", o.group)]
        if not mine:
            continue
        for kind in KINDS:
            for side in (*SIDES, "both"):
                sides = SIDES if side == "both" else (side,)
                tol_scores = {t: pool([o.scores[(kind, s, t)] for o in mine for s in sides]) for t in TOLERANCES_S}
                a = tol_scores[0.5]
                rows.append(
                    [
                        group,
                        side,
                        kind,
                        str(len(mine)),
                        str(a.n_reference),
                        str(a.n_detected),
                        *(_f(tol_scores[t].f1, "{:.3f}") for t in TOLERANCES_S),
                        *_timing(a),
                        _f(a.median_error_s * 1e3, "{:+.0f}"),
                    ]
                )
    return rows


POSITION_HEADER = ("ICs of each leg", "pairs", "bias ± SD ms", "MAE ms", "|error| > 100 ms")


def position_rows(outcomes: Sequence[Outcome]) -> list[list[str]]:
    """IC timing by where the step sits in the walk: each leg's first IC (gait initiation), its last (termination)
    and the others (steady walking, what the session metrics use: bout edges are not steady strides)."""
    errors: dict[str, list[float]] = {"first": [], "last": [], "others": []}
    for o in outcomes:
        if not o.ok or o.detection is None:
            continue
        for side in SIDES:
            ref = o.reference.times("IC", side)
            m = match_events(o.detection.times("IC", side), ref, tolerance_s=0.5)
            for r, e in zip(m.reference, m.error_s, strict=True):
                where = "first" if r == 0 else "last" if r == ref.size - 1 else "others"
                errors[where].append(float(e) * 1e3)
    rows = []
    for where, e in errors.items():
        x = np.asarray(e)
        if not x.size:
            continue
        rows.append(
            [
                where,
                str(x.size),
                f"{x.mean():+.0f} ± {x.std():.0f}",
                f"{np.abs(x).mean():.0f}",
                f"{int((np.abs(x) > 100).sum())} ({(np.abs(x) > 100).mean():.0%})",
            ]
        )
    return rows


def paired_errors(o: Outcome, kind: str, side: str, tolerance_s: float = 0.5) -> tuple[NDArray[np.int64], FloatArray]:
    """The pairs of one side and kind exactly as :func:`score_window` makes them (detections in the walking segment
    ± the tolerance, one-to-one): each pair's reference index within that side and kind (time order) and its error,
    detected − reference (s)."""
    assert o.detection is not None
    ref = o.reference
    det = o.detection.times(kind, side)
    det = det[(det >= ref.start_s - tolerance_s) & (det <= ref.end_s + tolerance_s)]
    m = match_events(det, ref.times(kind, side), tolerance_s=tolerance_s)
    return m.reference, m.error_s


@dataclass(frozen=True)
class WalkOffsets:
    """Per walk with at least 2 pairs on each side: the right − left difference of the mean contact error, the SD
    of single errors around each side's mean, and the right − left per-side clock shift of the reference."""

    cohort: NDArray[np.str_]  # (walks,)
    right_minus_left_s: FloatArray  # (walks,)
    within_sd_s: FloatArray  # (walks, 2): left, right
    clock_right_minus_left_s: FloatArray  # (walks,): pressure_offset_s right − left
    n_pairs: NDArray[np.int64]  # (walks, 2): left, right


def walk_offsets(outcomes: Sequence[Outcome], kind: str, steady: bool) -> WalkOffsets:
    """``steady``: without each leg's first and last reference contact of the kind (gait initiation and termination,
    see :func:`position_rows`; the session metrics use steady strides only)."""
    cohort, diff, within, clock, n = [], [], [], [], []
    for o in outcomes:
        if not o.ok:
            continue
        per_side = []
        for side in SIDES:
            index, error = paired_errors(o, kind, side)
            if steady:
                error = error[(index > 0) & (index < o.reference.times(kind, side).size - 1)]
            per_side.append(error)
        offset = side_offset(*per_side)
        if offset is None:
            continue
        cohort.append(o.trial.cohort)
        diff.append(offset[0])
        within.append(offset[1:])
        clock.append(o.trial.pressure_offset_s["right"] - o.trial.pressure_offset_s["left"])
        n.append([e.size for e in per_side])
    return WalkOffsets(
        np.asarray(cohort, dtype=str),
        np.asarray(diff, dtype=np.float64),
        np.asarray(within, dtype=np.float64).reshape(-1, 2),
        np.asarray(clock, dtype=np.float64),
        np.asarray(n, dtype=np.int64).reshape(-1, 2),
    )


def _mean_sd_ms(x: FloatArray) -> str:
    sd = float(np.std(x, ddof=1)) * 1e3 if x.size > 1 else math.nan
    return f"{_f(float(np.mean(x)) * 1e3 if x.size else math.nan, '{:+.0f}')} ± {_f(sd, '{:.0f}')}"


OFFSET_HEADER = (
    "group",
    "contact",
    "contacts",
    "walks",
    "pairs L/R",
    "right − left mean error per walk, ms (mean ± SD)",
    "single contacts within a walk-side, SD ms (median)",
    "per-side offset SD, ms (= SD / √2)",
    "right − left, reference on the thigh row clock, ms (mean ± SD)",
)


def offset_rows(outcomes: Sequence[Outcome]) -> list[list[str]]:
    """Per walk: each side's mean contact error (the scored ±0.5 s pairs); its right − left difference across walks
    against the spread of single contacts around their walk-side mean (what a bootstrap over strides sees), as
    ``bench/validate_symmetry.py`` does for pelvis-only sessions. Last column: the same difference with both sides'
    reference on the thigh row time, without the per-side FSR stamp offset (``pressure_offset_s``)."""
    walks = {(kind, steady): walk_offsets(outcomes, kind, steady) for kind in KINDS for steady in (True, False)}
    rows = []
    for group in (*COHORTS, "all"):
        for kind in KINDS:
            for steady in (True, False):
                w = walks[(kind, steady)]
                mine = (w.cohort == group) | (group == "all")
                d = w.right_minus_left_s[mine]
                if not d.size:
                    continue
                sd = float(np.std(d, ddof=1)) * 1e3 if d.size > 1 else math.nan
                rows.append(
                    [
                        group,
                        kind,
                        "steady" if steady else "all paired",
                        str(d.size),
                        "/".join(str(v) for v in w.n_pairs[mine].sum(axis=0)),
                        _mean_sd_ms(d),
                        _f(float(np.median(w.within_sd_s[mine])) * 1e3, "{:.0f}"),
                        _f(sd / math.sqrt(2.0), "{:.0f}"),
                        _mean_sd_ms(d + w.clock_right_minus_left_s[mine]),
                    ]
                )
    return rows


def per_side_clock(console: Console, outcomes: Sequence[Outcome]) -> None:
    """The per-side shift of the reference onto the thigh timeline (median ``Ext_time − Time_3`` of each foot)."""
    ok = [o for o in outcomes if o.ok]
    shift = Counter(
        f"R {1e3 * o.trial.pressure_offset_s['right']:+.0f} / L {1e3 * o.trial.pressure_offset_s['left']:+.0f} ms"
        for o in ok
    )
    uneven = [o.trial.label for o in ok if o.trial.pressure_offset_s["right"] != o.trial.pressure_offset_s["left"]]
    console.print(
        f"per-side reference clock (median Ext_time − Time_3 per foot, added to the reference): "
        f"{', '.join(f'{k}: {n} trials' for k, n in sorted(shift.items()))}; sides shifted unequally: "
        f"{', '.join(uneven) or 'none'}"
    )


TURN_HEADER = (
    "folder",
    "group",
    "turns per walk",
    "walks",
    "turn angle ° median (range)",
    "turn duration s median",
    "walk's total ° median (range)",
)


def _median_range(x: FloatArray) -> str:
    return f"{np.median(x):+.0f} ({x.min():+.0f} … {x.max():+.0f})" if x.size else "n/a"


def turn_rows(outcomes: Sequence[Outcome]) -> list[list[str]]:
    """The pipeline's turns (≥ 45°, from the thighs' heading: these sessions have no pelvis) over each whole
    recording, by folder, group and how many turns a walk has. A lap of a closed course is 360°; the ends of a 5 × 3 m
    rectangle (two corners 3 m apart) are 180° each."""
    by: dict[tuple[str, str, int], list[pa.Table]] = {}
    for o in outcomes:
        if o.ok and o.detection is not None and o.detection.turns is not None:
            by.setdefault((o.trial.cohort, o.group, o.detection.turns.num_rows), []).append(o.detection.turns)
    rows = []
    for (folder, group, n), tables in sorted(by.items()):
        angle = np.concatenate([np.asarray(t["angle_deg"].to_numpy(), dtype=np.float64) for t in tables])
        duration = np.concatenate([np.asarray(t["duration_s"].to_numpy(), dtype=np.float64) for t in tables])
        total = np.array([float(np.sum(t["angle_deg"].to_numpy())) for t in tables])
        rows.append(
            [
                folder,
                group,
                str(n),
                str(len(tables)),
                _median_range(angle),
                f"{np.median(duration):.1f}" if duration.size else "n/a",
                _median_range(total),
            ]
        )
    return rows


def side_check(console: Console, outcomes: Sequence[Outcome]) -> None:
    ok = [o for o in outcomes if o.ok]
    lat = [o.laterality for o in ok if o.laterality is not None]
    pooled = pool(lat) if lat else None
    wrong = [o.trial.label for o in ok if o.laterality is not None and o.laterality.laterality_accuracy < 0.5]
    verdicts = Counter(str(o.detection.quality.get("thigh_swap_check")) for o in ok if o.detection is not None)
    swapped = [o.trial.label for o in ok if o.detection is not None and o.detection.quality.get("thighs_swapped")]
    console.print(
        f"side check: {pooled.n_lateral if pooled else 0} ICs paired without regard to side at "
        f"±{LATERALITY_TOLERANCE_S} s, detected side = reference side in "
        f"{_f(pooled.laterality_accuracy if pooled else math.nan, '{:.3f}')}; trials with most sides wrong: "
        f"{', '.join(wrong) or 'none'}"
    )
    console.print(
        f"pipeline swap check: {dict(verdicts)}; corrected as swapped: {', '.join(swapped) or 'none'}"
        " (thigh-only sessions: the check needs a pelvis sensor)"
    )
    mount: Counter[str] = Counter()
    for o in ok:
        assert o.detection is not None
        for side in SIDES:
            m = o.detection.quality.get(f"{side}_thigh.mounting", {})
            if isinstance(m, dict) and m:
                mount[
                    f"{side}: up {m.get('up')}, forward {m.get('forward')}, upside_down {m.get('upside_down')}, "
                    f"low_conf {m.get('low_confidence')}"
                ] += 1
    for text, n in sorted(mount.items()):
        console.print(f"  mounting {text}: {n} trials")


def reference_summary(console: Console, outcomes: Sequence[Outcome]) -> None:
    passed = [o for o in outcomes if not o.reference.problems]
    n_ic = sum(o.reference.ic_t_s.size for o in passed)
    n_fc = sum(o.reference.fc_t_s.size for o in passed)
    steps = np.concatenate([o.reference.step_s for o in passed] + [np.full(1, np.nan)])
    stance = np.concatenate([o.reference.stance for o in passed] + [np.full(1, np.nan)])
    folders = Counter(o.trial.cohort for o in passed)
    console.print(
        f"reference: {len(passed)} of {len(outcomes)} trials pass the sanity checks "
        f"({', '.join(f'{c} {n}' for c, n in folders.items())}): {n_ic} ICs, {n_fc} FCs; step time median "
        f"{_f(float(np.nanmedian(steps)), '{:.2f}')} s ({_f(float(np.nanmin(steps)), '{:.2f}')}-"
        f"{_f(float(np.nanmax(steps)), '{:.2f}')}), stance median {_f(100 * float(np.nanmedian(stance)), '{:.0f}')} % "
        "of the stride"
    )
    near = [(o.trial.label, o.reference.n_near_dropped) for o in passed if o.reference.n_near_dropped]
    if near:
        console.print(
            f"  events within {NEAR_S} s of the walking segment but outside it (initiation/termination, not scored): "
            + ", ".join(f"{label} {n}" for label, n in near)
        )
    for o in outcomes:
        if o.reference.problems:
            console.print(f"[yellow]{o.trial.label}: reference left out: {'; '.join(o.reference.problems)}[/yellow]")


def clock_check(console: Console, outcomes: Sequence[Outcome]) -> None:
    parts = []
    for seg in SEGMENTS:
        lags = [o.clock[seg] for o in outcomes if o.clock]
        x = np.concatenate(lags) * 1e3 if lags else np.zeros(0)
        if x.size:
            q1, med, q3 = np.percentile(x, [25, 50, 75])
            parts.append(f"{seg} {med:+.0f} ms (IQR {q1:+.0f} to {q3:+.0f})")
    console.print(
        "clock check, largest |Δ²‖a‖| within ±0.2 s of each reference IC minus the IC, median: " + "; ".join(parts)
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get(DATA_ENV)
    parser.add_argument("--data", type=Path, default=Path(env) if env else None, help=f"default: ${DATA_ENV}")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--held-out",
        action="store_true",
        help="score the walks of Dataset/Additional instead (laps of a rectangle and a circle, a corridor, a walker "
        "on sticks), grouped into straight walks and walks with turns; nothing in the pipeline was chosen on them",
    )
    parser.add_argument(
        "--trim-s",
        type=float,
        help="diagnostic: import only the reference walking segment ± this many seconds (the recordings hold "
        "long quiet standing; this shows how much it matters)",
    )
    args = parser.parse_args(argv)
    console = Console(width=220)
    data_dir = find_data_dir(args.data)
    if data_dir is None:
        console.print(
            f"SKIPPED: no Marpino walking dataset found (--data {args.data}, ${DATA_ENV}). It is the GitHub "
            "repository Marpino/Walking-dataset (no licence file: local use only); pass the folder holding "
            "Dataset/{Young,Elderly}/*.xlsx."
        )
        return 0
    paths = workbooks(console, data_dir, args.held_out)
    if not paths:
        return 0
    outcomes = run_all(paths, args.jobs, args.trim_s)
    if args.held_out:
        console.print(
            f"[bold]held-out walks (Dataset/Additional): grouped by the thighs' heading change over the walk, "
            f"'with turns' at |Δ| ≥ {TURNING_DEG:g}°[/bold]"
        )
    if args.trim_s is not None:
        console.print(
            f"[bold]--trim-s {args.trim_s:g}: thighs imported over the reference segment "
            f"± {args.trim_s:g} s only[/bold]"
        )
    reference_summary(console, outcomes)
    scored = [o for o in outcomes if o.ok]
    print_rows(
        console,
        f"imugait thigh events vs foot-switch reference, per trial ({len(scored)} trials, both sides pooled)",
        TRIAL_HEADER,
        trial_rows(outcomes),
    )
    print_rows(console, "pooled (micro) over trials", POOLED_HEADER, pooled_rows(outcomes))
    print_rows(console, "IC timing by position in the walk (pairs at ±0.5 s)", POSITION_HEADER, position_rows(outcomes))
    print_rows(
        console,
        "per-walk left/right offset of thigh contacts (pairs at ±0.5 s; walks with ≥ 2 pairs on each side; steady: "
        "each leg's first and last contact left out)",
        OFFSET_HEADER,
        offset_rows(outcomes),
    )
    if args.held_out:
        print_rows(
            console,
            "turns the pipeline lists (≥ 45°, from the thighs' heading), whole recordings",
            TURN_HEADER,
            turn_rows(outcomes),
        )
    per_side_clock(console, outcomes)
    side_check(console, outcomes)
    clock_check(console, outcomes)
    failed = [o for o in outcomes if o.detection is not None and o.detection.error]
    for o in failed:
        assert o.detection is not None
        console.print(f"[red]{o.trial.label}: pipeline failed: {o.detection.error}[/red]")
    console.print(f"pipeline failed on {len(failed)} of {len(failed) + len(scored)} trials with a valid reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())

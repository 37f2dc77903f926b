"""Real recordings with reference events: our pelvis-only pipeline on mobgap's Mobilise-D lab example data.

Data: mobgap's ``example_data`` (Mobilise-D TVS lab recordings of HA/001, HA/002 and MS/001, 3 trials each; one
lower-back IMU at 100 Hz, ``data.mat``; INDIP reference walking bouts with initial and final contacts, their side
and the walking speed). It is not shipped with imugait: pass ``--data`` (the ``example_data`` folder) or set
``MOBGAP_DATA_DIR``. Without it the script prints why and exits 0 (CI has no copy).

Path. Each trial's lower-back accelerometer (g) and gyroscope (deg/s) go through :func:`pipeline.importer.
import_tables` into a pelvis-only session and :func:`pipeline.run.process_session`, exactly as a user's import.

Scoring (as mobgap's ICD validation, reference §0/§5): only reference walking bouts count. Detected and reference
events inside any INDIP ``ContinuousWalkingPeriod`` ``[Start, End]`` (detections: widened by one sample, see
``EDGE_MARGIN_SAMPLES``; ``--edge-margin-samples 0`` for the strict rule) are paired one-to-one within the tolerance
(``pipeline.evaluation``); F1 at ±0.5 s (mobgap's published tolerance), ±0.25 s and ±0.1 s; mean absolute and
signed timing error of the ±0.5 s pairs; laterality accuracy on those pairs; final contacts likewise at ±0.5 s.
Walking speed: a subject profile is written from the participant's ``infoForAlgo.mat`` (stature; the sensor
height, which mobgap also uses as the Zijlstra pendulum length) before processing, so the pipeline reports speed.
"session speed err": the pipeline's session speed (``walking_speed_m_s``: mean over valid, steady strides, turns
and pauses excluded) minus the duration-weighted mean INDIP bout speed; "speed err": the duration-weighted mean of
our per-bout speeds minus the same mean of the reference (as mobgap's pipeline is scored); "bout speed MAE": per
INDIP bout, the mean speed of our strides inside the bout against the bout's ``WalkingSpeed``, which INDIP defines
as the mean of the bout's stride speeds (pooled = over all bouts; macro = mean of per-trial MAEs). A second table
splits the bout speed into cadence and stride length, each as INDIP defines it, and compares our bouts.arrow speed
(distance over time, ``pipeline.spatial.interval_speed``) with INDIP's ``Length`` / ``Duration``. Until 2026-11-21
this bench compared that distance-over-time speed with ``WalkingSpeed``: two definitions, whose difference (pauses
count in one, not the other) happened to offset our long step lengths in slow bouts; the table prints that figure
as "mixed". "pooled" sums counts over trials (micro); "mean of trials" averages per-trial scores (macro, as
mobgap's published figures). A third table scores walking speed as mobgap's "matched" figures are scored
(:func:`matched_bout_rows`): the pipeline's own walking bouts (session quality ``bouts``) matched to INDIP's at
80 % overlap both ways, matched pairs only.

Pelvis alignment check (:func:`alignment_check`): the Mobilise-D lower-back sensor is worn with a known mounting
(mobgap ``consts.INITIAL_MOBILISED_ORIENTATION`` and ``utils.conversions.to_body_frame``: sensor x → ``is``
(superior), y → ``ml``, z → ``pa`` (anterior), with ``is × ml = pa``, so ``ml`` = sensor +y points to the
*right*). The true segment axes are then: up = gravity (the same estimate :func:`pipeline.align.align_pelvis` uses),
forward = sensor +z and left = −y, both projected onto the horizontal plane. Per trial: the angle between
align_pelvis's forward/left axes and the true ones (> 90° = sign flipped), and the mean per-stride (INDIP same-side
IC to IC, inside the reference bouts) pelvic obliquity and tilt ranges with our alignment vs with the true axes.

Usage::

    .venv/bin/python bench/validate_real.py --data /tmp/mobgap_example/example_data
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import scipy.io as sio
from rich.console import Console
from rich.table import Table

from pipeline.align import AlignConfig, Alignment, G, align_pelvis
from pipeline.errors import ImuGaitError
from pipeline.evaluation import EventScores, in_intervals, match_intervals, per_trial_mean, pool, score_events
from pipeline.importer import TableImportSpec, import_tables
from pipeline.orientation import OrientationConfig, pelvis_angles
from pipeline.run import process_session
from pipeline.spatial import interval_means, interval_speed, walking_strides
from pipeline.store import Session
from pipeline.subjects import SubjectProfile, save_profile

DATA_ENV = "MOBGAP_DATA_DIR"
TOLERANCES_S = (0.5, 0.25, 0.1)
# INDIP bouts start and end on a reference IC, so a detection that hits an edge IC to within a sample would be
# dropped or kept by float round-off: detections within this many samples of a bout edge count as inside.
EDGE_MARGIN_SAMPLES = 1
SPEED_METRICS = ("walking_speed_m_s", "speed_m_s", "gait_speed_m_s")


@dataclass(frozen=True)
class Trial:
    """One lab trial: lower-back IMU and INDIP reference (times in seconds from the first sample)."""

    cohort: str
    participant: str
    test: str
    trial: str
    fs_hz: float
    acc_g: np.ndarray  # (n, 3)
    gyr_dps: np.ndarray  # (n, 3)
    wb_start_s: np.ndarray
    wb_end_s: np.ndarray
    wb_speed_m_s: np.ndarray
    wb_duration_s: np.ndarray
    ic_t_s: np.ndarray
    ic_side: np.ndarray  # "left" / "right"
    fc_t_s: np.ndarray
    fc_side: np.ndarray
    height_m: float = math.nan  # infoForAlgo.mat Height (cm → m)
    sensor_height_m: float = math.nan  # infoForAlgo.mat SensorHeight: lower-back sensor above the floor (cm → m)
    wb_mean_stride_speed_m_s: np.ndarray = field(default_factory=lambda: np.zeros(0))  # mean of Stride_Speed
    wb_length_m: np.ndarray = field(default_factory=lambda: np.zeros(0))  # the bout's Length
    wb_cadence_spm: np.ndarray = field(default_factory=lambda: np.zeros(0))  # Cadence: mean of 120 / Stride_Duration
    wb_stride_length_m: np.ndarray = field(default_factory=lambda: np.zeros(0))  # AverageStrideLength
    wb_mean_stride_cadence_spm: np.ndarray = field(default_factory=lambda: np.zeros(0))  # mean 120 / Stride_Duration
    wb_mean_stride_length_m: np.ndarray = field(default_factory=lambda: np.zeros(0))  # mean of Stride_Length

    @property
    def label(self) -> str:
        return f"{self.cohort}/{self.participant} {self.test} {self.trial}"

    @property
    def reference_speed_m_s(self) -> float:
        """Duration-weighted mean INDIP walking speed over the trial's reference bouts."""
        ok = np.isfinite(self.wb_speed_m_s) & np.isfinite(self.wb_duration_s)
        if not ok.any():
            return math.nan
        return float(np.average(self.wb_speed_m_s[ok], weights=self.wb_duration_s[ok]))

    def in_bouts(self, t_s: np.ndarray, margin_s: float = 0.0) -> np.ndarray:
        """Mask of times inside a reference walking bout ``[Start − margin, End + margin]``."""
        return in_intervals(t_s, self.wb_start_s - margin_s, self.wb_end_s + margin_s, closed=True)


def find_lab_dir(data: Path | None) -> Path | None:
    """The ``data/lab`` folder under an ``example_data`` folder (or the folder itself), or None."""
    if data is None:
        return None
    for candidate in (data / "data" / "lab", data / "lab", data):
        if any(candidate.glob("*/*/data.mat")):
            return candidate
    return None


def _flat(value: Any) -> np.ndarray:
    return np.atleast_1d(np.asarray(value))


def _events(wbs: Sequence[Any], kind: str) -> tuple[np.ndarray, np.ndarray]:
    times = [_flat(getattr(wb, f"{kind}_Event")).astype(np.float64) for wb in wbs]
    sides = [np.char.lower(_flat(getattr(wb, f"{kind}_LeftRight")).astype(str)) for wb in wbs]
    t = np.concatenate(times) if times else np.zeros(0)
    s = np.concatenate(sides) if sides else np.zeros(0, dtype=str)
    keep = np.isfinite(t)
    # An event listed twice (bouts share it, or the INDIP repeats it) is one reference event.
    _, first = np.unique(t[keep], return_index=True)
    return t[keep][first], s[keep][first]


def _nanmean(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float(np.nanmean(x)) if np.isfinite(x).any() else math.nan


def reference_speed_definition(trials: Sequence[Trial]) -> str:
    """How INDIP's bout ``WalkingSpeed`` is defined, checked on the data: against the mean of the bout's
    ``Stride_Speed`` and against its ``Length`` / ``Duration`` (what "bout speed" would mean as distance over time)."""
    ws = np.concatenate([t.wb_speed_m_s for t in trials])
    mean_stride = np.concatenate([t.wb_mean_stride_speed_m_s for t in trials])
    over_time = np.concatenate([t.wb_length_m / t.wb_duration_s for t in trials])
    if ws.size == 0 or mean_stride.size != ws.size or over_time.size != ws.size:
        return "INDIP WalkingSpeed: no bouts with stride speeds to check its definition on"
    d_stride, d_time = np.abs(ws - mean_stride), np.abs(ws - over_time)
    same = int(np.sum(d_stride < 5e-4))
    line = (
        f"INDIP bout WalkingSpeed = mean of the bout's Stride_Speed in {same} of {ws.size} bouts "
        f"(max |Δ| {np.nanmax(d_stride):.4f} m/s); bout Length / Duration differs from it by "
        f"mean |Δ| {np.nanmean(d_time):.3f} m/s (max {np.nanmax(d_time):.3f})"
    )
    for name, given, mean, tol in (
        ("Cadence = mean of 120 / Stride_Duration", "wb_cadence_spm", "wb_mean_stride_cadence_spm", 0.05),
        ("AverageStrideLength = mean of Stride_Length", "wb_stride_length_m", "wb_mean_stride_length_m", 5e-4),
    ):
        a = np.concatenate([getattr(t, given) for t in trials])
        b = np.concatenate([getattr(t, mean) for t in trials])
        if a.size == ws.size and b.size == ws.size:
            line += f"; {name} in {int(np.sum(np.abs(a - b) < tol))} of {ws.size}"
    return line


def load_anthropometry(participant_dir: Path) -> tuple[float, float]:
    """Height and lower-back sensor height (m) from ``infoForAlgo.mat`` (first time measure), NaN when missing.

    mobgap's loader reads the same fields (``Height``, ``SensorHeight`` in cm) and passes ``SensorHeight / 100`` as
    the inverted-pendulum length of its Zijlstra step length.
    """
    path = participant_dir / "infoForAlgo.mat"
    if not path.is_file():
        return math.nan, math.nan
    info = sio.loadmat(str(path), squeeze_me=True, struct_as_record=False)["infoForAlgo"]
    tm = getattr(info, info._fieldnames[0])
    height, sensor = (float(getattr(tm, name, math.nan)) / 100.0 for name in ("Height", "SensorHeight"))
    return height, sensor


def indip_bouts(lab_dir: Path, trial: Trial) -> list[Any]:
    """The trial's INDIP ``ContinuousWalkingPeriod`` structs (every field, e.g. per-stride values and turns)."""
    data = sio.loadmat(
        str(lab_dir / trial.cohort / trial.participant / "data.mat"),
        squeeze_me=True,
        struct_as_record=False,
        mat_dtype=True,
    )["data"]
    for tm_name in data._fieldnames:
        test = getattr(getattr(data, tm_name), trial.test, None)
        found = getattr(test, trial.trial, None) if test is not None else None
        if found is not None:
            return list(_flat(found.Standards.INDIP.ContinuousWalkingPeriod))
    return []


def load_trials(lab_dir: Path) -> list[Trial]:
    """Every trial with a lower-back IMU and INDIP reference bouts (``ContinuousWalkingPeriod``)."""
    trials = []
    for path in sorted(lab_dir.glob("*/*/data.mat")):
        cohort, participant = path.parent.parent.name, path.parent.name
        height_m, sensor_height_m = load_anthropometry(path.parent)
        data = sio.loadmat(str(path), squeeze_me=True, struct_as_record=False, mat_dtype=True)["data"]
        for tm_name in data._fieldnames:
            tm = getattr(data, tm_name)
            for test_name in tm._fieldnames:
                test = getattr(tm, test_name)
                for trial_name in test._fieldnames:
                    tr = getattr(test, trial_name)
                    indip = getattr(getattr(tr, "Standards", None), "INDIP", None)
                    lower_back = getattr(getattr(tr, "SU", None), "LowerBack", None)
                    if indip is None or lower_back is None or not hasattr(indip, "ContinuousWalkingPeriod"):
                        continue
                    wbs = list(_flat(indip.ContinuousWalkingPeriod))
                    ic_t, ic_s = _events(wbs, "InitialContact")
                    fc_t, fc_s = _events(wbs, "FinalContact")
                    trials.append(
                        Trial(
                            cohort,
                            participant,
                            test_name,
                            trial_name,
                            float(lower_back.Fs.Acc),
                            np.asarray(lower_back.Acc, dtype=np.float64),
                            np.asarray(lower_back.Gyr, dtype=np.float64),
                            np.array([float(wb.Start) for wb in wbs]),
                            np.array([float(wb.End) for wb in wbs]),
                            np.array([float(wb.WalkingSpeed) for wb in wbs]),
                            np.array([float(wb.Duration) for wb in wbs]),
                            ic_t,
                            ic_s,
                            fc_t,
                            fc_s,
                            height_m,
                            sensor_height_m,
                            np.array([_nanmean(_flat(wb.Stride_Speed)) for wb in wbs]),
                            np.array([float(wb.Length) for wb in wbs]),
                            np.array([float(wb.Cadence) for wb in wbs]),
                            np.array([float(wb.AverageStrideLength) for wb in wbs]),
                            np.array([_nanmean(120.0 / _flat(wb.Stride_Duration)) for wb in wbs]),
                            np.array([_nanmean(_flat(wb.Stride_Length)) for wb in wbs]),
                        )
                    )
    return trials


@dataclass(frozen=True)
class Detection:
    """Events of one trial (seconds from the first sample), the session speed and the speed over each reference
    bout (NaN where the detector gives none; empty when it gives no speed at all)."""

    ic_t_s: np.ndarray
    ic_side: np.ndarray
    fc_t_s: np.ndarray
    fc_side: np.ndarray
    speed_m_s: float = math.nan
    error: str = ""
    # Per reference bout, each as INDIP defines it (a mean over the strides in the bout): walking speed, cadence
    # (steps/min) and stride length; and the bout's distance over its time (our ``derived/bouts.arrow`` speed).
    bout_speed_m_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bout_cadence_spm: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bout_stride_length_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bout_distance_speed_m_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # The detector's own walking bouts (s) and the walking speed of each (the mean of its stride speeds), for the
    # bout matching behind mobgap's published errors (:func:`matched_bout_rows`).
    own_bout_start_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    own_bout_end_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    own_bout_speed_m_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # The share of regular consecutive pelvis-only contacts whose labels alternate (session quality
    # ``pelvis.laterality_agreement``); NaN when the detector gives none.
    label_alternation: float = math.nan


def speed_over(start_s: np.ndarray, end_s: np.ndarray, a_s: np.ndarray, b_s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Time-weighted mean of piecewise speeds ``v`` on ``[a_s, b_s)`` over each interval ``[start_s, end_s]``.

    Each piece counts with its overlap with the interval; NaN speeds are skipped; NaN where nothing overlaps.
    """
    ok = np.isfinite(v) & (b_s > a_s)
    a, b, v = a_s[ok], b_s[ok], v[ok]
    overlap = np.clip(np.minimum(b[None, :], end_s[:, None]) - np.maximum(a[None, :], start_s[:, None]), 0.0, None)
    weight = overlap.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight > 0, (overlap * v[None, :]).sum(axis=1) / weight, np.nan)


def bout_stride_means(
    start_s: np.ndarray,
    end_s: np.ndarray,
    stride_start_s: np.ndarray,
    stride_end_s: np.ndarray,
    stride_time_s: np.ndarray,
    stride_length_m: np.ndarray,
    stride_speed_m_s: np.ndarray,
    margin_s: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per interval ``[start_s, end_s]`` (widened by ``margin_s``), INDIP's bout definitions on our strides (those
    that lie inside it): mean stride speed, mean cadence 120 / stride time (steps/min) and mean stride length, each
    over the strides that have the value (:func:`pipeline.spatial.interval_means`, the rule our bouts use). Strides
    that span a stop (:func:`pipeline.spatial.walking_strides`) are left out, as INDIP leaves strides over a break
    without values. NaN where no stride has the value."""
    walking = walking_strides(stride_time_s) & (stride_time_s > 0)

    def means(values: np.ndarray) -> np.ndarray:
        kept = np.where(walking, values, np.nan)
        return interval_means(start_s, end_s, stride_start_s, stride_end_s, kept, margin_s=margin_s)

    with np.errstate(divide="ignore", invalid="ignore"):
        cadence = 120.0 / stride_time_s
    return means(stride_speed_m_s), means(cadence), means(stride_length_m)


def subject_id(trial: Trial) -> str:
    return f"{trial.cohort}-{trial.participant}"


def write_profile(trial: Trial, root: Path, *, sensor_height: bool = True) -> None:
    """The participant's profile from ``infoForAlgo.mat``: stature, and the sensor height as pendulum length
    (left out with ``sensor_height=False``: the pipeline then estimates it from the stature, as for a user who
    did not measure it)."""
    height = trial.height_m if math.isfinite(trial.height_m) else None
    sensor = trial.sensor_height_m if math.isfinite(trial.sensor_height_m) and sensor_height else None
    save_profile(root, SubjectProfile(subject_id(trial), height_m=height, pelvis_sensor_height_m=sensor))


def import_trial(trial: Trial, workdir: Path, *, sensor_height: bool = True) -> Session:
    """The trial's lower-back IMU imported as a pelvis-only session under ``workdir/sessions``, with the
    participant's subject profile (:func:`write_profile`)."""
    csv = workdir / f"{trial.cohort}_{trial.participant}_{trial.test}_{trial.trial}.csv"
    cols = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")
    values = np.column_stack([trial.acc_g, trial.gyr_dps])
    pacsv.write_csv(pa.table({c: values[:, i] for i, c in enumerate(cols)}), csv)
    spec = TableImportSpec(trial.fs_hz, cols[:3], cols[3:], "g", "deg/s")
    write_profile(trial, workdir / "sessions", sensor_height=sensor_height)
    return import_tables({"pelvis": csv}, spec, workdir / "sessions", subject_id(trial))


def run_ours(trial: Trial, workdir: Path, *, sensor_height: bool = True) -> Detection:
    """Import the trial's lower-back IMU as a pelvis-only session (with the participant's subject profile, so the
    pipeline computes walking speed) and process it with the public pipeline.

    Per reference bout, as INDIP defines its bout values: the means of our strides' speed, cadence and length
    over the strides inside the bout (:func:`bout_stride_means`, turns included as in the INDIP bout); and the
    bout's distance over time, :func:`pipeline.spatial.interval_speed` (mean step length × cadence from every IC),
    the definition of our ``derived/bouts.arrow`` speed, to compare with INDIP's ``Length`` / ``Duration``.
    """
    empty = np.zeros(0)
    try:
        result = process_session(import_trial(trial, workdir, sensor_height=sensor_height))
    except ImuGaitError as exc:
        return Detection(empty, empty.astype(str), empty, empty.astype(str), error=str(exc))
    ev = result.events
    t = np.asarray(ev["t_s"].to_numpy(), dtype=np.float64)
    kind, side = np.asarray(ev["event"].to_pylist()), np.asarray(ev["side"].to_pylist())
    summary = result.summary
    speed = math.nan
    for metric, s, value in zip(*(summary[c].to_pylist() for c in ("metric", "side", "value")), strict=True):
        if metric in SPEED_METRICS and s == "both" and value is not None:
            speed = float(value)
    ic, fc = kind == "IC", kind == "FC"
    st = {c: np.asarray(result.strides[c].to_numpy(zero_copy_only=False)) for c in result.strides.column_names}
    f64 = {c: np.asarray(st[c], dtype=np.float64) for c in ("start_s", "end_s", "stride_time_s")}
    length, stride_length, stride_speed = (
        np.asarray(st[c], dtype=np.float64) for c in ("step_length_m", "stride_length_m", "speed_m_s")
    )
    speed_b, cadence_b, length_b = bout_stride_means(
        trial.wb_start_s,
        trial.wb_end_s,
        f64["start_s"],
        f64["end_s"],
        f64["stride_time_s"],
        stride_length,
        stride_speed,
        EDGE_MARGIN_SAMPLES / trial.fs_hz,
    )
    distance_speed = interval_speed(trial.wb_start_s, trial.wb_end_s, t[ic], f64["end_s"], length)
    own = np.asarray(result.quality.get("bouts", []), dtype=np.float64).reshape(-1, 2)
    own_speed, _, _ = bout_stride_means(
        own[:, 0], own[:, 1], f64["start_s"], f64["end_s"], f64["stride_time_s"], stride_length, stride_speed
    )
    return Detection(
        t[ic],
        side[ic],
        t[fc],
        side[fc],
        speed,
        "",
        speed_b,
        cadence_b,
        length_b,
        distance_speed,
        own[:, 0],
        own[:, 1],
        own_speed,
        label_alternation(result.quality),
    )


def label_alternation(quality: Mapping[str, Any]) -> float:
    """``pelvis.laterality_agreement`` of a session's quality record, NaN when absent."""
    value = quality.get("pelvis.laterality_agreement")
    return float(value) if isinstance(value, int | float) else math.nan


def score_trial(
    trial: Trial, det: Detection, tolerance_s: float, kind: str = "IC", edge_margin_samples: int = EDGE_MARGIN_SAMPLES
) -> EventScores:
    """Score detections inside the reference walking bouts (widened by ``edge_margin_samples`` samples) against
    the reference events of ``kind`` inside them."""
    if kind == "IC":
        t, side, ref_t, ref_side = det.ic_t_s, det.ic_side, trial.ic_t_s, trial.ic_side
    else:
        t, side, ref_t, ref_side = det.fc_t_s, det.fc_side, trial.fc_t_s, trial.fc_side
    keep, ref_keep = trial.in_bouts(t, edge_margin_samples / trial.fs_hz), trial.in_bouts(ref_t)
    return score_events(
        t[keep],
        ref_t[ref_keep],
        tolerance_s=tolerance_s,
        detected_side=side[keep],
        reference_side=ref_side[ref_keep],
    )


@dataclass(frozen=True)
class TrialScores:
    """All figures of one trial for one detector."""

    label: str
    ic: dict[float, EventScores]  # by tolerance
    fc: EventScores | None  # ±0.5 s; None when the detector gives no final contacts
    speed_err_m_s: float  # duration-weighted mean of the per-bout speeds − the same mean of the reference
    error: str = ""
    session_speed_err_m_s: float = math.nan  # the detector's own session speed − the reference trial speed
    bout_speed_err_m_s: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per reference bout, NaN: none
    bout_cadence_err_spm: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bout_stride_length_err_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bout_distance_speed_err_m_s: np.ndarray = field(default_factory=lambda: np.zeros(0))  # vs Length / Duration
    bout_cross_definition_err_m_s: np.ndarray = field(default_factory=lambda: np.zeros(0))  # distance speed − WS
    n_own_bouts: int = 0  # the detector's own walking bouts
    matched_bout_speed_err_m_s: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per matched bout pair
    matched_bout_reference: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # its INDIP bout
    # mobgap's "combined" figure: the median of the detector's own bout speeds − the median of the reference's
    combined_speed_err_m_s: float = math.nan

    @property
    def bout_speed_mae_m_s(self) -> float:
        e = self.bout_speed_err_m_s[np.isfinite(self.bout_speed_err_m_s)]
        return float(np.abs(e).mean()) if e.size else math.nan


def evaluate(
    trial: Trial, det: Detection, *, with_fc: bool = True, edge_margin_samples: int = EDGE_MARGIN_SAMPLES
) -> TrialScores:
    ic = {tol: score_trial(trial, det, tol, "IC", edge_margin_samples) for tol in TOLERANCES_S}
    fc = score_trial(trial, det, 0.5, "FC", edge_margin_samples) if with_fc else None

    def err(ours: np.ndarray, ref: np.ndarray) -> np.ndarray:
        return ours - ref if ours.size and ours.size == ref.size else np.zeros(0)

    bout_err = err(det.bout_speed_m_s, trial.wb_speed_m_s)
    over_time = trial.wb_length_m / trial.wb_duration_s if trial.wb_length_m.size else np.zeros(0)
    speed_err = math.nan
    if bout_err.size:
        ok = np.isfinite(bout_err) & np.isfinite(trial.wb_duration_s)
        speed_err = float(np.average(bout_err[ok], weights=trial.wb_duration_s[ok])) if ok.any() else math.nan
    session_err = det.speed_m_s - trial.reference_speed_m_s
    matched, matched_ref = np.zeros(0), np.zeros(0, dtype=np.int64)
    if det.own_bout_start_s.size and trial.wb_start_s.size:
        m = match_intervals(det.own_bout_start_s, det.own_bout_end_s, trial.wb_start_s, trial.wb_end_s)
        matched, matched_ref = det.own_bout_speed_m_s[m.detected] - trial.wb_speed_m_s[m.reference], m.reference
    own = det.own_bout_speed_m_s[np.isfinite(det.own_bout_speed_m_s)]
    ref_speeds = trial.wb_speed_m_s[np.isfinite(trial.wb_speed_m_s)]
    combined = float(np.median(own) - np.median(ref_speeds)) if own.size and ref_speeds.size else math.nan
    return TrialScores(
        trial.label,
        ic,
        fc,
        speed_err,
        det.error,
        session_err,
        bout_err,
        err(det.bout_cadence_spm, trial.wb_cadence_spm),
        err(det.bout_stride_length_m, trial.wb_stride_length_m),
        err(det.bout_distance_speed_m_s, over_time),
        err(det.bout_distance_speed_m_s, trial.wb_speed_m_s),
        int(det.own_bout_start_s.size),
        matched,
        matched_ref,
        combined,
    )


def _f(value: float, spec: str) -> str:
    return "n/a" if not math.isfinite(value) else spec.format(value)


HEADER = (
    "trial",
    "ref ICs",
    "F1 ±0.5 s",
    "F1 ±0.25 s",
    "F1 ±0.1 s",
    "MAE ms",
    "bias ms",
    "lat acc",
    "FC F1 ±0.5 s",
    "FC MAE ms",
    "session speed err m/s",
    "speed err m/s",
    "bout speed MAE m/s",
)


def summary_rows(scores: Sequence[TrialScores]) -> list[list[str]]:
    """Per-trial rows, then pooled (micro) and mean-of-trials (macro) rows."""

    def row(
        label: str, ic: dict[float, EventScores], fc: EventScores | None, session: float, speed: float, bout_mae: float
    ) -> list[str]:
        a = ic[0.5]
        return [
            label,
            str(a.n_reference),
            *(_f(ic[t].f1, "{:.3f}") for t in TOLERANCES_S),
            _f(a.mean_abs_error_s * 1e3, "{:.0f}"),
            _f(a.mean_error_s * 1e3, "{:+.0f}"),
            _f(a.laterality_accuracy, "{:.3f}"),
            _f(fc.f1, "{:.3f}") if fc else "n/a",
            _f(fc.mean_abs_error_s * 1e3, "{:.0f}") if fc else "n/a",
            _f(session, "{:+.3f}"),
            _f(speed, "{:+.3f}"),
            _f(bout_mae, "{:.3f}"),
        ]

    rows = [row(s.label, s.ic, s.fc, s.session_speed_err_m_s, s.speed_err_m_s, s.bout_speed_mae_m_s) for s in scores]
    fcs = [s.fc for s in scores if s.fc is not None]
    speed_errors = np.array([s.speed_err_m_s for s in scores])
    finite = speed_errors[np.isfinite(speed_errors)]
    mae_speed = float(np.abs(finite).mean()) if finite.size else math.nan
    pooled_ic = {t: pool([s.ic[t] for s in scores]) for t in TOLERANCES_S}
    bout_errors = np.concatenate([s.bout_speed_err_m_s for s in scores])
    bout_errors = bout_errors[np.isfinite(bout_errors)]
    pooled_bout = float(np.abs(bout_errors).mean()) if bout_errors.size else math.nan
    rows.append(row("pooled (micro)", pooled_ic, pool(fcs) if fcs else None, math.nan, math.nan, pooled_bout))
    session_errors = np.array([s.session_speed_err_m_s for s in scores])
    session_errors = session_errors[np.isfinite(session_errors)]
    bout_maes = np.array([s.bout_speed_mae_m_s for s in scores])
    bout_maes = bout_maes[np.isfinite(bout_maes)]
    macro = [
        "mean of trials (macro)",
        str(sum(s.ic[0.5].n_reference for s in scores)),
        *(_f(per_trial_mean([s.ic[t] for s in scores], "f1"), "{:.3f}") for t in TOLERANCES_S),
        _f(per_trial_mean([s.ic[0.5] for s in scores], "mean_abs_error_s") * 1e3, "{:.0f}"),
        _f(per_trial_mean([s.ic[0.5] for s in scores], "mean_error_s") * 1e3, "{:+.0f}"),
        _f(per_trial_mean([s.ic[0.5] for s in scores], "laterality_accuracy"), "{:.3f}"),
        _f(per_trial_mean(fcs, "f1"), "{:.3f}") if fcs else "n/a",
        _f(per_trial_mean(fcs, "mean_abs_error_s") * 1e3, "{:.0f}") if fcs else "n/a",
        _f(float(np.abs(session_errors).mean()) if session_errors.size else math.nan, "|{:.3f}|"),
        _f(mae_speed, "|{:.3f}|"),
        _f(float(bout_maes.mean()) if bout_maes.size else math.nan, "{:.3f}"),
    ]
    rows.append(macro)
    return rows


BOUT_HEADER = ("system", "quantity (INDIP's definition)", "bouts", "MAE", "bias", "MAE % of ref", "mean of trials")
BOUT_QUANTITIES = (
    ("walking speed m/s: mean of stride speeds", "bout_speed_err_m_s", "wb_speed_m_s", "{:.3f}"),
    ("cadence steps/min: mean of 120 / stride time", "bout_cadence_err_spm", "wb_cadence_spm", "{:.1f}"),
    ("stride length m: mean of strides", "bout_stride_length_err_m", "wb_stride_length_m", "{:.3f}"),
    ("distance / time m/s: vs Length / Duration", "bout_distance_speed_err_m_s", "", "{:.3f}"),
    ("distance / time vs mean of stride speeds (mixed)", "bout_cross_definition_err_m_s", "wb_speed_m_s", "{:.3f}"),
)


def bout_rows(trials: Sequence[Trial], systems: dict[str, Sequence[TrialScores]]) -> list[list[str]]:
    """Per system and bout quantity, over the reference bouts the system gave it for: pooled MAE and bias, MAE as
    % of the reference value (mean of |error| / reference) and the mean of per-trial MAEs. The last quantity
    compares two definitions (our bouts.arrow speed against INDIP's WalkingSpeed): it is printed because it is what
    this bench reported before 2026-11-21, not as a like-for-like error."""
    rows = []
    for name, scores in systems.items():
        for label, attr, ref_attr, spec in BOUT_QUANTITIES:
            errors = [getattr(s, attr) for s in scores]
            if not any(e.size for e in errors):
                continue
            refs = [
                getattr(t, ref_attr) if ref_attr else t.wb_length_m / t.wb_duration_s
                for t, e in zip(trials, errors, strict=True)
            ]
            e = np.concatenate([x for x in errors if x.size])
            r = np.concatenate([ref for ref, x in zip(refs, errors, strict=True) if x.size])
            ok = np.isfinite(e) & np.isfinite(r) & (r > 0)
            per_trial = [float(np.abs(x[np.isfinite(x)]).mean()) for x in errors if np.isfinite(x).any()]
            rows.append(
                [
                    name,
                    label,
                    str(int(ok.sum())),
                    _f(float(np.abs(e[ok]).mean()) if ok.any() else math.nan, spec),
                    _f(float(e[ok].mean()) if ok.any() else math.nan, "{:+" + spec[2:]),
                    _f(float(100 * np.mean(np.abs(e[ok]) / r[ok])) if ok.any() else math.nan, "{:.1f}"),
                    _f(float(np.mean(per_trial)) if per_trial else math.nan, spec),
                ]
            )
    return rows


MATCHED_HEADER = (
    "system",
    "INDIP bouts",
    "its bouts",
    "matched (% of INDIP)",
    "with a speed",
    "speed MAE m/s",
    "bias m/s",
    "mean of trials m/s",
)


def matched_bout_rows(trials: Sequence[Trial], systems: dict[str, Sequence[TrialScores]]) -> list[list[str]]:
    """Walking speed scored as mobgap scores its "matched" figures: each system's own bouts matched to INDIP's
    when they share 80 % of each one's time (:func:`pipeline.evaluation.match_intervals`), the error of the
    system's bout speed against INDIP's ``WalkingSpeed`` over the matched pairs only. "mean of trials" averages
    per-trial MAEs over the trials with a matched bout, as mobgap's ``single_results`` / aggregated figures do.
    Unmatched bouts are not scored: the matched share says how much of the reference the figure covers."""
    n_ref = sum(t.wb_start_s.size for t in trials)
    systems = {n: sc for n, sc in systems.items() if any(s.n_own_bouts for s in sc)}

    def scored(s: TrialScores) -> tuple[np.ndarray, np.ndarray]:
        """The trial's matched pairs that have a speed: their INDIP bout and their error."""
        ok = np.isfinite(s.matched_bout_speed_err_m_s)
        return s.matched_bout_reference[ok], s.matched_bout_speed_err_m_s[ok]

    def row(name: str, n_bouts: str, n_matched: int, per_trial: list[np.ndarray]) -> list[str]:
        e = np.concatenate(per_trial) if per_trial else np.zeros(0)
        trial_maes = [float(np.abs(x).mean()) for x in per_trial if x.size]
        return [
            name,
            str(n_ref),
            n_bouts,
            f"{n_matched} ({100 * n_matched / n_ref:.0f} %)" if n_ref else "0",
            str(e.size),
            _f(float(np.abs(e).mean()) if e.size else math.nan, "{:.3f}"),
            _f(float(e.mean()) if e.size else math.nan, "{:+.3f}"),
            _f(float(np.mean(trial_maes)) if trial_maes else math.nan, "{:.3f}") + f" ({len(trial_maes)} trials)",
        ]

    rows = []
    for name, sc in systems.items():
        n_matched = sum(s.matched_bout_reference.size for s in sc)
        rows.append(row(name, str(sum(s.n_own_bouts for s in sc)), n_matched, [scored(s)[1] for s in sc]))
    if len(systems) > 1:  # over the INDIP bouts every system matched and gave a speed for
        common = [
            set.intersection(*(set(scored(sc[i])[0].tolist()) for sc in systems.values())) for i in range(len(trials))
        ]
        n_common = sum(len(c) for c in common)
        for name, sc in systems.items():
            per_trial = [e[np.isin(ref, list(c))] for (ref, e), c in zip(map(scored, sc), common, strict=True)]
            rows.append(row(f"{name} (bouts all matched)", "", n_common, per_trial))
    return rows


COMBINED_HEADER = ("system", "trials with a speed", "speed MAE m/s (mean of trials)", "bias m/s")


def combined_rows(trials: Sequence[Trial], systems: dict[str, Sequence[TrialScores]]) -> list[list[str]]:
    """Walking speed scored as mobgap scores its "combined" figures: per trial, the median of the system's own bout
    speeds against the median of INDIP's bout speeds (every bout counts, none is paired), averaged over the trials
    where both exist."""
    rows = []
    for name, sc in systems.items():
        e = np.array([s.combined_speed_err_m_s for s in sc])
        e = e[np.isfinite(e)]
        rows.append(
            [
                name,
                f"{e.size} of {len(trials)}",
                _f(float(np.abs(e).mean()) if e.size else math.nan, "{:.3f}"),
                _f(float(e.mean()) if e.size else math.nan, "{:+.3f}"),
            ]
        )
    return rows


def print_rows(console: Console, title: str, header: Sequence[str], rows: list[list[str]]) -> None:
    table = Table(title=title)
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i == 0 else "right")
    for r in rows:
        table.add_row(*r)
    console.print(table)


def markdown(header: Sequence[str], rows: list[list[str]]) -> str:
    def row(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    lines = [row(header), "|" + "---|" * len(header)]
    lines += [row(r) for r in rows]
    return "\n".join(lines)


def show_tables(
    console: Console, tables: Sequence[tuple[str, Sequence[str], list[list[str]]]], markdown_path: Path | None
) -> None:
    """Print each ``(title, header, rows)`` table; with ``markdown_path``, also write them there as markdown."""
    for title, header, rows in tables:
        print_rows(console, title, header, rows)
    if markdown_path:
        markdown_path.write_text("\n\n".join(markdown(h, r) for _, h, r in tables) + "\n", encoding="utf-8")


def data_dir_argument(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get(DATA_ENV)
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(env) if env else None,
        help=f"mobgap's example_data folder (default: ${DATA_ENV})",
    )


MOBILISED_FORWARD = np.array([0.0, 0.0, 1.0])  # sensor +z = pa (anterior)
MOBILISED_LEFT = np.array([0.0, -1.0, 0.0])  # sensor +y = ml points right, so left = −y

ALIGN_HEADER = (
    "trial",
    "forward err °",
    "left err °",
    "confidence",
    "strides",
    "obliquity range ours °",
    "obliquity range true axes °",
    "tilt range ours °",
    "tilt range true axes °",
)


@dataclass(frozen=True)
class AlignmentCheck:
    """align_pelvis against the known Mobilise-D mounting on one trial."""

    label: str
    forward_err_deg: float
    left_err_deg: float
    confidence: float
    n_strides: int
    obliquity_range_deg: tuple[float, float]  # (ours, true axes): mean per-stride range
    tilt_range_deg: tuple[float, float]
    error: str = ""


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)), -1.0, 1.0))))


def true_alignment(estimated: Alignment) -> Alignment:
    """The Mobilise-D mounting as an Alignment, sharing the estimate's gravity 'up'."""
    up = estimated.rotation[2]
    forward = MOBILISED_FORWARD - up * (MOBILISED_FORWARD @ up)
    forward /= np.linalg.norm(forward)
    return Alignment("pelvis", np.vstack([forward, np.cross(up, forward), up]), estimated.up_source, math.nan, 1, False)


def stride_windows(trial: Trial) -> list[tuple[float, float]]:
    """Reference strides (same-side IC to the next IC of that side, at most 2.5 s) inside one reference bout."""
    out = []
    for side in ("left", "right"):
        t = np.sort(trial.ic_t_s[trial.ic_side == side])
        for a, b in zip(t[:-1], t[1:], strict=True):
            inside = (trial.wb_start_s <= a) & (b <= trial.wb_end_s)
            if b - a <= 2.5 and inside.any():
                out.append((float(a), float(b)))
    return out


def _mean_range(angle: np.ndarray, strides: Sequence[tuple[float, float]], fs_hz: float) -> float:
    ranges = [np.ptp(angle[int(round(a * fs_hz)) : int(round(b * fs_hz)) + 1]) for a, b in strides]
    finite = [r for r in ranges if math.isfinite(r)]
    return float(np.mean(finite)) if finite else math.nan


def alignment_check(trial: Trial) -> AlignmentCheck:
    """align_pelvis on the trial's lower-back IMU vs the known mounting (see the module docstring)."""
    acc, gyr = trial.acc_g * G, trial.gyr_dps
    valid = np.isfinite(acc).all(axis=1) & np.isfinite(gyr).all(axis=1)
    try:
        est = align_pelvis(acc, gyr, valid, trial.fs_hz, config=AlignConfig())
    except ImuGaitError as exc:
        nan2 = (math.nan, math.nan)
        return AlignmentCheck(trial.label, math.nan, math.nan, math.nan, 0, nan2, nan2, str(exc))
    true = true_alignment(est)
    strides = stride_windows(trial)
    obliquity, tilt = [], []
    for al in (est, true):
        p = pelvis_angles(al.apply(acc), al.apply(gyr), valid, trial.fs_hz, config=OrientationConfig())
        obliquity.append(_mean_range(p.obliquity_deg, strides, trial.fs_hz))
        tilt.append(_mean_range(p.tilt_deg, strides, trial.fs_hz))
    return AlignmentCheck(
        trial.label,
        _angle_deg(est.rotation[0], true.rotation[0]),
        _angle_deg(est.rotation[1], true.rotation[1]),
        est.confidence,
        len(strides),
        (obliquity[0], obliquity[1]),
        (tilt[0], tilt[1]),
    )


def alignment_rows(checks: Sequence[AlignmentCheck]) -> list[list[str]]:
    rows = [
        [
            c.label,
            _f(c.forward_err_deg, "{:.1f}"),
            _f(c.left_err_deg, "{:.1f}"),
            _f(c.confidence, "{:.2f}"),
            str(c.n_strides),
            _f(c.obliquity_range_deg[0], "{:.2f}"),
            _f(c.obliquity_range_deg[1], "{:.2f}"),
            _f(c.tilt_range_deg[0], "{:.2f}"),
            _f(c.tilt_range_deg[1], "{:.2f}"),
        ]
        for c in checks
    ]
    fwd = np.array([c.forward_err_deg for c in checks])
    obl = np.array([c.obliquity_range_deg[0] - c.obliquity_range_deg[1] for c in checks])
    tilt = np.array([c.tilt_range_deg[0] - c.tilt_range_deg[1] for c in checks])
    rows.append(
        [
            "worst | mean of |Δ range|",
            _f(float(np.nanmax(fwd)) if np.isfinite(fwd).any() else math.nan, "{:.1f}"),
            _f(float(np.nanmax([c.left_err_deg for c in checks])), "{:.1f}"),
            "",
            "",
            _f(float(np.nanmean(np.abs(obl))), "Δ {:.2f}"),
            "",
            _f(float(np.nanmean(np.abs(tilt))), "Δ {:.2f}"),
            "",
        ]
    )
    return rows


def run_all_ours(
    trials: Sequence[Trial], edge_margin_samples: int = EDGE_MARGIN_SAMPLES, *, sensor_height: bool = True
) -> list[TrialScores]:
    with tempfile.TemporaryDirectory(prefix="imugait-real-") as tmp:
        return [
            evaluate(t, run_ours(t, Path(tmp), sensor_height=sensor_height), edge_margin_samples=edge_margin_samples)
            for t in trials
        ]


def edge_margin_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--edge-margin-samples",
        type=int,
        default=EDGE_MARGIN_SAMPLES,
        help=f"detections this many samples outside a reference bout edge still count (default "
        f"{EDGE_MARGIN_SAMPLES}; 0 = the strict scoring used before 2026-11)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    data_dir_argument(parser)
    edge_margin_argument(parser)
    parser.add_argument("--markdown", type=Path, help="also write the table as markdown to this file")
    parser.add_argument(
        "--without-sensor-height",
        action="store_true",
        help="leave the measured sensor height out of the profiles (the pipeline estimates it from the stature)",
    )
    args = parser.parse_args(argv)
    console = Console(width=200)
    lab = find_lab_dir(args.data)
    if lab is None:
        console.print(
            f"SKIPPED: no mobgap example data found (--data {args.data}, ${DATA_ENV}). Extract it with\n"
            "  git --git-dir=<mobgap git dir> archive HEAD example_data | tar -x -C /tmp/mobgap_example\n"
            "and pass --data /tmp/mobgap_example/example_data."
        )
        return 0
    trials = load_trials(lab)
    for t in trials:
        if not t.wb_start_s.size:
            console.print(f"{t.label}: no INDIP reference walking bout in this trial; left out")
    trials = [t for t in trials if t.wb_start_s.size]
    console.print(reference_speed_definition(trials))
    scores = run_all_ours(trials, args.edge_margin_samples, sensor_height=not args.without_sensor_height)
    rows = summary_rows(scores)
    print_rows(
        console, f"imugait pelvis-only vs INDIP, {len(trials)} trials, reference walking bouts only", HEADER, rows
    )
    for s in scores:
        if s.error:
            console.print(f"[red]{s.label}: pipeline failed: {s.error}[/red]")
    print_rows(
        console,
        "Per INDIP bout, each quantity as INDIP defines it",
        BOUT_HEADER,
        bout_rows(trials, {"imugait": scores}),
    )
    matched_title = "Walking speed on matched bouts (mobgap's 'matched' protocol: ≥ 80 % overlap both ways)"
    print_rows(console, matched_title, MATCHED_HEADER, matched_bout_rows(trials, {"imugait": scores}))
    checks = [alignment_check(t) for t in trials]
    print_rows(
        console,
        "pelvis alignment vs the known Mobilise-D mounting (x up, y right, z forward)",
        ALIGN_HEADER,
        alignment_rows(checks),
    )
    for c in checks:
        if c.error:
            console.print(f"[red]{c.label}: align_pelvis failed: {c.error}[/red]")
    if args.markdown:
        text = "\n\n".join(
            (
                markdown(HEADER, rows),
                markdown(BOUT_HEADER, bout_rows(trials, {"imugait": scores})),
                markdown(MATCHED_HEADER, matched_bout_rows(trials, {"imugait": scores})),
                markdown(ALIGN_HEADER, alignment_rows(checks)),
            )
        )
        text += "\n"
        args.markdown.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Scoring detected gait events against reference events (simulator truth or a reference system).

Matching. A detected event and a reference event may pair when ``|t_detected − t_reference| <= tolerance_s``.
Pairs are one-to-one and chosen to give the **largest number of pairs, then the smallest total |Δt|** (an
assignment problem solved by :func:`scipy.optimize.linear_sum_assignment`). This never finds fewer pairs than the
mutual-nearest-neighbour rule of mobgap's ``categorize_ic_list``, and finds more when two events compete for one
partner; with events a step apart and a tolerance under half a step the two rules agree.

Scores (reference §0, §5; mobgap's ICD evaluation): true positives TP = pairs, false positives FP = unpaired
detections, false negatives FN = unpaired references; precision TP/(TP+FP), recall TP/(TP+FN),
F1 = 2·TP/(2·TP+FP+FN). Timing errors are ``detected − reference`` of the pairs (s; positive = detected late):
mean (bias), SD, median, mean and median of the absolute error. Laterality accuracy is the share of pairs whose
detected side equals the reference side. A score without data is NaN, with its count beside it
(``n_detected``, ``n_reference``, ``tp``, ``n_lateral``).

Per trial and pooled: :func:`score_events` scores one trial; :func:`pool` sums counts and concatenates the pairs of
several trials (micro average); mobgap's published figures are per-trial means (macro average), see
:func:`per_trial_mean`. Matrices are dense ``n_detected × n_reference``: score trials or sessions one at a time.

Walking bouts are matched as for mobgap's "matched" bout-level errors (:func:`match_intervals`): a detected and a
reference bout match when they share at least 80 % of each one's duration, and only matched bouts are scored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linear_sum_assignment

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class EventMatch:
    """One-to-one pairs between detected and reference events: indices into the inputs, per pair."""

    detected: IntArray
    reference: IntArray
    error_s: FloatArray  # detected − reference, per pair
    n_detected: int
    n_reference: int


@dataclass(frozen=True)
class EventScores:
    """Detection and timing scores of one trial (or of pooled trials) at one tolerance."""

    tolerance_s: float
    n_detected: int
    n_reference: int
    errors_s: FloatArray  # detected − reference of every pair (s)
    side_correct: NDArray[np.bool_]  # per pair whose sides were both known

    @property
    def tp(self) -> int:
        """Pairs (true positives)."""
        return int(self.errors_s.shape[0])

    @property
    def fp(self) -> int:
        """Unpaired detections."""
        return self.n_detected - self.tp

    @property
    def fn(self) -> int:
        """Unpaired references."""
        return self.n_reference - self.tp

    @property
    def precision(self) -> float:
        """TP / detected; NaN without detections."""
        return self.tp / self.n_detected if self.n_detected else math.nan

    @property
    def recall(self) -> float:
        """TP / references; NaN without references."""
        return self.tp / self.n_reference if self.n_reference else math.nan

    @property
    def f1(self) -> float:
        """2·TP / (2·TP + FP + FN); NaN when there are neither detections nor references."""
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else math.nan

    @property
    def mean_error_s(self) -> float:
        """Bias: mean signed error of the pairs (s); NaN without pairs."""
        return float(self.errors_s.mean()) if self.tp else math.nan

    @property
    def sd_error_s(self) -> float:
        """Sample SD of the signed errors (s); NaN with fewer than two pairs."""
        return float(self.errors_s.std(ddof=1)) if self.tp > 1 else math.nan

    @property
    def median_error_s(self) -> float:
        """Median signed error (s); NaN without pairs."""
        return float(np.median(self.errors_s)) if self.tp else math.nan

    @property
    def mean_abs_error_s(self) -> float:
        """Mean absolute error (s), mobgap's ``tp_absolute_timing_error_s``; NaN without pairs."""
        return float(np.abs(self.errors_s).mean()) if self.tp else math.nan

    @property
    def median_abs_error_s(self) -> float:
        """Median absolute error (s); NaN without pairs."""
        return float(np.median(np.abs(self.errors_s))) if self.tp else math.nan

    @property
    def n_lateral(self) -> int:
        """Pairs whose sides were compared."""
        return int(self.side_correct.shape[0])

    @property
    def laterality_accuracy(self) -> float:
        """Share of compared pairs with the right side; NaN when none was compared."""
        return float(self.side_correct.mean()) if self.n_lateral else math.nan

    def as_dict(self) -> dict[str, float | int]:
        """Counts and scores as a flat dict (for tables)."""
        return {
            "tolerance_s": self.tolerance_s,
            "n_detected": self.n_detected,
            "n_reference": self.n_reference,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "mean_error_s": self.mean_error_s,
            "sd_error_s": self.sd_error_s,
            "median_error_s": self.median_error_s,
            "mean_abs_error_s": self.mean_abs_error_s,
            "median_abs_error_s": self.median_abs_error_s,
            "n_lateral": self.n_lateral,
            "laterality_accuracy": self.laterality_accuracy,
        }


def _times(values: ArrayLike, name: str) -> FloatArray:
    t = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(t)):
        raise ValueError(f"{name} must hold finite times in seconds; drop NaN events before scoring")
    return t


def match_events(detected_t_s: ArrayLike, reference_t_s: ArrayLike, *, tolerance_s: float) -> EventMatch:
    """Pair detected with reference events one-to-one within ``tolerance_s`` (most pairs, then least total |Δt|).

    The inputs need not be sorted; the returned indices refer to them as given, pairs in reference-time order.
    """
    if not (math.isfinite(tolerance_s) and tolerance_s >= 0.0):
        raise ValueError(f"tolerance_s must be a finite number of seconds >= 0, got {tolerance_s}")
    det, ref = _times(detected_t_s, "detected_t_s"), _times(reference_t_s, "reference_t_s")
    empty = np.zeros(0, dtype=np.int64)
    if det.size == 0 or ref.size == 0:
        return EventMatch(empty, empty.copy(), np.zeros(0), int(det.size), int(ref.size))
    distance = np.abs(det[:, None] - ref[None, :])
    feasible = distance <= tolerance_s
    # An infeasible pair costs more than all feasible pairs together, so the assignment first maximises the
    # number of feasible pairs and only then minimises their total distance.
    penalty = (min(det.size, ref.size) + 1) * (tolerance_s + 1.0)
    rows, cols = linear_sum_assignment(np.where(feasible, distance, penalty))
    keep = feasible[rows, cols]
    rows, cols = rows[keep], cols[keep]
    order = np.argsort(ref[cols], kind="stable")
    rows, cols = rows[order].astype(np.int64), cols[order].astype(np.int64)
    return EventMatch(rows, cols, det[rows] - ref[cols], int(det.size), int(ref.size))


def score_events(
    detected_t_s: ArrayLike,
    reference_t_s: ArrayLike,
    *,
    tolerance_s: float,
    detected_side: ArrayLike | None = None,
    reference_side: ArrayLike | None = None,
) -> EventScores:
    """Match and score one trial. With both side arrays ("left"/"right"), laterality is compared on the pairs;
    pairs whose reference side is neither "left" nor "right" (unknown) are left out of the laterality count."""
    match = match_events(detected_t_s, reference_t_s, tolerance_s=tolerance_s)
    side_correct = np.zeros(0, dtype=bool)
    if detected_side is not None and reference_side is not None:
        det_side = np.asarray(detected_side).astype(str).reshape(-1)[match.detected]
        ref_side = np.asarray(reference_side).astype(str).reshape(-1)[match.reference]
        known = np.isin(ref_side, ("left", "right"))
        side_correct = np.asarray(det_side[known] == ref_side[known], dtype=bool)
    return EventScores(float(tolerance_s), match.n_detected, match.n_reference, match.error_s, side_correct)


def pool(scores: Sequence[EventScores]) -> EventScores:
    """Pool trials (micro average): counts add up, pairs are concatenated. All must share one tolerance."""
    if not scores:
        raise ValueError("pool needs at least one EventScores")
    tolerances = {s.tolerance_s for s in scores}
    if len(tolerances) != 1:
        raise ValueError(f"cannot pool scores of different tolerances {sorted(tolerances)}")
    return EventScores(
        scores[0].tolerance_s,
        sum(s.n_detected for s in scores),
        sum(s.n_reference for s in scores),
        np.concatenate([s.errors_s for s in scores]),
        np.concatenate([s.side_correct for s in scores]),
    )


def per_trial_mean(scores: Sequence[EventScores], name: str) -> float:
    """Mean of one score over trials, ignoring NaN (macro average, as mobgap's published figures); NaN if none."""
    values = np.array([getattr(s, name) for s in scores], dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else math.nan


def in_intervals(t_s: ArrayLike, start_s: ArrayLike, end_s: ArrayLike, *, closed: bool = False) -> NDArray[np.bool_]:
    """Mask of times inside any interval ``[start, end)`` (``[start, end]`` when ``closed``); intervals may overlap.

    Used to restrict scoring to reference walking bouts: an event is inside when more intervals have started
    than have ended at its time.
    """
    t = np.asarray(t_s, dtype=np.float64).reshape(-1)
    starts = np.sort(np.asarray(start_s, dtype=np.float64).reshape(-1))
    ends = np.sort(np.asarray(end_s, dtype=np.float64).reshape(-1))
    if starts.shape != ends.shape:
        raise ValueError(f"start_s and end_s must have the same length, got {starts.size} and {ends.size}")
    begun = np.searchsorted(starts, t, side="right")
    over = np.searchsorted(ends, t, side="left" if closed else "right")
    return np.asarray(begun > over)


@dataclass(frozen=True)
class IntervalMatch:
    """Detected and reference intervals (e.g. walking bouts) that match: indices into the inputs, per pair."""

    detected: IntArray
    reference: IntArray
    n_detected: int
    n_reference: int


def match_intervals(
    detected_start_s: ArrayLike,
    detected_end_s: ArrayLike,
    reference_start_s: ArrayLike,
    reference_end_s: ArrayLike,
    *,
    min_overlap: float = 0.8,
) -> IntervalMatch:
    """Pair detected with reference intervals that overlap by at least ``min_overlap`` of *each* one's duration.

    This is the walking-bout matching behind mobgap's "matched" walking speed, cadence and stride length errors
    (``mobgap.pipeline.evaluation.pipeline_per_datapoint_score``: "a bidirectional overlap of 80% is considered a
    match"; the errors are then averaged over the matched bouts only). Above one half, an interval can share that
    much of itself with at most one interval of the other list when each list is disjoint, so the pairs are
    one-to-one; a lower ``min_overlap`` raises ``ValueError``. Pairs come in reference order; when overlapping
    detections both qualify for one reference, the first free detection in input order takes it.
    """
    if not (0.5 < min_overlap <= 1.0):
        raise ValueError(f"min_overlap must be in (0.5, 1] so that matches are one-to-one, got {min_overlap}")
    ds, de = (np.asarray(v, dtype=np.float64).reshape(-1) for v in (detected_start_s, detected_end_s))
    rs, re = (np.asarray(v, dtype=np.float64).reshape(-1) for v in (reference_start_s, reference_end_s))
    for name, a, b in (("detected", ds, de), ("reference", rs, re)):
        if a.shape != b.shape:
            raise ValueError(f"{name} starts and ends must have the same length, got {a.size} and {b.size}")
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b)) and np.all(b > a)):
            raise ValueError(f"{name} intervals must be finite with end > start (seconds)")
    overlap = np.clip(np.minimum(de[:, None], re[None, :]) - np.maximum(ds[:, None], rs[None, :]), 0.0, None)
    ok = (overlap >= min_overlap * (de - ds)[:, None]) & (overlap >= min_overlap * (re - rs)[None, :])
    # Greedy in reference order (a loop over bouts, not samples): each reference takes the first qualifying
    # detection not yet taken. Choice only arises when detections or references overlap each other.
    free = np.ones(ds.size, dtype=bool)
    det_idx, ref_idx = [], []
    for j in range(rs.size):
        candidates = np.flatnonzero(ok[:, j] & free)
        if candidates.size:
            free[candidates[0]] = False
            det_idx.append(int(candidates[0]))
            ref_idx.append(j)
    return IntervalMatch(
        np.array(det_idx, dtype=np.int64), np.array(ref_idx, dtype=np.int64), int(ds.size), int(rs.size)
    )


def summarise(values: ArrayLike) -> dict[str, Any]:
    """Mean, SD (ddof 1), mean |x| and count of the finite values of an error array (NaN where undefined)."""
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    x = x[np.isfinite(x)]
    return {
        "mean": float(x.mean()) if x.size else math.nan,
        "sd": float(x.std(ddof=1)) if x.size > 1 else math.nan,
        "mean_abs": float(np.abs(x).mean()) if x.size else math.nan,
        "n": int(x.size),
    }

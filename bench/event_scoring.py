"""Scoring and table cells shared by the benches of event detection against a reference walking segment.

Used by ``validate_thighs.py`` (foot switches) and ``validate_neura.py`` (motion capture): the reference marks events
only inside a walking segment, so detections just outside it are neither pairs nor false positives. The per-walk
left/right offset (:func:`side_offset`) is shared with ``validate_symmetry.py``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from pipeline.evaluation import EventScores, match_events

FloatArray = NDArray[np.float64]


def score_window(det_t: FloatArray, ref_t: FloatArray, start: float, end: float, tolerance_s: float) -> EventScores:
    """Score references (all inside ``[start, end]``) against detections in the window widened by the tolerance;
    unpaired detections outside ``[start, end]`` are not false positives (they may be unreferenced events)."""
    det = det_t[(det_t >= start - tolerance_s) & (det_t <= end + tolerance_s)]
    m = match_events(det, ref_t, tolerance_s=tolerance_s)
    unpaired = np.ones(det.size, dtype=bool)
    unpaired[m.detected] = False
    n_detected = m.detected.size + int((unpaired & (det >= start) & (det <= end)).sum())
    return EventScores(float(tolerance_s), n_detected, int(ref_t.size), m.error_s, np.zeros(0, dtype=bool))


def side_offset(left: FloatArray, right: FloatArray, min_pairs: int = 2) -> tuple[float, float, float] | None:
    """One walk's left/right contact offset: the right − left difference of the mean errors and each side's SD of
    single errors around its own mean (left, right; ddof 1), or None with fewer than ``min_pairs`` on a side.
    Used by ``validate_thighs.py`` and ``validate_symmetry.py``, so both benches define the offset the same way."""
    left, right = left[np.isfinite(left)], right[np.isfinite(right)]
    if min(left.size, right.size) < min_pairs:
        return None
    return float(right.mean() - left.mean()), float(left.std(ddof=1)), float(right.std(ddof=1))


def fmt(value: float, spec: str) -> str:
    """``spec.format(value)``, or "n/a" when the value is not finite."""
    return "n/a" if not math.isfinite(value) else spec.format(value)


def timing_cells(s: EventScores) -> list[str]:
    """The "bias ± SD ms" and "MAE ms" cells of a score's pairs (detected − reference; + = late)."""
    bias = s.mean_error_s * 1e3
    sd = s.sd_error_s * 1e3
    return [
        f"{fmt(bias, '{:+.0f}')} ± {fmt(sd, '{:.0f}')}" if math.isfinite(bias) else "n/a",
        fmt(s.mean_abs_error_s * 1e3, "{:.0f}"),
    ]

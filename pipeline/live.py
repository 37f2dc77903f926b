"""Cheap estimates for the live view while recording: cadence from the last few seconds of one sensor.

Pure functions of a short window of samples, so the recorder can call them on every status refresh. They are
indicators for the person recording ("is the sensor seeing walking?"), not the session's measured cadence, which
comes from the full analysis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class LiveCadence:
    """Cadence in steps/min (NaN when no periodic walking is seen) and the autocorrelation peak behind it."""

    cadence_spm: float
    confidence: float  # normalised autocorrelation at the chosen lag, 0..1


def live_cadence(
    signal: NDArray[np.floating], fs_hz: float, *, per_stride: bool, min_confidence: float = 0.3
) -> LiveCadence:
    """Cadence from the dominant period of ``signal`` (e.g. a thigh's gyro norm or the pelvis acc norm).

    ``per_stride`` says the signal repeats once per stride (a thigh: one swing per stride) rather than once per
    step (the pelvis). The period is the lag of the highest unbiased autocorrelation peak within the range of
    human walking: strides of 0.7–2.5 s, or steps of 0.35–1.25 s (Moe-Nilssen & Helbostad 2004 use the same
    autocorrelation for step and stride regularity).
    """
    x = np.asarray(signal, dtype=np.float64)
    x = x[np.isfinite(x)]
    lo_s, hi_s = (0.7, 2.5) if per_stride else (0.35, 1.25)
    lo, hi = int(lo_s * fs_hz), int(hi_s * fs_hz)
    if fs_hz <= 0 or x.size < 2 * hi:
        return LiveCadence(float("nan"), 0.0)
    x = x - x.mean()
    energy = float(np.dot(x, x))
    if energy <= 1e-12:
        return LiveCadence(float("nan"), 0.0)
    n = x.size
    spectrum = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(spectrum * np.conj(spectrum))[: hi + 1]
    acf = acf / (n - np.arange(hi + 1)) / (energy / n)  # unbiased, normalised to lag 0
    window = acf[lo : hi + 1]
    inner = (window[1:-1] > window[:-2]) & (window[1:-1] >= window[2:])
    peaks = np.flatnonzero(inner) + 1
    if peaks.size == 0:
        return LiveCadence(float("nan"), 0.0)
    # Multiples of the period correlate as well as the period itself; asymmetric steps lower the step peak
    # below the stride peak. Take the shortest lag whose peak reaches half the highest.
    best = peaks[np.flatnonzero(window[peaks] >= 0.5 * window[peaks].max())[0]]
    confidence = float(np.clip(window[best], 0.0, 1.0))
    if confidence < min_confidence:
        return LiveCadence(float("nan"), confidence)
    period_s = (lo + best) / fs_hz
    steps_per_period = 2.0 if per_stride else 1.0
    return LiveCadence(60.0 * steps_per_period / period_s, confidence)

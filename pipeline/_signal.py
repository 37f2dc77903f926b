"""Private signal helpers shared by the pipeline stages: zero-phase filters, gap filling, crossings, periods.

All functions are pure, vectorised and work along axis 0.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import signal as sps

FloatArray = NDArray[np.float64]


@lru_cache(maxsize=512)
def _butter_sos(order: int, cutoff_hz: float | tuple[float, float], btype: str, fs_hz: float) -> NDArray[np.float64]:
    # Windowed analyses design the same few filters again and again (bands follow an integer step lag).
    # Not write-protected: scipy's sosfilt needs a writable buffer. Callers only read it.
    return np.asarray(sps.butter(order, cutoff_hz, btype=btype, fs=fs_hz, output="sos"), dtype=np.float64)


def butter(
    x: NDArray[np.floating[Any]],
    fs_hz: float,
    cutoff_hz: float | tuple[float, float],
    btype: Literal["lowpass", "highpass", "bandpass"],
    *,
    order: int = 2,
) -> FloatArray:
    """Zero-phase Butterworth filter (``sosfiltfilt``) along axis 0; short inputs get a shorter pad."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] < 3:
        return np.array(x, dtype=np.float64)
    sos = _butter_sos(order, cutoff_hz, btype, fs_hz)
    padlen = min(3 * (2 * sos.shape[0] + 1), x.shape[0] - 1)
    return np.asarray(sps.sosfiltfilt(sos, x, axis=0, padlen=padlen), dtype=np.float64)


def first_order_lowpass(
    x: NDArray[np.floating[Any]], fs_hz: float, cutoff_hz: float, *, gust: bool = False
) -> FloatArray:
    """Zero-phase first-order low-pass (forward-backward), the complement used by the complementary filter.

    With ``gust``, the initial states of both passes are chosen so that the two agree (Gustafsson 1996): with a
    time constant of seconds, a start from the first sample's value alone leaves seconds of transient at each end.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] < 3:
        return np.array(x, dtype=np.float64)
    b, a = sps.butter(1, cutoff_hz, btype="lowpass", fs=fs_hz)
    if gust:
        out = sps.filtfilt(b, a, x, axis=0, method="gust")
    else:
        out = sps.filtfilt(b, a, x, axis=0, padlen=min(3 * max(len(a), len(b)), x.shape[0] - 1))
    return np.asarray(out, dtype=np.float64)


def fill_invalid(x: NDArray[np.floating[Any]], valid: NDArray[np.bool_]) -> FloatArray:
    """Linearly interpolate (and hold at the ends) every row where ``valid`` is False or a value is not finite.

    Used only to feed filters; the validity mask travels beside the result. An all-invalid input becomes zeros.
    """
    x = np.array(x, dtype=np.float64, copy=True)
    flat = x.reshape(x.shape[0], -1)
    ok = np.asarray(valid, dtype=bool) & np.all(np.isfinite(flat), axis=1)
    if not ok.any():
        return np.zeros_like(x)
    idx = np.arange(x.shape[0])
    good = np.flatnonzero(ok)
    for col in range(flat.shape[1]):  # columns, not samples
        flat[:, col] = np.interp(idx, good, flat[good, col])
    return np.asarray(flat.reshape(x.shape), dtype=np.float64)


def crossings(x: NDArray[np.floating[Any]], direction: Literal["up", "down"]) -> FloatArray:
    """Fractional sample positions where ``x`` crosses zero upwards (− → +) or downwards (+ → −)."""
    x = np.asarray(x, dtype=np.float64)
    a, b = x[:-1], x[1:]
    hit = (a < 0) & (b >= 0) if direction == "up" else (a > 0) & (b <= 0)
    i = np.flatnonzero(hit)
    return np.asarray(i + a[i] / (a[i] - b[i]), dtype=np.float64)


def dominant_period_s(x: NDArray[np.floating[Any]], fs_hz: float, min_s: float, max_s: float) -> float:
    """Lag (s) of the dominant autocorrelation peak of ``x`` within [min_s, max_s]; NaN without a clear peak.

    The first local peak reaching 90 % of the highest one wins, so multiples of the period are not chosen.
    """
    x = np.asarray(x, dtype=np.float64)
    x = x - x.mean()
    n = x.shape[0]
    lo, hi = int(np.floor(min_s * fs_hz)), int(np.ceil(max_s * fs_hz))
    if n < 2 * hi or not np.any(x):
        return float("nan")
    spec = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[:n]
    ac = ac / ac[0] / (1.0 - np.arange(n) / n)  # unbiased
    window = ac[lo : hi + 1]
    peaks, _ = sps.find_peaks(window)
    if peaks.size == 0 or window[peaks].max() < 0.2:
        return float("nan")
    k = int(peaks[np.argmax(window[peaks] >= 0.9 * window[peaks].max())])
    # parabolic refinement of the peak
    y0, y1, y2 = window[k - 1], window[k], window[k + 1]
    denom = y0 - 2 * y1 + y2
    frac = 0.5 * (y0 - y2) / denom if denom != 0 else 0.0
    return float((lo + k + frac) / fs_hz)


def runs(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Half-open ``[start, end)`` index pairs (k, 2) of the True runs of a boolean mask."""
    m = np.concatenate(([False], np.asarray(mask, dtype=bool), [False]))
    d = np.diff(m.astype(np.int8))
    return np.column_stack((np.flatnonzero(d == 1), np.flatnonzero(d == -1))).astype(np.int64)


def cwt_gaus1(x: NDArray[np.floating[Any]], scale: float) -> FloatArray:
    """Continuous wavelet transform of ``x`` at one ``scale`` (samples) with the first Gaussian derivative (gaus1).

    Same definition as ``pywt.cwt(x, scale, "gaus1")`` (McCamley 2012 as implemented in skdh/GaitPy): convolve
    with the integrated wavelet ``(2/π)^¼·exp(−u²)`` sampled at ``u = t/scale`` on ``|u| ≤ 5`` and take
    ``−√scale`` times the derivative, here the centred difference (so no half-sample shift). For a signal
    ``x = ∫a`` this is ``−√scale·(a ⊛ Gaussian)``, a Gaussian of σ = scale/√2 samples. Edges are reflected.
    """
    x = np.asarray(x, dtype=np.float64)
    half = max(1, int(np.ceil(5.0 * scale)))
    u = np.arange(-half, half + 1) / scale
    kernel = (2.0 / np.pi) ** 0.25 * np.exp(-(u**2))
    pad = min(half, x.shape[0] - 1)
    xp = np.pad(x, pad, mode="reflect") if pad > 0 else x
    conv = sps.fftconvolve(xp, kernel, mode="same")[pad : pad + x.shape[0]]
    return np.asarray(-np.sqrt(scale) * np.gradient(conv), dtype=np.float64)

"""Gait-cycle-normalised curves: mean ± SD over valid strides, per side, 0–100 % of the cycle in 101 points.

Each valid stride of a side, ``[IC, next IC)`` from the stride table, is resampled at ``IC + p/100 × stride`` for
p = 0…100 (so 100 % is the next IC) by linear interpolation: one ``np.interp`` over the (strides × 101) time
grid per signal. A stride whose curve touches a masked (NaN) sample is left out of that signal's average, so
``n`` (the strides averaged) is per side and signal. SD is the sample SD over strides (NaN for n < 2).

Signals: pelvic obliquity / tilt / rotation (normalised to each side's own cycle, so the left and right curves
of a pelvis angle are the same motion seen from the two legs' ICs) and the side's thigh sagittal and frontal
angles (:mod:`pipeline.orientation` conventions, degrees). This is the usual presentation of kinematics in
clinical gait analysis (e.g. Perry & Burnfield, Gait Analysis, 2010; Baker 2013, Measuring Walking).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline.orientation import PelvisAngles, ThighAngles

FloatArray = NDArray[np.float64]
PCT: FloatArray = np.linspace(0.0, 100.0, 101)


@dataclass(frozen=True)
class CycleCurve:
    """One side's mean ± SD curve of one signal over :data:`PCT`."""

    side: str
    signal: str
    unit: str
    mean: FloatArray  # (101,)
    sd: FloatArray  # (101,)
    n: int


def normalise(x: FloatArray, fs_hz: float, start_s: FloatArray, end_s: FloatArray) -> FloatArray:
    """``x`` (sampled at ``k / fs_hz``) resampled over each cycle ``[start_s, end_s]``: (cycles, 101), NaN-aware.

    A cycle partly outside the signal, or interpolated from a NaN sample, has NaN at those points.
    """
    n = x.shape[0]
    t = start_s[:, None] + (end_s - start_s)[:, None] * (PCT / 100.0)[None, :]
    pos = (t * fs_hz).ravel()
    out = np.interp(pos, np.arange(n), x, left=np.nan, right=np.nan)
    # np.interp spreads a NaN neighbour only where it is weighted; make any touching sample NaN explicitly
    lo = np.clip(np.floor(pos).astype(np.int64), 0, max(n - 1, 0))
    hi = np.clip(lo + 1, 0, max(n - 1, 0))
    out[~(np.isfinite(x[lo]) & np.isfinite(x[hi]))] = np.nan
    return out.reshape(t.shape)


def _curve(side: str, signal: str, cycles: FloatArray) -> CycleCurve:
    keep = cycles[np.isfinite(cycles).all(axis=1)]
    k = keep.shape[0]
    mean = keep.mean(axis=0) if k else np.full(PCT.size, np.nan)
    sd = keep.std(axis=0, ddof=1) if k > 1 else np.full(PCT.size, np.nan)
    return CycleCurve(side, signal, "deg", mean, sd, k)


def cycle_curves(
    fs_hz: float,
    side: NDArray[np.str_],
    start_s: FloatArray,
    end_s: FloatArray,
    valid: NDArray[np.bool_],
    *,
    pelvis: PelvisAngles | None = None,
    thighs: Mapping[str, ThighAngles] | None = None,
) -> tuple[CycleCurve, ...]:
    """Mean ± SD cycle curves per side for every available signal, from the valid strides (stride-table rows).

    Sides with no valid stride still get curves (NaN, n = 0) for the signals whose sensor is present.
    """
    thighs = thighs or {}
    out: list[CycleCurve] = []
    for s in ("left", "right"):  # sides and signals, not samples
        sel = valid & (side == s)
        signals: dict[str, FloatArray] = {}
        if pelvis is not None:
            signals.update(
                pelvic_obliquity_deg=pelvis.obliquity_deg,
                pelvic_tilt_deg=pelvis.tilt_deg,
                pelvic_rotation_deg=pelvis.rotation_deg,
            )
        if s in thighs:
            signals.update(thigh_sagittal_deg=thighs[s].sagittal_deg, thigh_frontal_deg=thighs[s].frontal_deg)
        for name, x in signals.items():
            out.append(_curve(s, name, normalise(x, fs_hz, start_s[sel], end_s[sel])))
    return tuple(out)


def curves_columns(curves: tuple[CycleCurve, ...]) -> dict[str, NDArray[Any]]:
    """Long-form columns of ``schemas.CYCLES`` (side, signal, unit, pct, mean, sd, n), 101 rows per curve."""
    m, k = PCT.size, len(curves)
    if k == 0:
        empty = np.zeros(0)
        return {
            "side": empty.astype(str),
            "signal": empty.astype(str),
            "unit": empty.astype(str),
            "pct": empty,
            "mean": empty,
            "sd": empty,
            "n": empty.astype(np.int64),
        }
    return {
        "side": np.repeat([c.side for c in curves], m),
        "signal": np.repeat([c.signal for c in curves], m),
        "unit": np.repeat([c.unit for c in curves], m),
        "pct": np.tile(PCT, k),
        "mean": np.concatenate([c.mean for c in curves]),
        "sd": np.concatenate([c.sd for c in curves]),
        "n": np.repeat(np.array([c.n for c in curves], dtype=np.int64), m),
    }

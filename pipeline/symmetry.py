"""Left/right symmetry of a gait parameter (reference §3): Robinson SI, symmetry ratio, Plotnik gait asymmetry.

All three take the right and the left value (scalars or arrays that broadcast, e.g. per-stride pairs or session
means) in that order and are vectorised and NaN-safe: a missing side (NaN) gives NaN, and so does a pair the
definition cannot handle (both zero for SI, a non-positive value for SR and GA). Scalars in, a float out.

Orientation. SI and SR are signed "right relative to left" like the rest of imugait (negative SI / SR < 1: the
right value is smaller, e.g. a shorter right stance on a painful right knee); GA is unsigned. The three are linked:
SR = (2 + SI/100) / (2 − SI/100) and GA = 100·|ln SR|, so swapping the sides flips the sign of SI, inverts SR and
leaves GA unchanged, and scaling both sides by the same factor (a unit change) changes none of them.
"""

from __future__ import annotations

from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def _pair(right: ArrayLike, left: ArrayLike) -> tuple[FloatArray, FloatArray]:
    r, l_ = np.broadcast_arrays(np.asarray(right, dtype=np.float64), np.asarray(left, dtype=np.float64))
    return r, l_


def _out(value: FloatArray, scalar: bool) -> float | FloatArray:
    return float(value) if scalar else value


@overload
def symmetry_index(right: float, left: float) -> float: ...
@overload
def symmetry_index(right: ArrayLike, left: ArrayLike) -> float | FloatArray: ...
def symmetry_index(right: ArrayLike, left: ArrayLike) -> float | FloatArray:
    """Robinson et al. (1987) symmetry index, % (0 = symmetric).

    ``SI = (X_R − X_L) / ((X_R + X_L) / 2) × 100``. Positive: the right value is larger. NaN when a side is
    missing or the mean is zero.

    Reference: Robinson RO, Herzog W, Nigg BM. Use of force platform variables to quantify the effects of
    chiropractic manipulation on gait symmetry. J Manipulative Physiol Ther 1987;10:172–176 (reference §3).
    """
    r, l_ = _pair(right, left)
    mean = (r + l_) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        si = np.where(mean != 0, (r - l_) / mean * 100.0, np.nan)
    return _out(si, np.ndim(si) == 0)


@overload
def symmetry_ratio(right: float, left: float) -> float: ...
@overload
def symmetry_ratio(right: ArrayLike, left: ArrayLike) -> float | FloatArray: ...
def symmetry_ratio(right: ArrayLike, left: ArrayLike) -> float | FloatArray:
    """Symmetry ratio ``SR = X_R / X_L`` (1 = symmetric; < 1: the right value is smaller).

    Defined for positive values only (times, ranges); NaN otherwise. The reference lists X_L/X_R, min/max and
    non-painful/painful as variants; X_R/X_L is used here so SR < 1 exactly when the Robinson SI is negative.

    Reference: Patterson KK, Gage WH, Brooks D, Black SE, McIlroy WE. Evaluation of gait symmetry after stroke:
    a comparison of current methods and recommendations for standardization. Gait Posture 2010;31:241–246
    (reference §3, "symmetry ratio").
    """
    r, l_ = _pair(right, left)
    ok = (r > 0) & (l_ > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        sr = np.where(ok, r / np.where(ok, l_, 1.0), np.nan)
    return _out(sr, np.ndim(sr) == 0)


@overload
def gait_asymmetry(right: float, left: float) -> float: ...
@overload
def gait_asymmetry(right: ArrayLike, left: ArrayLike) -> float | FloatArray: ...
def gait_asymmetry(right: ArrayLike, left: ArrayLike) -> float | FloatArray:
    """Plotnik et al. (2007) gait asymmetry, % (0 = symmetric, unsigned).

    ``GA = 100 × |ln(X_short / X_long)|`` with X_short / X_long the smaller / larger of the two sides' values
    (originally mean swing times; applied here to any positive per-side parameter). NaN for non-positive values.

    Reference: Plotnik M, Giladi N, Hausdorff JM. A new measure for quantifying the bilateral coordination of
    human gait: effects of aging and Parkinson's disease. Exp Brain Res 2007;181:561–570 (reference §3).
    """
    r, l_ = _pair(right, left)
    ok = (r > 0) & (l_ > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ga = np.where(ok, 100.0 * np.abs(np.log(np.where(ok, r, 1.0) / np.where(ok, l_, 1.0))), np.nan)
    return _out(ga, np.ndim(ga) == 0)

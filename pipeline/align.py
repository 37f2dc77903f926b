"""Sensor-to-segment alignment for any mounting orientation, from the walking data itself.

Segment frame (all sites): ``x`` anterior, ``y`` left, ``z`` superior (right-handed; the mobgap ``pa``/``ml``/``is``
axes with ``ml`` pointing left). The result is a rotation ``R`` whose rows are those axes in sensor coordinates, so
``v_segment = R @ v_sensor`` (``acc_seg = acc @ R.T``).

* ``z`` — gravity. The accelerometer reads +g upwards when still, so ``z`` is the mean acceleration direction over
  still periods (rolling mean gyro magnitude below ``still_gyro_dps`` for ≥ ``min_still_s``), or over all valid
  data when the subject never stood still. Angles are then relative to that posture (report ranges, or absolute
  values only after a standing period).
* Thigh ``y`` — the flexion axis is the principal axis of the gyro in the horizontal plane (the thigh swings in the
  sagittal plane). Sign: thigh flexion velocity is a brief large peak in swing and a slow extension through the
  longer stance, so flexion velocity is positively skewed; the axis about which the projected rate has positive
  skew points to the *right* (flexion = positive rotation about the right axis), and ``y`` is its opposite.
* Pelvis ``y`` — within the horizontal plane, medio-lateral acceleration is dominated by the stride frequency
  (the sway toward each stance leg has one cycle per stride) while antero-posterior acceleration repeats every
  step; conversely the gyro's horizontal stride-frequency motion is obliquity, a rotation about the AP axis. The
  ML axis is the principal axis of (normalised stride-band acc covariance − normalised stride-band gyro covariance).
  Sign: the pelvis is turned furthest left (positive yaw) at right IC, and sways toward the stance leg, reaching the
  right about a quarter stride later; the leftward acceleration of that sway (−ω²·displacement) therefore lags yaw by
  ~90°, i.e. yaw *rate* and leftward acceleration are in anti-phase. Yaw (rotation about ``z``) does not depend on
  the horizontal axis signs, so the side whose stride-band acceleration anti-correlates with the yaw rate is left.
  Accelerations here are *free* accelerations (gravity removed with the gyro-tracked vertical), because the
  gravity leaking into the lateral axis through obliquity is as large as the sway and nearly opposite in phase.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from pipeline import _signal as sig
from pipeline.errors import InsufficientDataError
from pipeline.orientation import track_up

G = 9.80665
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class AlignConfig:
    """Parameters of the automatic alignment."""

    still_gyro_dps: float = 8.0  # rolling mean |gyro| below this counts as standing still
    still_window_s: float = 0.5
    min_still_s: float = 1.0  # still time needed to take gravity from still periods only
    stride_range_s: tuple[float, float] = (0.6, 2.5)
    default_stride_s: float = 1.1  # used when no stride periodicity is found
    min_confidence: float = 0.3  # below this the alignment is flagged low_confidence
    fusion_cutoff_hz: float = 0.05  # gravity tracking used to remove gravity before the pelvis PCA
    turn_rate_dps: float = 20.0  # low-passed yaw rate above this is a turn (blanked for the stride period)
    long_axis: int = 0  # sensor axis along the device's long side (x on the supported IMUs): down the thigh when worn


@dataclass(frozen=True)
class Alignment:
    """Sensor-to-segment rotation of one site and how much to trust it."""

    site: str
    rotation: FloatArray  # (3, 3) rows = segment x (anterior), y (left), z (up) in sensor coordinates
    up_source: Literal["still", "walking"]
    stride_s: float  # stride period found in the data (NaN: none, default used)
    confidence: float  # 0..1: separation of the axis choice times the strength of the sign evidence
    low_confidence: bool

    def apply(self, v: NDArray[np.floating[Any]]) -> FloatArray:
        """Rotate (n, 3) sensor-frame vectors into the segment frame."""
        return np.asarray(v, dtype=np.float64) @ self.rotation.T


def _unit(v: FloatArray) -> FloatArray:
    return v / np.linalg.norm(v)


def horizontal_basis(up: FloatArray) -> FloatArray:
    """Two orthonormal vectors (2, 3) spanning the plane orthogonal to ``up``."""
    helper = np.eye(3)[int(np.argmin(np.abs(up)))]
    e1 = _unit(np.cross(up, helper))
    return np.vstack([e1, np.cross(up, e1)])


def gravity_up(
    acc: FloatArray, gyr: FloatArray, valid: NDArray[np.bool_], fs_hz: float, *, config: AlignConfig
) -> tuple[FloatArray, Literal["still", "walking"], NDArray[np.bool_]]:
    """Unit 'up' vector in sensor coordinates, where it came from, and the still mask used."""
    if valid.sum() < fs_hz:
        raise InsufficientDataError("less than one second of valid samples: cannot find the gravity direction")
    gyr_f = sig.fill_invalid(gyr, valid)
    w = max(1, int(config.still_window_s * fs_hz))
    rolling = np.convolve(np.linalg.norm(gyr_f, axis=1), np.ones(w) / w, mode="same")
    still = valid & (rolling < config.still_gyro_dps)
    if still.sum() >= config.min_still_s * fs_hz:
        return _unit(acc[still].mean(axis=0)), "still", still
    return _unit(np.nanmean(acc[valid], axis=0)), "walking", still


def _stride_band(x: FloatArray, fs_hz: float, stride_s: float) -> FloatArray:
    f = 1.0 / stride_s
    return sig.butter(x, fs_hz, (0.6 * f, 1.4 * f), "bandpass")


def _stride_period(x: FloatArray, fs_hz: float, config: AlignConfig) -> float:
    band = sig.butter(x, fs_hz, (0.25, 4.0), "bandpass")
    return sig.dominant_period_s(band, fs_hz, *config.stride_range_s)


def align_thigh(
    acc: FloatArray, gyr: FloatArray, valid: NDArray[np.bool_], fs_hz: float, *, site: str, config: AlignConfig
) -> Alignment:
    """Alignment of a thigh sensor (see the module docstring for the method and sign argument)."""
    up, source, still = gravity_up(acc, gyr, valid, fs_hz, config=config)
    walk = valid & ~still
    if walk.sum() < 2 * fs_hz:
        raise InsufficientDataError(f"{site}: less than two seconds of movement; cannot find the thigh's swing axis")
    basis = horizontal_basis(up)
    g_h = sig.fill_invalid(gyr, valid) @ basis.T  # (n, 2)
    cov = np.cov(g_h[walk].T)
    evals, evecs = np.linalg.eigh(cov)
    axis = evecs[:, 1] @ basis  # principal horizontal gyro axis, in sensor coordinates
    rate = sig.butter(g_h @ evecs[:, 1], fs_hz, 8.0, "lowpass")
    skew = float(stats.skew(rate[walk]))
    right = axis if skew > 0 else -axis
    y = -_unit(right - up * (right @ up))
    x = np.cross(y, up)
    separation = 1.0 - evals[0] / evals[1] if evals[1] > 0 else 0.0
    confidence = float(separation * min(1.0, abs(skew) / 0.5))
    stride = _stride_period(g_h @ evecs[:, 1], fs_hz, config)
    return Alignment(site, np.vstack([x, y, up]), source, stride, confidence, confidence < config.min_confidence)


def align_pelvis(
    acc: FloatArray, gyr: FloatArray, valid: NDArray[np.bool_], fs_hz: float, *, config: AlignConfig
) -> Alignment:
    """Alignment of a pelvis/sacrum sensor (see the module docstring for the method and sign argument)."""
    up, source, still = gravity_up(acc, gyr, valid, fs_hz, config=config)
    walk = valid & ~still
    if walk.sum() < 2 * fs_hz:
        raise InsufficientDataError("pelvis: less than two seconds of movement; cannot find the walking direction")
    acc_f, gyr_f = sig.fill_invalid(acc, valid), sig.fill_invalid(gyr, valid)
    # Free acceleration: the pelvis rolls a few degrees each stride, and the gravity that leaks into the lateral
    # axis (g·sin(obliquity)) is as large as the sway acceleration and nearly in anti-phase with it.
    acc_f = acc_f - G * track_up(acc_f, gyr_f, fs_hz, cutoff_hz=config.fusion_cutoff_hz)
    yaw_rate = gyr_f @ up
    # Yaw rate repeats once per stride; turns (slow, large) are blanked so they do not swamp the period.
    turning = np.abs(sig.butter(yaw_rate, fs_hz, 0.3, "lowpass")) > config.turn_rate_dps
    turning = np.convolve(turning.astype(np.float64), np.ones(int(fs_hz) + 1), mode="same") > 0
    stride = _stride_period(np.where(turning, 0.0, yaw_rate), fs_hz, config)
    stride_used = stride if np.isfinite(stride) else config.default_stride_s
    basis = horizontal_basis(up)
    a_h = _stride_band(acc_f @ basis.T, fs_hz, stride_used)[walk]
    g_h = _stride_band(gyr_f @ basis.T, fs_hz, stride_used)[walk]
    ca, cg = np.cov(a_h.T), np.cov(g_h.T)
    diff = ca / max(np.trace(ca), 1e-12) - cg / max(np.trace(cg), 1e-12)
    evals, evecs = np.linalg.eigh(diff)
    ml2 = evecs[:, 1]
    yaw_band = _stride_band(yaw_rate, fs_hz, stride_used)[walk]
    corr = float(np.corrcoef(yaw_band, a_h @ ml2)[0, 1]) if np.std(yaw_band) > 0 else 0.0
    left = (ml2 if corr < 0 else -ml2) @ basis
    y = _unit(left - up * (left @ up))
    x = np.cross(y, up)
    confidence = float(min(1.0, evals[1]) * min(1.0, abs(corr) / 0.5))
    return Alignment("pelvis", np.vstack([x, y, up]), source, stride, confidence, confidence < config.min_confidence)


_AXES = ("x", "y", "z")


def _closest_axis(v: FloatArray) -> tuple[str, float]:
    """The signed sensor axis nearest the unit vector ``v`` (sensor coordinates) and the cosine between them."""
    k = int(np.argmax(np.abs(v)))
    return f"{'+' if v[k] >= 0 else '-'}{_AXES[k]}", round(float(abs(v[k])), 3)


def describe_mounting(al: Alignment, *, config: AlignConfig) -> dict[str, Any]:
    """Human-readable mounting of one sensor, for the quality record.

    ``up`` / ``forward`` / ``left``: the sensor axis nearest each segment axis (``"-x"`` = the sensor's negative
    x axis) with its cosine (1 = exactly aligned, ≈ 0.7 = halfway between two axes). For a thigh,
    ``upside_down`` is True when the sensor's long axis (``long_axis``, normally worn pointing down the thigh)
    points up. ``low_confidence`` repeats :attr:`Alignment.low_confidence`; the text says so too.
    """
    names = ("forward", "left", "up")
    out: dict[str, Any] = {}
    parts = []
    for name, row in zip(names, al.rotation, strict=True):
        axis, cos = _closest_axis(row)
        out[name] = axis
        out[f"{name}_cos"] = cos
        parts.append(f"{axis} {name}")
    text = f"{al.site}: sensor " + ", ".join(parts)
    if al.site != "pelvis":
        long_up = float(al.rotation[2, config.long_axis])
        out["upside_down"] = bool(long_up > 0.5)
        if out["upside_down"]:
            text += f" — upside down (its {_AXES[config.long_axis]} axis points up the thigh)"
    out["low_confidence"] = al.low_confidence
    if al.low_confidence:
        text += f" — LOW CONFIDENCE ({al.confidence:.2f}); check the sensor placement"
    out["text"] = text
    return out

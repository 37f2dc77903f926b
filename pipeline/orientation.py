"""Per-sample segment angles from aligned acc/gyro: a vectorised, zero-phase complementary filter.

Complementary filter. For an angle θ with gyro-integrated estimate θ_g = Σ ω·Δt and accelerometer estimate θ_a,
``θ = θ_g + LP(θ_a − θ_g)`` with LP a zero-phase first-order low-pass at ``fusion_cutoff_hz``: below the cutoff the
accelerometer wins (no drift), above it the gyro (walking accelerations corrupt θ_a at step frequency). This is the
offline, zero-phase form of θ_k = α(θ_{k−1} + ω_kΔt) + (1 − α)θ_a,k (reference §2.4) and needs no loop.

Pelvis (segment frame x anterior, y left, z up; Baker 2001 sequence rotation → obliquity → tilt, i.e.
``R = Rz(rotation)·Rx(obliquity)·Ry(tilt)``). The world 'up' seen from the pelvis is then
``u = (−cos(obl)·sin(tilt), sin(obl), cos(obl)·cos(tilt))``, which gives obliquity and tilt exactly, independent of
rotation. ``u`` is tracked with the complementary filter: the gyro part integrates ``du/dt = u × ω`` linearised
about the low-passed accelerometer direction (pelvic angles stay within ~±15°, error ≲ 0.3°), the low-frequency
part is the normalised accelerometer. Rotation is the integrated heading rate ``u·ω`` (rotation about the world
vertical), high-passed at ``heading_highpass_hz`` to remove heading changes and drift (no magnetometer).
Signs: obliquity + = left hip higher; tilt + = anterior; rotation + = turned left (counter-clockwise from above).

Thigh: sagittal angle, flexion + (rotation about the right-pointing axis, i.e. −ω_y), from ω and
``atan2(acc_x, acc_z)``; frontal angle, abduction + (rotation about x, sign flipped for the right thigh), from ω_x and
``atan2(acc_y, acc_z)``. Both are relative to the posture that defined 'up' (standing, or mean walking posture).
The thigh's heading rate is ``u·ω``, the rotation about the world vertical, with ``u`` tracked as for the pelvis
but with one more pass (``thigh_up_iterations``): the thigh swings ±25°, and the first pass's linearisation about
the mean attitude then leaves an error in ``u`` that follows the swing; multiplied by the swing's own rate it does
not average out, but adds a share of every turn (190° for a simulated 180° turn; the second pass reads 178-179°,
docs/validation §q).

Walking heading (:func:`walking_heading`): turn detection needs the walker's rotation about the vertical. The pelvis
gives it when worn; a session with thighs only takes the mean of the thighs' heading rates, each of which adds the
hip's own rotation within the stride (removed, like the pelvis's, by the turn detection's low-pass below the
stride frequency).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from pipeline import _signal as sig

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class OrientationConfig:
    """Parameters of the angle estimation."""

    fusion_cutoff_hz: float = 0.05  # complementary-filter crossover (time constant ≈ 3 s)
    heading_highpass_hz: float = 0.25  # pelvic rotation keeps oscillations faster than this
    thigh_up_iterations: int = 1  # track_up passes beyond the first for the thigh's heading rate (it swings ±25°)


@dataclass(frozen=True)
class PelvisAngles:
    """Pelvic angles in degrees (NaN where the input was invalid)."""

    rotation_deg: FloatArray
    obliquity_deg: FloatArray
    tilt_deg: FloatArray
    heading_rate_dps: FloatArray  # rotation rate about the world vertical (turn detection)
    vertical_acc_ms2: FloatArray  # acceleration along the world vertical, gravity removed
    valid: NDArray[np.bool_]


@dataclass(frozen=True)
class ThighAngles:
    """Thigh angles in degrees and the flexion rate in deg/s (NaN where the input was invalid)."""

    sagittal_deg: FloatArray  # flexion +
    frontal_deg: FloatArray  # abduction +
    flexion_rate_dps: FloatArray
    valid: NDArray[np.bool_]
    heading_rate_dps: FloatArray  # rotation rate about the world vertical (turn detection without a pelvis)


class HeadingRate(Protocol):
    """Anything with a rate about the world vertical (deg/s) and its valid mask: pelvis angles or a walking heading."""

    @property
    def heading_rate_dps(self) -> FloatArray: ...

    @property
    def valid(self) -> NDArray[np.bool_]: ...


@dataclass(frozen=True)
class WalkingHeading:
    """The rotation rate about the world vertical that turn detection reads, and the sensor(s) it came from."""

    heading_rate_dps: FloatArray
    valid: NDArray[np.bool_]
    source: Literal["pelvis", "thighs", "left thigh", "right thigh"]


def _fuse(gyro_angle: FloatArray, acc_angle: FloatArray, fs_hz: float, cutoff_hz: float) -> FloatArray:
    return gyro_angle + sig.first_order_lowpass(acc_angle - gyro_angle, fs_hz, cutoff_hz)


def track_up(
    acc: FloatArray, gyr_dps: FloatArray, fs_hz: float, *, cutoff_hz: float, iterations: int = 0
) -> FloatArray:
    """Unit world-'up' vector per sample, in the frame of ``acc``/``gyr`` (any body frame; inputs gap-free).

    Complementary filter: the gyro part integrates ``du/dt = u × ω`` linearised about the low-passed accelerometer
    direction (valid while the segment stays within ~±15° of its mean attitude), the accelerometer direction wins
    below ``cutoff_hz``. Each of ``iterations`` further passes integrates ``u × ω`` about the previous pass's ``u``
    (a fixed-point iteration, still vectorised), for segments that swing further, such as the thigh.
    """
    u_acc = acc / np.maximum(np.linalg.norm(acc, axis=1, keepdims=True), 1e-9)
    u = sig.first_order_lowpass(u_acc, fs_hz, cutoff_hz)
    w = np.deg2rad(gyr_dps)
    for _ in range(iterations + 1):  # passes, not samples
        u_gyro = np.cumsum(np.cross(u, w), axis=0) / fs_hz
        u = _fuse(u_gyro, u_acc, fs_hz, cutoff_hz)
        u = u / np.linalg.norm(u, axis=1, keepdims=True)
    return np.asarray(u)


def obliquity_tilt_deg(up: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Pelvic obliquity (+ = left side up) and tilt (+ = anterior) from the world 'up' unit vector in the pelvis
    frame (x forward, y left, z up): the obliquity and tilt of the rotation → obliquity → tilt sequence (Baker 2001)."""
    obliquity = np.rad2deg(np.arcsin(np.clip(up[:, 1], -1.0, 1.0)))
    return obliquity, np.rad2deg(np.arctan2(-up[:, 0], up[:, 2]))


def sagittal_deg(up: FloatArray) -> FloatArray:
    """Thigh sagittal angle (flexion +) from the world 'up' direction (or gravity's reaction) in the thigh frame."""
    return np.asarray(np.rad2deg(np.arctan2(up[:, 0], up[:, 2])), dtype=np.float64)


def pelvis_angles(
    acc_seg: FloatArray, gyr_seg: FloatArray, valid: NDArray[np.bool_], fs_hz: float, *, config: OrientationConfig
) -> PelvisAngles:
    """Pelvic rotation, obliquity and tilt (Baker 2001) from segment-frame acc (m/s²) and gyro (deg/s)."""
    acc, gyr = sig.fill_invalid(acc_seg, valid), np.deg2rad(sig.fill_invalid(gyr_seg, valid))
    u = track_up(acc, np.rad2deg(gyr), fs_hz, cutoff_hz=config.fusion_cutoff_hz)
    obliquity, tilt = obliquity_tilt_deg(u)
    heading_rate = np.rad2deg(np.einsum("ij,ij->i", u, gyr))
    heading = np.cumsum(heading_rate) / fs_hz
    rotation = sig.butter(heading, fs_hz, config.heading_highpass_hz, "highpass")
    vertical = np.einsum("ij,ij->i", u, acc) - np.linalg.norm(acc, axis=1).mean()
    for arr in (rotation, obliquity, tilt, heading_rate, vertical):
        arr[~valid] = np.nan
    return PelvisAngles(rotation, obliquity, tilt, heading_rate, vertical, valid.copy())


def thigh_angles(
    acc_seg: FloatArray,
    gyr_seg: FloatArray,
    valid: NDArray[np.bool_],
    fs_hz: float,
    *,
    side: Literal["left", "right"],
    config: OrientationConfig,
) -> ThighAngles:
    """Thigh sagittal (flexion +) and frontal (abduction +) angles from segment-frame acc and gyro."""
    acc, gyr = sig.fill_invalid(acc_seg, valid), sig.fill_invalid(gyr_seg, valid)
    flexion_rate = -gyr[:, 1]
    sag_acc = sagittal_deg(acc)
    sagittal = _fuse(np.cumsum(flexion_rate) / fs_hz, sag_acc, fs_hz, config.fusion_cutoff_hz)
    front_acc = np.rad2deg(np.arctan2(acc[:, 1], acc[:, 2]))
    frontal = _fuse(np.cumsum(gyr[:, 0]) / fs_hz, front_acc, fs_hz, config.fusion_cutoff_hz)
    up = track_up(acc, gyr, fs_hz, cutoff_hz=config.fusion_cutoff_hz, iterations=config.thigh_up_iterations)
    heading_rate = np.einsum("ij,ij->i", up, gyr)
    if side == "right":
        frontal = -frontal
    flexion_rate = flexion_rate.copy()
    for arr in (sagittal, frontal, flexion_rate, heading_rate):
        arr[~valid] = np.nan
    return ThighAngles(sagittal, frontal, flexion_rate, valid.copy(), heading_rate)


def walking_heading(pelvis: PelvisAngles | None, thighs: Mapping[str, ThighAngles]) -> WalkingHeading | None:
    """The pelvis's heading rate, or without a pelvis the mean of the thighs' (one thigh's where only it is valid);
    None without any of them."""
    if pelvis is not None:
        return WalkingHeading(pelvis.heading_rate_dps, pelvis.valid, "pelvis")
    present = sorted(thighs.items())
    if not present:
        return None
    rates = np.stack([np.where(th.valid, th.heading_rate_dps, 0.0) for _, th in present])
    counts = np.stack([th.valid for _, th in present]).sum(axis=0)
    valid = counts > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(valid, rates.sum(axis=0) / counts, np.nan)
    source: Literal["thighs", "left thigh", "right thigh"] = (
        "thighs" if len(present) > 1 else ("left thigh" if present[0][0] == "left" else "right thigh")
    )
    return WalkingHeading(rate, valid, source)

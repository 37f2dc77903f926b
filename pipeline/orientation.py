"""Per-sample segment angles from aligned acc/gyro: a vectorised, zero-phase complementary filter.

Complementary filter (reference §2.4): below a crossover (``fusion_cutoff_hz``) the accelerometer's gravity
direction wins (no drift), above it the gyro (walking accelerations corrupt the accelerometer at step frequency).
It tracks the world 'up' direction ``u`` in the segment's frame, in one of two forms, both offline, zero-phase and
without a loop over samples:

* :func:`track_up` integrates ``du/dt = u × ω`` linearised about the low-passed accelerometer direction: accurate
  while the segment stays within ~±15° of its mean attitude (the pelvis, the trunk; error ≲ 0.3° in straight
  walking). Through a turn its linearisation mixes some of the turn into the tilt.
* :func:`track_up_strapdown` carries each accelerometer direction by the gyro's exact strapdown orientation
  (:func:`strapdown`) into the frame of the first sample, where 'up' stands still but for the gyro's drift,
  low-passes it there and carries it back: it holds however far the segment swings or the walker turns. The
  thighs (±25° swing) use it since pipeline 1.11; before, a turn's rotation read as 8-10° of abduction for seconds
  after every simulated U-turn (docs/validation §r, ``bench/sim_orientation.py``). The pelvis keeps the linearised
  filter until the strapdown one is re-validated on the real recordings (§r gives the simulator's figures for both).

Pelvis (segment frame x anterior, y left, z up; Baker 2001 sequence rotation → obliquity → tilt, i.e.
``R = Rz(rotation)·Rx(obliquity)·Ry(tilt)``). The world 'up' seen from the pelvis is then
``u = (−cos(obl)·sin(tilt), sin(obl), cos(obl)·cos(tilt))``, which gives obliquity and tilt exactly, independent of
rotation (``u`` from :func:`track_up`). Rotation is the integrated heading rate ``u·ω`` (rotation about the world
vertical), high-passed at ``heading_highpass_hz`` to remove heading changes and drift (no magnetometer).
Signs: obliquity + = left hip higher; tilt + = anterior; rotation + = turned left (counter-clockwise from above).

Thigh (same frame; ``R = Rz(heading)·Rx(abduction)·Ry(−flexion)``, the right thigh's abduction mirrored): 'up' in
the thigh frame is ``(sin(flex)·cos(abd), sin(abd), cos(flex)·cos(abd))``, so the sagittal angle (flexion +) is
``atan2(u_x, u_z)`` and the frontal angle (abduction +) ``asin(u_y)``, both relative to the posture that defined
'up' (standing, or mean walking posture), ``u`` from :func:`track_up_strapdown`. The flexion rate is ``−ω_y``;
the heading rate is that of the thigh's flexion axis (:func:`heading_rate_zxy`), not ``u·ω``.

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
from scipy.spatial.transform import Rotation

from pipeline import _signal as sig

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class OrientationConfig:
    """Parameters of the angle estimation."""

    fusion_cutoff_hz: float = 0.05  # complementary-filter crossover (time constant ≈ 3 s)
    heading_highpass_hz: float = 0.25  # pelvic rotation keeps oscillations faster than this


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


def strapdown(gyr_dps: FloatArray, fs_hz: float) -> Rotation:
    """Orientation of the sensor at each sample relative to its first, from the gyro alone (body → first sample).

    The product of the per-interval rotations ``exp(ω̄·Δt)``, ``ω̄`` the mean of the interval's two samples
    (trapezoidal; body frame, applied on the right), formed as an inclusive prefix scan (Hillis & Steele 1986):
    ⌈log₂ n⌉ vectorised passes, each composing every partial product with the one ``2^k`` samples earlier. Exact
    for rotation of any size, unlike a small-angle integration.
    """
    w = np.deg2rad(np.asarray(gyr_dps, dtype=np.float64))
    steps = np.concatenate([np.zeros((1, 3)), 0.5 * (w[1:] + w[:-1])]) / fs_hz
    q = Rotation.from_rotvec(steps).as_quat()
    shift = 1
    while shift < q.shape[0]:  # log2(n) passes, not samples
        later = Rotation.from_quat(q[:-shift]) * Rotation.from_quat(q[shift:])
        q = np.concatenate([q[:shift], later.as_quat()])
        shift *= 2
    return Rotation.from_quat(q)


def track_up(acc: FloatArray, gyr_dps: FloatArray, fs_hz: float, *, cutoff_hz: float) -> FloatArray:
    """Unit world-'up' vector per sample, in the frame of ``acc``/``gyr`` (any body frame; inputs gap-free), for a
    segment that stays within ~±15° of its mean attitude (the pelvis, the trunk).

    Complementary filter: the gyro part integrates ``du/dt = u × ω`` linearised about the low-passed accelerometer
    direction, the accelerometer direction wins below ``cutoff_hz``. A segment that swings further, or any segment
    through a turn, is tracked exactly by :func:`track_up_strapdown`.
    """
    u_acc = acc / np.maximum(np.linalg.norm(acc, axis=1, keepdims=True), 1e-9)
    u = sig.first_order_lowpass(u_acc, fs_hz, cutoff_hz)
    u_gyro = np.cumsum(np.cross(u, np.deg2rad(gyr_dps)), axis=0) / fs_hz
    u = u_gyro + sig.first_order_lowpass(u_acc - u_gyro, fs_hz, cutoff_hz)
    return np.asarray(u / np.linalg.norm(u, axis=1, keepdims=True))


def track_up_strapdown(acc: FloatArray, gyr_dps: FloatArray, fs_hz: float, *, cutoff_hz: float) -> FloatArray:
    """Unit world-'up' vector per sample, in the frame of ``acc``/``gyr`` (any body frame; inputs gap-free), however
    far the segment swings or the walker turns.

    Complementary filter on the rotation group: the accelerometer's direction is carried by the gyro's strapdown
    orientation (:func:`strapdown`) into the frame of the first sample, where world 'up' stands still but for the
    gyro's drift; low-passed there at ``cutoff_hz`` (zero phase, Gustafsson's edges), so that the walking
    accelerations average out and the drift is followed, and carried back into each sample's frame. The gyro
    supplies everything above the cutoff, exactly.
    """
    u_acc = acc / np.maximum(np.linalg.norm(acc, axis=1, keepdims=True), 1e-9)
    if u_acc.shape[0] < 2:
        return np.asarray(u_acc, dtype=np.float64)
    body_to_first = strapdown(gyr_dps, fs_hz)
    up_first = sig.first_order_lowpass(body_to_first.apply(u_acc), fs_hz, cutoff_hz, gust=True)
    u = body_to_first.apply(up_first, inverse=True)
    return np.asarray(u / np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-9), dtype=np.float64)


def heading_rate_zxy(up: FloatArray, gyr: FloatArray) -> FloatArray:
    """Rate of the first (vertical) angle of a ``Rz·Rx·Ry`` sequence, in the units of ``gyr``: the heading of the
    segment's y axis (the pelvis's left-right axis, the thigh's flexion axis).

    With ``R = Rz(ψ)·Rx(φ)·Ry(θ)`` the body rate is ``ω = ψ'·u + φ'·Ry(θ)ᵀe_x + θ'·e_y`` and ``u_y = sin φ``, so
    ``u·ω = ψ' + θ'·sin φ`` and ``ω_y = ψ'·u_y + θ'``, which give ``ψ' = (u·ω − u_y·ω_y) / (1 − u_y²)``. The plain
    ``u·ω`` (rotation about the vertical) carries ``θ'·sin φ``, which a thigh's flexion and abduction, out of phase,
    rectify into a few deg/s that never average out (docs/validation §q); ``ψ`` is an angle, so it returns to its
    value after every stride.
    """
    along_y = up[:, 1]
    return np.asarray(
        (np.einsum("ij,ij->i", up, gyr) - along_y * gyr[:, 1]) / np.maximum(1.0 - along_y**2, 1e-6), dtype=np.float64
    )


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
    up = track_up_strapdown(acc, gyr, fs_hz, cutoff_hz=config.fusion_cutoff_hz)
    sagittal = sagittal_deg(up)
    frontal = np.rad2deg(np.arcsin(np.clip(up[:, 1], -1.0, 1.0)))
    if side == "right":
        frontal = -frontal
    flexion_rate = -gyr[:, 1]
    heading_rate = heading_rate_zxy(up, gyr)
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

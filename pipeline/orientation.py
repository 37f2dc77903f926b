"""Per-sample segment angles from aligned acc/gyro: a vectorised, zero-phase complementary filter.

Complementary filter (reference §2.4): below a crossover (``fusion_cutoff_hz``) the accelerometer's gravity
direction wins (no drift), above it the gyro (walking accelerations corrupt the accelerometer at step frequency).
It tracks the world 'up' direction ``u`` in the segment's frame, in one of two forms, both offline, zero-phase and
without a loop over samples:

* :func:`track_up` integrates ``du/dt = u × ω`` linearised about the low-passed accelerometer direction: accurate
  while the segment stays within ~±15° of its mean attitude (error ≲ 0.3° in straight walking). Through a turn its
  linearisation mixes some of the turn into the tilt. The pelvic contacts' vertical acceleration, the alignment
  and the trunk's levelled accelerations use it (validated on real recordings with it).
* :func:`track_up_strapdown` carries each accelerometer direction by the gyro's exact strapdown orientation
  (:func:`strapdown`) into the frame of the first sample, where 'up' stands still but for the gyro's drift,
  low-passes it there and carries it back: it holds however far the segment swings or the walker turns. With the
  pipeline's configuration it first removes the gyro's bias (:func:`gyro_bias_dps`, fitted so that gravity stands
  still in that frame) and weighs the accelerometer down while the walker turns (:func:`turning_weight`: a turn's
  centripetal acceleration otherwise leans 'up' toward the new walking direction for seconds). The thighs use it
  since pipeline 1.11 (before, a turn read as 8-10° of abduction for seconds after every simulated U-turn), the
  pelvic angles since 1.12 (docs/validation §r, §s; ``bench/sim_orientation.py``).

Pelvis (segment frame x anterior, y left, z up; Baker 2001 sequence rotation → obliquity → tilt, i.e.
``R = Rz(rotation)·Rx(obliquity)·Ry(tilt)``). The world 'up' seen from the pelvis is then
``u = (−cos(obl)·sin(tilt), sin(obl), cos(obl)·cos(tilt))``, which gives obliquity and tilt exactly, independent of
rotation (``u`` from :func:`track_up_strapdown`). Rotation is the integrated heading rate ``u·ω`` (rotation about
the world vertical), high-passed at ``heading_highpass_hz`` to remove heading changes and drift (no magnetometer).
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
from dataclasses import dataclass, field
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
    # Strapdown filter (thighs, pelvic angles): while the walker turns the accelerometer weighs
    # 1 / (1 + (heading rate / turn_rate_dps)²), the heading rate low-passed at turn_lowpass_hz (the turning mask's
    # threshold and low-pass, metrics.MetricsConfig); the gyro bias is fitted over windows of bias_window_s.
    turn_rate_dps: float = 20.0
    turn_lowpass_hz: float = 0.3
    bias_window_s: float = 20.0


@dataclass(frozen=True)
class PelvisAngles:
    """Pelvic angles in degrees (NaN where the input was invalid)."""

    rotation_deg: FloatArray
    obliquity_deg: FloatArray
    tilt_deg: FloatArray
    heading_rate_dps: FloatArray  # rotation rate about the world vertical (turn detection)
    vertical_acc_ms2: FloatArray  # acceleration along the world vertical, gravity removed
    valid: NDArray[np.bool_]
    gyro_bias_dps: FloatArray = field(default_factory=lambda: np.zeros(3))  # removed before fusion (segment frame)


@dataclass(frozen=True)
class ThighAngles:
    """Thigh angles in degrees and the flexion rate in deg/s (NaN where the input was invalid)."""

    sagittal_deg: FloatArray  # flexion +
    frontal_deg: FloatArray  # abduction +
    flexion_rate_dps: FloatArray
    valid: NDArray[np.bool_]
    heading_rate_dps: FloatArray  # rotation rate about the world vertical (turn detection without a pelvis)
    gyro_bias_dps: FloatArray = field(default_factory=lambda: np.zeros(3))  # removed before fusion (segment frame)


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


def _quat_multiply(a: FloatArray, b: FloatArray) -> FloatArray:
    """Hamilton products ``a·b`` of scalar-last quaternions (scipy's order), row by row."""
    ax, ay, az, aw = a.T
    bx, by, bz, bw = b.T
    return np.stack(
        (
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ),
        axis=1,
    )


def strapdown(gyr_dps: FloatArray, fs_hz: float) -> Rotation:
    """Orientation of the sensor at each sample relative to its first, from the gyro alone (body → first sample).

    The product of the per-interval rotations ``exp(ω̄·Δt)``, ``ω̄`` the mean of the interval's two samples
    (trapezoidal; body frame, applied on the right), formed as an inclusive prefix scan (Hillis & Steele 1986):
    ⌈log₂ n⌉ vectorised passes of quaternion products, each composing every partial product with the one ``2^k``
    samples earlier. Exact for rotation of any size, unlike a small-angle integration.
    """
    w = np.deg2rad(np.asarray(gyr_dps, dtype=np.float64))
    steps = np.concatenate([np.zeros((1, 3)), 0.5 * (w[1:] + w[:-1])]) / fs_hz
    half = 0.5 * np.linalg.norm(steps, axis=1, keepdims=True)
    q = np.concatenate([steps * 0.5 * np.sinc(half / np.pi), np.cos(half)], axis=1)  # v·sin(θ/2)/θ, cos(θ/2)
    shift = 1
    while shift < q.shape[0]:  # log2(n) passes, not samples
        q = np.concatenate([q[:shift], _quat_multiply(q[:-shift], q[shift:])])
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


def _carried(acc: FloatArray, gyr_dps: FloatArray, fs_hz: float) -> tuple[Rotation, FloatArray]:
    """The strapdown orientation and the accelerometer's direction carried by it into the first sample's frame."""
    u_acc = acc / np.maximum(np.linalg.norm(acc, axis=1, keepdims=True), 1e-9)
    body_to_first = strapdown(gyr_dps, fs_hz)
    return body_to_first, body_to_first.apply(u_acc)


def turning_weight(
    body_to_first: Rotation, gyr_dps: FloatArray, up_first: FloatArray, fs_hz: float, *, config: OrientationConfig
) -> FloatArray:
    """Weight of each sample's accelerometer direction in the up-vector filter: ``1 / (1 + (ψ'/ψ'₀)²)``, ψ' the
    heading rate low-passed at ``turn_lowpass_hz``, ψ'₀ = ``turn_rate_dps``.

    Through a turn the accelerometer reads the centripetal acceleration (v·ψ', 1.5 m/s² in a 2 s U-turn at 1 m/s):
    summed over the turn it is the change of velocity, 2 m/s for a U-turn, which a filter with a 3 s time constant
    reads as a lean of a few degrees toward the new walking direction for seconds after the turn
    (docs/validation §s). Straight walking keeps weight ≈ 1; walking in a circle weighs every sample alike.
    """
    rate = np.einsum("ij,ij->i", body_to_first.apply(gyr_dps), up_first)
    rate = sig.butter(rate, fs_hz, config.turn_lowpass_hz, "lowpass")
    return np.asarray(1.0 / (1.0 + (rate / config.turn_rate_dps) ** 2), dtype=np.float64)


def _skew(v: FloatArray) -> FloatArray:
    """``[v]×`` for each row: ``_skew(v) @ x == cross(v, x)``."""
    zero = np.zeros(v.shape[0])
    rows = ((zero, -v[:, 2], v[:, 1]), (v[:, 2], zero, -v[:, 0]), (-v[:, 1], v[:, 0], zero))
    return np.stack([np.stack(row, axis=-1) for row in rows], axis=1)


def _bias_step(acc: FloatArray, gyr_dps: FloatArray, fs_hz: float, config: OrientationConfig) -> FloatArray:
    """One Gauss-Newton step of :func:`gyro_bias_dps` (deg/s)."""
    n = acc.shape[0]
    body_to_first, carried = _carried(acc, gyr_dps, fs_hz)
    up = sig.first_order_lowpass(carried, fs_hz, config.fusion_cutoff_hz, gust=True)
    up /= np.maximum(np.linalg.norm(up, axis=1, keepdims=True), 1e-9)
    weight = turning_weight(body_to_first, gyr_dps, up, fs_hz, config=config)
    swept = np.cumsum(body_to_first.as_matrix(), axis=0) / fs_hz  # C(t) = ∫ R dt, (n, 3, 3)
    length = max(int(config.bias_window_s * fs_hz), 2)
    window = np.minimum(np.arange(n) // length, max(n // length - 1, 0))  # a short remainder joins the last window
    count = int(window[-1]) + 1
    total = np.bincount(window, weight, count)

    def window_mean(x: FloatArray) -> FloatArray:
        flat = x.reshape(n, -1)
        sums = np.stack([np.bincount(window, weight * col, count) for col in flat.T], axis=-1)
        return np.asarray((sums / total[:, None])[window].reshape(x.shape), dtype=np.float64)

    mean_up = window_mean(carried)
    gravity = mean_up / np.maximum(np.linalg.norm(mean_up, axis=1, keepdims=True), 1e-9)
    design = -np.einsum("nij,njk->nik", _skew(gravity), swept - window_mean(swept)) * np.sqrt(weight)[:, None, None]
    observed = ((carried - mean_up) * np.sqrt(weight)[:, None]).reshape(-1)
    rows = design.reshape(-1, 3)
    eigenvalues, vectors = np.linalg.eigh(rows.T @ rows)
    seen = eigenvalues > 0.05 * max(float(eigenvalues[-1]), 1e-300)
    projected = vectors[:, seen].T @ (rows.T @ observed)
    return np.asarray(np.rad2deg(vectors[:, seen] @ (projected / eigenvalues[seen])), dtype=np.float64)


def gyro_bias_dps(
    acc: FloatArray, gyr_dps: FloatArray, fs_hz: float, *, config: OrientationConfig, iterations: int = 3
) -> FloatArray:
    """The gyro's constant bias (deg/s, in the frame of ``acc``/``gyr``; inputs gap-free) as far as gravity sees it.

    A bias ``b`` turns the strapdown frame away from the world by ``θ(t) = C(t)·b``, ``C(t) = ∫ R dt`` (R: body to
    first sample), so the accelerometer's carried direction reads ``a(t) ≈ g − g × (C(t)·b)`` instead of standing
    still. Within each window of ``bias_window_s`` (its own ``g``, the drift before it absorbed) that is linear in
    ``b``: ``a − ā = −[ĝ]×(C − C̄)·b``, solved by weighted least squares over all windows, each sample weighted by
    :func:`turning_weight` (a turn's centripetal acceleration would read as drift). Only the directions the
    normal matrix sees above 5 % of its largest eigenvalue are estimated: a rotation about gravity does not move
    'up', so the bias along it is not observed (and does not matter here). ``iterations`` Gauss-Newton steps, each
    re-running the strapdown without the bias found so far. The same bias an attitude filter's integral term
    tracks online (Mahony, Hamel & Pflimlin 2008, IEEE Trans. Autom. Control 53(5):1203-1218), fitted offline.
    """
    bias = np.zeros(3)
    if acc.shape[0] < 3:
        return bias
    for _ in range(iterations):
        bias = bias + _bias_step(acc, gyr_dps - bias, fs_hz, config)
    return bias


def track_up_strapdown(
    acc: FloatArray, gyr_dps: FloatArray, fs_hz: float, *, cutoff_hz: float, config: OrientationConfig | None = None
) -> FloatArray:
    """Unit world-'up' vector per sample, in the frame of ``acc``/``gyr`` (any body frame; inputs gap-free), however
    far the segment swings or the walker turns.

    Complementary filter on the rotation group: the accelerometer's direction is carried by the gyro's strapdown
    orientation (:func:`strapdown`) into the frame of the first sample, where world 'up' stands still but for the
    gyro's drift; low-passed there at ``cutoff_hz`` (zero phase, Gustafsson's edges), so that the walking
    accelerations average out and the drift is followed, and carried back into each sample's frame. The gyro
    supplies everything above the cutoff, exactly. With ``config`` (the pipeline's), the gyro's bias is removed
    first (:func:`gyro_bias_dps`) and the low-pass is a normalised convolution ``LP(w·a) / LP(w)`` with the
    :func:`turning_weight` ``w``: without either, a U-turn leaves 'up' leaning a degree or more for seconds after
    (docs/validation §s).
    """
    return track_up_and_bias(acc, gyr_dps, fs_hz, cutoff_hz=cutoff_hz, config=config)[0]


def track_up_and_bias(
    acc: FloatArray, gyr_dps: FloatArray, fs_hz: float, *, cutoff_hz: float, config: OrientationConfig | None
) -> tuple[FloatArray, FloatArray]:
    """:func:`track_up_strapdown`'s 'up' and the gyro bias it removed (deg/s; zero without ``config``): what
    :func:`pelvis_angles` and :func:`thigh_angles` fuse with."""
    bias = np.zeros(3)
    if acc.shape[0] < 2:
        up = acc / np.maximum(np.linalg.norm(acc, axis=1, keepdims=True), 1e-9)
        return np.asarray(up, dtype=np.float64), bias
    if config is not None:
        bias = gyro_bias_dps(acc, gyr_dps, fs_hz, config=config)
        gyr_dps = gyr_dps - bias
    body_to_first, carried = _carried(acc, gyr_dps, fs_hz)
    up_first = sig.first_order_lowpass(carried, fs_hz, cutoff_hz, gust=True)
    if config is not None:
        up = up_first / np.maximum(np.linalg.norm(up_first, axis=1, keepdims=True), 1e-9)
        weight = turning_weight(body_to_first, gyr_dps, up, fs_hz, config=config)
        weighted = sig.first_order_lowpass(weight[:, None] * carried, fs_hz, cutoff_hz, gust=True)
        up_first = weighted / sig.first_order_lowpass(weight, fs_hz, cutoff_hz, gust=True)[:, None]
    u = body_to_first.apply(up_first, inverse=True)
    return np.asarray(u / np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-9), dtype=np.float64), bias


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
    acc, gyr_dps = sig.fill_invalid(acc_seg, valid), sig.fill_invalid(gyr_seg, valid)
    u, bias = track_up_and_bias(acc, gyr_dps, fs_hz, cutoff_hz=config.fusion_cutoff_hz, config=config)
    obliquity, tilt = obliquity_tilt_deg(u)
    heading_rate = np.einsum("ij,ij->i", u, gyr_dps)
    heading = np.cumsum(heading_rate) / fs_hz
    rotation = sig.butter(heading, fs_hz, config.heading_highpass_hz, "highpass")
    # The pelvic contacts (pipeline._pelvis_events) were tuned and validated on the linearised filter's vertical.
    u_events = track_up(acc, gyr_dps, fs_hz, cutoff_hz=config.fusion_cutoff_hz)
    vertical = np.einsum("ij,ij->i", u_events, acc) - np.linalg.norm(acc, axis=1).mean()
    for arr in (rotation, obliquity, tilt, heading_rate, vertical):
        arr[~valid] = np.nan
    return PelvisAngles(rotation, obliquity, tilt, heading_rate, vertical, valid.copy(), bias)


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
    up, bias = track_up_and_bias(acc, gyr, fs_hz, cutoff_hz=config.fusion_cutoff_hz, config=config)
    sagittal = sagittal_deg(up)
    frontal = np.rad2deg(np.arcsin(np.clip(up[:, 1], -1.0, 1.0)))
    if side == "right":
        frontal = -frontal
    flexion_rate = -gyr[:, 1]
    heading_rate = heading_rate_zxy(up, gyr)
    for arr in (sagittal, frontal, flexion_rate, heading_rate):
        arr[~valid] = np.nan
    return ThighAngles(sagittal, frontal, flexion_rate, valid.copy(), heading_rate, bias)


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

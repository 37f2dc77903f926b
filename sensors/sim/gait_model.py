"""Physical model of walking behind the BLE simulator: three IMUs (sacrum, left and right lateral thigh).

The model is pure numpy and fully vectorised: every method takes a float64 time array (seconds, any order, any
spacing) and evaluates the pose, angular velocity and linear acceleration of each sensor analytically (chain rule on
smooth curves, no finite differences), so the simulated accelerometer and gyroscope are exactly consistent with the
poses and with the ground truth in :attr:`GaitModel.truth`.

Frames and conventions
----------------------
- **World**: x = initial walking direction, y = left, z = up; gravity ``G = 9.80665 m/s²`` along −z.
- **Segment (body) frame**, standing upright facing +x: x anterior (``pa``), y left (``ml``), z superior (``is``).
- **Pelvis** angles (degrees), Baker 2001 sequence rotation → obliquity → tilt:
  ``R_pelvis = Rz(heading + rotation) · Rx(obliquity) · Ry(tilt)``.
  rotation > 0: pelvis turned to the left (right hip forward); obliquity > 0: left iliac crest higher than the
  right; tilt > 0: anterior tilt (top of the pelvis forward). ``pelvis_angles_deg`` excludes the heading.
- **Thighs**: global segment angles (relative to the vertical, not to the pelvis). Sagittal > 0 is flexion (knee
  ahead of the hip), frontal > 0 is abduction (knee lateral of the hip) on both sides:
  ``R_thigh = Rz(heading) · Rx(±frontal) · Ry(−sagittal)`` with + for the left and − for the right thigh.
  Flexion is therefore a rotation about the segment's −y axis.
- **Sensors**: ``R_sensor = R_segment · R_mount``; the columns of ``R_mount`` are the sensor axes in segment axes.
  Accelerometer = specific force in the sensor frame, ``f = R_sensorᵀ · (a_world + [0, 0, G])`` in m/s² (a still,
  level sensor reads +G on its up axis); gyroscope = angular velocity in the sensor frame in deg/s.
- **Default mountings** (:data:`DEFAULT_MOUNTINGS`): sacrum ``[[0,0,-1],[0,1,0],[1,0,0]]`` (sensor x up, y left,
  z backward out of the skin); left thigh ``[[0,-1,0],[0,0,1],[-1,0,0]]`` (x down the thigh, y backward, z lateral
  = left); right thigh ``[[0,1,0],[0,0,-1],[-1,0,0]]`` (x down the thigh, y forward, z lateral = right). Standing
  still the thigh sensors read ``[-G, 0, 0]``. With these, thigh flexion velocity appears as ``-gyr_z`` on the
  left and ``+gyr_z`` on the right sensor.

Geometry
--------
The pelvis centre (midpoint of the hip joints) stands ``leg_length_m`` above the floor and moves along the course
(gait-initiation ramp, straight walking, optional 180° left turns) plus vertical (2 cycles/stride), lateral
(1 cycle/stride, toward the stance leg) and anterior-posterior (2 cycles/stride, slowest at mid single support)
oscillations. The sacral sensor sits at ``sacrum_offset_m`` in the pelvis frame, the hip joints at
``±pelvis_half_width_m`` along the pelvis y axis, the thigh sensors at ``thigh_sensor_offset_m`` (left; y mirrored
for the right) in the thigh frame.

The sizes of the movements follow from the step length (speed × step time) and the leg length, from normative
data (:mod:`sensors.sim._geometry`): pelvis vertical peak-to-peak ``vertical_excursion_coeff · SL² / leg_length``
(Miff, Gard & Childress 2000; 4.5 cm for 0.72 m steps on a 0.90 m leg; the sacral sensor, behind the hip axis and
tilting with the pelvis, rises ~0.55 cm more, matching real lower-back sensors within their spread) and thigh
sagittal range scaled so that the inter-thigh angle at IC is ``42° · (SL / leg_length) / 0.8`` (Winter's normative
thigh angles).

Pelvis curves
-------------
On the pelvis clock (cycles; left IC 0, right FC 0.1, right IC 0.5, left FC 0.6): rotation
``(range/2)·cos(2π(φ − 0.68))``, the right hip furthest forward 18 % of the stride after right IC (mirror image
after left IC), so the rotation crosses zero shortly before each IC and the yaw *rate* is near its extreme at IC,
turning toward the leading leg (positive at right IC); obliquity ``(range/2)·cos(2π(φ − 0.2))`` plus smooth
``sin³`` bumps of ``pelvic_drop_extra_deg`` over each single support (positive over left single support 0.1–0.5,
negative over right single support 0.6–1.0); tilt ``tilt_mean + (range/2)·cos(4π(φ − 0.30))``, most anterior
at mid single support with the pelvis highest. Each curve's phase varies from stride to stride (``pelvis_phase_sd``;
the tilt from step to step): a smooth staircase of random offsets, drawn per stride from their own random stream,
is added to the clock of that curve only (the drop bumps stay on the event clock). Vertical displacement
``(h/2)·cos(4π(φ − 0.3))`` with h the excursion above (lowest at 0.05/0.55, just after each IC); lateral sway
``(sway_range/2)·cos(2π(φ − 0.3))``; AP oscillation ``(ap_range/2)·cos(4π(φ − 0.14))`` about steady progression
(slowest just before mid single support). The thigh sagittal curve is a
4-harmonic Fourier series, at the reference step length (0.8 leg lengths) +25° at IC, −17° at 52 %, +29° at
87 % (mean 8.71°), scaled about its mean in proportion to step length and shared between the sides by
``thigh_rom_scale``; frontal ``−1° − 3°·sin(2πφ)``.

Where the pelvis phases come from: the shapes (one rotation and one obliquity cycle per stride, two tilt cycles,
the ranges) are normative (Perry & Burnfield 2010, *Gait Analysis*, ch. 8; Whittle's *Gait Analysis*; Kadaba et
al. 1990). The *timing* of rotation, tilt and the AP oscillation is set to what a lower-back sensor sees on real
people (``bench/sim_vs_real.py`` on the Mobilise-D lab examples of mobgap, 3 participants): there the yaw rate is
near its extreme at each IC (the textbook puts the rotation *angle* at its extreme at IC; these participants reach
it 12-24 % of the stride later, we use 18 %), the pitch rate runs with the vertical velocity (anterior tilt
greatest near the highest point, mid single support, rather than at terminal stance) and the forward acceleration
peaks about 0.38 strides after IC. Obliquity keeps the textbook contralateral drop although the lower-back sensors
of those participants roll the other way (toward the stance side; possibly trunk lean picked up by the L5 belt
sensor, not verified). The citations are from the textbooks' well-known curves, not re-checked page by page.

Heel-strike transients
----------------------
Each IC makes the soft tissue under the skin-mounted sensors ring (:mod:`sensors.sim._impact`): the sensor moves
relative to its segment by a damped oscillation (smooth 8 ms onset, ``impact_freq_hz``, ``impact_decay_s``),
downward and ``impact_ap_ratio`` forward in the heading frame, with peak added acceleration ``impact_peak_g`` ×
speed / 1.3 m/s: the sacral sensor at both ICs, each thigh sensor at its own side's IC. It is a translation, so
the gyroscopes do not see it; positions and accelerations stay exactly consistent.

Timing
------
Model time starts at 0 with quiet standing, truly still, on ``[0, standing_s)``. The gait amplitude then ramps up
(C2 smoothstep) over ``ramp_s``; the first truth event, a left IC, is at ``walking_start_s = standing_s + ramp_s``.
Per side, time maps to a canonical phase by a monotone C2 warp through the knots IC → 0 %, FC → 60 %, next IC →
100 %; the pelvis uses one stride clock through left IC → 0 %, right FC → 10 %, right IC → 50 %, left FC → 60 %.
Past ``duration_s`` the model keeps walking (a few more jittered strides, then constant phase rates; turns stay on
schedule), so any time is valid; the truth lists only events before ``duration_s``. Heel-strike transients
stop with the stride table, a few strides past ``duration_s``.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from sensors.sim._geometry import THIGH_SAGITTAL_DEG, thigh_sagittal_scales, vertical_excursion_m
from sensors.sim._impact import ImpactTrain
from sensors.sim._kinematics import (
    Course,
    Jet,
    PhaseWarp,
    Rotation,
    bump_jet,
    carried_point_acc,
    cosine_jet,
    fourier_jet,
    jet_add,
    jet_const,
    jet_mul,
    jet_scale,
    rot_z,
    rot_zxy,
    rotate,
    stride_steps_jet,
)
from sensors.sim._profiles import (
    DEFAULT_MOUNTINGS,
    PROFILES,
    SITES,
    G,
    GaitProfile,
    SensorSpec,
    get_profile,
)
from sensors.sim._truth import FC_PHASE, PELVIS_EVENT_PHASE, GaitTruth, Strides, build_strides

__all__ = [
    "DEFAULT_MOUNTINGS",
    "G",
    "PROFILES",
    "SITES",
    "GaitModel",
    "GaitProfile",
    "GaitTruth",
    "SensorSpec",
    "get_profile",
]

FloatArray = npt.NDArray[np.float64]

# Canonical thigh frontal angle (deg): −1 − 3·sin(2πφ), adducted in stance (−4° at 25 %), abducted in swing.
_THIGH_FRONTAL_DEG = np.array([-1.0, 0.0, -3.0])
# Where the pelvis curves peak, in cycles of the pelvis clock (left IC 0, right FC 0.1, right IC 0.5, left FC 0.6).
_ROTATION_PEAK = 0.68  # right hip furthest forward 18 % of the stride after right IC (0.5); see the docstring
_OBLIQUITY_PEAK = 0.2  # right hip lowest early in left single support; mirror image at 0.7
_TILT_PEAK = 0.30  # anterior tilt peaks at mid single support, with the pelvis highest (two cycles per stride)
_AP_PEAK = 0.14  # slowest forward velocity at 0.265 / 0.765, just before mid single support (the highest point)
_SWAY_PEAK = 0.30  # furthest left at mid left single support
_VERTICAL_PEAK = 0.30  # highest at mid single support (0.30, 0.80), lowest just after each IC (0.05, 0.55)
_SINGLE_SUPPORT = 0.4  # length of each single support on the pelvis clock
_IMPACT_REFERENCE_SPEED_M_S = 1.3  # impact_peak_g applies at this speed, proportional to speed


def _as_times(t: npt.ArrayLike) -> FloatArray:
    times = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if times.ndim != 1 or not np.all(np.isfinite(times)):
        raise ValueError("t must be a 1-D array of finite times in seconds")
    return times


def _check_site(site: str) -> None:
    if site not in SITES:
        raise ValueError(f"unknown site {site!r}; valid sites: {', '.join(SITES)}")


def _check_side(side: str) -> None:
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")


def _interleave(*arrays: FloatArray) -> FloatArray:
    return np.stack(arrays, axis=-1).ravel()


def _in_heading_frame(local: list[Jet], heading: Jet) -> tuple[FloatArray, FloatArray]:
    """World displacement and acceleration of a displacement given in the heading frame (x forward, y left,
    z up), which turns with the walking direction (transport, Coriolis and centripetal terms included)."""
    Rh = rot_z(heading.v)
    q = rotate(Rh, np.stack([j.v for j in local], axis=-1))
    q_d = rotate(Rh, np.stack([j.d for j in local], axis=-1))
    q_dd = rotate(Rh, np.stack([j.dd for j in local], axis=-1))
    zeros = np.zeros_like(heading.v)
    w_h = np.stack([zeros, zeros, heading.d], axis=-1)
    a_h = np.stack([zeros, zeros, heading.dd], axis=-1)
    acc = q_dd + 2.0 * np.cross(w_h, q_d) + np.cross(a_h, q) + np.cross(w_h, np.cross(w_h, q))
    return q, acc


class GaitModel:
    """A walker with known ground truth: poses and noise-free or noisy IMU signals at arbitrary times.

    Args:
        profile: the walker (see :func:`get_profile`).
        duration_s: modelled time, seconds from t = 0 (standing starts at 0); the truth covers ``[0, duration_s)``.
        seed: seeds the stride-to-stride jitter (``numpy.random.default_rng(seed)``); same seed, same gait.

    Attributes:
        profile: the profile used.
        duration_s: as given.
        truth: events, turns and summary (:class:`GaitTruth`).
    """

    def __init__(self, profile: GaitProfile, duration_s: float, seed: int = 0) -> None:
        if not (math.isfinite(duration_s) and duration_s > 0.0):
            raise ValueError(f"duration_s must be a finite time > 0 s, got {duration_s}")
        self.profile = profile
        self.duration_s = float(duration_s)
        p = profile
        stride_s = 120.0 / p.cadence_spm
        walk_s = p.standing_s + p.ramp_s
        n_pre = math.ceil(p.ramp_s / stride_s) + 2
        n_post = math.ceil(max(self.duration_s - walk_s, 0.0) / (stride_s * (1.0 - 3.0 * p.stride_cv))) + 3
        s = build_strides(
            stride_s=stride_s,
            step_share_left=p.step_share_left,
            stance_frac=(p.stance_pct[0] / 100.0, p.stance_pct[1] / 100.0),
            stride_cv=p.stride_cv,
            walk_s=walk_s,
            n_pre=n_pre,
            n_post=n_post,
            rng=np.random.default_rng(seed),
        )
        k = np.arange(s.ic_l.size, dtype=np.float64) - n_pre
        self._warp = {
            "left": PhaseWarp(_interleave(s.ic_l, s.fc_l), _interleave(k, k + FC_PHASE)),
            "right": PhaseWarp(_interleave(s.ic_r, s.fc_r), _interleave(k, k + FC_PHASE)),
        }
        ph = PELVIS_EVENT_PHASE
        # The pelvis clock runs through all four events of each stride; stride 0 has no preceding right FC.
        self._warp["pelvis"] = PhaseWarp(
            np.concatenate(
                [[s.ic_l[0], s.ic_r[0], s.fc_l[0]], _interleave(s.ic_l[1:], s.fc_r[:-1], s.ic_r[1:], s.fc_l[1:])]
            ),
            np.concatenate(
                [k[:1] + [ph[0], ph[2], ph[3]], _interleave(k[1:] + ph[0], k[1:] + ph[1], k[1:] + ph[2], k[1:] + ph[3])]
            ),
        )
        # Stride-to-stride phase offsets of the rotation, obliquity and tilt curves (strides), one per pelvis-clock
        # stride, from their own stream so the event table of a seed does not change; nominal strides get none.
        # Tilt (two cycles per stride) gets one offset per step, the once-per-stride curves one per stride.
        steps = np.arange(2 * k.size, dtype=np.float64) - 2 * n_pre
        z = np.clip(np.random.default_rng((seed, 1)).standard_normal((3, steps.size)), -3.0, 3.0)
        sd = p.pelvis_phase_sd
        self._jitter = (
            sd[0] * z[0, : k.size] * (k >= 0),
            sd[1] * z[1, : k.size] * (k >= 0),
            sd[2] * z[2] * (steps >= 0),
        )
        self._n_pre = n_pre
        self._course = Course(walk_s, p.ramp_s, p.speed_m_s, p.turn_every_s, p.turn_duration_s)
        self._thigh_scale = dict(zip(("left", "right"), thigh_sagittal_scales(p), strict=True))
        self._impacts = self._make_impacts(s)
        self.truth = self._make_truth(s, walk_s)

    def _make_impacts(self, s: Strides) -> dict[str, ImpactTrain]:
        """Heel-strike transients: the pelvis sensor at every IC, each thigh sensor at its own side's ICs."""
        p = self.profile
        per_speed = G * p.speed_m_s / _IMPACT_REFERENCE_SPEED_M_S
        ic = {"left": s.ic_l, "right": s.ic_r}
        both = np.sort(np.concatenate([s.ic_l, s.ic_r]))
        # A step taken during gait initiation lands with the ramp's share of the full gait amplitude.
        trains = {
            "pelvis": ImpactTrain(
                both,
                self._course.envelope(both).v * per_speed * p.impact_peak_g[0],
                p.impact_freq_hz[0],
                p.impact_decay_s[0],
            )
        }
        for side in ("left", "right"):
            gain = self._course.envelope(ic[side]).v * per_speed * p.impact_peak_g[1]
            trains[f"{side}_thigh"] = ImpactTrain(ic[side], gain, p.impact_freq_hz[1], p.impact_decay_s[1])
        return trains

    def _make_truth(self, s: Strides, walk_s: float) -> GaitTruth:
        times = np.concatenate([s.ic_l, s.fc_l, s.ic_r, s.fc_r])
        n = s.ic_l.size
        side = np.repeat(np.array(["left", "left", "right", "right"]), n)
        kind = np.repeat(np.array(["IC", "FC", "IC", "FC"]), n)
        keep = (times >= walk_s) & (times < self.duration_s)
        order = np.argsort(times[keep], kind="stable")
        turns = np.zeros((0, 2))
        every = self.profile.turn_every_s
        if every is not None:
            starts = walk_s + every * np.arange(1, math.floor((self.duration_s - walk_s) / every) + 2)
            starts = starts[starts < self.duration_s]
            turns = np.stack([starts, starts + self.profile.turn_duration_s], axis=-1)
        arrays = (times[keep][order], side[keep][order], kind[keep][order], turns)
        for array in arrays:
            array.setflags(write=False)
        return GaitTruth(
            *arrays,
            walking_start_s=walk_s,
            standing_end_s=self.profile.standing_s,
            speed_m_s=self.profile.speed_m_s,
            pelvis_angles_fn=self.pelvis_angles_deg,
            progression_fn=self._progression_m,
        )

    def _progression_m(self, t: FloatArray) -> FloatArray:
        """Forward progression of the pelvis centre along the path (m): distance travelled plus the AP oscillation."""
        p, ph = self.profile, self._warp["pelvis"](t)
        ap = cosine_jet(ph, 2, p.ap_range_m / 2, _AP_PEAK).v
        result: FloatArray = self._course.distance(t) + self._course.envelope(t).v * ap
        return result

    # --- angle curves (radians, as jets) -------------------------------------------------------------------------

    def _pelvis_jets(self, t: FloatArray) -> tuple[Jet, Jet, Jet]:
        p, w, ph = self.profile, self._course.envelope(t), self._warp["pelvis"](t)
        rad = math.radians
        ph_rot = jet_add(ph, stride_steps_jet(ph, self._jitter[0], -self._n_pre))
        ph_obl = jet_add(ph, stride_steps_jet(ph, self._jitter[1], -self._n_pre))
        ph_tilt = jet_add(ph, stride_steps_jet(jet_scale(ph, 2.0), self._jitter[2], -2 * self._n_pre))
        rotation = cosine_jet(ph_rot, 1, rad(p.rotation_range_deg) / 2, _ROTATION_PEAK)
        obliquity = jet_add(
            cosine_jet(ph_obl, 1, rad(p.obliquity_range_deg) / 2, _OBLIQUITY_PEAK),
            bump_jet(ph, PELVIS_EVENT_PHASE[1], _SINGLE_SUPPORT, rad(p.pelvic_drop_extra_deg[0])),
            bump_jet(ph, PELVIS_EVENT_PHASE[3], _SINGLE_SUPPORT, -rad(p.pelvic_drop_extra_deg[1])),
        )
        tilt = cosine_jet(ph_tilt, 2, rad(p.tilt_range_deg) / 2, _TILT_PEAK)
        return (
            jet_mul(w, rotation),
            jet_mul(w, obliquity),
            jet_add(jet_const(rad(p.tilt_mean_deg), t.size), jet_mul(w, tilt)),
        )

    def _thigh_jets(self, side: str, t: FloatArray) -> tuple[Jet, Jet]:
        w, ph = self._course.envelope(t), self._warp[side](t)
        scale = self._thigh_scale[side]
        sagittal = np.deg2rad(THIGH_SAGITTAL_DEG) * np.where(np.arange(THIGH_SAGITTAL_DEG.size) == 0, 1.0, scale)
        return jet_mul(w, fourier_jet(ph, sagittal)), jet_mul(w, fourier_jet(ph, np.deg2rad(_THIGH_FRONTAL_DEG)))

    def pelvis_angles_deg(self, t: npt.ArrayLike) -> FloatArray:
        """Pelvis (rotation, obliquity, tilt) in degrees, shape (n, 3); rotation excludes the walking heading."""
        jets = self._pelvis_jets(_as_times(t))
        return np.rad2deg(np.stack([j.v for j in jets], axis=-1))

    def thigh_angles_deg(self, side: str, t: npt.ArrayLike) -> FloatArray:
        """Global thigh (sagittal = flexion +, frontal = abduction +) angles in degrees, shape (n, 2).

        ``side`` is ``"left"`` or ``"right"``.
        """
        _check_side(side)
        sagittal, frontal = self._thigh_jets(side, _as_times(t))
        return np.rad2deg(np.stack([sagittal.v, frontal.v], axis=-1))

    def gait_phase(self, side: str, t: npt.ArrayLike) -> FloatArray:
        """Canonical gait phase of one side in % (0 at IC, 60 at FC, 100 at the next IC), unwrapped over strides."""
        _check_side(side)
        phase: FloatArray = 100.0 * self._warp[side](_as_times(t)).v
        return phase

    # --- kinematic chain -----------------------------------------------------------------------------------------

    def _segment(self, site: str, t: FloatArray) -> tuple[Rotation, FloatArray, FloatArray]:
        """Segment orientation/angular motion, sensor position (m) and sensor acceleration (m/s², world).

        Chain: course path + heading-frame pelvis oscillations → pelvis centre → (sacrum | hip joint → thigh
        sensor); each rigid-body step adds ``α × r + ω × (ω × r)``.
        """
        p, course = self.profile, self._course
        w, heading, ph = course.envelope(t), course.heading(t), self._warp["pelvis"](t)
        rotation, obliquity, tilt = self._pelvis_jets(t)
        pelvis = rot_zxy(jet_add(heading, rotation), obliquity, tilt)
        local = [
            jet_mul(w, cosine_jet(ph, 2, p.ap_range_m / 2, _AP_PEAK)),
            jet_mul(w, cosine_jet(ph, 1, p.sway_range_m / 2, _SWAY_PEAK)),
            jet_mul(w, cosine_jet(ph, 2, vertical_excursion_m(p) / 2, _VERTICAL_PEAK)),
        ]
        q, q_acc = _in_heading_frame(local, heading)
        centre = course.position(t) + q + np.array([0.0, 0.0, p.leg_length_m])
        centre_acc = course.acceleration(t) + q_acc
        # Soft tissue under the sensor rings after each IC: a displacement of the sensor relative to its segment.
        impact = self._impacts[site](t)
        norm = math.hypot(1.0, p.impact_ap_ratio)
        shake, shake_acc = _in_heading_frame(
            [jet_scale(impact, p.impact_ap_ratio / norm), jet_const(0.0, t.size), jet_scale(impact, -1.0 / norm)],
            heading,
        )
        if site == "pelvis":
            r = rotate(pelvis.R, np.array(p.sacrum_offset_m))
            return pelvis, centre + r + shake, carried_point_acc(centre_acc, pelvis, r) + shake_acc
        side = site.removesuffix("_thigh")
        mirror = np.array([1.0, 1.0 if side == "left" else -1.0, 1.0])
        r_hip = rotate(pelvis.R, mirror * np.array([0.0, p.pelvis_half_width_m, 0.0]))
        hip, hip_acc = centre + r_hip, carried_point_acc(centre_acc, pelvis, r_hip)
        sagittal, frontal = self._thigh_jets(side, t)
        thigh = rot_zxy(heading, jet_scale(frontal, mirror[1]), jet_scale(sagittal, -1.0))
        r = rotate(thigh.R, mirror * np.array(p.thigh_sensor_offset_m))
        return thigh, hip + r + shake, carried_point_acc(hip_acc, thigh, r) + shake_acc

    def segment_pose(self, site: str, t: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Sensor orientation ``R_segment · R_mount`` (n, 3, 3; sensor axes as columns in world axes) and sensor
        position (n, 3) in metres, world frame, for ``site`` in :data:`SITES`."""
        _check_site(site)
        segment, position, _ = self._segment(site, _as_times(t))
        R: FloatArray = segment.R @ self.profile.sensors[site].mounting
        return R, position

    def imu(self, site: str, t: npt.ArrayLike, rng: np.random.Generator | None = None) -> tuple[FloatArray, FloatArray]:
        """Accelerometer (n, 3, m/s², specific force incl. gravity) and gyroscope (n, 3, deg/s), sensor frame.

        Noise-free without ``rng``; with ``rng``, the site's constant biases plus white noise (SDs from its
        :class:`SensorSpec`) are added, acc noise drawn before gyro noise.
        """
        _check_site(site)
        spec = self.profile.sensors[site]
        segment, _, acc_world = self._segment(site, _as_times(t))
        R = segment.R @ spec.mounting
        acc = np.einsum("nji,nj->ni", R, acc_world + np.array([0.0, 0.0, G]))
        gyr = np.rad2deg(np.einsum("nji,nj->ni", R, segment.w))
        if rng is not None:
            acc = acc + np.array(spec.acc_bias_m_s2) + rng.normal(0.0, spec.acc_noise_m_s2, acc.shape)
            gyr = gyr + np.array(spec.gyr_bias_dps) + rng.normal(0.0, spec.gyr_noise_dps, gyr.shape)
        return acc, gyr

"""Private: sensor specs and walker profiles of :mod:`sensors.sim.gait_model` (re-exported there)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NoReturn, Self

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

SITES: tuple[str, ...] = ("pelvis", "left_thigh", "right_thigh")
G = 9.80665  # standard gravity, m/s²


def _frozen(matrix: list[list[float]]) -> FloatArray:
    array = np.array(matrix, dtype=np.float64)
    array.setflags(write=False)
    return array


#: Realistic default sensor mountings (sensor axes as columns in segment axes), see the module docstring.
DEFAULT_MOUNTINGS: Mapping[str, FloatArray] = MappingProxyType(
    {
        "pelvis": _frozen([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),
        "left_thigh": _frozen([[0.0, -1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]]),
        "right_thigh": _frozen([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [-1.0, 0.0, 0.0]]),
    }
)


@dataclass(frozen=True)
class SensorSpec:
    """One IMU: how it is mounted on its segment and how it errs.

    Attributes:
        mounting: (3, 3) rotation matrix, the sensor axes as columns in segment axes (read-only copy).
        acc_noise_m_s2: white-noise SD per sample and axis of the accelerometer, m/s².
        gyr_noise_dps: white-noise SD per sample and axis of the gyroscope, deg/s.
        acc_bias_m_s2: constant accelerometer bias per sensor axis, m/s².
        gyr_bias_dps: constant gyroscope bias per sensor axis, deg/s.
    """

    mounting: FloatArray
    acc_noise_m_s2: float = 0.0
    gyr_noise_dps: float = 0.0
    acc_bias_m_s2: tuple[float, float, float] = (0.0, 0.0, 0.0)
    gyr_bias_dps: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        m = np.array(self.mounting, dtype=np.float64)
        if m.shape != (3, 3) or not np.allclose(m.T @ m, np.eye(3), atol=1e-6) or np.linalg.det(m) < 0.0:
            raise ValueError(f"mounting must be a proper 3x3 rotation matrix (orthonormal, det +1), got {m.tolist()}")
        m.setflags(write=False)
        object.__setattr__(self, "mounting", m)
        for name in ("acc_noise_m_s2", "gyr_noise_dps"):
            value = float(getattr(self, name))
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f"{name} must be a finite SD >= 0, got {value}")
            object.__setattr__(self, name, value)
        for name in ("acc_bias_m_s2", "gyr_bias_dps"):
            object.__setattr__(self, name, _vector(name, getattr(self, name)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SensorSpec):
            return NotImplemented
        return bool(np.array_equal(self.mounting, other.mounting)) and self._scalars() == other._scalars()

    def __hash__(self) -> int:
        return hash((self.mounting.tobytes(), self._scalars()))

    def __reduce__(self) -> tuple[type[SensorSpec], tuple[Any, ...]]:
        return (type(self), (self.mounting, *self._scalars()))

    def _scalars(self) -> tuple[Any, ...]:
        return (self.acc_noise_m_s2, self.gyr_noise_dps, self.acc_bias_m_s2, self.gyr_bias_dps)


def _vector(name: str, value: Any) -> tuple[float, float, float]:
    values = tuple(float(v) for v in value)
    if len(values) != 3 or not all(math.isfinite(v) for v in values):
        raise ValueError(f"{name} must be three finite numbers (x, y, z), got {value!r}")
    return (values[0], values[1], values[2])


class _SensorMap(dict[str, SensorSpec]):
    """The read-only ``GaitProfile.sensors``: a dict that refuses changes, so profiles stay frozen while
    ``dataclasses.asdict``, ``copy.deepcopy`` and pickle keep working (``MappingProxyType`` cannot be copied)."""

    def _refuse(self) -> NoReturn:
        raise TypeError("GaitProfile.sensors is read-only; make a new profile with get_profile(..., sensors={...})")

    def __setitem__(self, key: str, value: SensorSpec) -> None:
        self._refuse()

    def __delitem__(self, key: str) -> None:
        self._refuse()

    def clear(self) -> None:
        self._refuse()

    def pop(self, *_args: Any) -> Any:
        self._refuse()

    def popitem(self) -> tuple[str, SensorSpec]:
        self._refuse()

    def setdefault(self, *_args: Any) -> Any:
        self._refuse()

    def update(self, *_args: Any, **_kwargs: Any) -> None:
        self._refuse()

    def __ior__(self, _other: Any) -> Self:  # type: ignore[override,misc]  # typeshed's dict overloads
        self._refuse()

    def __reduce__(self) -> tuple[type[_SensorMap], tuple[dict[str, SensorSpec]]]:
        return (type(self), (dict(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self.items()))


def _default_sensors() -> Mapping[str, SensorSpec]:
    return {
        "pelvis": SensorSpec(DEFAULT_MOUNTINGS["pelvis"], 0.05, 0.5, (0.03, -0.02, 0.01), (0.2, -0.3, 0.1)),
        "left_thigh": SensorSpec(DEFAULT_MOUNTINGS["left_thigh"], 0.05, 0.5, (-0.02, 0.04, 0.01), (-0.25, 0.15, 0.3)),
        "right_thigh": SensorSpec(DEFAULT_MOUNTINGS["right_thigh"], 0.05, 0.5, (0.01, -0.03, 0.05), (0.1, 0.2, -0.35)),
    }


@dataclass(frozen=True)
class GaitProfile:
    """Parameters of one walker. Build with :func:`get_profile`; every field is validated on construction.

    Attributes:
        name: profile label.
        cadence_spm: steps per minute; stride time = 120 / cadence s.
        speed_m_s: forward walking speed, m/s.
        stance_pct: (left, right) stance time as % of that side's stride.
        step_share_left: left step time (right IC → left IC) / stride time; 0.5 is symmetric.
        thigh_rom_scale: (left, right) share of the thigh sagittal range: the canonical curve, scaled about its mean
            to the step length (see :mod:`sensors.sim._geometry`), is multiplied by ``2·r_side / (r_left +
            r_right)``, so (1.0, 0.8) gives a right thigh range 0.8 times the left one at the same mean
            inter-thigh angle.
        pelvic_drop_extra_deg: extra contralateral pelvic drop (deg) during (left, right) single support, added to
            the base obliquity curve as a smooth bump peaking at mid single support (the Trendelenburg knob;
            negative values lift the swing side instead).
        obliquity_range_deg: peak-to-peak of the base obliquity curve (one cycle per stride), deg.
        tilt_mean_deg: mean anterior pelvic tilt, also the standing tilt, deg.
        tilt_range_deg: peak-to-peak of the tilt oscillation (two cycles per stride), deg.
        rotation_range_deg: peak-to-peak pelvic rotation (one cycle per stride), deg.
        leg_length_m: hip-joint height standing, m. Step length (speed × step time) must stay within 0.1-1.2 leg
            lengths.
        stride_cv: stride-time coefficient of variation (0.02 = 2 %); step share and stance fractions jitter
            with an absolute SD of ``stride_cv / 4``.
        standing_s: quiet standing at the start, s.
        turn_every_s: a 180° left turn every this many seconds of walking (``None`` = straight line).
        sensors: :class:`SensorSpec` per site in :data:`SITES` (stored as a read-only dict; pass any mapping).
        turn_duration_s: duration of each turn, s.
        ramp_s: gait-initiation ramp between standing and the first IC, s.
        vertical_excursion_coeff: pelvis centre vertical peak-to-peak = this × step_length² / leg_length
            (dimensionless; 0.078 gives 4.5 cm for 0.72 m steps on a 0.90 m leg, and the sacral *sensor*, behind
            the hip axis and tilting, then rises ~4.9 cm, as real lower-back sensors do; see
            :mod:`sensors.sim._geometry`).
        sway_range_m: pelvis lateral peak-to-peak, m.
        ap_range_m: pelvis anterior-posterior oscillation peak-to-peak about steady progression, m.
        pelvis_half_width_m: hip joints at ± this along the pelvis y axis, m.
        sacrum_offset_m: sacral sensor position relative to the pelvis centre, pelvis frame, m.
        thigh_sensor_offset_m: left thigh sensor position relative to the hip joint, thigh frame, m (the right
            thigh uses the mirror image, y negated).
        impact_peak_g: (pelvis, thigh) peak acceleration, in g, of the soft-tissue transient at each IC at
            1.3 m/s, proportional to speed; the pelvis sensor rings at both ICs, a thigh sensor at its own side's
            IC; (0, 0) turns the transients off (see :mod:`sensors.sim._impact`).
        impact_freq_hz: (pelvis, thigh) frequency of the transient's damped oscillation, Hz.
        impact_decay_s: (pelvis, thigh) exponential decay time of the transient, s.
        impact_ap_ratio: forward / downward share of the transient's displacement (in the heading frame; the
            tissue keeps moving forward and down when the foot stops).
        pelvis_phase_sd: (rotation, obliquity, tilt) stride-to-stride SD of each pelvis angle curve's phase
            relative to the gait events, in strides (0.05 = 18° of the stride cycle). Each walking stride (each
            step for the tilt, which has two cycles per stride) draws its offsets (truncated at ±3 SD); the
            curves move smoothly from one stride's (step's) offset to the next, so
            the phase relations between rotation, obliquity, tilt and the pelvis translations vary from stride
            to stride as in real walking. (0, 0, 0) locks every curve to the events.
    """

    name: str
    cadence_spm: float
    speed_m_s: float
    stance_pct: tuple[float, float]
    step_share_left: float
    thigh_rom_scale: tuple[float, float]
    pelvic_drop_extra_deg: tuple[float, float]
    obliquity_range_deg: float
    tilt_mean_deg: float
    tilt_range_deg: float
    rotation_range_deg: float
    leg_length_m: float
    stride_cv: float
    standing_s: float
    turn_every_s: float | None
    sensors: Mapping[str, SensorSpec] = field(default_factory=_default_sensors)
    turn_duration_s: float = 2.0
    ramp_s: float = 1.0
    vertical_excursion_coeff: float = 0.078
    sway_range_m: float = 0.04
    ap_range_m: float = 0.012
    pelvis_half_width_m: float = 0.09
    sacrum_offset_m: tuple[float, float, float] = (-0.10, 0.0, 0.05)
    thigh_sensor_offset_m: tuple[float, float, float] = (0.0, 0.07, -0.20)
    impact_peak_g: tuple[float, float] = (0.45, 1.0)
    impact_freq_hz: tuple[float, float] = (12.0, 16.0)
    impact_decay_s: tuple[float, float] = (0.030, 0.025)
    impact_ap_ratio: float = 0.4
    pelvis_phase_sd: tuple[float, float, float] = (0.05, 0.04, 0.05)

    def __post_init__(self) -> None:
        _validate_profile(self)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, f.name) for f in dataclasses.fields(self)))


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _pair(profile: GaitProfile, name: str) -> tuple[float, float]:
    values = tuple(float(v) for v in getattr(profile, name))
    _check(len(values) == 2 and all(math.isfinite(v) for v in values), f"{name} must be a pair of numbers")
    object.__setattr__(profile, name, values)
    return values[0], values[1]


def _validate_profile(p: GaitProfile) -> None:
    """Check a profile's physics and normalise its containers; ValueError names the field and the fix."""
    _check(30.0 <= p.cadence_spm <= 200.0, f"cadence_spm must be within 30..200 steps/min, got {p.cadence_spm}")
    _check(0.0 < p.speed_m_s <= 3.0, f"speed_m_s must be within (0, 3] m/s, got {p.speed_m_s}")
    _check(0.0 < p.step_share_left < 1.0, f"step_share_left must be within (0, 1), got {p.step_share_left}")
    left, right = _pair(p, "stance_pct")
    _check(0.0 < left < 100.0 and 0.0 < right < 100.0, f"stance_pct must be within (0, 100) %, got {p.stance_pct}")
    share = 100.0 * p.step_share_left
    _check(
        right > share,
        f"right stance_pct ({right:g} %) must exceed the left step share ({share:g} %): the right foot has to stay "
        "on the ground until after the left IC, otherwise there is no double support",
    )
    _check(
        left > 100.0 - share,
        f"left stance_pct ({left:g} %) must exceed the right step share ({100.0 - share:g} %): the left foot has to "
        "stay on the ground until after the right IC, otherwise there is no double support",
    )
    _check(min(_pair(p, "thigh_rom_scale")) >= 0.0, f"thigh_rom_scale must be >= 0, got {p.thigh_rom_scale}")
    _pair(p, "pelvic_drop_extra_deg")
    for name in (
        "obliquity_range_deg",
        "tilt_range_deg",
        "rotation_range_deg",
        "vertical_excursion_coeff",
        "impact_ap_ratio",
        "sway_range_m",
        "ap_range_m",
        "standing_s",
        "pelvis_half_width_m",
    ):
        value = getattr(p, name)
        _check(math.isfinite(value) and value >= 0.0, f"{name} must be a finite number >= 0, got {value}")
    _check(abs(p.tilt_mean_deg) < 45.0, f"tilt_mean_deg must be within ±45°, got {p.tilt_mean_deg}")
    _check(0.3 <= p.leg_length_m <= 1.5, f"leg_length_m must be within 0.3..1.5 m, got {p.leg_length_m}")
    step_m = 60.0 * p.speed_m_s / p.cadence_spm
    _check(
        0.1 <= step_m / p.leg_length_m <= 1.2,
        f"the mean step length, speed_m_s × 60 / cadence_spm = {step_m:.2f} m, must be within 0.1-1.2 leg lengths "
        f"({p.leg_length_m:g} m): change speed_m_s or cadence_spm",
    )
    _check(min(_pair(p, "impact_peak_g")) >= 0.0, f"impact_peak_g must be >= 0 g, got {p.impact_peak_g}")
    freq, decay = _pair(p, "impact_freq_hz"), _pair(p, "impact_decay_s")
    _check(all(5.0 <= f <= 40.0 for f in freq), f"impact_freq_hz must be within 5..40 Hz, got {freq}")
    _check(all(0.005 <= d <= 0.1 for d in decay), f"impact_decay_s must be within 0.005..0.1 s, got {decay}")
    _check(0.0 <= p.stride_cv <= 0.1, f"stride_cv must be within 0..0.1 (0..10 %), got {p.stride_cv}")
    _check(p.ramp_s > 0.0, f"ramp_s must be > 0 s (the gait needs a smooth start), got {p.ramp_s}")
    _check(p.turn_duration_s > 0.0, f"turn_duration_s must be > 0 s, got {p.turn_duration_s}")
    _check(
        p.turn_every_s is None or (math.isfinite(p.turn_every_s) and p.turn_every_s > p.turn_duration_s),
        f"turn_every_s ({p.turn_every_s}) must exceed turn_duration_s ({p.turn_duration_s}), or be None",
    )
    for name in ("sacrum_offset_m", "thigh_sensor_offset_m", "pelvis_phase_sd"):
        object.__setattr__(p, name, _vector(name, getattr(p, name)))
    _check(
        all(0.0 <= sd <= 0.08 for sd in p.pelvis_phase_sd),
        f"pelvis_phase_sd must be within 0..0.08 strides (so the jittered phases keep moving forward), "
        f"got {p.pelvis_phase_sd}",
    )
    sensors = dict(p.sensors)
    _check(set(sensors) == set(SITES), f"sensors must have exactly the sites {SITES}, got {sorted(sensors)}")
    _check(all(isinstance(s, SensorSpec) for s in sensors.values()), "sensors values must be SensorSpec")
    object.__setattr__(p, "sensors", _SensorMap({site: sensors[site] for site in SITES}))


PROFILES: Mapping[str, GaitProfile] = MappingProxyType(
    {
        "healthy": GaitProfile(
            name="healthy",
            cadence_spm=108.0,
            speed_m_s=1.30,
            stance_pct=(61.0, 61.0),
            step_share_left=0.50,
            thigh_rom_scale=(1.0, 1.0),
            pelvic_drop_extra_deg=(0.0, 0.0),
            obliquity_range_deg=4.5,
            tilt_mean_deg=10.0,
            tilt_range_deg=3.0,
            rotation_range_deg=9.0,
            leg_length_m=0.90,
            stride_cv=0.02,
            standing_s=3.0,
            turn_every_s=None,
        ),
        # Right-knee pain: the right stance is cut short (stance-time SI ≈ −10 %, right < left), so the left
        # swing, hence the left step, is short (step-time SI ≈ +16 %); smaller right hip excursion; the left hip
        # drops ~4° more during right single support; slower and lower cadence.
        "antalgic_right": GaitProfile(
            name="antalgic_right",
            cadence_spm=100.0,
            speed_m_s=1.05,
            stance_pct=(63.0, 57.0),
            step_share_left=0.46,
            thigh_rom_scale=(1.0, 0.8),
            pelvic_drop_extra_deg=(0.0, 4.0),
            obliquity_range_deg=4.5,
            tilt_mean_deg=11.0,
            tilt_range_deg=3.5,
            rotation_range_deg=8.0,
            leg_length_m=0.90,
            stride_cv=0.025,
            standing_s=3.0,
            turn_every_s=None,
        ),
    }
)


def get_profile(name: str, **overrides: Any) -> GaitProfile:
    """A built-in profile by name, optionally with fields replaced (``dataclasses.replace``, re-validated).

    Raises:
        ValueError: unknown profile name or field (the message lists the valid ones), or invalid values.
    """
    if name not in PROFILES:
        raise ValueError(f"unknown gait profile {name!r}; valid names: {', '.join(sorted(PROFILES))}")
    valid = {f.name for f in dataclasses.fields(GaitProfile)}
    unknown = sorted(set(overrides) - valid)
    if unknown:
        raise ValueError(f"unknown GaitProfile field(s) {unknown}; valid fields: {', '.join(sorted(valid))}")
    return dataclasses.replace(PROFILES[name], **overrides)

"""Per-walker step-length calibration: one walk of known distance, or a treadmill belt speed, scales a model.

Why. Both step-length models of :mod:`pipeline.spatial` read short by a factor that differs from person to person.
The inverted pendulum covers single support only: Zijlstra & Hof (2003, Gait Posture 18:1) needed a correction
factor of 1.25 on average, with individual factors around it, and González et al. (2007, IEEE EMBC,
doi:10.1109/IEMBS.2007.4352553) summarise that pendulum estimates "are prone to underestimate the step length, and
must be corrected by calibration". mobgap's population factor (fitted on people with MS) leaves each walker with
their own bias: on one treadmill walker (``bench/validate_tripod.py``) it read 13–28 % short with the cadence
exact, while slow daily-life bouts in the Mobilise-D example data read long. The compass model of the thighs reads
short by construction (it ignores the feet and the knees). A clinician already walks patients over known distances
(10-metre walk test, 6-minute walk test), so one such walk measures that walker's factor:

    factor = reference / uncalibrated estimate        (per method: "pelvis", "thigh")

and every later step length of that method is multiplied by it. The factor is kept in the subject profile with its
provenance (:class:`StepLengthCalibration`); it is tied to the body lengths in force when it was measured and is
not applied once they change (:func:`is_current`). It scales the model *with* the population factor the model had
then (``model_factor``: mobgap's K for the pendulum, ``SpatialConfig.compass_k`` for the thighs), so when a later
imugait or a re-processing configuration changes that factor the walker's factor is rescaled to keep their
calibrated scale (:meth:`StepLengthCalibration.factor_for`): a calibration measures the walker, not the version.

Estimate over a walk (:func:`walk_estimates`). The walk is the session's walking bouts (runs of strides,
:func:`pipeline.spatial.bouts`), optionally clipped to ``[start_s, end_s]``. In a bout of n steps with mean step
length s̄ (the mean of the steps that have a length; steps lost to a sensor gap count with the mean), the body
travels n · s̄ from standing to standing: each initial contact (IC) ends one step, the first one from feet
together, and the closing step that brings the trailing foot alongside moves the feet, not the walk's end. An IC
refused next to a sensor gap would drop a step, so n counts each interval between ICs in median steps
(:func:`step_count`; a deliberate walk has no hesitations), and bouts less than :data:`MAX_BREAK_S` apart — split
by a gap that cost whole strides — are one walk (Mobilise-D's break rule). That is the distance; its uncertainty
is about one step at either end (gait initiation and a terminal contact the pelvis detector may miss,
``docs/validation/README.md`` §h), so a walk of n steps has a relative uncertainty of ≈ 1/n, and short walks are
refused (:data:`MIN_STEPS`). The speed, for a treadmill belt, is the steady walking speed the session reports
(``walking_speed_m_s``: the mean stride speed over valid, steady strides, so the first steps onto the belt and any
stumble do not count); its uncertainty is the 95 % interval of that mean (1.96 standard errors, relative).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np

from pipeline.bouts import merge_intervals
from pipeline.errors import DataContractError, InsufficientDataError
from pipeline.metrics import StrideTable
from pipeline.spatial import ZIJLSTRA_K_MS_MS, FloatArray, SpatialConfig, SpatialResult

Method = Literal["pelvis", "thigh"]
Reference = Literal["distance", "speed"]
METHODS: tuple[Method, ...] = ("pelvis", "thigh")
MAX_BREAK_S = 3.0  # Mobilise-D: a break of 3 s or more ends a walking bout; shorter ones (gaps) do not
MIN_STEPS = 12  # ≈ 8 m of walking; with ±1 step the distance is then known to ≈ 8 %
FACTOR_RANGE = (0.5, 2.0)  # outside: a wrong distance, the wrong walk, or a sensor problem — never a real walker
_UNITS = {"distance": "m", "speed": "m/s"}
# The population factor each model had before records stored it (subject format < 3, pipeline < 1.13).
LEGACY_MODEL_FACTOR: dict[str, float] = {"pelvis": ZIJLSTRA_K_MS_MS, "thigh": 1.0}


def model_factor(method: Method, config: SpatialConfig) -> float:
    """The population factor ``config`` gives ``method``'s model (pendulum: ``zijlstra_k``; thigh: ``compass_k``)."""
    return config.zijlstra_k if method == "pelvis" else config.compass_k


@dataclass(frozen=True)
class WalkEstimate:
    """One method's uncalibrated distance and speed over a walk."""

    method: Method
    distance_m: float
    speed_m_s: float
    n_steps: int  # steps in the walk (each ends at an IC; :func:`step_count`)
    n_lengths: int  # of those, steps with a length from this method
    duration_s: float  # first to last IC, summed over bouts
    mean_step_m: float
    rel_se: float  # standard error of the mean steady stride speed / that mean

    def value(self, reference: Reference) -> float:
        """The estimate in the unit of ``reference``."""
        return self.distance_m if reference == "distance" else self.speed_m_s


@dataclass(frozen=True)
class StepLengthCalibration:
    """One method's factor and where it came from (stored in ``subject.json``)."""

    method: Method
    factor: float
    reference: Reference
    reference_value: float  # m (distance) or m/s (speed)
    estimate_value: float  # the uncalibrated model over the same walk, same unit
    n_steps: int
    uncertainty_pct: float  # ≈ 95 % relative uncertainty of the factor (module docstring)
    session: str  # session id of the calibration walk
    model_length_m: float  # the length the model used (pendulum for pelvis, leg for thigh): the factor holds with it
    pipeline_version: str
    created: str  # ISO 8601, UTC
    model_factor: float  # the model's population factor when this walk was measured (:func:`model_factor`)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise DataContractError(f"calibration method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.reference not in _UNITS:
            raise DataContractError(f"calibration reference must be distance or speed, got {self.reference!r}")
        numbers = ("factor", "reference_value", "estimate_value", "uncertainty_pct", "model_length_m", "model_factor")
        for name in numbers:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise DataContractError(f"calibration {name} must be a finite number, got {value!r}")
            object.__setattr__(self, name, float(value))
        lo, hi = FACTOR_RANGE
        if not lo <= self.factor <= hi:
            raise DataContractError(f"calibration factor {self.factor:.3f} is outside {lo:g}–{hi:g}")
        if isinstance(self.n_steps, bool) or not isinstance(self.n_steps, int) or self.n_steps < 1:
            raise DataContractError(f"calibration n_steps must be a positive integer, got {self.n_steps!r}")
        if self.model_factor <= 0.0:
            raise DataContractError(f"calibration model_factor must be positive, got {self.model_factor!r}")

    def factor_for(self, config: SpatialConfig) -> float:
        """The walker's factor for the model as ``config`` sets it: ``factor × model_factor / model_factor(config)``,
        so that factor × population factor, the scale the calibration walk measured, is kept."""
        return self.factor * self.model_factor / model_factor(self.method, config)

    def describe(self) -> str:
        """One line for people: "pelvis ×1.190 from session s1 (20.0 m walk, 31 steps, ±3 %, 2026-11-21)"."""
        unit = _UNITS[self.reference]
        what = (
            f"{self.reference_value:.1f} m walk"
            if self.reference == "distance"
            else f"{self.reference_value:.2f} {unit}"
        )
        return (
            f"{self.method} ×{self.factor:.3f} from session {self.session} ({what}, {self.n_steps} steps, "
            f"±{self.uncertainty_pct:.0f} %, {self.created[:10]})"
        )

    @classmethod
    def from_dict(cls, data: Any) -> StepLengthCalibration:
        """Parse one stored record; raise :class:`DataContractError` naming what is wrong."""
        if not isinstance(data, dict):
            raise DataContractError("step_length_calibration entries must be JSON objects")
        if "model_factor" not in data and data.get("method") in LEGACY_MODEL_FACTOR:  # written before format 3
            data = {**data, "model_factor": LEGACY_MODEL_FACTOR[data["method"]]}
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        missing = sorted(set(cls.__dataclass_fields__) - set(data))
        if unknown or missing:
            raise DataContractError(
                "step_length_calibration entry has "
                + "; ".join(p for p in (_listed("unknown", unknown), _listed("missing", missing)) if p)
            )
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


def _listed(what: str, names: list[str]) -> str:
    return f"{what} field(s) {', '.join(names)}" if names else ""


def model_length(method: Method, leg_length_m: float, pendulum_length_m: float | None) -> float:
    """The body length a method's model uses: the pendulum length for the pelvis, the leg length for the thighs."""
    return (pendulum_length_m or leg_length_m) if method == "pelvis" else leg_length_m


def is_current(cal: StepLengthCalibration, leg_length_m: float, pendulum_length_m: float | None) -> bool:
    """Whether ``cal`` was measured with the body length its model uses now (the factor scales that model)."""
    return math.isclose(cal.model_length_m, model_length(cal.method, leg_length_m, pendulum_length_m), abs_tol=1e-6)


def step_count(ic_t_s: FloatArray) -> int:
    """Steps of a walk from standing to standing with these IC times: 1 + each interval between ICs in median
    steps (at least 1), so an IC the detector missed still counts as a step."""
    dt = np.diff(ic_t_s)
    return 1 + int(np.maximum(1, np.rint(dt / np.median(dt))).sum())


def walk_estimates(
    result: SpatialResult,
    strides: StrideTable,
    *,
    start_s: float | None = None,
    end_s: float | None = None,
) -> dict[Method, WalkEstimate]:
    """Uncalibrated distance and speed over the walk, per method that gives lengths (module docstring);
    ``strides`` is the table ``result`` was computed from (its ``valid`` marks the steady strides).

    Bouts less than :data:`MAX_BREAK_S` apart are one walk (a sensor gap can cost strides; a stop is longer).
    Raises :class:`InsufficientDataError` when the window holds no bout, or when fewer than half of the walk's
    steps have a length from a method that gives lengths (the distance would rest on too few of them).
    """
    b = result.bouts
    lo = -math.inf if start_s is None else start_s
    hi = math.inf if end_s is None else end_s
    if lo >= hi:
        raise DataContractError(f"the walk's start ({start_s} s) must come before its end ({end_s} s)")
    a, z = np.maximum(b.start_s, lo), np.minimum(b.end_s, hi)
    keep = z > a
    a, z = a[keep], z[keep]
    steps = result.steps
    if a.size == 0:
        window = "" if start_s is None and end_s is None else f" between {lo:g} and {hi:g} s"
        raise InsufficientDataError(f"no walking bout{window}; record a walk or check --start/--end")
    # one walk until a stop: breaks under MAX_BREAK_S (a sensor gap that cost strides) do not end it
    a, z, _ = merge_intervals(a, z, max_gap_s=MAX_BREAK_S)
    out: dict[Method, WalkEstimate] = {}
    per_method: tuple[tuple[Method, FloatArray], ...] = (
        ("pelvis", steps.length_pelvis_m),
        ("thigh", steps.length_thigh_m),
    )
    steady = strides.valid & (strides.start_s >= lo) & (strides.end_s <= hi)
    stride_speed = {"pelvis": result.strides.speed_pelvis_m_s, "thigh": result.strides.speed_thigh_m_s}
    for method, lengths in per_method:
        walks: list[tuple[int, FloatArray, float]] = []  # steps, the lengths measured, first-to-last IC time
        for start, end in zip(a, z, strict=True):
            inside = (steps.t_s >= start - 1e-9) & (steps.t_s <= end + 1e-9)
            if inside.sum() >= 2:
                t = steps.t_s[inside]
                walks.append((step_count(t), lengths[inside & np.isfinite(lengths)], float(t[-1] - t[0])))
        measured = np.concatenate([x for _, x, _ in walks]) if walks else np.zeros(0)
        if measured.size == 0:
            continue
        n_steps = sum(n for n, _, _ in walks)
        if measured.size < 0.5 * n_steps:
            raise InsufficientDataError(
                f"only {measured.size} of the walk's {n_steps} steps have a {method} step length (sensor gaps); "
                "record the calibration walk again or choose a part without gaps with --start/--end"
            )
        mean_step = float(measured.mean())
        # a walk whose every step fell in a gap counts its steps with the mean of the others
        distance = sum(n * (float(x.mean()) if x.size else mean_step) for n, x, _ in walks)
        duration = sum(d for _, _, d in walks)
        v = stride_speed[method][steady]
        v = v[np.isfinite(v)]
        speed = float(v.mean()) if v.size else math.nan
        rel_se = float(v.std(ddof=1) / math.sqrt(v.size) / speed) if v.size > 1 else math.inf
        out[method] = WalkEstimate(method, distance, speed, n_steps, measured.size, duration, mean_step, rel_se)
    if not out:
        raise InsufficientDataError("the walk has no step lengths: the session needs a pelvis sensor or both thighs")
    return out


def fit(
    estimates: dict[Method, WalkEstimate],
    reference: Reference,
    reference_value: float,
    *,
    session: str,
    leg_length_m: float,
    pendulum_length_m: float | None,
    pipeline_version: str,
    now: datetime | None = None,
    config: SpatialConfig | None = None,
) -> tuple[StepLengthCalibration, ...]:
    """One calibration per method of ``estimates`` against the reference walk (module docstring); ``config`` is
    the spatial configuration the estimates were computed with (default: the default one); its population factors
    are recorded.

    Raises :class:`DataContractError` for a reference outside plausible walking (distance 2–2000 m, speed
    0.1–3 m/s), a walk shorter than :data:`MIN_STEPS`, or a factor outside :data:`FACTOR_RANGE`, each saying what
    to check.
    """
    if reference not in _UNITS:
        raise DataContractError(f"reference must be distance or speed, got {reference!r}")
    plausible = (2.0, 2000.0) if reference == "distance" else (0.1, 3.0)
    unit = _UNITS[reference]
    if not math.isfinite(reference_value) or not plausible[0] <= reference_value <= plausible[1]:
        hint = " (give metres, e.g. 10 for a 10-metre walk)" if reference == "distance" else " (give m/s: km/h ÷ 3.6)"
        raise DataContractError(
            f"reference {reference} {reference_value:g} {unit} is outside "
            f"{plausible[0]:g}–{plausible[1]:g} {unit}{hint}"
        )
    created = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    out: list[StepLengthCalibration] = []
    for method, est in estimates.items():
        if est.n_steps < MIN_STEPS:
            raise DataContractError(
                f"the walk has {est.n_steps} steps; calibrate on at least {MIN_STEPS} (about 10 m or more), "
                "the longer the better"
            )
        estimate = est.value(reference)
        if not math.isfinite(estimate) or estimate <= 0.0:
            raise InsufficientDataError(
                f"the walk has no steady {method} strides to compare with the belt speed; record a longer walk"
            )
        factor = reference_value / estimate
        lo, hi = FACTOR_RANGE
        if not lo <= factor <= hi:
            raise DataContractError(
                f"the {method} model reads {estimate:.2f} {unit} for a reference of {reference_value:g} {unit} "
                f"(factor {factor:.2f}, outside {lo:g}–{hi:g}): check the reference value, that the session holds "
                "that walk (--start/--end), the subject's lengths, and the sensor placement"
            )
        uncertainty = 100.0 / est.n_steps if reference == "distance" else 100.0 * 1.96 * est.rel_se
        out.append(
            StepLengthCalibration(
                method=method,
                factor=round(factor, 4),
                reference=reference,
                reference_value=float(reference_value),
                estimate_value=round(estimate, 4),
                n_steps=est.n_steps,
                uncertainty_pct=round(uncertainty, 2),
                session=session,
                model_length_m=model_length(method, leg_length_m, pendulum_length_m),
                pipeline_version=pipeline_version,
                created=created,
                model_factor=model_factor(method, config or SpatialConfig()),
            )
        )
    return tuple(out)

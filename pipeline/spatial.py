"""Step length, stride length and walking speed, from the pelvis and from the thighs.

Steps. A step ends at an initial contact (IC) and starts at the previous IC of the other side, half-open
``[IC_prev, IC)``; it belongs to the side whose IC ends it (the leading foot), like ``step_time_s``. A stride of
``side`` (``[IC_k, IC_k+1)`` of that side) holds the contralateral step and then this side's step, so
stride length = sum of those two step lengths and stride speed = stride length / stride time.

(a) Pelvis: Zijlstra & Hof (2003) inverted pendulum, as implemented by mobgap ``SlZijlstra`` (gait_reference
§2.1). The vertical acceleration (gravity removed) is high-passed at ``acc_highpass_hz`` (4th-order Butterworth),
integrated to vertical velocity by the cumulative trapezoid rule over the whole signal, high-passed again at
``velocity_highpass_hz`` to remove integration drift, and integrated to vertical displacement d(t). Per step,
h = max(d) − min(d) over the step (one ``reduceat`` pass per reduction), and
SL = K · 2 · √(2·l·h − h²), with l the pendulum length (pelvis sensor height, else leg length) and K mobgap's
population factor (4.587/4, fitted on the Mobilise-D MS project). The pendulum covers single support only, which
is why K > 1 and why the model under-reads when the walker's vertical excursion is small for its step length.

(b) Thighs: compass-gait (hip-excursion) geometry. At an IC both feet are on the floor. Modelling each leg as a
straight segment of length L from the hip joint, hip, leading foot and trailing foot form an isosceles triangle
with apex angle Δθ, the angle between the legs, so the distance between the feet is

    SL = K_c · 2 · L · sin(Δθ / 2),   Δθ = θ_lead(IC) − θ_trail(IC),

with θ the sagittal thigh angle (flexion +) of each side sampled at the IC. Because only the difference of the two
thigh angles enters, the unknown standing offset of each thigh angle cancels (both are zeroed at the same upright
posture), and the isosceles shape holds whatever the pelvis height. The chord ignores the knees and the feet, so it
reads short of the heel-to-heel step. On motion-capture markers (``bench/validate_neura.py``, one trial) the chord
with exact thigh angles is 9 % short; the trailing knee is almost straight at the other foot's contact (6°), and
most of the missing length is the trailing foot, its heel lifted behind the ankle (the ankle centres are 13 % closer
than the heels). The thigh sensors add to it: they turn less than the hip–knee axis (soft tissue), and the pelvis's
own rotation, which carries the hips forward and back, is not in the thigh angles at all. K_c
(:data:`COMPASS_K`, ``SpatialConfig.compass_k``) is the population factor for all of it, as mobgap's K is for the
pendulum: 1.15, the median over 25 walks of young and elderly people of each walk's reference / chord stride
length, the reference being the feet's own inertial navigation (``bench/validate_thigh_length.py``, Marpino walking
dataset, pipeline 1.13). It was fitted there only; on the walks it was not fitted on (leave one walk out) the walks read
+2.2 ± 10.7 %, and from one cohort to the other −4 % (young with the elderly's factor) and +7 % (the reverse). It
is a population mean: one walker's thigh step lengths can be ±10–15 % off, which a calibration walk removes
(:mod:`pipeline.calibration`). Shank sensors would be needed for more (cf. the shank + thigh double pendulum of
Aminian et al. 2002, J Biomech 35:689). Needs both thighs.

(c) Combined: the pelvis pendulum whenever it gives a length for any step of the session, the thigh compass model
only when it gives none (no pelvis sensor, no usable pelvis signal). The pendulum is the one validated against a
reference on real people (Zijlstra & Hof 2003; mobgap's K; our own checks against INDIP, the feet of the IPOL walks
and a treadmill in ``docs/validation/README.md``); the compass model's population factor rests on one dataset of
short walks and leaves a wider spread from walk to walk (above), so averaging the two would pull the better
estimate toward the worse one. Nor are they mixed step by step:
a pelvis step lost to a gap stays without a length instead of taking the thigh value, otherwise the share of
compass steps, and with it the session's bias, would grow with packet loss (on the simulator with 10 % loss, the
per-step fallback read −7.5 % against −2.0 % without it).

Turns. The pendulum reads turning steps long: at the reference's own contacts on the IPOL walks (feet
inertial navigation, ``bench/validate_stride_length.py``) the model/reference ratio grows from 0.93 on strides
turning less than 10° to 1.19 at 60–90° and 1.56 at 90–120° of heading change; the body still rises and falls over
the stance foot, but less of each vault carries it forward. So each pelvis step is multiplied by cos Δψ, Δψ the
change of the walking heading over the step (the pelvis heading rate low-passed at ``heading_lowpass_hz``, as the
turn detection does, which removes the pelvis's own rotation within the stride; capped at ``max_step_turn_deg``).
The form has no fitted constant. It was chosen on IPOL, where it flattens the ratio to 0.93–0.98 up to 120° per
stride. Held out on Mobilise-D's daily-life bouts
(``bench/validate_speed.py``, INDIP's contacts) it takes the turning strides from +0.24 to +0.15 m, and the bouts'
mean stride length is then 0.125 m MAE (mobgap's ``SlZijlstra`` on the same contacts: 0.163 m).
Straight steps are unchanged (Δψ ≈ 0). The simulator's turns keep the straight-walking step and its excursion, so
they cannot test this; its truth comparisons use straight strides. ``turn_deg`` keeps Δψ with every step.

Gaps. d(t) is integrated through the filled (interpolated) samples of sensor gaps, and a step keeps its excursion
across gaps up to ``max_bridged_gap_s`` (0.12 s: one lost BLE notification, 8 samples at 104 Hz, plus the grid
samples on either side that lose a neighbour); a step with a longer gap gets none. Without that, every lost
notification cost the step it fell in: on the simulator at 10 % notification loss 58 % of the steps kept a length,
98 % with the bridge, a bridged step reading −1.3 ± 1.9 % against −0.6 ± 1.2 % for a step without a gap
(``bench/sim_gaps.py``, against the same model on the true pelvis height). ``across_gap`` marks the bridged steps and
the session quality counts them. ``method`` records which methods produced a value
("pelvis+thigh", "pelvis", "thigh"). Each model's lengths are multiplied by the walker's calibration factor when
the subject has one (``factors``; :mod:`pipeline.calibration`). Session speed is the mean stride speed over
valid strides, per method and combined. Per bout (a run of strides without a pause over ``bout_gap_s``, or any given
interval, :func:`interval_speed`) two speeds answer two questions. ``speed_m_s`` is distance over time: mean step
length × cadence, the cadence counting every IC in the interval, so hesitations, slow or unmeasured steps inside a
bout count with their time. ``stride_speed_m_s`` (with ``cadence_spm`` and ``stride_length_m``) is the mean over the
bout's strides, which is how Mobilise-D and its INDIP reference define a bout's walking speed, cadence and stride
length (checked on all 19 Mobilise-D example bouts, ``bench/validate_real.py``); in a bout that slows to a stop or
hesitates it reads above distance over time. Compare each with a reference of the same definition
(``docs/validation/README.md`` §b: comparing the two with each other once flattered this pipeline).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.integrate import cumulative_trapezoid

from pipeline import _signal as sig
from pipeline import uncertainty
from pipeline.bouts import merge_intervals
from pipeline.events import GaitEvents
from pipeline.metrics import StrideTable, SummaryRow, walking_heading_rate_dps, window_reduce
from pipeline.orientation import PelvisAngles, ThighAngles
from pipeline.symmetry import symmetry_index

FloatArray = NDArray[np.float64]
ZIJLSTRA_K_MS_MS = 4.587 / 4  # mobgap SlZijlstra.PredefinedParameters.step_length_scaling_factor_ms_ms
# The thigh compass model's population factor: median reference / chord stride length over 25 real walks (module
# docstring (b); bench/validate_thigh_length.py).
COMPASS_K = 1.15
# A bout whose strides with a length cover less of its time than this has its lengths and speeds flagged
# (:func:`measured_share`): fixed at half the bout before looking at any data, not tuned.
MIN_MEASURED_SHARE = 0.5


@dataclass(frozen=True)
class SpatialConfig:
    """Parameters of the step-length models (defaults: mobgap ``SlZijlstra``)."""

    acc_highpass_hz: float = 0.1
    velocity_highpass_hz: float = 1.0
    filter_order: int = 4
    zijlstra_k: float = ZIJLSTRA_K_MS_MS
    compass_k: float = COMPASS_K
    min_step_s: float = 0.25  # shorter or longer "steps" (missed or doubled ICs) get no length
    max_step_s: float = 1.5
    bout_gap_s: float = 0.5  # a pause longer than this between strides starts a new bout
    max_bridged_gap_s: float = 0.12  # a pelvis step keeps its excursion across sensor gaps up to this long
    turn_projection: bool = True  # pelvis step lengths × cos(the pelvis heading change over the step)
    heading_lowpass_hz: float = 0.3  # as the turn detection (MetricsConfig.turn_lowpass_hz): no pelvic rotation
    max_step_turn_deg: float = 75.0  # the projection never shortens a step below cos(75°) ≈ 0.26 of the pendulum's


@dataclass(frozen=True)
class Steps:
    """One row per IC (sorted by time): the step that ends at it. Lengths in metres, NaN where unavailable."""

    t_s: FloatArray  # IC ending the step
    side: NDArray[np.str_]  # leading foot
    duration_s: FloatArray  # previous contralateral IC → this IC (NaN when the previous IC is the same side)
    excursion_m: FloatArray  # pelvis vertical excursion h over the step
    length_pelvis_m: FloatArray
    length_thigh_m: FloatArray
    thigh_angle_deg: FloatArray  # Δθ between the thighs at the IC
    length_m: FloatArray  # combined
    method: NDArray[np.str_]
    across_gap: NDArray[np.bool_]  # the pelvis excursion spans a short sensor gap (``max_bridged_gap_s``)
    turn_deg: FloatArray  # |pelvis heading change| over the step, where the step has a pelvis excursion


@dataclass(frozen=True)
class StrideSpatial:
    """Per stride, aligned row for row with the :class:`~pipeline.metrics.StrideTable` it was computed from."""

    stride_length_pelvis_m: FloatArray
    stride_length_thigh_m: FloatArray
    stride_length_m: FloatArray
    step_length_m: FloatArray  # this side's step, the one ending at the stride's closing IC
    speed_pelvis_m_s: FloatArray
    speed_thigh_m_s: FloatArray
    speed_m_s: FloatArray
    method: NDArray[np.str_]

    def columns(self) -> dict[str, NDArray[Any]]:
        """Column name → array."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Bouts:
    """Walking bouts: runs of strides with no pause longer than ``bout_gap_s`` (a stride spanning a stop, longer
    than two maximal steps, is not walking)."""

    start_s: FloatArray
    end_s: FloatArray
    n_steps: NDArray[np.int64]  # steps with a length inside the bout
    distance_m: FloatArray
    speed_m_s: FloatArray  # distance over time (:func:`interval_speed`)
    stride_speed_m_s: FloatArray  # means over the bout's strides: the Mobilise-D / INDIP definitions
    cadence_spm: FloatArray
    stride_length_m: FloatArray
    measured_share: FloatArray  # share of the bout's time inside strides with a length (:func:`covered_time`)


@dataclass(frozen=True)
class SpatialResult:
    """Everything :func:`spatial_metrics` computed, with the inputs that shape it."""

    steps: Steps
    strides: StrideSpatial
    bouts: Bouts
    leg_length_m: float
    pendulum_length_m: float | None
    method: str  # methods available for the session: "pelvis+thigh", "pelvis", "thigh" or ""


def vertical_displacement(
    vertical_acc_ms2: FloatArray, valid: NDArray[np.bool_], fs_hz: float, *, config: SpatialConfig = SpatialConfig()
) -> FloatArray:
    """Vertical displacement (m) of the pelvis sensor: band-limited double integration over the whole signal."""
    acc = sig.butter(sig.fill_invalid(vertical_acc_ms2, valid), fs_hz, config.acc_highpass_hz, "highpass")
    velocity = cumulative_trapezoid(acc, dx=1.0 / fs_hz, initial=0.0)
    velocity = sig.butter(velocity, fs_hz, config.velocity_highpass_hz, "highpass", order=config.filter_order)
    return np.asarray(cumulative_trapezoid(velocity, dx=1.0 / fs_hz, initial=0.0), dtype=np.float64)


def pendulum_step_length(excursion_m: FloatArray, pendulum_length_m: float, k: float = ZIJLSTRA_K_MS_MS) -> FloatArray:
    """Zijlstra & Hof (2003): SL = K · 2 · √(2·l·h − h²); NaN where h is not finite or h ≥ 2l."""
    h = np.asarray(excursion_m, dtype=np.float64)
    inside = 2.0 * pendulum_length_m * h - h * h
    with np.errstate(invalid="ignore"):
        return np.where(inside >= 0.0, k * 2.0 * np.sqrt(np.maximum(inside, 0.0)), np.nan)


def compass_step_length(thigh_angle_deg: FloatArray, leg_length_m: float) -> FloatArray:
    """The compass-gait chord 2·L·sin(Δθ/2) from the angle between the thighs at IC (without the population factor
    :data:`COMPASS_K`); NaN for Δθ ≤ 0."""
    d = np.asarray(thigh_angle_deg, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(d > 0.0, 2.0 * leg_length_m * np.sin(np.deg2rad(d) / 2.0), np.nan)


def _method(pelvis: FloatArray, thigh: FloatArray) -> NDArray[np.str_]:
    p, t = np.isfinite(pelvis), np.isfinite(thigh)
    return np.where(p & t, "pelvis+thigh", np.where(p, "pelvis", np.where(t, "thigh", "")))


def step_table(
    events: GaitEvents,
    fs_hz: float,
    n_samples: int,
    *,
    leg_length_m: float,
    pendulum_length_m: float | None = None,
    pelvis: PelvisAngles | None = None,
    thighs: Mapping[str, ThighAngles] | None = None,
    factors: Mapping[str, float] | None = None,
    config: SpatialConfig = SpatialConfig(),
) -> Steps:
    """Length of every step by each available method (see the module docstring), each multiplied by its walker's
    calibration factor in ``factors`` ("pelvis", "thigh"; :mod:`pipeline.calibration`) when given."""
    thighs = thighs or {}
    factors = factors or {}
    is_ic = events.kind == "IC"
    t, side = events.t_s[is_ic], events.side[is_ic]
    i = np.clip(events.sample[is_ic], 0, max(n_samples - 1, 0))
    duration = np.full(t.size, np.nan)
    if t.size > 1:
        d = np.diff(t)
        ok = (side[1:] != side[:-1]) & (d >= config.min_step_s) & (d <= config.max_step_s)
        duration[1:] = np.where(ok, d, np.nan)
    excursion = np.full(t.size, np.nan)
    length_pelvis = np.full(t.size, np.nan)
    across_gap = np.zeros(t.size, dtype=np.bool_)
    turn = np.full(t.size, np.nan)
    if pelvis is not None and t.size > 1:
        disp = vertical_displacement(pelvis.vertical_acc_ms2, pelvis.valid, fs_hz, config=config)
        long_gap = long_invalid_runs(pelvis.valid, round(config.max_bridged_gap_s * fs_hz))
        disp = np.where(long_gap, np.nan, disp)  # a step with a longer gap gets no excursion
        a, b = i[:-1], i[1:]
        hi, lo = window_reduce(disp, a, b, np.maximum), window_reduce(disp, a, b, np.minimum)
        excursion[1:] = np.where(np.isfinite(duration[1:]), hi - lo, np.nan)
        gaps = window_reduce((~np.asarray(pelvis.valid, dtype=bool)).astype(np.float64), a, b, np.maximum)
        across_gap[1:] = np.isfinite(excursion[1:]) & (gaps > 0)
        k = config.zijlstra_k * factors.get("pelvis", 1.0)
        length_pelvis = pendulum_step_length(excursion, pendulum_length_m or leg_length_m, k)
        turn[1:] = np.where(np.isfinite(excursion[1:]), step_heading_change_deg(pelvis, fs_hz, a, b, config), np.nan)
        if config.turn_projection:
            length_pelvis = length_pelvis * turn_projection(turn, config.max_step_turn_deg)
    angle = np.full(t.size, np.nan)
    if "left" in thighs and "right" in thighs:
        lr = thighs["left"].sagittal_deg[i] - thighs["right"].sagittal_deg[i]
        angle = np.where(side == "left", lr, -lr)
        angle = np.where(np.isfinite(duration), angle, np.nan)
    length_thigh = compass_step_length(angle, leg_length_m) * config.compass_k * factors.get("thigh", 1.0)
    combined = length_pelvis if np.isfinite(length_pelvis).any() else length_thigh
    return Steps(
        t,
        side,
        duration,
        excursion,
        length_pelvis,
        length_thigh,
        angle,
        combined,
        _method(length_pelvis, length_thigh),
        across_gap,
        turn,
    )


def step_heading_change_deg(
    pelvis: PelvisAngles, fs_hz: float, start: NDArray[np.int64], end: NDArray[np.int64], config: SpatialConfig
) -> FloatArray:
    """|Change of the walking heading| (deg) from grid sample ``start`` to ``end``: the pelvis heading rate low-passed
    as the turn detection does, which removes the pelvis's own rotation within each stride."""
    rate = walking_heading_rate_dps(pelvis, fs_hz, config.heading_lowpass_hz)
    heading = np.concatenate([[0.0], np.cumsum(rate) / fs_hz])
    return np.asarray(np.abs(heading[end] - heading[start]), dtype=np.float64)


def turn_projection(turn_deg: FloatArray, max_turn_deg: float) -> FloatArray:
    """The factor cos(Δψ) on a pelvis step turning by Δψ (deg), Δψ capped at ``max_turn_deg``; 1 where unknown."""
    capped = np.minimum(np.nan_to_num(np.asarray(turn_deg, dtype=np.float64), nan=0.0), max_turn_deg)
    return np.asarray(np.cos(np.deg2rad(capped)), dtype=np.float64)


def long_invalid_runs(valid: NDArray[np.bool_], max_samples: int) -> NDArray[np.bool_]:
    """True on every sample of a run of invalid samples longer than ``max_samples``."""
    valid = np.asarray(valid, dtype=bool)
    r = sig.runs(~valid)
    r = r[(r[:, 1] - r[:, 0]) > max_samples]
    edges = np.zeros(valid.size + 1, dtype=np.int64)
    np.add.at(edges, r[:, 0], 1)
    np.add.at(edges, r[:, 1], -1)
    return np.asarray(np.cumsum(edges[:-1]) > 0, dtype=np.bool_)


def stride_spatial(strides: StrideTable, steps: Steps) -> StrideSpatial:
    """Stride lengths and speeds for each row of ``strides`` from the two steps that make it up."""
    n, m = steps.t_s.size, len(strides)
    if n < 3:
        nan = np.full(m, np.nan)
        return StrideSpatial(nan, nan, nan, nan, nan, nan, nan, np.full(m, ""))
    # the step ending at the stride's closing IC, and exactly one IC (the contralateral one) inside the stride
    j = np.searchsorted(steps.t_s, strides.end_s - 1e-9)
    jj = np.clip(j, 2, n - 1)
    ok = (j >= 2) & (j < n) & np.isclose(steps.t_s[jj], strides.end_s)
    ok &= np.isclose(steps.t_s[jj - 2], strides.start_s)

    def pair(x: FloatArray) -> FloatArray:
        return np.where(ok, x[jj] + x[jj - 1], np.nan)

    sl_p, sl_t, sl = pair(steps.length_pelvis_m), pair(steps.length_thigh_m), pair(steps.length_m)
    own = np.where(ok, steps.length_m[jj], np.nan)
    stride_s = strides.stride_time_s
    return StrideSpatial(sl_p, sl_t, sl, own, sl_p / stride_s, sl_t / stride_s, sl / stride_s, _method(sl_p, sl_t))


def interval_speed(
    start_s: FloatArray, end_s: FloatArray, ic_t_s: FloatArray, step_end_s: FloatArray, step_length_m: FloatArray
) -> FloatArray:
    """Walking speed (m/s) over each interval ``[start_s, end_s]``: mean step length × cadence.

    Step length: mean of the finite ``step_length_m`` whose step ends (``step_end_s``) inside the interval. Cadence
    (steps/s): (ICs inside − 1) over the time from the first to the last of them, so every interval between ICs
    counts, with or without a length. NaN with fewer than two ICs or no step length inside. Loops over intervals.
    """
    out = np.full(np.shape(start_s), np.nan)
    for k, (a, b) in enumerate(zip(start_s, end_s, strict=True)):
        ic = ic_t_s[(ic_t_s >= a) & (ic_t_s <= b)]
        inside = (step_end_s >= a) & (step_end_s <= b) & np.isfinite(step_length_m)
        if ic.size >= 2 and ic[-1] > ic[0] and inside.any():
            out[k] = float(step_length_m[inside].mean()) * (ic.size - 1) / float(ic[-1] - ic[0])
    return out


def walking_strides(stride_time_s: FloatArray, config: SpatialConfig = SpatialConfig()) -> NDArray[np.bool_]:
    """Strides that are walking: a "stride" over two maximal steps spans a stop (Mobilise-D: a break over 3 s)."""
    return np.asarray(stride_time_s <= 2 * config.max_step_s, dtype=np.bool_)


def interval_means(
    start_s: FloatArray,
    end_s: FloatArray,
    stride_start_s: FloatArray,
    stride_end_s: FloatArray,
    values: FloatArray,
    *,
    margin_s: float = 0.0,
) -> FloatArray:
    """Per interval ``[start_s − margin_s, end_s + margin_s]`` (sorted, not overlapping), the mean of the finite
    ``values`` of the strides lying wholly inside it; NaN where there is none."""
    if start_s.size == 0:
        return np.zeros(0)
    k = np.searchsorted(start_s - margin_s, stride_start_s, side="right") - 1
    kk = np.maximum(k, 0)
    ok = (k >= 0) & (stride_end_s <= end_s[kk] + margin_s) & np.isfinite(values)
    count = np.bincount(kk[ok], minlength=start_s.size)
    total = np.bincount(kk[ok], values[ok], minlength=start_s.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def covered_time(
    start_s: FloatArray, end_s: FloatArray, cover_start_s: FloatArray, cover_end_s: FloatArray
) -> FloatArray:
    """Per interval ``[start_s, end_s]``, the time (s) inside the union of the ``[cover_start_s, cover_end_s]``
    intervals (overlapping ones count once)."""
    s, e, _ = merge_intervals(cover_start_s, cover_end_s)
    if s.size == 0:
        return np.zeros(np.shape(start_s))
    before = np.concatenate(([0.0], np.cumsum(e - s)))  # covered time before each union interval starts

    def covered_until(t: FloatArray) -> FloatArray:
        i = np.searchsorted(s, t, side="right") - 1
        ii = np.maximum(i, 0)
        return np.where(i >= 0, before[ii] + np.clip(t - s[ii], 0.0, e[ii] - s[ii]), 0.0)

    return np.asarray(covered_until(end_s) - covered_until(start_s), dtype=np.float64)


def measured_share(
    start_s: FloatArray, end_s: FloatArray, strides: StrideTable, stride_length_m: FloatArray
) -> FloatArray:
    """Per interval, the share of its time inside strides that have a length; NaN for an empty interval.

    A bout's stride means rest on its measured strides only. Steps the event detection misses leave their strides
    without a length, and those are mostly the slow, short and turning ones: on the Mobilise-D example data the
    reference strides we did not measure were half as long as those we did (0.51 vs 0.97 m), so a bout measured
    over less than half its time reads its stride length and speed too high (``bench/validate_speed.py``)."""
    has = walking_strides(strides.stride_time_s) & np.isfinite(stride_length_m)
    covered = covered_time(start_s, end_s, strides.start_s[has], strides.end_s[has])
    duration = end_s - start_s
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(duration > 0, np.minimum(covered / duration, 1.0), np.nan)


def stride_means(
    strides: StrideTable, per_stride: StrideSpatial | None, *, config: SpatialConfig = SpatialConfig()
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """The bouts (start, end) and, per bout, the means over its walking strides of stride speed, cadence
    (120 / stride time, steps/min) and stride length: how Mobilise-D and its INDIP reference define a bout's values
    (a stride across a stop has none). Speed and length are NaN without ``per_stride`` (no subject profile)."""
    walking = walking_strides(strides.stride_time_s, config)
    t0, t1 = strides.start_s[walking], strides.end_s[walking]
    start, end, _ = merge_intervals(t0, t1, max_gap_s=config.bout_gap_s)

    def means(values: FloatArray) -> FloatArray:
        return interval_means(start, end, t0, t1, values[walking])

    with np.errstate(divide="ignore"):
        cadence = means(120.0 / strides.stride_time_s)
    if per_stride is None:
        nan = np.full(start.size, np.nan)
        return start, end, nan, cadence, nan
    return start, end, means(per_stride.speed_m_s), cadence, means(per_stride.stride_length_m)


def bouts(
    strides: StrideTable,
    steps: Steps,
    per_stride: StrideSpatial | None = None,
    *,
    config: SpatialConfig = SpatialConfig(),
) -> Bouts:
    """Walking bouts from the union of stride intervals; distance and speed from the steps inside each bout, and the
    means over its strides (:func:`stride_means`)."""
    start, end, stride_speed, cadence, stride_length = stride_means(strides, per_stride, config=config)
    n = start.size
    if n == 0:
        empty = np.zeros(0)
        return Bouts(empty, empty, np.zeros(0, dtype=np.int64), empty, empty, empty, empty, empty, empty)
    k = np.searchsorted(start, steps.t_s, side="right") - 1
    inside = (k >= 0) & (steps.t_s <= end[np.maximum(k, 0)]) & np.isfinite(steps.length_m)
    kk = k[inside]
    count = np.bincount(kk, minlength=n).astype(np.int64)
    distance = np.where(count > 0, np.bincount(kk, steps.length_m[inside], minlength=n), np.nan).astype(np.float64)
    speed = interval_speed(start, end, steps.t_s, steps.t_s, steps.length_m)
    share = (
        measured_share(start, end, strides, per_stride.stride_length_m)
        if per_stride is not None
        else np.full(n, np.nan)
    )
    return Bouts(start, end, count, distance, speed, stride_speed, cadence, stride_length, share)


def measured_quality(b: Bouts) -> dict[str, int]:
    """Quality entries: how many bouts have a stride length, and how many of those rest on strides covering less
    than :data:`MIN_MEASURED_SHARE` of their time (:func:`measured_share`)."""
    share = b.measured_share[np.isfinite(b.stride_length_m)]
    return {
        "spatial.bouts_with_length": int(share.size),
        "spatial.bouts_under_measured": int(np.sum(share < MIN_MEASURED_SHARE)),
    }


def gap_quality(steps: Steps) -> dict[str, int]:
    """Quality entries: how many steps have a pelvis length, and how many of those span a bridged sensor gap."""
    measured = np.isfinite(steps.length_pelvis_m)
    return {
        "spatial.pelvis_steps_with_length": int(measured.sum()),
        "spatial.pelvis_steps_across_gaps": int(np.sum(measured & steps.across_gap)),
    }


def bout_columns(
    strides: StrideTable, result: SpatialResult | None, *, config: SpatialConfig = SpatialConfig()
) -> dict[str, NDArray[Any]]:
    """The ``derived/bouts.arrow`` columns: every run of strides, with distance and speed when lengths exist."""
    if result is not None:
        b = result.bouts
        start, end, n_steps, distance, speed = b.start_s, b.end_s, b.n_steps, b.distance_m, b.speed_m_s
        stride_speed, cadence, stride_length = b.stride_speed_m_s, b.cadence_spm, b.stride_length_m
        share = b.measured_share
    else:
        start, end, stride_speed, cadence, stride_length = stride_means(strides, None, config=config)
        n_steps = np.zeros(start.size, dtype=np.int64)
        distance = speed = share = np.full(start.size, np.nan)
    first = np.searchsorted(np.sort(strides.start_s), start, side="left")
    last = np.searchsorted(np.sort(strides.start_s), end, side="left")
    return {
        "bout": np.arange(start.size, dtype=np.int32),
        "start_s": start,
        "end_s": end,
        "duration_s": end - start,
        "n_strides": (last - first).astype(np.int64),
        "n_steps": n_steps.astype(np.int64),
        "distance_m": distance,
        "speed_m_s": speed,
        "stride_speed_m_s": stride_speed,
        "cadence_spm": cadence,
        "stride_length_m": stride_length,
        "measured_share": share,
    }


def spatial_metrics(
    strides: StrideTable,
    events: GaitEvents,
    fs_hz: float,
    n_samples: int,
    *,
    leg_length_m: float,
    pendulum_length_m: float | None = None,
    pelvis: PelvisAngles | None = None,
    thighs: Mapping[str, ThighAngles] | None = None,
    factors: Mapping[str, float] | None = None,
    config: SpatialConfig = SpatialConfig(),
) -> SpatialResult:
    """Steps, strides and bouts with lengths (m) and speeds (m/s), by method and combined; ``factors``: the
    walker's calibration per method (:mod:`pipeline.calibration`), 1 where absent."""
    steps = step_table(
        events,
        fs_hz,
        n_samples,
        leg_length_m=leg_length_m,
        pendulum_length_m=pendulum_length_m,
        pelvis=pelvis,
        thighs=thighs,
        factors=factors,
        config=config,
    )
    per_stride = stride_spatial(strides, steps)
    methods = [
        m for m, x in (("pelvis", steps.length_pelvis_m), ("thigh", steps.length_thigh_m)) if np.isfinite(x).any()
    ]
    return SpatialResult(
        steps,
        per_stride,
        bouts(strides, steps, per_stride, config=config),
        leg_length_m,
        pendulum_length_m,
        "+".join(methods),
    )


def summary_rows(result: SpatialResult, strides: StrideTable) -> tuple[SummaryRow, ...]:
    """Session rows of the spatial metrics (catalogue: ``pipeline.catalog.SPATIAL_METRICS``), valid strides only,
    with their within-session 95 % intervals (``pipeline.uncertainty``)."""
    v, sp = strides.valid, result.strides
    rng = np.random.default_rng(uncertainty.SEED + 1)

    def row(name: str, side: str, x: FloatArray, unit: str) -> tuple[SummaryRow, FloatArray]:
        finite = x[np.isfinite(x)]
        value = float(finite.mean()) if finite.size else float("nan")
        boot = uncertainty.bootstrap_means(x, rng)
        return SummaryRow(name, side, value, unit, int(finite.size), *uncertainty.interval(boot)), boot

    rows: list[SummaryRow] = []
    for name, values in (
        ("walking_speed_m_s", sp.speed_m_s),
        ("walking_speed_pelvis_m_s", sp.speed_pelvis_m_s),
        ("walking_speed_thigh_m_s", sp.speed_thigh_m_s),
    ):
        rows.append(row(name, "both", values[v], "m/s")[0])
    rows.append(row("stride_length_m", "both", sp.stride_length_m[v], "m")[0])
    steps: dict[str, tuple[SummaryRow, FloatArray]] = {}
    for side in ("left", "right"):
        sel = v & (strides.side == side)
        rows.append(row("stride_length_m", side, sp.stride_length_m[sel], "m")[0])
        steps[side] = row("step_length_m", side, sp.step_length_m[sel], "m")
        rows.append(steps[side][0])
    (r, r_boot), (l_, l_boot) = steps["right"], steps["left"]
    with np.errstate(divide="ignore", invalid="ignore"):
        si_boot = np.asarray(symmetry_index(r_boot, l_boot), dtype=np.float64)
    si = symmetry_index(r.value, l_.value)
    rows.append(SummaryRow("step_length_si_pct", "both", si, "%", min(r.n, l_.n), *uncertainty.interval(si_boot)))
    return tuple(rows)

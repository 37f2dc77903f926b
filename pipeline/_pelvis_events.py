"""Private: IC/FC of both legs and their laterality from a pelvis (lower-back) sensor.

Events (reference §2.1): McCamley et al. 2012 as implemented in skdh's ``VerticalCwtGaitEvents``, with the
Caramia et al. 2019 step-frequency-dependent scales. The vertical (gravity-removed, upward +) acceleration is
integrated (cumulative trapezoid) and differentiated by a gaus1 CWT at the IC scale (:func:`_signal.cwt_gaus1`):
ICs are the **minima** of that signal, which is minus the Gaussian-smoothed vertical acceleration, i.e. the
upward-acceleration peaks of weight acceptance. The integrated acceleration differentiated at the FC scale is
differentiated again by a gaus1 CWT at the same scale (skdh): FCs are the **maxima** of minus that second
signal, where the upward acceleration falls fastest (smoothed-jerk minima) — the push-off of the trailing
foot ending as the body vaults over the new stance leg. Both keep skdh's amplitude floor (0.5 SD of the
coefficients). Scales (pywt units): IC ``(56 − 10·f_step)·fs/250``, FC ``(131 − 52·f_step)·fs/250``, rounded and
clipped to 1…90, f_step in steps/s from the stride period of the pelvic rotation. The first FC after an IC (within
half a step, before the next IC) belongs to the *other* foot (its toe-off ends the initial double support).

Laterality (§2.2), when the pelvis accelerometer and gyroscope are given (:func:`ml_laterality`): Mansour et al.
2015 — the medio-lateral acceleration low-passed at 1 Hz (4th-order Butterworth) and differentiated; its derivative
at an IC is positive at a right IC (leftward ML axis; the trunk sways toward the new stance leg, so the leftward
acceleration falls through a left IC and rises through a right IC). The ML axis and its sign are found **per walking
bout** (ICs with no pause over ``bout_gap_s``, the Mobilise-D 3 s break rule) from the data of that bout, in the
plane orthogonal to the tracked gravity, so neither turns (the axes are body-fixed; heading never enters) nor a
sensor that was re-mounted between bouts can flip them, and a poor session-level alignment does not matter:

* line — the principal axis of the stride-band horizontal free acceleration (the sway toward each stance leg has
  one cycle per stride, while the antero-posterior acceleration repeats every step);
* sign — two independent cues, summed as correlations: (i) inverted pendulum (Cavagna; Zijlstra & Hof 2003): the
  forward speed is lowest when the body is highest, so the step-band *forward* acceleration anti-correlates with
  the vertical velocity, and left = up × forward; (ii) the combination of McCamley's (trunk yaw rate > 0 at a right
  IC) and Mansour's rules: the stride-band yaw rate and the leftward acceleration are in anti-phase.

Bouts shorter than ``min_bout_ics`` ICs (two strides, the Mobilise-D minimum walking bout) use the axis estimated
from all bouts together. Each IC is labelled by its own derivative sign; no alternation is imposed, because real
walking (turns, shuffles) and missed or extra ICs break strict alternation (on the Mobilise-D example data an
alternation constraint lowered the accuracy, see ``docs/validation/README.md``). ``laterality_agreement`` is then
the share of consecutive ICs within a regular run that alternate sides.

Without the accelerometer and gyroscope the older rule is used: the pelvis is turned furthest left (positive
rotation) at right IC, so the stride-band rotation at an IC votes right when positive; within a run of regular
steps the sides must alternate, and the alternation phase with the most votes wins (``laterality_agreement`` = share
of votes matching). It holds in the simulator but not on real lower-back recordings, where the trunk yaw *rate*,
not the angle, is positive at a right IC (McCamley 2012); it is kept only for callers without the raw signals.

IC refinement (:func:`refine_ic`, :class:`IcRefineConfig`, on by default). The CWT IC is the peak of the
vertical acceleration smoothed by a Gaussian of σ = scale/√2 ≈ 110 ms, i.e. the weight-acceptance peak, which the
body reaches only after the leading heel has struck and loaded: on the Mobilise-D example data the vertical
acceleration averaged around the INDIP ICs starts its steep rise at the IC and peaks 20–60 ms later, and the CWT IC
was +47 ms late (pooled). Shrinking the scale does not fix it (the raw peak is itself late; Caramia et al. 2019
found IC timing insensitive to the scale, and their 250 Hz scale ≈ 39 maps to ≈ 16 at 100 Hz, McCamley's
1.25 Hz). Each CWT IC is therefore moved to the steepest rise (maximal jerk) of the vertical acceleration within
half a step before it — the loading onset, where a heel-strike transient also starts. The window is half the
median CWT IC interval: the IC of a CWT minimum precedes it by less than the spacing of ICs. The 20 Hz low-pass
is skdh's gait pre-processing default. FC pairing and laterality keep the CWT IC they were defined and validated
on; only the reported IC time moves. Figures: ``docs/validation/README.md`` §f.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import integrate
from scipy import signal as sps

from pipeline import _signal as sig
from pipeline._event_core import (
    DEFAULT_EVENT_CONFIG,
    DEFAULT_IC_REFINE,
    DEFAULT_LATERALITY,
    EventConfig,
    FloatArray,
    GaitEvents,
    IcRefineConfig,
    LateralityConfig,
    PelvisEventConfig,
    _parabolic,
    _window_valid,
    make_events,
)
from pipeline.align import G, horizontal_basis
from pipeline.orientation import track_up


def caramia_scales(step_hz: float, fs_hz: float) -> tuple[float, float]:
    """gaus1 CWT scales (pywt units, samples) for IC and FC: Caramia 2019 as in skdh, rounded, clipped 1…90."""
    ic_scale = np.clip(np.round((56.0 - 10.0 * step_hz) * fs_hz / 250.0), 1.0, 90.0)
    fc_scale = np.clip(np.round((131.0 - 52.0 * step_hz) * fs_hz / 250.0), 1.0, 90.0)
    return float(ic_scale), float(fc_scale)


def refine_ic(
    acc_ms2: FloatArray,
    valid: NDArray[np.bool_],
    fs_hz: float,
    ic: FloatArray,
    step_samples: float,
    *,
    config: IcRefineConfig = DEFAULT_IC_REFINE,
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Each CWT IC (fractional sample) moved to the loading onset before it, and whether it was moved.

    The CWT IC is the peak of the Gaussian-smoothed upward acceleration, which the body reaches only after the
    leading heel has struck and loads it. The heel strike is where that rise is steepest: the maximum of the
    vertical jerk (``acc_ms2`` vertical, gravity removed, low-passed at ``lowpass_hz``) within ``window_steps`` ×
    ``step_samples`` before the CWT IC. An IC stays where it was when the maximum sits on the window's edge (no
    onset inside: the rise began earlier or still goes on) or when a sample within two of it is invalid.
    """
    moved = np.zeros(ic.shape[0], dtype=bool)
    n = acc_ms2.shape[0]
    if config.method == "none" or ic.size == 0 or n < 3:
        return ic, moved
    x = sig.fill_invalid(acc_ms2, valid)
    if config.lowpass_hz < 0.5 * fs_hz:
        x = sig.butter(x, fs_hz, config.lowpass_hz, "lowpass", order=config.lowpass_order)
    jerk = np.gradient(x) * fs_hz
    width = max(2, int(np.ceil(config.window_steps * step_samples)))
    hi = np.floor(ic).astype(np.int64)
    idx = hi[:, None] - width + np.arange(width + 1)[None, :]
    inside = (idx >= 1) & (idx <= n - 2)
    vals = np.where(inside, jerk[np.clip(idx, 0, n - 1)], -np.inf)
    j = np.argmax(vals, axis=1)
    best = idx[np.arange(ic.size), j]
    moved = (j > 0) & (j < width) & np.isfinite(vals[np.arange(ic.size), j])
    # the jerk and its parabola at the maximum come from samples best ± 2, which must be real, not gap-filled
    moved &= _window_valid(valid, best - 2.0, best + 2.0)
    return np.where(moved, _parabolic(jerk, np.clip(best, 1, n - 2)), ic), moved


def _peaks(x: FloatArray, distance: float) -> NDArray[np.int64]:
    """Peaks above 0.5 SD of ``x`` (skdh's floor), at least ``distance`` samples apart."""
    p, _ = sps.find_peaks(x, height=0.5 * float(np.std(x)), distance=max(1, int(distance)))
    return np.asarray(p, dtype=np.int64)


def _unit(v: FloatArray) -> FloatArray:
    return np.asarray(v / np.linalg.norm(v), dtype=np.float64)


def _corr(a: FloatArray, b: FloatArray) -> float:
    """Pearson correlation, 0 when either input is constant."""
    sa, sb = float(np.std(a)), float(np.std(b))
    return float(np.mean((a - a.mean()) * (b - b.mean())) / (sa * sb)) if sa > 0 and sb > 0 else 0.0


def left_axis(
    up: FloatArray, stride_acc: FloatArray, step_acc: FloatArray, step_vel: FloatArray, stride_yaw: FloatArray
) -> FloatArray:
    """Leftward horizontal unit axis (sensor coordinates) of a stretch of walking (see the module docstring).

    Inputs (same samples): ``up`` (3,), the horizontal free acceleration band-passed around the stride frequency
    (n, 3) and around the step frequency (n, 3), the vertical velocity band-passed around the step frequency (n,)
    and the yaw rate about ``up`` band-passed around the stride frequency (n,).
    """
    basis = horizontal_basis(up)
    _, vecs = np.linalg.eigh(np.cov((stride_acc @ basis.T).T))
    ml = vecs[:, 1] @ basis  # principal stride-band axis: the ML line
    forward_if_left = np.cross(ml, up)  # left = up × forward  ⇔  forward = left × up
    evidence = -_corr(step_acc @ forward_if_left, step_vel) - _corr(stride_yaw, stride_acc @ ml)
    return np.asarray(ml if evidence >= 0 else -ml, dtype=np.float64)


def ml_laterality(
    acc_ms2: FloatArray,
    gyr_dps: FloatArray,
    valid: NDArray[np.bool_],
    fs_hz: float,
    ic: FloatArray,
    *,
    config: LateralityConfig = DEFAULT_LATERALITY,
) -> NDArray[np.bool_]:
    """True where the IC at (fractional) sample ``ic`` is a right IC: Mansour 2015 with per-bout axes.

    ``acc_ms2`` (m/s², reading +g upwards at rest) and ``gyr_dps`` (deg/s) are (n, 3) in any body-fixed frame
    (sensor or segment): only the tracked gravity direction is used, the horizontal axes are found per bout.
    """
    n = acc_ms2.shape[0]
    if ic.size == 0:
        return np.zeros(0, dtype=bool)
    acc, gyr = sig.fill_invalid(acc_ms2, valid), sig.fill_invalid(gyr_dps, valid)
    up = track_up(acc, gyr, fs_hz, cutoff_hz=config.fusion_cutoff_hz)
    free = acc - G * up
    vertical = np.einsum("ij,ij->i", free, up)
    horizontal = free - vertical[:, None] * up
    yaw = np.einsum("ij,ij->i", gyr, up)
    steps = np.diff(ic)
    step = float(np.median(steps)) if steps.size else fs_hz / 2.0
    f_step = fs_hz / step
    stride_band, step_band = (0.3 * f_step, 0.7 * f_step), (0.5 * f_step, 1.5 * f_step)
    stride_acc = sig.butter(horizontal, fs_hz, stride_band, "bandpass")
    stride_yaw = sig.butter(yaw, fs_hz, stride_band, "bandpass")
    step_acc = sig.butter(horizontal, fs_hz, step_band, "bandpass")
    velocity = integrate.cumulative_trapezoid(vertical - vertical.mean(), dx=1.0 / fs_hz, initial=0.0)
    step_vel = sig.butter(velocity, fs_hz, step_band, "bandpass")
    lp = config.lowpass_hz, config.lowpass_order
    slope = np.gradient(sig.butter(horizontal, fs_hz, lp[0], "lowpass", order=lp[1]), axis=0)
    # Centripetal acceleration of turns (speed × turn rate, toward the inside of the turn) is lateral and as steep
    # as the sway at its onset: it is fitted per bout (turn-band lateral acceleration on the turn rate) and removed.
    turn_rate = sig.butter(np.deg2rad(yaw), fs_hz, config.turn_band_hz, "lowpass")
    turn_acc = sig.butter(horizontal, fs_hz, config.turn_band_hz, "lowpass")
    turn_slope = np.gradient(sig.butter(turn_rate, fs_hz, lp[0], "lowpass", order=lp[1]))
    bout = np.concatenate(([0], np.cumsum(steps > config.bout_gap_s * fs_hz)))
    first, last = ic[np.r_[0, np.flatnonzero(np.diff(bout)) + 1]], ic[np.r_[np.flatnonzero(np.diff(bout)), -1]]
    lo = np.clip(np.floor(first - step), 0, n - 1).astype(np.int64)
    hi = np.clip(np.ceil(last + step) + 1, 1, n).astype(np.int64)
    sizes = np.bincount(bout)
    pooled = np.zeros(n, dtype=bool)
    for a, b in zip(lo[sizes >= config.min_bout_ics], hi[sizes >= config.min_bout_ics], strict=True):
        pooled[a:b] = True
    if not pooled.any():
        pooled[:] = True
    signals = (stride_acc, step_acc, step_vel, stride_yaw)
    left_all = left_axis(_unit(up[pooled].mean(axis=0)), *(x[pooled] for x in signals))
    ic_i = np.clip(np.rint(ic).astype(np.int64), 0, n - 1)
    is_right = np.zeros(ic.size, dtype=bool)
    for k, (a, b) in enumerate(zip(lo, hi, strict=True)):  # one pass per walking bout
        w = slice(a, b)
        left = (
            left_axis(_unit(up[w].mean(axis=0)), *(x[w] for x in signals))
            if sizes[k] >= config.min_bout_ics
            else left_all
        )
        sel = bout == k
        rate = turn_rate[w]
        speed = max(0.0, float((turn_acc[w] @ left) @ rate) / float(rate @ rate)) if np.any(rate) else 0.0
        is_right[sel] = slope[ic_i[sel]] @ left - speed * turn_slope[ic_i[sel]] > 0
    return is_right


def pelvis_events(
    vertical_acc_ms2: FloatArray,
    rotation_deg: FloatArray,
    valid: NDArray[np.bool_],
    fs_hz: float,
    *,
    turning: NDArray[np.bool_] | None = None,
    acc_ms2: FloatArray | None = None,
    gyr_dps: FloatArray | None = None,
    config: EventConfig = DEFAULT_EVENT_CONFIG,
) -> GaitEvents:
    """IC and FC of both legs from the pelvis: McCamley/Caramia CWT events plus laterality.

    With the pelvis sensor's ``acc_ms2`` and ``gyr_dps`` ((n, 3), any body-fixed frame) the sides come from the
    ML-acceleration rule with per-bout axes (:func:`ml_laterality`); without them from the rotation-angle rule,
    where ``turning`` (grid mask) silences the votes during turns and starts a new alternation run after each.
    FCs are kept only when one follows at least ``min_fc_fraction`` of the ICs; otherwise none are reported
    (stance stays NaN) rather than a few unreliable ones. Fewer than two seconds of data give no events.
    """
    cfg = config.pelvis
    n = vertical_acc_ms2.shape[0]
    if n < 2 * fs_hz or valid.sum() < 2 * fs_hz:
        empty = np.zeros(0)
        return make_events(empty, empty.astype(str), empty.astype(str), empty.astype(str), fs_hz)
    acc = sig.fill_invalid(vertical_acc_ms2, valid)
    rot = sig.fill_invalid(rotation_deg, valid)
    turn = np.zeros(n, dtype=bool) if turning is None else turning
    # Stride period from the rotation (one cycle per stride, unlike the step-periodic vertical acceleration),
    # blanked during turns, whose heading change would swamp it.
    rot_band = np.where(turn, 0.0, sig.butter(rot, fs_hz, (0.5, 4.0), "bandpass"))
    stride = sig.dominant_period_s(rot_band, fs_hz, *config.stride_range_s)
    stride = stride if np.isfinite(stride) else 1.1
    step_samples = stride / 2 * fs_hz
    scale_ic, scale_fc = caramia_scales(2.0 / stride, fs_hz)
    vel = integrate.cumulative_trapezoid(acc - acc.mean(), dx=1.0 / fs_hz, initial=0.0)
    coef_ic = sig.cwt_gaus1(vel, scale_ic)
    coef_fc = sig.cwt_gaus1(sig.cwt_gaus1(vel, scale_fc), scale_fc)
    max_bad = int(cfg.max_gap_s * fs_hz)
    ic_i = _peaks(-coef_ic, cfg.min_step_fraction * step_samples)
    ic_f = ic_i.astype(np.float64)
    ic_i = ic_i[_window_valid(valid, ic_f - scale_ic, ic_f + scale_ic, max_bad)]
    fc_i = _peaks(-coef_fc, 0.5 * cfg.min_step_fraction * step_samples)
    fc_f = fc_i.astype(np.float64)
    fc_i = fc_i[_window_valid(valid, fc_f - scale_fc, fc_f + scale_fc, max_bad)]
    ic = _parabolic(-coef_ic, ic_i) if ic_i.size else np.zeros(0)
    fc_all = _parabolic(-coef_fc, fc_i) if fc_i.size else np.zeros(0)
    # FC: the first candidate after each IC, within half a step and before the next IC (the other foot's toe-off).
    nxt = np.append(ic[1:], ic[-1] + step_samples if ic.size else 0.0)
    j = np.searchsorted(fc_all, ic, side="right")
    fc = fc_all[np.minimum(j, fc_all.size - 1)] if fc_all.size else np.full(ic.size, np.nan)
    ok_fc = (j < fc_all.size) & (fc < nxt) & (fc - ic < 0.5 * step_samples)
    if ic.size == 0 or ok_fc.mean() < cfg.min_fc_fraction:
        ok_fc = np.zeros(ic.size, dtype=bool)
    steps = np.diff(ic)
    med = np.median(steps) if steps.size else step_samples
    if acc_ms2 is not None and gyr_dps is not None:
        is_right = ml_laterality(acc_ms2, gyr_dps, valid, fs_hz, ic, config=config.pelvis.laterality)
        regular = steps <= cfg.run_break_factor * med
        alternates = is_right[1:] != is_right[:-1]
        agreement = float(alternates[regular].mean()) if regular.any() else float("nan")
    else:
        is_right, agreement = _rotation_laterality(rot, turn, ic, ic_i, steps, med, stride, fs_hz, cfg)
    # Only the reported IC time moves to the loading onset; FC pairing and laterality keep the CWT IC they were
    # defined and validated on (docs/validation/README.md §f).
    onset, moved = refine_ic(acc, valid, fs_hz, ic, float(med), config=config.pelvis.ic_refine)
    t_ic = onset / fs_hz
    t_fc = fc[ok_fc] / fs_hz
    t = np.concatenate([t_ic, t_fc])
    sides = np.concatenate([np.where(is_right, "right", "left"), np.where(is_right, "left", "right")[ok_fc]])
    kind = np.array(["IC"] * t_ic.size + ["FC"] * t_fc.size)
    rules = {"IC CWT loading onset": int(moved.sum()), "IC CWT": int((~moved).sum()), "FC CWT": int(t_fc.size)}
    return make_events(
        t, sides, kind, np.full(t.size, "pelvis"), fs_hz, laterality_agreement=agreement, rule_counts=rules
    )


def _rotation_laterality(
    rot: FloatArray,
    turn: NDArray[np.bool_],
    ic: FloatArray,
    ic_i: NDArray[np.int64],
    steps: FloatArray,
    med: float,
    stride: float,
    fs_hz: float,
    cfg: PelvisEventConfig,
) -> tuple[NDArray[np.bool_], float]:
    """The rotation-angle rule: stride-band rotation at each IC, best alternation phase within each regular run."""
    band = sig.butter(rot, fs_hz, (0.5 / stride, 1.6 / stride), "bandpass")
    vote = np.where(turn[ic_i], 0.0, np.sign(band[ic_i]))
    breaks = (steps > cfg.run_break_factor * med) | (turn[ic_i[1:]] != turn[ic_i[:-1]])
    run_id = np.concatenate(([0], np.cumsum(breaks)))
    alt = np.where(np.arange(ic.size) % 2 == 0, 1.0, -1.0)
    phase = np.sign(np.bincount(run_id, weights=vote * alt)) if ic.size else np.zeros(0)
    phase[phase == 0] = 1.0
    is_right = (phase[run_id] * alt) > 0
    voted = vote != 0
    agreement = float(np.mean(vote[voted] == np.where(is_right, 1.0, -1.0)[voted])) if voted.any() else float("nan")
    return np.asarray(is_right), agreement

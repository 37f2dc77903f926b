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

Laterality (§2.2): the pelvis is turned furthest left (positive rotation) at right IC, so the stride-band
rotation at an IC votes right when positive; within a run of regular steps the sides must alternate, and the
alternation phase with the most votes wins (reported as ``laterality_agreement``).

Validation note: real trunk signals carry a heel-strike transient that pins the acceleration peak to IC; the
simulator has none, and its vertical acceleration peaks some 60–110 ms after the true IC, which is where this
(unchanged, published) method lands on it. No constant offset is applied.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import integrate
from scipy import signal as sps

from pipeline import _signal as sig
from pipeline._event_core import (
    DEFAULT_EVENT_CONFIG,
    EventConfig,
    FloatArray,
    GaitEvents,
    _parabolic,
    _window_valid,
    make_events,
)


def caramia_scales(step_hz: float, fs_hz: float) -> tuple[float, float]:
    """gaus1 CWT scales (pywt units, samples) for IC and FC: Caramia 2019 as in skdh, rounded, clipped 1…90."""
    ic_scale = np.clip(np.round((56.0 - 10.0 * step_hz) * fs_hz / 250.0), 1.0, 90.0)
    fc_scale = np.clip(np.round((131.0 - 52.0 * step_hz) * fs_hz / 250.0), 1.0, 90.0)
    return float(ic_scale), float(fc_scale)


def _peaks(x: FloatArray, distance: float) -> NDArray[np.int64]:
    """Peaks above 0.5 SD of ``x`` (skdh's floor), at least ``distance`` samples apart."""
    p, _ = sps.find_peaks(x, height=0.5 * float(np.std(x)), distance=max(1, int(distance)))
    return np.asarray(p, dtype=np.int64)


def pelvis_events(
    vertical_acc_ms2: FloatArray,
    rotation_deg: FloatArray,
    valid: NDArray[np.bool_],
    fs_hz: float,
    *,
    turning: NDArray[np.bool_] | None = None,
    config: EventConfig = DEFAULT_EVENT_CONFIG,
) -> GaitEvents:
    """IC and FC of both legs from the pelvis: McCamley/Caramia CWT events plus rotation-based laterality.

    ``turning`` (grid mask) silences laterality votes during turns, where the heading change swamps the pelvic
    rotation, and starts a new alternation run after each. FCs are kept only when one follows at least
    ``min_fc_fraction`` of the ICs; otherwise none are reported (stance stays NaN) rather than a few unreliable
    ones. Fewer than two seconds of data give no events.
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
    # Laterality: stride-band rotation at each IC, then the best alternation phase within each regular run.
    band = sig.butter(rot, fs_hz, (0.5 / stride, 1.6 / stride), "bandpass")
    vote = np.where(turn[ic_i], 0.0, np.sign(band[ic_i]))
    steps = np.diff(ic)
    med = np.median(steps) if steps.size else step_samples
    breaks = (steps > cfg.run_break_factor * med) | (turn[ic_i[1:]] != turn[ic_i[:-1]])
    run_id = np.concatenate(([0], np.cumsum(breaks)))
    alt = np.where(np.arange(ic.size) % 2 == 0, 1.0, -1.0)
    phase = np.sign(np.bincount(run_id, weights=vote * alt)) if ic.size else np.zeros(0)
    phase[phase == 0] = 1.0
    is_right = (phase[run_id] * alt) > 0
    voted = vote != 0
    agreement = float(np.mean(vote[voted] == np.where(is_right, 1.0, -1.0)[voted])) if voted.any() else float("nan")
    t_ic = ic / fs_hz + cfg.ic_offset_s
    t_fc = fc[ok_fc] / fs_hz + cfg.fc_offset_s
    t = np.concatenate([t_ic, t_fc])
    sides = np.concatenate([np.where(is_right, "right", "left"), np.where(is_right, "left", "right")[ok_fc]])
    kind = np.array(["IC"] * t_ic.size + ["FC"] * t_fc.size)
    return make_events(t, sides, kind, np.full(t.size, "pelvis"), fs_hz, laterality_agreement=agreement)

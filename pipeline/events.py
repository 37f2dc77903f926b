"""Gait events (initial contact IC, final contact FC) per side, from a thigh or from the pelvis.

Thigh (reference §2.3). The sagittal flexion rate has one large positive peak per stride (mid-swing). Searching
forward from it, the rate falls through zero where the thigh reaches maximal flexion (≈ 13 % of a stride before
IC, too early to be IC itself), dips as the thigh is pulled back in terminal swing, and that retraction is
arrested at foot contact: IC = the angular-acceleration maximum after the dip. Searching backward, the rate rose
through zero at peak extension, which falls at ≈ 0.87 of stance, so FC is extrapolated from the stride's IC
and that landmark (see :func:`thigh_events`). Constant offsets ``ic_offset_s`` / ``fc_offset_s`` (default 0) can
correct a known bias; being the same on both sides, a bias cancels in symmetry indices.

Pelvis (reference §2.1, McCamley 2012 with the Caramia 2019 scale rule). The vertical acceleration is
integrated and differentiated by a Gaussian-derivative (gaus1) CWT; for a real Gaussian that equals minus the
Gaussian-smoothed acceleration, so ICs are the maxima of the smoothed vertical acceleration. A second gaus1 CWT
gives the smoothed jerk, whose maxima are FCs; the first FC after each IC belongs to the other foot (its toe-off
ends the double support). Laterality (§2.2): the pelvis is turned furthest left (positive rotation) at right IC,
so the stride-band rotation at an IC votes right when positive; within a run of regular steps the sides must
alternate, and the alternation phase with the most votes wins (reported as ``laterality_agreement``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from scipy import signal as sps

from pipeline import _signal as sig

FloatArray = NDArray[np.float64]
StrArray = NDArray[np.str_]


@dataclass(frozen=True)
class ThighEventConfig:
    """Parameters of thigh-based event detection."""

    lowpass_hz: float = 6.0
    min_swing_peak_dps: float = 40.0  # absolute floor of a mid-swing peak
    swing_peak_fraction: float = 0.4  # of the 95th percentile of the flexion rate
    min_stride_fraction: float = 0.6  # peaks closer than this fraction of the stride period are merged
    terminal_swing_frac: float = 0.2  # search span (stride fraction) for the terminal-swing dip and its arrest
    ic_after_max_flexion_frac: float = 0.13  # fallback IC delay after maximal flexion (stride fraction)
    peak_extension_stance_frac: float = 0.87  # peak thigh extension as a fraction of stance
    max_gap_s: float = 0.1  # masked (lost) samples tolerated between the swing peak and an event
    ic_offset_s: float = 0.0
    fc_offset_s: float = 0.0


@dataclass(frozen=True)
class PelvisEventConfig:
    """Parameters of pelvis-based (McCamley/Caramia) event detection and laterality."""

    min_step_fraction: float = 0.6  # ICs closer than this fraction of the step period are merged
    run_break_factor: float = 1.7  # a step longer than this × median step starts a new laterality run
    max_gap_s: float = 0.1  # masked (lost) samples tolerated around an IC
    min_fc_fraction: float = 0.5  # report FCs only if found after at least this share of ICs
    ic_offset_s: float = 0.0
    fc_offset_s: float = 0.0


@dataclass(frozen=True)
class EventConfig:
    """All event-detection parameters."""

    thigh: ThighEventConfig = ThighEventConfig()
    pelvis: PelvisEventConfig = PelvisEventConfig()
    stride_range_s: tuple[float, float] = (0.6, 2.5)


@dataclass(frozen=True)
class GaitEvents:
    """Events sorted by time. ``sample`` indexes the session grid; ``t_s`` is on the session timeline."""

    sample: NDArray[np.int64]
    t_s: FloatArray
    side: StrArray  # "left" | "right"
    kind: StrArray  # "IC" | "FC"
    source: StrArray  # site the event was detected from
    laterality_agreement: float = float("nan")  # pelvis only: share of ICs whose rotation vote matched the side

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    def select(self, side: str, kind: str) -> FloatArray:
        """Times (s) of one side and kind."""
        return np.asarray(self.t_s[(self.side == side) & (self.kind == kind)], dtype=np.float64)


def make_events(
    t_s: NDArray[np.floating[Any]],
    side: NDArray[Any],
    kind: NDArray[Any],
    source: NDArray[Any],
    fs_hz: float,
    *,
    laterality_agreement: float = float("nan"),
) -> GaitEvents:
    """Build a sorted :class:`GaitEvents` (sample = nearest grid index of ``t_s``)."""
    t = np.asarray(t_s, dtype=np.float64)
    order = np.argsort(t, kind="stable")
    t = t[order]
    return GaitEvents(
        np.rint(t * fs_hz).astype(np.int64),
        t,
        np.asarray(side, dtype=str)[order],
        np.asarray(kind, dtype=str)[order],
        np.asarray(source, dtype=str)[order],
        laterality_agreement,
    )


def merge(*parts: GaitEvents, fs_hz: float) -> GaitEvents:
    """Concatenate event sets and sort them by time."""
    return make_events(
        np.concatenate([p.t_s for p in parts]),
        np.concatenate([p.side for p in parts]),
        np.concatenate([p.kind for p in parts]),
        np.concatenate([p.source for p in parts]),
        fs_hz,
        laterality_agreement=next(
            (p.laterality_agreement for p in parts if np.isfinite(p.laterality_agreement)), np.nan
        ),
    )


def _window_valid(valid: NDArray[np.bool_], a: FloatArray, b: FloatArray, max_bad: int = 0) -> NDArray[np.bool_]:
    """True where at most ``max_bad`` grid samples in [floor(a), ceil(b)] are invalid (cumulative count)."""
    bad = np.concatenate(([0], np.cumsum(~valid)))
    lo = np.clip(np.floor(a).astype(np.int64), 0, valid.shape[0])
    hi = np.clip(np.ceil(b).astype(np.int64) + 1, 0, valid.shape[0])
    return np.asarray((bad[hi] - bad[lo]) <= max_bad)


def _first_after(candidates: NDArray[Any], after: FloatArray) -> tuple[FloatArray, NDArray[np.bool_]]:
    """The first candidate strictly after each ``after`` (and whether there is one)."""
    j = np.searchsorted(candidates, after, side="right")
    found = j < candidates.size
    if not candidates.size:
        return np.full(after.shape, np.nan), found
    return np.asarray(candidates[np.minimum(j, candidates.size - 1)], dtype=np.float64), found


def _parabolic(x: FloatArray, i: NDArray[np.int64]) -> FloatArray:
    """Sub-sample position of the extrema of ``x`` at indices ``i`` (parabola through three samples)."""
    i = np.clip(i, 1, x.shape[0] - 2)
    y0, y1, y2 = x[i - 1], x[i], x[i + 1]
    denom = y0 - 2 * y1 + y2
    safe = np.where(denom != 0, denom, 1.0)
    return np.asarray(i + np.where(denom != 0, 0.5 * (y0 - y2) / safe, 0.0), dtype=np.float64)


def thigh_events(
    flexion_rate_dps: FloatArray,
    valid: NDArray[np.bool_],
    fs_hz: float,
    *,
    side: str,
    source: str,
    config: EventConfig = EventConfig(),
) -> GaitEvents:
    """IC and FC of one leg from its thigh's sagittal flexion rate (deg/s, flexion +).

    IC: after each mid-swing peak the rate crosses zero (maximal flexion), dips (terminal-swing retraction of the
    thigh) and is then abruptly arrested by the foot contact: IC is the first maximum of the angular
    acceleration after that dip. Without a dip within ``terminal_swing_frac`` of a stride, IC is taken
    ``ic_after_max_flexion_frac`` of a stride after maximal flexion (normative: max hip flexion ≈ 85–87 % of the
    cycle, Perry & Burnfield). FC: peak extension (the last upward zero crossing before the swing peak) occurs at
    a nearly fixed fraction of stance (≈ 52 % / 60 % of the cycle ≈ 0.87 of stance, same source), so
    FC = IC + (t_peak_extension − IC) / ``peak_extension_stance_frac``.
    """
    cfg = config.thigh
    rate = sig.butter(sig.fill_invalid(flexion_rate_dps, valid), fs_hz, cfg.lowpass_hz, "lowpass")
    stride = sig.dominant_period_s(rate, fs_hz, *config.stride_range_s)
    stride = stride if np.isfinite(stride) else 1.1
    T = stride * fs_hz  # samples per stride
    height = max(cfg.min_swing_peak_dps, cfg.swing_peak_fraction * float(np.percentile(rate[valid], 95)))
    peaks, _ = sps.find_peaks(rate, height=height, distance=max(1, int(cfg.min_stride_fraction * T)))
    peaks_f = peaks.astype(np.float64)
    down, up = sig.crossings(rate, "down"), sig.crossings(rate, "up")
    # IC
    max_flex, has_mf = _first_after(down, peaks_f)
    has_mf &= max_flex - peaks_f < 0.5 * T
    dips, _ = sps.find_peaks(-rate)
    dip, has_dip = _first_after(dips, max_flex)
    has_dip &= has_mf & (dip - max_flex < cfg.terminal_swing_frac * T)
    ang_acc = np.gradient(rate)
    acc_peaks, _ = sps.find_peaks(ang_acc)
    arrest, has_arrest = _first_after(acc_peaks, dip)
    has_arrest &= has_dip & (arrest - dip < cfg.terminal_swing_frac * T)
    arrest_f = _parabolic(ang_acc, np.nan_to_num(arrest).astype(np.int64))
    ic = np.where(has_arrest, arrest_f, max_flex + cfg.ic_after_max_flexion_frac * T)
    ok_ic = has_mf & _window_valid(valid, peaks_f, np.where(has_mf, ic, peaks_f), int(cfg.max_gap_s * fs_hz))
    ic = ic[ok_ic]
    # FC
    j = np.searchsorted(up, peaks_f) - 1
    peak_ext = up[np.maximum(j, 0)] if up.size else np.full(peaks.size, np.nan)
    ok_fc = (j >= 0) & (peaks_f - peak_ext < 0.5 * T)
    k = np.searchsorted(ic, peak_ext) - 1
    prev_ic = ic[np.maximum(k, 0)] if ic.size else np.full(peaks.size, np.nan)
    has_prev = (k >= 0) & (peak_ext - prev_ic < 0.8 * T)
    fc = np.where(
        has_prev,
        prev_ic + (peak_ext - prev_ic) / cfg.peak_extension_stance_frac,
        peak_ext + (1.0 - cfg.peak_extension_stance_frac) * 0.6 * T,
    )
    ok_fc &= _window_valid(valid, np.where(ok_fc, peak_ext, peaks_f), peaks_f, int(cfg.max_gap_s * fs_hz))
    t_ic = ic / fs_hz + cfg.ic_offset_s
    t_fc = fc[ok_fc] / fs_hz + cfg.fc_offset_s
    t = np.concatenate([t_ic, t_fc])
    kind = np.array(["IC"] * t_ic.size + ["FC"] * t_fc.size)
    return make_events(t, np.full(t.size, side), kind, np.full(t.size, source), fs_hz)


def _caramia_sigma(step_hz: float, fs_hz: float) -> tuple[float, float]:
    """Gaussian σ (samples) of the IC and FC gaus1 scales: Caramia 2019, scale = (a − b·f_step)·fs/250, σ = s/√2."""
    ic_scale = np.clip((56.0 - 10.0 * step_hz) * fs_hz / 250.0, 1.0, 90.0)
    fc_scale = np.clip((131.0 - 52.0 * step_hz) * fs_hz / 250.0, 1.0, 90.0)
    return float(ic_scale / np.sqrt(2.0)), float(fc_scale / np.sqrt(2.0))


def pelvis_events(
    vertical_acc_ms2: FloatArray,
    rotation_deg: FloatArray,
    valid: NDArray[np.bool_],
    fs_hz: float,
    *,
    turning: NDArray[np.bool_] | None = None,
    config: EventConfig = EventConfig(),
) -> GaitEvents:
    """IC and FC of both legs from the pelvis: McCamley CWT events plus rotation-based laterality.

    ``turning`` (grid mask) silences laterality votes during turns, where the heading change swamps the pelvic
    rotation, and starts a new alternation run after each. FCs are kept only when the jerk shows a toe-off
    feature after at least ``min_fc_fraction`` of the ICs; otherwise none are reported (stance stays NaN) rather
    than a few unreliable ones.
    """
    cfg = config.pelvis
    acc = sig.fill_invalid(vertical_acc_ms2, valid)
    rot = sig.fill_invalid(rotation_deg, valid)
    turn = np.zeros(acc.shape[0], dtype=bool) if turning is None else turning
    # Stride period from the rotation (one cycle per stride, unlike the step-periodic vertical acceleration),
    # blanked during turns, whose heading change would swamp it.
    rot_band = np.where(turn, 0.0, sig.butter(rot, fs_hz, (0.5, 4.0), "bandpass"))
    stride = sig.dominant_period_s(rot_band, fs_hz, *config.stride_range_s)
    stride = stride if np.isfinite(stride) else 1.1
    step_samples = stride / 2 * fs_hz
    sigma_ic, sigma_fc = _caramia_sigma(2.0 / stride, fs_hz)
    acc = acc - acc.mean()
    smooth = ndimage.gaussian_filter1d(acc, sigma_ic)  # = −gaus1-CWT of the integrated acceleration
    jerk = ndimage.gaussian_filter1d(smooth, sigma_fc, order=1)  # second gaus1-CWT: smoothed derivative
    ic, _ = sps.find_peaks(smooth, distance=max(1, int(cfg.min_step_fraction * step_samples)), prominence=0.1)
    ic = ic[_window_valid(valid, ic - sigma_ic, ic + sigma_ic, int(cfg.max_gap_s * fs_hz))]
    fc_cand, _ = sps.find_peaks(jerk)
    # FC: the first jerk maximum after each IC and before the next (the other foot's toe-off).
    nxt = np.append(ic[1:], ic[-1] + step_samples if ic.size else 0).astype(np.float64)
    j = np.searchsorted(fc_cand, ic, side="right")
    fc = fc_cand[np.minimum(j, max(fc_cand.size - 1, 0))] if fc_cand.size else np.zeros(ic.size, dtype=np.int64)
    ok_fc = (
        (j < fc_cand.size) & (fc < nxt) & (fc - ic < 0.5 * step_samples) if fc_cand.size else np.zeros(ic.size, bool)
    )
    if ic.size == 0 or ok_fc.mean() < cfg.min_fc_fraction:
        ok_fc = np.zeros(ic.size, dtype=bool)
    # Laterality: stride-band rotation at each IC, then the best alternation phase within each regular run.
    band = sig.butter(rot, fs_hz, (0.5 / stride, 1.6 / stride), "bandpass")
    vote = np.where(turn[ic], 0.0, np.sign(band[ic]))
    steps = np.diff(ic)
    med = np.median(steps) if steps.size else step_samples
    breaks = (steps > cfg.run_break_factor * med) | (turn[ic[1:]] != turn[ic[:-1]])
    run_id = np.concatenate(([0], np.cumsum(breaks)))
    k = np.arange(ic.size)
    alt = np.where(k % 2 == 0, 1.0, -1.0)
    phase = np.sign(np.bincount(run_id, weights=vote * alt)) if ic.size else np.zeros(0)
    phase[phase == 0] = 1.0
    is_right = (phase[run_id] * alt) > 0
    voted = vote != 0
    agreement = float(np.mean(vote[voted] == np.where(is_right, 1.0, -1.0)[voted])) if voted.any() else float("nan")
    ic_side = np.where(is_right, "right", "left")
    fc_side = np.where(is_right, "left", "right")[ok_fc]
    t_ic = ic / fs_hz + cfg.ic_offset_s
    t_fc = fc[ok_fc] / fs_hz + cfg.fc_offset_s
    t = np.concatenate([t_ic, t_fc])
    sides = np.concatenate([ic_side, fc_side])
    kind = np.array(["IC"] * t_ic.size + ["FC"] * t_fc.size)
    return make_events(t, sides, kind, np.full(t.size, "pelvis"), fs_hz, laterality_agreement=agreement)

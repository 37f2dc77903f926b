"""Gait events (initial contact IC, final contact FC) per side, from a thigh or from the pelvis.

Thigh (reference §2.3). The sagittal flexion rate has one large positive peak per stride (mid-swing). Searching
forward from it, the rate falls through zero at maximal flexion (≈ 13 % of a stride before IC), which opens the
terminal-swing window in which IC is sought: the onset of the heel-strike transient in the thigh accelerometer when
one is given and found (:mod:`pipeline._thigh_impact`), else a gyroscope landmark (the arrest of the
terminal-swing retraction). Backward from the peak, the rate rose through zero at peak extension; FC is where the
thigh has since flexed through a normative share of its extension → flexion excursion, an angle-based landmark.
Which rule produced how many events is returned in :attr:`GaitEvents.rule_counts`. A timing bias common to
both sides cancels in symmetry indices.

Pelvis (reference §2.1 and §2.2): McCamley 2012 / Caramia 2019 CWT events, in :mod:`pipeline._pelvis_events`
(re-exported here as :func:`pelvis_events`). Laterality: given the pelvis accelerometer and gyroscope, Mansour 2015
(sign of the derivative of the 1 Hz low-passed medio-lateral acceleration) with the ML axis and its sign estimated
per walking bout; otherwise the older rotation-angle rule, which fails on real lower-back recordings.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import signal as sps

from pipeline import _signal as sig
from pipeline._event_core import (
    DEFAULT_EVENT_CONFIG,
    EventConfig,
    FloatArray,
    GaitEvents,
    PelvisEventConfig,
    StrArray,
    ThighEventConfig,
    _first_after,
    _parabolic,
    _window_valid,
    make_events,
    merge,
)
from pipeline._pelvis_events import pelvis_events
from pipeline._thigh_impact import impact_onsets


def _excursion_fraction(
    rate: FloatArray,
    start: FloatArray,
    end: FloatArray,
    through: FloatArray,
    ok: NDArray[np.bool_],
    fraction: float,
) -> FloatArray:
    """Where the integral of ``rate`` from ``start`` first reaches ``fraction`` of its integral over [start, end].

    ``rate`` is positive on (start, end) (flexion between peak extension and peak flexion), so the integral is
    monotone there and the crossing is unique; it is searched in [start, through]. Loops over strides, not samples.
    """
    cum = np.concatenate(([0.0], np.cumsum(0.5 * (rate[1:] + rate[:-1]))))
    idx = np.arange(rate.shape[0], dtype=np.float64)
    out = np.full(start.shape[0], np.nan)
    for k in np.flatnonzero(ok):
        c0, c1 = np.interp([start[k], end[k]], idx, cum)
        a, b = int(np.ceil(start[k])), min(int(np.ceil(through[k])) + 1, rate.shape[0])
        # the trapezoid step straddling ``start`` may dip below c0; flexion is positive after it
        xs, ys = np.append(start[k], idx[a:b]), np.maximum.accumulate(np.append(c0, cum[a:b]))
        if xs.size >= 2 and c1 > c0:
            out[k] = np.interp(c0 + fraction * (c1 - c0), ys, xs)
    return out


def thigh_events(
    flexion_rate_dps: FloatArray,
    valid: NDArray[np.bool_],
    fs_hz: float,
    *,
    side: str,
    source: str,
    acc_ms2: FloatArray | None = None,
    config: EventConfig = DEFAULT_EVENT_CONFIG,
) -> GaitEvents:
    """IC and FC of one leg from its thigh's sagittal flexion rate (deg/s, flexion +) and, optionally, accelerometer.

    IC, impact rule (``acc_ms2`` given, (n, 3) m/s² in any sensor frame): IC is the onset of the heel-strike
    transient, searched in the window of ``terminal_swing_frac`` of a stride after maximal flexion (Perry &
    Burnfield: maximal hip flexion ≈ 85-87 % of the cycle, terminal swing ends at contact), see
    :mod:`pipeline._thigh_impact`. This is physically what IC is: the foot hits the ground. It assumes that
    contact makes a transient (hard or ordinary heels; Light et al. 1980 halved it with resilient heels) that
    reaches the thigh well above the sensor noise, and that the first activity leading up to the stride's largest
    transient is the contact. Where terminal swing holds no transient, the search runs on to ``impact_search_frac``
    of a stride after maximal flexion before the gyroscope rule is used: at a walk's first and last steps the thigh
    can reach maximal flexion earlier before contact. 0.3 is the end of terminal swing counted from the start of
    mid-swing (Perry & Burnfield: mid-swing 73-87 %, terminal swing 87-100 % of the cycle). On the Marpino walks
    (``bench/validate_thighs.py``: short walks, so two fifths of the contacts are a walk's first or last) this took the
    IC errors over 100 ms from 24 to 16 of 243 and the MAE from 41 to 37 ms (pipeline 1.13 → 1.14). The longer
    window is consulted only where the shorter one found nothing, so a stride with a transient in terminal swing
    keeps it even when a larger one follows in early stance (the NeuRA thighs' largest transient comes with
    loading, +170 ms after contact, ``bench/validate_neura.py``).

    IC, gyroscope rule (no accelerometer, or no transient in the window: soft shoes, a lost packet): after maximal
    flexion the rate dips (terminal-swing retraction of the thigh) and the retraction is arrested at foot contact:
    the first maximum of the angular acceleration after the dip; without a dip, ``ic_after_max_flexion_frac`` of a
    stride after maximal flexion. Thigh-gyroscope landmarks precede contact (Strick, Farris & Sawicki 2024, J
    Biomech Eng 146:044502: HS −41 ± 20 ms from a thigh IMU and joint angles). When the same recording has at least
    ``min_calibration_strides`` strides with both an impact and a gyroscope landmark, the landmark is shifted by
    their median lag, so a stride without a transient keeps the impact rule's timing; the rule name then says
    "impact-calibrated". Three such strides suffice: the median of three ignores one outlying stride, and a short
    clinic walk (3-6 strides per leg) seldom has five. With five required, the Marpino walks
    (``bench/validate_thighs.py``) kept 17 of their 25 gyroscope ICs uncalibrated, and those read the walk's last
    contacts early; with three, all 25 are calibrated and the per-walk right − left offset of steady contacts
    went from −8 ± 44 to −4 ± 36 ms (pipeline 1.14 → 1.15).

    Gaps (lost samples). An impact onset stands on its own evidence, the quiet samples before it and the transient
    up to its peak, which :mod:`pipeline._thigh_impact` requires to be observed; samples lost before them (around
    the swing peak or maximal flexion) do not touch it. A gyroscope landmark is taken from the gap-filled rate: it
    stands where at most ``max_gap_s`` of samples were lost in its detection window, from the swing peak to the end
    of the terminal-swing search (or to the landmark when later), a gap reaching into the window counting with its
    whole length. A gap that hides the transient straddles the contact, and the landmark sits at its edge; counting
    only the samples lost up to the landmark let a gyroscope IC be interpolated across two or three lost packets
    (on the simulator at 20 % packet loss such ICs were off by up to +34 ms, the largest event errors there).
    One lost packet is tolerated: the calibrated landmark across it is as good as an impact onset on the simulator
    (2 % loss: +3.8 ± 4.9 ms and +6.2 ± 7.2 ms against +7.7 ± 5.6 ms). An IC that fails both rules is refused.

    FC: between peak extension (the last upward zero crossing of the rate before the swing peak) and peak flexion
    (the next downward crossing) the thigh flexes monotonically, so its angle is a phase variable of the swing
    (thigh phase portrait, Holgate et al. 2009; Villarreal & Gregg 2016). FC is where the integrated rate (the
    flexion gained since peak extension) reaches ``fc_flexion_fraction`` of the whole excursion. Normative curves
    put toe-off early in that excursion: Perry & Burnfield (peak extension ≈ −10° at ≈ 52 % of the cycle, toe-off
    ≈ 60 % with the thigh at ≈ −6°, peak flexion ≈ +27° at ≈ 87 %) give 4/37 ≈ 0.11; Winter's thigh angles (−17° at
    52 %, +29° at 87 %, ≈ −11.6° at 60 %) give ≈ 0.12, and the simulator's thigh follows Winter. Real walkers do not:
    at the toe-off of NeuRA's Vicon reference the markers' own thigh (hip to knee centre) had made 0.19 of it and the
    thigh sensors 0.23, and at 0.11 the rule was early against two references in two labs (Marpino foot switches
    −29 ± 48 ms, NeuRA markers −37 ± 13 ms; ``bench/validate_thighs.py``, ``bench/validate_neura.py``). The
    fraction is therefore 0.2 (pipeline 1.16): chosen on the Marpino walks, where it gives −0 ± 50 ms (young +4,
    elderly −5 ms), and held out on NeuRA's trial, −6 ± 10 ms. On the simulator the rule now reads FC ≈ 40 ms late
    (its Winter curve), which shortens a simulated |stance SI| by ≈ 6 % of itself (≤ 0.8 pp in the grid); the
    simulator tests the rule at its own 0.11. Defined in angle rather than time it does not move when stance or swing
    is shortened (an antalgic stance), and the relative form cancels a reduced range of motion. A published thigh-IMU
    toe-off rule that needs no knee angle was not found (Strick 2024, TO −1.4 ± 21 ms, uses the knee angle and
    per-subject thresholds). Lost samples: the excursion is integrated over the gap-filled rate, which short gaps
    change little, so an FC's window may hold several gaps, none longer than ``max_gap_s`` and ``fc_max_lost_s``
    in all (pipeline 1.17; was ``max_gap_s`` in all). On real walks with 20 % of 8-sample notifications dropped this
    keeps 73 % of the loss-free FCs instead of 56 %, moved +0.6 ± 4.8 ms from them (``bench/thigh_packet_loss.py``).

    Every thigh rule here, the impact onset and the FC fraction in particular, needs validation on real recordings
    with reference events (force plates or instrumented walkways); none with thigh sensors is available to us. The
    simulator's thigh curve is Winter's normative shape and its transients are plausible rather than measured, so
    it tests robustness (asymmetry, speed, noise, mounting, packet loss), not these rules' physiology.
    """
    cfg = config.thigh
    if valid.sum() < 2 * fs_hz * config.stride_range_s[0]:  # not even two short strides: nothing to segment
        empty = np.zeros(0)
        return make_events(empty, empty.astype(str), empty.astype(str), empty.astype(str), fs_hz)
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
    impact = np.full(peaks.size, np.nan)
    if acc_ms2 is not None:
        window = np.where(has_mf, max_flex, np.nan)
        walking = _around(peaks, 0.5 * T, rate.shape[0])

        def onsets(span: float, where: NDArray[np.bool_]) -> FloatArray:
            start = np.where(where, window, np.nan)
            return impact_onsets(
                acc_ms2,
                valid,
                start,
                start + span * T,
                snr=cfg.impact_snr,
                quiet_samples=cfg.impact_quiet_samples,
                walking=walking,
            )

        impact = onsets(cfg.terminal_swing_frac, has_mf)
        late = has_mf & np.isnan(impact)
        if cfg.impact_search_frac > cfg.terminal_swing_frac and late.any():
            impact = np.where(late, onsets(cfg.impact_search_frac, late), impact)
    has_impact = np.isfinite(impact)
    max_bad = int(cfg.max_gap_s * fs_hz)
    # A gyroscope landmark comes from the gap-filled rate: its tolerance of lost samples counts them over its whole
    # detection window, from the swing peak to the end of the terminal-swing search (or to the landmark when later),
    # not only up to the landmark: a gap that hid the transient straddles the contact, mostly after the landmark.
    gyro_end = np.fmax(max_flex + cfg.terminal_swing_frac * T, ic)
    gyro_ok = has_mf & _gap_tolerant(valid, peaks_f, np.where(has_mf, gyro_end, peaks_f), max_bad, max_bad)
    # where this recording has impacts, its gyroscope landmark is calibrated against them (median lag)
    paired = has_impact & gyro_ok
    calibrated = int(paired.sum()) >= cfg.min_calibration_strides
    if calibrated:
        ic = ic + float(np.median(impact[paired] - ic[paired]))
    ic = np.where(has_impact, impact, ic)
    # An impact onset stands on its own evidence, observed without a gap (the quiet run before it and the transient
    # up to its peak, see pipeline._thigh_impact); lost samples before it do not touch it.
    ok_ic = has_mf & (has_impact | gyro_ok)
    gyro = "IC gyro (impact-calibrated)" if calibrated else "IC gyro"
    rules = {
        "IC impact": int((ok_ic & has_impact).sum()),
        f"{gyro} arrest": int((ok_ic & ~has_impact & has_arrest).sum()),
        f"{gyro} max flexion": int((ok_ic & ~has_impact & ~has_arrest).sum()),
    }
    ic = ic[ok_ic]
    # FC: the thigh angle (integrated rate) crosses the set fraction of its peak-extension → peak-flexion excursion.
    j = np.searchsorted(up, peaks_f) - 1
    peak_ext = up[np.maximum(j, 0)] if up.size else np.full(peaks.size, np.nan)
    ok_fc = (j >= 0) & (peaks_f - peak_ext < 0.5 * T) & has_mf
    fc = _excursion_fraction(rate, peak_ext, max_flex, peaks_f, ok_fc, cfg.fc_flexion_fraction)
    ok_fc &= np.isfinite(fc)
    # the excursion is integrated over the window's gap-filled rate: short gaps cost little of it (see docstring)
    fc_lost = int(cfg.fc_max_lost_s * fs_hz)
    ok_fc &= _gap_tolerant(
        valid, np.where(ok_fc, peak_ext, peaks_f), np.where(has_mf, max_flex, peaks_f), max_bad, fc_lost
    )
    t_ic = ic / fs_hz
    t_fc = fc[ok_fc] / fs_hz
    t = np.concatenate([t_ic, t_fc])
    kind = np.array(["IC"] * t_ic.size + ["FC"] * t_fc.size)
    rules["FC flexion fraction"] = int(t_fc.size)
    return make_events(t, np.full(t.size, side), kind, np.full(t.size, source), fs_hz, rule_counts=rules)


__all__ = [
    "EventConfig",
    "FloatArray",
    "GaitEvents",
    "PelvisEventConfig",
    "StrArray",
    "ThighEventConfig",
    "make_events",
    "merge",
    "pelvis_events",
    "thigh_events",
]


def _gap_tolerant(
    valid: NDArray[np.bool_], a: FloatArray, b: FloatArray, max_gap: int, max_lost: int
) -> NDArray[np.bool_]:
    """True where [a, b] lost at most ``max_lost`` samples in all and no gap longer than ``max_gap`` reaches into it.

    A gap that straddles the window's end (a contact lost in a gap, the landmark at its edge) hides as much of what
    the window's landmark depends on as one inside it, so it counts with its whole length.
    """
    gaps = sig.runs(~valid)
    edges = np.zeros(valid.shape[0] + 1, dtype=np.int64)
    long_gaps = gaps[(gaps[:, 1] - gaps[:, 0]) > max_gap]
    np.add.at(edges, long_gaps[:, 0], 1)
    np.add.at(edges, long_gaps[:, 1], -1)
    in_long_gap = np.cumsum(edges[:-1]) > 0
    return np.asarray(_window_valid(valid, a, b, max_lost) & _window_valid(~in_long_gap, a, b))


def _around(centres: NDArray[np.int64], half_width: float, n: int) -> NDArray[np.bool_]:
    """Mask of the samples within ``half_width`` of any of ``centres`` (here: one stride around each swing peak)."""
    edges = np.zeros(n + 1, dtype=np.int64)
    h = int(np.ceil(half_width))
    np.add.at(edges, np.clip(centres - h, 0, n), 1)
    np.add.at(edges, np.clip(centres + h + 1, 0, n), -1)
    return np.asarray(np.cumsum(edges[:n]) > 0)

"""One session timeline: device clocks mapped to session seconds, every sensor resampled onto one uniform grid.

Clock model. BLE only ever *adds* delay: a notification is stamped on the host (``t_host_ns``) some 7.5–30 ms (and
occasionally much more) after the device sampled its last sample. With a device clock, host time is therefore
``t_host = a + b·t_device + latency`` with latency ≥ a floor. :func:`fit_clock` fits the *lower envelope* of that
cloud: one point per notification (its last sample); only those within 50 ms of the lowest ``t_host − t_device`` in
their 10 s of device time and the 10 s either side (a long BLE stall delivers seconds of late notifications, which
must not tilt the line), a least-squares line through them, then repeatedly a refit through the points whose
residual is at or below a low quantile. ``b`` absorbs clock drift (tens of ppm), ``a`` the arbitrary device start
offset plus the latency floor (a constant shared by sensors of the same link, so it does not affect between-sensor
alignment to better than a few ms). Without a device clock the sample counter divided by the nominal rate plays its
role; without either, samples of one notification are spread backwards from its host stamp at the nominal rate
(timing jitter then equals the BLE jitter — flagged as ``source="host"``). A device clock can also restart
mid-recording (a sensor that rebooted, e.g. on a low battery, and was reconnected): its stamps then lie on a second
line with its own offset. :func:`clock_segments` finds each restart as a lasting step in the lower envelope of
``t_host − t_device``, and the fit gives every segment its own offset under one common drift, so nothing recorded
after a reboot is mistimed or lost. Stamps are checked first: one that lies over a second from the running median of
its neighbours in recording order is corrupt (stamps only move on in that order, across gaps too), and its sample is
dropped and counted (``n_rejected``), so a single flipped bit can neither tilt the clock fit nor stretch the grid
over days. A session spanning more than a day is refused.

Grid. Every sensor is linearly interpolated onto ``t_k = k / fs_hz`` (session seconds, k ≥ 0). A grid sample is
valid only when the two raw samples around it are at most ``max_gap_samples`` missing samples apart; across longer
gaps (lost packets) and outside a sensor's recording the values are **NaN** and ``valid`` is False. Non-finite raw
samples count as missing. Saturation is flagged (not corrected): values within ``saturation_fraction`` of the
configured range, or — when the range is unknown — runs of the same extreme value (a clipped channel).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import median_filter

from pipeline.errors import DataContractError, InsufficientDataError
from pipeline.store import RawStream

FloatArray = NDArray[np.float64]
G = 9.80665


@dataclass(frozen=True)
class TimelineConfig:
    """Parameters of clock mapping and resampling."""

    fs_hz: float = 100.0  # common grid rate
    max_gap_samples: int = 3  # up to this many missing raw samples are interpolated; longer gaps are masked
    envelope_quantile: float = 0.2  # residual quantile kept at each lower-envelope refit
    envelope_iterations: int = 4
    envelope_bin_s: float = 10.0  # the lower envelope's reach (±1 bin): longer than a BLE stall can last …
    envelope_band_s: float = 0.05  # … and the spread of timely notifications' latency above it
    saturation_fraction: float = 0.98  # of the configured full-scale range
    # A stamp (host, device or counter) this far from the running median of its neighbours in recording order is
    # corrupt, not a gap: after a gap every later stamp moves on too, and a running median follows such a step.
    stamp_tolerance_s: float = 1.0
    stamp_window: int = 65  # samples (8 notifications of 8 samples: a corrupt notification is outvoted)
    max_duration_s: float = 24 * 3600.0  # a longer span means corrupt clocks, not a walking session
    # A device clock restart: the lower envelope of host − device time steps by more than this and stays there for
    # ``clock_window`` notifications (a BLE stall delays a burst of notifications but the envelope comes back).
    clock_step_s: float = 0.25
    clock_window: int = 32  # notifications on each side of a candidate step
    # Two notifications whose device stamps follow on within this (the second after the first) continue one clock,
    # however late the second arrived: a reboot needs a reconnection, which loses more samples than that.
    clock_contiguous_s: float = 1.0


@dataclass(frozen=True)
class ClockFit:
    """The mapping ``t_session_s = offset_s + scale · (t_device_s − t_device_s[0])`` of one stream."""

    source: Literal["device", "counter", "host"]
    offset_s: float
    scale: float  # host seconds per device second
    latency_ms: float  # median latency above the fitted floor (BLE jitter); NaN for source "host"
    n_points: int  # notifications used
    n_rejected: int = 0  # samples whose stamps were implausible (:func:`implausible_stamps`); their time is NaN
    n_restarts: int = 0  # times the device clock restarted (:func:`clock_segments`); offset_s is the first segment's

    @property
    def drift_ppm(self) -> float:
        """Device clock rate error in parts per million (positive: the device clock runs slow)."""
        return (self.scale - 1.0) * 1e6


@dataclass(frozen=True)
class GridStream:
    """One sensor on the session grid. ``acc``/``gyr`` are NaN where ``valid`` is False."""

    site: str
    acc: FloatArray  # (m, 3) m/s², sensor frame
    gyr: FloatArray  # (m, 3) deg/s, sensor frame
    valid: NDArray[np.bool_]  # (m,)
    saturated: NDArray[np.bool_]  # (m,) a bracketing raw sample was at full scale
    clock: ClockFit
    n_raw: int
    n_nonfinite: int  # raw samples dropped because a value was NaN/inf
    span_s: tuple[float, float]  # first and last raw sample on the session timeline

    @property
    def coverage(self) -> float:
        """Fraction of the sensor's recorded span that is valid on the grid."""
        return float(self.valid.mean()) if self.valid.size else 0.0


@dataclass(frozen=True)
class Timeline:
    """All sensors of a session on one grid ``t_s = arange(n) / fs_hz``."""

    fs_hz: float
    t_s: FloatArray
    streams: Mapping[str, GridStream]


def _notification_ends(t_host_s: FloatArray) -> NDArray[np.intp]:
    """Index of the last sample of each notification in recording order (its samples share one host stamp)."""
    return np.flatnonzero(np.append(t_host_s[1:] != t_host_s[:-1], True))


def clock_segments(
    t_host_s: NDArray[np.floating[Any]], t_device_s: NDArray[np.floating[Any]], *, config: TimelineConfig
) -> NDArray[np.intp]:
    """Clock segment (0, 1, …) of every sample, in recording order: a new one starts where the device clock restarted.

    Within a segment ``t_host − t_device`` is a constant (plus drift, negligible over seconds) plus a latency that is
    never negative, so its minimum over a few seconds of notifications is the segment's offset. A restart is a step
    of over ``clock_step_s`` between two consecutive notifications whose device stamps do not follow on (a reboot
    needs a reconnection, which loses over ``clock_contiguous_s`` of samples), confirmed by the minimum over
    ``clock_window`` notifications on either side. A BLE stall (a burst of late notifications: their stamps follow
    on, and the envelope comes back) and a reconnection without a reboot (the clock ran on: no step) are not.
    """
    y = np.asarray(t_host_s, dtype=np.float64)
    x = np.asarray(t_device_s, dtype=np.float64)
    labels = np.zeros(y.shape[0], dtype=np.intp)
    if y.shape[0] < 2:
        return labels
    order = np.lexsort((x, y))  # recording order (host stamps only move on); a restarted clock does not reorder it
    x, y = x[order], y[order]
    last = _notification_ends(y)
    offset = y[last] - x[last]
    follows_on = np.diff(x)[last[:-1]]  # device time from each notification's last sample to the next one's first
    contiguous = (follows_on > 0) & (follows_on <= config.clock_contiguous_s)
    jumped = (np.abs(np.diff(offset)) > config.clock_step_s) & ~contiguous
    steps = np.flatnonzero(jumped) + 1  # first notification of a new level
    if steps.size == 0:
        return labels
    w = config.clock_window
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(offset, w, constant_values=np.inf), w)
    before, after = windows[steps].min(axis=1), windows[steps + w].min(axis=1)  # offset[j-w:j], offset[j:j+w]
    confirmed = steps[np.abs(after - before) > config.clock_step_s]
    starts = np.zeros(y.shape[0], dtype=np.intp)
    starts[last[confirmed - 1] + 1] = 1
    labels[order] = np.cumsum(starts)
    return labels


def fit_clock(
    t_host_s: NDArray[np.floating[Any]],
    t_device_s: NDArray[np.floating[Any]],
    *,
    segments: NDArray[np.integer[Any]] | None = None,
    config: TimelineConfig,
) -> tuple[FloatArray, float, float, int]:
    """Lower-envelope lines ``t_host ≈ a[s] + b·t_device``, one offset per clock segment ``s`` (all 0 when
    ``segments`` is None) and one drift; returns (a, b, median latency above the floor (s), notifications used)."""
    x = np.asarray(t_device_s, dtype=np.float64)
    y = np.asarray(t_host_s, dtype=np.float64)
    seg = np.zeros(x.shape[0], dtype=np.intp) if segments is None else np.asarray(segments, dtype=np.intp)
    n_seg = int(seg.max()) + 1 if seg.size else 1
    # One point per notification: its last (latest) sample was sent right when the host stamp was taken.
    order = np.lexsort((x, y))
    x, y, seg = x[order], y[order], seg[order]
    last = _notification_ends(y)
    x, y, seg = x[last], y[last], seg[last]
    if x.shape[0] < 2 or np.ptp(x) <= 0:
        a0 = float(y[0] - x[0]) if x.size else 0.0
        return np.full(n_seg, a0), 1.0, float("nan"), int(x.shape[0])
    design = np.column_stack([x - x.mean(), np.eye(n_seg)[seg]])
    # Candidates: notifications within envelope_band_s of the lowest offset within ±1 bin of envelope_bin_s (its own
    # segment). Seconds of late notifications (a long BLE stall) then never enter the fit, however many.
    offset = y - x
    start = np.full(n_seg, np.inf)
    np.minimum.at(start, seg, x)  # each segment's own first device time: its clock may lie anywhere
    bins = np.floor((x - start[seg]) / config.envelope_bin_s).astype(np.intp) + 1  # 0 and the last: empty margins
    key = seg * (int(bins.max()) + 2) + bins
    lowest = np.full(n_seg * (int(bins.max()) + 2), np.inf)
    np.minimum.at(lowest, key, offset)
    near = offset - np.minimum(np.minimum(lowest[key - 1], lowest[key]), lowest[key + 1]) <= config.envelope_band_s
    keep = near
    coef = np.linalg.lstsq(design[keep], y[keep], rcond=None)[0]
    for _ in range(config.envelope_iterations):
        r = y - design @ coef
        keep = np.zeros(x.shape[0], dtype=bool)
        for s in range(n_seg):  # each segment's own low quantile, so a short segment keeps its points
            in_s = near & (seg == s)
            keep[in_s] = r[in_s] <= np.quantile(r[in_s], config.envelope_quantile)
        if keep.sum() < n_seg + 1 or np.ptp(x[keep]) <= 0:
            break
        coef = np.linalg.lstsq(design[keep], y[keep], rcond=None)[0]
    r = y - design @ coef
    # The envelope passes through each segment's low quantile, not its extreme minimum.
    floor = np.array([np.quantile(r[near & (seg == s)], 0.02) for s in range(n_seg)])
    b = float(coef[0])
    a = coef[1:] - b * x.mean() + floor
    return a, b, float(np.median(r - floor[seg])), int(x.shape[0])


def _off_running_median(x: NDArray[np.integer[Any]], tolerance: float, window: int) -> NDArray[np.bool_]:
    values = np.asarray(x, dtype=np.float64)
    return np.asarray(np.abs(values - median_filter(values, size=window, mode="nearest")) > tolerance)


def implausible_stamps(raw: RawStream, rate_hz: float, *, config: TimelineConfig) -> NDArray[np.bool_]:
    """Samples whose host stamp, device stamp or counter lies more than ``stamp_tolerance_s`` from the running
    median of its neighbours in recording order. Stamps only ever move on in that order, so a running median
    reproduces them exactly, across gaps too; a corrupt value (a flipped bit, a firmware glitch) stands out."""
    tol, window = config.stamp_tolerance_s, config.stamp_window
    bad = _off_running_median(raw.t_host_ns, tol * 1e9, window)
    if raw.t_device_us is not None:
        bad |= _off_running_median(raw.t_device_us, tol * 1e6, window)
    if raw.counter is not None and rate_hz > 0:
        bad |= _off_running_median(raw.counter, tol * rate_hz, window)
    return bad


def sample_times_s(
    raw: RawStream, host_t0_ns: int, rate_hz: float, *, config: TimelineConfig
) -> tuple[FloatArray, ClockFit]:
    """Session-timeline seconds of every raw sample (same order as the stream) and the clock fit behind them.

    Samples with implausible stamps (:func:`implausible_stamps`) get NaN and are counted in the fit's
    ``n_rejected``; the clock is fitted on the others.
    """
    good = ~implausible_stamps(raw, rate_hz, config=config)
    if good.sum() < 2:
        raise InsufficientDataError(
            f"{raw.path}: only {int(good.sum())} of {len(raw)} samples have plausible timestamps; nothing to analyse"
        )
    rejected = int((~good).sum())
    t = np.full(len(raw), np.nan)
    host_ns = raw.t_host_ns[good]
    t_host = (host_ns - np.int64(host_t0_ns)).astype(np.float64) * 1e-9
    device = raw.t_device_us[good] if raw.t_device_us is not None else None
    counter = raw.counter[good] if raw.counter is not None else None
    if device is not None and np.all(device >= 0):
        dev = (device - device.min()).astype(np.float64) * 1e-6
        source: Literal["device", "counter", "host"] = "device"
    elif counter is not None and np.all(counter >= 0) and rate_hz > 0:
        dev = (counter - counter.min()).astype(np.float64) / rate_hz
        source = "counter"
    else:
        if rate_hz <= 0:
            raise DataContractError(
                "no device clock, no counter and no nominal rate: cannot time samples", path=raw.path
            )
        # Spread each notification's samples backwards from its stamp at the nominal rate.
        _, start, count = np.unique(host_ns, return_index=True, return_counts=True)
        pos = np.arange(t_host.shape[0]) - np.repeat(start, count)
        spread = t_host - (np.repeat(count, count) - 1 - pos) / rate_hz
        order = np.argsort(host_ns, kind="stable")
        spread[order] = np.maximum.accumulate(spread[order])
        t[good] = spread
        return t, ClockFit("host", 0.0, 1.0, float("nan"), int(start.shape[0]), rejected)
    segments = clock_segments(t_host, dev, config=config)
    a, b, latency, n = fit_clock(t_host, dev, segments=segments, config=config)
    t[good] = a[segments] + b * dev
    return t, ClockFit(source, float(a[0]), b, latency * 1e3, n, rejected, int(segments.max()))


def _saturation(x: FloatArray, full_scale: float | None, fraction: float, plateau_floor: float) -> NDArray[np.bool_]:
    ax = np.abs(x)
    if full_scale is not None and full_scale > 0:
        return np.asarray(np.any(ax >= fraction * full_scale, axis=1))
    peak = np.nanmax(ax, axis=0) if ax.size else np.zeros(3)
    at_peak = (ax >= peak * (1 - 1e-6)) & (peak > plateau_floor)
    clipped = at_peak.sum(axis=0) >= 3  # a clipped channel sits on its rail for several samples
    return np.asarray(np.any(at_peak & clipped, axis=1))


def resample_stream(
    raw: RawStream,
    t_s: NDArray[np.floating[Any]],
    grid_t_s: FloatArray,
    rate_hz: float,
    clock: ClockFit,
    *,
    acc_range_ms2: float | None = None,
    gyr_range_dps: float | None = None,
    config: TimelineConfig,
) -> GridStream:
    """Interpolate one stream onto ``grid_t_s``; gaps longer than ``max_gap_samples`` are masked (NaN)."""
    t = np.asarray(t_s, dtype=np.float64)
    numbers = np.all(np.isfinite(raw.acc), axis=1) & np.all(np.isfinite(raw.gyr), axis=1)
    finite = np.isfinite(t) & numbers  # a NaN time is a rejected stamp, counted by the clock fit
    order = np.argsort(t[finite], kind="stable")
    t, acc, gyr = t[finite][order], raw.acc[finite][order], raw.gyr[finite][order]
    if t.shape[0]:
        uniq = np.append(np.diff(t) > 0, True)  # drop duplicate timestamps (keep the last)
        t, acc, gyr = t[uniq], acc[uniq], gyr[uniq]
    m = grid_t_s.shape[0]
    nan = np.full((m, 3), np.nan)
    if t.shape[0] < 2:
        empty = np.zeros(m, dtype=bool)
        return GridStream(
            raw.site, nan, nan.copy(), empty, empty.copy(), clock, len(raw), int((~numbers).sum()), (0, 0)
        )
    sat = _saturation(acc, acc_range_ms2, config.saturation_fraction, 2 * G) | _saturation(
        gyr, gyr_range_dps, config.saturation_fraction, 250.0
    )
    period = 1.0 / rate_hz if rate_hz > 0 else float(np.median(np.diff(t)))
    max_step = (config.max_gap_samples + 1.5) * period
    j = np.clip(np.searchsorted(t, grid_t_s, side="right"), 1, t.shape[0] - 1)
    inside = (grid_t_s >= t[0]) & (grid_t_s <= t[-1])
    valid = inside & ((t[j] - t[j - 1]) <= max_step)
    out_acc = np.column_stack([np.interp(grid_t_s, t, acc[:, k]) for k in range(3)])
    out_gyr = np.column_stack([np.interp(grid_t_s, t, gyr[:, k]) for k in range(3)])
    out_acc[~valid] = np.nan
    out_gyr[~valid] = np.nan
    saturated = valid & (sat[j] | sat[j - 1])
    return GridStream(
        raw.site,
        out_acc,
        out_gyr,
        valid,
        saturated,
        clock,
        len(raw),
        int((~numbers).sum()),
        (float(t[0]), float(t[-1])),
    )


def build_timeline(
    raws: Mapping[str, RawStream],
    host_t0_ns: int,
    *,
    rates_hz: Mapping[str, float] | None = None,
    acc_range_ms2: Mapping[str, float | None] | None = None,
    gyr_range_dps: Mapping[str, float | None] | None = None,
    config: TimelineConfig = TimelineConfig(),
) -> Timeline:
    """Map every stream to session time and resample all onto one grid from session time 0 to the last sample.

    ``rates_hz`` are nominal rates (e.g. from ``session.meta.sensors``); missing ones are estimated from the data.
    """
    times: dict[str, tuple[FloatArray, ClockFit, float]] = {}
    for site, raw in raws.items():
        if len(raw) < 2:
            raise InsufficientDataError(f"{raw.path}: the raw stream holds {len(raw)} samples; nothing to analyse")
        rate = (rates_hz or {}).get(site, 0.0)
        if rate <= 0 and raw.t_device_us is not None:
            steps = np.diff(raw.t_device_us)  # in recording order: a clock that restarted does not interleave
            rate = 1e6 / float(np.median(steps[steps > 0]))
        t, clock = sample_times_s(raw, host_t0_ns, rate, config=config)
        times[site] = (t, clock, rate)
    ends = {site: float(np.nanmax(t)) for site, (t, _, _) in times.items()}
    end = max(ends.values())
    if end <= 0:
        raise InsufficientDataError("every raw stream ends before the session start time (host_t0_ns)")
    if end > config.max_duration_s:
        site = max(ends, key=ends.__getitem__)
        raise DataContractError(
            f"its samples run to {end / 3600:.1f} h after the session start, over the "
            f"{config.max_duration_s / 3600:.0f} h a session may span: its clock stamps look corrupt",
            path=raws[site].path,
        )
    grid = np.arange(int(np.floor(end * config.fs_hz)) + 1) / config.fs_hz
    streams = {
        site: resample_stream(
            raws[site],
            t,
            grid,
            rate,
            clock,
            acc_range_ms2=(acc_range_ms2 or {}).get(site),
            gyr_range_dps=(gyr_range_dps or {}).get(site),
            config=config,
        )
        for site, (t, clock, rate) in times.items()
    }
    return Timeline(config.fs_hz, grid, streams)

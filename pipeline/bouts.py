"""Walking bouts, steady-state strides and the quiet standing at the start of a session.

Bouts (reference §2.5, mobgap walking-bout assembly). Walking is where any sensor moves: the rolling-mean gyro
magnitude over ``window_s`` exceeds ``moving_gyro_dps`` (standing still stays below a few deg/s). ICs outside
walking are dropped; the remaining ICs of both sides, in time order, form one bout while consecutive ICs are at
most ``max_break_s`` apart (mobgap: breaks ≤ 3 s). A bout needs at least ``min_strides`` strides (mobgap: ≥ 4;
strides counted per side as ICs − 1, summed) and spans its first to its last IC, as a half-open sample interval
``[start, end)``. Steady state: inside a bout, more than one median stride from either end (gait initiation and
termination, i.e. the first and last stride), and not turning (pelvic heading rate, when a pelvis is present).
Strides that are not steady are excluded from symmetry statistics through the ``valid`` mask passed to
:func:`pipeline.metrics.stride_table`.

Standing (reference §2.4: mean pelvic tilt is only meaningful against a standing calibration, PMC4216872).
Quiet standing is the first run of samples at the session start (beginning within ``max_start_s``) where every
sensor is still (rolling gyro magnitude below ``still_gyro_dps``), lasting at least ``min_standing_s``. Its mean
pelvic tilt/obliquity and thigh angles are the reference posture. The alignment takes 'up' from still periods,
so these are ≈ 0 when that standing was the still period used; metrics report walking angles minus them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pipeline import _signal as sig
from pipeline.events import GaitEvents
from pipeline.orientation import PelvisAngles, ThighAngles

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class BoutConfig:
    """Parameters of bout, steady-state and standing detection."""

    window_s: float = 1.0  # rolling window of the gyro magnitude
    moving_gyro_dps: float = 15.0  # above this (any sensor) counts as moving
    still_gyro_dps: float = 8.0  # below this (every sensor) counts as still
    max_break_s: float = 3.0  # mobgap: longer pauses between ICs split bouts
    min_strides: int = 4  # mobgap: shorter bouts are not walking bouts
    max_start_s: float = 1.0  # standing must begin this close to the session start
    min_standing_s: float = 1.0


def merge_intervals(
    start_s: FloatArray, end_s: FloatArray, *, max_gap_s: float = 0.0
) -> tuple[FloatArray, FloatArray, NDArray[np.int64]]:
    """Union of intervals that overlap or are at most ``max_gap_s`` apart (e.g. strides into runs of walking).

    Returns the runs' starts and ends (sorted) and how many input intervals each run holds.
    """
    if start_s.size == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64)
    order = np.argsort(start_s, kind="stable")
    s, e = start_s[order], np.maximum.accumulate(end_s[order])
    new = np.concatenate(([True], s[1:] > e[:-1] + max_gap_s + 1e-9))
    group = np.cumsum(new) - 1
    ends = np.full(int(group[-1]) + 1, -np.inf)
    np.maximum.at(ends, group, e)
    return s[new], ends, np.bincount(group).astype(np.int64)


@dataclass(frozen=True)
class Bouts:
    """Walking bouts as half-open grid-sample intervals, and the per-sample steady-state mask."""

    intervals: NDArray[np.int64]  # (k, 2) [start, end)
    steady: NDArray[np.bool_]  # (n,) inside a bout, away from its ends, not turning
    moving: NDArray[np.bool_]  # (n,) any sensor moving


@dataclass(frozen=True)
class Standing:
    """Quiet standing at the session start: its span (s) and mean angles (deg; NaN for a missing site)."""

    start_s: float
    end_s: float
    pelvic_tilt_deg: float
    pelvic_obliquity_deg: float
    thigh_sagittal_deg: Mapping[str, float]  # "left"/"right"
    thigh_frontal_deg: Mapping[str, float]

    def as_quality(self) -> dict[str, object]:
        """The record stored as ``quality["standing"]``."""
        r = 2
        return {
            "start_s": round(self.start_s, r),
            "end_s": round(self.end_s, r),
            "pelvic_tilt_deg": round(self.pelvic_tilt_deg, r),
            "pelvic_obliquity_deg": round(self.pelvic_obliquity_deg, r),
            "thigh_sagittal_deg": {k: round(v, r) for k, v in self.thigh_sagittal_deg.items()},
            "thigh_frontal_deg": {k: round(v, r) for k, v in self.thigh_frontal_deg.items()},
        }


def _rolling_gyro(gyr: Sequence[tuple[FloatArray, NDArray[np.bool_]]], fs_hz: float, window_s: float) -> FloatArray:
    """(sites, n) rolling-mean gyro magnitude per site; NaN where the site is invalid."""
    w = max(1, int(window_s * fs_hz))
    rows = []
    for g, valid in gyr:  # sites
        mag = np.linalg.norm(sig.fill_invalid(g, valid), axis=1)
        rolled = np.convolve(mag, np.ones(w) / w, mode="same")
        rows.append(np.where(valid, rolled, np.nan))
    return np.asarray(rows, dtype=np.float64)


def detect_bouts(
    events: GaitEvents,
    gyr: Sequence[tuple[FloatArray, NDArray[np.bool_]]],
    fs_hz: float,
    *,
    turning: NDArray[np.bool_] | None = None,
    config: BoutConfig = BoutConfig(),
) -> Bouts:
    """Walking bouts and the steady mask from the events and every site's (gyro deg/s, valid) pair."""
    n = gyr[0][0].shape[0] if gyr else 0
    if n == 0:
        return Bouts(np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=bool), np.zeros(0, dtype=bool))
    with np.errstate(invalid="ignore"):
        moving = np.any(_rolling_gyro(gyr, fs_hz, config.window_s) > config.moving_gyro_dps, axis=0)  # NaN: False
    steady = np.zeros(n, dtype=bool)
    is_ic = events.kind == "IC"
    s = np.clip(events.sample[is_ic], 0, max(n - 1, 0))
    keep = moving[s]
    t, side = events.t_s[is_ic][keep], events.side[is_ic][keep]
    if t.size < 2:
        return Bouts(np.zeros((0, 2), dtype=np.int64), steady, moving)
    run = np.concatenate(([0], np.cumsum(np.diff(t) > config.max_break_s)))
    n_runs = int(run[-1]) + 1
    per_side = np.zeros(n_runs)
    strides: list[FloatArray] = []
    for sd in ("left", "right"):  # two sides
        m = side == sd
        per_side += np.maximum(np.bincount(run[m], minlength=n_runs) - 1, 0)
        same_run = run[m][1:] == run[m][:-1]
        strides.append(np.diff(t[m])[same_run])
    first = np.full(n_runs, np.inf)
    last = np.full(n_runs, -np.inf)
    np.minimum.at(first, run, t)
    np.maximum.at(last, run, t)
    ok = per_side >= config.min_strides
    intervals = np.column_stack((np.floor(first[ok] * fs_hz), np.minimum(np.ceil(last[ok] * fs_hz) + 1, n))).astype(
        np.int64
    )
    all_strides = np.concatenate(strides)
    stride = float(np.median(all_strides)) if all_strides.size else 0.0
    trim = int(np.ceil(stride * fs_hz))
    edges = np.zeros(n + 1, dtype=np.int64)
    lo, hi = intervals[:, 0] + trim, intervals[:, 1] - trim
    inner = hi > lo
    np.add.at(edges, lo[inner], 1)
    np.add.at(edges, hi[inner], -1)
    steady = np.cumsum(edges)[:n] > 0
    if turning is not None:
        steady &= ~turning
    return Bouts(intervals, steady, moving)


def detect_standing(
    gyr: Sequence[tuple[FloatArray, NDArray[np.bool_]]],
    fs_hz: float,
    *,
    pelvis: PelvisAngles | None,
    thighs: Mapping[str, ThighAngles],
    config: BoutConfig = BoutConfig(),
) -> Standing | None:
    """Quiet standing at the session start and its mean angles; None when the session does not start still."""
    if not gyr:
        return None
    rolled = _rolling_gyro(gyr, fs_hz, config.window_s)
    # a lost packet (NaN) does not interrupt standing, as long as some sensor still reports
    still = np.all(np.isnan(rolled) | (rolled < config.still_gyro_dps), axis=0) & ~np.all(np.isnan(rolled), axis=0)
    runs = sig.runs(still)
    runs = runs[(runs[:, 0] <= config.max_start_s * fs_hz) & (runs[:, 1] - runs[:, 0] >= config.min_standing_s * fs_hz)]
    if runs.shape[0] == 0:
        return None
    a, b = int(runs[0, 0]), int(runs[0, 1])

    def mean(x: FloatArray | None) -> float:
        seg = x[a:b] if x is not None else np.zeros(0)
        seg = seg[np.isfinite(seg)]
        return float(seg.mean()) if seg.size else float("nan")

    return Standing(
        a / fs_hz,
        b / fs_hz,
        mean(pelvis.tilt_deg if pelvis else None),
        mean(pelvis.obliquity_deg if pelvis else None),
        {side: mean(th.sagittal_deg) for side, th in thighs.items()},
        {side: mean(th.frontal_deg) for side, th in thighs.items()},
    )

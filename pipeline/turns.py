"""Turns: where the walker changed heading, with the measures clinicians read from them.

Turning is hard for many patients and is where they fall (El-Gohary et al. 2014, Sensors 14:356), so clinical
inertial systems report each turn's angle, duration and steps. The stride table already *excludes* turning from
the symmetry statistics (:func:`pipeline.metrics.turning_mask`); this module *describes* the turns.

Signal: the pelvis heading rate (rotation rate about the world vertical; without a pelvis, the thighs' mean,
:func:`pipeline.orientation.walking_heading`) low-passed at ``lowpass_hz`` (0.3 Hz, the
turning mask's: below the stride frequency, so the pelvis's own rotation within each stride does not count as
turning); its running integral is the walking heading. Definition, per turn:

* **candidates** — runs where the low-passed rate exceeds ``rate_dps`` (20°/s, the turning mask's threshold),
  extended while it stays above ``hold_dps`` (5°/s, El-Gohary's end threshold): a slow walker's turn has stretches
  under 20°/s that would otherwise cut it short (the semiogram's multiple-sclerosis U-turns read 170° without it,
  docs/validation §q). Consecutive runs turning the same way less than ``merge_gap_s`` apart are one turn (a
  hesitation inside a turn splits it otherwise; Shah et al. 2021, IEEE Trans Biomed Eng 68:2615, merge such turns
  for clinical tests);
* **start / end** — the merged run is widened by ``context_s`` on each side (never past the midpoint to a
  neighbouring run), since the low-pass spreads a turn beyond its threshold crossings. Within that window, start and
  end are where the heading has covered ``edge_fraction`` and ``1 − edge_fraction`` (5 % / 95 %) of its change.
  That heading is the unfiltered one averaged over one stride (twice the median IC interval): an average over
  exactly a stride cancels the pelvis's stride-periodic rotation, and it spreads a turn far less than the 0.3 Hz
  low-pass. A share of the heading change does not depend on how fast the walker turns, as a threshold on the
  rate would;
* **angle** — the unfiltered heading averaged over ``average_s`` (1 s, about a stride) after the end, minus the same
  before the start. + = to the left (counter-clockwise seen from above), as the pelvic rotation;
* kept when ``|angle| ≥ min_angle_deg`` (45°, the El-Gohary / Mobilise-D turn, mobgap ``TdElGohary``);
  smaller heading changes are veering: still excluded from symmetry statistics by the mask, not listed.

Per turn: duration, mean turning rate (``|angle|`` / duration), the ICs (steps) inside [start, end] (with one
thigh's ICs only, the other side's taken midway between them), and
``complete`` — False when a sensor gap longer than ``max_gap_s`` falls in the turn or its averaging windows, or
it runs into the start or end of the recording, where its angle and duration are uncertain (shorter gaps, a few
lost packets, are bridged as everywhere in the pipeline). Turns are listed, never interpolated over.
Vectorised over samples; the per-turn step loops over turns (a few per minute of walking).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline import _signal as sig
from pipeline.metrics import MetricsConfig, walking_heading_rate_dps
from pipeline.orientation import HeadingRate
from pipeline.spatial import long_invalid_runs

FloatArray = NDArray[np.float64]

__all__ = ["TurnConfig", "Turns", "detect_turns", "turn_columns", "turn_summary"]


@dataclass(frozen=True)
class TurnConfig:
    """Parameters of turn detection (see the module docstring)."""

    lowpass_hz: float = MetricsConfig.turn_lowpass_hz  # the turning mask's signal and threshold
    rate_dps: float = MetricsConfig.turn_rate_dps
    hold_dps: float = 5.0  # a candidate extends while the rate stays above this (El-Gohary's end threshold)
    merge_gap_s: float = 1.0
    context_s: float = 1.0
    edge_fraction: float = 0.05
    average_s: float = 1.0
    min_angle_deg: float = 45.0
    max_gap_s: float = 0.5


@dataclass(frozen=True)
class Turns:
    """One row per turn, in time order (columns of ``schemas.TURNS``)."""

    start_s: FloatArray
    end_s: FloatArray
    duration_s: FloatArray
    angle_deg: FloatArray  # + = left
    direction: NDArray[np.str_]
    mean_rate_dps: FloatArray
    steps: NDArray[np.int64]
    complete: NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.start_s.shape[0])

    def columns(self) -> dict[str, NDArray[Any]]:
        """Column name → array."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def empty(cls) -> Turns:
        z = np.zeros(0)
        return cls(z, z, z, z, np.zeros(0, dtype=str), z, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool))


def _turning_runs(rate_dps: FloatArray, rate_dps_min: float, hold_dps: float) -> NDArray[np.int64]:
    """Half-open ``[start, end)`` runs (k, 2) where ``|rate|`` stays above ``hold_dps`` and somewhere exceeds
    ``rate_dps_min`` (hysteresis)."""
    r = sig.runs(np.abs(rate_dps) > min(hold_dps, rate_dps_min))
    strong = np.concatenate(([0], np.cumsum(np.abs(rate_dps) > rate_dps_min)))
    return r[strong[r[:, 1]] > strong[r[:, 0]]]


def _window_means(x: FloatArray, a: NDArray[np.int64], b: NDArray[np.int64]) -> FloatArray:
    """Mean of ``x[a_k:b_k]`` per window; a window is clipped to ``x`` and holds at least one sample."""
    total = np.concatenate(([0.0], np.cumsum(x)))
    b = np.minimum(np.maximum(b, a + 1), x.shape[0])
    a = np.clip(a, 0, b - 1)
    return np.asarray((total[b] - total[a]) / (b - a), dtype=np.float64)


def _stride_samples(ic_t_s: FloatArray | None, ic_side: NDArray[np.str_] | None, fs_hz: float) -> int:
    """One stride in samples: the median interval between one side's consecutive ICs, or without sides twice the
    median interval between consecutive ICs (1.1 s without enough ICs). A one-thigh session has one side's ICs only,
    whose interval is already a stride."""
    ic = np.asarray(ic_t_s, dtype=np.float64) if ic_t_s is not None else np.zeros(0)
    if ic_side is not None and ic.size:
        side = np.asarray(ic_side)
        strides = np.concatenate([np.diff(np.sort(ic[side == s])) for s in np.unique(side)])
        strides = strides[(strides > 0.4) & (strides < 3.0)]
    else:
        steps = np.diff(np.sort(ic))
        strides = 2.0 * steps[(steps > 0.2) & (steps < 1.5)]
    stride_s = float(np.median(strides)) if strides.size >= 4 else 1.1
    return max(1, int(round(stride_s * fs_hz)))


def _step_times(ic_t_s: FloatArray | None, ic_side: NDArray[np.str_] | None) -> FloatArray:
    """Every IC, sorted; with one side's ICs only (a one-thigh session), the other side's contacts are taken midway
    between consecutive ones a stride apart, so that a turn counts steps, not half of them."""
    ic = np.sort(np.asarray(ic_t_s, dtype=np.float64)) if ic_t_s is not None else np.zeros(0)
    if ic_side is None or ic.size < 2 or np.unique(np.asarray(ic_side)).size != 1:
        return ic
    interval = np.diff(ic)
    stride = (interval > 0.4) & (interval < 3.0)
    return np.sort(np.concatenate([ic, ic[:-1][stride] + interval[stride] / 2]))


def _stride_average(x: FloatArray, width: int) -> FloatArray:
    """Centred moving average of ``x`` over ``width`` samples (the ends use what there is). Over exactly one stride
    it cancels the pelvis's stride-periodic rotation and all its harmonics."""
    a = np.arange(x.shape[0]) - width // 2
    return _window_means(x, a, a + width)


def detect_turns(
    heading: HeadingRate,
    fs_hz: float,
    ic_t_s: FloatArray | None = None,
    ic_side: NDArray[np.str_] | None = None,
    *,
    config: TurnConfig = TurnConfig(),
) -> Turns:
    """The turns of a session from its heading rate (pelvis angles, or ``orientation.walking_heading``); ``ic_t_s``
    (every IC, either side) counts the steps, and with ``ic_side`` gives the stride the heading is averaged over."""
    rate = walking_heading_rate_dps(heading, fs_hz, config.lowpass_hz)
    n = rate.shape[0]
    if n < 2:
        return Turns.empty()
    r = _turning_runs(rate, config.rate_dps, config.hold_dps)
    a, b = r[:, 0], r[:, 1]
    if a.size == 0:
        return Turns.empty()
    sign = np.sign(rate[a])  # one sign per run: |rate| stays above the hold threshold throughout it
    # merge same-direction runs separated by less than merge_gap_s
    join = (sign[1:] == sign[:-1]) & (a[1:] - b[:-1] < config.merge_gap_s * fs_hz)
    first = np.concatenate(([True], ~join))
    last = np.concatenate((~join, [True]))
    a, b = a[first], b[last]
    ctx = int(round(config.context_s * fs_hz))
    mid = (b[:-1] + a[1:]) // 2  # never widen past the midpoint to a neighbour
    lo = np.maximum(a - ctx, np.concatenate(([0], mid)))
    hi = np.minimum(b + ctx, np.concatenate((mid, [n])))
    # raw[i] = heading before sample i, from the unfiltered rate (gaps bridged for the sum)
    raw = np.concatenate(([0.0], np.cumsum(sig.fill_invalid(heading.heading_rate_dps, heading.valid)) / fs_hz))
    smooth = _stride_average(raw, _stride_samples(ic_t_s, ic_side, fs_hz))
    change = smooth[hi] - smooth[lo]
    ok = np.abs(change) > 0
    lo, hi, change = lo[ok], hi[ok], change[ok]
    start, end = np.empty(lo.size, dtype=np.int64), np.empty(lo.size, dtype=np.int64)
    for k, (i0, i1, d) in enumerate(zip(lo, hi, change, strict=True)):  # turns, not samples
        covered = (smooth[i0 : i1 + 1] - smooth[i0]) / d  # 0 → 1 across the window (not monotone in a hesitation)
        start[k] = i0 + int(np.argmax(covered >= config.edge_fraction))
        end[k] = i0 + int(np.argmax(covered >= 1.0 - config.edge_fraction))
    # the angle: the unfiltered heading averaged over average_s on each side (the pelvis's own rotation averages out)
    w = max(1, int(round(config.average_s * fs_hz)))
    before = _window_means(raw, np.maximum(start - w, lo), start)
    after = _window_means(raw, end + 1, np.minimum(end + 1 + w, hi + 1))
    angle = after - before
    keep = np.abs(angle) >= config.min_angle_deg
    lo, hi, start, end, angle = lo[keep], hi[keep], start[keep], end[keep], angle[keep]
    if lo.size == 0:
        return Turns.empty()
    start_s, end_s = start / fs_hz, end / fs_hz
    long_gap = np.concatenate(([0], np.cumsum(long_invalid_runs(heading.valid, round(config.max_gap_s * fs_hz)))))
    a_w, b_w = np.maximum(start - w, 0), np.minimum(end + 1 + w, n)  # the turn and its averaging windows
    complete = (long_gap[b_w] - long_gap[a_w] == 0) & (lo > 0) & (hi < n)
    ic = _step_times(ic_t_s, ic_side)
    steps = np.searchsorted(ic, end_s, side="right") - np.searchsorted(ic, start_s, side="left")
    duration = end_s - start_s
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_rate = np.where(duration > 0, np.abs(angle) / duration, np.nan)
    return Turns(
        start_s,
        end_s,
        duration,
        angle,
        np.where(angle > 0, "left", "right"),
        mean_rate,
        steps.astype(np.int64),
        np.asarray(complete, dtype=bool),
    )


def turn_columns(turns: Turns) -> dict[str, Any]:
    """The ``derived/turns.arrow`` columns."""
    cols: dict[str, Any] = turns.columns()
    cols["direction"] = turns.direction.tolist()
    cols["turn"] = np.arange(len(turns), dtype=np.int32)
    return {"turn": cols.pop("turn"), **cols}


def turn_summary(turns: Turns) -> dict[str, tuple[float, int]]:
    """Session values of the ``pipeline.catalog`` turn metrics as ``name: (value, n)``: the count over every turn,
    the means over the complete ones (NaN with n = 0 when there are none)."""
    done = turns.complete

    def mean(x: FloatArray) -> tuple[float, int]:
        x = x[done & np.isfinite(x)]
        return (float(np.mean(x)), int(x.size)) if x.size else (float("nan"), 0)

    return {
        "turns_n": (float(len(turns)), len(turns)),
        "turn_angle_deg": mean(np.abs(turns.angle_deg)),
        "turn_duration_s": mean(turns.duration_s),
        "turn_rate_dps": mean(turns.mean_rate_dps),
    }

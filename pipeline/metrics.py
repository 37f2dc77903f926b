"""Per-stride and per-session gait metrics (definitions: reference §2.5 and §3, ``pipeline/catalog.py``).

Strides. A stride of a side runs from one of its ICs to the next one, half-open ``[start_s, end_s)``. Step time is
the previous contralateral IC to the stride's opening IC; stance the opening IC to the first same-side FC inside
the stride; swing = stride − stance; stance % = stance / stride × 100 (skdh definitions). Pelvic obliquity, tilt
and rotation ranges are max − min over the stride (Baker 2001 angles). Contralateral pelvic drop during this
side's stance is how far the *opposite* hip drops, from this side's IC to the extreme within ``[IC, FC)``:
``max(obliquity) − obliquity(IC)`` for a left stance (the right hip drops, obliquity rises) and
``obliquity(IC) − min(obliquity)`` for a right stance; positive = drop (the Trendelenburg marker of §3). The thigh
range is max − min of that side's sagittal thigh angle over the stride.

Validity (``valid``): stride time within [min_stride_s, max_stride_s] (mobgap 0.2–3 s), within ``outlier_rel``
of the median stride, at most ``max_unsteady_fraction`` of its samples outside the ``steady`` mask (outside a
walking bout, its first or last steps), not overlapping a turn (low-passed heading rate above ``turn_rate_dps``,
widened by ``turn_margin_s``; from the pelvis, or the thighs without it), and not next to a break in walking
(gait initiation and termination): the first and last strides of a side, and the neighbours of a pause. The
median stride is pooled over both sides (they share one stride time) from the strides with at most one step
inside (see below), so that strides merged over lost ICs do not pull it up. A stride longer than ``1 +
outlier_rel`` medians is *merged* (its closing IC was lost while the walk went on) when the legs' events kept
coming: no stretch of one median stride inside it without any event of either leg, or, k medians long, at least
k steps inside (the most of the other leg's ICs, its FCs and this leg's FCs; k ≥ 2). A long stride that is not
merged is a pause when the other leg made at most one IC in it, and so is any stride over ``max_stride_s``.
Session statistics use valid strides only; a metric without any is NaN with n = 0.

Gaps (lost packets, a dropout) act per metric, not per stride. The event detectors refuse an event whose
evidence a gap touches, rather than guess it from gap-filled signals (``pipeline.events``). Temporal metrics need
only their own events: a lost FC makes the stance NaN; a lost IC ends the stride before it without a stride
time, but the times anchored on that stride's opening IC (``OPENING_TIMES``: step, stance, single support,
initial and terminal double support, from the events within one median stride of the IC) still count
(``opening_valid``), so a gap elsewhere in a stride does not cost its times. An angle metric needs the whole
curve: the pelvic columns are NaN for a stride in which more than ``max_gap_fraction`` (default none) of the
pelvis sensor's samples are masked, and the thigh range likewise with that thigh's own mask, since a gap can hide
the extreme a range is taken from.

Symmetry (``pipeline.symmetry``): Robinson SI = (R − L) / ((R + L)/2) × 100, symmetry ratio SR = R / L and
Plotnik GA = 100·|ln(short/long)| of the side means.

Phases within a stride of side s (skdh, reference §2.5), with o the other side: IC_s → FC_o is the initial double
support, FC_o → IC_o the single support of s (= the contralateral swing), IC_o → FC_s the terminal double support,
FC_s → next IC_s the swing; FC_o is the first contralateral FC after IC_s, IC_o the first contralateral IC after it
(NaN when the order does not hold). Double support % = (initial + terminal) / stride × 100. The Plotnik phase is
φ = 360° × (IC_o − IC_s) / stride (``pipeline.trunk.phase_coordination_index``; reference leg: the longer mean
swing time). Pelvic hike of side s: how far its hip rises during its own swing above its level at IC_o (start of
the contralateral loading), ``max(σ·obliquity over [FC_s, next IC_s)) − σ·obliquity(IC_o)`` with σ = +1 left,
−1 right (obliquity + = left hip higher); in normal gait this is the return of the swing hip to level by terminal
swing (≈ 1–2°), and hip hiking to clear a stiff leg makes it larger (Kerrigan et al. 2000 quantify hip hiking as
the swing-side pelvic elevation during swing). Mean pelvic tilt of a stride is the mean over ``[IC, next IC)``;
the session reports it relative to the standing tilt, which needs a standing calibration period.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline import _signal as sig
from pipeline import trunk, uncertainty
from pipeline.bouts import merge_intervals
from pipeline.catalog import METRICS
from pipeline.events import GaitEvents
from pipeline.orientation import HeadingRate, PelvisAngles, ThighAngles, walking_heading
from pipeline.symmetry import gait_asymmetry, symmetry_index, symmetry_ratio

__all__ = [
    "MetricsConfig",
    "StrideTable",
    "SummaryRow",
    "gait_asymmetry",
    "session_summary",
    "stride_table",
    "symmetry_index",
    "symmetry_ratio",
    "turning_mask",
    "window_reduce",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class MetricsConfig:
    """Stride validity rules."""

    min_stride_s: float = 0.2
    max_stride_s: float = 3.0
    outlier_rel: float = 0.25
    turn_rate_dps: float = 20.0
    turn_lowpass_hz: float = 0.3
    turn_margin_s: float = 0.5
    drop_bout_edges: bool = True
    max_unsteady_fraction: float = 0.1  # strides with more samples outside the steady mask are invalid
    max_gap_fraction: float = 0.0  # angle ranges of strides with more masked samples of their sensor are NaN


@dataclass(frozen=True)
class StrideTable:
    """One row per stride and side, columns as in ``schemas.STRIDES``."""

    side: NDArray[np.str_]
    stride: NDArray[np.int32]
    start_s: FloatArray
    end_s: FloatArray
    stride_time_s: FloatArray
    step_time_s: FloatArray
    stance_time_s: FloatArray
    swing_time_s: FloatArray
    stance_pct: FloatArray
    single_support_time_s: FloatArray
    single_support_pct: FloatArray
    initial_double_support_s: FloatArray
    initial_double_support_pct: FloatArray
    terminal_double_support_s: FloatArray
    terminal_double_support_pct: FloatArray
    double_support_pct: FloatArray
    phase_deg: FloatArray
    pelvic_obliquity_range_deg: FloatArray
    pelvic_tilt_range_deg: FloatArray
    pelvic_rotation_range_deg: FloatArray
    pelvic_drop_deg: FloatArray
    pelvic_hike_deg: FloatArray
    pelvic_tilt_mean_deg: FloatArray
    thigh_range_deg: FloatArray
    valid: NDArray[np.bool_]
    # the stride's opening-IC times (``OPENING_TIMES``) count: ``valid``, or a stride whose closing IC was lost
    opening_valid: NDArray[np.bool_]

    def columns(self) -> dict[str, NDArray[Any]]:
        """Column name → array."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __len__(self) -> int:
        return int(self.start_s.shape[0])


@dataclass(frozen=True)
class SummaryRow:
    """One row of ``summary.arrow``."""

    metric: str
    side: str
    value: float
    unit: str
    n: int
    ci_low: float = float("nan")  # 95 % within-session interval (pipeline.uncertainty); NaN where not computed
    ci_high: float = float("nan")


def window_reduce(
    x: FloatArray, a: NDArray[np.int64], b: NDArray[np.int64], ufunc: Callable[..., Any] = np.fmax
) -> FloatArray:
    """``ufunc.reduceat`` of ``x`` over non-overlapping, sorted windows ``[a_k, b_k)``; NaN for empty windows."""
    n = x.shape[0]
    out = np.full(a.shape[0], np.nan)
    ok = (b > a) & (a >= 0) & (b <= n)
    if not ok.any() or n == 0:
        return out
    aa, bb = a[ok], b[ok]
    idx = np.column_stack((aa, np.minimum(bb, n - 1))).ravel()
    if np.any(np.diff(idx) < 0):  # overlapping windows cannot share one reduceat
        out[ok] = [ufunc.reduce(x[i:j]) for i, j in zip(aa, bb, strict=True)]  # type: ignore[attr-defined]
        return out
    red = ufunc.reduceat(x, idx)[::2]  # type: ignore[attr-defined]
    last_full = bb == n  # the final window runs to the end of x
    if last_full.any():
        red[last_full] = ufunc(red[last_full], x[-1])
    out[ok] = red
    return out


def _ranges(x: FloatArray, a: NDArray[np.int64], b: NDArray[np.int64]) -> FloatArray:
    return window_reduce(x, a, b, np.fmax) - window_reduce(x, a, b, np.fmin)


def walking_heading_rate_dps(heading: HeadingRate, fs_hz: float, lowpass_hz: float) -> FloatArray:
    """The heading rate (pelvis, or thighs without one) low-passed below the stride frequency: the walker's turning,
    without the segment's own rotation within each stride (gaps filled for the filter)."""
    return sig.butter(sig.fill_invalid(heading.heading_rate_dps, heading.valid), fs_hz, lowpass_hz, "lowpass")


def turning_mask(heading: HeadingRate, fs_hz: float, *, config: MetricsConfig) -> NDArray[np.bool_]:
    """Grid samples during (or within ``turn_margin_s`` of) a turn, from the low-passed heading rate."""
    rate = walking_heading_rate_dps(heading, fs_hz, config.turn_lowpass_hz)
    turning = np.abs(rate) > config.turn_rate_dps
    w = int(2 * config.turn_margin_s * fs_hz) + 1
    return np.asarray(np.convolve(turning.astype(np.float64), np.ones(w), mode="same") > 0)


def _first_after(times: FloatArray, t: FloatArray, before: FloatArray) -> FloatArray:
    """The first of sorted ``times`` strictly after each ``t`` and before ``before``; NaN where there is none."""
    if times.size == 0:
        return np.full(t.size, np.nan)
    j = np.searchsorted(times, t, side="right")
    found = times[np.minimum(j, times.size - 1)]
    return np.where((j < times.size) & (found < before), found, np.nan)


def _inside(times: FloatArray, start: FloatArray, end: FloatArray) -> NDArray[np.int64]:
    """How many of sorted ``times`` fall strictly inside each ``(start, end)``."""
    return np.asarray(np.searchsorted(times, end, side="left") - np.searchsorted(times, start, side="right"))


@dataclass(frozen=True)
class _Steps:
    """One side's strides (ICs to next IC) and the stepping seen inside each."""

    start: FloatArray
    end: FloatArray
    other_ics: NDArray[np.int64]  # the other leg's ICs inside
    steps: NDArray[np.int64]  # the most of the other leg's ICs, its FCs and this leg's FCs inside
    still_s: FloatArray  # the longest time inside without any event of either leg


def _stepping(events: GaitEvents, side: str) -> _Steps | None:
    """The strides of ``side`` with the stepping inside them (None with fewer than two ICs)."""
    ic = np.sort(events.select(side, "IC"))
    if ic.size < 2:
        return None
    other = "right" if side == "left" else "left"
    start, end = ic[:-1], ic[1:]
    other_ics = _inside(np.sort(events.select(other, "IC")), start, end)
    other_fcs = _inside(np.sort(events.select(other, "FC")), start, end)
    steps = np.maximum(np.maximum(other_ics, other_fcs), _inside(np.sort(events.select(side, "FC")), start, end))
    t = np.sort(events.t_s)  # the stride's own ICs are among them: every window holds at least one interval
    i0, i1 = np.searchsorted(t, start, side="left"), np.searchsorted(t, end, side="right") - 1
    still = window_reduce(np.diff(t), i0.astype(np.int64), i1.astype(np.int64), np.fmax)
    return _Steps(start, end, other_ics, np.asarray(steps), still)


def _window_mean(x: FloatArray, a: NDArray[np.int64], b: NDArray[np.int64]) -> FloatArray:
    finite = np.isfinite(x)
    total = np.concatenate(([0.0], np.cumsum(np.where(finite, x, 0.0))))
    count = np.concatenate(([0], np.cumsum(finite)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((total[b] - total[a]) / (count[b] - count[a]), dtype=np.float64)


def _fraction(mask: NDArray[np.bool_], a: NDArray[np.int64], b: NDArray[np.int64]) -> FloatArray:
    """Share of ``mask``'s True samples in each window ``[a_k, b_k)`` (windows are clipped to the grid)."""
    n = mask.shape[0]
    count = np.concatenate(([0], np.cumsum(mask)))
    aa, bb = np.clip(a, 0, n), np.clip(b, 0, n)
    return np.asarray((count[bb] - count[aa]) / np.maximum(bb - aa, 1), dtype=np.float64)


def _pelvic(
    pelvis: PelvisAngles | None,
    side: str,
    idx: Mapping[str, NDArray[np.int64]],
    has: Mapping[str, NDArray[np.bool_]],
    max_gap_fraction: float,
) -> dict[str, FloatArray]:
    """Pelvic columns of one side's strides; ``idx`` holds grid indices of start/end/FC/contralateral IC."""
    a, b = idx["start"], idx["end"]
    if pelvis is None:
        nan = np.full(a.size, np.nan)
        return dict.fromkeys(("obl", "tilt", "rot", "drop", "hike", "tilt_mean"), nan)
    n = pelvis.obliquity_deg.shape[0]
    whole = _fraction(~pelvis.valid, a, b) <= max_gap_fraction
    obl = (1.0 if side == "left" else -1.0) * pelvis.obliquity_deg  # + = this side's hip higher (other's lower)
    drop = window_reduce(obl, a, idx["fc"], np.fmax) - obl[np.minimum(a, n - 1)]
    hike = window_reduce(obl, idx["fc"], b, np.fmax) - obl[np.minimum(idx["ic_other"], n - 1)]
    columns = {
        "obl": _ranges(pelvis.obliquity_deg, a, b),
        "tilt": _ranges(pelvis.tilt_deg, a, b),
        "rot": _ranges(pelvis.rotation_deg, a, b),
        "drop": np.where(has["fc"], drop, np.nan),
        "hike": np.where(has["fc"] & has["ic_other"], hike, np.nan),
        "tilt_mean": _window_mean(pelvis.tilt_deg, a, b),
    }
    return {name: np.where(whole, x, np.nan) for name, x in columns.items()}


def _thigh_range(
    thigh: ThighAngles | None, a: NDArray[np.int64], b: NDArray[np.int64], max_gap_fraction: float
) -> FloatArray:
    if thigh is None:
        return np.full(a.shape[0], np.nan)
    whole = _fraction(~thigh.valid, a, b) <= max_gap_fraction
    return np.where(whole, _ranges(thigh.sagittal_deg, a, b), np.nan)


@dataclass(frozen=True)
class _Rhythm:
    """One side's median stride and which of its strides merge strides over lost ICs or hold a pause."""

    median_s: float
    merged: NDArray[np.bool_]  # long, but the legs kept stepping: ICs were lost, the walk went on
    pause: NDArray[np.bool_]  # a break in walking: its neighbours are gait termination and initiation


def _rhythm(steps: _Steps, med: float, config: MetricsConfig) -> _Rhythm:
    """Merged strides and pauses of one side, ``med`` the session's median stride (see :func:`_median_stride`).

    A long stride (over ``1 + outlier_rel`` medians) is merged, ICs lost while the walk went on, when the legs' events
    kept coming: no stretch of a median stride inside it without any event of either leg (in walking they come
    every half step or so), or, about k median strides long, at least k steps inside (k ≥ 2). Otherwise a long
    stride during which the other leg made at most one IC, or any stride over ``max_stride_s``, is a pause.
    """
    stride = steps.end - steps.start
    long = ~(stride <= (1.0 + config.outlier_rel) * med)  # NaN median: every stride is a break
    with np.errstate(invalid="ignore"):
        went_on = (steps.still_s < med) | (steps.steps >= np.maximum(np.rint(stride / med), 2.0))
    merged = long & went_on
    pause = ((stride > config.max_stride_s) | (long & (steps.other_ics <= 1))) & ~merged
    return _Rhythm(med, np.asarray(merged), np.asarray(pause))


def _median_stride(strides: list[tuple[FloatArray, NDArray[np.int64]]], config: MetricsConfig) -> float:
    """Median of the plausible strides of both sides, from those with at most one step inside when there are any.

    Where many ICs are lost, merged strides (two or more steps inside) would pull a plain median up, on one side
    even past the true stride; both legs share one stride time.
    """
    stride = np.concatenate([s for s, _ in strides]) if strides else np.zeros(0)
    steps = np.concatenate([n for _, n in strides]) if strides else np.zeros(0, dtype=np.int64)
    plausible = (stride >= config.min_stride_s) & (stride <= config.max_stride_s)
    single = plausible & (steps <= 1)
    ref = single if single.any() else plausible
    return float(np.median(stride[ref])) if ref.any() else float("nan")


def _validity(
    stride: FloatArray,
    a: NDArray[np.int64],
    b: NDArray[np.int64],
    rhythm: _Rhythm,
    unsteady: NDArray[np.bool_],
    turns: NDArray[Any],
    config: MetricsConfig,
    fs_hz: float,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """``valid`` and ``opening_valid`` of each stride (see :class:`StrideTable` and :class:`_Rhythm`).

    A merged stride (its closing IC lost) has no stride time, but its opening IC and the events within one median
    stride after it are a stride's like any other: it is ``opening_valid`` when that first median stride is steady
    and turn-free and it is not next to a pause.
    """
    med = rhythm.median_s
    ok = (stride >= config.min_stride_s) & (stride <= config.max_stride_s)
    ok &= np.abs(stride - med) <= config.outlier_rel * med
    merged = rhythm.merged
    if config.drop_bout_edges:
        # A break in walking (a pause, a stop) is a long stride during which the legs did not keep stepping; a
        # long stride with the legs' events still coming (merged) is lost ICs, and its neighbours are ordinary.
        edge_before = np.concatenate(([True], rhythm.pause[:-1]))
        edge_after = np.concatenate((rhythm.pause[1:], [True]))
        ok = ok & ~edge_before & ~edge_after
        merged = merged & ~edge_before & ~edge_after
    valid = ok & (_fraction(unsteady, a, b) <= config.max_unsteady_fraction) & (turns[b] - turns[a] == 0)
    first = np.minimum(b, a + int(round(med * fs_hz))) if np.isfinite(med) else b
    first_ok = (_fraction(unsteady, a, first) <= config.max_unsteady_fraction) & (turns[first] - turns[a] == 0)
    return np.asarray(valid), np.asarray(valid | (merged & first_ok))


def stride_table(
    events: GaitEvents,
    fs_hz: float,
    n_samples: int,
    *,
    pelvis: PelvisAngles | None = None,
    thighs: Mapping[str, ThighAngles] | None = None,
    steady: NDArray[np.bool_] | None = None,
    config: MetricsConfig = MetricsConfig(),
) -> StrideTable:
    """Strides of both sides from events and per-sample angles (see the module docstring for definitions).

    ``steady`` marks the grid samples symmetry statistics may come from (walking bouts away from their ends, see
    :class:`pipeline.bouts.Bouts`); all samples when omitted. Sensor gaps come from the angles' own ``valid``.
    """
    thighs = thighs or {}
    unsteady = np.zeros(n_samples, dtype=bool) if steady is None else ~steady
    heading = walking_heading(pelvis, thighs)
    turning = turning_mask(heading, fs_hz, config=config) if heading is not None else np.zeros(n_samples, dtype=bool)
    turns = np.concatenate(([0], np.cumsum(turning)))
    parts: list[dict[str, NDArray[Any]]] = []
    sides = {s: _stepping(events, s) for s in ("left", "right")}  # two sides, not samples
    med = _median_stride([(v.end - v.start, v.steps) for v in sides.values() if v is not None], config)
    for side, stepping in sides.items():
        if stepping is None:
            continue
        other = "right" if side == "left" else "left"
        start, end = stepping.start, stepping.end
        stride = end - start
        own_fc = np.sort(events.select(side, "FC"))
        oic, ofc = np.sort(events.select(other, "IC")), np.sort(events.select(other, "FC"))
        rhythm = _rhythm(stepping, med, config)
        # a merged stride's own events are those within one median stride of its opening IC
        own_end = np.where(rhythm.merged, start + rhythm.median_s, end)
        fc_s = _first_after(own_fc, start, own_end)
        stance = fc_s - start
        i = np.searchsorted(oic, start, side="left") - 1
        step = start - oic[np.maximum(i, 0)] if oic.size else np.full(start.size, np.nan)
        step = np.where((i >= 0) & (step < own_end - start), step, np.nan)
        ic_o = _first_after(oic, start, own_end)
        fc_o = _first_after(ofc, start, ic_o)
        initial_ds, single = fc_o - start, ic_o - fc_o
        terminal_ds = np.where(fc_s > ic_o, fc_s - ic_o, np.nan)

        def grid(t: FloatArray) -> NDArray[np.int64]:  # −1 (an empty window) where the event is missing
            return np.where(np.isfinite(t), np.clip(np.ceil(np.nan_to_num(t) * fs_hz), 0, n_samples), -1).astype(
                np.int64
            )

        idx = {"start": grid(start), "end": grid(end), "fc": grid(fc_s), "ic_other": grid(ic_o)}
        has = {"fc": np.isfinite(fc_s), "ic_other": np.isfinite(ic_o)}
        pel = _pelvic(pelvis, side, idx, has, config.max_gap_fraction)
        parts.append(
            {
                "side": np.full(start.size, side),
                "stride": np.arange(start.size, dtype=np.int32),
                "start_s": start,
                "end_s": end,
                "stride_time_s": stride,
                "step_time_s": step,
                "stance_time_s": stance,
                "swing_time_s": stride - stance,
                "stance_pct": stance / stride * 100.0,
                "single_support_time_s": single,
                "single_support_pct": single / stride * 100.0,
                "initial_double_support_s": initial_ds,
                "initial_double_support_pct": initial_ds / stride * 100.0,
                "terminal_double_support_s": terminal_ds,
                "terminal_double_support_pct": terminal_ds / stride * 100.0,
                "double_support_pct": (initial_ds + terminal_ds) / stride * 100.0,
                "phase_deg": 360.0 * (ic_o - start) / stride,
                "pelvic_obliquity_range_deg": pel["obl"],
                "pelvic_tilt_range_deg": pel["tilt"],
                "pelvic_rotation_range_deg": pel["rot"],
                "pelvic_drop_deg": pel["drop"],
                "pelvic_hike_deg": pel["hike"],
                "pelvic_tilt_mean_deg": pel["tilt_mean"],
                "thigh_range_deg": _thigh_range(thighs.get(side), idx["start"], idx["end"], config.max_gap_fraction),
            }
        )
        parts[-1]["valid"], parts[-1]["opening_valid"] = _validity(
            stride, idx["start"], idx["end"], rhythm, unsteady, turns, config, fs_hz
        )
    names = [f.name for f in fields(StrideTable)]
    if not parts:
        empty: dict[str, NDArray[Any]] = {n: np.zeros(0, dtype=np.float64) for n in names}
        empty.update(
            side=np.zeros(0, dtype=str),
            stride=np.zeros(0, dtype=np.int32),
            valid=np.zeros(0, dtype=bool),
            opening_valid=np.zeros(0, dtype=bool),
        )
        return StrideTable(**empty)
    return StrideTable(**{n: np.concatenate([p[n] for p in parts]) for n in names})


def _mean(x: FloatArray) -> tuple[float, int]:
    x = x[np.isfinite(x)]
    return (float(x.mean()), int(x.size)) if x.size else (float("nan"), 0)


@dataclass(frozen=True)
class _Estimate:
    """A session value, the strides behind it and its bootstrap samples (``pipeline.uncertainty``)."""

    value: float
    n: int
    boot: FloatArray

    @classmethod
    def of(cls, x: FloatArray, rng: np.random.Generator) -> _Estimate:
        value, n = _mean(x)
        return cls(value, n, uncertainty.bootstrap_means(x, rng))

    def map(self, f: Callable[[Any], Any]) -> _Estimate:
        with np.errstate(divide="ignore", invalid="ignore"):
            return _Estimate(float(f(self.value)), self.n, np.asarray(f(self.boot), dtype=np.float64))


_NONE = _Estimate(float("nan"), 0, np.full(uncertainty.N_BOOT, np.nan))


def _pci_estimate(phase_deg: FloatArray, rng: np.random.Generator) -> _Estimate:
    value, n = trunk.phase_coordination_index(phase_deg)
    return _Estimate(value, n, uncertainty.bootstrap(phase_deg, trunk.pci_pct, rng))


_PER_SIDE = (
    "stride_time_s",
    "step_time_s",
    "stance_time_s",
    "swing_time_s",
    "stance_pct",
    "single_support_time_s",
    "single_support_pct",
    "initial_double_support_s",
    "initial_double_support_pct",
    "terminal_double_support_s",
    "terminal_double_support_pct",
    "pelvic_drop_deg",
    "pelvic_hike_deg",
    "thigh_range_deg",
)
# times anchored on the stride's opening IC alone (its FC, the other leg's events before its next IC): they count
# for a stride whose closing IC was lost too (``StrideTable.opening_valid``)
OPENING_TIMES = (
    "step_time_s",
    "stance_time_s",
    "single_support_time_s",
    "initial_double_support_s",
    "terminal_double_support_s",
)
# symmetry metric prefix -> per-side base metric (SI, GA and SR of the side means)
_SYMMETRY = {
    "step_time": "step_time_s",
    "stance_time": "stance_time_s",
    "swing_time": "swing_time_s",
    "single_support_time": "single_support_time_s",
    "thigh_range": "thigh_range_deg",
    "initial_double_support": "initial_double_support_s",  # only its SI is catalogued (a loading indicator)
}


# how a per-side contact-time offset moves each duration behind a symmetry index: (sign, own side?, kind);
# e.g. stance = own FC − own IC, step = own IC − the other side's IC
_OFFSET_TERMS: Mapping[str, tuple[tuple[float, bool, str], ...]] = {
    "stance_time_s": ((1.0, True, "FC"), (-1.0, True, "IC")),
    "swing_time_s": ((-1.0, True, "FC"), (1.0, True, "IC")),
    "step_time_s": ((1.0, True, "IC"), (-1.0, False, "IC")),
    "single_support_time_s": ((1.0, False, "IC"), (-1.0, False, "FC")),
    "initial_double_support_s": ((1.0, False, "FC"), (-1.0, True, "IC")),
}


def _offset_shift(base: str, side: str, offsets: Mapping[tuple[str, str], FloatArray]) -> FloatArray | float:
    other = "right" if side == "left" else "left"
    shift: FloatArray | float = 0.0
    for sign, own, kind in _OFFSET_TERMS.get(base, ()):
        shift = shift + sign * offsets.get((side if own else other, kind), 0.0)
    return shift


def session_summary(
    strides: StrideTable,
    *,
    trunk_result: trunk.TrunkResult | None = None,
    standing_tilt_deg: float | None = None,
    contact_offset_sd_s: Mapping[tuple[str, str], float] | None = None,
    turn_values: Mapping[str, tuple[float, int]] | None = None,
    config: MetricsConfig = MetricsConfig(),
) -> tuple[SummaryRow, ...]:
    """Every metric of ``pipeline.catalog`` (long form) from the valid strides.

    ``trunk_result`` supplies the pelvis-acceleration metrics (NaN with n = 0 without it); ``standing_tilt_deg``
    is the pelvic tilt of a standing calibration period in the frame of ``pelvic_tilt_deg`` (NaN without it).
    ``contact_offset_sd_s`` gives, per ``(side, "IC" | "FC")``, the SD of a contact-time offset shared by the
    whole session; symmetry intervals include it (``pipeline.uncertainty``, "Contact timing from the pelvis").
    ``turn_values`` holds the turn metrics as ``name: (value, n)`` (:func:`pipeline.turns.turn_summary`; NaN with
    n = 0 without it, e.g. without a pelvis sensor).
    """
    v = strides.valid
    rng = np.random.default_rng(uncertainty.SEED)
    per_side: dict[tuple[str, str], _Estimate] = {}
    for side in ("left", "right"):
        for name in _PER_SIDE:
            sel = (strides.opening_valid if name in OPENING_TIMES else v) & (strides.side == side)
            per_side[(name, side)] = _Estimate.of(getattr(strides, name)[sel], rng)
    both: dict[str, _Estimate] = {}
    stride_both = _Estimate.of(strides.stride_time_s[v], rng)
    both["stride_time_s"] = stride_both
    both["cadence_spm"] = stride_both.map(lambda x: 120.0 / x)
    for name in ("pelvic_obliquity_range_deg", "pelvic_tilt_range_deg", "pelvic_rotation_range_deg"):
        both[name] = _Estimate.of(getattr(strides, name)[v], rng)
    both["double_support_pct"] = _Estimate.of(strides.double_support_pct[v], rng)
    if standing_tilt_deg is not None:
        tilt = _Estimate.of(strides.pelvic_tilt_mean_deg[v], rng)
        both["pelvic_tilt_rel_standing_deg"] = tilt.map(lambda x: x - standing_tilt_deg)
    # its own generator, so that sessions without offsets keep the intervals they always had
    offsets = uncertainty.contact_offsets(contact_offset_sd_s or {}, np.random.default_rng([uncertainty.SEED, 1]))
    for prefix, base in _SYMMETRY.items():
        r, l_ = per_side[(base, "right")], per_side[(base, "left")]
        n = min(r.n, l_.n)
        r_boot = r.boot + _offset_shift(base, "right", offsets)
        l_boot = l_.boot + _offset_shift(base, "left", offsets)
        with np.errstate(divide="ignore", invalid="ignore"):
            for suffix, f in (("si_pct", symmetry_index), ("ga_pct", gait_asymmetry), ("sr", symmetry_ratio)):
                both[f"{prefix}_{suffix}"] = _Estimate(float(f(r.value, l_.value)), n, np.asarray(f(r_boot, l_boot)))
    # Plotnik's reference leg is the one with the longer mean swing time
    swing_r, swing_l = per_side[("swing_time_s", "right")].value, per_side[("swing_time_s", "left")].value
    reference = "right" if swing_r > swing_l else "left"
    both["phase_coordination_index_pct"] = _pci_estimate(strides.phase_deg[v & (strides.side == reference)], rng)
    if trunk_result is not None:  # step symmetry has no interval (trunk.TrunkResult.bootstrap says why)
        boot = trunk_result.bootstrap(rng)
        both.update(
            {k: _Estimate(value, n, boot.get(k, _NONE.boot)) for k, (value, n) in trunk_result.summary().items()}
        )
    plausible = (strides.stride_time_s >= config.min_stride_s) & (strides.stride_time_s <= config.max_stride_s)
    b0, b1, _ = merge_intervals(strides.start_s[plausible], strides.end_s[plausible])
    both["walking_time_s"] = _Estimate(float(np.sum(b1 - b0)), int(plausible.sum()), _NONE.boot)
    both.update({k: _Estimate(value, n, _NONE.boot) for k, (value, n) in (turn_values or {}).items()})
    rows = []
    for metric in METRICS.values():
        for side in metric.sides:
            est = both.get(metric.name, _NONE) if side == "both" else per_side.get((metric.name, side), _NONE)
            lo, hi = uncertainty.interval(est.boot)
            rows.append(SummaryRow(metric.name, side, est.value, metric.unit, est.n, lo, hi))
    return tuple(rows)

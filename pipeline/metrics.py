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
of the side's median, no masked sample in the stride, not overlapping a turn (low-passed pelvic heading rate
above ``turn_rate_dps``, widened by ``turn_margin_s``; needs the pelvis sensor), and not the first or last stride
of a walking bout (gait initiation/termination). Session statistics use valid strides only; a metric without
any is NaN with n = 0. Symmetry indices are Robinson 1987: SI = (R − L) / ((R + L)/2) × 100.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline import _signal as sig
from pipeline.catalog import METRICS
from pipeline.events import GaitEvents
from pipeline.orientation import PelvisAngles, ThighAngles

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
    max_masked_fraction: float = 0.1  # strides with more masked (gap) samples than this are invalid


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
    pelvic_obliquity_range_deg: FloatArray
    pelvic_tilt_range_deg: FloatArray
    pelvic_rotation_range_deg: FloatArray
    pelvic_drop_deg: FloatArray
    thigh_range_deg: FloatArray
    valid: NDArray[np.bool_]

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


def _ranges(x: FloatArray | None, a: NDArray[np.int64], b: NDArray[np.int64]) -> FloatArray:
    if x is None:
        return np.full(a.shape[0], np.nan)
    return window_reduce(x, a, b, np.fmax) - window_reduce(x, a, b, np.fmin)


def turning_mask(pelvis: PelvisAngles, fs_hz: float, *, config: MetricsConfig) -> NDArray[np.bool_]:
    """Grid samples during (or within ``turn_margin_s`` of) a turn, from the low-passed heading rate."""
    rate = sig.butter(sig.fill_invalid(pelvis.heading_rate_dps, pelvis.valid), fs_hz, config.turn_lowpass_hz, "lowpass")
    turning = np.abs(rate) > config.turn_rate_dps
    w = int(2 * config.turn_margin_s * fs_hz) + 1
    return np.asarray(np.convolve(turning.astype(np.float64), np.ones(w), mode="same") > 0)


def stride_table(
    events: GaitEvents,
    fs_hz: float,
    n_samples: int,
    *,
    pelvis: PelvisAngles | None = None,
    thighs: Mapping[str, ThighAngles] | None = None,
    valid: NDArray[np.bool_] | None = None,
    config: MetricsConfig = MetricsConfig(),
) -> StrideTable:
    """Strides of both sides from events and per-sample angles (see the module docstring for definitions)."""
    thighs = thighs or {}
    valid = np.ones(n_samples, dtype=bool) if valid is None else valid
    bad = np.concatenate(([0], np.cumsum(~valid)))
    turning = turning_mask(pelvis, fs_hz, config=config) if pelvis is not None else np.zeros(n_samples, dtype=bool)
    turns = np.concatenate(([0], np.cumsum(turning)))
    parts: list[dict[str, NDArray[Any]]] = []
    for side in ("left", "right"):  # two sides, not samples
        other = "right" if side == "left" else "left"
        ic = np.sort(events.select(side, "IC"))
        if ic.size < 2:
            continue
        start, end = ic[:-1], ic[1:]
        stride = end - start
        fc = np.sort(events.select(side, "FC"))
        j = np.searchsorted(fc, start, side="right")
        fc_t = fc[np.minimum(j, fc.size - 1)] if fc.size else np.full(start.size, np.nan)
        stance = np.where((j < fc.size) & (fc_t < end), fc_t - start, np.nan)
        oic = np.sort(events.select(other, "IC"))
        i = np.searchsorted(oic, start, side="left") - 1
        step = start - oic[np.maximum(i, 0)] if oic.size else np.full(start.size, np.nan)
        step = np.where((i >= 0) & (step < stride), step, np.nan)
        a = np.clip(np.ceil(start * fs_hz).astype(np.int64), 0, n_samples)
        b = np.clip(np.ceil(end * fs_hz).astype(np.int64), 0, n_samples)
        fc_b = np.clip(np.ceil((start + np.nan_to_num(stance)) * fs_hz).astype(np.int64), 0, n_samples)
        if pelvis is not None:
            sign = 1.0 if side == "left" else -1.0
            obl = sign * pelvis.obliquity_deg
            at_ic = obl[np.minimum(a, n_samples - 1)]
            drop = np.where(np.isfinite(stance), window_reduce(obl, a, fc_b, np.fmax) - at_ic, np.nan)
        thigh = thighs.get(side)
        ok = (stride >= config.min_stride_s) & (stride <= config.max_stride_s)
        med = np.median(stride[ok]) if ok.any() else np.nan
        ok &= np.abs(stride - med) <= config.outlier_rel * med
        if config.drop_bout_edges:
            edge_before = np.concatenate(([True], ~ok[:-1]))
            edge_after = np.concatenate((~ok[1:], [True]))
            ok_edges = ok & ~edge_before & ~edge_after
        else:
            ok_edges = ok
        masked = (bad[b] - bad[a]) / np.maximum(b - a, 1)
        ok_edges &= (masked <= config.max_masked_fraction) & (turns[b] - turns[a] == 0)
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
                "pelvic_obliquity_range_deg": _ranges(pelvis.obliquity_deg if pelvis else None, a, b),
                "pelvic_tilt_range_deg": _ranges(pelvis.tilt_deg if pelvis else None, a, b),
                "pelvic_rotation_range_deg": _ranges(pelvis.rotation_deg if pelvis else None, a, b),
                "pelvic_drop_deg": drop if pelvis is not None else np.full(start.size, np.nan),
                "thigh_range_deg": _ranges(thigh.sagittal_deg if thigh else None, a, b),
                "valid": ok_edges,
            }
        )
    names = [f.name for f in fields(StrideTable)]
    if not parts:
        empty: dict[str, NDArray[Any]] = {n: np.zeros(0, dtype=np.float64) for n in names}
        empty.update(side=np.zeros(0, dtype=str), stride=np.zeros(0, dtype=np.int32), valid=np.zeros(0, dtype=bool))
        return StrideTable(**empty)
    return StrideTable(**{n: np.concatenate([p[n] for p in parts]) for n in names})


def symmetry_index(right: float, left: float) -> float:
    """Robinson 1987 symmetry index (R − L) / ((R + L)/2) × 100 %; NaN when either side is missing."""
    mean = (right + left) / 2.0
    return float((right - left) / mean * 100.0) if np.isfinite(mean) and mean != 0 else float("nan")


def _mean(x: FloatArray) -> tuple[float, int]:
    x = x[np.isfinite(x)]
    return (float(x.mean()), int(x.size)) if x.size else (float("nan"), 0)


def _union_length(start: FloatArray, end: FloatArray) -> float:
    if start.size == 0:
        return 0.0
    order = np.argsort(start)
    s, e = start[order], np.maximum.accumulate(end[order])
    new = np.concatenate(([True], s[1:] > e[:-1]))
    group = np.cumsum(new) - 1
    return float(np.sum(_group_span(s, e, group)))


def _group_span(s: FloatArray, e: FloatArray, group: NDArray[np.int64]) -> FloatArray:
    n = int(group.max()) + 1
    lo = np.full(n, np.inf)
    hi = np.full(n, -np.inf)
    np.minimum.at(lo, group, s)
    np.maximum.at(hi, group, e)
    return np.asarray(hi - lo, dtype=np.float64)


def session_summary(strides: StrideTable, *, config: MetricsConfig = MetricsConfig()) -> tuple[SummaryRow, ...]:
    """Every metric of ``pipeline.catalog`` (long form) from the valid strides."""
    v = strides.valid
    per_side: dict[tuple[str, str], tuple[float, int]] = {}
    for side in ("left", "right"):
        sel = v & (strides.side == side)
        for name in ("stride_time_s", "step_time_s", "stance_time_s", "swing_time_s", "stance_pct"):
            per_side[(name, side)] = _mean(getattr(strides, name)[sel])
        per_side[("pelvic_drop_deg", side)] = _mean(strides.pelvic_drop_deg[sel])
        per_side[("thigh_range_deg", side)] = _mean(strides.thigh_range_deg[sel])
    both: dict[str, tuple[float, int]] = {}
    stride_both = _mean(strides.stride_time_s[v])
    both["stride_time_s"] = stride_both
    both["cadence_spm"] = (120.0 / stride_both[0] if stride_both[1] else float("nan"), stride_both[1])
    for name in ("pelvic_obliquity_range_deg", "pelvic_tilt_range_deg", "pelvic_rotation_range_deg"):
        both[name] = _mean(getattr(strides, name)[v])
    for si, base in (
        ("step_time_si_pct", "step_time_s"),
        ("stance_time_si_pct", "stance_time_s"),
        ("thigh_range_si_pct", "thigh_range_deg"),
    ):
        (r, nr), (l_, nl) = per_side[(base, "right")], per_side[(base, "left")]
        both[si] = (symmetry_index(r, l_), min(nr, nl))
    plausible = (strides.stride_time_s >= config.min_stride_s) & (strides.stride_time_s <= config.max_stride_s)
    both["walking_time_s"] = (_union_length(strides.start_s[plausible], strides.end_s[plausible]), int(plausible.sum()))
    rows = []
    for metric in METRICS.values():
        for side in metric.sides:
            value, n = both[metric.name] if side == "both" else per_side[(metric.name, side)]
            rows.append(SummaryRow(metric.name, side, value, metric.unit, n))
    return tuple(rows)

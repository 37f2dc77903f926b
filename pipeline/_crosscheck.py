"""Private: reconcile thigh events with the pelvis — agreement, swapped thigh sensors, thigh dropouts.

Agreement. Every thigh IC is matched to the nearest pelvis IC within ``tolerance_s`` (0.25 s, about half a step;
mobgap scores lower-back ICs with ±0.5 s). Reported: the matched share of thigh ICs, the median offset
(pelvis − thigh, ms; the McCamley IC lags the thigh IC, reference §2.1/§2.3) and the share of matched ICs whose
pelvis laterality (§2.2) names the same side.

Swapped thighs. When the sensor files are swapped (the "left_thigh" stream worn on the right leg), the thigh
ICs labelled left coincide with pelvis ICs labelled right. With both thighs and at least ``min_matched`` matched
ICs, a side agreement at or below ``1 − swap_share`` (the pelvis laterality is right ≈ 80–100 % of the time)
means the thighs are swapped: the event sides are exchanged and ``thighs_swapped`` is set. Between the two
thresholds the check is ``"undecided"``; without a pelvis it is ``"unverifiable"``.

Dropouts. A thigh stream gap (invalid grid samples) of at least ``dropout_gap_s`` inside the walk is filled with
that side's pelvis events (source ``"pelvis"``) from half a stride before to half a stride after the gap,
skipping any pelvis event with a thigh event of the same side and kind within half a stride. The fills are listed
in the quality record; their pelvis bias (tens of ms) mixes into that side's strides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline import _signal as sig
from pipeline._event_core import GaitEvents, make_events, merge
from pipeline.orientation import ThighAngles


@dataclass(frozen=True)
class CrossCheckConfig:
    """Parameters of the thigh/pelvis reconciliation."""

    tolerance_s: float = 0.25  # a thigh IC and a pelvis IC closer than this are the same contact
    min_matched: int = 8  # fewer matched ICs leave the swap check undecided
    swap_share: float = 0.75  # side agreement ≥ this: not swapped; ≤ 1 − this: swapped
    dropout_gap_s: float = 2.0  # thigh gaps at least this long are filled from the pelvis


def _nearest(a: NDArray[np.float64], b: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Index of the nearest element of sorted ``b`` for each ``a``, and the signed distance b − a."""
    if b.size == 0:
        return np.zeros(a.size, dtype=np.int64), np.full(a.size, np.inf)
    j = np.clip(np.searchsorted(b, a), 0, b.size - 1)
    jm = np.maximum(j - 1, 0)
    pick = np.where(np.abs(b[jm] - a) < np.abs(b[j] - a), jm, j)
    return pick.astype(np.int64), b[pick] - a


def agreement(thigh: GaitEvents, pelvis: GaitEvents, tolerance_s: float) -> dict[str, Any]:
    """Matched share, median offset (ms) and side agreement of thigh ICs against pelvis ICs."""
    t_ic, t_side = thigh.t_s[thigh.kind == "IC"], thigh.side[thigh.kind == "IC"]
    p_ic, p_side = pelvis.t_s[pelvis.kind == "IC"], pelvis.side[pelvis.kind == "IC"]
    j, d = _nearest(t_ic, p_ic)
    hit = np.abs(d) <= tolerance_s
    same = t_side[hit] == p_side[j[hit]] if p_ic.size else np.zeros(0, dtype=bool)
    return {
        "matched": int(hit.sum()),
        "matched_fraction": round(float(hit.mean()), 3) if t_ic.size else float("nan"),
        "median_offset_ms": round(float(np.median(d[hit]) * 1e3), 1) if hit.any() else float("nan"),
        "side_agreement": round(float(same.mean()), 3) if same.size else float("nan"),
    }


def swap_sides(ev: GaitEvents, fs_hz: float) -> GaitEvents:
    """The same events with left and right exchanged."""
    side = np.where(ev.side == "left", "right", "left")
    return make_events(ev.t_s, side, ev.kind, ev.source, fs_hz, laterality_agreement=ev.laterality_agreement)


def swap_verdict(stats: dict[str, Any], n_thighs: int, config: CrossCheckConfig) -> str:
    """``"ok"``, ``"swapped"``, ``"undecided"`` (too few matches or mixed votes) or ``"unverifiable"``."""
    if n_thighs < 2:
        return "unverifiable"
    if stats["matched"] < config.min_matched or not np.isfinite(stats["side_agreement"]):
        return "undecided"
    if stats["side_agreement"] >= config.swap_share:
        return "ok"
    if stats["side_agreement"] <= 1.0 - config.swap_share:
        return "swapped"
    return "undecided"


def fill_dropouts(
    thigh: GaitEvents,
    pelvis: GaitEvents,
    thigh_valid: dict[str, NDArray[np.bool_]],
    fs_hz: float,
    stride_s: float,
    config: CrossCheckConfig,
) -> tuple[GaitEvents, list[dict[str, Any]]]:
    """Thigh events plus pelvis events inside long thigh gaps (see the module docstring), and the fills made."""
    fills: list[dict[str, Any]] = []
    keep = np.zeros(len(pelvis), dtype=bool)
    half = 0.5 * stride_s
    for side, valid in thigh_valid.items():  # at most two sides
        own = thigh.t_s[thigh.side == side]
        if own.size == 0:
            continue
        gaps = sig.runs(~valid)
        long = (gaps[:, 1] - gaps[:, 0]) >= config.dropout_gap_s * fs_hz
        for a, b in gaps[long] / fs_hz:  # a few gaps
            if b <= own[0] or a >= own[-1]:
                continue  # before the first or after the last thigh event: not a dropout inside the walk
            sel = (pelvis.side == side) & (pelvis.t_s >= a - half) & (pelvis.t_s < b + half)
            for kind in ("IC", "FC"):
                mine = np.sort(thigh.t_s[(thigh.side == side) & (thigh.kind == kind)])
                cand = sel & (pelvis.kind == kind)
                _, d = _nearest(pelvis.t_s[cand], mine)
                keep[np.flatnonzero(cand)[np.abs(d) > half]] = True
            n_added = int((keep & sel).sum())
            fills.append({"side": side, "start_s": round(float(a), 2), "end_s": round(float(b), 2), "events": n_added})
    if not keep.any():
        return thigh, fills
    added = make_events(pelvis.t_s[keep], pelvis.side[keep], pelvis.kind[keep], pelvis.source[keep], fs_hz)
    return merge(thigh, added, fs_hz=fs_hz), fills


def _swap_thighs(thighs: Mapping[str, ThighAngles]) -> dict[str, ThighAngles]:
    """Angles of swapped thigh sensors under their true sides (abduction is sign-mirrored between sides)."""
    out = {}
    for side, th in thighs.items():
        other = "right" if side == "left" else "left"
        out[other] = replace(th, frontal_deg=-th.frontal_deg)
    return out


def reconcile(
    thigh: GaitEvents | None,
    pelvis: GaitEvents | None,
    thighs: Mapping[str, ThighAngles],
    fs_hz: float,
    *,
    config: CrossCheckConfig = CrossCheckConfig(),
) -> tuple[GaitEvents, dict[str, ThighAngles], dict[str, Any]]:
    """Session events from thigh and pelvis events: swap check, dropout fills, pelvis events for missing thighs.

    Returns the events, the thigh angles keyed by their (corrected) side and the quality entries
    (``crosscheck``, ``thighs_swapped``, ``thigh_swap_check``, ``dropout_fills``).
    """
    angles = dict(thighs)
    q: dict[str, Any] = {"thighs_swapped": False}
    if thigh is None or len(thigh) == 0:
        q["thigh_swap_check"] = "unverifiable" if pelvis is None else "no_thighs"
        empty = np.zeros(0)
        none = make_events(empty, empty.astype(str), empty.astype(str), empty.astype(str), fs_hz)
        return (pelvis if pelvis is not None else none), angles, q
    if pelvis is None:
        q["thigh_swap_check"] = "unverifiable"
        return thigh, angles, q
    stats = agreement(thigh, pelvis, config.tolerance_s)
    verdict = swap_verdict(stats, len(thighs), config)
    q["thigh_swap_check"] = verdict
    if verdict == "swapped":
        thigh, angles = swap_sides(thigh, fs_hz), _swap_thighs(thighs)
        q["thighs_swapped"] = True
        stats = agreement(thigh, pelvis, config.tolerance_s)
    q["crosscheck"] = stats
    ic = thigh.kind == "IC"
    strides = [np.diff(thigh.t_s[ic & (thigh.side == s)]) for s in angles]
    all_strides = np.concatenate(strides) if strides else np.zeros(0)
    stride_s = float(np.median(all_strides)) if all_strides.size else 1.1
    ev, fills = fill_dropouts(thigh, pelvis, {s: th.valid for s, th in angles.items()}, fs_hz, stride_s, config)
    q["dropout_fills"] = fills
    missing = ~np.isin(pelvis.side, list(angles))
    if missing.any():
        extra = make_events(
            pelvis.t_s[missing], pelvis.side[missing], pelvis.kind[missing], pelvis.source[missing], fs_hz
        )
        ev = merge(ev, extra, fs_hz=fs_hz)
    laterality = pelvis.laterality_agreement
    ev = make_events(ev.t_s, ev.side, ev.kind, ev.source, fs_hz, laterality_agreement=laterality)
    return ev, angles, q

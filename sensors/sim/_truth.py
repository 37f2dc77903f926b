"""Private: the gait event table of the model and its ground-truth record (:class:`GaitTruth`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
StrArray = npt.NDArray[np.str_]

#: Canonical gait phase (cycles, left-IC based) of the four events of a stride; the pelvis curves use this clock.
PELVIS_EVENT_PHASE = (0.0, 0.1, 0.5, 0.6)  # left IC, right FC, right IC, left FC
#: Canonical phase of final contact in each leg's own cycle (IC = 0, next IC = 1).
FC_PHASE = 0.6
_GRID = 240  # samples per stride when the summary evaluates the pelvis curves
_Strides = tuple[FloatArray, FloatArray, FloatArray, FloatArray]  # start IC, next IC, FC, contralateral IC


class Strides(NamedTuple):
    """Event times of stride ``k`` (left IC ``k`` → left IC ``k+1``), seconds. ``fc_r[k]`` follows ``ic_r[k]``."""

    ic_l: FloatArray
    fc_l: FloatArray
    ic_r: FloatArray
    fc_r: FloatArray


def build_strides(
    *,
    stride_s: float,
    step_share_left: float,
    stance_frac: tuple[float, float],
    stride_cv: float,
    walk_s: float,
    n_pre: int,
    n_post: int,
    rng: np.random.Generator,
) -> Strides:
    """Draw the stride table: ``n_pre`` nominal strides before ``walk_s`` (left IC at ``walk_s``), then ``n_post``
    jittered ones.

    Stride time varies with coefficient of variation ``stride_cv``; the step share and both stance fractions vary
    with an absolute SD of ``stride_cv / 4`` (fractions of the stride). Draws are truncated at ±3 SD.

    Raises:
        ValueError: when the jitter destroys the event order (no double support or no swing in some stride).
    """
    z = np.clip(rng.standard_normal((4, n_post)), -3.0, 3.0)
    dur = np.concatenate([np.full(n_pre, stride_s), stride_s * (1.0 + stride_cv * z[0])])
    share = np.concatenate([np.full(n_pre, step_share_left), step_share_left + 0.25 * stride_cv * z[1]])
    p_l = np.concatenate([np.full(n_pre, stance_frac[0]), stance_frac[0] + 0.25 * stride_cv * z[2]])
    p_r = np.concatenate([np.full(n_pre, stance_frac[1]), stance_frac[1] + 0.25 * stride_cv * z[3]])
    pre = walk_s - stride_s * np.arange(n_pre, 0, -1, dtype=np.float64)
    post = walk_s + np.concatenate([[0.0], np.cumsum(dur[n_pre:-1])])
    ic_l = np.concatenate([pre, post])
    ic_r = ic_l + (1.0 - share) * dur
    strides = Strides(ic_l, ic_l + p_l * dur, ic_r, ic_r + p_r * dur)
    order = np.stack([strides.ic_l[1:], strides.fc_r[:-1], strides.ic_r[1:], strides.fc_l[1:]], axis=-1).ravel()
    if np.any(np.diff(order) <= 0.0):
        raise ValueError(
            f"stride_cv={stride_cv} is too large for this profile: a jittered stride lost its double support or "
            "swing. Lower stride_cv or move stance_pct further from the step-share limits."
        )
    return strides


def _mean(x: FloatArray) -> float:
    return float(np.mean(x)) if x.size else math.nan


def _si(right: float, left: float) -> float:
    return (right - left) / ((right + left) / 2.0) * 100.0


@dataclass(frozen=True, eq=False)
class GaitTruth:
    """Ground truth of one :class:`~sensors.sim.gait_model.GaitModel` run, in model time (seconds from t = 0).

    Attributes:
        events_t_s: event times (s, float64, sorted), only events with ``walking_start_s <= t < duration_s``.
        events_side: ``"left"`` / ``"right"`` per event.
        events_kind: ``"IC"`` (initial contact) / ``"FC"`` (final contact, toe-off) per event. Per side the kinds
            alternate; the right side starts with an FC (its first IC fell in the gait-initiation ramp).
        turns: ``(k, 2)`` float64 half-open turn intervals ``[start, end)`` in seconds (180° left turns).
        walking_start_s: time of the first truth event (left IC); the gait amplitude is complete from here on.
        standing_end_s: end of the truly still standing period ``[0, standing_end_s)``; between it and
            ``walking_start_s`` the gait amplitude ramps up smoothly (gait initiation, no truth events).
        speed_m_s: forward speed of steady walking (m/s).
        pelvis_angles_fn: the model's pelvis angle curves (``t -> (n, 3)`` rotation, obliquity, tilt in degrees),
            used by :meth:`summary`; ``None`` gives NaN pelvic metrics.
        progression_fn: the model's forward progression of the pelvis centre along its path (``t -> (n,)`` m),
            used by :meth:`summary` for step and stride lengths; ``None`` gives NaN lengths.
    """

    events_t_s: FloatArray
    events_side: StrArray
    events_kind: StrArray
    turns: FloatArray
    walking_start_s: float
    standing_end_s: float = 0.0
    speed_m_s: float = math.nan
    pelvis_angles_fn: Callable[[FloatArray], FloatArray] | None = field(default=None, repr=False)
    progression_fn: Callable[[FloatArray], FloatArray] | None = field(default=None, repr=False)

    def _times(self, side: str, kind: str) -> FloatArray:
        mask = (self.events_side == side) & (self.events_kind == kind)
        times: FloatArray = self.events_t_s[mask]
        return times

    def _straight_strides(self, side: str) -> _Strides:
        """Complete straight strides of one side: (IC, next IC, FC, contralateral IC inside the stride)."""
        other = "right" if side == "left" else "left"
        ic, fc, ic_other = self._times(side, "IC"), self._times(side, "FC"), self._times(other, "IC")
        start, end = ic[:-1], ic[1:]
        i_fc = np.searchsorted(fc, start, side="right")
        i_oc = np.searchsorted(ic_other, end, side="left") - 1
        ok = (i_fc < fc.size) & (i_oc >= 0)
        fc_t = fc[np.minimum(i_fc, max(fc.size - 1, 0))] if fc.size else np.full(start.size, np.nan)
        oc_t = ic_other[np.maximum(i_oc, 0)] if ic_other.size else np.full(start.size, np.nan)
        ok &= (fc_t < end) & (oc_t > start)
        for t0, t1 in self.turns:
            ok &= (end <= t0) | (start >= t1)
        return start[ok], end[ok], fc_t[ok], oc_t[ok]

    def summary(self) -> dict[str, float]:
        """Per-side means over complete straight strides (strides overlapping a turn are left out).

        Keys (seconds, %, steps/min, m/s, degrees):

        - ``n_strides_left/right``: strides averaged.
        - ``stride_time_s``: mean IC→IC time of the same side, both sides pooled; ``cadence_spm`` = 120 / it.
        - ``step_time_s_left/right``: contralateral IC → this side's IC.
        - ``stance_time_s_left/right`` (IC→FC), ``swing_time_s_left/right`` (FC→next IC),
          ``stance_pct_left/right`` (stance / own stride × 100), ``double_support_pct`` (both DS phases of the
          left strides, % of stride).
        - ``step_time_si_pct``, ``stance_time_si_pct``: Robinson symmetry index (R − L) / ((R + L)/2) × 100.
        - ``speed_m_s``: forward speed of steady walking.
        - ``step_length_m_left/right``: forward progression of the pelvis centre from the contralateral IC to this
          side's IC (in steady walking, the heel-to-heel distance at this side's IC); ``stride_length_m``: from
          IC to the next IC of the same side, both sides pooled. Straight walking at constant speed makes them
          ``speed_m_s`` × the step / stride time.
        - ``obliquity_range_deg``, ``tilt_range_deg``, ``rotation_range_deg``: mean over left strides of the
          per-stride max − min of the pelvis angle.
        - ``pelvic_drop_deg_left``: mean over left stances of max obliquity − obliquity at left IC (the right hip
          drops); ``pelvic_drop_deg_right``: obliquity at right IC − min obliquity over right stance (the left
          hip drops). Both positive; the Trendelenburg marker of the reference (§3).
        """
        strides = {side: self._straight_strides(side) for side in ("left", "right")}
        out: dict[str, float] = {}
        for side, (start, end, fc, oc) in strides.items():
            out[f"n_strides_{side}"] = float(start.size)
            out[f"step_time_s_{side}"] = _mean(end - oc)
            out[f"stance_time_s_{side}"] = _mean(fc - start)
            out[f"swing_time_s_{side}"] = _mean(end - fc)
            out[f"stance_pct_{side}"] = _mean((fc - start) / (end - start) * 100.0)
        out["stride_time_s"] = _mean(np.concatenate([end - start for start, end, _, _ in strides.values()]))
        out["cadence_spm"] = 120.0 / out["stride_time_s"]
        out["double_support_pct"] = self._double_support_pct(*strides["left"])
        out["step_time_si_pct"] = _si(out["step_time_s_right"], out["step_time_s_left"])
        out["stance_time_si_pct"] = _si(out["stance_time_s_right"], out["stance_time_s_left"])
        out["speed_m_s"] = float(self.speed_m_s)
        out.update(self._lengths(strides))
        out.update(self._pelvic_metrics(strides))
        return out

    def _lengths(self, strides: dict[str, _Strides]) -> dict[str, float]:
        """Step and stride lengths from the model's true forward progression."""
        out = dict.fromkeys(("step_length_m_left", "step_length_m_right", "stride_length_m"), math.nan)
        progress = self.progression_fn
        if progress is None:
            return out
        strides_m = []
        for side, (start, end, _, oc) in strides.items():
            out[f"step_length_m_{side}"] = _mean(progress(end) - progress(oc))
            strides_m.append(progress(end) - progress(start))
        out["stride_length_m"] = _mean(np.concatenate(strides_m))
        return out

    def _pelvic_metrics(self, strides: dict[str, _Strides]) -> dict[str, float]:
        """Pelvic ranges per left stride and the contralateral drop per stance, from the model's angle curves."""
        keys = ("rotation_range_deg", "obliquity_range_deg", "tilt_range_deg")
        out = dict.fromkeys((*keys, "pelvic_drop_deg_left", "pelvic_drop_deg_right"), math.nan)
        angles_fn = self.pelvis_angles_fn
        if angles_fn is None:
            return out
        grid = np.linspace(0.0, 1.0, _GRID + 1)

        def sampled(t0: FloatArray, t1: FloatArray) -> FloatArray:
            angles = angles_fn((t0[:, None] + (t1 - t0)[:, None] * grid).ravel())
            return angles.reshape(t0.size, grid.size, 3)

        start, end, fc, _ = strides["left"]
        if start.size:
            ranges = np.ptp(sampled(start, end), axis=1)
            out.update({key: _mean(ranges[:, j]) for j, key in enumerate(keys)})
            obliquity = sampled(start, fc)[:, :, 1]
            out["pelvic_drop_deg_left"] = _mean(obliquity.max(axis=1) - obliquity[:, 0])
        start, _, fc, _ = strides["right"]
        if start.size:
            obliquity = sampled(start, fc)[:, :, 1]
            out["pelvic_drop_deg_right"] = _mean(obliquity[:, 0] - obliquity.min(axis=1))
        return out

    def _double_support_pct(self, start: FloatArray, end: FloatArray, fc: FloatArray, oc: FloatArray) -> float:
        """Initial (left IC → right FC) plus terminal (right IC → left FC) double support of left strides."""
        fc_r = self._times("right", "FC")
        if not start.size or not fc_r.size:
            return math.nan
        i = np.searchsorted(fc_r, start, side="right")
        ok = i < fc_r.size
        right_fc = fc_r[np.minimum(i, fc_r.size - 1)]
        ds = (right_fc - start) + (fc - oc)
        return _mean((ds / (end - start) * 100.0)[ok])

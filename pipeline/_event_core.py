"""Private: event containers, detector configurations and the small helpers shared by the event detectors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
StrArray = NDArray[np.str_]


@dataclass(frozen=True)
class ThighEventConfig:
    """Parameters of thigh-based event detection."""

    lowpass_hz: float = 6.0
    min_swing_peak_dps: float = 40.0  # absolute floor of a mid-swing peak
    swing_peak_fraction: float = 0.4  # of the 95th percentile of the flexion rate
    min_stride_fraction: float = 0.6  # peaks closer than this fraction of the stride period are merged
    terminal_swing_frac: float = 0.2  # search span (stride fraction) after maximal flexion for IC (impact, dip, arrest)
    impact_search_frac: float = 0.3  # impact search span after maximal flexion where terminal swing has no transient
    ic_after_max_flexion_frac: float = 0.13  # last-resort IC delay after maximal flexion (stride fraction)
    impact_snr: float = 6.0  # heel-strike transient: |Δ²‖a‖| above this many robust SDs of its level while walking
    impact_quiet_samples: int = 2  # valid, sub-threshold Δ²‖a‖ samples required just before an impact onset
    min_calibration_strides: int = 3  # strides with both an impact and a gyro landmark to calibrate the latter
    fc_flexion_fraction: float = 0.2  # FC: share of the peak-extension → peak-flexion excursion flexed (real thighs)
    max_gap_s: float = 0.1  # masked samples tolerated in a gyroscope IC's window (swing peak to search end); the
    # longest single gap tolerated in an FC's window (peak extension to peak flexion)
    fc_max_lost_s: float = 0.3  # masked samples tolerated in all in an FC's window, in gaps of ≤ max_gap_s each


@dataclass(frozen=True)
class LateralityConfig:
    """Parameters of the ML-acceleration laterality (Mansour 2015) with per-bout axes; defaults from the literature."""

    lowpass_hz: float = 1.0  # Mansour 2015: 4th-order zero-lag Butterworth low-pass at 1 Hz
    lowpass_order: int = 4
    bout_gap_s: float = 3.0  # Mobilise-D walking-bout break rule (Kluge et al. 2021): a longer pause ends a bout
    min_bout_ics: int = 4  # two strides (Mobilise-D minimum walking bout); shorter bouts use the pooled axis
    fusion_cutoff_hz: float = 0.05  # gravity tracking for the free acceleration (as pipeline.align)
    turn_band_hz: float = 0.5  # turns (heading changes) are slower than the stride-periodic sway


DEFAULT_LATERALITY = LateralityConfig()


@dataclass(frozen=True)
class IcRefineConfig:
    """How each McCamley (CWT) IC is refined to the heel-strike signature; defaults from the literature.

    ``method``: ``"vertical_jerk"`` (default) moves each CWT IC to the steepest rise of the vertical acceleration
    (the loading onset) within ``window_steps`` of a step before it; ``"none"`` keeps the published CWT IC.
    """

    method: Literal["vertical_jerk", "none"] = "vertical_jerk"
    window_steps: float = 0.5  # the IC of a CWT minimum is the nearest onset before it: ICs are a step apart
    lowpass_hz: float = 20.0  # skdh's gait pre-processing low-pass (4th-order Butterworth, 20 Hz)
    lowpass_order: int = 4


DEFAULT_IC_REFINE = IcRefineConfig()


@dataclass(frozen=True)
class PelvisEventConfig:
    """Parameters of pelvis-based (McCamley/Caramia) event detection and laterality."""

    min_step_fraction: float = 0.6  # ICs closer than this fraction of the step period are merged
    run_break_factor: float = 1.7  # a step longer than this × median step starts a new laterality run
    max_gap_s: float = 0.1  # masked (lost) samples tolerated around an IC
    min_fc_fraction: float = 0.5  # report FCs only if found after at least this share of ICs
    laterality: LateralityConfig = DEFAULT_LATERALITY
    ic_refine: IcRefineConfig = DEFAULT_IC_REFINE


@dataclass(frozen=True)
class EventConfig:
    """All event-detection parameters."""

    thigh: ThighEventConfig = ThighEventConfig()
    pelvis: PelvisEventConfig = PelvisEventConfig()
    stride_range_s: tuple[float, float] = (0.6, 2.5)


DEFAULT_EVENT_CONFIG = EventConfig()


@dataclass(frozen=True)
class GaitEvents:
    """Events sorted by time. ``sample`` indexes the session grid; ``t_s`` is on the session timeline."""

    sample: NDArray[np.int64]
    t_s: FloatArray
    side: StrArray  # "left" | "right"
    kind: StrArray  # "IC" | "FC"
    source: StrArray  # site the event was detected from
    laterality_agreement: float = float("nan")  # pelvis only: share of ICs whose rotation vote matched the side
    rule_counts: Mapping[str, int] = field(default_factory=dict)  # events per detection rule, e.g. {"IC impact": 50}

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
    rule_counts: Mapping[str, int] | None = None,
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
        dict(rule_counts or {}),
    )


def merge(*parts: GaitEvents, fs_hz: float) -> GaitEvents:
    """Concatenate event sets and sort them by time (rule counts are summed)."""
    counts: dict[str, int] = {}
    for p in parts:
        for rule, n in p.rule_counts.items():
            counts[rule] = counts.get(rule, 0) + n
    return make_events(
        np.concatenate([p.t_s for p in parts]),
        np.concatenate([p.side for p in parts]),
        np.concatenate([p.kind for p in parts]),
        np.concatenate([p.source for p in parts]),
        fs_hz,
        laterality_agreement=next(
            (p.laterality_agreement for p in parts if np.isfinite(p.laterality_agreement)), np.nan
        ),
        rule_counts=counts,
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

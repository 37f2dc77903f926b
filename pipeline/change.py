"""Is the change between two sessions more than a person varies from one walk to the next?

Each session value has a 95 % within-session interval (:mod:`pipeline.uncertainty`): how far it could move had the
patient walked a different handful of strides in that session. Two sessions whose intervals are apart differ by
more than that, yet people do not walk alike twice: they choose another speed, swing the pelvis a little more. On
19 healthy adults who walked the same 10 m course five or six times in one visit (IPOL 2023 dataset,
``bench/validate_repeatability.py``, ``docs/validation/README.md`` §w), the intervals of two walks of the same
person were apart in 70 % of pairs for walking speed and 73 % for pelvic obliquity range, with nothing changed.

So a change is called *beyond walk-to-walk variation* only when it exceeds both the two sessions' own stride
sampling and the walk-to-walk SD τ measured on those walkers, beyond what their own intervals held:

    |B − A| > 1.96 · √(se_A² + se_B² + 2·τ²),   se = (interval high − low) / (2 · 1.96),

the minimal detectable change (MDC95 = 1.96 · √2 · SEM; Haley & Fragala-Pinkham 2006, Phys Ther 86:735) with the
SEM split into the part each session's interval already measures and the part it cannot (τ² = SEM² − mean se²).
A long session, whose interval is narrow, therefore needs a smaller change than the short walks τ was measured on.
Leaving each person out in turn and judging the pairs of their walks with τ from the other 18, the rule calls a
median 7.0 % (0.5–10.5 %) of those no-change pairs a change, over the 52 metric rows with τ > 0 (§w): a little
above the nominal 5 %, since some people vary more than the pooled SD says.

τ is a floor, not a norm: healthy adults, one visit, one course. Days apart, other courses and patients vary more,
so a change beyond it is necessary, not sufficient, for a real one; clinical meaning is a further question. Metrics
without τ (the thigh metrics and turns, which those walks cannot give) keep the stride-sampling wording only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

Z95 = 1.959963984540054

# Walk-to-walk SD beyond stride sampling, per metric, in the metric's unit: τ as printed by
# `bench/validate_repeatability.py --python` (IPOL 2023, 19 healthy adults, 110 walks, pelvis only; the larger of a
# metric's sides, two significant figures). Zero where the walks' own intervals already hold all of the walk-to-walk
# spread (the symmetry indices, ratios and asymmetries: their intervals were apart in none of 267 same-person pairs).
WALK_TO_WALK_SD: Mapping[str, float] = {
    "cadence_spm": 3.8,
    "stride_time_s": 0.041,
    "step_time_s": 0.026,
    "stance_time_s": 0.03,
    "swing_time_s": 0.03,
    "stance_pct": 2.2,
    "single_support_time_s": 0.029,
    "single_support_pct": 2.0,
    "initial_double_support_s": 0.022,
    "initial_double_support_pct": 2.1,
    "terminal_double_support_s": 0.022,
    "terminal_double_support_pct": 2.2,
    "double_support_pct": 3.8,
    "step_time_si_pct": 0.0,
    "step_time_ga_pct": 0.0,
    "step_time_sr": 0.0,
    "stance_time_si_pct": 0.0,
    "stance_time_ga_pct": 0.0,
    "stance_time_sr": 0.0,
    "swing_time_si_pct": 0.0,
    "swing_time_ga_pct": 0.0,
    "swing_time_sr": 0.0,
    "single_support_time_si_pct": 0.0,
    "single_support_time_ga_pct": 0.0,
    "single_support_time_sr": 0.0,
    "initial_double_support_si_pct": 0.0,
    "pelvic_obliquity_range_deg": 1.5,
    "pelvic_tilt_range_deg": 2.8,
    "pelvic_rotation_range_deg": 1.8,
    "pelvic_drop_deg": 1.5,
    "pelvic_hike_deg": 1.4,
    "pelvic_tilt_rel_standing_deg": 2.1,
    "harmonic_ratio_v": 0.73,
    "harmonic_ratio_ap": 0.51,
    "harmonic_ratio_ml": 0.33,
    "ihr_v_pct": 3.5,
    "ihr_ap_pct": 3.0,
    "ihr_ml_pct": 4.1,
    "step_regularity_v": 0.031,
    "stride_regularity_v": 0.018,
    "step_regularity_ap": 0.04,
    "stride_regularity_ap": 0.043,
    "phase_coordination_index_pct": 5.7,
    "walking_speed_m_s": 0.086,
    "walking_speed_pelvis_m_s": 0.086,
    "stride_length_m": 0.057,
    "step_length_m": 0.029,
    "step_length_si_pct": 1.5,
}
INVOLVED_SUFFIX = "_si_involved_pct"  # oriented copies of a symmetry index share its τ (the sign does not matter)

OVERLAP = "overlap"
BEYOND_STRIDE_SAMPLING = "beyond stride sampling"
WITHIN_WALK_TO_WALK = "within walk-to-walk variation"
BEYOND_WALK_TO_WALK = "beyond walk-to-walk variation"


def walk_to_walk_change(
    value_a: Any, interval_a: tuple[Any, Any], value_b: Any, interval_b: tuple[Any, Any], tau: Any
) -> NDArray[np.bool_]:
    """Elementwise (numpy broadcasting): does B − A exceed 1.96 · √(se_A² + se_B² + 2·τ²) (module docstring)?
    False wherever a value, an interval bound or τ is missing."""
    a, b, t = (np.asarray(x, dtype=np.float64) for x in (value_a, value_b, tau))
    se_a = (np.asarray(interval_a[1], dtype=np.float64) - np.asarray(interval_a[0], dtype=np.float64)) / (2.0 * Z95)
    se_b = (np.asarray(interval_b[1], dtype=np.float64) - np.asarray(interval_b[0], dtype=np.float64)) / (2.0 * Z95)
    with np.errstate(invalid="ignore"):
        threshold = Z95 * np.sqrt(se_a**2 + se_b**2 + 2.0 * t**2)
        beyond = np.abs(b - a) > threshold
    return np.asarray(beyond & np.isfinite(threshold) & np.isfinite(b - a), dtype=np.bool_)


def walk_to_walk_sd(metric: str) -> float | None:
    """The metric's τ (:data:`WALK_TO_WALK_SD`; an ``*_si_involved_pct`` index takes its ``*_si_pct``'s), or None
    where the repeated walks could not give one."""
    if metric.endswith(INVOLVED_SUFFIX):
        metric = metric.removesuffix(INVOLVED_SUFFIX) + "_si_pct"
    return WALK_TO_WALK_SD.get(metric)


def change_label(
    metric: str, value_a: float, interval_a: tuple[float, float], value_b: float, interval_b: tuple[float, float]
) -> str:
    """How a clinician should read B − A for one metric: ``overlap`` (the intervals touch or overlap), ``beyond
    walk-to-walk variation`` / ``within walk-to-walk variation`` (intervals apart; the change does or does not pass
    :func:`walk_to_walk_change` with the metric's τ), ``beyond stride sampling`` (intervals apart, no τ for this
    metric); empty when either session has no interval. Touching intervals overlap: the wording never overstates."""
    bounds = np.array([*interval_a, *interval_b], dtype=np.float64)
    if not np.isfinite(bounds).all():
        return ""
    (la, ha), (lb, hb) = interval_a, interval_b
    if la <= hb and lb <= ha:
        return OVERLAP
    tau = walk_to_walk_sd(metric)
    if tau is None:
        return BEYOND_STRIDE_SAMPLING
    beyond = bool(walk_to_walk_change(value_a, interval_a, value_b, interval_b, tau))
    return BEYOND_WALK_TO_WALK if beyond else WITHIN_WALK_TO_WALK

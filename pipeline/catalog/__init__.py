"""The vocabulary of session metrics: names, units, labels and definitions.

``derived/summary.arrow`` stores one row per (metric, side). This catalogue is the single place that says what
each metric means, in which unit, and where its definition comes from; the dashboard labels its charts from it.
Symmetry indices follow Robinson et al. (1987): SI = (X_right − X_left) / ((X_right + X_left) / 2) × 100 %, so
a negative SI means the right value is smaller (e.g. a shorter stance on a painful right knee).
"""

from __future__ import annotations

from types import MappingProxyType

from pipeline.catalog._metric import Metric
from pipeline.catalog._pelvic import PELVIC
from pipeline.catalog._spatial import SPATIAL
from pipeline.catalog._symmetry import COMPENSATION_INDICATORS, INVOLVED, SYMMETRY
from pipeline.catalog._temporal import BASIC, TEMPORAL
from pipeline.catalog._trunk import TRUNK
from pipeline.catalog._turns import TURNS

__all__ = ["KEY_METRICS", "METRICS", "SIGNALS", "Metric"]

METRICS: MappingProxyType[str, Metric] = MappingProxyType(
    {
        m.name: m
        for m in (*BASIC, *TEMPORAL, *PELVIC, *SYMMETRY, *TRUNK, *SPATIAL, *INVOLVED, *COMPENSATION_INDICATORS, *TURNS)
    }
)
"""Every session metric by name."""


KEY_METRICS: tuple[str, ...] = (
    "stance_time_si_pct",
    "step_time_si_pct",
    "cadence_spm",
    "walking_speed_m_s",
    "pelvic_obliquity_range_deg",
    "pelvic_drop_deg",
    "thigh_range_si_pct",
)
"""The metrics the trends page shows first."""


SIGNALS: MappingProxyType[str, str] = MappingProxyType(
    {
        "pelvic_obliquity_deg": "Pelvic obliquity",
        "pelvic_tilt_deg": "Pelvic tilt",
        "pelvic_rotation_deg": "Pelvic rotation",
        "thigh_sagittal_deg": "Thigh sagittal angle",
        "thigh_frontal_deg": "Thigh frontal angle",
    }
)
"""Labels of the angle signals in ``derived/cycles.arrow`` (its ``signal`` column)."""

"""The vocabulary of session metrics: names, units, labels and definitions.

``derived/summary.arrow`` stores one row per (metric, side). This catalogue is the single place that says what
each metric means, in which unit, and where its definition comes from; the dashboard labels its charts from it.
Symmetry indices follow Robinson et al. (1987): SI = (X_right − X_left) / ((X_right + X_left) / 2) × 100 %, so
a negative SI means the right value is smaller (e.g. a shorter stance on a painful right knee).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Metric:
    """One session metric."""

    name: str
    unit: str
    label: str
    definition: str
    sides: tuple[str, ...]  # which of "left", "right", "both" it is reported for


_METRICS = (
    Metric(
        "cadence_spm", "steps/min", "Cadence", "Steps per minute over valid strides: 120 / mean stride time.", ("both",)
    ),
    Metric(
        "stride_time_s",
        "s",
        "Stride time",
        "IC to the next IC of the same side (skdh definitions).",
        ("left", "right", "both"),
    ),
    Metric("step_time_s", "s", "Step time", "Contralateral IC to this side's IC.", ("left", "right")),
    Metric("stance_time_s", "s", "Stance time", "IC to FC of the same side.", ("left", "right")),
    Metric("swing_time_s", "s", "Swing time", "FC to the next IC of the same side.", ("left", "right")),
    Metric("stance_pct", "%", "Stance", "Stance time as a percentage of stride time.", ("left", "right")),
    Metric(
        "step_time_si_pct",
        "%",
        "Step-time symmetry index",
        "Robinson 1987 SI of mean step time, (R − L) / mean(R, L) × 100; 0 is symmetric.",
        ("both",),
    ),
    Metric(
        "stance_time_si_pct",
        "%",
        "Stance-time symmetry index",
        "Robinson 1987 SI of mean stance time, (R − L) / mean(R, L) × 100; negative: shorter right stance.",
        ("both",),
    ),
    Metric(
        "pelvic_obliquity_range_deg",
        "deg",
        "Pelvic obliquity range",
        "Max − min of pelvic obliquity (frontal plane, Baker 2001 rotation→obliquity→tilt) per stride, "
        "mean over strides.",
        ("both",),
    ),
    Metric(
        "pelvic_tilt_range_deg",
        "deg",
        "Pelvic tilt range",
        "Max − min of pelvic tilt (sagittal plane) per stride, mean over strides.",
        ("both",),
    ),
    Metric(
        "pelvic_rotation_range_deg",
        "deg",
        "Pelvic rotation range",
        "Max − min of pelvic rotation (transverse plane, heading removed) per stride, mean over strides.",
        ("both",),
    ),
    Metric(
        "pelvic_drop_deg",
        "deg",
        "Contralateral pelvic drop",
        "During this side's stance, how far the opposite hip drops below its level at this side's IC "
        "(a Trendelenburg indicator); mean over strides.",
        ("left", "right"),
    ),
    Metric(
        "thigh_range_deg",
        "deg",
        "Thigh sagittal range",
        "Max − min of the thigh's sagittal angle per stride (a hip flexion/extension proxy), mean over strides.",
        ("left", "right"),
    ),
    Metric(
        "thigh_range_si_pct",
        "%",
        "Thigh-range symmetry index",
        "Robinson 1987 SI of mean thigh sagittal range; negative: smaller right range.",
        ("both",),
    ),
    Metric("walking_time_s", "s", "Walking time", "Time covered by detected strides.", ("both",)),
)

METRICS: MappingProxyType[str, Metric] = MappingProxyType({m.name: m for m in _METRICS})
"""Every session metric by name."""

KEY_METRICS: tuple[str, ...] = (
    "stance_time_si_pct",
    "step_time_si_pct",
    "cadence_spm",
    "pelvic_obliquity_range_deg",
    "pelvic_drop_deg",
    "thigh_range_si_pct",
)
"""The metrics the trends page shows first."""

"""Temporal metrics: cadence, stride, step, stance, swing, support phases."""

from __future__ import annotations

from pipeline.catalog._metric import LR, SKDH, Metric

BASIC: tuple[Metric, ...] = (
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

TEMPORAL = (
    Metric(
        "single_support_time_s",
        "s",
        "Single support",
        "This side alone on the ground: contralateral FC to contralateral IC (= the contralateral swing).",
        LR,
        SKDH,
    ),
    Metric("single_support_pct", "%", "Single support", "Single support time as % of stride time.", LR, SKDH),
    Metric(
        "initial_double_support_s",
        "s",
        "Initial double support",
        "This side's IC to the contralateral FC (loading response).",
        LR,
        SKDH,
    ),
    Metric(
        "initial_double_support_pct",
        "%",
        "Initial double support",
        "Initial double support as % of stride.",
        LR,
        SKDH,
    ),
    Metric(
        "terminal_double_support_s",
        "s",
        "Terminal double support",
        "Contralateral IC to this side's FC (pre-swing).",
        LR,
        SKDH,
    ),
    Metric(
        "terminal_double_support_pct",
        "%",
        "Terminal double support",
        "Terminal double support as % of stride.",
        LR,
        SKDH,
    ),
    Metric(
        "double_support_pct",
        "%",
        "Double support",
        "Initial + terminal double support as % of stride time, mean over both sides' strides.",
        ("both",),
        SKDH,
    ),
)

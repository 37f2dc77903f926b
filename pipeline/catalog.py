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
    reference: str = ""  # where the definition comes from (reference/gait_reference.md section and paper)


_METRICS: tuple[Metric, ...] = (
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

_SKDH = "reference §2.5 (skdh gait definitions)"
_LR = ("left", "right")
_TEMPORAL = (
    Metric(
        "single_support_time_s",
        "s",
        "Single support",
        "This side alone on the ground: contralateral FC to contralateral IC (= the contralateral swing).",
        _LR,
        _SKDH,
    ),
    Metric("single_support_pct", "%", "Single support", "Single support time as % of stride time.", _LR, _SKDH),
    Metric(
        "initial_double_support_s",
        "s",
        "Initial double support",
        "This side's IC to the contralateral FC (loading response).",
        _LR,
        _SKDH,
    ),
    Metric(
        "initial_double_support_pct",
        "%",
        "Initial double support",
        "Initial double support as % of stride.",
        _LR,
        _SKDH,
    ),
    Metric(
        "terminal_double_support_s",
        "s",
        "Terminal double support",
        "Contralateral IC to this side's FC (pre-swing).",
        _LR,
        _SKDH,
    ),
    Metric(
        "terminal_double_support_pct",
        "%",
        "Terminal double support",
        "Terminal double support as % of stride.",
        _LR,
        _SKDH,
    ),
    Metric(
        "double_support_pct",
        "%",
        "Double support",
        "Initial + terminal double support as % of stride time, mean over both sides' strides.",
        ("both",),
        _SKDH,
    ),
)

_PELVIC = (
    Metric(
        "pelvic_hike_deg",
        "deg",
        "Pelvic hike (swing side)",
        "During this side's swing, the highest rise of its hip (frontal-plane obliquity) above its level at the "
        "contralateral IC; normally 1–2° (the hip returns to level by terminal swing), larger with hip hiking.",
        _LR,
        "Kerrigan et al. 2000, Am J Phys Med Rehabil 79:247 (hip hiking = swing-side pelvic elevation in swing)",
    ),
    Metric(
        "pelvic_tilt_rel_standing_deg",
        "deg",
        "Mean pelvic tilt vs standing",
        "Mean pelvic tilt over each stride minus the tilt of a standing calibration (anterior +); NaN without a "
        "standing period, since a single sacral IMU's absolute tilt carries the mounting offset.",
        ("both",),
        "reference §2.4 and §3 (PMC4216872: report mean tilt only after a standing calibration)",
    ),
)

_ROBINSON = "Robinson et al. 1987 (reference §3)"
_PLOTNIK = "Plotnik et al. 2007, Exp Brain Res 181:561 (reference §3)"
_SR_REF = "Patterson et al. 2010, Gait Posture 31:241 (reference §3)"


def _symmetry(prefix: str, label: str, *, with_si: bool) -> tuple[Metric, ...]:
    """SI (unless already catalogued), GA and SR of a per-side metric's session means."""
    si = Metric(
        f"{prefix}_si_pct",
        "%",
        f"{label} symmetry index",
        f"Robinson SI of mean {label.lower()}, (R − L) / mean(R, L) × 100; negative: smaller right value.",
        ("both",),
        _ROBINSON,
    )
    return (
        *((si,) if with_si else ()),
        *(
            Metric(
                f"{prefix}_ga_pct",
                "%",
                f"{label} gait asymmetry",
                f"Plotnik GA of mean {label.lower()}, 100 × |ln(smaller / larger)|; 0 is symmetric, unsigned.",
                ("both",),
                _PLOTNIK,
            ),
            Metric(
                f"{prefix}_sr",
                "1",
                f"{label} symmetry ratio",
                f"Mean right / mean left {label.lower()}; 1 is symmetric, < 1: smaller right value.",
                ("both",),
                _SR_REF,
            ),
        ),
    )


_SYMMETRY = (
    *_symmetry("stance_time", "Stance time", with_si=False),
    *_symmetry("swing_time", "Swing time", with_si=True),
    *_symmetry("step_time", "Step time", with_si=False),
    *_symmetry("single_support_time", "Single support time", with_si=True),
    *_symmetry("thigh_range", "Thigh range", with_si=False),
)

_MENZ = "Smidt 1971; Menz et al. 2003, Gait Posture 18:35 (reference §3; skdh HarmonicRatioV)"
_PASCIUTO = "Pasciuto et al. 2017, J Biomech 53:84 (reference §3)"
_MOE = "Moe-Nilssen & Helbostad 2004, J Biomech 37:121 (reference §3)"
_AXIS = {"v": "vertical", "ap": "antero-posterior", "ml": "medio-lateral"}
_TRUNK = (
    *(
        Metric(
            f"harmonic_ratio_{a}",
            "1",
            f"Harmonic ratio ({a.upper()})",
            f"Pelvis {_AXIS[a]} acceleration, per stride (IC to IC of the same side) DFT, harmonics 1–20: "
            + ("Σ odd / Σ even amplitudes" if a == "ml" else "Σ even / Σ odd amplitudes")
            + "; higher = more alike consecutive steps. Mean over valid strides.",
            ("both",),
            _MENZ,
        )
        for a in ("v", "ap", "ml")
    ),
    *(
        Metric(
            f"ihr_{a}_pct",
            "%",
            f"Improved harmonic ratio ({a.upper()})",
            f"Pelvis {_AXIS[a]} acceleration, per stride: 100 × power of the "
            + ("odd" if a == "ml" else "even")
            + " harmonics / power of harmonics 1–20; 100 % = identical steps. Mean over valid strides.",
            ("both",),
            _PASCIUTO,
        )
        for a in ("v", "ap", "ml")
    ),
    *(
        m
        for a in ("v", "ap")
        for m in (
            Metric(
                f"step_regularity_{a}",
                "1",
                f"Step regularity ({a.upper()})",
                f"Unbiased autocorrelation of pelvis {_AXIS[a]} acceleration over straight bouts, normalised by "
                "lag 0, at its peak near one step (Ad1); 1 = identical consecutive steps.",
                ("both",),
                _MOE,
            ),
            Metric(
                f"stride_regularity_{a}",
                "1",
                f"Stride regularity ({a.upper()})",
                "As step regularity, at the peak near one stride (Ad2); 1 = identical consecutive strides.",
                ("both",),
                _MOE,
            ),
            Metric(
                f"step_symmetry_{a}",
                "1",
                f"Step symmetry ({a.upper()})",
                "Ad1 / Ad2 of the unbiased autocorrelation; 1 = left and right steps alike, lower = asymmetric.",
                ("both",),
                _MOE,
            ),
        )
    ),
    Metric(
        "phase_coordination_index_pct",
        "%",
        "Phase coordination index",
        "φ = 360° × (contralateral IC − IC) / stride for the longer-swing leg's strides; "
        "PCI = CV(φ) + 100 × mean|φ − 180°| / 180°; 0 = perfectly anti-phased, consistent steps.",
        ("both",),
        _PLOTNIK,
    ),
)

# Spatial metrics (pipeline.spatial) need the subject's leg length (pipeline.subjects): NaN with n = 0 for a
# subject without a profile. When the profile names the affected side, every per-side metric above is also
# reported with side "involved" / "uninvolved", plus the involved-oriented SIs below.
_ZIJLSTRA = "Zijlstra & Hof 2003, Gait Posture 18:1; mobgap SlZijlstra K = 4.587/4 (reference §2.1)"
_COMPASS = "compass-gait geometry 2·L·sin(Δθ/2) of the inter-thigh angle at IC (pipeline.spatial docstring)"
_SPATIAL = (
    Metric(
        "walking_speed_m_s",
        "m/s",
        "Walking speed",
        "Mean over valid strides of stride length / stride time, stride length from the combined step lengths "
        "(mean of the pelvis and thigh estimates where both exist; the method is in the quality record).",
        ("both",),
        f"{_ZIJLSTRA}; {_COMPASS}",
    ),
    Metric(
        "walking_speed_pelvis_m_s",
        "m/s",
        "Walking speed (pelvis)",
        "As walking speed, step length from the inverted pendulum: K·2·√(2·l·h − h²), h the per-step vertical "
        "excursion of the pelvis sensor, l its height (else the leg length).",
        ("both",),
        _ZIJLSTRA,
    ),
    Metric(
        "walking_speed_thigh_m_s",
        "m/s",
        "Walking speed (thighs)",
        "As walking speed, step length 2·L·sin(Δθ/2) from the angle Δθ between the thighs at IC, L the leg length; "
        "ignores trailing-knee flexion, so it reads short.",
        ("both",),
        _COMPASS,
    ),
    Metric(
        "stride_length_m",
        "m",
        "Stride length",
        "Sum of the two step lengths (combined estimate) inside the stride, mean over valid strides.",
        ("left", "right", "both"),
        f"{_ZIJLSTRA}; {_COMPASS}",
    ),
    Metric(
        "step_length_m",
        "m",
        "Step length",
        "Distance covered by the step ending at this side's IC (this foot leading), combined estimate.",
        ("left", "right"),
        f"{_ZIJLSTRA}; {_COMPASS}",
    ),
    Metric(
        "step_length_si_pct",
        "%",
        "Step-length symmetry index",
        "Robinson SI of mean step length, (R − L) / mean(R, L) × 100; negative: shorter right step.",
        ("both",),
        _ROBINSON,
    ),
)

_INVOLVED_REF = "reference §3: for knee pain, SI = (involved − uninvolved) / mean (Robinson et al. 1987)"
_INVOLVED = tuple(
    Metric(
        f"{prefix}_si_involved_pct",
        "%",
        f"{label} SI (involved)",
        f"(involved − uninvolved) / mean × 100 of mean {label.lower()}; negative: smaller on the painful side. "
        "NaN when the subject profile names no affected side.",
        ("both",),
        _INVOLVED_REF,
    )
    for prefix, label in (
        ("step_time", "Step time"),
        ("stance_time", "Stance time"),
        ("swing_time", "Swing time"),
        ("single_support_time", "Single support time"),
        ("thigh_range", "Thigh range"),
        ("step_length", "Step length"),
    )
)

_COMPENSATION_INDICATORS = (
    Metric(
        "initial_double_support_si_pct",
        "%",
        "Loading (initial double support) SI",
        "Robinson SI of mean initial double support (IC to contralateral FC, weight acceptance); negative: "
        "shorter loading on the right, i.e. weight moved off the right leg sooner.",
        ("both",),
        _ROBINSON,
    ),
)

_METRICS = (*_METRICS, *_TEMPORAL, *_PELVIC, *_SYMMETRY, *_TRUNK, *_SPATIAL, *_INVOLVED, *_COMPENSATION_INDICATORS)

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

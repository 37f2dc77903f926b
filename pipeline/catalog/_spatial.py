"""Step and stride length, walking speed."""

from __future__ import annotations

from pipeline.catalog._metric import ROBINSON, Metric

_ZIJLSTRA = "Zijlstra & Hof 2003, Gait Posture 18:1; mobgap SlZijlstra K = 4.587/4 (reference §2.1)"
_COMPASS = (
    "compass-gait geometry 2·L·sin(Δθ/2) of the inter-thigh angle at IC, × 1.15 fitted against 25 real walkers' "
    "foot navigation (pipeline.spatial docstring; docs/validation §t)"
)
SPATIAL = (
    Metric(
        "walking_speed_m_s",
        "m/s",
        "Walking speed",
        "Mean over valid strides of stride length / stride time, stride length from the combined step lengths "
        "(the pelvis pendulum whenever the session's pelvis gives step lengths, else the thighs; the method is in "
        "the quality record).",
        ("both",),
        f"{_ZIJLSTRA}; {_COMPASS}",
    ),
    Metric(
        "walking_speed_pelvis_m_s",
        "m/s",
        "Walking speed (pelvis)",
        "As walking speed, step length from the inverted pendulum: K·2·√(2·l·h − h²), h the per-step vertical "
        "excursion of the pelvis sensor, l its height (else the lower back's height estimated from the stature or leg "
        "length, pipeline.subjects).",
        ("both",),
        _ZIJLSTRA,
    ),
    Metric(
        "walking_speed_thigh_m_s",
        "m/s",
        "Walking speed (thighs)",
        "As walking speed, step length K_c·2·L·sin(Δθ/2) from the angle Δθ between the thighs at IC, L the leg "
        "length, K_c = 1.15 a population factor for the feet and soft tissue the chord misses (imugait ≥ 1.13; "
        "the bare chord before). One walker can read ±12 % off; a calibration walk removes that.",
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
        ROBINSON,
    ),
)

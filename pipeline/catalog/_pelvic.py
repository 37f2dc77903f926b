"""Pelvic and thigh angle metrics."""

from __future__ import annotations

from pipeline.catalog._metric import LR, Metric

PELVIC = (
    Metric(
        "pelvic_hike_deg",
        "deg",
        "Pelvic hike (swing side)",
        "During this side's swing, the highest rise of its hip (frontal-plane obliquity) above its level at the "
        "contralateral IC; normally 1–2° (the hip returns to level by terminal swing), larger with hip hiking.",
        LR,
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

"""Pelvis-acceleration metrics that need no laterality: harmonic ratios, regularity, PCI."""

from __future__ import annotations

from pipeline.catalog._metric import PLOTNIK, Metric

_MENZ = "Smidt 1971; Menz et al. 2003, Gait Posture 18:35 (reference §3; skdh HarmonicRatioV)"
_PASCIUTO = "Pasciuto et al. 2017, J Biomech 53:84 (reference §3)"
_MOE = "Moe-Nilssen & Helbostad 2004, J Biomech 37:121 (reference §3)"
_AXIS = {"v": "vertical", "ap": "antero-posterior", "ml": "medio-lateral"}
TRUNK = (
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
        PLOTNIK,
    ),
)

# Spatial metrics (pipeline.spatial) need the subject's leg length (pipeline.subjects): NaN with n = 0 for a
# subject without a profile. When the profile names the affected side, every per-side metric above is also
# reported with side "involved" / "uninvolved", plus the involved-oriented SIs below.

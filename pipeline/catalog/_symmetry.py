"""Left/right symmetry: index, ratio, gait asymmetry; involved vs uninvolved; loading."""

from __future__ import annotations

from pipeline.catalog._metric import PLOTNIK, ROBINSON, SR_REF, Metric


def _symmetry(prefix: str, label: str, *, with_si: bool) -> tuple[Metric, ...]:
    """SI (unless already catalogued), GA and SR of a per-side metric's session means."""
    si = Metric(
        f"{prefix}_si_pct",
        "%",
        f"{label} symmetry index",
        f"Robinson SI of mean {label.lower()}, (R − L) / mean(R, L) × 100; negative: smaller right value.",
        ("both",),
        ROBINSON,
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
                PLOTNIK,
            ),
            Metric(
                f"{prefix}_sr",
                "1",
                f"{label} symmetry ratio",
                f"Mean right / mean left {label.lower()}; 1 is symmetric, < 1: smaller right value.",
                ("both",),
                SR_REF,
            ),
        ),
    )


SYMMETRY = (
    *_symmetry("stance_time", "Stance time", with_si=False),
    *_symmetry("swing_time", "Swing time", with_si=True),
    *_symmetry("step_time", "Step time", with_si=False),
    *_symmetry("single_support_time", "Single support time", with_si=True),
    *_symmetry("thigh_range", "Thigh range", with_si=False),
)

_INVOLVED_REF = "reference §3: for knee pain, SI = (involved − uninvolved) / mean (Robinson et al. 1987)"
INVOLVED = tuple(
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

COMPENSATION_INDICATORS = (
    Metric(
        "initial_double_support_si_pct",
        "%",
        "Loading (initial double support) SI",
        "Robinson SI of mean initial double support (IC to contralateral FC, weight acceptance); negative: "
        "shorter loading on the right, i.e. weight moved off the right leg sooner.",
        ("both",),
        ROBINSON,
    ),
)

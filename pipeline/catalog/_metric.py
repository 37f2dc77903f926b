"""The record every catalogue entry is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """One session metric."""

    name: str
    unit: str
    label: str
    definition: str
    sides: tuple[str, ...]  # which of "left", "right", "both" it is reported for
    reference: str = ""  # where the definition comes from (reference/gait_reference.md section and paper)


# References shared by several topics
SKDH = "reference §2.5 (skdh gait definitions)"
LR = ("left", "right")
ROBINSON = "Robinson et al. 1987 (reference §3)"
PLOTNIK = "Plotnik et al. 2007, Exp Brain Res 181:561 (reference §3)"
SR_REF = "Patterson et al. 2010, Gait Posture 31:241 (reference §3)"

"""Turning: how often, how wide, how long and how fast the walker turned (pelvis heading, or thighs without one)."""

from __future__ import annotations

from pipeline.catalog._metric import Metric

_TURNS = (
    "El-Gohary et al. 2014, Sensors 14:356 (turns of ≥ 45° from the lumbar yaw rate; mobgap TdElGohary); "
    "definition of start, end and angle: pipeline.turns"
)
TURNS = (
    Metric(
        "turns_n",
        "turns",
        "Turns",
        "Turns of at least 45° (heading change from the pelvis sensor, or the thighs without one) during the session, "
        "walking or not.",
        ("both",),
        _TURNS,
    ),
    Metric(
        "turn_angle_deg",
        "deg",
        "Turn angle",
        "Mean |heading change| of the complete turns (no long sensor gap, not cut by the recording's ends).",
        ("both",),
        _TURNS,
    ),
    Metric(
        "turn_duration_s",
        "s",
        "Turn duration",
        "Mean time of the complete turns from 5 % to 95 % of their heading change; longer for a turn of the same "
        "angle = slower, more cautious turning.",
        ("both",),
        _TURNS,
    ),
    Metric(
        "turn_rate_dps",
        "deg/s",
        "Turning rate",
        "Mean over the complete turns of |angle| / duration.",
        ("both",),
        _TURNS,
    ),
)

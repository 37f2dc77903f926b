"""Profiles between two gaits, for simulating a rehabilitation: severity 1 is the impaired profile, 0 healthy."""

from __future__ import annotations

import dataclasses
from typing import Any

from sensors.sim.gait_model import GaitProfile


def _mix(a: Any, b: Any, severity: float) -> Any:
    if isinstance(a, bool) or a is None or b is None:
        return b if severity >= 0.5 else a
    if isinstance(a, int | float) and isinstance(b, int | float):
        return (1.0 - severity) * a + severity * b
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return tuple(_mix(x, y, severity) for x, y in zip(a, b, strict=True))
    return b if severity >= 0.5 else a


def blend_profiles(healthy: GaitProfile, impaired: GaitProfile, severity: float, *, name: str) -> GaitProfile:
    """Linear interpolation of every numeric parameter: ``healthy + severity · (impaired − healthy)``.

    Non-numeric parameters (sensor mountings, turn schedule) come from the nearer end. ``severity`` must lie in
    [0, 1]; the result is validated like any profile.
    """
    if not 0.0 <= severity <= 1.0:
        raise ValueError(f"severity must be within [0, 1], got {severity}")
    changes = {
        f.name: _mix(getattr(healthy, f.name), getattr(impaired, f.name), severity)
        for f in dataclasses.fields(GaitProfile)
        if f.name not in ("name", "sensors")
    }
    return dataclasses.replace(healthy, name=name, **changes)

"""Blended profiles for a simulated rehabilitation."""

from __future__ import annotations

import pytest

from sensors.sim.gait_model import GaitModel, get_profile
from sensors.sim.progression import blend_profiles


def test_end_points_and_midpoint() -> None:
    healthy, antalgic = get_profile("healthy"), get_profile("antalgic_right")
    assert blend_profiles(healthy, antalgic, 0.0, name="h").stance_pct == pytest.approx(healthy.stance_pct)
    assert blend_profiles(healthy, antalgic, 1.0, name="a").stance_pct == pytest.approx(antalgic.stance_pct)
    mid = blend_profiles(healthy, antalgic, 0.5, name="m")
    assert mid.cadence_spm == pytest.approx((healthy.cadence_spm + antalgic.cadence_spm) / 2)
    assert mid.name == "m"


def test_asymmetry_grows_with_severity() -> None:
    healthy, antalgic = get_profile("healthy"), get_profile("antalgic_right")
    si = [
        GaitModel(blend_profiles(healthy, antalgic, s, name="x"), duration_s=40.0).truth.summary()["stance_time_si_pct"]
        for s in (0.0, 0.4, 1.0)
    ]
    assert si[0] > si[1] > si[2]


def test_severity_out_of_range() -> None:
    with pytest.raises(ValueError, match="severity must be within"):
        blend_profiles(get_profile("healthy"), get_profile("antalgic_right"), 1.5, name="x")

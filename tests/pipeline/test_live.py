"""Live cadence for the recording view."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.live import live_cadence
from sensors.sim.gait_model import GaitModel, get_profile

FS = 104.0


@pytest.mark.parametrize(("site", "per_stride"), [("left_thigh", True), ("right_thigh", True), ("pelvis", False)])
@pytest.mark.parametrize("profile", ["healthy", "antalgic_right"])
def test_cadence_from_simulated_walking(site: str, per_stride: bool, profile: str) -> None:
    model = GaitModel(get_profile(profile), duration_s=30.0, seed=2)
    t = np.arange(int(10 * FS)) / FS + 15.0
    acc, gyr = model.imu(site, t, rng=np.random.default_rng(0))
    signal = np.linalg.norm(gyr if per_stride else acc, axis=1)
    got = live_cadence(signal, FS, per_stride=per_stride)
    assert got.cadence_spm == pytest.approx(model.truth.summary()["cadence_spm"], rel=0.05)
    assert got.confidence > 0.3


def test_standing_still_gives_nan() -> None:
    rng = np.random.default_rng(0)
    got = live_cadence(9.81 + 0.01 * rng.standard_normal(1000), FS, per_stride=False)
    assert np.isnan(got.cadence_spm)


def test_too_short_or_empty() -> None:
    assert np.isnan(live_cadence(np.ones(10), FS, per_stride=True).cadence_spm)
    assert np.isnan(live_cadence(np.full(2000, np.nan), FS, per_stride=True).cadence_spm)

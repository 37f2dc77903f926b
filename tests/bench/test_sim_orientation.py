"""bench/sim_orientation.py's version swap: the earlier pipelines' angle functions really replace the current ones
for the duration of the block (the bench's "1.11" and "1.10" rows are only as true as this)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import sim_orientation as so  # noqa: E402

from pipeline import orientation  # noqa: E402


@pytest.mark.parametrize(("version", "removes_bias"), [("1.12", True), ("1.11", False), ("1.10", False)])
def test_each_version_fuses_the_thigh_as_that_pipeline_did(version: str, removes_bias: bool) -> None:
    n, fs = 1000, 100.0
    acc = np.tile([0.0, 0.0, 9.81], (n, 1))  # a still thigh, gyro offset (0.5, 0.3, 0) deg/s
    gyr = np.tile([0.5, 0.3, 0.0], (n, 1))
    valid = np.ones(n, dtype=bool)
    with so.angle_functions(version):
        th = orientation.thigh_angles(acc, gyr, valid, fs, side="left", config=orientation.OrientationConfig())
    if removes_bias:
        np.testing.assert_allclose(th.gyro_bias_dps[:2], [0.5, 0.3], atol=0.05)
    else:
        assert not th.gyro_bias_dps.any()
    assert orientation.thigh_angles is not so._thigh_1_10  # restored after the block
    assert orientation.track_up_and_bias is so._TRACK_UP_AND_BIAS

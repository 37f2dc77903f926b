"""Automatic sensor-to-segment alignment: any mounting is recovered from walking data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.align import AlignConfig, Alignment, align_pelvis, align_thigh, describe_mounting
from pipeline.run import load_aligned

gait_model = pytest.importorskip("sensors.sim.gait_model")
FS = 100.0


def rotation_from(q: tuple[float, float, float, float]) -> np.ndarray:
    w, x, y, z = np.asarray(q) / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


quaternions = st.tuples(*[st.floats(-1, 1) for _ in range(4)]).filter(lambda q: np.linalg.norm(q) > 0.3)


def _imu(site: str, mounting: np.ndarray, profile: str = "healthy") -> tuple[np.ndarray, np.ndarray]:
    prof = gait_model.get_profile(profile)
    sensors = dict(prof.sensors)
    sensors[site] = gait_model.SensorSpec(mounting, 0.05, 0.5)
    model = gait_model.GaitModel(gait_model.get_profile(profile, sensors=sensors), 30.0, seed=2)
    return model.imu(site, np.arange(0, 30, 1 / FS), np.random.default_rng(0))


@settings(max_examples=8, deadline=None)
@given(q=quaternions, site=st.sampled_from(["left_thigh", "right_thigh", "pelvis"]))
def test_any_mounting_is_recovered(q: tuple[float, float, float, float], site: str) -> None:
    mounting = rotation_from(q)
    acc, gyr = _imu(site, mounting)
    valid = np.ones(acc.shape[0], dtype=bool)
    if site == "pelvis":
        al = align_pelvis(acc, gyr, valid, FS, config=AlignConfig())
    else:
        al = align_thigh(acc, gyr, valid, FS, site=site, config=AlignConfig())
    # rotation @ mounting.T maps true segment axes to estimated ones; 'up' is the standing posture, so the
    # pelvis frame differs from the anatomical one by its standing tilt (10° about y).
    est = al.rotation @ mounting.T
    assert est[1, 1] > 0.98  # left is left
    assert est[0, 0] > 0.95  # forward is forward (within the standing tilt)
    assert est[2, 2] > 0.95  # up is up
    assert not al.low_confidence


def test_upside_down_thigh() -> None:
    mounting = np.diag([1.0, -1.0, -1.0]) @ np.array(gait_model.DEFAULT_MOUNTINGS["left_thigh"])
    acc, gyr = _imu("left_thigh", mounting)
    al = align_thigh(acc, gyr, np.ones(acc.shape[0], dtype=bool), FS, site="left_thigh", config=AlignConfig())
    assert np.allclose(al.rotation @ mounting.T, np.eye(3), atol=0.1)
    assert al.up_source == "still"
    assert al.stride_s == pytest.approx(120 / 108, rel=0.03)


def test_mounting_description_flags_an_upside_down_thigh() -> None:
    mounting = np.diag([1.0, -1.0, -1.0]) @ np.array(gait_model.DEFAULT_MOUNTINGS["left_thigh"])
    acc, gyr = _imu("left_thigh", mounting)
    al = align_thigh(acc, gyr, np.ones(acc.shape[0], dtype=bool), FS, site="left_thigh", config=AlignConfig())
    d = describe_mounting(al, config=AlignConfig())
    assert d["upside_down"] is True
    assert d["up"] == "+x"  # the sensor's long axis points up the thigh
    assert "upside down" in d["text"]
    normal = np.array(gait_model.DEFAULT_MOUNTINGS["left_thigh"])
    acc, gyr = _imu("left_thigh", normal)
    al = align_thigh(acc, gyr, np.ones(acc.shape[0], dtype=bool), FS, site="left_thigh", config=AlignConfig())
    d = describe_mounting(al, config=AlignConfig())
    assert d["upside_down"] is False
    assert (d["up"], d["forward"], d["left"]) == ("-x", "-y", "+z")  # x down the thigh, y backward, z lateral
    assert d["up_cos"] > 0.95


def test_mounting_description_low_confidence() -> None:
    al = Alignment("pelvis", np.eye(3), "walking", float("nan"), 0.1, True)
    d = describe_mounting(al, config=AlignConfig())
    assert d["low_confidence"] is True
    assert "LOW CONFIDENCE" in d["text"]
    assert "upside_down" not in d  # only thighs have a long axis along the segment


def test_upside_down_thigh_in_a_session(tmp_path: Path, sim_builder: Callable[..., Any]) -> None:
    mounting = np.diag([1.0, -1.0, -1.0]) @ np.array(gait_model.DEFAULT_MOUNTINGS["right_thigh"])
    sim = sim_builder(tmp_path, "healthy", duration_s=30.0, mountings={"right_thigh": mounting})
    q = load_aligned(sim.session).quality
    assert q["right_thigh.mounting"]["upside_down"] is True
    assert q["left_thigh.mounting"]["upside_down"] is False
    assert q["pelvis.mounting"]["up"] == "+x"  # sacrum sensor: x up
    assert not q["right_thigh.mounting"]["low_confidence"]

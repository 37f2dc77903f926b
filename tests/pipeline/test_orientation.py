"""The up-vector filter: an exact strapdown product and a complementary filter that holds through swings and turns."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from pipeline.orientation import heading_rate_zxy, strapdown, track_up_strapdown

FS = 100.0
G = 9.81


def test_the_strapdown_scan_is_the_sequential_product_of_the_gyro_increments() -> None:
    rng = np.random.default_rng(4)
    gyr = rng.normal(0.0, 200.0, (1000, 3))  # deg/s, 1000 samples: ten passes of the scan, a ragged last one
    expected = Rotation.identity()
    quats = [expected.as_quat()]
    for before, after in zip(gyr[:-1], gyr[1:], strict=True):  # each interval turns by its mean rate (trapezoid)
        expected = expected * Rotation.from_rotvec(np.deg2rad(before + after) / 2 / FS)
        quats.append(expected.as_quat())
    scanned = strapdown(gyr, FS)
    angle = (scanned.inv() * Rotation.from_quat(np.array(quats))).magnitude()
    assert np.rad2deg(angle).max() < 1e-9


def test_a_single_sample_has_no_rotation_to_scan() -> None:
    assert strapdown(np.array([[10.0, 0.0, 0.0]]), FS).magnitude()[0] == 0.0
    up = track_up_strapdown(np.array([[0.0, 0.0, G]]), np.zeros((1, 3)), FS, cutoff_hz=0.05)
    np.testing.assert_allclose(up, [[0.0, 0.0, 1.0]])


def _swinging_turning_thigh(
    seconds: float, *, abduction_deg: float, turn_dps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A thigh swinging ±25° at 0.9 Hz, its abduction swinging ±3° a quarter cycle later, while the walker turns at
    ``turn_dps``: ``R = Rz(heading)·Rx(abduction)·Ry(θ)``, with body-frame gyro, specific force (plus a
    step-frequency horizontal acceleration that fools the accelerometer) and the true 'up' in the body frame, all in
    closed form."""
    t = np.arange(int(seconds * FS)) / FS
    cycle = 2 * np.pi * 0.9
    theta, dtheta = np.deg2rad(25.0) * np.sin(cycle * t), np.deg2rad(25.0) * cycle * np.cos(cycle * t)
    phi = np.deg2rad(abduction_deg + 3.0 * np.cos(cycle * t))
    dphi = -np.deg2rad(3.0) * cycle * np.sin(cycle * t)
    dpsi = np.deg2rad(turn_dps)
    up = np.stack([-np.sin(theta) * np.cos(phi), np.sin(phi), np.cos(theta) * np.cos(phi)], axis=1)
    x_axis_rate = np.stack([np.cos(theta), np.zeros_like(t), np.sin(theta)], axis=1)  # Ry(θ)ᵀ·e_x
    gyr = dpsi * up + dphi[:, None] * x_axis_rate + dtheta[:, None] * np.array([0.0, 1.0, 0.0])
    R = Rotation.from_euler("ZXY", np.stack([dpsi * t, phi, theta], axis=1))
    sway = 2.0 * np.sin(2 * cycle * t)  # m/s², world x
    acc_world = np.stack([sway, np.zeros_like(t), np.full_like(t, G)], axis=1)
    return R.apply(acc_world, inverse=True), np.rad2deg(gyr), up


@pytest.mark.parametrize("turn_dps", [0.0, 90.0])
def test_up_holds_through_a_large_swing_and_a_turn(turn_dps: float) -> None:
    acc, gyr, truth = _swinging_turning_thigh(30.0, abduction_deg=5.0, turn_dps=turn_dps)
    up = track_up_strapdown(acc, gyr, FS, cutoff_hz=0.05)
    inner = slice(int(5 * FS), int(25 * FS))  # away from the filter's ends
    error_deg = np.rad2deg(np.arccos(np.clip(np.einsum("ij,ij->i", up, truth), -1.0, 1.0)))[inner]
    assert error_deg.max() < 0.5
    frontal = np.rad2deg(np.arcsin(up[inner, 1]))
    truth_frontal = np.rad2deg(np.arcsin(truth[inner, 1]))
    assert np.abs(frontal - truth_frontal).max() < 0.5  # the abduction holds while the thigh swings and turns


@pytest.mark.parametrize("turn_dps", [0.0, 30.0])
def test_the_heading_rate_is_the_sequences_vertical_angle_not_the_rotation_about_the_vertical(turn_dps: float) -> None:
    acc, gyr, truth = _swinging_turning_thigh(20.0, abduction_deg=5.0, turn_dps=turn_dps)
    heading = np.cumsum(heading_rate_zxy(truth, gyr)) / FS
    about_vertical = np.cumsum(np.einsum("ij,ij->i", truth, gyr)) / FS
    expected = turn_dps * np.arange(heading.size) / FS
    assert np.abs(heading - expected).max() < 0.5
    # flexion and abduction a quarter cycle apart rectify: sum over 18 strides of the loop's area, ±25° × ±3°
    assert abs(about_vertical[-1] - expected[-1]) > 10.0

"""The up-vector filter: an exact strapdown product and a complementary filter that holds through swings and turns."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from pipeline.orientation import OrientationConfig, gyro_bias_dps, heading_rate_zxy, strapdown, track_up_strapdown

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
    for config in (None, OrientationConfig()):
        up = track_up_strapdown(np.array([[0.0, 0.0, G]]), np.zeros((1, 3)), FS, cutoff_hz=0.05, config=config)
        np.testing.assert_allclose(up, [[0.0, 0.0, 1.0]])
    assert not gyro_bias_dps(np.array([[0.0, 0.0, G]] * 2), np.ones((2, 3)), FS, config=OrientationConfig()).any()


def test_a_recording_shorter_than_the_bias_window_is_one_window() -> None:
    _, acc, gyr, truth = _u_turns(seconds=8.0)  # 8 s: shorter than one bias window
    up = track_up_strapdown(acc, gyr + 0.2, FS, cutoff_hz=0.05, config=OrientationConfig())
    assert np.isfinite(up).all()
    assert np.rad2deg(np.arccos(np.clip(np.einsum("ij,ij->i", up, truth), -1.0, 1.0))).max() < 1.0


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


def _u_turns(seconds: float = 60.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A pelvis tilted 10° forward, swaying at step frequency, walking at 1 m/s with a 2 s U-turn to the left at the
    end of every 12 s (raised-cosine heading rate, peak 180°/s) and its centripetal acceleration, all in closed
    form: time, body-frame specific force and gyro, the true 'up' in the body frame."""
    t = np.arange(int(seconds * FS)) / FS
    into_turn = t % 12.0 - 10.0
    rate = np.where(into_turn > 0, np.pi / 2.0 * (1 - np.cos(np.pi * into_turn)), 0.0)  # rad/s, π per turn
    step = 2 * np.pi * 1.8 * t
    sway = np.stack([1.5 * np.sin(step), 0.8 * np.sin(step / 2), 2.0 * np.sin(step + 1.0)], axis=1)  # m/s²
    centripetal = np.stack([np.zeros_like(t), 1.0 * rate, np.zeros_like(t)], axis=1)  # v·ψ', to the left
    heading = Rotation.from_euler("z", np.cumsum(rate)[:, None] / FS)
    tilt = Rotation.from_euler("y", np.deg2rad(10.0))
    body = heading * tilt
    acc = body.apply(heading.apply(sway + centripetal) + [0.0, 0.0, G], inverse=True)
    gyr = np.rad2deg(tilt.apply(np.stack([np.zeros_like(t), np.zeros_like(t), rate], axis=1), inverse=True))
    return t, acc, gyr, body.apply(np.tile([0.0, 0.0, 1.0], (t.size, 1)), inverse=True)


@pytest.mark.parametrize("bias_dps", [(0.0, 0.0, 0.0), (0.3, -0.25, 0.2)])
def test_the_gyro_bias_is_found_in_the_directions_gravity_sees(bias_dps: tuple[float, float, float]) -> None:
    _, acc, gyr, up = _u_turns()
    bias = np.array(bias_dps)
    found = gyro_bias_dps(acc, gyr + bias, FS, config=OrientationConfig())
    vertical = up.mean(axis=0) / np.linalg.norm(up.mean(axis=0))
    error = found - bias
    horizontal = error - (error @ vertical) * vertical  # a bias about gravity does not move 'up': not observed
    assert np.linalg.norm(horizontal) < 0.1  # deg/s


def test_up_holds_after_u_turns_with_a_biased_gyro() -> None:
    t, acc, gyr, truth = _u_turns()
    gyr = gyr + np.array([0.3, -0.25, 0.2])
    inner = (t > 5.0) & (t < 55.0)

    def worst_error(up: np.ndarray) -> float:
        return float(np.rad2deg(np.arccos(np.clip(np.einsum("ij,ij->i", up, truth), -1.0, 1.0)))[inner].max())

    plain = track_up_strapdown(acc, gyr, FS, cutoff_hz=0.05)  # pipeline 1.11's filter: no bias, no turning weight
    assert worst_error(plain) > 1.2  # the turns' centripetal acceleration and the bias lean it
    up = track_up_strapdown(acc, gyr, FS, cutoff_hz=0.05, config=OrientationConfig())
    assert worst_error(up) < 0.7
    after = np.any([(t > end + 0.5) & (t < end + 2.7) for end in np.arange(12.0, 60.0, 12.0)], axis=0)
    tilt_error = np.rad2deg(np.arctan2(-up[:, 0], up[:, 2]) - np.arctan2(-truth[:, 0], truth[:, 2]))
    assert abs(float(tilt_error[after].mean())) < 0.3


def test_a_sensor_without_data_has_no_bias_and_no_nan() -> None:
    """An all-invalid stream reaches the filter gap-filled with zeros (``_signal.fill_invalid``): no direction is
    observed, so no bias is fitted, and nothing turns into NaN."""
    zeros = np.zeros((500, 3))
    assert not gyro_bias_dps(zeros, zeros, FS, config=OrientationConfig()).any()
    assert np.isfinite(track_up_strapdown(zeros, zeros, FS, cutoff_hz=0.05, config=OrientationConfig())).all()

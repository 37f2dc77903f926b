"""Pelvis sensor-to-segment alignment (pipeline.align.align_pelvis): known answers on the simulator for mountings
turned about the vertical, upside down and tilted, with turns; a large obliquity (gravity leaking into the lateral
acceleration); per-bout consensus; NaN and short input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.align import AlignConfig, align_pelvis, estimate_pelvis_forward, gravity_up
from pipeline.errors import InsufficientDataError
from pipeline.orientation import OrientationConfig, pelvis_angles

gait_model = pytest.importorskip("sensors.sim.gait_model")
FS = 100.0
DEFAULT = np.array(gait_model.DEFAULT_MOUNTINGS["pelvis"], dtype=np.float64)


def _rot(axis: str, deg: float) -> np.ndarray:
    c, s = np.cos(np.deg2rad(deg)), np.sin(np.deg2rad(deg))
    return {
        "x": np.array([[1, 0, 0], [0, c, -s], [0, s, c]]),
        "y": np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]),
        "z": np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]),
    }[axis]


def _walk(
    mounting: np.ndarray, profile: str = "healthy", duration_s: float = 40.0, seed: int = 0, **overrides: object
) -> tuple[np.ndarray, np.ndarray, object]:
    prof = gait_model.get_profile(profile, **overrides)
    sensors = dict(prof.sensors)
    sensors["pelvis"] = gait_model.SensorSpec(mounting, 0.05, 0.5)
    model = gait_model.GaitModel(gait_model.get_profile(profile, sensors=sensors, **overrides), duration_s, seed=seed)
    acc, gyr = model.imu("pelvis", np.arange(0, duration_s, 1 / FS), np.random.default_rng(seed))
    return acc, gyr, model


def _stride_range(angle: np.ndarray, model: object) -> float:
    """Mean per-stride (true left IC to left IC) peak-to-peak of ``angle``, strides after the first 8 s."""
    truth = model.truth  # type: ignore[attr-defined]
    t = truth.events_t_s[(truth.events_kind == "IC") & (truth.events_side == "left")]
    i = np.rint(t[t > 8.0] * FS).astype(int)
    i = i[i < angle.size]
    return float(np.mean([np.ptp(angle[a : b + 1]) for a, b in zip(i[:-1], i[1:], strict=True)]))


def _true_axes_obliquity(acc: np.ndarray, gyr: np.ndarray, mounting: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Obliquity with the true mounting's forward axis and the estimate's 'up' (the standing posture)."""
    forward = mounting.T @ np.array([1.0, 0.0, 0.0])
    forward = forward - up * (forward @ up)
    forward /= np.linalg.norm(forward)
    r = np.vstack([forward, np.cross(up, forward), up])
    valid = np.ones(acc.shape[0], dtype=bool)
    return pelvis_angles(acc @ r.T, gyr @ r.T, valid, FS, config=OrientationConfig()).obliquity_deg


def _errors(rotation: np.ndarray, mounting: np.ndarray) -> tuple[float, float, float]:
    """Heading error of the forward axis (deg, signed, in the horizontal plane), and cosines left·left, up·up."""
    est = rotation @ mounting.T  # estimated segment axes in true segment axes
    return float(np.degrees(np.arctan2(est[0, 1], est[0, 0]))), float(est[1, 1]), float(est[2, 2])


MOUNTINGS = {
    "default (sacrum: x up, y left, z backward)": DEFAULT,
    "turned 90° about the vertical": _rot("z", 90) @ DEFAULT,
    "turned 180° about the vertical": _rot("z", 180) @ DEFAULT,
    "turned -90° about the vertical": _rot("z", -90) @ DEFAULT,
    "upside down (180° about the forward axis)": _rot("x", 180) @ DEFAULT,
    "tilted 30° (about the lateral axis)": _rot("y", 30) @ DEFAULT,
    "tilted 30° sideways and turned 45°": _rot("z", 45) @ _rot("x", 30) @ DEFAULT,
}


@pytest.mark.parametrize("name", list(MOUNTINGS))
def test_known_mountings_with_turns(name: str) -> None:
    mounting = MOUNTINGS[name]
    acc, gyr, _ = _walk(mounting, duration_s=36.0, turn_every_s=12.0)
    al = align_pelvis(acc, gyr, np.ones(acc.shape[0], dtype=bool), FS, config=AlignConfig())
    heading, left, up = _errors(al.rotation, mounting)
    assert abs(heading) < 3.0, name
    assert left > 0.98, name
    assert up > 0.98, name  # up within the standing tilt (10°), left not flipped
    assert not al.low_confidence
    assert al.stride_s == pytest.approx(120 / 108, rel=0.05)


@settings(max_examples=4, deadline=None)
@given(q=st.tuples(*[st.floats(-1, 1) for _ in range(4)]).filter(lambda q: np.linalg.norm(q) > 0.3))
def test_antalgic_any_mounting_with_turns(q: tuple[float, float, float, float]) -> None:
    w, x, y, z = np.asarray(q) / np.linalg.norm(q)
    mounting = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
    acc, gyr, model = _walk(mounting, "antalgic_right", 36.0, turn_every_s=12.0)
    valid = np.ones(acc.shape[0], dtype=bool)
    al = align_pelvis(acc, gyr, valid, FS, config=AlignConfig())
    heading, left, _ = _errors(al.rotation, mounting)
    # the asymmetric walker's step-periodic signature leans ~8° (docs/validation/README.md, pelvis alignment)
    assert abs(heading) < 12.0
    assert left > 0.97
    ours = pelvis_angles(al.apply(acc), al.apply(gyr), valid, FS, config=OrientationConfig()).obliquity_deg
    true = _true_axes_obliquity(acc, gyr, mounting, al.rotation[2])
    assert _stride_range(ours, model) == pytest.approx(_stride_range(true, model), abs=0.5)
    assert _stride_range(ours, model) == pytest.approx(model.truth.summary()["obliquity_range_deg"], abs=1.0)


def test_large_obliquity_gravity_leak() -> None:
    # 16° peak-to-peak obliquity plus 3° drops: g·sin(obliquity) ≈ 1.6 m/s² leaks into the lateral axis, more than
    # twice the sway acceleration (≈ 0.6 m/s²); the axes and the obliquity range must still come out right
    mounting = _rot("z", 135) @ _rot("y", 20) @ DEFAULT
    acc, gyr, model = _walk(mounting, obliquity_range_deg=16.0, pelvic_drop_extra_deg=(3.0, 3.0), turn_every_s=12.0)
    valid = np.ones(acc.shape[0], dtype=bool)
    al = align_pelvis(acc, gyr, valid, FS, config=AlignConfig())
    heading, left, up = _errors(al.rotation, mounting)
    assert abs(heading) < 5.0
    assert left > 0.98
    assert up > 0.98
    ours = pelvis_angles(al.apply(acc), al.apply(gyr), valid, FS, config=OrientationConfig()).obliquity_deg
    true = _true_axes_obliquity(acc, gyr, mounting, al.rotation[2])
    assert _stride_range(ours, model) == pytest.approx(_stride_range(true, model), abs=0.3)


def test_bouts_separated_by_standing_agree() -> None:
    # two walks with a 4 s stand between them and different headings (turns): one body-fixed axis, two bouts
    mounting = _rot("z", -120) @ DEFAULT
    a1, g1, _ = _walk(mounting, duration_s=25.0, standing_s=3.0, turn_every_s=10.0)
    a2, g2, _ = _walk(mounting, duration_s=25.0, standing_s=4.0, seed=1)
    acc, gyr = np.vstack([a1, a2]), np.vstack([g1, g2])
    valid = np.ones(acc.shape[0], dtype=bool)
    config = AlignConfig()
    up, _, still = gravity_up(acc, gyr, valid, FS, config=config)
    est = estimate_pelvis_forward(acc, gyr, valid & ~still, FS, up, config=config)
    assert est is not None
    assert est.n_bouts >= 2
    assert est.bout_agreement == pytest.approx(1.0)
    true_forward = mounting.T @ np.array([1.0, 0.0, 0.0])
    true_forward -= up * (up @ true_forward)
    assert np.degrees(np.arccos(est.forward @ true_forward / np.linalg.norm(true_forward))) < 3.0


def test_nan_gap_and_nan_marked_valid() -> None:
    mounting = _rot("z", 90) @ DEFAULT
    acc, gyr, _ = _walk(mounting)
    valid = np.ones(acc.shape[0], dtype=bool)
    acc[1500:1800] = np.nan  # a gap the caller marked invalid
    valid[1500:1800] = False
    gyr[2500:2520] = np.nan  # NaN the caller did not mark: treated as invalid, not propagated
    al = align_pelvis(acc, gyr, valid, FS, config=AlignConfig())
    assert np.isfinite(al.rotation).all()
    heading, left, _ = _errors(al.rotation, mounting)
    assert abs(heading) < 3.0
    assert left > 0.98


def test_short_and_still_input() -> None:
    acc, gyr, _ = _walk(DEFAULT, duration_s=12.0)
    with pytest.raises(InsufficientDataError):  # under a second of valid samples
        align_pelvis(acc[:50], gyr[:50], np.ones(50, dtype=bool), FS, config=AlignConfig())
    with pytest.raises(InsufficientDataError):  # standing only (the model stands still for 3 s)
        align_pelvis(acc[:250], gyr[:250], np.ones(250, dtype=bool), FS, config=AlignConfig())
    nan = np.full((600, 3), np.nan)
    with pytest.raises(InsufficientDataError):  # all NaN
        align_pelvis(nan, nan, np.ones(600, dtype=bool), FS, config=AlignConfig())
    # 3 s standing + 4 s of walking: shorter than a window; an answer (flagged if unsure) or a clear error
    n = 700
    try:
        al = align_pelvis(acc[:n], gyr[:n], np.ones(n, dtype=bool), FS, config=AlignConfig())
    except InsufficientDataError:
        return
    assert np.isfinite(al.rotation).all()
    assert np.allclose(al.rotation @ al.rotation.T, np.eye(3), atol=1e-9)


def test_walking_windows_filtered_in_groups_equal_each_window_filtered_alone() -> None:
    """`_pelvis_windows` filters windows that share a step lag together; each must match filtering it on its own,
    edge windows (clipped padding) included."""
    from scipy import integrate

    from pipeline import _signal as sig
    from pipeline.align import _half_stride_signature, _pelvis_windows

    rng = np.random.default_rng(3)
    n, config = 3000, AlignConfig()
    t = np.arange(n) / FS
    step_hz = np.where(t < 15.0, 1.8, 2.1)  # two step lags: two groups at least
    vertical = 2.0 * np.sin(2 * np.pi * np.cumsum(step_hz) / FS) + 0.3 * rng.standard_normal(n)
    h_acc, h_gyr = rng.standard_normal((n, 2)), rng.standard_normal((n, 2))
    yaw = np.sin(2 * np.pi * 0.9 * t) + 0.1 * rng.standard_normal(n)
    wins = _pelvis_windows(h_acc, h_gyr, vertical, yaw, np.ones(n, dtype=bool), FS, config)
    assert len(wins) > 10
    assert wins[0].start == 0  # its padding is clipped at the start
    assert wins[-1].start + int(config.window_s * FS) == n  # and this one's at the end
    assert len({w.step for w in wins}) >= 2
    w, pad = int(config.window_s * FS), int(config.window_pad_s * FS)
    for win in wins:
        a = win.start
        lo, hi = max(0, a - pad), min(n, a + w + pad)
        keep = slice(a - lo, a - lo + w)
        f = FS / win.step
        wide = (config.signature_highpass * f, min(config.signature_lowpass_hz, 0.45 * FS))
        acc_w = sig.butter(h_acc[lo:hi], FS, wide, "bandpass")[keep]
        gyr_w = sig.butter(h_gyr[lo:hi], FS, wide, "bandpass")[keep]
        signature = _half_stride_signature(acc_w, win.step) - _half_stride_signature(gyr_w, win.step)
        v = vertical[lo:hi]
        velocity = integrate.cumulative_trapezoid(v - v.mean(), dx=1.0 / FS, initial=0.0)
        np.testing.assert_allclose(win.signature, signature, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(win.step_acc, sig.butter(h_acc[lo:hi], FS, (0.5 * f, 1.5 * f), "bandpass")[keep])
        np.testing.assert_allclose(win.step_vel, sig.butter(velocity, FS, (0.5 * f, 1.5 * f), "bandpass")[keep])
        np.testing.assert_allclose(win.stride_acc, sig.butter(h_acc[lo:hi], FS, (0.3 * f, 0.7 * f), "bandpass")[keep])
        np.testing.assert_allclose(win.stride_yaw, sig.butter(yaw[lo:hi], FS, (0.3 * f, 0.7 * f), "bandpass")[keep])

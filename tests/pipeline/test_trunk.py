"""Trunk metrics: harmonic ratios, unbiased autocorrelation regularity, PCI; synthetic known answers and simulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import trunk
from pipeline.run import ProcessResult, process_session

FS = 100.0
T = 1.1  # stride time, s


def _grid(duration_s: float = 60.0) -> np.ndarray:
    return np.arange(int(duration_s * FS)) / FS


def _strides(t0: float = 1.0, duration_s: float = 60.0) -> tuple[np.ndarray, np.ndarray]:
    ic = np.arange(t0, duration_s - T, T / 2)  # pooled ICs, alternating sides
    return ic[:-2], ic[2:]


def _identical_steps(t: np.ndarray) -> np.ndarray:
    """V and AP repeat every step (even harmonics only), ML every stride (odd harmonics only)."""
    w = 2 * np.pi * t / T
    v = np.cos(2 * w) + 0.4 * np.cos(4 * w + 0.3)
    ap = np.sin(2 * w) + 0.2 * np.cos(6 * w)
    ml = np.cos(w) + 0.3 * np.cos(3 * w + 0.5)
    return np.column_stack((v, ap, ml))


def _alternating_steps(t: np.ndarray) -> np.ndarray:
    """Every other step is about half as strong (a limp) and the ML sway is lopsided."""
    acc = _identical_steps(t)
    w = 2 * np.pi * t / T
    acc[:, :2] *= (1 + 0.3 * np.cos(w))[:, None]
    acc[:, 2] += 0.3 * np.cos(2 * w)
    return acc


def test_identical_steps_give_perfect_symmetry() -> None:
    t = _grid()
    start, end = _strides()
    acc = _identical_steps(t)
    hr = trunk.harmonic_ratios(acc, FS, start, end)
    assert np.all(hr.hr > 50)  # odd (even for ML) harmonics vanish: HR is large
    assert np.allclose(hr.ihr_pct, 100.0, atol=0.1)
    reg = trunk.regularity(acc, FS, start, end)
    assert np.allclose(reg.step_regularity, 1.0, atol=0.02)
    assert np.allclose(reg.step_symmetry, 1.0, atol=0.01)
    assert reg.n == start.size


def test_alternating_steps_lower_every_measure() -> None:
    t = _grid()
    start, end = _strides()
    good = trunk.trunk_metrics(_identical_steps(t), FS, start, end, np.ones(start.size, dtype=bool)).summary()
    bad = trunk.trunk_metrics(_alternating_steps(t), FS, start, end, np.ones(start.size, dtype=bool)).summary()
    for axis in ("v", "ap", "ml"):
        assert bad[f"harmonic_ratio_{axis}"][0] < 10
        assert bad[f"ihr_{axis}_pct"][0] < 99.0 < good[f"ihr_{axis}_pct"][0]
    for axis in ("v", "ap"):
        assert bad[f"step_symmetry_{axis}"][0] < 0.95 < 0.99 < good[f"step_symmetry_{axis}"][0]
        assert bad[f"stride_regularity_{axis}"][0] == pytest.approx(1.0, abs=0.02)  # strides still repeat


def test_nan_samples_void_only_their_stride() -> None:
    t = _grid()
    start, end = _strides()
    acc = _identical_steps(t)
    acc[1000:1005] = np.nan
    hr = trunk.harmonic_ratios(acc, FS, start, end)
    hit = (np.ceil(start * FS) < 1005) & (np.ceil(end * FS) > 1000)
    assert hit.sum() >= 2
    assert np.isnan(hr.ihr_pct[hit]).all()
    assert np.isfinite(hr.ihr_pct[~hit]).all()
    assert trunk.regularity(acc, FS, start, end).n == start.size  # short gaps are filled for the autocorrelation


def test_too_few_strides_is_nan_with_zero_count() -> None:
    t = _grid(10.0)
    start, end = _strides(duration_s=10.0)
    reg = trunk.regularity(_identical_steps(t), FS, start[:5], end[:5])
    assert np.isnan(reg.step_symmetry).all()
    assert reg.n == 0
    summary = trunk.trunk_metrics(_identical_steps(t), FS, start, end, np.zeros(start.size, dtype=bool)).summary()
    assert np.isnan(summary["ihr_v_pct"][0])
    assert summary["ihr_v_pct"][1] == 0


@settings(max_examples=20, deadline=None)
@given(st.floats(0.0, 3.0))
def test_time_shift_leaves_trunk_metrics_unchanged(shift: float) -> None:
    t = _grid()
    start, end = _strides(t0=1.0)
    a = trunk.trunk_metrics(_identical_steps(t), FS, start, end, np.ones(start.size, dtype=bool)).summary()
    start2, end2 = _strides(t0=1.0 + shift)
    b = trunk.trunk_metrics(_identical_steps(t - shift), FS, start2, end2, np.ones(start2.size, dtype=bool)).summary()
    for key in ("ihr_v_pct", "ihr_ml_pct", "step_symmetry_v", "step_regularity_ap"):
        assert b[key][0] == pytest.approx(a[key][0], abs=0.05), key


@settings(max_examples=30, deadline=None)
@given(st.integers(5, 80), st.integers(0, 1000))
def test_unbiased_autocorrelation_matches_slow_reference(n: int, seed: int) -> None:
    x = np.random.default_rng(seed).normal(size=n)
    xc = x - x.mean()
    slow = np.array([np.dot(xc[: n - m], xc[m:]) / (n - m) for m in range(n)])
    assert np.allclose(trunk.unbiased_autocorrelation(x), slow / slow[0])


def test_body_acc_levels_a_tilted_sensor() -> None:
    t = _grid(30.0)
    w = 2 * np.pi * t / T
    free = np.column_stack((0.8 * np.sin(2 * w), 0.5 * np.cos(w), 1.5 * np.cos(2 * w)))  # world AP, ML, V
    pitch = np.deg2rad(12.0)  # pelvis tilted forward: world = Ry(pitch) @ segment
    r = np.array([[np.cos(pitch), 0, np.sin(pitch)], [0, 1, 0], [-np.sin(pitch), 0, np.cos(pitch)]])
    acc_seg = (free + [0.0, 0.0, 9.80665]) @ r  # R^T applied to row vectors
    out = trunk.body_acc(acc_seg, np.zeros_like(acc_seg), np.ones(t.size, dtype=bool), FS, config=trunk.TrunkConfig())
    for j, k in ((0, 2), (1, 0), (2, 1)):  # (V, AP, ML) against world (V, AP, ML)
        assert np.sqrt(np.mean((out[:, j] - free[:, k]) ** 2)) < 0.1


def test_phase_coordination_index_known_answers() -> None:
    assert trunk.phase_coordination_index(np.full(10, 180.0)) == (0.0, 10)
    phi = np.array([170.0, 190.0] * 5)
    want = 100 * np.std(phi, ddof=1) / 180.0 + 100 * 10 / 180
    assert trunk.phase_coordination_index(phi)[0] == pytest.approx(want)
    assert np.isnan(trunk.phase_coordination_index(np.array([180.0, np.nan]))[0])


def _value(result: ProcessResult, metric: str) -> float:
    df = result.summary.to_pandas()
    return float(df[(df.metric == metric) & (df.side == "both")].value.iloc[0])


def test_simulator_antalgic_gait_is_less_symmetric(sim_factory: Callable[..., Any]) -> None:
    healthy = process_session(sim_factory("healthy").session)
    antalgic = process_session(sim_factory("antalgic_right").session)
    # measured (seed 0): iHR_V 99.0 vs 91.6 %, HR_V 9.2 vs 2.7, step symmetry V 1.01 vs 0.90, AP 1.01 vs 0.88,
    # PCI 2.3 vs 10.0 %
    assert _value(healthy, "ihr_v_pct") > 97.0
    assert _value(healthy, "step_symmetry_v") == pytest.approx(1.0, abs=0.05)
    assert _value(antalgic, "ihr_v_pct") < _value(healthy, "ihr_v_pct") - 4.0
    assert _value(antalgic, "harmonic_ratio_v") < 0.5 * _value(healthy, "harmonic_ratio_v")
    for axis in ("v", "ap"):
        assert _value(antalgic, f"step_symmetry_{axis}") < _value(healthy, f"step_symmetry_{axis}") - 0.06
    assert _value(antalgic, "phase_coordination_index_pct") > _value(healthy, "phase_coordination_index_pct") + 4.0


def test_thighs_only_session_has_no_trunk_metrics(sim_factory: Callable[..., Any]) -> None:
    result = process_session(sim_factory("healthy", sites=("left_thigh", "right_thigh")).session)
    assert np.isnan(_value(result, "ihr_v_pct"))
    assert np.isfinite(_value(result, "phase_coordination_index_pct"))  # needs events only

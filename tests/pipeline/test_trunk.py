"""Trunk metrics: harmonic ratios, unbiased autocorrelation regularity, PCI; synthetic known answers and simulator."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import trunk, uncertainty
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
def test_lag_products_sum_to_the_unbiased_autocorrelation(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    xc = x - x.mean(axis=0)
    edges = np.union1d([0], rng.integers(0, n, size=rng.integers(0, 6)))  # any split into windows
    lags = np.arange(n + 3)  # lags past the end have no terms
    sums = trunk.lag_products(xc, edges, lags).sum(axis=0)
    slow = np.array([(xc[: n - m] * xc[m:]).sum(axis=0) / (n - m) for m in range(n)])  # Moe-Nilssen's Ad(m)
    np.testing.assert_allclose(sums[:n, :2] / sums[:n, 2:], slow, atol=1e-12)
    assert (sums[n:] == 0).all()


def _ar1(n: int, phi: float, var: float, rng: np.random.Generator) -> np.ndarray:
    """Zero-mean AR(1) series with lag-1 correlation ``phi`` and variance ``var``."""
    x = np.empty(n)
    x[0] = rng.normal(0.0, np.sqrt(var))
    e = rng.normal(0.0, np.sqrt(var * (1 - phi**2)), n)
    for k in range(1, n):  # building test data, one step at a time
        x[k] = phi * x[k - 1] + e[k]
    return x


STEP = 55  # samples: T / 2 at FS


def _noisy_steps(rng: np.random.Generator, duration_s: float = 60.0, phi: float = 0.5) -> np.ndarray:
    """V = a_k·cos, AP = b_k·sin over each 55-sample step k, plus white noise (SD 0.4).

    The step amplitudes a_k, b_k are 1 + AR(1) (variance 0.04, lag-1 correlation ``phi``), so consecutive steps
    are alike as consecutive steps are. The unbiased autocorrelation's expectation peaks at the step lag at
    ρ1 = (1 + φ·0.04) / (1 + 0.04 + 2·0.4²) and at the stride lag at ρ2 = (1 + φ²·0.04) / (same).
    """
    n = int(duration_s * FS)
    i = np.arange(n)
    k = i // STEP
    w = 2 * np.pi * i / STEP
    a, b = 1 + _ar1(k[-1] + 1, phi, 0.04, rng), 1 + _ar1(k[-1] + 1, phi, 0.04, rng)
    return np.column_stack((a[k] * np.cos(w), b[k] * np.sin(w), np.cos(w / 2))) + 0.4 * rng.normal(size=(n, 3))


def test_regularity_intervals_cover_the_known_answer() -> None:
    phi = 0.5
    truth = {"step_regularity": (1 + phi * 0.04) / 1.36, "stride_regularity": (1 + phi**2 * 0.04) / 1.36}
    start, end = _strides()
    keep = np.ones(start.size, dtype=bool)
    keep[30:34] = keep[70:74] = False  # three bouts
    start, end = start[keep], end[keep]
    rng, boot_rng = np.random.default_rng(1), np.random.default_rng(2)
    hits: dict[str, list[bool]] = {f"{name}_{axis}": [] for name in truth for axis in ("v", "ap")}
    for _ in range(150):  # 150 one-minute sessions
        result = trunk.trunk_metrics(_noisy_steps(rng, phi=phi), FS, start, end, np.ones(start.size, dtype=bool))
        boot = result.bootstrap(boot_rng, n_boot=500)
        for key, got in hits.items():
            lo, hi = uncertainty.interval(boot[key])
            got.append(lo <= truth[key.rsplit("_", 1)[0]] <= hi)
    coverage = {key: float(np.mean(h)) for key, h in hits.items()}
    # nominal 0.95; measured 0.94-0.95 (step) and 0.97-0.98 (stride: slightly wide, as the stride lag's products
    # reach two windows on and block joins split some; see TrunkResult.bootstrap for step symmetry)
    assert all(0.88 <= c <= 0.995 for c in coverage.values()), coverage
    assert "step_symmetry_v" not in boot  # no interval (TrunkResult.bootstrap says why)


def test_trunk_intervals_repeat_and_bracket_their_values() -> None:
    start, end = _strides()
    acc = _noisy_steps(np.random.default_rng(4))
    result = trunk.trunk_metrics(acc, FS, start, end, np.ones(start.size, dtype=bool))
    a = result.bootstrap(np.random.default_rng(uncertainty.SEED))
    b = result.bootstrap(np.random.default_rng(uncertainty.SEED))
    assert a.keys() == b.keys()
    for key, (value, n) in result.summary().items():
        if key.startswith("step_symmetry"):
            continue
        np.testing.assert_array_equal(a[key], b[key])
        lo, hi = uncertainty.interval(a[key])
        assert lo < value < hi, key
        assert n > 50, key


def test_ihr_intervals_cover_the_true_mean() -> None:
    rng, boot_rng = np.random.default_rng(5), np.random.default_rng(6)
    n = 80  # 40 strides a side; the stride table lists the left ones, then the right ones
    start_s = np.concatenate((np.arange(0, n, 2), np.arange(1, n, 2))) * T / 2
    empty = trunk.regularity(np.zeros((0, 3)), FS, np.zeros(0), np.zeros(0))
    hits = []
    for _ in range(300):
        # per-stride iHR around 95 %: overlapping strides (IC_i -> IC_i+2) make neighbours in time alike
        in_time = 95.0 + _ar1(n, 0.6, 4.0, rng)
        ihr = np.full((n, 3), np.nan)
        ihr[np.argsort(start_s), 0] = in_time
        valid = np.ones(n, dtype=bool)
        valid[[0, n // 2]] = False  # each side's first stride (gait initiation)
        ihr[5, 0] = np.nan  # an unusable stride
        result = trunk.TrunkResult(trunk.HarmonicRatios(ihr / 10.0, ihr), empty, valid, start_s)
        lo, hi = uncertainty.interval(result.bootstrap(boot_rng)["ihr_v_pct"])
        hits.append(lo <= 95.0 <= hi)
    coverage = float(np.mean(hits))
    # nominal 0.95; measured 0.84. Resampled in stride-table order (a side's strides, then the other's) the same
    # series cover 0.74 and as single strides 0.62: the time order keeps the neighbours' likeness in the blocks
    assert 0.80 <= coverage <= 0.99, coverage


def test_pci_intervals_cover_the_true_pci() -> None:
    mu, sd = 186.0, 5.0  # φ ~ N(186°, 5°): PCI = 100·sd/mu + 100·E|φ − 180°| / 180°
    folded = sd * np.sqrt(2 / np.pi) * np.exp(-((mu - 180) ** 2) / (2 * sd**2)) + (mu - 180) * math.erf(
        (mu - 180) / (sd * np.sqrt(2))
    )
    truth = 100 * sd / mu + 100 * folded / 180
    rng, boot_rng = np.random.default_rng(7), np.random.default_rng(8)
    hits = []
    for _ in range(300):  # 300 sessions of 40 reference-leg strides, lag-1 correlated
        phi = mu + _ar1(40, 0.3, sd**2, rng)
        assert trunk.phase_coordination_index(phi)[0] == pytest.approx(float(trunk.pci_pct(phi)))
        lo, hi = uncertainty.interval(uncertainty.bootstrap(phi, trunk.pci_pct, boot_rng))
        hits.append(lo <= truth <= hi)
    coverage = float(np.mean(hits))
    assert 0.82 <= coverage <= 0.99, coverage  # nominal 0.95; measured 0.87 (as the stride means' 0.85)


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

"""Symmetry index, ratio and gait asymmetry: known answers and invariants (swap sides, scale, equal sides)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import metrics
from pipeline.symmetry import gait_asymmetry, symmetry_index, symmetry_ratio

positive = st.floats(0.01, 100.0, allow_nan=False, allow_infinity=False)


def test_known_answers() -> None:
    assert symmetry_index(0.70, 0.75) == pytest.approx(-0.05 / 0.725 * 100)
    assert symmetry_ratio(0.70, 0.75) == pytest.approx(0.70 / 0.75)
    assert gait_asymmetry(0.45, 0.50) == pytest.approx(100 * math.log(0.50 / 0.45))
    assert isinstance(symmetry_index(1.0, 2.0), float)


def test_missing_or_undefined_values_are_nan() -> None:
    for f in (symmetry_index, symmetry_ratio, gait_asymmetry):
        assert math.isnan(f(float("nan"), 1.0))
        assert math.isnan(f(1.0, float("nan")))
    assert math.isnan(symmetry_index(1.0, -1.0))  # zero mean
    assert math.isnan(symmetry_ratio(1.0, 0.0))
    assert math.isnan(gait_asymmetry(-1.0, 1.0))


def test_vectorised_matches_scalar() -> None:
    rng = np.random.default_rng(1)
    r, l_ = rng.uniform(0.3, 1.5, 50), rng.uniform(0.3, 1.5, 50)
    r[3] = np.nan
    for f in (symmetry_index, symmetry_ratio, gait_asymmetry):
        got = np.asarray(f(r, l_))
        want = [f(float(a), float(b)) for a, b in zip(r, l_, strict=True)]
        assert np.allclose(got, want, equal_nan=True)


def test_reexported_from_metrics() -> None:
    assert metrics.symmetry_index is symmetry_index


@settings(max_examples=200)
@given(positive, positive)
def test_swapping_sides(right: float, left: float) -> None:
    assert symmetry_index(left, right) == pytest.approx(-symmetry_index(right, left), abs=1e-9)
    assert gait_asymmetry(left, right) == pytest.approx(gait_asymmetry(right, left), abs=1e-9)
    assert symmetry_ratio(left, right) == pytest.approx(1.0 / symmetry_ratio(right, left))


@settings(max_examples=200)
@given(positive, positive, st.floats(1e-3, 1e3))
def test_scaling_both_sides_changes_nothing(right: float, left: float, k: float) -> None:
    for f in (symmetry_index, symmetry_ratio, gait_asymmetry):
        assert f(k * right, k * left) == pytest.approx(f(right, left), rel=1e-9, abs=1e-9)


@settings(max_examples=100)
@given(positive)
def test_equal_sides(x: float) -> None:
    assert symmetry_index(x, x) == 0.0
    assert gait_asymmetry(x, x) == 0.0
    assert symmetry_ratio(x, x) == 1.0


@settings(max_examples=200)
@given(positive, positive)
def test_measures_agree(right: float, left: float) -> None:
    si = symmetry_index(right, left)
    assert symmetry_ratio(right, left) == pytest.approx((2 + si / 100) / (2 - si / 100))
    assert gait_asymmetry(right, left) == pytest.approx(100 * abs(math.log(symmetry_ratio(right, left))), abs=1e-9)
    assert np.sign(si) == np.sign(symmetry_ratio(right, left) - 1.0) or si == pytest.approx(0.0, abs=1e-12)

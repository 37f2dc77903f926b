"""pipeline.change: whether a change between two sessions exceeds stride sampling and walk-to-walk variation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.catalog import METRICS
from pipeline.change import (
    BEYOND_STRIDE_SAMPLING,
    BEYOND_WALK_TO_WALK,
    OVERLAP,
    WALK_TO_WALK_SD,
    WITHIN_WALK_TO_WALK,
    Z95,
    change_label,
    walk_to_walk_change,
    walk_to_walk_sd,
)

NAN = math.nan


def _interval(value: float, se: float) -> tuple[float, float]:
    return value - Z95 * se, value + Z95 * se


def test_threshold_is_the_mdc_with_each_sessions_own_stride_se():
    tau, se_a, se_b = 1.5, 0.1, 0.2
    threshold = Z95 * math.sqrt(se_a**2 + se_b**2 + 2 * tau**2)
    a = 7.0
    for diff, expected in ((threshold * 0.99, False), (threshold * 1.01, True), (-threshold * 1.01, True)):
        got = walk_to_walk_change(a, _interval(a, se_a), a + diff, _interval(a + diff, se_b), tau)
        assert bool(got) is expected
    # with τ = 0 the rule is the two sessions' stride sampling alone: MDC95 of two independent means
    assert bool(walk_to_walk_change(0.0, _interval(0.0, 1.0), 2.8, _interval(2.8, 1.0), 0.0))
    assert not bool(walk_to_walk_change(0.0, _interval(0.0, 1.0), 2.7, _interval(2.7, 1.0), 0.0))


def test_a_longer_session_needs_a_smaller_change():
    tau, a, b = 0.5, 1.0, 2.7
    short = walk_to_walk_change(a, _interval(a, 0.6), b, _interval(b, 0.6), tau)
    long = walk_to_walk_change(a, _interval(a, 0.1), b, _interval(b, 0.1), tau)
    assert not bool(short)
    assert bool(long)


def test_missing_parts_never_call_a_change():
    ok = _interval(0.0, 0.1)
    for args in (
        (NAN, ok, 10.0, ok, 0.1),
        (0.0, (NAN, 0.1), 10.0, ok, 0.1),
        (0.0, ok, 10.0, (0.0, NAN), 0.1),
        (0.0, ok, 10.0, ok, NAN),
    ):
        assert not bool(walk_to_walk_change(*args))


def test_broadcasts_over_pairs():
    x = np.array([0.0, 1.0, 10.0])
    lo, hi = x - 0.2, x + 0.2
    beyond = walk_to_walk_change(x[:, None], (lo[:, None], hi[:, None]), x[None, :], (lo[None, :], hi[None, :]), 1.0)
    assert beyond.shape == (3, 3)
    assert beyond.tolist() == [[False, False, True], [False, False, True], [True, True, False]]


def test_labels():
    # obliquity range: τ 1.5°. Intervals apart by 1° are within what a healthy walker varies; 5.5° is beyond it.
    tau = WALK_TO_WALK_SD["pelvic_obliquity_range_deg"]
    assert tau == pytest.approx(1.5)
    a = (7.0, (6.8, 7.2))
    assert change_label("pelvic_obliquity_range_deg", *a, 8.0, (7.8, 8.2)) == WITHIN_WALK_TO_WALK
    assert change_label("pelvic_obliquity_range_deg", *a, 12.5, (12.3, 12.7)) == BEYOND_WALK_TO_WALK
    assert change_label("pelvic_obliquity_range_deg", *a, 7.3, (7.2, 7.4)) == OVERLAP  # touching is not apart
    assert change_label("pelvic_obliquity_range_deg", *a, 12.5, (NAN, NAN)) == ""
    # symmetry indices: τ 0, intervals apart already say it
    assert change_label("stance_time_si_pct", -7.0, (-8.2, -5.8), -4.0, (-5.2, -2.8)) == BEYOND_WALK_TO_WALK
    # the repeated walks give nothing for the thighs: the stride-sampling wording only
    assert walk_to_walk_sd("thigh_range_deg") is None
    assert change_label("thigh_range_deg", 40.0, (39.0, 41.0), 45.0, (44.0, 46.0)) == BEYOND_STRIDE_SAMPLING


def test_involved_side_indices_share_their_index_tau():
    assert walk_to_walk_sd("step_length_si_involved_pct") == WALK_TO_WALK_SD["step_length_si_pct"]
    assert walk_to_walk_sd("stance_time_si_involved_pct") == 0.0
    assert walk_to_walk_sd("thigh_range_si_involved_pct") is None


def test_every_tau_names_a_catalogued_metric_in_its_unit():
    unknown = set(WALK_TO_WALK_SD) - set(METRICS)
    assert not unknown
    assert all(v >= 0.0 and math.isfinite(v) for v in WALK_TO_WALK_SD.values())

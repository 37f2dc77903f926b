"""Event matching and scoring: known answers, a brute-force reference, and invariants (hypothesis)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.evaluation import (
    EventScores,
    in_intervals,
    match_events,
    match_intervals,
    per_trial_mean,
    pool,
    score_events,
    summarise,
)

# Times on a 1/64 s lattice are exact in binary floating point, so shifts and differences round nowhere.
_TICK = 1.0 / 64.0
_lattice = st.lists(st.integers(0, 640), max_size=12, unique=True).map(lambda k: np.array(k) * _TICK)


def test_known_answer_counts_and_errors() -> None:
    s = score_events([1.0625, 2.3125, 5.0], [1.0, 2.0, 3.0], tolerance_s=0.25)
    assert (s.tp, s.fp, s.fn) == (1, 2, 2)
    assert s.precision == pytest.approx(1 / 3)
    assert s.recall == pytest.approx(1 / 3)
    assert s.f1 == pytest.approx(1 / 3)
    assert s.mean_error_s == pytest.approx(0.0625)
    assert s.mean_abs_error_s == pytest.approx(0.0625)
    assert math.isnan(s.sd_error_s)


def test_timing_statistics() -> None:
    s = score_events([0.9, 2.1, 3.2], [1.0, 2.0, 3.0], tolerance_s=0.5)
    assert s.f1 == 1.0
    assert s.errors_s == pytest.approx([-0.1, 0.1, 0.2])
    assert s.mean_error_s == pytest.approx(0.2 / 3)
    assert s.median_error_s == pytest.approx(0.1)
    assert s.mean_abs_error_s == pytest.approx(0.4 / 3)
    assert s.median_abs_error_s == pytest.approx(0.1)
    assert s.sd_error_s == pytest.approx(np.std([-0.1, 0.1, 0.2], ddof=1))


def test_finds_more_pairs_than_greedy_or_mutual_nearest() -> None:
    # Greedy by smallest |Δt| (and mobgap's mutual nearest neighbour) pairs 0.375↔0.5 and strands the rest.
    m = match_events([0.375, 0.875], [0.0, 0.5], tolerance_s=0.375)
    assert m.detected.tolist() == [0, 1]
    assert m.reference.tolist() == [0, 1]
    assert m.error_s.tolist() == [0.375, 0.375]


def test_prefers_the_closer_partner() -> None:
    m = match_events([0.3], [0.0, 0.4], tolerance_s=0.5)
    assert m.reference.tolist() == [1]
    assert m.error_s == pytest.approx([-0.1])


def test_tolerance_is_inclusive() -> None:
    assert score_events([0.5], [0.0], tolerance_s=0.5).tp == 1
    assert score_events([0.5], [0.0], tolerance_s=0.4375).tp == 0


def test_unsorted_inputs_index_back_into_them() -> None:
    m = match_events([3.0, 1.0, 2.0], [2.05, 0.95], tolerance_s=0.2)
    assert m.detected.tolist() == [1, 2]
    assert m.reference.tolist() == [1, 0]


def test_empty_inputs_give_nan_with_counts() -> None:
    s = score_events([], [1.0, 2.0], tolerance_s=0.5)
    assert (s.tp, s.fn, s.n_detected) == (0, 2, 0)
    assert math.isnan(s.precision)
    assert s.recall == 0.0
    assert s.f1 == 0.0
    assert math.isnan(s.mean_error_s)
    both_empty = score_events([], [], tolerance_s=0.5)
    assert math.isnan(both_empty.f1)
    assert math.isnan(both_empty.laterality_accuracy)


def test_laterality_on_pairs_only() -> None:
    s = score_events(
        [1.0, 2.0, 3.0, 9.0],
        [1.0, 2.0, 3.0],
        tolerance_s=0.1,
        detected_side=["left", "right", "right", "left"],
        reference_side=["left", "left", "right"],
    )
    assert s.n_lateral == 3
    assert s.laterality_accuracy == pytest.approx(2 / 3)


def test_laterality_skips_unknown_reference_sides() -> None:
    s = score_events(
        [1.0, 2.0], [1.0, 2.0], tolerance_s=0.1, detected_side=["left", "left"], reference_side=["", "left"]
    )
    assert s.n_lateral == 1
    assert s.laterality_accuracy == 1.0


def test_pool_is_micro_and_per_trial_mean_is_macro() -> None:
    a = score_events([1.0, 2.0], [1.0, 2.0], tolerance_s=0.1)
    b = score_events([1.0], [1.0, 2.0, 3.0, 4.0], tolerance_s=0.1)
    pooled = pool([a, b])
    assert (pooled.tp, pooled.fp, pooled.fn) == (3, 0, 3)
    assert pooled.f1 == pytest.approx(6 / 9)
    assert per_trial_mean([a, b], "f1") == pytest.approx((1.0 + 0.4) / 2)


def test_pool_refuses_mixed_tolerances() -> None:
    with pytest.raises(ValueError, match="tolerances"):
        pool([score_events([1.0], [1.0], tolerance_s=0.1), score_events([1.0], [1.0], tolerance_s=0.2)])


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="tolerance_s"):
        match_events([1.0], [1.0], tolerance_s=-1.0)
    with pytest.raises(ValueError, match="finite"):
        match_events([np.nan], [1.0], tolerance_s=0.5)


def test_in_intervals_half_open_and_closed() -> None:
    t = [0.0, 1.0, 1.5, 2.0, 3.0, 4.5]
    assert in_intervals(t, [1.0, 4.0], [2.0, 5.0]).tolist() == [False, True, True, False, False, True]
    assert in_intervals(t, [1.0, 4.0], [2.0, 5.0], closed=True).tolist() == [False, True, True, True, False, True]
    assert in_intervals(t, [0.0, 0.5], [3.0, 1.0]).tolist() == [True, True, True, True, False, False]


def test_summarise_ignores_nan() -> None:
    out = summarise([1.0, np.nan, -3.0])
    assert out["mean"] == -1.0
    assert out["mean_abs"] == 2.0
    assert out["n"] == 2


def _brute_force_pairs(det: np.ndarray, ref: np.ndarray, tol: float) -> int:
    """Largest number of one-to-one pairs within ``tol``, by trying every assignment."""
    if det.size == 0 or ref.size == 0:
        return 0
    small, large = (det, ref) if det.size <= ref.size else (ref, det)
    best = 0
    for chosen in itertools.permutations(range(large.size), small.size):
        best = max(best, int(np.sum(np.abs(small - large[list(chosen)]) <= tol)))
    return best


@settings(max_examples=60, deadline=None)
@given(
    det=st.lists(st.integers(0, 40), max_size=5, unique=True),
    ref=st.lists(st.integers(0, 40), max_size=5, unique=True),
    tol=st.integers(0, 12),
)
def test_pair_count_equals_brute_force(det: list[int], ref: list[int], tol: int) -> None:
    d, r = np.array(det) * _TICK, np.array(ref) * _TICK
    assert match_events(d, r, tolerance_s=tol * _TICK).error_s.size == _brute_force_pairs(d, r, tol * _TICK)


@settings(max_examples=100, deadline=None)
@given(ref=_lattice, det=_lattice, shift=st.integers(-640, 640), tol=st.integers(0, 40))
def test_shifting_both_lists_changes_nothing(ref: np.ndarray, det: np.ndarray, shift: int, tol: int) -> None:
    a = score_events(det, ref, tolerance_s=tol * _TICK)
    b = score_events(det + shift * _TICK, ref + shift * _TICK, tolerance_s=tol * _TICK)
    assert (a.tp, a.fp, a.fn) == (b.tp, b.fp, b.fn)
    assert np.array_equal(a.errors_s, b.errors_s)


@settings(max_examples=100, deadline=None)
@given(ref=_lattice, tol=st.integers(0, 40))
def test_perfect_detection_scores_one(ref: np.ndarray, tol: int) -> None:
    s = score_events(ref[::-1], ref, tolerance_s=tol * _TICK)
    if ref.size:
        assert s.f1 == 1.0
        assert s.mean_abs_error_s == 0.0
    else:
        assert math.isnan(s.f1)


@settings(max_examples=100, deadline=None)
@given(ref=_lattice, det=_lattice, tol_a=st.integers(0, 40), tol_b=st.integers(0, 40))
def test_more_tolerance_never_loses_a_pair(ref: np.ndarray, det: np.ndarray, tol_a: int, tol_b: int) -> None:
    lo, hi = sorted((tol_a, tol_b))
    assert score_events(det, ref, tolerance_s=lo * _TICK).tp <= score_events(det, ref, tolerance_s=hi * _TICK).tp


@settings(max_examples=100, deadline=None)
@given(ref=_lattice, det=_lattice, tol=st.integers(0, 40))
def test_swapping_roles_swaps_precision_and_recall(ref: np.ndarray, det: np.ndarray, tol: int) -> None:
    a = score_events(det, ref, tolerance_s=tol * _TICK)
    b = score_events(ref, det, tolerance_s=tol * _TICK)
    assert (a.tp, a.fp, a.fn) == (b.tp, b.fn, b.fp)
    np.testing.assert_equal(a.precision, b.recall)
    # The matching maximises the number of pairs, then minimises their total |Δt|; with ties several assignments
    # reach that optimum pair by pair differently, so the total (not each error) is what must agree.
    assert np.abs(a.errors_s).sum() == pytest.approx(np.abs(b.errors_s).sum(), abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(ref=_lattice, det=_lattice, tol=st.integers(0, 40))
def test_pairs_are_one_to_one_and_within_tolerance(ref: np.ndarray, det: np.ndarray, tol: int) -> None:
    m = match_events(det, ref, tolerance_s=tol * _TICK)
    assert np.unique(m.detected).size == m.detected.size
    assert np.unique(m.reference).size == m.reference.size
    assert np.all(np.abs(m.error_s) <= tol * _TICK)
    s = EventScores(tol * _TICK, m.n_detected, m.n_reference, m.error_s, np.zeros(0, dtype=bool))
    assert s.tp + s.fp == det.size
    assert s.tp + s.fn == ref.size


def test_bouts_match_when_they_share_80_percent_of_each() -> None:
    # reference bouts [0, 10), [20, 30), [40, 50); detections: a good match, one cut short (70 % of its
    # reference), one that runs on (the reference is 100 % of itself but only 10/13 = 77 % of the detection), and
    # an extra detection where there is no reference.
    m = match_intervals([0.5, 20.0, 40.0, 60.0], [10.0, 27.0, 53.0, 70.0], [0.0, 20.0, 40.0], [10.0, 30.0, 50.0])
    assert m.detected.tolist() == [0]
    assert m.reference.tolist() == [0]
    assert (m.n_detected, m.n_reference) == (4, 3)
    looser = match_intervals(
        [0.5, 20.0, 40.0], [10.0, 27.0, 53.0], [0.0, 20.0, 40.0], [10.0, 30.0, 50.0], min_overlap=0.7
    )
    assert looser.detected.tolist() == [0, 1, 2]
    assert looser.reference.tolist() == [0, 1, 2]


def test_bout_matching_pairs_in_reference_order_and_ignores_input_order() -> None:
    m = match_intervals([20.0, 0.0], [30.0, 10.0], [0.0, 20.0], [10.0, 30.0])
    assert m.detected.tolist() == [1, 0]
    assert m.reference.tolist() == [0, 1]


def test_bout_matching_is_one_to_one_when_detections_overlap() -> None:
    # two overlapping detections both cover the one reference: the first in input order takes it
    m = match_intervals([0.0, 0.5], [10.0, 10.0], [0.0], [10.0])
    assert m.detected.tolist() == [0]
    assert m.reference.tolist() == [0]


def test_bout_matching_rejects_ambiguous_thresholds_and_bad_intervals() -> None:
    with pytest.raises(ValueError, match="one-to-one"):
        match_intervals([0.0], [1.0], [0.0], [1.0], min_overlap=0.5)
    with pytest.raises(ValueError, match="end > start"):
        match_intervals([1.0], [1.0], [0.0], [1.0])
    with pytest.raises(ValueError, match="same length"):
        match_intervals([0.0], [1.0], [0.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="finite"):
        match_intervals([0.0], [np.nan], [0.0], [1.0])
    empty = match_intervals([], [], [0.0], [1.0])
    assert empty.detected.size == 0
    assert (empty.n_detected, empty.n_reference) == (0, 1)


@settings(deadline=None, max_examples=60)
@given(
    st.lists(st.tuples(st.integers(0, 100), st.integers(1, 30)), max_size=6),
    st.lists(st.tuples(st.integers(0, 100), st.integers(1, 30)), max_size=6),
)
def test_bout_matches_meet_the_overlap_rule_both_ways(det: list[tuple[int, int]], ref: list[tuple[int, int]]) -> None:
    ds = np.array([a for a, _ in det], dtype=float)
    de = ds + np.array([d for _, d in det], dtype=float)
    rs = np.array([a for a, _ in ref], dtype=float)
    re = rs + np.array([d for _, d in ref], dtype=float)
    m = match_intervals(ds, de, rs, re)
    assert len(set(m.detected.tolist())) == m.detected.size
    assert len(set(m.reference.tolist())) == m.reference.size
    for i, j in zip(m.detected, m.reference, strict=True):
        overlap = min(de[i], re[j]) - max(ds[i], rs[j])
        assert overlap >= 0.8 * (de[i] - ds[i])
        assert overlap >= 0.8 * (re[j] - rs[j])
    # every reference left unmatched has no detection that qualifies and is still free
    taken = set(m.detected.tolist())
    for j in set(range(rs.size)) - set(m.reference.tolist()):
        for i in set(range(ds.size)) - taken:
            overlap = min(de[i], re[j]) - max(ds[i], rs[j])
            assert not (overlap >= 0.8 * (de[i] - ds[i]) and overlap >= 0.8 * (re[j] - rs[j]))

"""bench/validate_real.py without its (unshipped) data: the check of how the reference defines bout speed."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import validate_real as vr  # noqa: E402


def _trial(
    walking_speed: list[float], stride_mean: list[float], length: list[float], duration: list[float]
) -> vr.Trial:
    n = len(walking_speed)
    empty = np.zeros(0)
    return vr.Trial(
        "HA",
        "001",
        "Test11",
        "Trial1",
        100.0,
        np.zeros((10, 3)),
        np.zeros((10, 3)),
        np.arange(n, dtype=float),
        np.arange(n, dtype=float) + np.asarray(duration),
        np.asarray(walking_speed),
        np.asarray(duration),
        empty,
        empty.astype(str),
        empty,
        empty.astype(str),
        wb_mean_stride_speed_m_s=np.asarray(stride_mean),
        wb_length_m=np.asarray(length),
    )


def test_reference_speed_definition_counts_bouts_equal_to_the_mean_stride_speed() -> None:
    # second bout: WalkingSpeed 0.412 is the mean stride speed, Length / Duration = 1.45 / 4.6 = 0.315
    trial = _trial([1.0, 0.412], [1.0, 0.412], [5.0, 1.45], [5.0, 4.6])
    line = vr.reference_speed_definition([trial])
    assert "in 2 of 2 bouts" in line
    assert "max 0.097" in line  # |0.412 − 0.3152|


def test_reference_speed_definition_reports_a_bout_that_differs() -> None:
    trial = _trial([1.0, 0.5], [1.0, 0.6], [5.0, 2.5], [5.0, 5.0])
    line = vr.reference_speed_definition([trial])
    assert "in 1 of 2 bouts" in line
    assert "max |Δ| 0.1000" in line


def test_reference_speed_definition_without_stride_speeds() -> None:
    trial = _trial([1.0], [], [], [5.0])
    assert "no bouts" in vr.reference_speed_definition([trial])


def test_bout_stride_means_use_the_strides_inside_each_bout_and_skip_stops() -> None:
    # bout 0 [0, 4]: strides 0–1.0 s (1.2 m, 1.2 m/s) and 1.0–2.2 s (1.0 m, no speed); the 2.2–6.0 s stride spans a
    # stop (3.8 s, over two of the pipeline's 1.5 s longest steps) and leaves the bout anyway.
    # Bout 1 [10, 12]: no stride inside.
    start, end = np.array([0.0, 10.0]), np.array([4.0, 12.0])
    s_start, s_end = np.array([0.0, 1.0, 2.2]), np.array([1.0, 2.2, 6.0])
    time = s_end - s_start
    speed, cadence, length = vr.bout_stride_means(
        start, end, s_start, s_end, time, np.array([1.2, 1.0, 0.3]), np.array([1.2, np.nan, 0.1])
    )
    np.testing.assert_allclose(speed, [1.2, np.nan])
    np.testing.assert_allclose(cadence, [(120 / 1.0 + 120 / 1.2) / 2, np.nan])
    np.testing.assert_allclose(length, [1.1, np.nan])


def test_bout_stride_means_leave_out_a_stride_over_two_longest_steps() -> None:
    # one 3.2 s stride inside a long bout: a stop by the pipeline's own rule, so the bout has no cadence
    _, cadence, _ = vr.bout_stride_means(
        np.array([0.0]), np.array([10.0]), np.array([1.0]), np.array([4.2]), np.array([3.2]), np.ones(1), np.ones(1)
    )
    assert np.isnan(cadence[0])


def test_bout_rows_report_each_quantity_against_its_own_reference() -> None:
    trial = _trial([1.0, 0.5], [1.0, 0.5], [5.0, 2.0], [5.0, 5.0])
    trial = vr.Trial(
        **{**trial.__dict__, "wb_cadence_spm": np.array([100.0, 80.0]), "wb_stride_length_m": np.array([1.2, 0.75])}
    )
    det = vr.Detection(
        np.zeros(0),
        np.zeros(0, dtype=str),
        np.zeros(0),
        np.zeros(0, dtype=str),
        bout_speed_m_s=np.array([1.1, 0.7]),
        bout_cadence_spm=np.array([98.0, np.nan]),
        bout_stride_length_m=np.array([1.3, 0.95]),
        bout_distance_speed_m_s=np.array([1.0, 0.5]),
    )
    scores = vr.evaluate(trial, det, with_fc=False)
    rows = {r[1]: r for r in vr.bout_rows([trial], {"imugait": [scores]})}
    speed = rows["walking speed m/s: mean of stride speeds"]
    assert speed[2:6] == ["2", "0.150", "+0.150", "25.0"]  # errors +0.1, +0.2; relative 10 % and 40 %
    cadence = rows["cadence steps/min: mean of 120 / stride time"]
    assert cadence[2:5] == ["1", "2.0", "-2.0"]  # the bout without a cadence is not counted
    distance = rows["distance / time m/s: vs Length / Duration"]
    assert distance[2:5] == ["2", "0.050", "+0.050"]  # references 1.0 and 0.4 m/s
    mixed = rows["distance / time vs mean of stride speeds (mixed)"]
    assert mixed[2:5] == ["2", "0.000", "+0.000"]


def test_reference_definition_checks_cadence_and_stride_length_too() -> None:
    trial = vr.Trial(
        **{
            **_trial([1.0, 0.5], [1.0, 0.5], [5.0, 2.0], [5.0, 5.0]).__dict__,
            "wb_cadence_spm": np.array([100.0, 80.0]),
            "wb_mean_stride_cadence_spm": np.array([100.0, 70.0]),  # second bout: not the stride mean
            "wb_stride_length_m": np.array([1.2, 0.7]),
            "wb_mean_stride_length_m": np.array([1.2, 0.7]),
        }
    )
    line = vr.reference_speed_definition([trial])
    assert "Cadence = mean of 120 / Stride_Duration in 1 of 2" in line
    assert "AverageStrideLength = mean of Stride_Length in 2 of 2" in line


def _bouts_trial(start: list[float], end: list[float], speed: list[float]) -> vr.Trial:
    trial = _trial(speed, speed, [1.0] * len(speed), [1.0] * len(speed))
    return vr.Trial(**{**trial.__dict__, "wb_start_s": np.asarray(start), "wb_end_s": np.asarray(end)})


def _own_bouts(start: list[float], end: list[float], speed: list[float]) -> vr.Detection:
    empty = np.zeros(0)
    return vr.Detection(
        empty,
        empty.astype(str),
        empty,
        empty.astype(str),
        own_bout_start_s=np.asarray(start, dtype=float),
        own_bout_end_s=np.asarray(end, dtype=float),
        own_bout_speed_m_s=np.asarray(speed, dtype=float),
    )


def test_matched_bout_rows_score_only_bouts_that_share_80_percent_both_ways() -> None:
    one = _bouts_trial([0, 20, 40, 80], [10, 30, 50, 90], [1.0, 0.5, 0.8, 1.0])
    two = _bouts_trial([0], [10], [1.0])
    # system a: +0.1 (a 95 % match), +0.4 (90 %), a match without a speed, an extra bout; +0.3 in the second trial
    a = [
        vr.evaluate(one, _own_bouts([0.5, 20, 40, 60], [10, 29, 50, 70], [1.1, 0.9, np.nan, 1.0]), with_fc=False),
        vr.evaluate(two, _own_bouts([0], [10], [1.3]), with_fc=False),
    ]
    # system b: −0.2 and +0.1, and a bout over 70 % of the 30 s one (not a match); nothing in the second trial
    b = [
        vr.evaluate(one, _own_bouts([0, 40, 20], [10, 49, 27], [0.8, 0.9, 0.5]), with_fc=False),
        vr.evaluate(two, _own_bouts([], [], []), with_fc=False),
    ]
    rows = vr.matched_bout_rows([one, two], {"a": a, "b": b})
    assert rows[0] == ["a", "5", "5", "4 (80 %)", "3", "0.267", "+0.267", "0.275 (2 trials)"]
    assert rows[1] == ["b", "5", "3", "2 (40 %)", "2", "0.150", "-0.050", "0.150 (1 trials)"]
    # the bouts both systems matched with a speed: only the first trial's first bout
    assert rows[2] == ["a (bouts all matched)", "5", "", "1 (20 %)", "1", "0.100", "+0.100", "0.100 (1 trials)"]
    assert rows[3] == ["b (bouts all matched)", "5", "", "1 (20 %)", "1", "0.200", "-0.200", "0.200 (1 trials)"]


def test_matched_bout_rows_leave_out_a_system_without_bouts() -> None:
    trial = _bouts_trial([0], [10], [1.0])
    scores = [vr.evaluate(trial, _own_bouts([], [], []), with_fc=False)]
    assert vr.matched_bout_rows([trial], {"no bouts": scores}) == []


def test_combined_rows_compare_medians_of_all_bouts_per_trial() -> None:
    one = _bouts_trial([0, 20, 40, 80], [10, 30, 50, 90], [1.0, 0.5, 0.8, 1.0])  # median 0.9
    two = _bouts_trial([0], [10], [1.0])
    # every own bout counts, paired or not, and a bout without a speed is left out of the median
    a = [
        vr.evaluate(one, _own_bouts([100, 200, 300], [110, 210, 310], [0.6, 0.7, np.nan]), with_fc=False),  # 0.65
        vr.evaluate(two, _own_bouts([0], [10], [1.3]), with_fc=False),
    ]
    b = [
        vr.evaluate(one, _own_bouts([0], [10], [1.0]), with_fc=False),
        vr.evaluate(two, _own_bouts([], [], []), with_fc=False),  # no bouts: no combined figure
    ]
    assert a[0].combined_speed_err_m_s == pytest.approx(-0.25)
    assert math.isnan(b[1].combined_speed_err_m_s)
    rows = vr.combined_rows([one, two], {"a": a, "b": b})
    assert rows[0] == ["a", "2 of 2", "0.275", "+0.025"]
    assert rows[1] == ["b", "1 of 2", "0.100", "+0.100"]

"""Scoring of bench/validate_turns.py on hand-made walks and turns."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import validate_turns as vt  # noqa: E402


def _walk() -> vt.Walk:
    hs = np.arange(1.0, 20.0, 0.5)  # alternate feet every 0.5 s
    return vt.Walk("w", "test", (1.0, 19.5), (9.0, 11.0), hs, hs[:-2], hs[2:])


def test_the_u_turn_is_the_found_turn_overlapping_it_most_and_the_rest_count_as_other_turns() -> None:
    walk = _walk()
    found = vt.Found(np.array([2.0, 8.8, 10.5, 25.0]), np.array([3.0, 10.6, 11.5, 27.0]), np.array([50, 150, 40, 90]))
    assert vt.uturn_match(found, walk.uturn) == 1  # 1.6 s of overlap against 0.5 s
    assert vt.other_turns(found, walk, 1) == (2, 0)  # the one at 25 s is after the walk
    stopping = vt.Found(np.array([18.5]), np.array([20.0]), np.array([100.0]))
    assert vt.other_turns(stopping, walk, -1) == (1, 1)  # starts within 1.5 s of the last heel strike
    nothing = vt.Found(np.array([2.0]), np.array([3.0]), np.array([90.0]))
    assert vt.uturn_match(nothing, walk.uturn) == -1
    assert vt.other_turns(nothing, walk, -1) == (1, 0)


def test_u_turn_row_reports_timing_duration_and_angle_against_the_reference() -> None:
    walk = _walk()
    found = vt.Found(np.array([8.9]), np.array([11.2]), np.array([-190.0]))
    row = vt.uturn_row("x", [walk, walk], [found, vt.Found(np.zeros(0), np.zeros(0), np.zeros(0))])
    assert row[:4] == ["x", "2", "50", "0 (0)"]
    assert row[4].startswith("-0.10")
    assert row[5].startswith("+0.20")
    assert row[6] == "2.30 (2.00)"
    assert row[7].startswith("190")
    assert row[8] == "10.0"


def test_steps_compare_our_ics_with_the_reference_heel_strikes_in_our_interval() -> None:
    walk = _walk()
    found = vt.Found(np.array([9.1]), np.array([10.6]), np.array([180.0]), steps=np.array([2.0]))
    none = np.zeros(walk.stride_start.size, dtype=bool)
    result = vt.WalkResult(walk, found, none, ~none, np.zeros(none.size))
    assert vt.step_row([result]) == ["1", "2", "3", "-1.00"]  # heel strikes at 9.5, 10.0, 10.5


def test_strides_are_grouped_by_their_distance_to_the_u_turn_and_the_walk_end() -> None:
    walk = _walk()
    groups = vt.stride_groups(walk)
    over, near, stop, far = groups.values()
    assert (over.astype(int) + near + stop + far == 1).all()  # each stride in exactly one group
    assert over[walk.stride_start == 8.5].all()  # 8.5-9.5 s crosses the U-turn's start
    assert not over[walk.stride_start == 8.0].any()  # 8-9 s ends where it begins: near
    assert near[walk.stride_start == 8.0].all()
    assert far[walk.stride_start == 6.5].all()  # ends at 7.5 s, over a second before
    assert stop[walk.stride_start == 17.5].all()  # ends at 18.5 s, in the walk's last 1.5 s (it ends at 19.5 s)
    assert far[walk.stride_start == 16.5].all()


def test_stride_rows_score_the_mask_the_validity_rule_and_how_far_strides_turned() -> None:
    walk = _walk()
    over, near, stop, far = vt.stride_groups(walk).values()
    turn_deg = np.where(over, 60.0, 2.0)
    turn_deg[np.flatnonzero(far)[0]] = 12.0  # one straight stride veers 12° and is kept
    kept = ~over & ~stop  # the U-turn's strides turn; those at the walk's end are unsteady
    result = vt.WalkResult(walk, vt.Found(np.zeros(0), np.zeros(0), np.zeros(0)), over, kept, turn_deg)
    rows = vt.stride_rows([result])
    assert [r[2] for r in rows] == ["100", "0", "0", "0"]  # left out as turning
    assert [r[3] for r in rows] == ["100", "0", "100", "0"]  # left out of the statistics
    assert [r[4] for r in rows] == ["60", "n/a", "2", "n/a"]  # heading change of those left out
    assert rows[0][5] == "n/a"
    assert rows[3][5] == "2 (12)"  # of those kept: median (max)


def test_without_data_the_bench_says_skipped(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert vt.main(["--data", str(tmp_path), "--semiogram", str(tmp_path)]) == 0
    assert "SKIPPED" in capsys.readouterr().out

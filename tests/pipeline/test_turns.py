"""Turns from the heading: synthetic headings with known turns; the simulator's 180° turns from pelvis or thighs."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from pipeline.metrics import MetricsConfig
from pipeline.orientation import PelvisAngles
from pipeline.run import PipelineConfig, load_aligned, process_session
from pipeline.schemas import STRIDES, TURNS
from pipeline.store import read_table
from pipeline.turns import TurnConfig, detect_turns, turn_summary

FS = 100.0
STRIDE_S = 1.1


def _smoothstep(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u**3 * (10.0 - 15.0 * u + 6.0 * u**2)


def _pelvis(
    duration_s: float,
    turns: Sequence[tuple[float, float, float]],
    *,
    valid: np.ndarray | None = None,
    sway_dps: float = 30.0,
) -> PelvisAngles:
    """A heading of ``(start_s, duration_s, angle_deg)`` turns plus the pelvis's stride-periodic rotation rate."""
    t = np.arange(int(duration_s * FS)) / FS
    heading = sum((angle * _smoothstep((t - t0) / d) for t0, d, angle in turns), np.zeros_like(t))
    rate = np.gradient(heading, 1.0 / FS) + sway_dps * np.sin(2 * np.pi * t / STRIDE_S)
    zeros = np.zeros_like(t)
    ok = np.ones(t.size, dtype=bool) if valid is None else valid
    return PelvisAngles(zeros, zeros, zeros, np.where(ok, rate, np.nan), zeros, ok)


def _steps(duration_s: float) -> np.ndarray:
    return np.arange(0.3, duration_s, STRIDE_S / 2)


def test_a_right_turn_is_found_with_its_angle_timing_and_steps() -> None:
    turns = detect_turns(_pelvis(30.0, [(12.0, 2.0, -90.0)]), FS, _steps(30.0))
    assert len(turns) == 1
    assert turns.direction[0] == "right"
    assert turns.angle_deg[0] == pytest.approx(-90.0, abs=3.0)
    # the smoothstep covers 5-95 % of its angle between 19 % and 81 % of its time: 12.38-13.62 s; the one-stride
    # average spreads that by less than half a stride each way
    assert 12.38 - 0.55 <= turns.start_s[0] <= 12.38 + 0.1
    assert 13.62 - 0.1 <= turns.end_s[0] <= 13.62 + 0.55
    expected_steps = np.sum((_steps(30.0) >= turns.start_s[0]) & (_steps(30.0) <= turns.end_s[0]))
    assert turns.steps[0] == expected_steps > 0
    assert turns.mean_rate_dps[0] == pytest.approx(abs(turns.angle_deg[0]) / turns.duration_s[0])
    assert bool(turns.complete[0])
    # one thigh's ICs (every other step): the other side's contacts are counted midway between them
    left_only = _steps(30.0)[::2]
    one_side = detect_turns(_pelvis(30.0, [(12.0, 2.0, -90.0)]), FS, left_only, np.full(left_only.size, "left"))
    assert one_side.steps[0] == pytest.approx(expected_steps, abs=1)
    assert one_side.steps[0] > np.sum((left_only >= one_side.start_s[0]) & (left_only <= one_side.end_s[0]))


def test_straight_walking_and_veering_are_not_turns() -> None:
    assert len(detect_turns(_pelvis(30.0, []), FS, _steps(30.0))) == 0
    assert len(detect_turns(_pelvis(30.0, [(10.0, 1.0, 30.0)]), FS, _steps(30.0))) == 0  # veering under 45°
    summary = turn_summary(detect_turns(_pelvis(30.0, []), FS))
    assert summary["turns_n"] == (0.0, 0)
    value, n = summary["turn_duration_s"]
    assert math.isnan(value)
    assert n == 0


def test_a_slow_stretch_of_a_turn_under_the_threshold_stays_in_it() -> None:
    # a quick 90°, and from its last half second 60° more over 8 s (peak 14°/s, under the 20°/s threshold)
    pelvis = _pelvis(40.0, [(10.0, 1.5, 90.0), (11.0, 8.0, 60.0)])
    turns = detect_turns(pelvis, FS, _steps(40.0))
    assert len(turns) == 1
    assert turns.angle_deg[0] == pytest.approx(150.0, abs=6.0)  # the slow turn's last few degrees are under 5°/s
    assert 16.0 < turns.end_s[0] < 17.5  # 95 % of 150° is reached at 16.8 s
    cut = detect_turns(pelvis, FS, _steps(40.0), config=TurnConfig(hold_dps=20.0))  # without the hysteresis
    assert cut.angle_deg[0] < 130.0


def test_a_hesitation_inside_a_turn_does_not_split_it_but_a_walk_between_turns_does() -> None:
    hesitant = detect_turns(_pelvis(40.0, [(10.0, 1.5, 90.0), (12.0, 1.5, 90.0)]), FS)
    assert len(hesitant) == 1
    assert hesitant.angle_deg[0] == pytest.approx(180.0, abs=5.0)
    apart = detect_turns(_pelvis(40.0, [(10.0, 1.5, 90.0), (20.0, 1.5, 90.0)]), FS)
    assert len(apart) == 2
    back = detect_turns(_pelvis(40.0, [(10.0, 1.5, 90.0), (12.0, 1.5, -90.0)]), FS)  # a zig-zag: two turns
    assert back.direction.tolist() == ["left", "right"]


def test_a_long_gap_or_the_recording_edge_marks_a_turn_incomplete_short_gaps_do_not() -> None:
    n = int(30.0 * FS)
    short = np.ones(n, dtype=bool)
    short[int(12.5 * FS) : int(12.58 * FS)] = False  # one lost notification
    turn = [(12.0, 2.0, 180.0)]
    assert bool(detect_turns(_pelvis(30.0, turn, valid=short), FS).complete[0])
    long = np.ones(n, dtype=bool)
    long[int(12.5 * FS) : int(13.5 * FS)] = False
    gapped = detect_turns(_pelvis(30.0, turn, valid=long), FS)
    assert len(gapped) == 1
    assert not bool(gapped.complete[0])
    at_start = detect_turns(_pelvis(10.0, [(-0.5, 2.0, 180.0)]), FS)
    assert len(at_start) == 1
    assert not bool(at_start.complete[0])
    summary = turn_summary(gapped)
    assert summary["turns_n"] == (1.0, 1)
    assert summary["turn_angle_deg"][1] == 0


def test_too_short_or_all_invalid_input_gives_no_turns() -> None:
    assert len(detect_turns(_pelvis(0.03, []), FS)) == 0
    nothing = np.zeros(int(20 * FS), dtype=bool)
    assert len(detect_turns(_pelvis(20.0, [(8.0, 2.0, 180.0)], valid=nothing), FS)) == 0


@pytest.mark.parametrize(
    ("sites", "tol_deg"),
    [(("pelvis",), 3.0), (("left_thigh", "right_thigh"), 3.0), (("right_thigh",), 3.0)],
    ids=["pelvis", "thighs", "one thigh"],
)
def test_simulated_u_turns_are_found_with_their_angle_inside_their_truth(
    sim_factory: Callable[..., Any], sites: tuple[str, ...], tol_deg: float
) -> None:
    sim = sim_factory("antalgic_right", sites=sites, duration_s=70.0, seed=2, turn_every_s=12.0)
    result = process_session(sim.session)
    table = read_table(sim.session.derived_path("turns"), TURNS).to_pandas()
    truth = np.asarray(sim.model.truth.turns)
    assert len(table) == len(truth) == 5
    for (a, b), row in zip(truth, table.itertuples(), strict=True):
        assert row.direction == "left"  # the simulator turns left
        assert row.angle_deg == pytest.approx(180.0, abs=tol_deg)
        assert a - 0.2 <= row.start_s < row.end_s <= b + 0.2  # the truth is the whole smoothstep
        assert row.steps >= 2
        assert row.complete
    summary = result.summary.to_pandas().set_index("metric")
    assert summary.loc["turns_n", "value"] == 5
    assert summary.loc["turn_angle_deg", "value"] == pytest.approx(180.0, abs=tol_deg / 2)
    source = {"pelvis": "pelvis", "left_thigh": "thighs", "right_thigh": "right thigh"}[sites[0]]
    assert result.quality["heading_source"] == source


def test_the_thighs_frontal_angle_holds_through_turns(sim_factory: Callable[..., Any]) -> None:
    # a turn's rotation about the vertical is, in the swinging thigh's frame, partly a rotation about its x axis; an
    # up vector integrated about the mean attitude (pipeline <= 1.10) read it as abduction, 8-13 deg for seconds after
    sim = sim_factory("healthy", sites=("left_thigh", "right_thigh"), duration_s=45.0, seed=3, turn_every_s=12.0)
    aligned = load_aligned(sim.session)
    t = aligned.t_s
    truth_turns = np.asarray(sim.model.truth.turns)
    after_turns = np.any([(t > b + 0.5) & (t < b + 2.7) for _, b in truth_turns], axis=0)
    straight = (t > 5.0) & ~np.any([(t > a - 0.5) & (t < b + 5.0) for a, b in truth_turns], axis=0)
    for side, thigh in aligned.thighs.items():
        error = thigh.frontal_deg - sim.model.thigh_angles_deg(side, t)[:, 1]
        error -= np.nanmedian(error[straight])  # the mean-posture reference
        assert np.nanmax(np.abs(error[straight])) < 2.0, side
        assert abs(np.nanmean(error[after_turns])) < 1.5, side
    process_session(sim.session)
    angles = read_table(sim.session.derived_path("turns"), TURNS).to_pandas()["angle_deg"].to_numpy()
    assert angles.size == 3
    assert np.abs(angles - 180.0).max() < 4.0


def test_thighs_only_strides_in_a_turn_are_left_out_of_the_statistics(sim_factory: Callable[..., Any]) -> None:
    sim = sim_factory("healthy", sites=("left_thigh", "right_thigh"), duration_s=45.0, seed=3, turn_every_s=12.0)
    truth = np.asarray(sim.model.truth.turns)
    valid_in_turn = {}
    for name, metrics_config in (("mask", MetricsConfig()), ("no mask", MetricsConfig(turn_rate_dps=math.inf))):
        process_session(sim.session, config=PipelineConfig(metrics=metrics_config))
        strides = read_table(sim.session.derived_path("strides"), STRIDES).to_pandas()
        start, end, valid = (strides[c].to_numpy() for c in ("start_s", "end_s", "valid"))
        in_turn = np.any([(end > a) & (start < b) for a, b in truth], axis=0)
        assert in_turn.sum() >= 6
        valid_in_turn[name] = int(valid[in_turn].sum())
        if name == "mask":
            assert valid[~in_turn].mean() > 0.6
    assert valid_in_turn == {"mask": 0, "no mask": valid_in_turn["no mask"]}
    assert valid_in_turn["no mask"] > 0  # the mask, not another rule, leaves them out

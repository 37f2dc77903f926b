"""Thigh/pelvis reconciliation: agreement, swapped thigh sensors, thigh dropouts filled from the pelvis."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipeline._crosscheck import CrossCheckConfig, agreement, reconcile, swap_verdict
from pipeline.events import make_events
from pipeline.run import load_aligned, process_session

FS = 100.0


def _alternating(t0: float = 1.0, n: int = 20, step: float = 0.55, first: str = "left", source: str = "x") -> Any:
    t = t0 + step * np.arange(n)
    other = "right" if first == "left" else "left"
    side = np.where(np.arange(n) % 2 == 0, first, other)
    return make_events(t, side, np.full(n, "IC"), np.full(n, source), FS)


def test_agreement_and_swap_verdict_known_answer() -> None:
    thigh = _alternating()
    pelvis = make_events(thigh.t_s + 0.08, thigh.side, thigh.kind, np.full(len(thigh), "pelvis"), FS)
    stats = agreement(thigh, pelvis, 0.25)
    assert stats["matched_fraction"] == 1.0
    assert stats["median_offset_ms"] == pytest.approx(80.0, abs=0.5)
    assert stats["side_agreement"] == 1.0
    assert swap_verdict(stats, 2, CrossCheckConfig()) == "ok"
    flipped = make_events(pelvis.t_s, np.where(pelvis.side == "left", "right", "left"), pelvis.kind, pelvis.source, FS)
    assert swap_verdict(agreement(thigh, flipped, 0.25), 2, CrossCheckConfig()) == "swapped"
    assert swap_verdict(agreement(thigh, flipped, 0.25), 1, CrossCheckConfig()) == "unverifiable"
    far = make_events(pelvis.t_s + 1.0 / 3, pelvis.side, pelvis.kind, pelvis.source, FS)
    few = agreement(_alternating(n=4), far, 0.1)
    assert swap_verdict(few, 2, CrossCheckConfig()) == "undecided"


def test_reconcile_without_pelvis_or_thighs() -> None:
    thigh = _alternating()
    ev, _, q = reconcile(thigh, None, {}, FS)
    assert q["thigh_swap_check"] == "unverifiable"
    assert not q["thighs_swapped"]
    assert len(ev) == len(thigh)
    ev, _, q = reconcile(None, None, {}, FS)
    assert len(ev) == 0
    assert q["thigh_swap_check"] == "unverifiable"


def _swap_files(session: Any) -> None:
    left, right = session.raw_path("left_thigh"), session.raw_path("right_thigh")
    tmp = left.with_suffix(".tmp")
    left.rename(tmp)
    right.rename(left)
    tmp.rename(right)


def test_swapped_thigh_files_are_detected_and_corrected(tmp_path: Path, sim_builder: Callable[..., Any]) -> None:
    sim = sim_builder(tmp_path, "antalgic_right", duration_s=40.0, seed=2)
    _swap_files(sim.session)
    aligned = load_aligned(sim.session)
    q = aligned.quality
    assert q["thighs_swapped"] is True
    assert q["thigh_swap_check"] == "swapped"
    assert q["crosscheck"]["side_agreement"] >= 0.9  # after the correction
    truth = sim.model.truth
    for side in ("left", "right"):
        est = aligned.events.select(side, "IC")
        true = truth.events_t_s[(truth.events_side == side) & (truth.events_kind == "IC")]
        near = np.abs(est[:, None] - true[None, :]).min(axis=1)
        assert np.mean(near < 0.05) >= 0.9, side
    # the (true) right thigh moves less (ROM × 0.8): its range sits under "right" again
    result = process_session(sim.session)
    df = result.summary.to_pandas()
    si = float(df[(df.metric == "thigh_range_si_pct") & (df.side == "both")].value.iloc[0])
    assert si < -10


def test_swap_unverifiable_without_pelvis(tmp_path: Path, sim_builder: Callable[..., Any]) -> None:
    sim = sim_builder(tmp_path, "healthy", duration_s=30.0, sites=("left_thigh", "right_thigh"))
    _swap_files(sim.session)
    q = load_aligned(sim.session).quality
    assert q["thigh_swap_check"] == "unverifiable"
    assert q["thighs_swapped"] is False


def test_thigh_dropout_is_filled_from_the_pelvis(tmp_path: Path, sim_builder: Callable[..., Any]) -> None:
    sim = sim_builder(tmp_path / "full", "healthy", duration_s=40.0, seed=5)
    lost = sim_builder(tmp_path / "lost", "healthy", duration_s=40.0, seed=5, sites=("left_thigh",), nan_at=(20, 26))
    shutil.copy(lost.session.raw_path("left_thigh"), sim.session.raw_path("left_thigh"))
    aligned = load_aligned(sim.session)
    fills = aligned.quality["dropout_fills"]
    assert len(fills) == 1
    assert fills[0]["side"] == "left"
    assert fills[0]["start_s"] == pytest.approx(20.0, abs=0.3)
    assert fills[0]["end_s"] == pytest.approx(26.0, abs=0.3)
    ev = aligned.events
    in_gap = (ev.side == "left") & (ev.t_s > 20.3) & (ev.t_s < 25.7)
    assert in_gap.sum() >= 8  # ≈ 5 strides: ICs and FCs
    assert set(ev.source[in_gap].tolist()) == {"pelvis"}
    assert "pelvis" in aligned.quality["event_sources"]
    ic = np.sort(ev.select("left", "IC"))
    assert np.diff(ic).min() > 0.8  # no duplicate contacts at the gap edges
    assert np.diff(ic).max() < 1.5  # and no stride missing

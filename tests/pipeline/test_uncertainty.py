"""Within-session intervals: they cover the true mean as often as they claim, also for correlated strides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import uncertainty
from pipeline.events import make_events
from pipeline.metrics import session_summary, stride_table
from pipeline.run import process_session
from pipeline.subjects import involved_rows
from tests.pipeline.test_metrics import FS, synthetic_events


def _ar1(n: int, phi: float, rng: np.random.Generator) -> np.ndarray:
    """Stride times with lag-1 correlation ``phi`` around 1.1 s (SD 0.03 s), as consecutive strides are."""
    e = rng.normal(0.0, 0.03 * np.sqrt(1 - phi**2), n)
    x = np.empty(n)
    x[0] = rng.normal(0.0, 0.03)
    for k in range(1, n):  # building test data, one stride at a time
        x[k] = phi * x[k - 1] + e[k]
    return 1.1 + x


@pytest.mark.parametrize(("phi", "floor"), [(0.0, 0.90), (0.5, 0.82)])
def test_intervals_cover_the_true_mean(phi: float, floor: float) -> None:
    rng = np.random.default_rng(1)
    boot_rng = np.random.default_rng(2)
    hits = []
    for _ in range(300):  # 300 simulated sessions of 40 strides
        lo, hi = uncertainty.interval(uncertainty.bootstrap_means(_ar1(40, phi, rng), boot_rng))
        hits.append(lo <= 1.1 <= hi)
    coverage = float(np.mean(hits))
    # nominal 0.95; measured 0.94 independent, 0.85 with lag-1 correlation 0.5, where resampling single strides
    # (no blocks) covers only 0.74
    assert floor <= coverage <= 0.99, coverage


def test_block_bootstrap_widens_for_correlated_strides() -> None:
    rng = np.random.default_rng(3)
    x = _ar1(60, 0.7, rng)
    block = uncertainty.interval(uncertainty.bootstrap_means(x, np.random.default_rng(0)))
    # the same values with the order destroyed: no correlation left for the blocks to keep
    shuffled = uncertainty.interval(uncertainty.bootstrap_means(rng.permutation(x), np.random.default_rng(0)))
    assert block[1] - block[0] > 1.2 * (shuffled[1] - shuffled[0])


def test_resample_indices_are_wrapped_blocks() -> None:
    idx = uncertainty.resample_indices(27, np.random.default_rng(0), n_boot=50)
    assert idx.shape == (50, 27)
    assert uncertainty.block_length(27) == 3
    steps = np.diff(idx[:, :3], axis=1) % 27
    assert (steps == 1).all()  # each block is three consecutive strides, wrapping at the end


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.integers(0, 1000))
def test_resampled_sums_match_summing_the_resampled_rows(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3, 2))
    bounds = np.union1d([0, n], rng.integers(1, max(n, 2), size=rng.integers(0, 5)) % n)  # rising, from 0 to n
    idx = uncertainty.resample_indices(n, np.random.default_rng(seed), n_boot=20)
    slow = np.stack([np.add.reduceat(x[i], bounds[:-1], axis=0) for i in idx])
    fast = uncertainty.resampled_sums(x, bounds, uncertainty.block_starts(n, np.random.default_rng(seed), 20))
    np.testing.assert_allclose(fast, slow, atol=1e-12)


def test_too_few_values_give_no_interval() -> None:
    rng = np.random.default_rng(0)
    assert all(np.isnan(uncertainty.interval(uncertainty.bootstrap_means(np.array([1.0, np.nan]), rng))))
    assert all(np.isnan(uncertainty.interval(np.zeros(0))))


def test_summary_intervals_bracket_their_values_and_repeat() -> None:
    ev = synthetic_events(stance=(0.75, 0.70))
    jitter = np.random.default_rng(5).normal(0.0, 0.01, ev.t_s.size)
    ev = make_events(ev.t_s + jitter, ev.side, ev.kind, ev.source, FS)
    a = session_summary(stride_table(ev, FS, 3000))
    b = session_summary(stride_table(ev, FS, 3000))
    np.testing.assert_array_equal([(r.ci_low, r.ci_high) for r in a], [(r.ci_low, r.ci_high) for r in b])
    rows = {(r.metric, r.side): r for r in a}
    for key in [("stance_time_s", "left"), ("stance_time_si_pct", "both"), ("cadence_spm", "both")]:
        r = rows[key]
        assert r.ci_low < r.value < r.ci_high, key
    si = rows[("stance_time_si_pct", "both")]
    assert si.ci_high < 0  # right stance 0.70 vs left 0.75: clearly shorter, the interval says so
    assert np.isnan(rows[("walking_time_s", "both")].ci_low)  # a total, not a mean: no interval


def test_involved_si_interval_follows_the_affected_side() -> None:
    rows = session_summary(stride_table(synthetic_events(stance=(0.75, 0.70)), FS, 3000))
    plain = next(r for r in rows if r.metric == "stance_time_si_pct")
    for affected, sign in (("right", 1.0), ("left", -1.0)):
        got = next(r for r in involved_rows(rows, affected) if r.metric == "stance_time_si_involved_pct")
        assert got.value == pytest.approx(sign * plain.value)
        lo, hi = sorted((sign * plain.ci_low, sign * plain.ci_high))
        assert (got.ci_low, got.ci_high) == pytest.approx((lo, hi), nan_ok=True)


def test_simulated_asymmetry_is_inside_its_interval(sim_factory: Callable[..., Any]) -> None:
    sim = sim_factory("antalgic_right")
    summary = process_session(sim.session).summary.to_pylist()
    rows = {(r["metric"], r["side"]): r for r in summary}
    truth = sim.model.truth.summary()
    si = rows[("stance_time_si_pct", "both")]
    assert si["ci_low"] < truth["stance_time_si_pct"] < si["ci_high"]
    assert si["ci_high"] < 0  # the painful right leg's shorter stance is beyond stride sampling
    speed = rows[("walking_speed_m_s", "both")]
    if speed["n"]:
        assert speed["ci_low"] <= speed["value"] <= speed["ci_high"]


def test_simulated_trunk_metrics_have_intervals(sim_factory: Callable[..., Any]) -> None:
    summary = process_session(sim_factory("antalgic_right").session).summary.to_pylist()
    rows = {r["metric"]: r for r in summary if r["side"] == "both"}
    with_interval = ["phase_coordination_index_pct"]
    for axis in ("v", "ap", "ml"):
        with_interval += [f"harmonic_ratio_{axis}", f"ihr_{axis}_pct"]
    for axis in ("v", "ap"):
        with_interval += [f"step_regularity_{axis}", f"stride_regularity_{axis}"]
    for metric in with_interval:
        r = rows[metric]
        assert r["n"] > 0, metric
        assert r["ci_low"] <= r["value"] <= r["ci_high"], metric
        assert r["ci_low"] < r["ci_high"], metric
    for axis in ("v", "ap"):
        assert np.isnan(rows[f"step_symmetry_{axis}"]["ci_low"])  # no interval (trunk.TrunkResult.bootstrap)


def _si_rows(sd: dict[tuple[str, str], float] | None) -> dict[str, Any]:
    """Exactly periodic strides (no stride-to-stride spread): any interval width comes from the contact offsets."""
    ev = synthetic_events(n=40, stance=(0.6, 0.6), left_step=0.6)
    rows = session_summary(stride_table(ev, FS, 6000), contact_offset_sd_s=sd)
    return {r.metric: r for r in rows if r.side == "both"}


def test_a_shared_contact_offset_widens_symmetry_intervals_by_what_it_does_to_each_duration() -> None:
    none = _si_rows(None)
    assert none["stance_time_si_pct"].ci_high - none["stance_time_si_pct"].ci_low == pytest.approx(0.0, abs=1e-9)
    # an FC offset of SD 10 ms per side moves each stance (0.6 s) alone: SI SD = 100·√2·0.01/0.6 = 2.36 pp
    fc = _si_rows({(s, "FC"): 0.010 for s in ("left", "right")})
    half = (fc["stance_time_si_pct"].ci_high - fc["stance_time_si_pct"].ci_low) / 2
    assert half == pytest.approx(1.96 * 2.357, rel=0.12)
    assert fc["stance_time_si_pct"].value == pytest.approx(none["stance_time_si_pct"].value)  # the value is untouched
    step = fc["step_time_si_pct"]
    assert step.ci_high - step.ci_low == pytest.approx(0.0, abs=1e-9)  # steps run IC to IC: no FC in them
    # an IC offset moves both steps, in opposite directions: SI SD = 2·100·√2·0.01/0.6 = 4.71 pp
    ic = _si_rows({(s, "IC"): 0.010 for s in ("left", "right")})
    half = (ic["step_time_si_pct"].ci_high - ic["step_time_si_pct"].ci_low) / 2
    assert half == pytest.approx(1.96 * 4.714, rel=0.12)


def test_pelvis_only_sessions_carry_the_offset_thigh_sessions_do_not() -> None:
    from pipeline.run import pelvis_contact_offsets

    ev = synthetic_events()
    assert set(pelvis_contact_offsets(ev).values()) == {0.0}  # source "test": not the pelvis
    source = np.where((ev.side == "left") & (ev.kind == "IC") & (np.arange(ev.t_s.size) % 2 == 0), "pelvis", "thigh")
    mixed = pelvis_contact_offsets(make_events(ev.t_s, ev.side, ev.kind, source, FS))
    share = float(np.mean(source[(ev.side == "left") & (ev.kind == "IC")] == "pelvis"))
    assert mixed[("left", "IC")] == pytest.approx(uncertainty.PELVIS_CONTACT_OFFSET_SD_S["IC"] * share)
    assert mixed[("right", "IC")] == 0.0
    pelvis = pelvis_contact_offsets(make_events(ev.t_s, ev.side, ev.kind, np.full(ev.t_s.size, "pelvis"), FS))
    assert pelvis[("right", "FC")] == uncertainty.PELVIS_CONTACT_OFFSET_SD_S["FC"]

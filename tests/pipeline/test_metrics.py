"""Stride and session metrics: known answers and invariances."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.catalog import METRICS
from pipeline.events import EventConfig, GaitEvents, ThighEventConfig, make_events
from pipeline.metrics import MetricsConfig, session_summary, stride_table, symmetry_index, window_reduce
from pipeline.orientation import PelvisAngles
from pipeline.run import PipelineConfig, process_session
from pipeline.symmetry import gait_asymmetry, symmetry_ratio

FS = 100.0


def synthetic_events(
    n: int = 20,
    stride: float = 1.2,
    left_step: float = 0.55,
    stance: tuple[float, float] = (0.75, 0.70),
    t0: float = 2.0,
) -> GaitEvents:
    """Strict alternation: left IC every stride, right IC ``stride − left_step`` later."""
    ic_l = t0 + stride * np.arange(n)
    ic_r = ic_l + (stride - left_step)
    t = np.concatenate([ic_l, ic_r, ic_l + stance[0], ic_r + stance[1]])
    side = np.repeat(["left", "right", "left", "right"], n)
    kind = np.repeat(["IC", "IC", "FC", "FC"], n)
    return make_events(t, side, kind, np.full(t.size, "test"), FS)


def _summary(ev: GaitEvents, n: int = 3000) -> dict[tuple[str, str], float]:
    rows = session_summary(stride_table(ev, FS, n))
    return {(r.metric, r.side): r.value for r in rows}


def test_known_answer() -> None:
    s = _summary(synthetic_events())
    assert s[("stride_time_s", "both")] == pytest.approx(1.2)
    assert s[("cadence_spm", "both")] == pytest.approx(100.0)
    assert s[("step_time_s", "left")] == pytest.approx(0.55)
    assert s[("step_time_s", "right")] == pytest.approx(0.65)
    assert s[("stance_time_s", "left")] == pytest.approx(0.75)
    assert s[("stance_time_s", "right")] == pytest.approx(0.70)
    assert s[("swing_time_s", "right")] == pytest.approx(0.50)
    assert s[("stance_pct", "left")] == pytest.approx(62.5)
    assert s[("stance_time_si_pct", "both")] == pytest.approx(symmetry_index(0.70, 0.75))
    assert s[("stance_time_si_pct", "both")] < 0  # shorter right stance -> negative SI
    assert np.isnan(s[("pelvic_obliquity_range_deg", "both")])  # no pelvis: NaN, not an error
    assert s[("walking_time_s", "both")] == pytest.approx(19 * 1.2 + 0.65, abs=0.01)


def test_temporal_phases_known_answer() -> None:
    # left stride: IC_L, FC_R +0.15, IC_R +0.65, FC_L +0.75, IC_L +1.2; right stride: IC_R, FC_L +0.10, IC_L +0.55,
    # FC_R +0.70, IC_R +1.2
    s = _summary(synthetic_events())
    assert s[("initial_double_support_s", "left")] == pytest.approx(0.15)
    assert s[("single_support_time_s", "left")] == pytest.approx(0.50)  # = right swing
    assert s[("terminal_double_support_s", "left")] == pytest.approx(0.10)
    assert s[("initial_double_support_s", "right")] == pytest.approx(0.10)
    assert s[("single_support_time_s", "right")] == pytest.approx(0.45)  # = left swing
    assert s[("terminal_double_support_s", "right")] == pytest.approx(0.15)
    assert s[("single_support_pct", "left")] == pytest.approx(50 / 1.2)
    assert s[("initial_double_support_pct", "left")] == pytest.approx(15 / 1.2)
    assert s[("terminal_double_support_pct", "right")] == pytest.approx(15 / 1.2)
    assert s[("double_support_pct", "both")] == pytest.approx(25 / 1.2)
    for side in ("left", "right"):  # stance = initial DS + single support + terminal DS
        parts = sum(
            s[(m, side)] for m in ("initial_double_support_s", "single_support_time_s", "terminal_double_support_s")
        )
        assert parts == pytest.approx(s[("stance_time_s", side)])
    assert s[("swing_time_si_pct", "both")] == pytest.approx(symmetry_index(0.50, 0.45))
    assert s[("swing_time_ga_pct", "both")] == pytest.approx(100 * np.log(0.50 / 0.45))
    assert s[("swing_time_sr", "both")] == pytest.approx(0.50 / 0.45)
    assert s[("single_support_time_si_pct", "both")] == pytest.approx(symmetry_index(0.45, 0.50))
    assert s[("stance_time_ga_pct", "both")] == pytest.approx(gait_asymmetry(0.70, 0.75))
    assert s[("step_time_sr", "both")] == pytest.approx(symmetry_ratio(0.65, 0.55))
    assert s[("initial_double_support_si_pct", "both")] == pytest.approx(symmetry_index(0.10, 0.15))
    # Plotnik: reference leg = longer swing (right), φ = 360 × 0.55 / 1.2 = 165° every stride -> PCI = 0 + 15/180
    assert s[("phase_coordination_index_pct", "both")] == pytest.approx(100 * 15 / 180)
    assert np.isnan(s[("harmonic_ratio_v", "both")])  # no trunk signals given: NaN, not an error


def test_missing_contralateral_fc_gives_nan_phases() -> None:
    ev = synthetic_events()
    keep = ~((ev.side == "right") & (ev.kind == "FC"))
    st_ = stride_table(make_events(ev.t_s[keep], ev.side[keep], ev.kind[keep], ev.source[keep], FS), FS, 3000)
    left = st_.side == "left"
    assert np.isnan(st_.initial_double_support_s[left]).all()
    assert np.isnan(st_.single_support_time_s[left]).all()
    assert np.allclose(st_.terminal_double_support_s[left], 0.10)


def _pelvis(n: int, t0: float = 2.0, stride: float = 1.2) -> PelvisAngles:
    t = np.arange(n) / FS
    phase = 2 * np.pi * (t - t0) / stride
    obliquity = 2.0 * np.sin(phase)  # left hip highest a quarter stride after left IC
    tilt = 10.0 + 1.5 * np.cos(2 * phase)
    zeros = np.zeros(n)
    return PelvisAngles(zeros, obliquity, tilt, zeros, zeros, np.ones(n, dtype=bool))


def test_pelvic_drop_hike_and_tilt_known_answer() -> None:
    n = 3000
    strides = stride_table(synthetic_events(), FS, n, pelvis=_pelvis(n))
    rows = {(r.metric, r.side): r for r in session_summary(strides, standing_tilt_deg=8.0)}
    # left stance [0, 0.625) of the cycle: obliquity rises from 0 to its maximum 2° -> drop 2°
    assert rows[("pelvic_drop_deg", "left")].value == pytest.approx(2.0, abs=0.03)
    # left swing [0.625, 1): the left hip climbs back to level; at right IC (0.65/1.2 of the cycle) it was at
    # 2·sin(2π·0.5417) = −0.518°, so it rises ≈ 0.518° (less the last grid step before the next IC)
    assert rows[("pelvic_hike_deg", "left")].value == pytest.approx(0.518, abs=0.12)
    # right swing: its elevation −obliquity ends at 2·sin(2π·0.0417) above its level at left IC (0)
    assert rows[("pelvic_hike_deg", "right")].value == pytest.approx(0.518, abs=0.12)
    assert rows[("pelvic_tilt_rel_standing_deg", "both")].value == pytest.approx(2.0, abs=0.01)
    no_standing = {(r.metric, r.side): r for r in session_summary(strides)}
    assert np.isnan(no_standing[("pelvic_tilt_rel_standing_deg", "both")].value)
    assert no_standing[("pelvic_tilt_rel_standing_deg", "both")].n == 0


def test_hip_hiking_raises_the_hike() -> None:
    n = 3000
    base = _pelvis(n)
    t = np.arange(n) / FS
    phase = ((t - 2.0) / 1.2) % 1.0
    bump = np.where((phase > 0.625) & (phase < 1.0), 3.0 * np.sin(np.pi * (phase - 0.625) / 0.375) ** 2, 0.0)
    hiked = PelvisAngles(
        base.rotation_deg,
        base.obliquity_deg + bump,
        *(base.tilt_deg, base.heading_rate_dps, base.vertical_acc_ms2, base.valid),
    )
    a = stride_table(synthetic_events(), FS, n, pelvis=base)
    b = stride_table(synthetic_events(), FS, n, pelvis=hiked)
    left = a.valid & (a.side == "left")
    assert np.nanmean(b.pelvic_hike_deg[left]) > np.nanmean(a.pelvic_hike_deg[left]) + 1.0
    right = a.valid & (a.side == "right")
    assert np.allclose(b.pelvic_hike_deg[right], a.pelvic_hike_deg[right])


def test_summary_covers_the_catalogue() -> None:
    rows = session_summary(stride_table(synthetic_events(), FS, 3000))
    assert {(r.metric, r.side) for r in rows} == {(m.name, s) for m in METRICS.values() for s in m.sides}
    assert all(r.unit == METRICS[r.metric].unit for r in rows)


def test_validity_flags() -> None:
    ev = synthetic_events()
    t = ev.t_s.copy()
    t[(ev.side == "left") & (ev.kind == "IC") & (np.abs(t - (2.0 + 1.2 * 10)) < 1e-9)] += 0.6  # one late left IC
    st_ = stride_table(make_events(t, ev.side, ev.kind, ev.source, FS), FS, 3000)
    left = st_.side == "left"
    assert not st_.valid[left][[0, -1]].any()  # bout edges
    assert not st_.valid[left][[9, 10]].any()  # outliers around the late IC
    assert st_.valid[left][3]


def _without(ev: GaitEvents, drop: np.ndarray) -> GaitEvents:
    keep = ~drop
    return make_events(ev.t_s[keep], ev.side[keep], ev.kind[keep], ev.source[keep], FS)


def test_a_missed_ic_costs_one_stride_a_pause_costs_its_neighbours() -> None:
    ev = synthetic_events()
    left_ic = (ev.side == "left") & (ev.kind == "IC")
    missed = stride_table(_without(ev, left_ic & (np.abs(ev.t_s - (2.0 + 1.2 * 10)) < 1e-9)), FS, 3000)
    left = missed.side == "left"
    assert missed.stride_time_s[left][9] == pytest.approx(2.4)  # IC 10 lost: strides 9 and 10 merged
    assert not missed.valid[left][9]
    assert missed.valid[left][[8, 10]].all()  # the right leg kept stepping: a lost event, not a pause
    # a 2 s stop after the 10th left stride: both legs pause, the strides either side are transitions
    t = np.where(ev.t_s > 2.0 + 1.2 * 10 + 0.7, ev.t_s + 2.0, ev.t_s)
    paused = stride_table(make_events(t, ev.side, ev.kind, ev.source, FS), FS, 3300)
    left = paused.side == "left"
    assert paused.stride_time_s[left][10] == pytest.approx(3.2)
    assert not paused.valid[left][[9, 10, 11]].any()
    assert paused.valid[left][[8, 12]].all()


def test_a_sensor_gap_costs_the_angle_ranges_of_its_stride_not_the_times() -> None:
    n = 3000
    pelvis = _pelvis(n)
    gap = np.ones(n, dtype=bool)
    gap[int((2.0 + 1.2 * 5 + 0.3) * FS) : int((2.0 + 1.2 * 5 + 0.38) * FS)] = False  # one lost 80 ms packet
    gapped = PelvisAngles(
        pelvis.rotation_deg,
        np.where(gap, pelvis.obliquity_deg, np.nan),
        np.where(gap, pelvis.tilt_deg, np.nan),
        pelvis.heading_rate_dps,
        pelvis.vertical_acc_ms2,
        gap,
    )
    a = stride_table(synthetic_events(), FS, n, pelvis=pelvis)
    b = stride_table(synthetic_events(), FS, n, pelvis=gapped)
    assert np.array_equal(a.valid, b.valid)
    assert np.array_equal(a.stance_time_s, b.stance_time_s, equal_nan=True)
    hit = (b.start_s <= 2.0 + 1.2 * 5 + 0.3) & (b.end_s > 2.0 + 1.2 * 5 + 0.38)  # left stride 5, right stride 4
    assert hit.sum() == 2
    for name in ("pelvic_obliquity_range_deg", "pelvic_drop_deg", "pelvic_tilt_mean_deg"):
        got, want = getattr(b, name), getattr(a, name)
        assert np.isnan(got[hit]).all(), name
        assert np.allclose(got[~hit], want[~hit], equal_nan=True), name  # cumulative sums: rounding only
    tolerant = stride_table(synthetic_events(), FS, n, pelvis=gapped, config=MetricsConfig(max_gap_fraction=0.1))
    assert np.isfinite(tolerant.pelvic_obliquity_range_deg[hit]).all()


def _swap(ev: GaitEvents) -> GaitEvents:
    side = np.where(ev.side == "left", "right", "left")
    return make_events(ev.t_s, side, ev.kind, ev.source, FS)


# Real gaits only: both double supports last at least 2 % of the stride (stance > the other side's step share).
params = {
    "stride": st.floats(0.9, 1.5),
    "share": st.floats(0.42, 0.52),
    "stance": st.tuples(st.floats(0.6, 0.68), st.floats(0.6, 0.68)),
}


@settings(max_examples=30, deadline=None)
@given(**params)
def test_swapping_sides_flips_symmetry_signs(stride: float, share: float, stance: tuple[float, float]) -> None:
    ev = synthetic_events(stride=stride, left_step=share * stride, stance=(stance[0] * stride, stance[1] * stride))
    a, b = _summary(ev), _summary(_swap(ev))
    for base in ("step_time", "stance_time", "swing_time", "single_support_time"):
        assert a[(f"{base}_si_pct", "both")] == pytest.approx(-b[(f"{base}_si_pct", "both")], abs=1e-9)
        assert a[(f"{base}_ga_pct", "both")] == pytest.approx(b[(f"{base}_ga_pct", "both")], abs=1e-9)
        assert a[(f"{base}_sr", "both")] == pytest.approx(1.0 / b[(f"{base}_sr", "both")])
    assert a[("stance_time_s", "left")] == pytest.approx(b[("stance_time_s", "right")])
    assert a[("initial_double_support_s", "left")] == pytest.approx(b[("initial_double_support_s", "right")])
    assert a[("double_support_pct", "both")] == pytest.approx(b[("double_support_pct", "both")])


@settings(max_examples=30, deadline=None)
@given(**params, shift=st.floats(0.0, 5.0))
def test_time_shift_leaves_metrics_unchanged(
    stride: float, share: float, stance: tuple[float, float], shift: float
) -> None:
    kwargs = {"stride": stride, "left_step": share * stride, "stance": (stance[0] * stride, stance[1] * stride)}
    a, b = _summary(synthetic_events(**kwargs)), _summary(synthetic_events(t0=2.0 + shift, **kwargs), n=4000)
    for key, value in a.items():
        assert b[key] == pytest.approx(value, rel=1e-9, abs=1e-9, nan_ok=True), key


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(1, 30)), min_size=1, max_size=8))
def test_window_reduce_matches_slow_reference(windows: list[tuple[int, int]]) -> None:
    x = np.random.default_rng(0).normal(size=500)
    starts = np.cumsum([w[0] + 1 for w in windows])
    a = starts
    b = np.minimum(a + np.array([w[1] for w in windows]), 500)
    got = window_reduce(x, a.astype(np.int64), b.astype(np.int64), np.fmax)
    want = [x[i:j].max() if j > i else np.nan for i, j in zip(a, b, strict=True)]
    assert np.allclose(got, want, equal_nan=True)


def _true_hike(model: Any, side: str) -> float:
    """Hike of ``side`` from the model's obliquity curve at its true events (module-docstring definition)."""
    truth = model.truth
    other = "right" if side == "left" else "left"

    def times(s: str, kind: str) -> np.ndarray:
        return np.asarray(truth.events_t_s[(truth.events_side == s) & (truth.events_kind == kind)])

    ic, fc, oic = times(side, "IC"), times(side, "FC"), times(other, "IC")
    start, end = ic[:-1], ic[1:]
    j, k = np.searchsorted(fc, start), np.searchsorted(oic, start)
    ok = (j < fc.size) & (k < oic.size)
    start, end, fc_s, ic_o = start[ok], end[ok], fc[j[ok]], oic[k[ok]]
    grid = np.linspace(0.0, 1.0, 200, endpoint=False)
    t = fc_s[:, None] + (end - fc_s)[:, None] * grid
    sign = 1.0 if side == "left" else -1.0
    swing = sign * model.pelvis_angles_deg(t.ravel())[:, 1].reshape(t.shape)
    return float(np.mean(swing.max(axis=1) - sign * model.pelvis_angles_deg(ic_o)[:, 1]))


def _processed(sim: Any, config: PipelineConfig | None = None) -> dict[tuple[str, str], float]:
    rows = process_session(sim.session, config=config or PipelineConfig()).summary.to_pylist()
    return {(r["metric"], r["side"]): r["value"] for r in rows}


def test_simulator_temporal_phases_and_hike(sim_factory: Callable[..., Any]) -> None:
    """The phase definitions on simulator truth, with the thigh FC rule at the simulator's own toe-off fraction
    (its thigh is Winter's curve; the default fraction is real thigh sensors', see tests/pipeline/test_events.py)."""
    sim_fc = PipelineConfig(events=EventConfig(thigh=ThighEventConfig(fc_flexion_fraction=0.11)))
    healthy = sim_factory("healthy")
    s = _processed(healthy, sim_fc)
    truth = healthy.model.truth.summary()
    # measured: 23.6 % vs truth; single support = contralateral swing (measured 0.426 s both sides)
    assert s[("double_support_pct", "both")] == pytest.approx(truth["double_support_pct"], abs=2.0)
    assert s[("single_support_time_s", "left")] == pytest.approx(truth["swing_time_s_right"], abs=0.03)
    assert s[("pelvic_hike_deg", "left")] == pytest.approx(_true_hike(healthy.model, "left"), abs=0.5)
    # the model walks with its standing tilt (measured 0.42°; needs the standing period at the session start)
    assert abs(s[("pelvic_tilt_rel_standing_deg", "both")]) < 1.0
    hiking = sim_factory("healthy", pelvic_drop_extra_deg=(0.0, -4.0))  # left hip lifted in left swing
    h = _processed(hiking, sim_fc)
    # measured 2.91° left vs 1.27° right (healthy 1.28° both)
    assert h[("pelvic_hike_deg", "left")] == pytest.approx(_true_hike(hiking.model, "left"), abs=0.5)
    assert h[("pelvic_hike_deg", "left")] > h[("pelvic_hike_deg", "right")] + 1.0
    antalgic = sim_factory("antalgic_right")
    a = _processed(antalgic, sim_fc)
    t = antalgic.model.truth.summary()
    # right single support = left swing, shortened by the painful right knee (measured SI −16.7 %)
    want = symmetry_index(t["swing_time_s_left"], t["swing_time_s_right"])
    assert a[("single_support_time_si_pct", "both")] == pytest.approx(want, abs=3.0)
    assert a[("single_support_time_sr", "both")] < 0.9

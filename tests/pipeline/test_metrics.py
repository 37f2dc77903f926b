"""Stride and session metrics: known answers and invariances."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.catalog import METRICS
from pipeline.events import GaitEvents, make_events
from pipeline.metrics import session_summary, stride_table, symmetry_index, window_reduce

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


def _swap(ev: GaitEvents) -> GaitEvents:
    side = np.where(ev.side == "left", "right", "left")
    return make_events(ev.t_s, side, ev.kind, ev.source, FS)


params = {
    "stride": st.floats(0.9, 1.5),
    "share": st.floats(0.4, 0.6),
    "stance": st.tuples(st.floats(0.55, 0.68), st.floats(0.55, 0.68)),
}


@settings(max_examples=30, deadline=None)
@given(**params)
def test_swapping_sides_flips_symmetry_signs(stride: float, share: float, stance: tuple[float, float]) -> None:
    ev = synthetic_events(stride=stride, left_step=share * stride, stance=(stance[0] * stride, stance[1] * stride))
    a, b = _summary(ev), _summary(_swap(ev))
    for si in ("step_time_si_pct", "stance_time_si_pct"):
        assert a[(si, "both")] == pytest.approx(-b[(si, "both")], abs=1e-9)
    assert a[("stance_time_s", "left")] == pytest.approx(b[("stance_time_s", "right")])


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

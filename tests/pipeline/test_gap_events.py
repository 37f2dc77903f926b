"""Lost packets next to gait events: an IC whose evidence a gap hides is refused rather than interpolated, and a
refused event costs only the metrics that need it."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.events import EventConfig, GaitEvents, ThighEventConfig, make_events, thigh_events
from pipeline.metrics import session_summary, stride_table

FS = 100.0
STRIDE_S = 1.1


def _walk(seconds: float = 30.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A thigh-like flexion rate, an accelerometer with a heel-strike transient at every contact, the contacts."""
    t = np.arange(0, seconds, 1 / FS)
    phase = t / STRIDE_S
    rate = -60 + 250 * np.exp(-(((phase % 1) - 0.72) ** 2) / 0.006) - 40 * np.exp(-(((phase % 1) - 0.94) ** 2) / 0.0008)
    contacts = (np.arange(int(seconds / STRIDE_S) - 1) + 0.97) * STRIDE_S + 0.0043
    acc = np.zeros((t.size, 3))
    acc[:, 2] = 9.81 + 3.0 * np.sin(2 * np.pi * t / STRIDE_S)
    acc += np.random.default_rng(1).normal(0.0, 0.05, acc.shape)
    for c in contacts:
        tau = t - c
        on = tau >= 0
        acc[on, 2] += 8.0 * np.exp(-tau[on] / 0.025) * np.sin(2 * np.pi * 16.0 * tau[on])
    return rate, acc, contacts


def _lose(valid: np.ndarray, t0: float, t1: float) -> None:
    valid[int(round(t0 * FS)) : int(round(t1 * FS))] = False


def _events(rate: np.ndarray, acc: np.ndarray, valid: np.ndarray) -> GaitEvents:
    return thigh_events(
        np.where(valid, rate, np.nan),
        valid,
        FS,
        side="left",
        source="left_thigh",
        acc_ms2=np.where(valid[:, None], acc, np.nan),
    )


def _nearest_error(ic: np.ndarray, contact: float) -> float:
    return float(np.min(np.abs(ic - contact))) if ic.size else np.inf


def test_two_packets_lost_over_the_contact_refuse_that_ic() -> None:
    """The transient is lost, and the gyroscope rule's terminal-swing arrest lies in the gap: no IC there. It used to
    be guessed from the gap-filled rate, because only the lost samples up to the landmark were counted and most of
    a gap straddling the contact comes after it. A single lost packet (within ``max_gap_s``) is still tolerated."""
    rate, acc, contacts = _walk()
    valid = np.ones(rate.size, dtype=bool)
    hit = contacts[12]
    _lose(valid, hit - 0.03, hit + 0.13)  # two notifications of 8 samples
    ic = _events(rate, acc, valid).select("left", "IC")
    assert _nearest_error(ic, hit) > 0.3  # refused: that stride has no IC
    others = contacts[(contacts > 2) & (contacts < 28) & (contacts != hit)]
    assert all(_nearest_error(ic, c) <= 1.0 / FS for c in others)
    one = np.ones(rate.size, dtype=bool)
    _lose(one, hit - 0.03, hit + 0.05)
    assert _nearest_error(_events(rate, acc, one).select("left", "IC"), hit) <= 0.02


def test_packets_lost_before_the_transient_do_not_cost_its_ic() -> None:
    """Two packets lost between the swing peak and terminal swing: the transient and the quiet samples before it
    are observed, so its onset stands (it used to be refused for the masked samples after the swing peak)."""
    rate, acc, contacts = _walk()
    valid = np.ones(rate.size, dtype=bool)
    hit = contacts[12]
    peak = hit - (0.97 - 0.72) * STRIDE_S  # the swing peak of that stride
    _lose(valid, peak + 0.01, peak + 0.09)
    _lose(valid, peak + 0.12, peak + 0.20)
    ic = _events(rate, acc, valid).select("left", "IC")
    assert _nearest_error(ic, hit) <= 1.0 / FS


def test_short_gaps_in_the_swing_opening_keep_the_fc() -> None:
    """FC is where the flexion integrated from peak extension reaches its share of the excursion to peak flexion,
    over the gap-filled rate. Three lost notifications there (7 samples each, 0.21 s in all) cost it < 3 ms, so the
    FC is kept; when one lost notification was the limit, it was refused. A gap longer than ``max_gap_s`` still
    refuses it, as does more than ``fc_max_lost_s`` lost in all."""
    t = np.arange(0, 30, 1 / FS)
    phase = t / STRIDE_S
    rate = -60 + 250 * np.exp(-(((phase % 1) - 0.72) ** 2) / 0.02) - 40 * np.exp(-(((phase % 1) - 0.94) ** 2) / 0.0008)
    full = np.ones(t.size, dtype=bool)
    fc = thigh_events(rate, full, FS, side="left", source="left_thigh").select("left", "FC")
    extension = np.flatnonzero((rate[:-1] < 0) & (rate[1:] >= 0))[12]  # peak extension of stride 12
    flexion = np.flatnonzero((rate[:-1] > 0) & (rate[1:] <= 0))
    assert flexion[flexion > extension][0] - extension == 37  # the FC window: 0.37 s
    target = fc[np.argmin(np.abs(fc - extension / FS))]

    def fc_near_target(lost: list[tuple[int, int]], fc_max_lost_s: float = 0.3) -> float:
        valid = full.copy()
        for start, n in lost:
            valid[extension + start : extension + start + n] = False
        config = EventConfig(thigh=ThighEventConfig(fc_max_lost_s=fc_max_lost_s))
        ev = thigh_events(np.where(valid, rate, np.nan), valid, FS, side="left", source="left_thigh", config=config)
        return float(np.min(np.abs(ev.select("left", "FC") - target)))

    three = [(3, 7), (15, 7), (27, 7)]
    assert fc_near_target(three) <= 0.003
    assert fc_near_target(three, fc_max_lost_s=0.1) > 0.5  # one notification's worth in all: refused
    assert fc_near_target(three, fc_max_lost_s=0.2) > 0.5
    assert fc_near_target([(3, 12)]) > 0.5  # one gap of 0.12 s > max_gap_s


def _gait(
    n: int = 20, stride: float = 1.2, left_step: float = 0.55, stance: tuple[float, float] = (0.75, 0.70)
) -> GaitEvents:
    """Strict alternation as in test_metrics: left IC every stride, right IC ``stride − left_step`` later."""
    ic_l = 2.0 + stride * np.arange(n)
    ic_r = ic_l + (stride - left_step)
    t = np.concatenate([ic_l, ic_r, ic_l + stance[0], ic_r + stance[1]])
    side = np.repeat(["left", "right", "left", "right"], n)
    kind = np.repeat(["IC", "IC", "FC", "FC"], n)
    return make_events(t, side, kind, np.full(t.size, "test"), FS)


def _drop(ev: GaitEvents, side: str, kind: str, times: np.ndarray) -> GaitEvents:
    drop = (ev.side == side) & (ev.kind == kind) & np.isin(np.round(ev.t_s, 6), np.round(times, 6))
    assert drop.sum() == times.size
    keep = ~drop
    return make_events(ev.t_s[keep], ev.side[keep], ev.kind[keep], ev.source[keep], FS)


def test_ics_lost_on_both_legs_are_not_a_pause() -> None:
    """Left IC 10 and the right IC before it are lost: the other leg made one IC in the merged left stride, which
    read as a stop and cost both neighbours. Its FCs kept coming (no stretch of a stride without an event), so the
    neighbours stay valid and the merged stride's opening IC still gives a stance and a step time."""
    ev = _gait()
    ev = _drop(ev, "left", "IC", np.array([2.0 + 1.2 * 10]))
    ev = _drop(ev, "right", "IC", np.array([2.0 + 1.2 * 9 + 0.65]))
    st = stride_table(ev, FS, 3000)
    left = st.side == "left"
    assert st.stride_time_s[left][9] == pytest.approx(2.4)
    assert not st.valid[left][9]  # no stride time without its closing IC
    assert st.valid[left][[8, 10]].all()
    assert st.opening_valid[left][9]
    assert st.stance_time_s[left][9] == pytest.approx(0.75)
    assert st.step_time_s[left][9] == pytest.approx(0.55)
    rows = {(r.metric, r.side): r for r in session_summary(st)}
    assert rows[("stance_time_s", "left")].n == rows[("stride_time_s", "left")].n + 1
    assert rows[("stance_time_s", "left")].value == pytest.approx(0.75)


def test_a_stop_still_costs_its_neighbours() -> None:
    """Both legs stand for 2 s after left stride 10: no event for more than a stride, a pause as before."""
    ev = _gait()
    t = np.where(ev.t_s > 2.0 + 1.2 * 10 + 0.7, ev.t_s + 2.0, ev.t_s)
    st = stride_table(make_events(t, ev.side, ev.kind, ev.source, FS), FS, 3300)
    left = st.side == "left"
    assert not st.valid[left][[9, 10, 11]].any()
    assert not st.opening_valid[left][[9, 10, 11]].any()
    assert st.valid[left][[8, 12]].all()


def test_a_side_with_most_ics_lost_keeps_the_true_stride() -> None:
    """Every other right IC lost for most of the walk: most right 'strides' span two. They are merged strides, not
    valid 2.4 s strides (a per-side median had taken them for the norm); right stance is still measured."""
    ev = _gait(n=30)
    right_ic = np.sort(ev.select("right", "IC"))
    ev = _drop(ev, "right", "IC", right_ic[3:27:2])
    st = stride_table(ev, FS, 4000)
    rows = {(r.metric, r.side): r.value for r in session_summary(st)}
    assert rows[("stride_time_s", "right")] == pytest.approx(1.2)
    assert rows[("stance_time_s", "right")] == pytest.approx(0.70)
    assert rows[("step_time_s", "right")] == pytest.approx(0.65)

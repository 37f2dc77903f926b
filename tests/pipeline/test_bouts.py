"""Walking bouts, steady-state mask and standing calibration."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from pipeline.bouts import BoutConfig, detect_bouts, detect_standing
from pipeline.events import make_events
from pipeline.run import load_aligned, process_session

FS = 100.0


def _walk(starts_ends: list[tuple[float, float]], n: int, stride: float = 1.1) -> tuple[Any, np.ndarray]:
    """ICs alternating every half stride inside each [start, end) and a gyro that moves only there."""
    t_all, side_all = [], []
    gyr = np.zeros((n, 3))
    for a, b in starts_ends:
        t = np.arange(a, b, stride / 2)
        t_all.append(t)
        side_all.append(np.where(np.arange(t.size) % 2 == 0, "left", "right"))
        k = (np.arange(n) >= a * FS) & (np.arange(n) < b * FS)
        gyr[k, 1] = 100.0 * np.sin(2 * np.pi * np.arange(n)[k] / FS / stride)
    t = np.concatenate(t_all)
    ev = make_events(t, np.concatenate(side_all), np.full(t.size, "IC"), np.full(t.size, "x"), FS)
    return ev, gyr


def test_two_bouts_and_steady_mask() -> None:
    n = 4000
    ev, gyr = _walk([(2.0, 14.0), (20.0, 32.0), (36.0, 38.0)], n)
    b = detect_bouts(ev, [(gyr, np.ones(n, dtype=bool))], FS)
    assert b.intervals.shape == (2, 2)  # the 2 s walk has too few strides
    assert b.intervals[0, 0] == pytest.approx(200, abs=2)
    assert b.intervals[1, 0] == pytest.approx(2000, abs=2)
    assert b.intervals[1, 1] == pytest.approx(3190, abs=60)
    assert not b.steady[200:300].any()  # first stride of the bout
    assert b.steady[500:1200].all()
    assert not b.steady[1500:2000].any()  # between bouts
    turning = np.zeros(n, dtype=bool)
    turning[600:700] = True
    assert not detect_bouts(ev, [(gyr, np.ones(n, dtype=bool))], FS, turning=turning).steady[600:700].any()


def test_breaks_longer_than_3_s_split_bouts() -> None:
    n = 3000
    ev, gyr = _walk([(1.0, 10.0), (12.0, 25.0)], n)  # 2 s pause: one bout (mobgap: breaks ≤ 3 s)
    assert detect_bouts(ev, [(gyr, np.ones(n, dtype=bool))], FS).intervals.shape == (1, 2)
    b = detect_bouts(ev, [(gyr, np.ones(n, dtype=bool))], FS, config=BoutConfig(max_break_s=1.5))
    assert b.intervals.shape == (2, 2)


def test_bad_input_gives_no_bouts_not_errors() -> None:
    n = 1000
    ev, gyr = _walk([(1.0, 9.0)], n)
    nan_gyr = np.full_like(gyr, np.nan)
    b = detect_bouts(ev, [(nan_gyr, np.zeros(n, dtype=bool))], FS)
    assert b.intervals.shape == (0, 2)
    assert not b.steady.any()
    empty = make_events(np.zeros(0), np.zeros(0, str), np.zeros(0, str), np.zeros(0, str), FS)
    assert detect_bouts(empty, [(gyr, np.ones(n, dtype=bool))], FS).intervals.shape == (0, 2)
    assert detect_bouts(empty, [], FS).steady.shape == (0,)
    assert detect_standing([], FS, pelvis=None, thighs={}) is None
    assert detect_standing([(gyr, np.ones(n, dtype=bool))], FS, pelvis=None, thighs={}) is None  # walks at once


def test_standing_calibration_from_the_simulator(sim_factory: Callable[..., Any]) -> None:
    aligned = load_aligned(sim_factory("healthy").session)
    standing = aligned.quality["standing"]
    assert standing["start_s"] < 0.6
    assert standing["end_s"] == pytest.approx(3.0, abs=0.6)  # the simulator stands still for 3 s
    assert abs(standing["pelvic_tilt_deg"]) < 1.0  # 'up' was taken from this standing: the reference posture
    assert set(standing["thigh_sagittal_deg"]) == {"left", "right"}
    assert aligned.standing is not None
    assert aligned.bouts is not None
    assert len(aligned.quality["bouts"]) == 1
    assert aligned.quality["bouts"][0][0] == pytest.approx(sim_factory("healthy").model.truth.walking_start_s, abs=0.3)


def test_steady_mask_excludes_bout_edges_from_statistics(sim_factory: Callable[..., Any]) -> None:
    sim = sim_factory("healthy")
    aligned = load_aligned(sim.session)
    assert aligned.bouts is not None
    t, steady = aligned.t_s, aligned.bouts.steady
    start = sim.model.truth.walking_start_s
    assert not steady[t < start + 1.0].any()  # standing and the first stride
    assert steady[(t > start + 2.5) & (t < 55.0)].all()
    strides = process_session(sim.session).strides.to_pandas()
    for side in ("left", "right"):
        s = strides[strides.side == side]
        assert not s.valid.iloc[0]
        assert not s.valid.iloc[-1]

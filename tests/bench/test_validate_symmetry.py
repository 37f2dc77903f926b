"""The scoring of bench/validate_symmetry.py on synthetic strides: the reference's stride table, pairing, the
per-walk contact offsets (the figures behind ``pipeline.uncertainty.PELVIS_CONTACT_OFFSET_SD_S``)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import validate_real as vr  # noqa: E402
import validate_symmetry as vs  # noqa: E402

FS = 100.0


def _reference(
    n: int = 12, stance: tuple[float, float] = (0.70, 0.65), shift: tuple[float, float] = (0, 0)
) -> vr.Trial:
    """Strict alternation, stride 1.1 s, left IC at 1 + 1.1 k, right 0.55 s later; ``shift`` moves each side's
    contacts (left, right) by a constant, as a per-walk offset would."""
    ic_l = 1.0 + 1.1 * np.arange(n) + shift[0]
    ic_r = ic_l - shift[0] + 0.55 + shift[1]
    ic = np.concatenate([ic_l, ic_r])
    fc = np.concatenate([ic_l + stance[0], ic_r + stance[1]])
    sides = np.repeat(["left", "right"], n)
    order_ic, order_fc = np.argsort(ic), np.argsort(fc)
    empty = np.zeros((0, 3))
    bouts = np.array([0.5]), np.array([1.0 + 1.1 * n + 1.0])
    return vr.Trial(
        "T",
        "01",
        "walk",
        "1",
        FS,
        empty,
        empty,
        bouts[0],
        bouts[1],
        np.array([math.nan]),
        bouts[1] - bouts[0],
        ic[order_ic],
        sides[order_ic],
        fc[order_fc],
        sides[order_fc],
    )


def test_reference_strides_use_the_pipeline_definitions() -> None:
    strides = vs.reference_strides(_reference())
    valid = strides[strides.valid]
    assert len(valid) >= 16  # bout edges dropped, the rest kept
    assert valid[valid.side == "left"].stance_time_s.to_numpy() == pytest.approx(0.70)
    assert valid[valid.side == "right"].stance_time_s.to_numpy() == pytest.approx(0.65)
    assert vs._side_si(strides, "stance_time_s") == pytest.approx(100 * (0.65 - 0.70) / 0.675)
    assert math.isnan(vs._side_si(strides.iloc[:6], "stance_time_s"))  # fewer than MIN_STRIDES per side


def test_a_constant_side_offset_shows_as_the_walk_offset_not_as_scatter() -> None:
    ref = vs.reference_strides(_reference())
    ours = vs.reference_strides(_reference(shift=(0.010, -0.020)))  # left contacts 10 ms late, right 20 ms early
    errors = vs.contact_errors(ours, ref)
    assert errors[("left", "IC")] == pytest.approx(0.010)
    assert errors[("right", "FC")] == pytest.approx(-0.020)
    result = vs.TrialResult("T", "01", [], [], errors)
    d, within = vs._side_offsets([result, result], "IC")
    assert d == pytest.approx([-30.0, -30.0])  # right − left, ms
    assert within == pytest.approx(0.0, abs=1e-6)
    paired = vs._paired(ours, ref)
    assert len(paired) == len(ours)  # 10–20 ms apart: every stride pairs
    assert vs._side_si(paired, "stance_time_s") == pytest.approx(vs._side_si(ref, "stance_time_s"))


def test_leave_one_person_out_rate_counts_walks_above_the_others_95th_percentile() -> None:
    g = pd.DataFrame({"participant": ["a"] * 20 + ["b"] * 20, "value": np.r_[np.arange(20.0), np.arange(20.0) + 100]})
    # a's walks are all below b's; b's all above a's 95th percentile
    assert vs._lopo_rate(g) == pytest.approx(20 / 40)


def test_a_walk_with_fewer_than_two_pairs_on_a_side_has_no_offset() -> None:
    from event_scoring import side_offset

    assert side_offset(np.array([0.01]), np.array([0.02, 0.03])) is None
    assert side_offset(np.array([0.01, np.nan]), np.array([0.02, 0.03])) is None  # NaNs do not count
    diff, sd_left, sd_right = side_offset(np.array([0.0, 0.02]), np.array([0.03, 0.05]))  # type: ignore[misc]
    assert (diff, sd_left, sd_right) == pytest.approx((0.03, 0.01414, 0.01414), abs=1e-5)

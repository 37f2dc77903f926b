"""bench/validate_repeatability.py without its (unshipped) data: the ANOVA, ICC, τ and the pair counts on numbers
with a known answer, the per-metric table from a synthetic set of walks, the skip."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import validate_repeatability as vr  # noqa: E402


def test_one_way_anova_by_hand():
    values = np.array([1.0, 3.0, 4.0, 6.0, 8.0])
    groups = np.array(["a", "a", "b", "b", "b"])
    ms_within, ms_between, n0 = vr.one_way_anova(values, groups)
    # a: mean 2, SS 2; b: mean 6, SS 8 -> MS_within = 10 / 3; grand mean 4.4: SS_between 2·2.4² + 3·1.6² = 19.2
    assert ms_within == pytest.approx(10 / 3)
    assert ms_between == pytest.approx(19.2)
    assert n0 == pytest.approx((5 - 13 / 5) / 1)
    assert vr.icc_1_1(ms_within, ms_between, n0) == pytest.approx((19.2 - 10 / 3) / (19.2 + 1.4 * 10 / 3))
    assert all(math.isnan(x) for x in vr.one_way_anova(values[:2], groups[:2]))  # one group: no ANOVA


def _walks(rng: np.random.Generator, people: int, walks: int, between: float, tau: float, se: float) -> pd.DataFrame:
    """Value = person mean + walk-to-walk deviation (SD tau) + stride-sampling error (SD se); intervals ±1.96 se."""
    person = np.repeat(np.arange(people), walks).astype(str)
    value = np.repeat(rng.normal(10.0, between, people), walks) + rng.normal(0, tau, person.size)
    value = value + rng.normal(0, se, person.size)
    half = vr.Z95 * se
    return pd.DataFrame(
        {
            "person": person,
            "metric": "m",
            "side": "both",
            "unit": "deg",
            "value": value,
            "ci_low": value - half,
            "ci_high": value + half,
        }
    )


def test_tau_and_sem_recover_a_known_walk_to_walk_sd():
    rows = _walks(np.random.default_rng(1), people=400, walks=5, between=2.0, tau=1.5, se=0.5)
    (r,) = vr.repeatability(rows)
    assert r.sem == pytest.approx(math.hypot(1.5, 0.5), rel=0.05)
    assert r.stride_se == pytest.approx(0.5)
    assert r.tau == pytest.approx(1.5, rel=0.06)
    assert r.icc == pytest.approx(4.0 / (4.0 + 2.5), abs=0.05)
    assert r.mdc95 == pytest.approx(vr.Z95 * math.sqrt(2) * r.sem)
    # no change, yet the intervals of 38 % of pairs are apart (|d| > 2 · 1.96 · se with d ~ N(0, 2 · SEM²)); the
    # walk-to-walk rule with held-out τ calls about 5 % a change
    assert r.apart / r.pairs == pytest.approx(
        2 * norm.sf(2 * vr.Z95 * 0.5 / math.sqrt(2 * (1.5**2 + 0.5**2))), abs=0.03
    )
    assert 0.03 < r.beyond_held_out / r.pairs < 0.07


def test_tau_is_zero_when_the_intervals_hold_all_the_spread():
    rows = _walks(np.random.default_rng(2), people=50, walks=4, between=1.0, tau=0.0, se=2.0)
    rows["ci_low"] -= 2.0  # intervals wider than the noise (as the pelvis-only symmetry indices' are)
    rows["ci_high"] += 2.0
    (r,) = vr.repeatability(rows)
    assert r.tau == 0.0
    assert vr.walk_to_walk_mapping([r]) == {"m": 0.0}


def test_pair_counts_by_hand():
    values = np.array([0.0, 1.0, 5.0, 0.0, 9.0])
    low, high = values - 0.4, values + 0.4
    groups = np.array(["a", "a", "a", "b", "c"])
    # a's pairs: (0,1) apart, (0,5) apart, (1,5) apart; b and c have one walk each
    pairs, apart, beyond = vr.pair_counts(values, low, high, groups, tau=1.0)
    se = 0.4 / vr.Z95
    threshold = vr.Z95 * math.sqrt(2 * se**2 + 2.0)
    assert (pairs, apart) == (3, 3)
    assert beyond == sum(d > threshold for d in (1.0, 5.0, 4.0))
    low[1] = np.nan  # a walk without an interval takes no part
    assert vr.pair_counts(values, low, high, groups, tau=1.0)[:2] == (1, 1)


def test_held_out_tau_uses_the_other_people_only():
    rng = np.random.default_rng(3)
    quiet = _walks(rng, people=30, walks=4, between=1.0, tau=0.2, se=0.1)
    loud = _walks(rng, people=1, walks=4, between=1.0, tau=50.0, se=0.1).assign(person="loud")
    rows = pd.concat([quiet, loud], ignore_index=True)
    values, groups = rows.value.to_numpy(), rows.person.to_numpy()
    se = (rows.ci_high - rows.ci_low).to_numpy() / (2 * vr.Z95)
    tau = vr.held_out_tau(values, groups, se)
    assert tau[groups == "loud"] == pytest.approx(0.2, rel=0.3)  # judged by the quiet people's τ
    assert (tau[groups != "loud"] > 5.0).all()  # everyone else's τ includes the loud walker


def test_metrics_need_enough_people_with_two_walks():
    rows = _walks(np.random.default_rng(4), people=4, walks=3, between=1.0, tau=1.0, se=0.1)
    assert vr.repeatability(rows) == []
    single = _walks(np.random.default_rng(5), people=10, walks=1, between=1.0, tau=1.0, se=0.1)
    assert vr.repeatability(single) == []
    nan = _walks(np.random.default_rng(6), people=6, walks=2, between=1.0, tau=1.0, se=0.1)
    nan.loc[nan.person == "0", "value"] = np.nan  # a person without values drops out: 5 left
    (r,) = vr.repeatability(nan)
    assert (r.people, r.walks) == (5, 10)


def test_without_data_it_says_what_to_pass(tmp_path, capsys):
    assert vr.main(["--ipol", str(tmp_path)]) == 2
    assert "--ipol" in capsys.readouterr().out

"""bench/sim_speed_budget.py: the split of the simulator's step-length error into sensor chain and model."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import sim_speed_budget as ssb  # noqa: E402


def test_the_drift_filter_alone_costs_what_a_butterworth_gain_says() -> None:
    assert ssb.filter_loss(60.0) == pytest.approx(np.sqrt(0.5) - 1.0)  # a step frequency at the 1 Hz cut-off
    assert ssb.filter_loss(80.0) == pytest.approx(np.sqrt(1.0 / (1.0 + 0.75**8)) - 1.0)
    assert -0.002 < ssb.filter_loss(125.0) < 0.0


def test_a_row_splits_the_error_into_chain_and_model() -> None:
    true = np.array([0.5, 0.5, 0.5, 0.5])
    budget = ssb.Budget(
        90.0,
        true,
        excursion_m=np.full(4, 0.03),
        pendulum_m=true * 1.10,
        measured_m=np.array([0.5 * 1.10 * 0.95, 0.5 * 1.10 * 0.95, 0.5 * 1.10 * 0.95, np.nan]),
    )
    r = dict(zip(ssb.HEADER, ssb.row("x", budget), strict=True))
    assert r["chain err %"] == "-5.00"
    assert r["model err %"] == "+10.00"
    assert r["total err %"] == "+4.50"
    assert r["steps"] == "3"  # a step without a length is left out of every column
    assert r["sensor excursion cm"] == "3.00"


def test_at_very_slow_cadence_the_chain_loses_what_the_drift_filter_takes(tmp_path: Path) -> None:
    budget = ssb.walk(ssb.cell_profile(80.0, 0.5), seed=0, workdir=tmp_path)
    r = dict(zip(ssb.HEADER, ssb.row("very slow", budget), strict=True))
    assert int(r["steps"]) > 40
    chain, alone = float(r["chain err %"]), float(r["filter alone %"])
    assert chain < -3.0
    assert abs(chain - alone) < 0.5

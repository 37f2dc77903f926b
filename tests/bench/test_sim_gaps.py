"""bench/sim_gaps.py: the table from known step lengths, and one simulated walk under heavy notification loss."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import sim_gaps  # noqa: E402


def test_rows_pool_seeds_and_score_bridged_steps_apart() -> None:
    ref = np.array([1.0, 1.0, 1.0, 1.0])
    measured = {t: np.array([1.0, np.nan, 0.98, np.nan]) for t in sim_gaps.TOLERANCES_S}
    measured[0.12] = np.array([1.0, 0.96, 0.98, np.nan])
    gap = {t: np.zeros(4, dtype=bool) for t in sim_gaps.TOLERANCES_S}
    gap[0.12] = np.array([False, True, False, False])
    cell = sim_gaps.CellSteps(ref, measured, gap)
    rows = sim_gaps.rows({0.1: [cell, cell]})
    assert len(rows) == len(sim_gaps.TOLERANCES_S)
    strict = rows[0]
    assert strict[:3] == ["10 %", "0.00", "4 / 8 (50 %)"]
    assert strict[4:] == ["0", "n/a"]
    default = rows[sim_gaps.TOLERANCES_S.index(0.12)]
    assert default[1] == "0.12 (default)"
    assert default[2] == "6 / 8 (75 %)"
    assert default[4:] == ["2", "-4.0 ± 0.0"]


def test_heavy_loss_keeps_nearly_every_step_without_biasing_it(tmp_path: Path) -> None:
    cell = sim_gaps.simulate(0.10, seed=0, workdir=tmp_path)
    ref = np.isfinite(cell.reference_m)
    strict, bridged = cell.measured_m[0.0], cell.measured_m[0.12]
    assert np.isfinite(strict[ref]).mean() < 0.75  # the old rule lost a step to every lost notification
    assert np.isfinite(bridged[ref]).mean() > 0.9
    across = cell.across_gap[0.12] & np.isfinite(bridged)
    assert across.sum() > 10
    err = (bridged[across] - cell.reference_m[across]) / cell.reference_m[across]
    assert abs(float(np.mean(err))) < 0.03
    assert float(np.max(np.abs(err))) < 0.1
    both = np.isfinite(strict) & np.isfinite(bridged)
    np.testing.assert_allclose(bridged[both], strict[both])  # steps without a gap are untouched
    assert not cell.across_gap[0.0].any()
    assert pytest.approx(np.isfinite(strict).sum()) == np.sum(np.isfinite(bridged) & ~cell.across_gap[0.12])

"""bench/pelvis_packet_loss.py without its (unshipped) data: the dropped rows, one table row, a clear skip."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import pelvis_packet_loss as ppl  # noqa: E402
import validate_ipol as vi  # noqa: E402
from validate_real import TrialScores  # noqa: E402

from pipeline.evaluation import EventScores, score_events  # noqa: E402


def test_rows_are_dropped_together_from_time_and_signals() -> None:
    n = 800
    t = np.arange(n) / 100.0
    trial = vi.IpolTrial(None, None, t, np.column_stack([t] * 3), -np.column_stack([t] * 3), 1.7)  # type: ignore[arg-type]
    lossy = ppl.with_loss(trial, 0.3, seed=0)
    assert 0 < lossy.t_s.size < n
    assert lossy.t_s[0] == 0.0  # the time origin is kept
    np.testing.assert_array_equal(lossy.acc_ms2[:, 0], lossy.t_s)
    np.testing.assert_array_equal(lossy.gyr_rad_s[:, 2], -lossy.t_s)


def test_a_row_pools_scores_shifts_and_distances() -> None:
    ref = np.array([1.0, 2.0, 3.0, 4.0])
    sides = np.array(["left", "right", "left", "right"])
    det, det_sides = np.array([1.01, 2.03, 3.5]), np.array(["left", "right", "right"])

    def scores(tol: float) -> EventScores:
        return score_events(det, ref, tolerance_s=tol, detected_side=det_sides, reference_side=sides)

    level = ppl.Level(
        scores=[TrialScores("t", {0.25: scores(0.25), 0.5: scores(0.5)}, None, float("nan"))],
        recorded=4,
        shift_s=[0.01, 0.03],
        distance_err_m=[-1.0, 0.5, 2.0],
    )
    row = ppl.row(0.1, level)
    assert row[:5] == ["10%", "2 / 4 (50.0%)", "+20.0 ± 10.0", f"{np.percentile([10.0, 30.0], 95):.1f}", "50.0%"]
    assert row[5] == f"{2 * 2 / (3 + 4):.3f}"  # two pairs at ±0.25 s of 3 detections and 4 references
    assert row[6] == "180"  # ±0.5 s pairs: 10, 30 and 500 ms
    assert row[7] == "0.667"
    assert row[8] == "1.00 (3)"


def test_missing_data_is_skipped_not_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ppl.main(["--data", str(tmp_path)]) == 0
    assert "SKIPPED" in capsys.readouterr().out

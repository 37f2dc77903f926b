"""bench/validate_real.py without its (unshipped) data: the check of how the reference defines bout speed."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import validate_real as vr  # noqa: E402


def _trial(
    walking_speed: list[float], stride_mean: list[float], length: list[float], duration: list[float]
) -> vr.Trial:
    n = len(walking_speed)
    empty = np.zeros(0)
    return vr.Trial(
        "HA",
        "001",
        "Test11",
        "Trial1",
        100.0,
        np.zeros((10, 3)),
        np.zeros((10, 3)),
        np.arange(n, dtype=float),
        np.arange(n, dtype=float) + np.asarray(duration),
        np.asarray(walking_speed),
        np.asarray(duration),
        empty,
        empty.astype(str),
        empty,
        empty.astype(str),
        wb_mean_stride_speed_m_s=np.asarray(stride_mean),
        wb_length_m=np.asarray(length),
    )


def test_reference_speed_definition_counts_bouts_equal_to_the_mean_stride_speed() -> None:
    # second bout: WalkingSpeed 0.412 is the mean stride speed, Length / Duration = 1.45 / 4.6 = 0.315
    trial = _trial([1.0, 0.412], [1.0, 0.412], [5.0, 1.45], [5.0, 4.6])
    line = vr.reference_speed_definition([trial])
    assert "in 2 of 2 bouts" in line
    assert "max 0.097" in line  # |0.412 − 0.3152|


def test_reference_speed_definition_reports_a_bout_that_differs() -> None:
    trial = _trial([1.0, 0.5], [1.0, 0.6], [5.0, 2.5], [5.0, 5.0])
    line = vr.reference_speed_definition([trial])
    assert "in 1 of 2 bouts" in line
    assert "max |Δ| 0.1000" in line


def test_reference_speed_definition_without_stride_speeds() -> None:
    trial = _trial([1.0], [], [], [5.0])
    assert "no bouts" in vr.reference_speed_definition([trial])

"""bench/validate_thigh_length.py without its (unshipped) data: the foot reference between foot-switch stances on
synthetic footsteps with known lengths, the walk factor and its held-out scoring on known numbers, a clear skip."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import validate_thigh_length as vtl  # noqa: E402

from tests.bench.test_validate_stride_length import FS, _footstep


def test_missing_data_is_skipped_not_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert vtl.main(["--data", str(tmp_path)]) == 0
    assert "SKIPPED" in capsys.readouterr().out


def test_reference_strides_between_foot_switch_stances() -> None:
    """Two footsteps of 1.2 m and 1.0 m by a tilted sensor: each stance is [IC, FC) of the foot switches; the third
    stance ends the walk (no FC: still for 0.4 s after its IC). A stride with no FC between its ICs gets none."""
    mount = Rotation.from_euler("xyz", [15.0, -30.0, 100.0], degrees=True)
    acc1, gyr1, _, _ = _footstep(1.2, 0.0, 0.45, 0.0, mount, still_s=0.4)
    acc2, gyr2, _, _ = _footstep(1.0, 0.05, 0.45, 0.0, mount, still_s=0.4)
    acc, gyr = np.vstack([acc1, acc2]), np.vstack([gyr1, gyr2])
    # stances: [0, 0.4) · swing · [0.85, 1.65) · swing · [2.1, 2.5)
    ic = np.array([0.0, 0.85, 2.1])
    fc = np.array([0.4, 1.65])
    start, duration, length, closure = vtl.reference_strides(ic, fc, acc, gyr, row_t0_s=0.0)
    assert np.allclose(start, ic[:-1])
    assert np.allclose(duration, np.diff(ic))
    assert length == pytest.approx([1.2, np.hypot(1.0, 0.05)], rel=0.02)
    assert np.all(np.abs(closure) < 0.02)
    # the FC of the middle stance lost: the second stride has no swing between its ICs → no reference
    _, _, length, _ = vtl.reference_strides(ic, fc[:1], acc, gyr, row_t0_s=0.0)
    assert np.isfinite(length[0])
    assert np.isnan(length[1])
    assert acc.shape[0] == int(round(2.5 * FS))


def _walk(
    cohort: str, reference: list[float], model: list[float], steady: list[bool] | None = None
) -> vtl.TrialStrides:
    n = len(reference)
    return vtl.TrialStrides(
        cohort,
        f"w{reference[0]}",
        np.full(n, "left"),
        np.arange(n, dtype=float),
        np.ones(n),
        np.asarray(reference, dtype=float),
        np.zeros(n),
        np.asarray(model, dtype=float),
        np.asarray(steady if steady is not None else [True] * n),
    )


def test_the_walk_factor_and_its_held_out_scores() -> None:
    a = _walk("Young", [1.2, 1.2, 9.0], [1.0, 1.0, 1.0], steady=[True, True, False])  # the unsteady one ignored
    b = _walk("Young", [1.1], [1.0])
    c = _walk("Elderly", [1.0], [1.0])
    assert vtl.trial_factor(a) == pytest.approx(1.2)
    assert vtl.fitted_factor([a, b, c]) == pytest.approx(1.1)  # median of 1.2, 1.1, 1.0
    assert vtl.trial_error_pct(b, 1.1) == pytest.approx(0.0)
    held = vtl.held_out_errors([a, b, c])
    # leave one out: a scored with median(1.1, 1.0) = 1.05 → 1.05 / 1.2 − 1
    assert held["leave one trial out"][0] == pytest.approx(100 * (1.05 / 1.2 - 1))
    # leave one cohort out: the young scored with the elderly's 1.0, the elderly with the young's median 1.15
    assert held["leave one cohort out"] == pytest.approx([100 * (1 / 1.2 - 1), 100 * (1 / 1.1 - 1), 15.0])
    nothing = _walk("Young", [1.0], [np.nan])
    assert np.isnan(vtl.trial_factor(nothing))
    assert np.isnan(vtl.trial_error_pct(nothing, 1.15))


def test_held_out_walks_are_grouped_by_course_and_get_the_young_stature() -> None:
    """The Additional walks have no stature in the dataset: the young cohort mean; they group by heading change
    (straight / with turns), and the per-model tables pool them by that group."""
    assert vtl.height_m("Elderly") == vtl.COHORT_HEIGHT_M["Elderly"]
    assert vtl.height_m("Marzia") == vtl.COHORT_HEIGHT_M["Young"]
    lap = dataclasses.replace(_walk("Marzia", [1.3, 1.2], [1.2, 1.1]), heading_deg=-300.0)
    line = dataclasses.replace(_walk("Marzia", [1.4, 1.5], [1.3, 1.4]), heading_deg=8.0)
    young = dataclasses.replace(_walk("Young", [1.4], [1.3]), heading_deg=-300.0)
    assert [lap.group, line.group, young.group] == ["with turns", "straight", "Young"]
    groups = dict(vtl._groups([lap, line, young]))
    assert [len(groups[g]) for g in ("with turns", "straight", "young", "all")] == [1, 1, 1, 3]

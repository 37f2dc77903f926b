"""bench/validate_speed.py without its (unshipped) data: stride pairing, INDIP strides and turn flags, the model at
given contacts and the split by measured share, on known answers."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import validate_speed as vs  # noqa: E402

from pipeline.orientation import PelvisAngles  # noqa: E402
from pipeline.spatial import SpatialConfig, pendulum_step_length  # noqa: E402


def test_pairing_needs_both_contacts_within_the_tolerance_and_takes_the_closest() -> None:
    ref_start, ref_end = np.array([1.0, 3.0, 6.0]), np.array([2.1, 4.1, 7.1])
    start = np.array([1.05, 1.2, 3.0, 6.0])
    end = np.array([2.1, 2.15, 4.5, 7.05])  # 3.0–4.5: opening matches, closing 0.4 s off
    np.testing.assert_array_equal(vs.pair_strides(ref_start, ref_end, start, end), [0, -1, 3])
    np.testing.assert_array_equal(vs.pair_strides(ref_start, ref_end, np.zeros(0), np.zeros(0)), [-1, -1, -1])


def _wb(ics: list[list[float]], length: list[float], turns: tuple[list[float], list[float]]) -> SimpleNamespace:
    return SimpleNamespace(
        Stride_InitialContacts=np.asarray(ics),
        Stride_Length=np.asarray(length),
        Stride_Speed=np.asarray(length) / 1.1,
        Turn_Start=np.asarray(turns[0]),
        Turn_End=np.asarray(turns[1]),
    )


def test_reference_strides_keep_those_with_a_length_and_flag_the_ones_in_a_turn() -> None:
    fs = 100.0
    wbs = [
        _wb([[100, 210], [155, 265], [210, 320]], [1.2, float("nan"), 1.1], ([2.5], [4.0])),
        _wb([[1000, 1110]], [0.9], ([], [])),
    ]
    ref = vs.reference_strides(wbs, fs)
    np.testing.assert_allclose(ref.start_s, [1.0, 2.1, 10.0])
    np.testing.assert_allclose(ref.length_m, [1.2, 1.1, 0.9])
    np.testing.assert_array_equal(ref.turning, [False, True, False])  # 2.1–3.2 overlaps the 2.5–4.0 turn
    np.testing.assert_array_equal(ref.bout, [0, 0, 1])


def test_the_model_at_given_contacts_is_the_pendulum_on_each_steps_excursion() -> None:
    fs, config = 100.0, SpatialConfig()
    t = np.arange(500) / fs
    displacement = 0.02 * np.sin(2 * np.pi * t / 1.0)  # ptp 0.04 m over any window of a full period
    ic = np.array([0.5, 1.5, 2.5, 2.6, 4.4])  # 1 s steps; a 0.1 s and a 1.8 s step are not steps
    end, length = vs.model_at_contacts(displacement, ic[::-1], fs, 0.9, config)  # order does not matter
    np.testing.assert_allclose(end, [1.5, 2.5, 2.6, 4.4])
    expected = pendulum_step_length(np.array([0.04]), 0.9, config.zijlstra_k)[0]
    np.testing.assert_allclose(length[:2], expected, rtol=1e-3)
    assert np.isnan(length[2:]).all()
    # turning at a steady 45 °/s: each 1 s step turns 45°, so the pipeline's projection takes cos 45° of it
    n = t.size
    turning = PelvisAngles(*(np.zeros(n) for _ in range(3)), np.full(n, 45.0), np.zeros(n), np.ones(n, dtype=bool))
    _, projected = vs.model_at_contacts(displacement, ic, fs, 0.9, config, pelvis=turning)
    np.testing.assert_allclose(projected[:2], expected * np.cos(np.deg2rad(45.0)), rtol=2e-3)


def test_bouts_split_by_measured_share() -> None:
    empty = np.zeros(0)
    ref = vs.RefStrides(empty, empty, empty, empty, empty.astype(bool), empty.astype(np.int64))
    result = vs.TrialSpeed(
        ref,
        empty,
        empty,
        empty.astype(bool),
        empty,
        empty,
        empty,
        empty,
        bout_share=np.array([0.2, 0.6, 0.9, np.nan]),
        bout_speed_err_m_s=np.array([0.4, -0.1, 0.05, 0.3]),
    )
    rows = {r[0]: r[1:] for r in vs.share_rows([result])}
    assert rows["all"] == ["3", "0.183", "+0.117"]  # the bout without a share is left out
    assert rows["< 0.3"] == ["1", "0.400", "+0.400"]
    assert rows["≥ 0.5 (the pipeline's flag)"] == ["2", "0.075", "-0.025"]
    assert rows["≥ 0.7"][0] == "1"


def test_stride_rows_score_only_the_paired_strides() -> None:
    ref = vs.RefStrides(
        np.zeros(4),
        np.ones(4),
        np.array([1.0, 1.2, 0.4, 0.6]),
        np.array([1.0, 1.1, 0.3, 0.5]),
        np.array([False, False, True, True]),
        np.zeros(4, dtype=np.int64),
    )
    empty = np.zeros(0)
    result = vs.TrialSpeed(
        ref,
        ours_length_m=np.array([1.1, 1.2, np.nan, 0.9]),
        ours_speed_m_s=np.array([1.0, 1.2, np.nan, 0.7]),
        ours_steady=np.array([True, False, False, False]),
        model_length_m=np.full(4, np.nan),
        projected_length_m=np.full(4, np.nan),
        bout_model_length_m=empty,
        bout_mobgap_length_m=empty,
        bout_share=empty,
        bout_speed_err_m_s=empty,
    )
    rows = {r[0]: r[1:] for r in vs.stride_rows([result])}
    assert rows["all"][:4] == ["4", "75", "0.93", "0.40"]  # found 3 of 4; the missed one is the 0.4 m stride
    assert rows["turning (INDIP)"][4:] == ["+0.300", "0.300", "+0.200", "0.200"]
    assert rows["paired with our steady strides"][1] == ""  # chosen by pairing: no found %
    assert float(rows["straight (INDIP)"][4]) == pytest.approx(0.05)


def test_the_bout_bias_splits_into_parts_that_add_up() -> None:
    # bout 0: INDIP strides of 1.0 and 0.4 m/s (WalkingSpeed 0.7); we measured the fast one at 1.1 and our bout reads
    # 1.1 (+0.4 = +0.3 for missing the slow stride + 0.1 for measuring the fast one); bout 1: INDIP's one stride is
    # unpaired and our bout (+0.2) comes from a stride INDIP does not have; bout 2: no speed from us, left out
    ref = vs.RefStrides(
        np.array([0.0, 1.0, 10.0]),
        np.array([1.0, 2.0, 11.0]),
        np.array([1.0, 0.4, 0.5]),
        np.array([1.0, 0.4, 0.5]),
        np.zeros(3, dtype=bool),
        np.array([0, 0, 1]),
    )
    result = vs.TrialSpeed(
        ref,
        ours_length_m=np.array([1.1, np.nan, np.nan]),
        ours_speed_m_s=np.array([1.1, np.nan, np.nan]),
        ours_steady=np.zeros(3, dtype=bool),
        model_length_m=np.full(3, np.nan),
        projected_length_m=np.full(3, np.nan),
        bout_model_length_m=np.full(3, np.nan),
        bout_mobgap_length_m=np.full(3, np.nan),
        bout_share=np.array([0.6, 0.3, 0.0]),
        bout_speed_err_m_s=np.array([0.4, 0.2, np.nan]),
    )
    rows = {r[0]: r[1:] for r in vs.bias_split_rows([result], [np.array([0.7, 0.5, 0.9])])}
    assert rows["all"] == ["2", "+0.300", "+0.150", "+0.050", "+0.100"]
    assert rows["measured share ≥ 0.5"][:4] == ["1", "+0.400", "+0.300", "+0.100"]
    assert float(rows["measured share ≥ 0.5"][4]) == pytest.approx(0.0, abs=1e-3)
    assert rows["measured share < 0.5 (flagged)"] == ["1", "+0.200", "+0.000", "+0.000", "+0.200"]

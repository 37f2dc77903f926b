"""The IPOL dataset loader of bench/validate_ipol.py on a tiny synthetic copy of the published file layout."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import validate_ipol as vi  # noqa: E402


def test_packet_time_unwraps_the_16_bit_counter_and_keeps_gaps() -> None:
    counter = np.array([65533, 65534, 65535, 0, 1, 4, 5])  # wraps, then loses two packets
    assert np.allclose(vi.packet_time_s(counter), [0.0, 0.01, 0.02, 0.03, 0.04, 0.07, 0.08])


def _write_trial(folder: Path, height: float | None) -> None:
    n = 600
    t = np.arange(n)
    keep = (t < 200) | (t >= 203)  # three lost packets
    rows = np.column_stack([t, np.full(n, 9.81), np.zeros((n, 2)), np.zeros((n, 3)), np.zeros((n, 3))])[keep]
    header = (
        "Acquisition frequency: 100 Hz\nPacketCounter\tAcc_X\tAcc_Y\tAcc_Z\tGyr_X\tGyr_Y\tGyr_Z\tMag_X\tMag_Y\tMag_Z"
    )
    np.savetxt(folder / "3-2_lb.txt", rows, delimiter="\t", header=header, comments="")
    meta = {
        "Subject": 3,
        "Trial": 2,
        "Height": height if height is not None else float("nan"),
        "TrialBoundaries": [100, 500],
        "UTurnBoundaries": [280, 320],
        "LeftFootEvents": [[150, 210], [350, 410]],
        "RightFootEvents": [[100, 160], [250, 300]],
    }
    (folder / "3-2.json").write_text(json.dumps(meta), encoding="utf-8")


@pytest.mark.parametrize("height", [172.0, None])
def test_loader_reads_events_boundaries_and_time(tmp_path: Path, height: float | None) -> None:
    data = tmp_path / "GaitData"
    data.mkdir()
    _write_trial(data, height)
    assert vi.find_data_dir(tmp_path) == data
    (trial,) = vi.load_trials(data)
    ref = trial.reference
    # the second element of each [toe-off, heel strike] pair is the initial contact, on the packet-counter grid
    assert np.allclose(ref.ic_t_s, [1.60, 2.10, 3.00, 4.10])
    assert list(ref.ic_side) == ["right", "left", "right", "left"]
    assert np.allclose(ref.fc_t_s, [1.00, 1.50, 2.50, 3.50])
    assert (ref.wb_start_s[0], ref.wb_end_s[0]) == (1.0, 5.0)
    assert np.allclose(trial.straight.wb_start_s, [1.0, 3.2])
    assert np.allclose(trial.straight.wb_end_s, [2.8, 5.0])
    assert trial.t_s.size == 597
    assert trial.t_s[200] == pytest.approx(2.03)  # the gap stays a gap
    if height is None:
        assert np.isnan(trial.height_m)
    else:
        assert trial.height_m == pytest.approx(1.72)


def test_missing_data_is_skipped_not_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert vi.main(["--data", str(tmp_path)]) == 0
    assert "SKIPPED" in capsys.readouterr().out


def test_heel_strike_vertical_range_reads_each_foots_spike(tmp_path: Path) -> None:
    data = tmp_path / "GaitData"
    data.mkdir()
    _write_trial(data, 172.0)
    (trial,) = vi.load_trials(data)
    acc = trial.acc_ms2.copy()
    ref = trial.straight  # straight ICs: right 1.60, left 2.10, left 4.10 (3.00 is inside the U-turn)
    for t_ic, side in zip(ref.ic_t_s, ref.ic_side, strict=True):
        i = int(np.argmin(np.abs(trial.t_s - t_ic))) + 5  # a spike 50 ms after the heel strike
        acc[i, 0] += 5.0 if side == "left" else 2.0
    spiked = vi.IpolTrial(trial.reference, ref, trial.t_s, acc, trial.gyr_rad_s, trial.height_m)
    assert vi.heel_strike_vertical_range(spiked, "left") == pytest.approx(5.0)
    assert vi.heel_strike_vertical_range(spiked, "right") == pytest.approx(2.0)
    assert vi.heel_strike_vertical_range(spiked) == pytest.approx(5.0)  # median of 5, 2, 5
    assert vi.heel_strike_vertical_range(trial) == pytest.approx(0.0)  # a still trunk

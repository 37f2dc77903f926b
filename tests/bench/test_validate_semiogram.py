"""The semiogram example-trial loader and per-foot scoring of bench/validate_semiogram.py, on a tiny synthetic copy of
the published file layout (MT Manager export + ``_ge.json``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import validate_semiogram as vs  # noqa: E402
from validate_real import Detection, evaluate  # noqa: E402

HEADER_LINES = [
    "// General information: ",
    "//  MT Manager version: 2021.0.0 ",
    "// Device information: ",
    "//  DeviceId: 00B412BB",
    "// Coordinate system: ENU",
]
COLUMNS = ["PacketCounter", "SampleTimeFine", "Acc_X", "Acc_Y", "Acc_Z", "Gyr_X", "Gyr_Y", "Gyr_Z", "Roll"]


def _write_trial(folder: Path, name: str, left: list[list[int]], right: list[list[int]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    counter = (65530 + np.arange(600)) % 65536  # wraps after six samples
    keep = np.ones(600, dtype=bool)
    keep[300:302] = False  # two lost packets
    lines = [*HEADER_LINES, "\t".join(COLUMNS)]
    for c in counter[keep]:
        lines.append(f"{c}\t\t9.81\t0.1\t-0.2\t0.01\t0.02\t0.03\t5.0")  # SampleTimeFine empty, as in the files
    (folder / f"{name}_lb.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    meta = {
        "freq": 100,
        "gait start": 100,
        "gait end": 500,
        "UTurnBoundaries": [280, 320],
        "LeftFootEvents": left,
        "RightFootEvents": right,
    }
    (folder / f"{name}_ge.json").write_text(json.dumps(meta), encoding="utf-8")


def test_loader_reads_the_mt_manager_export_and_the_events(tmp_path: Path) -> None:
    _write_trial(
        tmp_path / "example_datasets" / "multiple_sclerosis",
        "M0_x",
        [[150, 210], [350, 410]],
        [[100, 160], [250, 300]],
    )
    _write_trial(tmp_path / "example_datasets" / "healthy_subject", "1", [[150, 210]], [[100, 160]])
    data = vs.find_data_dir(tmp_path)
    assert data == tmp_path / "example_datasets"
    (trial,) = vs.load_trials(data)  # healthy_subject (= IPOL dataset 1) is left out
    ref = trial.reference
    assert ref.label == "semiogram/multiple_sclerosis walk M0_x"
    assert np.allclose(ref.ic_t_s, [1.60, 2.10, 3.00, 4.10])
    assert list(ref.ic_side) == ["right", "left", "right", "left"]
    assert (ref.wb_start_s[0], ref.wb_end_s[0]) == (1.0, 5.0)
    assert np.allclose(trial.straight.wb_end_s, [2.8, 5.0])
    assert trial.t_s.size == 598
    assert trial.t_s[6] == pytest.approx(0.06)  # the counter wrap is unwrapped
    assert trial.t_s[300] == pytest.approx(3.02)  # the gap stays a gap
    assert np.allclose(trial.acc_ms2[0], [9.81, 0.1, -0.2])
    assert np.allclose(trial.gyr_rad_s[0], [0.01, 0.02, 0.03])
    assert vs.reference_consistent(ref)


def test_a_file_without_the_named_columns_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "x_lb.txt"
    path.write_text("// header\nPacketCounter\tAcc_X\n1\t9.8\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"x_lb.txt: no column\(s\) Acc_Y, Acc_Z, Gyr_X"):
        vs.read_lower_back(path)


def test_unequal_contact_counts_mark_the_reference_inconsistent(tmp_path: Path) -> None:
    folder = tmp_path / "equino_varus_foot"
    left = [[150, 210], [350, 410]]
    right = [[100, 160], [180, 200], [250, 300], [320, 330]]  # four right heel strikes against two left
    _write_trial(folder, "M0_pre", left, right)
    (trial,) = vs.load_trials(tmp_path)
    assert not vs.reference_consistent(trial.reference)


def test_side_scores_split_the_pairs_by_reference_foot(tmp_path: Path) -> None:
    _write_trial(tmp_path / "multiple_sclerosis", "M0_x", [[150, 210], [350, 410]], [[100, 160], [250, 300]])
    (trial,) = vs.load_trials(tmp_path)
    ref = trial.reference  # ICs: right 1.60, left 2.10, right 3.00, left 4.10
    # right contacts found 0.25 s late, one left 0.05 s early, the other left missed; one detection outside
    det = Detection(
        np.array([0.5, 1.85, 2.05, 3.25]),
        np.array(["left", "right", "left", "right"]),
        np.zeros(0),
        np.zeros(0, dtype=str),
    )
    s = vs.side_scores(ref, det)
    assert s["right"].n_reference == 2
    assert s["right"].recall == 1.0
    assert s["right"].mean_error_s == pytest.approx(0.25)
    assert s["left"].recall == 0.5
    assert s["left"].mean_error_s == pytest.approx(-0.05)
    (row,) = vs.side_rows([trial], [det])
    assert row[1:8] == ["2/2", "yes", "50 %", "100 %", "-50", "+250", "n/a"]


def test_missing_data_is_skipped_not_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert vs.main(["--data", str(tmp_path)]) == 0
    assert "SKIPPED" in capsys.readouterr().out


def test_an_inconsistent_reference_is_listed_but_not_pooled(tmp_path: Path) -> None:
    _write_trial(tmp_path / "multiple_sclerosis", "M0_x", [[150, 210], [350, 410]], [[100, 160], [250, 300]])
    right = [[100, 160], [180, 200], [250, 300], [320, 330]]
    _write_trial(tmp_path / "equino_varus_foot", "M0_pre", [[150, 210], [350, 410]], right)
    trials = vs.load_trials(tmp_path)
    det = Detection(np.array([1.6, 2.1, 3.0, 4.1]), np.array(["right", "left"] * 2), np.zeros(0), np.zeros(0, str))
    scores = [evaluate(t.reference, det, with_fc=False) for t in trials]
    rows = vs.scored_rows(scores, [vs.reference_consistent(t.reference) for t in trials])
    assert rows[1][0].endswith("(reference inconsistent, not pooled)")
    assert rows[2][0] == "pooled over 1 consistent trials"
    assert rows[2][1] == "4"
    assert rows[2][2] == "1.000"

"""The MovingReality trial listing, the shank-gyroscope reference events and the loader of bench/validate_stroke.py,
on synthetic shank signals and a tiny copy of the published layout (MT Manager exports, ``sensorspec.json``,
``corresponding_files.txt``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import validate_stroke as vst  # noqa: E402

FS = vst.FS_HZ
STRIDE_S = 1.6
N_STRIDES = 12
# one stride of a shank's sagittal rate (rad/s), phase 0 = the initial contact: a sharp negative dip at IC, stance,
# a negative dip at the final contact (60 % of the stride), then the mid-swing peak (80 %)
IC_PHASE, FC_PHASE, SWING_PHASE = 0.0, 0.6, 0.8


def _shank_rate(offset_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A shank's rate over ``N_STRIDES`` strides starting ``offset_s`` in, and its IC and FC sample indices."""
    t = np.arange(0.0, offset_s + (N_STRIDES + 1) * STRIDE_S, 1.0 / FS)
    ics = offset_s + STRIDE_S * np.arange(1, N_STRIDES)
    fcs = ics - STRIDE_S * (1.0 - FC_PHASE)
    swings = ics - STRIDE_S * (1.0 - SWING_PHASE)
    rate = 0.3 * np.sin(2 * np.pi * t / STRIDE_S)  # a slow stance rotation underneath
    for centre, depth, width in [(ics, -1.5, 0.03), (fcs, -1.0, 0.05), (swings, 4.0, 0.08)]:
        for c in centre:
            rate += depth * np.exp(-0.5 * ((t - c) / width) ** 2)
    return rate, np.round(ics * FS).astype(int), np.round(fcs * FS).astype(int)


def test_shank_events_find_each_contact_within_two_samples_whatever_the_gyro_sign():
    rate, ics, fcs = _shank_rate(0.5)
    for signed in (rate, -rate):  # a sensor worn the other way round
        gyr = np.column_stack([0.05 * np.ones_like(signed), signed, 0.1 * np.cos(np.arange(signed.size))])
        x = vst.shank_sagittal_rate(gyr)
        ic, fc = vst.shank_events(x)
        assert ic.size == ics.size
        assert fc.size == fcs.size
        assert np.max(np.abs(ic - ics)) <= 2
        assert np.max(np.abs(fc - fcs)) <= 2


def test_a_swing_peak_without_a_contact_in_its_window_gives_no_event():
    rate, ics, _ = _shank_rate(0.5)
    last_swing = ics[-1] - round(STRIDE_S * (1.0 - SWING_PHASE) * FS)
    rate = rate[: last_swing + 10]  # the recording ends 0.1 s after the last mid-swing peak, before its contact
    ic, _ = vst.shank_events(rate)
    assert ic.size == ics.size - 1
    assert np.max(np.abs(ic - ics[:-1])) <= 2


def test_alternation():
    assert vst.alternation(np.array(["left", "right", "left", "right"])) == 1.0
    assert vst.alternation(np.array(["left", "left", "right", "right"])) == pytest.approx(1 / 3)
    assert np.isnan(vst.alternation(np.array(["left"])))


LISTING = """1019_MR001_1Reg.c3d = exported000
1019_MR001_FBIC04.c3d = exported006
1019_MR002_FBPO.c3d'] = exported002
            1019_MR003_1Reg02.c3d = exported003
1019_MR003_FBIC.c3d = exported004 # No xsens data available; recording error
1019_MR002_Reg.c3d = exported001
"""


def test_trial_folders_read_the_listing_as_written(tmp_path):
    folder = tmp_path / "data" / "1019_pp01"
    folder.mkdir(parents=True)
    (folder / "corresponding_files.txt").write_text(LISTING, encoding="utf-8")

    trials = vst.trial_folders(vst.find_data_dir(tmp_path))

    got = [(t.trial_type, t.folder.name, t.note) for t in trials]
    assert got == [
        ("1Reg", "exported000", ""),
        ("FBIC", "exported006", ""),
        ("FBPO", "exported002", ""),
        ("1Reg", "exported003", ""),
        ("FBIC", "exported004", "No xsens data available; recording error"),
        ("1Reg", "exported001", ""),  # "Reg" is the first regular walk
    ]
    assert {t.participant for t in trials} == {"pp01"}


SENSORS = {
    "leftfoot": "00B4778E",
    "rightfoot": "00B47793",
    "leftshank": "00B47786",
    "rightshank": "00B47795",
    "lumbar": "00B47791",
}
COLUMNS = ["PacketCounter", "SampleTimeFine", "Acc_X", "Acc_Y", "Acc_Z", "Gyr_X", "Gyr_Y", "Gyr_Z"]


def _write_export(folder: Path, *, spec: bool = True, empty: str | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    left, left_ic, _ = _shank_rate(0.5)
    right, right_ic, _ = _shank_rate(0.5 + STRIDE_S / 2)
    n = right.size
    signals = {"leftshank": np.pad(left, (0, n - left.size)), "rightshank": right}
    impact = np.full(n, 9.8)
    impact[left_ic + 4] = 30.0  # the left foot lands 40 ms after each left shank contact
    for site, sensor in SENSORS.items():
        rate = signals.get(site, np.zeros(n))
        up = impact if site == "leftfoot" else np.full(n, 9.8)
        lines = ["// Coordinate system: ENU", "\t".join(COLUMNS)]
        lines += [
            f"{(65000 + i) % 65536}\t\t0.2\t0.1\t{z:.2f}\t0.01\t{r:.5f}\t-0.02"
            for i, (r, z) in enumerate(zip(rate, up, strict=True))
        ]
        path = folder / f"MT_012000E0_000-000_{sensor}.txt"
        path.write_text("" if site == empty else "\n".join(lines) + "\n", encoding="utf-8")
    if spec:
        (folder / "sensorspec.json").write_text(json.dumps({s: f"{d}.txt" for s, d in SENSORS.items()}))


def test_load_trial_puts_each_shank_contact_on_the_lumbar_clock(tmp_path):
    folder = tmp_path / "1019_pp10" / "Xsens" / "exported000"
    _write_export(folder)
    trial = vst.TrialFolder("pp10", "1Reg", folder, "")
    assert vst.usable(trial) == ""

    loaded = vst.load_trial(trial)

    ref = loaded.reference
    left = ref.ic_t_s[ref.ic_side == "left"]
    expected_left = 0.5 + STRIDE_S * np.arange(1, N_STRIDES)
    assert left == pytest.approx(expected_left, abs=0.021)
    assert vst.alternation(ref.ic_side) == 1.0
    assert vst.reference_ok(ref)
    assert ref.wb_start_s[0] == ref.ic_t_s[0]
    assert ref.wb_end_s[0] == ref.ic_t_s[-1]
    assert ref.trial == "1Reg (exported000)"
    assert ref.participant == "pp10"
    assert loaded.acc_ms2.shape == (loaded.t_s.size, 3)
    assert loaded.t_s[0] == 0.0


def test_unusable_trials_say_why(tmp_path):
    no_spec = tmp_path / "a"
    _write_export(no_spec, spec=False)
    empty = tmp_path / "b"
    _write_export(empty, empty="rightshank")

    assert "no sensorspec.json" in vst.usable(vst.TrialFolder("pp02", "1Reg", no_spec, ""))
    assert vst.usable(vst.TrialFolder("pp01", "FBPO", empty, "")) == "no data for rightshank"
    noted = vst.TrialFolder("pp03", "FBIC", empty, "No xsens data available; recording error")
    assert "recording error" in vst.usable(noted)


def test_foot_impact_offset_reads_when_the_foot_lands_after_the_shank_contact(tmp_path):
    folder = tmp_path / "e"
    _write_export(folder, empty="rightfoot")

    offset = vst.foot_impact_offset_ms(vst.TrialFolder("pp11", "2Reg", folder, ""))

    assert offset["left"] == pytest.approx(40.0, abs=10.0)
    assert np.isnan(offset["right"])  # no data for that foot

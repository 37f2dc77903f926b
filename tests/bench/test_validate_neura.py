"""bench/validate_neura.py without its (unshipped) data: parsers on tiny files in the published formats, the
reference rule on synthetic marker trajectories with a known answer, the window scoring, a skip."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.io import savemat

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import event_scoring as es  # noqa: E402
import validate_neura as vn  # noqa: E402

XSENS_HEAD = (
    "// Start Time: Unknown\n// Update Rate: {rate}Hz\n// Filter Profile: human (46.1)\n"
    "// Option Flags: AHS Disabled ICC Disabled \n// Firmware Version: 4.3.4\n"
    "PacketCounter,SampleTimeFine,Acc_X,Acc_Y,Acc_Z,Gyr_X,Gyr_Y,Gyr_Z,Mag_X,Mag_Y,Mag_Z,"
    "Quat_q0,Quat_q1,Quat_q2,Quat_q3\n"
)


def _xsens(path: Path, n: int, first_packet: int = 27626, rate: str = "100.0") -> None:
    rows = [
        f"{first_packet + k},,9.742626,-1.040498,{-1.1 + k / 1000:.6f},0.012095,{k / 100:.6f},-0.003602,"
        "1.015625,-0.422119,-0.017334,-0.299288,-0.628597,0.404265,-0.593179"
        for k in range(n)
    ]
    path.write_text(XSENS_HEAD.format(rate=rate) + "\n".join(rows) + "\n")


def test_xsens_export_columns_and_units(tmp_path: Path) -> None:
    _xsens(tmp_path / "x.txt", 50)
    e = vn.read_xsens(tmp_path / "x.txt")
    assert e.packet[0] == 27626
    assert e.packet[-1] == 27675
    assert e.acc_ms2[0].tolist() == pytest.approx([9.742626, -1.040498, -1.1])  # m/s², as exported
    assert e.gyr_rad_s[7].tolist() == pytest.approx([0.012095, 0.07, -0.003602])  # rad/s, as exported


def test_foreign_or_other_rate_exports_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a,b,c\n1,2,3\n")
    with pytest.raises(ValueError, match="not an Xsens export"):
        vn.read_xsens(tmp_path / "a.txt")
    _xsens(tmp_path / "b.txt", 10, rate="60.0")
    with pytest.raises(ValueError, match="expected 100 Hz"):
        vn.read_xsens(tmp_path / "b.txt")


def _walk(n: int = 1200, stride_s: float = 1.2, amplitude_m: float = 0.3) -> dict[str, np.ndarray]:
    """Marker trajectories (mm) of a synthetic walk at 1 m/s along y: each heel swings ±amplitude about the pelvis,
    the feet in antiphase; each toe reaches its rearmost point a quarter stride before its heel's foremost point
    comes round again."""
    t = np.arange(n) / vn.FS_HZ
    w = 2.0 * np.pi / stride_s
    pelvis_y = 1.0 * t
    out = {}
    for side, phase in (("L", 0.0), ("R", np.pi)):
        heel = amplitude_m * np.sin(w * t + phase)
        toe = 0.2 + amplitude_m * np.sin(w * t + phase - np.pi / 2.0)
        out[f"{side}HEE"] = np.column_stack([np.zeros(n), pelvis_y + heel, np.full(n, 0.07)])
        out[f"{side}TOE"] = np.column_stack([np.zeros(n), pelvis_y + toe, np.full(n, 0.05)])
    for name, z in (("LASI", 1.0), ("RASI", 1.0), ("LPSI", 1.05), ("RPSI", 1.03)):
        out[name] = np.column_stack([np.zeros(n), pelvis_y, np.full(n, z)])
    for name, z in (("LHJC", 0.91), ("RHJC", 0.89), ("LKJC", 0.5), ("RKJC", 0.5), ("LAJC", 0.1), ("RAJC", 0.1)):
        out[name] = np.column_stack([np.zeros(n), pelvis_y, np.full(n, z)])
    return {k: v * 1e3 for k, v in out.items()}


def test_zeni_reference_on_a_synthetic_walk(tmp_path: Path) -> None:
    savemat(tmp_path / "walk.mat", _walk())
    markers = vn.read_markers(tmp_path / "walk.mat", sorted(_walk()))
    assert markers["LHEE"][0, 2] == pytest.approx(0.07)  # mm → m
    ref = vn.reference_events(markers)
    assert ref.problems == ()
    assert len(ref.windows) == 1
    # heels foremost at t = 0.3 + 1.2 k (left) and 0.9 + 1.2 k (right); toes rearmost at 1.2 k and 0.6 + 1.2 k
    for kind, side, first in (("IC", "left", 0.3), ("IC", "right", 0.9), ("FC", "left", 1.2), ("FC", "right", 0.6)):
        t = ref.times(kind, side)
        assert t.size >= 8
        assert np.allclose(t, first + 1.2 * np.arange(t.size), atol=0.011), (kind, side, t)
    assert list(ref.ic_side[:4]) == ["left", "right", "left", "right"]
    # footprints: heel at +0.3 m ahead of a pelvis that moved 0.6 m in the half stride between the two ICs
    assert np.allclose(ref.step_length_m, 0.6, atol=0.01)
    assert np.allclose(ref.step_time_s, 0.6, atol=0.011)
    assert ref.leg_length_m == pytest.approx(0.90, abs=1e-6)
    assert ref.pelvis_height_m == pytest.approx(1.04, abs=1e-6)


def test_markers_in_metres_or_missing_are_refused(tmp_path: Path) -> None:
    walk = _walk()
    savemat(tmp_path / "m.mat", {k: v / 1e3 for k, v in walk.items()})
    with pytest.raises(ValueError, match="expected positions in mm"):
        vn.read_markers(tmp_path / "m.mat", sorted(walk))
    savemat(tmp_path / "few.mat", {"LHEE": walk["LHEE"]})
    with pytest.raises(ValueError, match="no marker"):
        vn.read_markers(tmp_path / "few.mat", ["LHEE", "RHEE"])


def test_trial_loader_pairs_packets_with_frames(tmp_path: Path) -> None:
    (tmp_path / "rawimu").mkdir()
    (tmp_path / "rawvicon").mkdir()
    n = 1200
    for sid in vn.SENSORS.values():
        _xsens(tmp_path / "rawimu" / f"{vn.TRIAL}-000_{sid}.txt", n)
    savemat(tmp_path / "rawvicon" / f"{vn.TRIAL}.mat", _walk(n))
    assert vn.find_data_dir(tmp_path) == tmp_path
    trial = vn.load_trial(tmp_path)
    assert trial.t_s[:3].tolist() == pytest.approx([0.0, 0.01, 0.02])  # from the packet counter
    assert set(trial.acc_ms2) == set(vn.SENSORS)
    savemat(tmp_path / "rawvicon" / f"{vn.TRIAL}.mat", _walk(n + 50))
    with pytest.raises(ValueError, match="not cut alike"):
        vn.load_trial(tmp_path)


def test_window_scoring_ignores_unpaired_detections_outside_the_window() -> None:
    ref = np.array([1.0, 2.0, 3.0])
    det = np.array([0.2, 1.05, 2.1, 3.3, 3.9])  # 0.2 and 3.9: outside [1, 3]; 3.3 pairs at ±0.5 s
    s = es.score_window(det, ref, 1.0, 3.0, 0.5)
    assert (s.tp, s.n_detected, s.n_reference) == (3, 3, 3)
    s = es.score_window(det, ref, 1.0, 3.0, 0.25)
    assert (s.tp, s.n_detected) == (2, 2)  # 3.3 is unpaired but outside the window: not a false positive
    assert es.timing_cells(s) == ["+75 ± 35", "75"]
    assert es.fmt(float("nan"), "{:.1f}") == "n/a"


def test_missing_data_is_skipped_not_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert vn.main(["--data", str(tmp_path)]) == 0
    assert "SKIPPED" in capsys.readouterr().out


def _rot(axis: int, deg: np.ndarray) -> np.ndarray:
    """(n, 3, 3) right-handed rotations about lab axis 0/1/2 by ``deg``."""
    c, s = np.cos(np.deg2rad(deg)), np.sin(np.deg2rad(deg))
    i, j = (axis + 1) % 3, (axis + 2) % 3
    r = np.zeros((deg.size, 3, 3))
    r[:, axis, axis] = 1.0
    r[:, i, i], r[:, i, j], r[:, j, i], r[:, j, j] = c, -s, s, c
    return r


def test_marker_angles_recover_a_known_pelvis_and_thigh() -> None:
    """A pelvis walking along +y at 1 m/s with known rotation (1 Hz, ±4°), obliquity (±5°) and tilt (10° + ±2°),
    placed as R = Rz(rotation) Rx(obliquity) Ry(tilt) in the walking frame (x forward, y left): the Baker sequence
    the pipeline uses; and a thigh flexing ±20° about the pelvis's lateral axis."""
    n = 600
    t = np.arange(n) / vn.FS_HZ
    rotation, obliquity = 4.0 * np.sin(2 * np.pi * t), 5.0 * np.sin(2 * np.pi * t + 1.0)
    tilt, flexion = 10.0 + 2.0 * np.sin(4 * np.pi * t), 20.0 * np.sin(2 * np.pi * t)
    to_lab = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # walking frame → lab (forward = +y)
    r = to_lab @ _rot(2, rotation) @ _rot(0, obliquity) @ _rot(1, tilt)
    centre = np.column_stack([np.zeros(n), 1.0 * t, np.full(n, 1.0)])
    local = {"LASI": (0.1, 0.12, 0.0), "RASI": (0.1, -0.12, 0.0), "LPSI": (-0.1, 0.05, 0.0), "RPSI": (-0.1, -0.05, 0.0)}
    markers = {k: centre + r @ np.array(v) for k, v in local.items()}
    hip = centre + r @ np.array([0.0, 0.09, -0.08])
    thigh = _rot(1, -flexion) @ np.array([0.0, 0.0, -0.42])  # flexion swings the knee forward (+x), walking frame
    markers |= {"LHJC": hip, "LKJC": hip + thigh @ to_lab.T}
    markers |= {"RHJC": hip, "RKJC": hip + thigh @ to_lab.T}
    pelvis, thighs = vn.marker_angles(markers, vn.FS_HZ)
    inner = slice(100, 500)  # clear of the filters' edges
    assert pelvis.valid[inner].all()
    assert pelvis.obliquity_deg[inner] == pytest.approx(obliquity[inner], abs=0.05)
    assert pelvis.tilt_deg[inner] == pytest.approx(tilt[inner], abs=0.05)
    # rotation is high-passed as the pipeline high-passes the sensor's heading: the true rotation through that filter
    expected = vn.zero_phase_butter(rotation, vn.FS_HZ, vn.OrientationConfig().heading_highpass_hz, "highpass")
    assert pelvis.rotation_deg[inner] == pytest.approx(expected[inner], abs=0.05)
    assert np.ptp(pelvis.rotation_deg[inner]) == pytest.approx(8.0, abs=0.8)
    # the thigh is read against the pelvis's horizontal forward direction, which turns with the pelvis's ±4°
    # rotation: the knee's forward reach is seen through cos(4°) (≤ 0.05° here)
    assert thighs["left"].sagittal_deg[inner] == pytest.approx(flexion[inner], abs=0.1)


def test_device_orientation_gives_the_same_up_vector_as_gravity() -> None:
    """The quaternion path of ``device_angles``: a sensor pitched 30° about its y axis has the world's up at
    (−sin 30°, 0, cos 30°) in its own frame, so with an identity alignment the pelvis tilt is 30°, obliquity 0."""
    half = np.deg2rad(30.0) / 2.0
    quat = np.tile([np.cos(half), 0.0, np.sin(half), 0.0], (5, 1))  # q0..q3: rotation of 30° about y

    class Identity:
        def apply(self, v: np.ndarray) -> np.ndarray:
            return v

    class Aligned:
        t_s = np.arange(5) / vn.FS_HZ
        alignments = dict.fromkeys(("pelvis", "left_thigh", "right_thigh"), Identity())

    trial = vn.Trial("t", Aligned.t_s, {}, {}, {}, dict.fromkeys(("pelvis", "left_thigh", "right_thigh"), quat))
    pelvis, thighs = vn.device_angles(trial, Aligned())  # type: ignore[arg-type]
    assert pelvis.tilt_deg == pytest.approx(np.full(5, 30.0))
    assert pelvis.obliquity_deg == pytest.approx(np.zeros(5), abs=1e-9)
    assert thighs["left"].sagittal_deg == pytest.approx(np.full(5, -30.0))


def test_step_geometry_from_markers_of_a_known_pose() -> None:
    """Legs held in one pose, walking direction +y: left (leading) thigh +20°, shank +15° (knee bent 5°); right
    (trailing) thigh −20°, shank −30° (knee bent 10°); thigh and shank 0.45 m, hip centres 0.9 m up."""
    n = 300
    pose = {"L": (20.0, 15.0), "R": (-20.0, -30.0)}

    def along(deg: float, length: float) -> np.ndarray:  # segment vector: forward = +y, down = −z
        return np.array([0.0, length * np.sin(np.deg2rad(deg)), -length * np.cos(np.deg2rad(deg))])

    markers = {}
    for name, y in (("LASI", 0.1), ("RASI", 0.1), ("LPSI", -0.1), ("RPSI", -0.1)):
        markers[name] = np.tile([0.12 if name[0] == "L" else -0.12, y, 1.0], (n, 1))
    for side, (thigh, shank) in pose.items():
        hip = np.array([0.09 if side == "L" else -0.09, 0.0, 0.9])
        knee = hip + along(thigh, 0.45)
        markers |= {f"{side}HJC": np.tile(hip, (n, 1)), f"{side}KJC": np.tile(knee, (n, 1))}
        markers[f"{side}AJC"] = np.tile(knee + along(shank, 0.45), (n, 1))
    trial = vn.Trial("pose", np.arange(n) / vn.FS_HZ, {}, {}, markers, {})
    sides = np.array(["right", "left", "right", "left"])
    heel = np.array([0.70, 0.70])
    ref = vn.Reference(
        np.array([0.5, 1.0, 1.5, 2.0]), sides, np.zeros(0), np.zeros(0, dtype=str), ((0.5, 2.0),),
        np.array([1.0, 2.0]), heel, np.array([0.5, 0.5]), 0.9, 1.0,
    )  # fmt: skip
    (row,) = vn.step_geometry(trial, ref)
    chord = 2 * 0.9 * np.sin(np.deg2rad(20.0))
    ankles = 0.45 * (2 * np.sin(np.deg2rad(20.0)) + np.sin(np.deg2rad(15.0)) + np.sin(np.deg2rad(30.0)))
    assert row[:3] == ["2", "0.700", f"{chord:.3f}"]
    assert float(row[3]) == pytest.approx(100 * (chord / 0.70 - 1), abs=0.05)
    assert float(row[4]) == pytest.approx(ankles, abs=0.001)
    assert row[6:] == ["5.0 ± 0.0", "10.0 ± 0.0"]


def test_toe_off_fraction_of_a_known_thigh_swing() -> None:
    """A thigh angle swinging from −10° to +30° and back once a second (a cosine): 0.15 s after the minimum it has
    made (1 − cos 54°)/2 ≈ 0.206 of the excursion, 0.25 s after it 0.5, at the extremes 0 and 1; near the data's
    ends or over a NaN, NaN."""
    fs = 100.0
    t = np.arange(0, 6, 1 / fs)
    angle = 10 - 20 * np.cos(2 * np.pi * t)  # minimum at whole seconds, maximum half a second later
    start = 2.0
    got = vn.toe_off_fractions(angle, fs, np.array([start + 0.15, start + 0.25, start, start + 0.5, 0.1, 5.9]))
    assert got[0] == pytest.approx((1 - np.cos(0.3 * np.pi)) / 2, abs=1e-6)
    assert got[1] == pytest.approx(0.5, abs=1e-6)
    assert got[2] == pytest.approx(0.0, abs=1e-9)
    assert got[3] == pytest.approx(1.0, abs=1e-9)
    assert np.isnan(got[4])
    assert np.isnan(got[5])
    holed = angle.copy()
    holed[int(round((start + 0.4) * fs))] = np.nan
    assert np.isnan(vn.toe_off_fractions(holed, fs, np.array([start + 0.15]))[0])


def test_tab_separated_export_with_an_orientation_matrix(tmp_path: Path) -> None:
    """MT Manager 2022 exports (the Kuopio files): tab-separated, SampleTimeFine NaN, orientation as Mat[i][j]."""
    rotation = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # 90° about z, sensor → global
    head = "// Coordinate system: ENU\nPacketCounter\tSampleTimeFine\tAcc_X\tAcc_Y\tAcc_Z\tGyr_X\tGyr_Y\tGyr_Z\t"
    head += "\t".join(f"Mat[{i}][{j}]" for j in (1, 2, 3) for i in (1, 2, 3)) + "\n"
    cells = "\t".join(f"{rotation[i - 1, j - 1]:.6f}" for j in (1, 2, 3) for i in (1, 2, 3))
    rows = [f"{4097 + k:05d}\tNaN\t9.48\t-0.97\t2.49\t0.0005\t{k / 100:.6f}\t-0.0066\t{cells}" for k in range(5)]
    (tmp_path / "t.txt").write_text(head + "\n".join(rows) + "\n")
    e = vn.read_xsens(tmp_path / "t.txt")
    assert e.packet.tolist() == [4097, 4098, 4099, 4100, 4101]
    assert e.acc_ms2[0].tolist() == pytest.approx([9.48, -0.97, 2.49])
    assert e.gyr_rad_s[3, 1] == pytest.approx(0.03)
    assert np.allclose(np.abs(e.quat[0]), [np.sqrt(0.5), 0.0, 0.0, np.sqrt(0.5)], atol=1e-6)  # q0..q3


def test_lowpass_filters_each_seen_stretch_and_keeps_the_gaps() -> None:
    x = np.sin(np.arange(300) / 20.0)[:, None] * np.ones((1, 3))
    x[100:140] = np.nan
    y = vn.lowpass(x)
    assert np.isnan(y[100:140]).all()
    assert np.isfinite(y[:100]).all()
    assert np.isfinite(y[140:]).all()
    assert np.allclose(y[20:80], x[20:80], atol=0.01)  # a slow sine passes a 6 Hz low-pass

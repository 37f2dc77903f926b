"""bench/validate_kuopio.py without its (unshipped) data: the .trc parser, gap filling, the force-plate contacts
and their foot, the marker rule on a synthetic walk, scoring in the plates' windows, stance times, a skip."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import validate_kuopio as vk  # noqa: E402
import validate_neura as vn  # noqa: E402


def _trc(path: Path, markers: dict[str, np.ndarray], units: str = "mm", rate: str = "100.000000") -> None:
    names = list(markers)
    n = next(iter(markers.values())).shape[0]
    lines = [
        f"PathFileType\t4\t(X/Y/Z)\t{path.name}",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
        f"{rate}\t{rate}\t{n}\t{len(names)}\t{units}\t{rate}\t0\t{n}",
        "Frame#\tTime\t" + "\t\t\t".join(names) + "\t\t",
        "\t\t" + "\t".join(f"X{k + 1}\tY{k + 1}\tZ{k + 1}" for k in range(len(names))),
        "",
    ]
    for i in range(n):
        cells = [f"{v:.4f}" if np.isfinite(v) else "nan" for name in names for v in markers[name][i]]
        lines.append(f"{i + 1}\t{i / 100:.2f}\t" + "\t".join(cells))
    path.write_text("\n".join(lines) + "\n")


def test_trc_markers_in_metres_with_nan_where_unseen(tmp_path: Path) -> None:
    a = np.array([[10.0, 20.0, 900.0], [np.nan, np.nan, np.nan], [12.0, 22.0, 902.0]])
    _trc(tmp_path / "w.trc", {"Pelvis1": a, "LFoot1": a + 1.0})
    m = vk.read_trc(tmp_path / "w.trc")
    assert set(m) == {"Pelvis1", "LFoot1"}
    assert m["Pelvis1"][0].tolist() == pytest.approx([0.010, 0.020, 0.900])  # mm → m
    assert np.isnan(m["Pelvis1"][1]).all()
    assert m["LFoot1"][2].tolist() == pytest.approx([0.013, 0.023, 0.903])


def test_foreign_or_unexpected_trc_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "x.trc").write_text("a,b,c\n1,2,3\n")
    with pytest.raises(ValueError, match="not a .trc"):
        vk.read_trc(tmp_path / "x.trc")
    a = np.zeros((3, 3))
    _trc(tmp_path / "in.trc", {"P": a}, units="in")
    with pytest.raises(ValueError, match="expected mm or m"):
        vk.read_trc(tmp_path / "in.trc")
    _trc(tmp_path / "r.trc", {"P": a}, rate="200.000000")
    with pytest.raises(ValueError, match="expected 100 Hz"):
        vk.read_trc(tmp_path / "r.trc")


def test_fill_gaps_fills_short_interior_gaps_only() -> None:
    x = np.column_stack([np.arange(40.0)] * 3)
    x[:3] = np.nan  # before first seen: stays
    x[10:13] = np.nan  # short: filled linearly
    x[20:30] = np.nan  # longer than 5: stays
    y = vk.fill_gaps(x, 5)
    assert np.isnan(y[:3]).all()
    assert y[10:13, 0].tolist() == pytest.approx([10.0, 11.0, 12.0])
    assert np.isnan(y[20:30]).all()
    assert np.isnan(x[10]).all()  # the input is not changed


def _ankles(n: int, still: str, moving_speed: float = 1.5) -> dict[str, np.ndarray]:
    t = np.arange(n) / vn.FS_HZ
    out = {}
    for side in vn.SIDES:
        y = np.zeros(n) if side == still else moving_speed * t
        out[side] = np.column_stack([np.zeros(n), y, np.full(n, 0.08)])
    return out


def test_plate_contacts_their_times_and_foot() -> None:
    rate, n = 1000.0, 3000
    load = np.zeros((2, n))
    load[0, 1000:1600] = -700.0  # a contact of 0.6 s (this lab's Fz is negative under load)
    load[0, 2000:2100] = -700.0  # 0.1 s: too short to be a footfall
    load[1, 2500:] = -700.0  # runs to the end of the recording: left out
    plates = vk.Plates(load, rate, np.zeros((2, 3)))
    contacts = vk.plate_contacts(plates, _ankles(300, still="right"))
    assert len(contacts) == 1
    c = contacts[0]
    assert (c.plate, c.side) == (1, "right")
    assert c.ic_s == pytest.approx(1.0)
    assert c.fc_s == pytest.approx(1.6)
    # both feet moving alike: the foot cannot be told
    both = _ankles(300, still="")
    assert vk.plate_contacts(plates, both)[0].side == ""


def _walk_markers(n: int = 900, stride_s: float = 1.0, amplitude_m: float = 0.3) -> dict[str, np.ndarray]:
    """Markers (m) of a synthetic walk at 1.2 m/s along y: each ankle centre swings ±amplitude about the pelvis
    cluster, the feet in antiphase; unseen (NaN) for the first and last 0.5 s as outside a capture volume."""
    t = np.arange(n) / vn.FS_HZ
    w = 2.0 * np.pi / stride_s
    y = 1.2 * t
    out: dict[str, np.ndarray] = {}
    for name in vk.PELVIS_CLUSTER:
        out[name] = np.column_stack([np.zeros(n), y - 0.1, np.full(n, 0.97)])
    for side, phase in (("L", 0.0), ("R", np.pi)):
        out[f"{side}AJC"] = np.column_stack([np.zeros(n), y + amplitude_m * np.sin(w * t + phase), np.full(n, 0.08)])
        out[f"{side}HJC"] = np.column_stack([np.full(n, 0.12 if side == "L" else -0.12), y, np.full(n, 0.9)])
        out[f"{side}KJC"] = np.column_stack([np.zeros(n), y, np.full(n, 0.5)])
    for v in out.values():
        v[:50] = np.nan
        v[-50:] = np.nan
    return out


def test_marker_rule_on_a_synthetic_walk() -> None:
    ref = vk.marker_reference(_walk_markers(), leg_length_m=0.9)
    assert ref.problems == ()
    assert len(ref.windows) == 1
    # ankles foremost (relative to the pelvis) at t = 0.25 + k (left) and 0.75 + k (right); rearmost half a stride on
    for kind, side, first in (("IC", "left", 0.25), ("IC", "right", 0.75), ("FC", "left", 0.75), ("FC", "right", 0.25)):
        t = ref.times(kind, side)
        assert t.size >= 5, (kind, side, t)
        k = np.round(t - first)
        assert np.allclose(t, first + k, atol=0.011), (kind, side, t)
    # footprints: each ankle 0.3 m ahead of the pelvis at its IC, the pelvis 0.6 m further on at the next one
    assert np.allclose(ref.step_length_m, 0.6, atol=0.01)
    assert np.allclose(ref.step_time_s, 0.5, atol=0.011)
    assert ref.leg_length_m == 0.9
    assert np.isnan(ref.pelvis_height_m)


def test_plate_windows_count_false_contacts_only_between_the_plates() -> None:
    contacts = [
        vk.PlateContact(3, 5.548, 6.121, "left", 0.03),
        vk.PlateContact(2, 5.989, 6.555, "right", 0.03),
        vk.PlateContact(1, 6.422, 7.004, "left", 0.03),
        vk.PlateContact(4, 7.5, 8.0, "", 0.9),  # foot not told: not a reference
    ]
    plates = vk.plate_reference(contacts, 0.9)
    assert plates.ic_t_s.tolist() == [5.548, 5.989, 6.422]
    assert plates.fc_side.tolist() == ["left", "right", "left"]
    # ours: every plate event 40 ms late, plus the ICs before and after the plates, and one spurious left IC
    ic = [(5.1, "right"), (5.588, "left"), (6.029, "right"), (6.2, "left"), (6.462, "left"), (6.87, "right")]
    fc = [(5.65, "right"), (6.161, "left"), (6.595, "right"), (7.044, "left"), (7.45, "right")]
    events = [(t, s, "IC") for t, s in ic] + [(t, s, "FC") for t, s in fc]
    det = vn.Detection(
        np.array([e[0] for e in events]), np.array([e[1] for e in events]), np.array([e[2] for e in events]), {}
    )
    s = vk.plate_scores(det, plates)
    left_ic = s[("IC", "left", 0.5)]
    assert (left_ic.n_reference, left_ic.n_detected) == (2, 3)  # the spurious 6.2 s IC counts; 5.1 and 6.87 do not
    assert np.allclose(left_ic.errors_s, 0.04)
    right_fc = s[("FC", "right", 0.5)]
    assert (right_fc.n_reference, right_fc.n_detected) == (1, 1)  # 5.65 and 7.45 are outside the FC window
    rows = vk.stance_rows("x", det, contacts)
    assert [abs(float(r[5])) for r in rows] == [0.0, 0.0, 0.0]  # both events 40 ms late: stance time right
    assert rows[0][3] == "0.573"


def test_read_plates_without_the_c3d_package_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "c3d", None)  # import c3d → ImportError
    (tmp_path / "t.c3d").write_bytes(b"\x02P" + bytes(510))
    with pytest.raises(ValueError, match="needs the c3d package"):
        vk.read_plates(tmp_path / "t.c3d")


def test_leg_length_from_the_standing_trial_of_the_same_person(tmp_path: Path) -> None:
    walk = _walk_markers()
    n = 20
    standing = {
        vk.JOINT_CENTRES["LHJC"]: np.tile([120.0, 0.0, 905.0], (n, 1)),
        vk.JOINT_CENTRES["RHJC"]: np.tile([-120.0, 0.0, 895.0], (n, 1)),
    }
    _trc(tmp_path / "static.trc", standing)
    leg, source = vk.leg_length(walk, tmp_path / "static.trc")
    assert leg == pytest.approx(0.900)
    assert "standing trial" in source
    standing[vk.JOINT_CENTRES["LHJC"]][:, 0] = 150.0  # 270 mm apart: someone else
    _trc(tmp_path / "other.trc", standing)
    leg, source = vk.leg_length(walk, tmp_path / "other.trc")
    assert leg == pytest.approx(0.9)  # the walk's own hip-centre height
    assert "≠" in source


def test_missing_data_is_skipped_not_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert vk.main(["--data", str(tmp_path / "nowhere")]) == 0
    assert "SKIPPED" in capsys.readouterr().out
    assert vk.main(["--data", str(tmp_path)]) == 0
    assert "SKIPPED" in capsys.readouterr().out


def test_transients_and_loading_rate_of_a_known_contact() -> None:
    n = 600
    t = np.arange(n) / vn.FS_HZ
    rng = np.random.default_rng(0)
    acc = {f"{s}_{seg}": np.column_stack([np.zeros(n), np.zeros(n), 9.81 + 0.01 * rng.standard_normal(n)])
           for s in vn.SIDES for seg in ("thigh", "shank", "foot")}  # fmt: skip
    acc["left_shank"][204, 2] += 3.0  # a transient 40 ms after the contact at 2.0 s
    trial = vn.Trial("x", t, acc, {}, {}, {})
    rate = 1000.0
    load = np.zeros((1, 6000))
    ramp = np.arange(600)
    load[0, 2000:2600] = -np.minimum(ramp * 5.0 + np.where(ramp > 30, (ramp - 30) * 10.0, 0.0), 800.0)
    plates = vk.Plates(load, rate, np.zeros((1, 3)))
    contacts = [vk.PlateContact(1, 2.0, 2.6, "left", 0.03)]
    (row,) = vk.transient_rows(trial, contacts, plates)
    assert row[:2] == ["1", "left"]
    assert row[3].startswith("+40 (")  # the shank
    assert row[2] == "n/a"  # the thigh saw nothing
    assert row[5] == "+30"  # the load rises faster from 30 ms after contact on
    assert row[7] == "800"

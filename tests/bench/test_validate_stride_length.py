"""bench/validate_stride_length.py without its (unshipped) data: the foot's zero-velocity integration on synthetic
footsteps with known displacement, tilted and turning sensors, lost samples, and the stride and heading tables."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import validate_stride_length as vsl  # noqa: E402
from validate_speed import RefStrides  # noqa: E402

FS = vsl.FS_HZ
G = 9.81


def _footstep(
    forward_m: float, lateral_m: float, swing_s: float, yaw_rate_rad_s: float, mount: Rotation, still_s: float = 0.3
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """A foot that stands, moves by (forward, lateral) with a smooth velocity bump while turning about the vertical
    at a constant rate, and stands again: its sensor's acceleration and angular rate (sensor frame) on a 100 Hz grid,
    and the still samples before and after."""
    n_still, n_swing = int(still_s * FS), int(swing_s * FS)
    t = np.arange(2 * n_still + n_swing) / FS
    tau = np.clip(t - still_s, 0.0, swing_s)
    moving = (t > still_s) & (t < still_s + swing_s)
    # displacement s(τ) = D (τ/T − sin(2πτ/T)/2π): velocity and acceleration zero at both ends
    shape_acc = np.where(moving, (2 * np.pi / swing_s**2) * np.sin(2 * np.pi * tau / swing_s), 0.0)
    a_world = np.column_stack([forward_m * shape_acc, lateral_m * shape_acc, np.zeros(t.size)])
    yaw = yaw_rate_rad_s * tau  # turns only while it moves
    attitude = Rotation.from_euler("z", yaw[:, None]) * mount  # sensor → world
    acc = attitude.inv().apply(a_world + np.array([0.0, 0.0, G]))
    w_world = np.column_stack([np.zeros(t.size), np.zeros(t.size), np.where(moving, yaw_rate_rad_s, 0.0)])
    gyr = attitude.inv().apply(w_world)
    # a flat foot is never perfectly still: a slight sway, stillest mid-stance, where the reference starts and ends
    mid = np.array([still_s / 2, still_s + swing_s + still_s / 2])
    gyr[:, 0] += np.where(moving, 0.0, 0.002 * np.min(np.abs(t[:, None] - mid[None, :]), axis=1))
    return acc, gyr, n_still // 2, n_still + n_swing + n_still // 2


@pytest.mark.parametrize(
    ("forward", "lateral", "yaw_rate", "mount"),
    [
        (1.3, 0.0, 0.0, Rotation.identity()),
        (1.3, 0.1, 0.0, Rotation.from_euler("xyz", [20.0, -35.0, 70.0], degrees=True)),
        (0.6, 0.2, 1.5, Rotation.from_euler("xyz", [-10.0, 40.0, 200.0], degrees=True)),
    ],
)
def test_zero_velocity_integration_recovers_the_footstep(
    forward: float, lateral: float, yaw_rate: float, mount: Rotation
) -> None:
    acc, gyr, start, end = _footstep(forward, lateral, 0.45, yaw_rate, mount)
    d = vsl.footstep_displacements(acc, gyr, np.array([start]), np.array([end]))
    assert np.hypot(d[0, 0], d[0, 1]) == pytest.approx(np.hypot(forward, lateral), rel=0.01)
    assert abs(d[0, 2]) < 0.01  # it did not climb


def test_footsteps_are_integrated_together_and_a_lost_sample_costs_only_its_own() -> None:
    a1, g1, s1, e1 = _footstep(1.2, 0.0, 0.4, 0.0, Rotation.identity())
    a2, g2, s2, e2 = _footstep(0.8, 0.0, 0.5, 0.0, Rotation.from_euler("y", 30, degrees=True))
    acc, gyr = np.vstack([a1, a2, a1]), np.vstack([g1, g2, g1])
    off2, off3 = a1.shape[0], a1.shape[0] + a2.shape[0]
    start = np.array([s1, off2 + s2, off3 + s1])
    end = np.array([e1, off2 + e2, off3 + e1])
    acc[off3 + s1 + 20] = np.nan  # a lost packet inside the third footstep
    d = vsl.footstep_displacements(acc, gyr, start, end)
    np.testing.assert_allclose(np.hypot(d[:2, 0], d[:2, 1]), [1.2, 0.8], rtol=0.01)
    assert np.isnan(d[2]).all()
    edge = vsl.footstep_displacements(acc, gyr, np.array([0]), np.array([e1]))  # no still samples before
    assert np.isnan(edge).all()


def test_reference_strides_run_heel_strike_to_heel_strike_and_flag_the_turn(tmp_path: Path) -> None:
    """Two feet, three swings each, written as the dataset's files: strides from each foot's previous heel strike,
    the first swing (from standing) left out, lengths from the integration, U-turn overlap flagged."""
    lengths = {"left": [0.6, 1.2, 1.0], "right": [1.1, 0.9, 0.5]}
    swings: dict[str, list[list[int]]] = {}
    for side, code in vsl.FOOT_FILE.items():
        parts_a, parts_g = [], []
        events = []
        offset = 0
        for k, length in enumerate(lengths[side]):
            a, g, _, _ = _footstep(length, 0.0, 0.4, 0.0, Rotation.identity(), still_s=0.6 if k == 0 else 0.5)
            still = int((0.6 if k == 0 else 0.5) * FS)
            events.append([offset + still, offset + still + 40])
            parts_a.append(a)
            parts_g.append(g)
            offset += a.shape[0]  # consecutive footsteps: stance between them
        acc, gyr = np.vstack(parts_a), np.vstack(parts_g)
        counter = np.arange(acc.shape[0])
        rows = np.column_stack([counter, acc, gyr, np.zeros((acc.shape[0], 3))])
        columns = "PacketCounter\tAcc_X\tAcc_Y\tAcc_Z\tGyr_X\tGyr_Y\tGyr_Z\tMag_X\tMag_Y\tMag_Z"
        header = "Acquisition frequency: 100 Hz\n" + columns
        np.savetxt(tmp_path / f"9-1_{code}.txt", rows, delimiter="\t", header=header, comments="")
        swings[side] = events
    meta = {
        "LeftFootEvents": swings["left"],
        "RightFootEvents": swings["right"],
        "UTurnBoundaries": [swings["left"][1][1] - 5, swings["left"][1][1] + 5],
    }
    (tmp_path / "9-1.json").write_text(json.dumps(meta), encoding="utf-8")
    ref, totals = vsl.reference_strides(tmp_path, "9-1", meta)
    assert ref.start_s.size == 4  # two strides per foot
    np.testing.assert_allclose(np.sort(ref.length_m), np.sort([1.2, 1.0, 0.9, 0.5]), rtol=0.02)
    assert totals["left"] == pytest.approx(2.8, rel=0.02)
    assert totals["right"] == pytest.approx(2.5, rel=0.02)
    left_first = np.flatnonzero(np.isclose(ref.end_s, swings["left"][1][1] / FS))
    assert ref.turning[left_first].all()
    assert np.all(ref.end_s > ref.start_s)
    np.testing.assert_allclose(ref.speed_m_s, ref.length_m / (ref.end_s - ref.start_s))


def _walk(
    ref_len: list[float], ours: list[float], model: list[float], heading: list[float], turning: list[bool]
) -> vsl.WalkResult:
    n = len(ref_len)
    ref = RefStrides(
        np.arange(n, dtype=float),
        np.arange(n, dtype=float) + 1.0,
        np.asarray(ref_len),
        np.asarray(ref_len),
        np.asarray(turning),
        np.zeros(n, dtype=np.int64),
    )
    o = np.asarray(ours)
    return vsl.WalkResult(
        "01",
        ref,
        {"left": 20.5},
        o,
        o,
        np.isfinite(o),
        np.asarray(model),
        0.5 * np.asarray(model),
        np.asarray(heading),
        0.05,
        -0.02,
    )


def test_tables_from_known_strides() -> None:
    walk = _walk(
        [1.3, 1.3, 0.6, 0.5],
        [1.2, np.nan, 0.8, np.nan],
        [1.2, 1.25, 0.9, 1.0],
        [2.0, 5.0, 70.0, 100.0],
        [False, False, True, True],
    )
    rows = {r[0]: r for r in vsl.stride_rows([walk])}
    assert rows["all"][1:3] == ["4", "50"]
    assert rows["straight"][3:6] == ["1.30", "1.30", "-0.100"]
    assert rows["U-turn"][3:6] == ["0.60", "0.50", "+0.200"]
    heading = {r[0]: r for r in vsl.heading_rows([walk])}
    assert heading["0–10°"][1:] == ["2", "0", "1.30", "1.23", "0.94", "0.47"]
    assert heading["60–90°"][5] == "1.50"
    assert heading["90–120°"][5] == "2.00"
    speed = vsl.speed_rows([walk, walk])
    assert speed[0][1:4] == ["2", "0.050", "+0.050"]
    assert speed[1][1:4] == ["2", "0.020", "-0.020"]
    assert vsl.reference_rows([walk])[0][1:] == ["1", "20.5", "20.5–20.5", "100 %"]


def test_a_walk_without_a_result_does_not_count_its_strides_as_missed() -> None:
    measured = _walk([1.3, 1.3], [1.2, 1.4], [1.2, 1.2], [1.0, 1.0], [False, False])
    refused = vsl.WalkResult(
        **{
            **_walk([1.3, 1.3], [np.nan] * 2, [np.nan] * 2, [1.0] * 2, [False] * 2).__dict__,
            "ours_steady": np.ones(2, dtype=bool),
            "error": "no stature",
        }
    )
    rows = {r[0]: r for r in vsl.stride_rows([measured, refused])}
    assert rows["all"][1:3] == ["2", "100"]
    assert rows["paired with our steady strides"][1] == "2"


def _with_mobgap(walk: vsl.WalkResult, participant: str, ours: float, theirs: float) -> vsl.WalkResult:
    peer = vsl.PeerResult(walk.ours_length_m + 0.1, walk.ours_speed_m_s + 0.1, theirs, 2 * theirs)
    return vsl.WalkResult(
        **{**walk.__dict__, "participant": participant, "walk_speed_err_m_s": ours, "straight_speed_err_m_s": ours}
        | {"mobgap": peer}
    )


def test_side_by_side_with_mobgap_from_known_errors() -> None:
    base = _walk([1.3, 1.3, 0.6], [1.2, np.nan, 0.8], [1.2] * 3, [1.0] * 3, [False, False, True])
    walks = [
        _with_mobgap(base, "01", 0.05, -0.12),
        _with_mobgap(base, "01", -0.03, 0.02),  # participant 01: ours 0.04, mobgap 0.07
        _with_mobgap(base, "02", 0.20, 0.05),  # participant 02: mobgap closer
        _with_mobgap(base, "03", np.nan, 0.05),  # not common: left out
        vsl.WalkResult(**{**base.__dict__, "participant": "04"}),  # mobgap not run: left out
    ]
    rows = vsl.side_by_side_rows(walks)
    whole = {r[1]: r for r in rows if r[0].startswith("whole")}
    assert whole["imugait"][2:] == ["3", "0.093", "+0.073", "67 %", "1 of 2"]
    assert whole["mobgap pipeline"][2:] == ["3", "0.063", "-0.017", "67 %", "1 of 2"]
    straight = {r[1]: r for r in rows if r[0].startswith("straight")}
    assert straight["mobgap pipeline"][3:5] == ["0.127", "-0.033"]
    strides = {r[0]: r for r in vsl.mobgap_stride_rows(walks)}
    assert list(strides) == ["all", "straight", "U-turn"]
    assert strides["all"][1:3] == ["12", "67"]
    assert strides["straight"][5] == "+0.000"  # 1.2 + 0.1 against 1.3
    assert strides["U-turn"][5] == "+0.300"


def test_walk_mean_keeps_strides_inside_and_away_from_the_turn() -> None:
    start, end = np.array([0.0, 1.0, 2.0, 3.0, 4.0]), np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    values = np.array([1.0, 2.0, 3.0, np.nan, 5.0])
    assert vsl.walk_mean(start, end, values, (0.0, 5.0), None) == pytest.approx(11.0 / 4)
    assert vsl.walk_mean(start, end, values, (0.5, 5.0), (1.5, 2.5)) == pytest.approx(5.0)
    assert np.isnan(vsl.walk_mean(start, end, values, (10.0, 11.0), None))


def test_a_walk_the_pipeline_refuses_gives_an_error_row_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.errors import ImuGaitError

    json_path = tmp_path / "1-1.json"
    json_path.write_text("{}", encoding="utf-8")
    ref = RefStrides(*(np.zeros(2) for _ in range(4)), np.zeros(2, dtype=bool), np.zeros(2, dtype=np.int64))
    monkeypatch.setattr(vsl, "load_trial", lambda p: type("T", (), {"participant": "01"})())
    monkeypatch.setattr(vsl, "reference_strides", lambda d, name, meta: (ref, {"left": 20.1}))

    def refuse(trial: object, root: Path) -> None:
        raise ImuGaitError("no pelvis stream in this file")

    monkeypatch.setattr(vsl, "import_session", refuse)
    walk = vsl.run_walk(tmp_path, json_path)
    assert walk.error == "no pelvis stream in this file"
    assert walk.projected_length_m.shape == (2,)
    assert np.isnan(walk.projected_length_m).all()
    assert np.isnan(walk.walk_speed_err_m_s)
    assert walk.foot_totals_m == {"left": 20.1}

"""Subject profiles: validation, versioning, storage, and involved/uninvolved orientation."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.errors import DataContractError
from pipeline.metrics import SummaryRow
from pipeline.subjects import (
    SUBJECT_FORMAT,
    SubjectProfile,
    involved_rows,
    load_profile,
    merge_rows,
    parse_side,
    read_profile,
    save_profile,
    subject_path,
    update_profile,
)


def test_round_trip_and_atomic_location(tmp_path: Path) -> None:
    profile = SubjectProfile("p01", height_m=1.75, leg_length_m=0.91, affected_side="right", notes="R knee OA")
    path = save_profile(tmp_path, profile)
    assert path == tmp_path / "p01" / "subject.json"
    assert load_profile(tmp_path, "p01") == profile
    assert not list(path.parent.glob(".*tmp"))  # written through a temporary file, then renamed


@given(
    height=st.one_of(st.none(), st.floats(1.2, 2.2)),
    side=st.sampled_from(["left", "right", None]),
    notes=st.text(max_size=30),
)
def test_json_round_trip(height: float | None, side: str | None, notes: str) -> None:
    profile = SubjectProfile("s", height_m=height, affected_side=side, notes=notes)  # type: ignore[arg-type]
    assert SubjectProfile.from_json(profile.to_json()) == profile


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("height_m", 175.0, "looks like centimetres — give metres"),
        ("height_m", 1750.0, "looks like millimetres"),
        ("leg_length_m", 91.0, "looks like centimetres"),
        ("height_m", 3.5, "outside the plausible range"),
        ("height_m", float("nan"), "must be a number of metres"),
        ("pelvis_sensor_height_m", "tall", "must be a number of metres"),
    ],
)
def test_rejects_bad_lengths(field: str, value: object, message: str) -> None:
    with pytest.raises(DataContractError, match=message):
        SubjectProfile("p01", **{field: value})  # type: ignore[arg-type]


def test_rejects_leg_longer_than_height_and_bad_side() -> None:
    with pytest.raises(DataContractError, match="not shorter than height"):
        SubjectProfile("p01", height_m=1.0, leg_length_m=1.1)
    with pytest.raises(DataContractError, match="affected_side"):
        SubjectProfile("p01", affected_side="both")  # type: ignore[arg-type]
    with pytest.raises(DataContractError, match="not usable as a folder name"):
        SubjectProfile("../etc")


def test_leg_length_estimated_from_height() -> None:
    leg = SubjectProfile("p01", height_m=1.80).leg_length
    assert leg is not None
    assert leg.value_m == pytest.approx(0.954)  # 0.530 × 1.80 (Winter 2009)
    assert leg.estimated
    measured = SubjectProfile("p01", height_m=1.80, leg_length_m=0.93).leg_length
    assert measured is not None
    assert (measured.value_m, measured.estimated) == (0.93, False)
    assert SubjectProfile("p01").leg_length is None


def test_pendulum_length_is_the_lower_back_height_measured_or_estimated() -> None:
    """The pendulum is the L5 sensor's height (what the model's K was fitted with): measured, else the iliac-crest
    height estimated from stature (0.607), else from a measured leg length (1.179); never the leg length itself."""
    measured = SubjectProfile("p01", height_m=1.80, leg_length_m=0.9, pelvis_sensor_height_m=0.97).pendulum_length
    from_stature = SubjectProfile("p01", height_m=1.80, leg_length_m=0.9).pendulum_length
    from_leg = SubjectProfile("p01", leg_length_m=0.9).pendulum_length
    assert measured is not None
    assert from_stature is not None
    assert from_leg is not None
    assert (measured.value_m, measured.source, measured.estimated) == (0.97, "sensor height", False)
    assert (from_stature.source, from_stature.estimated) == ("stature", True)
    assert from_stature.value_m == pytest.approx(1.0926)  # 0.607 × 1.80
    assert (from_leg.source, from_leg.estimated) == ("leg length", True)
    assert from_leg.value_m == pytest.approx(1.0611)  # 1.179 × 0.90
    assert SubjectProfile("p01").pendulum_length is None
    assert SubjectProfile("p01").pendulum_length_m is None


def test_newer_format_and_broken_files_name_the_problem(tmp_path: Path) -> None:
    path = subject_path(tmp_path, "p01")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"subject": "p01", "format": SUBJECT_FORMAT + 1}))
    with pytest.raises(DataContractError, match="newer than this imugait understands") as info:
        read_profile(path)
    assert info.value.path == path
    path.write_text("{not json")
    with pytest.raises(DataContractError, match="not valid JSON"):
        read_profile(path)
    path.write_text(json.dumps({"subject": "p01", "height_cm": 175}))
    with pytest.raises(DataContractError, match="unknown field"):
        read_profile(path)
    path.write_text(json.dumps({"subject": "p01", "height_m": 175}))
    with pytest.raises(DataContractError, match="centimetres") as info:
        read_profile(path)
    assert str(path) in str(info.value)
    assert read_profile(tmp_path / "missing.json") is None


def test_update_keeps_other_fields(tmp_path: Path) -> None:
    update_profile(tmp_path, "p01", height_m=1.70, notes="first visit")
    profile = update_profile(tmp_path, "p01", affected_side="left")
    assert (profile.height_m, profile.notes, profile.affected_side) == (1.70, "first visit", "left")
    assert parse_side("None") is None
    assert parse_side("RIGHT") == "right"
    with pytest.raises(DataContractError):
        parse_side("up")


def _rows(left: float, right: float) -> list[SummaryRow]:
    return [
        SummaryRow("stance_time_s", "left", left, "s", 30),
        SummaryRow("stance_time_s", "right", right, "s", 28),
        SummaryRow("stance_time_si_pct", "both", 0.0, "%", 28),
    ]


def test_involved_orientation_and_side_swap() -> None:
    rows = _rows(left=0.76, right=0.68)
    right = {(r.metric, r.side): r for r in involved_rows(rows, "right")}
    assert right[("stance_time_s", "involved")].value == 0.68
    assert right[("stance_time_s", "uninvolved")].n == 30
    si = right[("stance_time_si_involved_pct", "both")].value
    assert si == pytest.approx((0.68 - 0.76) / 0.72 * 100)  # shorter stance on the painful side: negative
    left = {(r.metric, r.side): r for r in involved_rows(rows, "left")}
    assert left[("stance_time_si_involved_pct", "both")].value == pytest.approx(-si)  # swap sides -> sign flips
    missing = {(r.metric, r.side): r for r in involved_rows(rows, "right")}[("step_time_si_involved_pct", "both")]
    assert math.isnan(missing.value)
    assert missing.n == 0


def test_merge_rows_replaces_in_place_and_appends() -> None:
    rows = _rows(0.7, 0.7)
    merged = merge_rows(rows, [SummaryRow("stance_time_s", "right", 0.5, "s", 3), SummaryRow("x", "both", 1, "", 1)])
    assert [r.metric for r in merged] == ["stance_time_s", "stance_time_s", "stance_time_si_pct", "x"]
    assert merged[1].value == 0.5

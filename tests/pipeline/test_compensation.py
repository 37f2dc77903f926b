"""Compensation report: healthy flags nothing, antalgic_right flags its patterns, missing metrics are notes."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pipeline.catalog import METRICS
from pipeline.compensation import CompensationThresholds, compensation_report, to_table
from pipeline.metrics import SummaryRow
from pipeline.run import process_session
from pipeline.schemas import COMPENSATION, validate_schema
from pipeline.store import read_table
from pipeline.subjects import SubjectProfile, save_profile

PATTERNS = {
    "antalgic_gait",
    "trendelenburg",
    "hip_hiking",
    "altered_pelvic_tilt",
    "reduced_hip_range",
    "weight_shift",
    "trunk_lean",
    "reduced_knee_flexion",
}


def _report(sim_builder: Callable[..., Any], root: Path, profile: str, side: str | None) -> pd.DataFrame:
    sim = sim_builder(root, profile, duration_s=50.0)
    if side is not None:
        save_profile(root, SubjectProfile(sim.session.meta.subject, leg_length_m=0.9, affected_side=side))  # type: ignore[arg-type]
    process_session(sim.session)
    return read_table(sim.session.derived_path("compensation"), COMPENSATION).to_pandas()


def test_healthy_flags_nothing(sim_builder: Callable[..., Any], tmp_path: Path) -> None:
    report = _report(sim_builder, tmp_path, "healthy", None)
    assert set(report.pattern) == PATTERNS
    assert not report.flagged.any(), report[report.flagged].to_string()
    assert report.note.str.len().gt(0).all()


@pytest.mark.parametrize("side", [None, "right"])
def test_antalgic_right_flags_antalgic_and_trendelenburg_on_the_right(
    sim_builder: Callable[..., Any], tmp_path: Path, side: str | None
) -> None:
    report = _report(sim_builder, tmp_path, "antalgic_right", side)
    flagged = report[report.flagged]
    antalgic = flagged[flagged.pattern == "antalgic_gait"]
    assert "stance_time_si_pct" in set(antalgic.indicator)
    assert (antalgic[antalgic.indicator != "step_time_ga_pct"].side == "right").all()
    trend = flagged[flagged.pattern == "trendelenburg"]
    assert list(trend.side) == ["right"]
    assert set(flagged[flagged.pattern == "reduced_hip_range"].side) == {"right"}
    note = antalgic[antalgic.indicator == "stance_time_si_pct"].note.iloc[0]
    assert note.startswith("Stance on the right")
    assert "review clinically" in note
    assert "diagnos" not in " ".join(report.note)
    assert ("(the involved side)" in note) == (side is not None)
    assert not report[report.pattern.isin(["trunk_lean", "reduced_knee_flexion"])].flagged.any()


def test_missing_metrics_give_unflagged_rows_with_notes() -> None:
    report = compensation_report([])
    assert {r.pattern for r in report} == PATTERNS
    assert not any(r.flagged for r in report)
    assert all(r.note for r in report)
    assert all(math.isnan(r.value) for r in report)
    hike = [r for r in report if r.pattern == "hip_hiking"]
    assert hike
    assert all("not assessed" in r.note for r in hike)
    assert all(r.indicator in METRICS for r in report if r.indicator)


def test_nan_metric_and_sign_conventions() -> None:
    rows = [
        SummaryRow("stance_time_si_pct", "both", float("nan"), "%", 0),
        SummaryRow("thigh_range_si_pct", "both", 8.0, "%", 40),  # larger right range: the LEFT is reduced
        SummaryRow("pelvic_drop_deg", "left", 4.0, "deg", 40),
        SummaryRow("pelvic_drop_deg", "right", 1.5, "deg", 40),
    ]
    by = {(r.pattern, r.indicator, r.side): r for r in compensation_report(rows, affected_side="left")}
    stance = by[("antalgic_gait", "stance_time_si_pct", "both")]
    assert not stance.flagged
    assert "not available" in stance.note
    hip = by[("reduced_hip_range", "thigh_range_si_pct", "left")]
    assert hip.flagged
    assert "(the involved side)" in hip.note
    drop = by[("trendelenburg", "pelvic_drop_deg", "left")]
    assert drop.flagged
    assert drop.threshold == pytest.approx(1.5 + CompensationThresholds().pelvic_side_diff_deg)
    assert not by[("trendelenburg", "pelvic_drop_deg", "right")].flagged


def test_thresholds_are_configurable_and_table_matches_schema() -> None:
    rows = [SummaryRow("stance_time_si_pct", "both", -4.0, "%", 30)]
    assert [r.flagged for r in compensation_report(rows) if r.indicator == "stance_time_si_pct"] == [True]
    loose = CompensationThresholds(temporal_si_pct=5.0)
    assert [r.flagged for r in compensation_report(rows, thresholds=loose) if r.indicator == "stance_time_si_pct"] == [
        False
    ]
    table = to_table(compensation_report(rows))
    validate_schema(COMPENSATION.with_metadata(), COMPENSATION)
    assert table.select(COMPENSATION.schema.names).cast(COMPENSATION.schema).num_rows == table.num_rows


def test_loading_si_comes_from_the_metrics_summary() -> None:
    """The weight-shift indicator reads the SI that ``metrics.session_summary`` computes (not a copy of it)."""
    rows = [SummaryRow("initial_double_support_si_pct", "both", -17.8, "%", 30)]
    (weight,) = [r for r in compensation_report(rows) if r.pattern == "weight_shift"]
    assert weight.value == pytest.approx(-17.8)
    assert weight.flagged


def _stance_row(si: float, lo: float, hi: float) -> Any:
    rows = [SummaryRow("stance_time_si_pct", "both", si, "%", 12, lo, hi)]
    return next(r for r in compensation_report(rows) if r.indicator == "stance_time_si_pct")


def test_a_value_beyond_the_floor_flags_only_when_its_interval_is_beyond_too() -> None:
    clear = _stance_row(-6.0, -8.5, -3.5)
    assert clear.flagged
    assert clear.side == "right"
    assert "95 % interval -8.5 … -3.5 %" in clear.note
    assert clear.status == "flagged"
    unclear = _stance_row(-6.0, -12.0, +0.5)  # a short walk, or contacts found from the pelvis alone
    assert not unclear.flagged
    assert unclear.status == "unclear"
    assert unclear.side == "both"
    assert "not clear from this walk" in unclear.note
    assert "-12.0 … +0.5" in unclear.note
    assert _stance_row(-6.0, -8.5, -2.9).status == "unclear"  # the interval just reaches inside the 3 % floor
    assert _stance_row(-2.0, -4.0, 0.0).status == "within"
    assert _stance_row(+6.0, +3.1, +8.0).side == "left"  # positive SI: the left side is the smaller one


def test_an_interval_decides_for_ranges_and_signed_tilt_too() -> None:
    th = CompensationThresholds()

    def flagged(metric: str, value: float, lo: float, hi: float) -> bool:
        rows = [SummaryRow(metric, "both", value, "deg", 20, lo, hi)]
        return next(r for r in compensation_report(rows) if r.indicator == metric).flagged

    over = th.tilt_range_deg
    assert flagged("pelvic_tilt_range_deg", over + 2, over + 1, over + 3)
    assert not flagged("pelvic_tilt_range_deg", over + 2, over - 0.5, over + 4)
    standing = th.tilt_rel_standing_deg
    assert flagged("pelvic_tilt_rel_standing_deg", -standing - 2, -standing - 3, -standing - 1)  # tilted back
    assert not flagged("pelvic_tilt_rel_standing_deg", -standing - 2, -standing - 3, -standing + 1)
    assert flagged("pelvic_tilt_rel_standing_deg", -standing - 2, math.nan, math.nan)  # no interval: the value


def test_contacts_from_the_pelvis_alone_report_timing_indicators_without_assessing_them() -> None:
    rows = [
        SummaryRow("stance_time_si_pct", "both", -9.0, "%", 40, -12.0, -6.0),
        SummaryRow("step_time_ga_pct", "both", 8.0, "%", 40, 6.0, 10.0),
        SummaryRow("initial_double_support_si_pct", "both", 25.0, "%", 40, 15.0, 35.0),
        SummaryRow("pelvic_tilt_range_deg", "both", 14.0, "deg", 40, 13.0, 15.0),
    ]
    thigh = {r.indicator: r for r in compensation_report(rows)}
    pelvis = {r.indicator: r for r in compensation_report(rows, pelvis_contacts=True)}
    for indicator in ("stance_time_si_pct", "step_time_ga_pct", "initial_double_support_si_pct"):
        assert thigh[indicator].flagged
        assert not pelvis[indicator].flagged
        assert pelvis[indicator].value == thigh[indicator].value
        assert "not assessed" in pelvis[indicator].note
        assert pelvis[indicator].status == "not_assessed"
        assert "Thigh sensors are needed" in pelvis[indicator].note
    assert pelvis["pelvic_tilt_range_deg"].flagged  # pelvic angles do not depend on contact timing


def test_a_pelvis_only_session_does_not_flag_limping(sim_builder: Callable[..., Any], tmp_path: Path) -> None:
    sim = sim_builder(tmp_path, "antalgic_right", duration_s=50.0, sites=("pelvis",))
    process_session(sim.session)
    report = read_table(sim.session.derived_path("compensation"), COMPENSATION).to_pandas()
    antalgic = report[report.pattern == "antalgic_gait"]
    assert antalgic.value.notna().all()
    assert not antalgic.flagged.any()
    assert antalgic.note.str.contains("pelvis sensor alone").all()
    assert report[report.pattern == "trendelenburg"].flagged.any()  # the drop still shows


def _drop_rows(left: tuple[float, float, float], right: tuple[float, float, float]) -> dict[str, Any]:
    rows = [
        SummaryRow("pelvic_drop_deg", "left", left[0], "deg", 20, left[1], left[2]),
        SummaryRow("pelvic_drop_deg", "right", right[0], "deg", 20, right[1], right[2]),
    ]
    return {r.side: r for r in compensation_report(rows) if r.indicator == "pelvic_drop_deg"}


def test_a_side_difference_flags_only_when_its_interval_is_beyond_the_margin_too() -> None:
    # left 4.0 ± 0.4, right 1.5 ± 0.3: difference 2.5 ± 0.5 (half-widths in quadrature), all of it beyond 1.5°
    clear = _drop_rows((4.0, 3.6, 4.4), (1.5, 1.2, 1.8))
    assert clear["left"].status == "flagged"
    assert "95 % interval of the difference +2.0 … +3.0°" in clear["left"].note
    assert clear["right"].status == "within"
    # the same values from a short walk: ± 1.2 and ± 0.9 give 2.5 ± 1.5, reaching inside the 1.5° margin
    short = _drop_rows((4.0, 2.8, 5.2), (1.5, 0.6, 2.4))
    assert short["left"].status == "unclear"
    assert not short["left"].flagged
    assert "+1.0 … +4.0°" in short["left"].note
    assert "not clear from this walk" in short["left"].note
    # without intervals (an older summary) the values alone decide, as before
    assert _drop_rows((4.0, math.nan, math.nan), (1.5, math.nan, math.nan))["left"].status == "flagged"

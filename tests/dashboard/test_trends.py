"""The trends page: a subject's key metrics over sessions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from dashboard.data import resolve_data_root
from pipeline.catalog import KEY_METRICS
from pipeline.schemas import SUMMARY
from pipeline.store import SensorInfo, create_session, read_table, write_table
from pipeline.subjects import SubjectProfile, save_profile


def test_trends_table_has_one_row_per_processed_session(data_root, run_app):
    at = run_app(data_root.root)

    assert at.title[0].value == "Trends"
    table = at.dataframe[0].value
    processed = [v for v in data_root.visits if v.processed]
    assert list(table["Label"]) == [v.label for v in processed]
    assert list(table["Date"]) == [v.start.strftime("%Y-%m-%d") for v in processed]
    assert list(table["Stance-time symmetry index (%)"]) == [v.stance_si_pct for v in processed]
    assert list(table["Contralateral pelvic drop right (deg)"]) == [v.drop_right_deg for v in processed]
    assert "Cadence (steps/min)" in table.columns


def test_every_key_metric_is_charted_with_units_and_sides(data_root, run_app, figure):
    at = run_app(data_root.root)

    for metric in KEY_METRICS:
        spec = figure(at, f"trend_{metric}")
        assert spec["layout"]["xaxis"]["title"]["text"] == "Session date"
        assert spec["layout"]["yaxis"]["title"]["text"].endswith(")")  # unit in brackets
    drop = figure(at, "trend_pelvic_drop_deg")
    assert {t["name"] for t in drop["data"]} == {"left", "right"}
    assert drop["layout"]["yaxis"]["title"]["text"] == "Contralateral pelvic drop (deg)"


def test_symmetry_indices_carry_the_healthy_band_and_session_labels(data_root, run_app, figure, values):
    at = run_app(data_root.root)

    spec = figure(at, "trend_stance_time_si_pct")
    band = [s for s in spec["layout"]["shapes"] if s["type"] == "rect"]
    assert [(b["y0"], b["y1"]) for b in band] == [(-3.0, 3.0)]
    (trace,) = spec["data"]
    assert list(values(trace, "y")) == [v.stance_si_pct for v in data_root.visits if v.processed]
    assert trace["customdata"][0][0] == "baseline, 2 weeks post-op"
    assert any("gait_reference §3" in c.value for c in at.caption)
    assert "shapes" not in figure(at, "trend_cadence_spm")["layout"]


def test_choosing_metrics_changes_the_charts(data_root, run_app):
    at = run_app(data_root.root)

    at.multiselect(key="trend_metrics").set_value(["swing_time_s"]).run()

    assert [c.key for c in at.get("plotly_chart")] == ["trend_swing_time_s"]
    assert list(at.dataframe[0].value.columns) == [
        "Date",
        "Label",
        "Swing time left (s)",
        "Swing time right (s)",
    ]


def test_sidebar_shows_the_data_root_and_pickers(data_root, run_app):
    at = run_app(data_root.root)

    assert at.sidebar.code[0].value == str(data_root.root)
    assert any("IMUGAIT_DATA" in c.value for c in at.sidebar.caption)
    assert at.sidebar.selectbox(key="subject").value == "P01"
    assert at.sidebar.selectbox(key="session_of_P01").value == data_root.sessions[-1].meta.session_id


def test_empty_data_root_shows_what_to_run(tmp_path, run_app):
    at = run_app(tmp_path)

    assert "No processed sessions yet" in at.info[0].value
    assert "imugait process" in at.info[0].value
    assert not at.get("plotly_chart")


def test_missing_data_root_says_how_to_pass_one(tmp_path, run_app):
    at = run_app(tmp_path / "nowhere")

    assert "does not exist" in at.sidebar.warning[0].value


def test_subject_with_only_unprocessed_sessions(tmp_path, run_app):
    create_session(tmp_path, "P02", (SensorInfo("pelvis", "movesense"),), label="first visit")

    at = run_app(tmp_path)

    assert "No processed sessions yet for P02" in at.info[0].value


def test_corrupt_summary_is_reported_and_the_rest_still_shown(own_data_root, run_app):
    broken = own_data_root.sessions[1].derived_path("summary")
    broken.write_bytes(b"this is not arrow")

    at = run_app(own_data_root.root)

    assert len(at.error) == 1
    assert str(broken) in at.error[0].value
    assert "not a readable Arrow IPC file" in at.error[0].value
    assert list(at.dataframe[0].value["Label"]) == ["baseline, 2 weeks post-op", "week 8", "week 11"]


def test_data_root_comes_from_the_command_line_then_the_environment():
    both = resolve_data_root(["--data", "/from/argv"], {"IMUGAIT_DATA": "/from/env"})
    env = resolve_data_root(["-q", "tests"], {"IMUGAIT_DATA": "/from/env"})

    assert (both.path, both.origin) == (Path("/from/argv"), "--data")
    assert (env.path, env.origin) == (Path("/from/env"), "$IMUGAIT_DATA")
    assert resolve_data_root([], {}).origin == "default"


def test_opens_on_the_subject_of_the_most_recent_session(tmp_path, run_app):
    sensors = (SensorInfo("pelvis", "movesense"),)
    create_session(tmp_path, "A-control", sensors, start=datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    create_session(tmp_path, "Z-patient", sensors, start=datetime(2026, 2, 1, 9, 0, tzinfo=UTC))
    latest = create_session(tmp_path, "Z-patient", sensors, start=datetime(2026, 3, 8, 9, 0, tzinfo=UTC))

    at = run_app(tmp_path)

    assert at.sidebar.selectbox(key="subject").value == "Z-patient"
    assert at.sidebar.selectbox(key="session_of_Z-patient").value == latest.meta.session_id


def test_subject_profile_is_shown_in_the_sidebar(own_data_root, run_app):
    save_profile(own_data_root.root, SubjectProfile("P01", height_m=1.78, leg_length_m=0.92, affected_side="right"))

    at = run_app(own_data_root.root)

    caption = next(c.value for c in at.sidebar.caption if "Height" in c.value)
    assert caption == "Height: **1.78 m** · Leg length: **0.92 m** · Affected side: **right**"


def test_estimated_leg_length_is_marked(own_data_root, run_app):
    save_profile(own_data_root.root, SubjectProfile("P01", height_m=1.70))

    at = run_app(own_data_root.root)

    caption = next(c.value for c in at.sidebar.caption if "Height" in c.value)
    assert "Leg length: **0.90 m (estimated from height)**" in caption
    assert "Affected side: **not set**" in caption


def test_unreadable_subject_profile_is_a_warning_not_a_traceback(own_data_root, run_app):
    (own_data_root.root / "P01" / "subject.json").write_text('{"subject": "P01", "height_m": 178}', encoding="utf-8")

    at = run_app(own_data_root.root)

    assert "Subject profile not readable" in at.sidebar.warning[0].value
    assert "subject.json" in at.sidebar.warning[0].value
    assert "centimetres" in at.sidebar.warning[0].value  # the pipeline's own advice
    assert at.dataframe[0].value["Label"].size == 4


def _add_rows(session, rows):
    table = read_table(session.derived_path("summary"), SUMMARY)
    extra = pa.table(
        {
            "metric": [r[0] for r in rows],
            "side": [r[1] for r in rows],
            "value": [r[2] for r in rows],
            "unit": [r[3] for r in rows],
            "n": [12] * len(rows),
            "ci_low": [None] * len(rows),
            "ci_high": [None] * len(rows),
        },
        schema=SUMMARY.schema,
    )
    write_table(session.derived_path("summary"), pa.concat_tables([table, extra]), SUMMARY)


def test_involved_sides_and_unknown_metrics_are_plotted(own_data_root, run_app, figure, values):
    processed = own_data_root.processed()
    for i, (session, _) in enumerate(processed):
        rows = [("future_metric_au", "both", 1.0 + i / 10, "a.u.")]
        if i >= 2:  # a subject profile with the affected side was set before the last two sessions were processed
            rows += [("stance_time_s", "involved", 0.60 + i / 100, "s"), ("stance_time_s", "uninvolved", 0.70, "s")]
        _add_rows(session, rows)

    at = run_app(own_data_root.root)
    picker = at.multiselect(key="trend_metrics")
    assert "future_metric_au (a.u.)" in picker.options
    picker.set_value(["stance_time_s", "future_metric_au"]).run()

    assert not at.exception
    stance = figure(at, "trend_stance_time_s")
    traces = {t["name"]: t for t in stance["data"]}
    assert list(traces) == ["left", "right", "involved", "uninvolved"]
    assert [len(values(t, "y")) for t in traces.values()] == [2, 2, 2, 2]  # no session drawn twice
    assert traces["involved"]["line"]["color"] != traces["uninvolved"]["line"]["color"]
    assert list(values(traces["involved"], "y")) == pytest.approx([0.62, 0.63])
    speed = figure(at, "trend_future_metric_au")
    assert speed["layout"]["yaxis"]["title"]["text"] == "future_metric_au (a.u.)"
    table = at.dataframe[0].value
    assert "Stance time involved (s)" in table.columns
    assert list(table["future_metric_au (a.u.)"]) == pytest.approx([1.0, 1.1, 1.2, 1.3])


def test_ratios_are_shown_without_a_unit() -> None:
    from dashboard.charts import format_value, metric_title

    assert format_value(0.9512, "1") == "0.95"
    assert metric_title("step_time_sr") == "Step time symmetry ratio"
    assert metric_title("stance_time_si_pct") == "Stance-time symmetry index (%)"

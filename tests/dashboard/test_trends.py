"""The trends page: a subject's key metrics over sessions."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from dashboard import data
from dashboard.data import display_path, resolve_data_root
from pipeline.catalog import KEY_METRICS
from pipeline.schemas import SUMMARY
from pipeline.store import SensorInfo, create_session, read_table, write_table
from pipeline.subjects import SubjectProfile, save_profile
from tests.dashboard.conftest import kept_metadata


def test_trends_table_has_one_row_per_processed_session(data_root, run_app):
    at = run_app(data_root.root)

    assert at.title[0].value == "Trends"
    table = at.dataframe[0].value
    processed = [v for v in data_root.visits if v.processed]
    assert list(table["Label"]) == [v.label for v in processed]
    assert list(table["Date"]) == [v.start.strftime("%Y-%m-%d") for v in processed]
    # each value beside its 95 % within-session interval; the baseline was processed before intervals: none
    stance = "Stance-time symmetry index (%)"
    assert list(table[stance]) == pytest.approx([-10.0, -7.0, -4.0, -2.0])
    assert list(table["Stance-time symmetry index 95 % CI (%)"]) == [
        "",
        "-8.2 to -5.8",
        "-5.2 to -2.8",
        "-3.2 to -0.8",
    ]
    drop = "Contralateral pelvic drop right (deg)"
    assert list(table[drop]) == pytest.approx([7.9, 6.6, 5.4, 4.8])
    assert list(table["Contralateral pelvic drop right 95 % CI (deg)"]) == ["", "6.5–6.7", "5.3–5.5", "4.7–4.9"]
    assert list(table["Cadence 95 % CI (steps/min)"]) == ["", "100–104", "105–109", "109–113"]
    assert list(table["Walking speed 95 % CI (m/s)"])[1] == "1.03–1.08"
    assert list(table.columns[2:5]) == [
        stance,
        "Stance-time symmetry index 95 % CI (%)",
        "Step-time symmetry index (%)",
    ]


def test_trends_table_sorts_by_value_not_by_text(data_root, run_app, column_config):
    at = run_app(data_root.root)

    table = at.dataframe[0].value
    cadence = "Cadence (steps/min)"
    # numbers, not text: as text "102" < "107" < "111" < "96", and a header click would sort the sessions so
    assert pd.api.types.is_float_dtype(table[cadence])
    assert list(table.sort_values(cadence)[cadence]) == [96.0, 102.0, 107.0, 111.0]
    for column in table.columns:
        if column not in ("Date", "Label") and "95 % CI" not in column:
            assert pd.api.types.is_float_dtype(table[column]), column
    # shown at the unit's precision
    config = column_config(at.dataframe[0])
    assert config[cadence]["type_config"] == {"type": "number", "format": "%.0f"}
    assert config["Walking speed (m/s)"]["type_config"]["format"] == "%.2f"
    assert config["Stance-time symmetry index (%)"]["type_config"]["format"] == "%.1f"
    assert config["Cadence 95 % CI (steps/min)"]["type_config"]["type"] == "text"


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
        "Swing time left 95 % CI (s)",
        "Swing time right (s)",
        "Swing time right 95 % CI (s)",
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
    values = pd.read_csv(
        io.BytesIO(data.subject_summary(own_data_root.root, own_data_root.subject)), encoding="utf-8-sig"
    )
    assert sorted(set(values["label"])) == ["baseline, 2 weeks post-op", "week 11", "week 8"]  # the download too


def test_data_root_comes_from_the_command_line_then_the_environment():
    both = resolve_data_root(["--data", "/from/argv"], {"IMUGAIT_DATA": "/from/env"})
    env = resolve_data_root(["-q", "tests"], {"IMUGAIT_DATA": "/from/env"})

    assert (both.path, both.origin) == (Path("/from/argv"), "--data")
    assert (env.path, env.origin) == (Path("/from/env"), "$IMUGAIT_DATA")
    assert resolve_data_root([], {}).origin == "default"


def test_data_root_is_shown_relative_to_the_home_folder():
    home = Path("/home/ana")

    assert display_path(home / "imugait" / "data", home) == f"~{os.sep}imugait{os.sep}data"
    assert display_path(home, home) == "~"
    assert display_path(Path("/srv/gait"), home) == str(Path("/srv/gait"))
    assert display_path(Path("/home/anaconda/x"), home) == str(Path("/home/anaconda/x"))  # a prefix is not a parent


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
    write_table(session.derived_path("summary"), pa.concat_tables([table, extra]), SUMMARY, kept_metadata(table))


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
    assert list(table["future_metric_au 95 % CI (a.u.)"]) == [""] * 4  # no interval: the value alone


def test_ratios_are_shown_without_a_unit() -> None:
    from dashboard.charts import format_value, metric_title

    assert format_value(0.9512, "1") == "0.95"
    assert metric_title("step_time_sr") == "Step time symmetry ratio"
    assert metric_title("stance_time_si_pct") == "Stance-time symmetry index (%)"


# ---------------------------------------------------------------------------------------------------------------
# 95 % within-session intervals


def _error_ends(trace, values) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) ends of a trace's error bars: NaN where a point has no bar."""
    y = values(trace, "y").astype(float)
    return y - values(trace["error_y"], "arrayminus"), y + values(trace["error_y"], "array")


def test_error_bars_end_at_the_pipeline_intervals(walker_root, run_app, figure, values):
    summary = read_table(walker_root.processed.derived_path("summary"), SUMMARY).to_pandas()
    intervals = {(r.metric, r.side): (r.ci_low, r.ci_high) for r in summary.itertuples()}

    at = run_app(walker_root.root)

    checked = 0
    for metric in KEY_METRICS:
        for trace in figure(at, f"trend_{metric}")["data"]:
            low, high = intervals[(metric, trace["name"])]
            if np.isfinite(low):
                ends = _error_ends(trace, values)
                assert (list(ends[0]), list(ends[1])) == ([pytest.approx(low)], [pytest.approx(high)])
                assert "(95 % CI " in trace["customdata"][0][3]
                checked += 1
            else:  # walking speed: no subject profile, no value and no interval
                assert "error_y" not in trace
    assert checked >= 6


def test_sessions_without_intervals_get_no_error_bar(own_data_root, run_app, figure, values):
    processed = own_data_root.processed()
    week8 = processed[2][0]
    table = read_table(week8.derived_path("summary"), SUMMARY)
    for name in ("ci_low", "ci_high"):
        table = table.set_column(table.schema.get_field_index(name), name, pa.nulls(table.num_rows, pa.float64()))
    write_table(week8.derived_path("summary"), table, SUMMARY, kept_metadata(table))
    expected = [
        read_table(s.derived_path("summary"), SUMMARY)
        .to_pandas()
        .set_index(["metric", "side"])
        .loc[("stance_time_si_pct", "both"), ["ci_low", "ci_high"]]
        for s, _ in processed
    ]

    at = run_app(own_data_root.root)

    (trace,) = figure(at, "trend_stance_time_si_pct")["data"]
    low, high = _error_ends(trace, values)
    has_bar = [False, True, False, True]  # the baseline was processed without intervals, week 8 rewritten so
    assert list(np.isfinite(low)) == has_bar
    assert list(np.isfinite(high)) == has_bar  # NaN, not a zero-width bar: plotly.js reads a null as 0
    for i in (1, 3):
        assert (low[i], high[i]) == (pytest.approx(expected[i]["ci_low"]), pytest.approx(expected[i]["ci_high"]))
    hovers = [row[3] for row in trace["customdata"]]
    assert hovers == ["-10.0 %", "-7.0 % (95 % CI -8.2 to -5.8)", "-4.0 %", "-2.0 % (95 % CI -3.2 to -0.8)"]
    assert at.dataframe[0].value["Stance-time symmetry index (%)"][2] == pytest.approx(-4.0)
    assert at.dataframe[0].value["Stance-time symmetry index 95 % CI (%)"][2] == ""
    assert any("95 % within-session interval" in c.value and "day-to-day" in c.value for c in at.caption)


def test_hover_and_interval_text() -> None:
    from dashboard.charts import format_interval, number_format, value_with_interval

    assert value_with_interval(0.683, 0.661, 0.702, "s") == "0.68 s (95 % CI 0.66–0.70)"
    assert value_with_interval(-4.0, -4.6, -3.4, "%") == "-4.0 % (95 % CI -4.6 to -3.4)"
    assert value_with_interval(0.95, 0.93, 0.97, "1") == "0.95 (95 % CI 0.93–0.97)"
    assert value_with_interval(0.68, float("nan"), float("nan"), "s") == "0.68 s"
    assert value_with_interval(float("nan"), 0.6, 0.7, "s") == "—"
    assert format_interval(0.6, None, "s") == ""  # an object column's null
    assert format_interval(109.2, 113.6, "steps/min") == "109–114"
    assert format_interval(0.6412, 0.6447, "m") == "0.641–0.645"  # not "0.64–0.64", which reads as no uncertainty
    assert format_interval(0.64, 0.64, "m") == "0.64–0.64"
    assert [number_format(u) for u in ("steps/min", "m/s", "%", "deg", "1")] == ["%.0f", "%.2f", "%.1f", "%.1f", "%.2f"]


def test_trend_of_sessions_without_any_interval_has_no_error_bars() -> None:
    import pandas as pd

    from dashboard.charts import trend_figure

    values = pd.DataFrame(
        {
            "session_id": ["a", "b"],
            "start": pd.to_datetime(["2026-01-01", "2026-02-01"]),
            "session_label": ["", ""],
            "side": ["both", "both"],
            "value": [100.0, 104.0],
            "unit": ["steps/min", "steps/min"],
            "n": [20, 20],
            "ci_low": [None, None],
            "ci_high": [None, None],
        }
    )

    (trace,) = trend_figure(values, "cadence_spm").data

    assert trace.error_y.array is None
    assert list(trace.customdata[:, 3]) == ["100 steps/min", "104 steps/min"]


def test_sessions_with_data_quality_warnings_are_ringed_and_named(own_data_root, run_app, figure, values):
    """A session whose quality record holds warnings (here: the thighs were found swapped, and only 6 valid strides)
    gets a red ring on every trend, hover text saying why, and a note naming it; the clean sessions get none."""
    from tests.dashboard.conftest import write_quality

    session = own_data_root.sessions[2]
    write_quality(session, {"thighs_swapped": True, "thigh_swap_check": "swapped", "valid_strides": 6, "strides": 8})
    label = session.meta.label

    at = run_app(own_data_root.root)

    (note,) = [w.value for w in at.warning if "data-quality warnings" in w.value]
    assert note.startswith("1 of 4 sessions have data-quality warnings")
    assert f"{label} (2 warnings)" in note
    for metric in ("stance_time_si_pct", "pelvic_drop_deg"):
        (ring,) = [t for t in figure(at, f"trend_{metric}")["data"] if t["name"] == "data-quality warning"]
        assert len(values(ring, "x")) == 1
        assert pd.Timestamp(values(ring, "x")[0]).date() == session.meta.start.date()
        (hover,) = [row[1] for row in ring["customdata"]]
        assert "thigh sensors were swapped" in hover
        assert "Only 6 valid strides" in hover


def test_no_ring_and_no_note_without_warnings(data_root, run_app, figure):
    at = run_app(data_root.root)

    assert not [w.value for w in at.warning if "data-quality warnings" in w.value]
    for metric in KEY_METRICS:
        assert "data-quality warning" not in {t["name"] for t in figure(at, f"trend_{metric}")["data"]}

"""The trends page: a subject's key metrics over sessions."""

from __future__ import annotations

from pathlib import Path

from dashboard.data import resolve_data_root
from pipeline.catalog import KEY_METRICS
from pipeline.store import SensorInfo, create_session


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

"""The session page: one walk in detail."""

from __future__ import annotations

import re

import numpy as np
import pytest

PAGE = "app_pages/session.py"


def open_session(run_app, fixture, index: int):
    at = run_app(fixture.root, PAGE)
    at.sidebar.selectbox(key="session_of_P01").set_value(fixture.sessions[index].meta.session_id).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("index", [0, 3])
def test_cards_show_the_fixture_values_with_units(data_root, run_app, index):
    visit = data_root.visits[index]

    cards = shown_metrics(open_session(run_app, data_root, index))

    assert cards["Stance-time symmetry index"] == f"{visit.stance_si_pct:.1f} %"
    assert cards["Step-time symmetry index"] == f"{visit.step_si_pct:.1f} %"
    assert cards["Cadence"] == f"{visit.cadence_spm:.0f} steps/min"
    assert cards["Contralateral pelvic drop (right)"] == f"{visit.drop_right_deg:.1f} deg"
    assert cards["Contralateral pelvic drop (left)"] == f"{visit.drop_left_deg:.1f} deg"
    assert cards["Pelvic obliquity range"] == "8.0 deg"


def test_cards_show_the_within_session_interval(data_root, run_app):
    at = open_session(run_app, data_root, 3)

    captions = [c.value for c in at.caption]
    for text in ("95 % CI -3.2 to -0.8 %", "95 % CI 109–113 steps/min", "95 % CI 4.7–4.9 deg", "95 % CI 7.8–8.2 deg"):
        assert text in captions
    stance = next(m for m in at.metric if m.label == "Stance-time symmetry index")
    assert "95 % within-session interval: -3.2 to -0.8 %" in stance.help
    assert "day-to-day variability is not included" in stance.help
    assert "n = 12." in stance.help

    at.sidebar.selectbox(key="session_of_P01").set_value(data_root.sessions[0].meta.session_id).run()

    assert at.metric  # the baseline, processed before the pipeline computed intervals: cards without them
    assert not [c.value for c in at.caption if c.value.startswith("95 % CI")]
    assert not [m.help for m in at.metric if "interval" in m.help]


def test_header_names_subject_date_label_status_and_sensors(data_root, run_app):
    at = open_session(run_app, data_root, 0)

    assert at.header[0].value == "P01 · 2026-01-12 09:30 UTC"
    line = at.markdown[0].value  # 2 s standing, 14 strides of 1.25 s, 2 s standing
    for text in (
        "baseline, 2 weeks post-op",
        "status **complete**",
        "duration 21 s",
        "pelvis, left_thigh, right_thigh",
    ):
        assert text in line


def test_stride_tables_per_side_mark_the_valid_strides(data_root, run_app, tables):
    at = open_session(run_app, data_root, 1)

    left, right = tables(at, "stride_time_s")
    for side in (left, right):
        assert len(side) == data_root.n_strides
        assert list(side.columns[:2]) == ["status", "stride"]  # one status column instead of the two flags
        assert (side["status"] == "valid").sum() == data_root.n_strides - 2
        assert set(side["status"]) == {"valid", "excluded"}  # no IC lost in the fixture: no "times only"
        assert "opening_valid" not in side.columns
        assert "stance_pct" in side.columns
        assert "stride_length_m" not in side.columns  # left empty by the pipeline without a subject profile: hidden
    assert right["start_s"].iloc[0] > left["start_s"].iloc[0]  # right IC follows left IC in the fixture


def test_signals_carry_the_derived_ic_and_fc_of_each_side(data_root, run_app, figure, values):
    at = open_session(run_app, data_root, 2)

    spec = figure(at, "signals")
    names = {t["name"] for t in spec["data"]}
    assert {"IC left", "FC left", "IC right", "FC right"} <= names
    ic_left = [t for t in spec["data"] if t["name"] == "IC left"]
    assert len(ic_left) >= 2  # on the left thigh and on the pelvis
    assert all(len(values(t, "x")) == data_root.n_strides + 1 for t in ic_left)
    bottom = max(k for k in spec["layout"] if k.startswith("xaxis"))
    assert spec["layout"][bottom]["title"]["text"] == "Time since session start (s)"


def test_left_right_bars_cover_times_stance_drop_and_thigh_range(data_root, run_app, figure, values):
    at = open_session(run_app, data_root, 0)

    spec = figure(at, "side_bars")
    titles = [a["text"] for a in spec["layout"]["annotations"]]
    assert titles == [
        "Step time (s)",
        "Stance time (s)",
        "Swing time (s)",
        "Stance (%)",
        "Contralateral pelvic drop (deg)",
        "Thigh sagittal range (deg)",
    ]
    drop_right = [t for t in spec["data"] if t["xaxis"] == "x5" and t["name"] == "right"]
    assert values(drop_right[0], "y")[0] == pytest.approx(data_root.visits[0].drop_right_deg)


def test_simulated_session_shows_ground_truth_beside_measured(data_root, run_app, tables):
    at = open_session(run_app, data_root, 3)

    assert "Simulator ground truth" in [s.value for s in at.subheader]
    (truth,) = tables(at, "simulator ground truth")
    row = truth[truth["label"] == "Stance-time symmetry index"].iloc[0]
    assert row["simulator ground truth"] == data_root.truth["stance_time_si_pct"]
    assert row["measured"] == data_root.visits[3].stance_si_pct
    by_label = truth.set_index(["label", "side"])
    assert by_label.loc[("Contralateral pelvic drop", "right"), "measured"] == data_root.visits[3].drop_right_deg
    assert by_label.loc[("Contralateral pelvic drop", "right"), "simulator ground truth"] == 4.6
    assert by_label.loc[("Pelvic obliquity range", "both"), "simulator ground truth"] == 7.7
    assert by_label.loc[("Stance time", "right"), "simulator ground truth"] == 0.66
    assert ("speed_m_s", "both") in by_label.index
    assert not any(label.startswith("n_strides") for label, _ in by_label.index)


def test_recorded_session_without_truth_shows_none(data_root, run_app, tables):
    at = open_session(run_app, data_root, 0)

    assert "Simulator ground truth" not in [s.value for s in at.subheader]
    assert not tables(at, "simulator ground truth")


def test_unprocessed_session_says_what_to_run(data_root, run_app, figure):
    at = open_session(run_app, data_root, 4)

    assert f"imugait process {data_root.sessions[4].path}" in at.warning[0].value
    assert not at.metric
    assert figure(at, "signals")["data"]


def test_corrupt_strides_file_is_an_error_message_not_a_traceback(own_data_root, run_app):
    broken = own_data_root.sessions[0].derived_path("strides")
    broken.write_bytes(b"\x00" * 64)

    at = open_session(run_app, own_data_root, 0)

    assert any("Cannot show the strides" in e.value and str(broken) in e.value for e in at.error)
    assert shown_metrics(at)["Stance-time symmetry index"] == "-10.0 %"


def test_table_of_the_wrong_kind_is_named(own_data_root, run_app):
    events = own_data_root.sessions[0].derived_path("events")
    events.write_bytes(own_data_root.sessions[0].derived_path("summary").read_bytes())

    at = open_session(run_app, own_data_root, 0)

    assert any("'gait_summary' table, expected 'gait_events'" in e.value for e in at.error)


def test_empty_data_root(tmp_path, run_app):
    at = run_app(tmp_path, PAGE)

    assert "No sessions" in at.info[0].value


# ---------------------------------------------------------------------------------------------------------------
# Compensation report


def test_compensation_report_lists_flagged_indicators_first(data_root, run_app):
    visit = data_root.visits[1]  # week 5: stance and step SI beyond ±3 %, right drop beyond 6 deg

    at = open_session(run_app, data_root, 1)

    assert "Compensation indicators" in [s.value for s in at.subheader]
    assert any("not a diagnosis" in c.value for c in at.caption)
    assert "3 indicators beyond their threshold" in at.warning[0].value
    flagged, within = (t.value for t in at.table)
    assert list(flagged["Indicator"]) == [
        "Stance-time symmetry index",
        "Step-time symmetry index",
        "Contralateral pelvic drop",
    ]
    assert list(flagged["Value"]) == [
        f"{v:.1f}" for v in (visit.stance_si_pct, visit.step_si_pct, visit.drop_right_deg)
    ]
    assert list(flagged["Threshold"]) == ["3.0", "3.0", "6.0"]
    assert list(flagged["Pattern"]) == ["Antalgic gait", "Antalgic gait", "Trendelenburg"]
    assert (list(within["Indicator"]), list(within["Side"])) == (["Contralateral pelvic drop"], ["left"])
    assert at.expander[1].label == "1 indicator within their threshold"  # [0] is "Sensors"


def test_compensation_report_without_flags_says_so(data_root, run_app):
    at = open_session(run_app, data_root, 3)  # week 11: every indicator inside its threshold

    assert "No indicator is clearly beyond its threshold" in at.success[0].value
    (within,) = (t.value for t in at.table)
    assert len(within) == 4
    assert not [w for w in at.warning if "indicator" in w.value]


def test_session_processed_before_reports_and_curves_has_notes(data_root, run_app):
    at = open_session(run_app, data_root, 0)

    captions = [c.value for c in at.caption]
    assert any(c.startswith("No compensation report for this session") for c in captions)
    assert any(c.startswith("No gait-cycle curves for this session") for c in captions)
    assert "cycles" not in [c.key for c in at.get("plotly_chart")]
    assert "Stance-time symmetry index" in shown_metrics(at)


# ---------------------------------------------------------------------------------------------------------------
# Gait-cycle curves


def test_cycle_curves_overlay_left_and_right_with_sd_bands(data_root, run_app, figure, values):
    visit = data_root.visits[2]

    spec = figure(open_session(run_app, data_root, 2), "cycles")

    titles = [a["text"] for a in spec["layout"]["annotations"]]
    assert titles == [
        "Pelvic obliquity (deg)",
        "Pelvic tilt (deg)",
        "Pelvic rotation (deg)",
        "Thigh sagittal angle (deg)",
    ]
    thigh = [t for t in spec["data"] if t["xaxis"] == "x4"]
    means = {t["name"]: values(t, "y") for t in thigh if t.get("mode") == "lines"}
    n = data_root.n_strides - 2
    assert set(means) == {f"left (n = {n} strides)", f"right (n = {n} strides)"}
    assert means[f"right (n = {n} strides)"].max() - means[f"right (n = {n} strides)"].min() == pytest.approx(
        visit.thigh_right_deg
    )
    bands = [t for t in thigh if t.get("fill") == "toself"]
    assert len(bands) == 2
    assert spec["layout"]["xaxis4"]["title"]["text"] == "Gait cycle (%)"
    assert spec["layout"]["yaxis4"]["title"]["text"] == "deg"


def cell_styles(element) -> dict[tuple[int, int], str]:
    """The CSS a styled dataframe gives each (row, column) position, from the Styler Streamlit was sent."""
    styles: dict[tuple[int, int], str] = {}
    for selectors, css in re.findall(r"([^{}]+)\{([^}]*)\}", element.proto.arrow_data.styler.styles):
        for row, col in re.findall(r"_row(\d+)_col(\d+)", selectors):
            styles[(int(row), int(col))] = styles.get((int(row), int(col)), "") + css
    return styles


@pytest.fixture(scope="module")
def lossy_walk(tmp_path_factory):
    """One simulated walk with 10 % of the BLE notifications lost, processed by the pipeline: a few strides lose
    their closing IC, so only their opening-IC times count (``opening_valid`` but not ``valid``)."""
    from pipeline.run import process_session
    from sensors.sim.gait_model import GaitModel, get_profile
    from sensors.sim.offline import LinkImperfections, write_simulated_session

    root = tmp_path_factory.mktemp("lossy")
    model = GaitModel(get_profile("healthy"), 40.0, seed=0)
    session = write_simulated_session(root, model, duration_s=40.0, seed=0, link=LinkImperfections(loss=0.1))
    process_session(session)
    return root, session


def test_stride_tables_show_the_strides_whose_times_only_count(lossy_walk, run_app, tables):
    from pipeline.metrics import OPENING_TIMES
    from pipeline.schemas import STRIDES
    from pipeline.store import read_table

    root, session = lossy_walk
    stored = read_table(session.derived_path("strides"), STRIDES).to_pandas()

    at = run_app(root, PAGE)

    shown = tables(at, "stride_time_s")
    elements = [d for d in at.dataframe if "stride_time_s" in d.value.columns]
    assert len(shown) == 2
    n_times_only = 0
    for side, table, element in zip(("left", "right"), shown, elements, strict=True):
        own = stored[stored["side"] == side].sort_values("stride").reset_index(drop=True)
        assert list(table["stride"]) == list(own["stride"])
        valid, opening = own["valid"], own["opening_valid"]
        assert list(table["status"] == "valid") == list(valid)
        assert list(table["status"] == "times only") == list(opening & ~valid)
        assert list(table["status"] == "excluded") == list(~opening)
        styles = cell_styles(element)
        columns = list(table.columns)
        for row in np.flatnonzero(table["status"] == "times only"):
            n_times_only += 1
            for name in OPENING_TIMES:
                assert "#fff3e0" in styles[(row, columns.index(name))], name  # amber: counted
            for name in ("stride_time_s", "swing_time_s", "stance_pct"):
                assert "#9e9e9e" in styles[(row, columns.index(name))], name  # greyed: not counted
    assert n_times_only >= 1
    (caption,) = [c.value for c in at.caption if "times only" in c.value]
    assert "step, stance, single- and double-support times" in caption


def test_left_right_whiskers_are_the_sd_of_the_strides_behind_each_mean(lossy_walk, run_app, figure, values):
    """Stance time counts the "times only" strides too, swing time only the valid ones."""
    from pipeline.schemas import STRIDES
    from pipeline.store import read_table

    root, session = lossy_walk
    stored = read_table(session.derived_path("strides"), STRIDES).to_pandas()

    spec = figure(run_app(root, PAGE), "side_bars")

    for axis, metric, counted in (("x2", "stance_time_s", "opening_valid"), ("x3", "swing_time_s", "valid")):
        for side in ("left", "right"):
            (trace,) = [t for t in spec["data"] if t["xaxis"] == axis and t["name"] == side]
            behind = stored.loc[stored[counted] & (stored["side"] == side), metric]
            assert values(trace["error_y"], "array")[0] == pytest.approx(behind.std()), (metric, side)
    times_only = stored["opening_valid"] & ~stored["valid"] & stored["stance_time_s"].notna()
    assert times_only.any()


def test_stride_table_reads_a_missing_opening_flag_as_the_valid_flag():
    """A strides table whose writer left ``opening_valid`` null (it is nullable) shows valid or excluded strides."""
    import pandas as pd

    from dashboard import charts_session as sc

    strides = pd.DataFrame(
        {
            "side": ["left"] * 4,
            "stride": [0, 1, 2, 3],
            "stride_time_s": [1.1, 1.1, 2.2, 1.1],
            "valid": [True, False, False, True],
            "opening_valid": [None, None, True, True],
        }
    )

    shown = sc.stride_table(strides, "left")

    assert list(shown["status"]) == ["valid", "excluded", "times only", "valid"]


# ---------------------------------------------------------------------------------------------------------------
# Angles from the pipeline


def open_walker(run_app, walker, session):
    at = run_app(walker.root, PAGE)
    at.sidebar.selectbox(key="session_of_W01").set_value(session.meta.session_id).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_signals_are_body_aligned_angles_with_the_derived_events(walker_root, run_app, figure, values):
    from pipeline.schemas import EVENTS
    from pipeline.store import read_table

    at = open_walker(run_app, walker_root, walker_root.processed)

    spec = figure(at, "signals")
    titles = [a["text"] for a in spec["layout"]["annotations"]]
    assert titles == [
        "Pelvic obliquity (deg, + left hip higher)",
        "Pelvic tilt (deg, + anterior)",
        "Pelvic rotation (deg, + turned left)",
        "Thigh sagittal angle (deg, + flexion)",
    ]
    lines = {t["name"] for t in spec["data"] if t["mode"] == "lines"}
    assert lines == {"pelvis", "left thigh", "right thigh"}
    assert all(spec["layout"][f"yaxis{i}"]["title"]["text"] == "deg" for i in ("", "2", "3", "4"))
    assert spec["layout"]["xaxis4"]["title"]["text"] == "Time since session start (s)"
    events = read_table(walker_root.processed.derived_path("events"), EVENTS).to_pandas()
    ic_left = events[(events["side"] == "left") & (events["event"] == "IC")]["t_s"].to_numpy()
    ic_left_traces = [t for t in spec["data"] if t["name"] == "IC left"]
    assert [t["xaxis"] for t in ic_left_traces] == ["x", "x2", "x3", "x4"]  # three pelvic panels, left thigh
    for trace in ic_left_traces:
        assert values(trace, "x") == pytest.approx(ic_left)
    thigh_left = next(t for t in spec["data"] if t["name"] == "left thigh")
    assert 20 < np.nanmax(values(thigh_left, "y")) - np.nanmin(values(thigh_left, "y")) < 80  # deg, a walking thigh
    assert not [i for i in at.info if "not available" in i.value]


def test_unprocessed_session_shows_angles_with_events_detected_now(walker_root, run_app, figure):
    at = open_walker(run_app, walker_root, walker_root.unprocessed)

    names = {t["name"] for t in figure(at, "signals")["data"]}
    assert {"pelvis", "IC left", "FC left", "IC right", "FC right"} <= names
    assert any("detected now" in c.value for c in at.caption)


def test_alignment_runs_once_per_session_state(tmp_path, run_app, monkeypatch):
    from dashboard import session_data
    from tests.dashboard._walker import build_walker_root

    walker = build_walker_root(tmp_path / "walker")
    calls = []
    real = session_data.load_aligned
    monkeypatch.setattr(session_data, "load_aligned", lambda session: calls.append(session.path) or real(session))

    at = open_walker(run_app, walker, walker.processed)  # opens on the latest session, then switches
    at.run()
    at.switch_page("app_pages/trends.py").run()
    at.switch_page(PAGE).run()

    assert calls == [walker.unprocessed.path, walker.processed.path]


def test_session_the_pipeline_cannot_align_falls_back_to_raw_norms(tmp_path, run_app, figure):
    from tests.dashboard._walker import build_short_session

    build_short_session(tmp_path)

    at = run_app(tmp_path, PAGE)

    note = next(i.value for i in at.info if "not available" in i.value)
    assert "usable samples" in note  # the pipeline's own reason
    assert "raw gyroscope norm" in note
    spec = figure(at, "signals")
    assert {t["name"] for t in spec["data"]} == {"gyroscope norm"}
    assert spec["layout"]["yaxis"]["title"]["text"] == "deg/s"
    assert [a["text"] for a in spec["layout"]["annotations"]] == ["Pelvis", "Left thigh", "Right thigh"]


def test_walking_bouts_from_the_pipeline_are_listed(walker_root, run_app, tables):
    from pipeline.schemas import BOUTS
    from pipeline.store import read_table

    at = open_walker(run_app, walker_root, walker_root.processed)
    (shown,) = tables(at, "Strides")
    stored = read_table(walker_root.processed.derived_path("bouts"), BOUTS).to_pandas()
    assert list(shown["Strides"]) == list(stored["n_strides"])
    assert list(shown.columns) == [
        "Bout",
        "Start (s)",
        "Duration (s)",
        "Strides",
        "Distance (m)",
        "Speed (m/s)",
        "Cadence (steps/min)",
        "Stride length (m)",
        "Stride speed (m/s)",
        "Measured (%)",
    ]
    assert list(shown["Cadence (steps/min)"]) == list(stored["cadence_spm"].round(1))
    assert any("pauses" in c.value for c in at.caption)  # the two speeds are told apart
    if stored["speed_m_s"].isna().all():  # the walker has no subject profile
        assert any("imugait subject set W01" in c.value for c in at.caption)


def test_bouts_measured_over_under_half_their_time_have_their_lengths_marked() -> None:
    """The length and speed cells of a bout measured over < 50 % of its time are amber; a bout measured enough, or
    one from a session analysed before the share existed (empty), is not marked."""
    import pandas as pd

    from dashboard import charts_session as sc

    bouts = pd.DataFrame(
        {
            "bout": [0, 1, 2],
            "start_s": [1.0, 20.0, 40.0],
            "duration_s": [12.0, 9.0, 6.0],
            "n_strides": [10, 7, 4],
            "distance_m": [14.0, 5.0, 3.0],
            "speed_m_s": [1.1, 0.6, 0.5],
            "cadence_spm": [105.0, 90.0, 88.0],
            "stride_length_m": [1.3, 0.9, 0.8],
            "stride_speed_m_s": [1.12, 0.7, 0.6],
            "measured_share": [0.9, 0.38, float("nan")],
        }
    )
    shown = sc.bouts_display(bouts)
    assert list(shown["Measured (%)"].iloc[:2]) == [90.0, 38.0]
    ctx = sc.style_bouts(shown)._compute().ctx  # (row, column index) -> CSS of the styled cells
    columns = list(shown.columns)
    amber = {columns[c] for (r, c), css in ctx.items() if css and r == 1}
    assert amber == set(sc.BOUT_LENGTH_COLUMNS)
    assert not any(css for (r, _), css in ctx.items() if r in (0, 2))


def test_unclear_and_not_assessed_indicators_are_told_apart_from_within(own_data_root, run_app):
    """A value beyond its threshold whose interval reaches inside is shown in its own box, not filed as 'within';
    indicators the session could not assess are folded away on their own."""
    from pipeline.compensation import CompensationRow, to_table
    from pipeline.schemas import COMPENSATION
    from pipeline.store import write_table

    session = own_data_root.processed()[2][0]
    rows = [
        CompensationRow(
            "antalgic_gait",
            "Antalgic gait",
            "stance_time_si_pct",
            "both",
            -5.0,
            3.0,
            "%",
            False,
            "Stance-time symmetry index -5.0 % is beyond ±3 %, but … not clear from this walk.",
            "unclear",
        ),
        CompensationRow(
            "trendelenburg", "Trendelenburg", "pelvic_drop_deg", "left", 4.0, 5.5, "deg", False, "within", "within"
        ),
        CompensationRow(
            "antalgic_gait",
            "Antalgic gait",
            "step_time_ga_pct",
            "both",
            6.0,
            3.0,
            "%",
            False,
            "not assessed — the contacts come from the pelvis sensor alone",
            "not_assessed",
        ),
        CompensationRow(
            "trunk_lean",
            "Trunk lean",
            "",
            "both",
            float("nan"),
            float("nan"),
            "",
            False,
            "Not measurable with these sensors.",
            "not_assessed",
        ),
    ]
    write_table(session.derived_path("compensation"), to_table(rows), COMPENSATION)

    at = run_app(own_data_root.root, "app_pages/session.py")
    at.sidebar.selectbox(key="session_of_P01").set_value(session.meta.session_id).run()
    assert not at.exception, [e.value for e in at.exception]

    assert "No indicator is clearly beyond its threshold" in at.success[0].value
    (unclear_box,) = [i.value for i in at.info if "not clearly" in i.value]
    assert unclear_box.startswith("1 indicator beyond")
    labels = [e.label for e in at.expander]
    assert "1 indicator within their threshold" in labels
    assert "2 indicators not assessed in this session" in labels
    tables = [t.value for t in at.table]
    assert ["Stance-time symmetry index"] in [list(t["Indicator"]) for t in tables]


# ---------------------------------------------------------------------------------------------------------------
# Turns


def test_turns_are_listed_carded_and_shaded_on_the_signals(tmp_path, run_app, tables, figure):
    from pipeline.run import process_session
    from pipeline.schemas import TURNS
    from pipeline.store import read_table
    from tests.pipeline.conftest import build_sim_session

    sim = build_sim_session(tmp_path, "healthy", duration_s=40.0, seed=1, turn_every_s=12.0)
    process_session(sim.session)
    stored = read_table(sim.session.derived_path("turns"), TURNS).to_pandas()
    assert len(stored) == 2  # the simulator turns at 18 and 30 s

    at = run_app(tmp_path, PAGE)
    (shown,) = tables(at, "Angle (°)")
    assert list(shown["Angle (°)"]) == list(stored["angle_deg"].abs().round(0))
    assert list(shown["Direction"]) == ["left", "left"]
    assert list(shown["Steps"]) == list(stored["steps"])
    assert shown_metrics(at)["Turns"] == "2 turns"
    assert any("5 % to 95 %" in c.value for c in at.caption)
    shapes = figure(at, "signals")["layout"]["shapes"]
    assert sorted({s["x0"] for s in shapes}) == pytest.approx(list(stored["start_s"]))  # one band per panel
    assert sorted({s["x1"] for s in shapes}) == pytest.approx(list(stored["end_s"]))
    labels = [a["text"] for a in figure(at, "signals")["layout"]["annotations"] if a["text"].startswith("turn")]
    assert labels == [f"turn {abs(a):.0f}° L" for a in stored["angle_deg"]]  # once each


def test_a_session_processed_before_turns_were_listed_says_how_to_add_them(walker_root, run_app):
    walker_root.processed.derived_path("turns").unlink(missing_ok=True)
    at = open_walker(run_app, walker_root, walker_root.processed)
    assert any("before imugait 1.9 listed turns" in c.value for c in at.caption)


def test_a_session_whose_left_thigh_was_left_out_shows_the_rest_and_says_why(tmp_path, run_app, figure):
    """The left thigh sensor stopped after 3 s; the pipeline analysed the pelvis and the right thigh. The page
    draws what was analysed (no left-thigh curve), and Data quality names the sensor left out."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import ipc

    from pipeline.run import process_session
    from tests.pipeline.conftest import build_sim_session

    session = build_sim_session(tmp_path, "antalgic_right", duration_s=30.0, seed=2).session
    path = session.raw_path("left_thigh")
    table = ipc.open_stream(path.read_bytes()).read_all()
    with pa.OSFile(str(path), "wb") as sink, ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.filter(pc.less(table["t_host_ns"], session.meta.host_t0_ns + 3 * 10**9)))
    assert "left_thigh.left_out" in process_session(session).quality

    at = run_app(tmp_path, PAGE)
    at.sidebar.selectbox(key=f"session_of_{session.meta.subject}").set_value(session.meta.session_id).run()
    assert not at.exception, [e.value for e in at.exception]

    assert any("left thigh sensor was left out of the analysis" in w.value for w in at.warning)
    names = {t["name"] for t in figure(at, "signals")["data"]}
    assert {"pelvis", "right thigh"} <= names
    assert "left thigh" not in names
    assert figure(at, "cycles")["data"]

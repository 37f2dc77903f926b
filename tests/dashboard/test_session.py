"""The session page: one walk in detail."""

from __future__ import annotations

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
        assert side["valid"].sum() == data_root.n_strides - 2
        assert "stance_pct" in side.columns
    assert right["start_s"].iloc[0] > left["start_s"].iloc[0]  # right IC follows left IC in the fixture


def test_signals_show_each_site_with_ic_and_fc_of_each_side(data_root, run_app, figure, values):
    at = open_session(run_app, data_root, 2)

    spec = figure(at, "signals")
    names = {t["name"] for t in spec["data"]}
    assert names == {"gyroscope norm", "IC left", "FC left", "IC right", "FC right"}
    ic_left = [t for t in spec["data"] if t["name"] == "IC left"]
    assert len(ic_left) == 2  # on the left thigh and on the pelvis
    assert all(len(values(t, "x")) == data_root.n_strides + 1 for t in ic_left)
    assert spec["layout"]["xaxis3"]["title"]["text"] == "Time since session start (s)"
    assert spec["layout"]["yaxis"]["title"]["text"] == "deg/s"


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
    assert {t["name"] for t in figure(at, "signals")["data"]} == {"gyroscope norm"}


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

"""Step-length calibration: where walking speed, stride and step length are read, the dashboard says whether the
session was calibrated for the walker (``spatial.calibrated`` / ``spatial.calibration`` in its quality record), and
the trends warn when the sessions in view were calibrated differently."""

from __future__ import annotations

import pyarrow as pa

from pipeline.schemas import BOUTS, SUMMARY
from pipeline.store import read_table, write_table
from tests.dashboard.conftest import kept_metadata, write_quality

UNCALIBRATED = {
    "spatial.method": "pelvis+thigh",
    "spatial.calibrated": False,
    "spatial.calibration": "none: no calibration walk for this subject (imugait subject calibrate)",
}
CAL_A = "pelvis ×1.19 from session s1 (20.0 m walk, ±3 %)"
CAL_B = "pelvis ×1.07 from session s9 (1.10 m/s, ±4 %)"
SPEED = "trend_walking_speed_m_s"


def calibration_captions(at) -> list[str]:
    """The step-length calibration captions (by their opening: other captions may hold a path, and a test's
    temporary path carries its name)."""
    return [c.value for c in at.caption if c.value.startswith("Step length")]


def calibrated(text: str) -> dict[str, object]:
    return {"spatial.method": "pelvis+thigh", "spatial.calibrated": True, "spatial.calibration": text}


def speed_trace(spec: dict) -> dict:
    (trace,) = [t for t in spec["data"] if t["name"] == "both"]
    return trace


def legend_entries(spec: dict) -> dict[str, str]:
    """Legend-only traces (no data): name → marker symbol."""
    return {t["name"]: t["marker"]["symbol"] for t in spec["data"] if t.get("x") == [None]}


def calibration_warnings(at) -> list[str]:
    """The trends page's step-length calibration warnings (not any warning whose data-root path says "calibration")."""
    return [w.value for w in at.warning if w.value.startswith("**Step-length calibration")]


def test_trends_warn_and_mark_points_when_calibration_changes(own_data_root, run_app, figure):
    processed = [s for s, _ in own_data_root.processed()]

    # sessions whose records do not mention calibration (all fixtures, v1 sessions): drawn as before
    at = run_app(own_data_root.root)
    assert not calibration_warnings(at)
    assert "symbol" not in speed_trace(figure(at, SPEED)).get("marker", {})
    assert not legend_entries(figure(at, SPEED))

    # the baseline says nothing (processed before calibration), weeks 5 and 8 uncalibrated, week 11 calibrated
    write_quality(processed[1], UNCALIBRATED)
    write_quality(processed[2], {**UNCALIBRATED, "spatial.calibration": "none: the calibration is for the thigh model"})
    write_quality(processed[3], calibrated(CAL_A))
    at = run_app(own_data_root.root)

    (warning,) = calibration_warnings(at)
    assert "Walking speed (m/s)" in warning
    assert "not comparable" in warning
    assert "2026-01-12 to 2026-02-23: not calibrated" in warning
    assert f"2026-03-16: calibrated ({CAL_A})" in warning
    spec = figure(at, SPEED)
    trace = speed_trace(spec)
    assert trace["marker"]["symbol"] == ["circle-open", "circle-open", "circle-open", "circle"]
    assert legend_entries(spec) == {"not calibrated": "circle-open", "calibrated": "circle"}
    assert spec["layout"]["showlegend"] is True
    assert trace["showlegend"] is False  # one side: the legend is about calibration only
    notes = [row[4] for row in trace["customdata"]]
    assert notes[0] == ""  # no record
    assert "no calibration walk" in notes[1]
    assert notes[3] == f"<br>calibration: {CAL_A}"
    # the calibration does not touch cadence or the symmetry indices: drawn as before
    for key in ("trend_cadence_spm", "trend_stance_time_si_pct"):
        assert "symbol" not in (figure(at, key)["data"][0].get("marker") or {})


def test_warning_only_when_a_spatial_metric_is_plotted(own_data_root, run_app):
    processed = [s for s, _ in own_data_root.processed()]
    write_quality(processed[2], UNCALIBRATED)
    write_quality(processed[3], calibrated(CAL_A))

    at = run_app(own_data_root.root)
    at.multiselect(key="trend_metrics").set_value(["cadence_spm", "stance_time_si_pct"]).run()
    assert not calibration_warnings(at)

    at.multiselect(key="trend_metrics").set_value(["cadence_spm", "walking_speed_m_s"]).run()
    assert len(calibration_warnings(at)) == 1


def _add_stride_lengths(session, value: float) -> None:
    path = session.derived_path("summary")
    table = read_table(path, SUMMARY)
    extra = pa.table(
        {
            "metric": ["stride_length_m"],
            "side": ["both"],
            "value": [value],
            "unit": ["m"],
            "n": [12],
            "ci_low": [value - 0.02],
            "ci_high": [value + 0.02],
        },
        schema=SUMMARY.schema,
    )
    write_table(path, pa.concat_tables([table, extra]), SUMMARY, kept_metadata(table))


def test_recalibration_is_a_change_too_and_all_spatial_metrics_share_one_warning(own_data_root, run_app, figure):
    processed = [s for s, _ in own_data_root.processed()]
    for i, session in enumerate(processed):
        _add_stride_lengths(session, 1.20 + i / 100)
    write_quality(processed[0], calibrated(CAL_A))
    write_quality(processed[1], calibrated(CAL_A))
    write_quality(processed[2], calibrated(CAL_B))
    write_quality(processed[3], calibrated(CAL_B))

    at = run_app(own_data_root.root)
    at.multiselect(key="trend_metrics").set_value(["walking_speed_m_s", "stride_length_m"]).run()

    (warning,) = calibration_warnings(at)
    assert "Walking speed (m/s), Stride length (m)" in warning
    assert f"2026-01-12 to 2026-02-02: calibration 1 ({CAL_A})" in warning
    assert f"from 2026-02-23: calibration 2 ({CAL_B})" in warning
    for key in (SPEED, "trend_stride_length_m"):
        spec = figure(at, key)
        assert speed_trace(spec)["marker"]["symbol"] == ["circle", "circle", "diamond", "diamond"]
        assert legend_entries(spec) == {"calibration 1": "circle", "calibration 2": "diamond"}


def test_one_calibration_throughout_is_no_change(own_data_root, run_app, figure):
    processed = [s for s, _ in own_data_root.processed()]
    for session in processed:
        write_quality(session, calibrated(CAL_A))

    at = run_app(own_data_root.root)

    assert not calibration_warnings(at)
    trace = speed_trace(figure(at, SPEED))
    assert "symbol" not in (trace.get("marker") or {})
    assert [row[4] for row in trace["customdata"]] == [f"<br>calibration: {CAL_A}"] * 4  # said on hover


def test_uncalibrated_sessions_compare_whatever_the_reason(own_data_root, run_app):
    processed = [s for s, _ in own_data_root.processed()]
    # no record, then two reasons for no calibration: the same uncalibrated model throughout
    write_quality(processed[2], UNCALIBRATED)
    write_quality(processed[3], {**UNCALIBRATED, "spatial.calibration": "none: made with other body lengths"})

    at = run_app(own_data_root.root)
    assert not calibration_warnings(at)

    at.switch_page("app_pages/session.py").run()
    at.sidebar.selectbox(key="session_of_P01").set_value(processed[3].meta.session_id).run()
    assert not at.exception
    captions = calibration_captions(at)
    assert captions == [
        "Step length **not calibrated** for this walker — made with other body lengths. Walking speed, stride and "
        "step length come from the model alone, whose error differs from walker to walker: compare them with this "
        "subject's other uncalibrated sessions only."
    ]


def test_session_page_says_how_speed_and_lengths_were_calibrated(own_data_root, run_app):
    processed = [s for s, _ in own_data_root.processed()]
    write_quality(processed[3], calibrated(CAL_A))

    at = run_app(own_data_root.root, "app_pages/session.py")
    at.sidebar.selectbox(key="session_of_P01").set_value(processed[3].meta.session_id).run()
    assert not at.exception

    assert "Walking speed and lengths" in [s.value for s in at.subheader]
    speed = next(m for m in at.metric if m.label == "Walking speed")
    assert speed.value.endswith(" m/s")
    captions = calibration_captions(at)
    assert captions == [
        f"Step length calibrated for this walker: {CAL_A}. Walking speed, stride and step length use it."
    ]

    # a session whose record does not mention calibration: the speed card, and no calibration caption
    at.sidebar.selectbox(key="session_of_P01").set_value(processed[0].meta.session_id).run()
    assert any(m.label == "Walking speed" for m in at.metric)
    assert not calibration_captions(at)
    assert not at.warning


def test_only_step_length_based_metrics_are_spatial() -> None:
    from dashboard.charts import is_spatial

    spatial = ["walking_speed_m_s", "walking_speed_pelvis_m_s", "stride_length_m", "step_length_m"]
    assert all(is_spatial(m) for m in spatial)
    # one factor multiplies both sides and cancels in a symmetry index; times and cadence have no length
    assert not any(is_spatial(m) for m in ("step_length_si_pct", "cadence_spm", "stride_time_s", "step_time_s"))


def test_pipeline_calibration_shows_on_both_pages(tmp_path, run_app, figure):
    """End to end with the pipeline's own quality record: the W01 walker, uncalibrated on its first walk, which then
    calibrates it (``imugait subject calibrate``), and its second walk processed with that calibration."""
    from imugait._commands import calibrate_subject
    from pipeline.run import process_session
    from pipeline.subjects import SubjectProfile, save_profile
    from tests.dashboard._walker import build_walker_root

    walker = build_walker_root(tmp_path / "data")
    save_profile(walker.root, SubjectProfile("W01", height_m=1.75))
    process_session(walker.processed)
    bouts = read_table(walker.processed.derived_path("bouts"), BOUTS).to_pandas()
    outcome = calibrate_subject(walker.processed.path, distance_m=1.2 * float(bouts["distance_m"].sum()))
    process_session(walker.unprocessed)
    text = next(c.describe() for c in outcome.calibrations if c.method == "pelvis")

    at = run_app(walker.root)

    (warning,) = calibration_warnings(at)
    assert f"2026-05-08: calibrated ({text})" in warning
    assert speed_trace(figure(at, SPEED))["marker"]["symbol"] == ["circle-open", "circle"]

    at.switch_page("app_pages/session.py").run()
    at.sidebar.selectbox(key="session_of_W01").set_value(walker.unprocessed.meta.session_id).run()
    assert not at.exception
    expected = f"Step length calibrated for this walker: {text}. Walking speed, stride and step length use it."
    # under the walking speed and length cards, and under the walking bouts' distances and speeds
    assert calibration_captions(at) == [expected, expected]

"""Which pipeline version analysed each session (``imugait.pipeline_version`` in the derived tables, read with
``Session.processed_with``): the trends page notes a mix or an outdated version with sessions per version and the
``imugait process <root> --outdated`` command, the hover names each point's version, the session page captions its
version and warns when it is not the current one, and compare warns when A and B differ. Sessions analysed by the
current version show no note."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.run import PIPELINE_VERSION
from pipeline.store import Session
from tests.dashboard.conftest import legacy_pair, write_pipeline_version

OLD_VERSION = "1.0"  # what wrote tests/data/sessions_v1


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Session, Session]:
    """(root, the stored v1 session analysed by pipeline 1.0, a copy a week later analysed by this version)."""
    root = tmp_path_factory.mktemp("versions-root")
    old, new = legacy_pair(root)
    assert (old.processed_with(), new.processed_with()) == (OLD_VERSION, PIPELINE_VERSION)
    assert OLD_VERSION != PIPELINE_VERSION
    return root, old, new


def version_warnings(at, where=None) -> list[str]:
    """The warnings of a page (or its sidebar) that are about pipeline versions."""
    return [w.value for w in (where or at).warning if "pipeline version" in w.value]


def version_captions(at) -> list[str]:
    return [c.value for c in at.caption if c.value.startswith("Pipeline version")]


def hover_versions(trace: dict) -> list[str]:
    """The pipeline-version part of each point's hover, as the trace's template renders it."""
    template = trace["hovertemplate"]
    assert "%{customdata[5]}" in template
    return [row[5] for row in trace["customdata"]]


# ---------------------------------------------------------------------------------------------------------------
# The stored v1 session beside a freshly processed one


def test_trends_note_counts_sessions_per_version_and_gives_the_command(legacy, run_app):
    root, _, _ = legacy

    at = run_app(root)

    (note,) = version_warnings(at)
    assert "different pipeline versions" in note
    assert f"1 session by pipeline {OLD_VERSION}" in note
    assert f"1 session by pipeline {PIPELINE_VERSION} (current)" in note
    assert f"`imugait process {root} --outdated`" in note  # the data root the dashboard was started on


def test_trends_hover_names_the_pipeline_version_of_each_point(legacy, run_app, figure):
    root, _, _ = legacy

    at = run_app(root)

    # the stored v1 session has data-quality warnings (8 valid strides), so its point also gets a ring
    (trace,) = [t for t in figure(at, "trend_stance_time_si_pct")["data"] if t["name"] != "data-quality warning"]
    assert hover_versions(trace) == [
        f"<br>pipeline version {OLD_VERSION}",
        f"<br>pipeline version {PIPELINE_VERSION}",
    ]


def test_session_page_captions_the_version_and_warns_when_it_is_not_current(legacy, run_app):
    root, old, new = legacy
    at = run_app(root, "app_pages/session.py")

    at.sidebar.selectbox(key="session_of_legacy").set_value(old.meta.session_id).run()
    assert not at.exception, [e.value for e in at.exception]
    assert version_captions(at) == [f"Pipeline version that analysed this session: {OLD_VERSION}"]
    (warning,) = version_warnings(at)
    assert f"by pipeline version {OLD_VERSION}, not the current {PIPELINE_VERSION}" in warning
    assert f"`imugait process {root} --outdated`" in warning

    at.sidebar.selectbox(key="session_of_legacy").set_value(new.meta.session_id).run()
    assert version_captions(at) == [f"Pipeline version that analysed this session: {PIPELINE_VERSION} (current)"]
    assert not version_warnings(at)


def test_compare_warns_when_the_two_sessions_differ_in_version(legacy, run_app):
    root, old, new = legacy

    at = run_app(root, "app_pages/compare.py")

    assert at.selectbox(key="compare_a").value == old.meta.session_id
    (warning,) = version_warnings(at)
    assert "different pipeline versions" in warning
    assert f"A: {OLD_VERSION}, B: {PIPELINE_VERSION} (current)" in warning
    assert f"`imugait process {root} --outdated`" in warning
    at.selectbox(key="compare_a").set_value(new.meta.session_id).run()  # B against itself: one version
    assert not version_warnings(at)


# ---------------------------------------------------------------------------------------------------------------
# All current, all outdated, unknown


def test_sessions_all_at_the_current_version_show_no_note(data_root, run_app, figure):
    at = run_app(data_root.root)
    assert not version_warnings(at)
    # the stored v1 session has data-quality warnings (8 valid strides), so its point also gets a ring
    (trace,) = [t for t in figure(at, "trend_stance_time_si_pct")["data"] if t["name"] != "data-quality warning"]
    assert set(hover_versions(trace)) == {f"<br>pipeline version {PIPELINE_VERSION}"}

    at.switch_page("app_pages/session.py").run()
    latest_processed = data_root.processed()[-1][0].meta.session_id
    at.sidebar.selectbox(key="session_of_P01").set_value(latest_processed).run()
    assert version_captions(at) == [f"Pipeline version that analysed this session: {PIPELINE_VERSION} (current)"]
    assert not version_warnings(at)

    at.switch_page("app_pages/compare.py").run()
    assert not at.exception
    assert at.selectbox(key="compare_a").value != at.selectbox(key="compare_b").value
    assert not version_warnings(at)
    assert not at.warning


def test_sessions_all_at_one_older_version_are_noted_but_compare_like_for_like(own_data_root, run_app):
    for session, _ in own_data_root.processed():
        write_pipeline_version(session, OLD_VERSION)
    root = own_data_root.root

    at = run_app(root)
    (note,) = version_warnings(at)
    assert "not analysed by the current pipeline version" in note
    assert f"4 sessions by pipeline {OLD_VERSION}" in note
    assert f"`imugait process {root} --outdated`" in note

    at.switch_page("app_pages/compare.py").run()
    assert not version_warnings(at)  # A and B share a version: the comparison is like for like

    at.switch_page("app_pages/session.py").run()  # the latest session is recorded only: no version to show
    assert not version_captions(at)
    assert not version_warnings(at)
    first = own_data_root.sessions[0].meta.session_id
    at.sidebar.selectbox(key="session_of_P01").set_value(first).run()
    assert version_captions(at) == [f"Pipeline version that analysed this session: {OLD_VERSION}"]
    assert len(version_warnings(at)) == 1


def test_a_session_with_no_recorded_version_counts_as_unknown(own_data_root, run_app, figure):
    first = own_data_root.sessions[0]
    write_pipeline_version(first, None)
    root = own_data_root.root

    at = run_app(root)
    (note,) = version_warnings(at)
    assert f"1 session by an unknown version, 3 sessions by pipeline {PIPELINE_VERSION} (current)" in note
    assert f"`imugait process {root} --outdated`" in note
    # the stored v1 session has data-quality warnings (8 valid strides), so its point also gets a ring
    (trace,) = [t for t in figure(at, "trend_stance_time_si_pct")["data"] if t["name"] != "data-quality warning"]
    assert hover_versions(trace)[0] == "<br>pipeline version unknown"

    at.switch_page("app_pages/session.py").run()
    at.sidebar.selectbox(key="session_of_P01").set_value(first.meta.session_id).run()
    assert version_captions(at) == ["Pipeline version that analysed this session: unknown version"]
    (warning,) = version_warnings(at)
    assert "by an unknown pipeline version" in warning
    assert f"`imugait process {root} --outdated`" in warning

    at.switch_page("app_pages/compare.py").run()
    assert at.selectbox(key="compare_a").value == first.meta.session_id
    (warning,) = version_warnings(at)
    assert f"A: unknown version, B: {PIPELINE_VERSION} (current)" in warning


def test_the_command_quotes_a_data_root_with_spaces() -> None:
    from dashboard.data import outdated_command

    assert outdated_command(Path("/data/gait lab")) == "imugait process '/data/gait lab' --outdated"
    assert outdated_command(Path("/data/imugait")) == "imugait process /data/imugait --outdated"

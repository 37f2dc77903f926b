"""A subject whose first session was written by imugait with schema v1 (``tests/data/sessions_v1``: a summary without
95 % within-session intervals, upgraded on read with null ones) and whose second one was processed by this version:
every page renders, and only the second session shows intervals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.ipc as ipc
import pytest

from pipeline.schemas import SUMMARY
from pipeline.store import Session, read_table
from tests.dashboard.conftest import legacy_pair


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Session, Session]:
    """(root, the v1 session as written, a copy a week later re-processed with this version)."""
    root = tmp_path_factory.mktemp("legacy-root")
    old, new = legacy_pair(root)
    return root, old, new


def test_trends_draw_error_bars_for_the_new_session_only(legacy, run_app, figure, values):
    root, _, new = legacy
    summary = read_table(new.derived_path("summary"), SUMMARY).to_pandas().set_index(["metric", "side"])
    low, high = summary.loc[("stance_time_si_pct", "both"), ["ci_low", "ci_high"]]

    at = run_app(root)

    # the stored v1 session has data-quality warnings (8 valid strides), so its point also gets a ring
    (trace,) = [t for t in figure(at, "trend_stance_time_si_pct")["data"] if t["name"] != "data-quality warning"]
    y = values(trace, "y")
    ends_low = y - values(trace["error_y"], "arrayminus")
    ends_high = y + values(trace["error_y"], "array")
    assert np.isnan(ends_low[0])  # the v1 session: no bar
    assert np.isnan(ends_high[0])
    assert (ends_low[1], ends_high[1]) == (pytest.approx(low), pytest.approx(high))
    table = at.dataframe[0].value
    assert np.isfinite(table["Stance-time symmetry index (%)"]).all()
    old_interval, new_interval = table["Stance-time symmetry index 95 % CI (%)"]
    assert old_interval == ""
    assert new_interval != ""


def test_session_page_of_the_v1_session_renders_without_intervals(legacy, run_app):
    root, old, new = legacy
    at = run_app(root, "app_pages/session.py")

    at.sidebar.selectbox(key="session_of_legacy").set_value(old.meta.session_id).run()

    assert not at.exception, [e.value for e in at.exception]
    assert len(at.metric) == 9
    assert not [c.value for c in at.caption if c.value.startswith("95 % CI")]
    at.sidebar.selectbox(key="session_of_legacy").set_value(new.meta.session_id).run()
    assert [c.value for c in at.caption if c.value.startswith("95 % CI")]


def test_stride_tables_of_the_v1_session_have_no_times_only_strides(legacy, run_app, tables):
    """The v1 pipeline counted valid strides only, for every metric: its strides are valid or excluded, as stored."""
    root, old, _ = legacy
    with ipc.open_file(str(old.derived_path("strides"))) as reader:
        stored = reader.read_all().to_pandas()
    at = run_app(root, "app_pages/session.py")

    at.sidebar.selectbox(key="session_of_legacy").set_value(old.meta.session_id).run()

    assert not at.exception, [e.value for e in at.exception]
    for side, table in zip(("left", "right"), tables(at, "stride_time_s"), strict=True):
        own = stored[stored["side"] == side].sort_values("stride")
        assert list(table["status"]) == ["valid" if v else "excluded" for v in own["valid"]]
    assert not stored["valid"].all()  # both states occur


def test_compare_leaves_intervals_blank_against_the_v1_session(legacy, run_app, tables):
    root, _, _ = legacy

    at = run_app(root, "app_pages/compare.py")

    (table,) = tables(at, "Change vs variation")
    assert set(table["95 % CI A"]) == {""}
    assert set(table["Change vs variation"]) == {""}
    assert (table["95 % CI B"] != "").sum() >= 10

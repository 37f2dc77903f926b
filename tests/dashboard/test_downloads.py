"""Downloads: a session's tables as a zip of CSV or a workbook on its page, every session's values as one CSV or
workbook on the trends page."""

from __future__ import annotations

import io
import zipfile

import pandas as pd

from dashboard import data
from pipeline.schemas import STRIDES
from pipeline.store import read_table
from pipeline.subjects import SubjectProfile, save_profile


def read_csv(raw: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype={"session_id": str})


def test_the_session_page_offers_the_sessions_tables(data_root, run_app):
    session = data_root.sessions[3]
    at = run_app(data_root.root, "app_pages/session.py")
    at.sidebar.selectbox(key="session_of_P01").set_value(session.meta.session_id).run()
    assert not at.exception, [e.value for e in at.exception]

    button, workbook = at.get("download_button")
    assert button.label == "Download this session's tables (CSV, zip)"
    assert "imugait export" in button.help
    assert workbook.label == "Download this session's tables (Excel)"
    assert "imugait export --format xlsx" in workbook.help
    sheets = pd.read_excel(io.BytesIO(data.session_download(session.path, "xlsx")), sheet_name=None)
    assert len(sheets["strides"]) == read_table(session.derived_path("strides"), STRIDES).num_rows
    with zipfile.ZipFile(io.BytesIO(data.session_download(session.path))) as z:
        strides = read_csv(z.read("strides.csv"))
        summary = read_csv(z.read("summary_with_session.csv"))
    assert len(strides) == read_table(session.derived_path("strides"), STRIDES).num_rows
    stance = summary[(summary["metric"] == "stance_time_si_pct") & (summary["side"] == "both")]["value"]
    assert stance.round(1).tolist() == [data_root.visits[3].stance_si_pct]


def test_a_session_not_yet_analysed_offers_nothing_to_download(data_root, run_app):
    unprocessed = next(s for s, v in zip(data_root.sessions, data_root.visits, strict=True) if not v.processed)
    at = run_app(data_root.root, "app_pages/session.py")
    at.sidebar.selectbox(key="session_of_P01").set_value(unprocessed.meta.session_id).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.get("download_button")


def test_the_trends_page_offers_every_analysed_sessions_values(data_root, run_app):
    at = run_app(data_root.root, "app_pages/trends.py")
    assert not at.exception, [e.value for e in at.exception]

    button, workbook = at.get("download_button")
    assert button.label == "Download values per session (CSV)"
    assert workbook.label == "Download values per session (Excel)"
    values = read_csv(data.subject_summary(data_root.root, data_root.subject))
    sheet = pd.read_excel(
        io.BytesIO(data.subject_summary(data_root.root, data_root.subject, "xlsx")), dtype={"session_id": str}
    )
    pd.testing.assert_frame_equal(sheet.drop(columns="start_utc"), values.drop(columns="start_utc"))
    processed = data_root.processed()
    assert set(values["session_id"]) == {s.meta.session_id for s, _ in processed}
    stance = values[(values["metric"] == "stance_time_si_pct") & (values["side"] == "both")]
    by_session = dict(zip(stance["session_id"], stance["value"].round(1), strict=True))
    assert by_session == {s.meta.session_id: v.stance_si_pct for s, v in processed}
    assert set(values["label"]) == {v.label for _, v in processed}


def test_the_downloads_follow_a_changed_affected_side(own_data_root):
    session = own_data_root.processed()[-1][0]
    for side in ("left", "right"):
        save_profile(own_data_root.root, SubjectProfile(own_data_root.subject, affected_side=side))
        values = read_csv(data.subject_summary(own_data_root.root, own_data_root.subject))
        with zipfile.ZipFile(io.BytesIO(data.session_download(session.path))) as z:
            one = read_csv(z.read("summary_with_session.csv"))
        assert set(values["affected_side"]) == {side}
        assert set(one["affected_side"]) == {side}

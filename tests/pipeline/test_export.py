"""CSV and Excel export of derived tables (``pipeline.export``): what is written equals what is stored, and nothing
recorded is touched, whatever the input."""

from __future__ import annotations

import errno
import io
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

from pipeline import export
from pipeline.catalog import METRICS
from pipeline.errors import DataContractError
from pipeline.export import TABLES, columns_frame, export_sessions, session_xlsx, session_zip, summary_frame, xlsx_bytes
from pipeline.run import process_session
from pipeline.store import Session, StorageError, iter_sessions, read_table
from pipeline.subjects import SubjectProfile, save_profile

V1_DATA = Path(__file__).parents[1] / "data" / "sessions_v1"


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory, sim_builder: Callable[..., Any]) -> Session:
    """A 30-s simulated antalgic walk of a subject with a profile (right knee), analysed."""
    root = tmp_path_factory.mktemp("data")
    session = sim_builder(root, "antalgic_right", duration_s=30.0).session
    save_profile(root, SubjectProfile(session.meta.subject, height_m=1.75, affected_side="right"))
    process_session(session)
    return session


def read_csv(path: Path | bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(path) if isinstance(path, bytes) else path, encoding="utf-8-sig")


def assert_same(csv: pd.DataFrame, stored: pd.DataFrame) -> None:
    """The CSV holds the stored table: same columns and rows, numbers to 10 significant digits, missing as empty."""
    assert list(csv.columns) == list(stored.columns)
    assert len(csv) == len(stored)
    for c in stored.columns:
        if pd.api.types.is_numeric_dtype(stored[c]) and not pd.api.types.is_bool_dtype(stored[c]):
            np.testing.assert_allclose(csv[c].to_numpy(float), stored[c].to_numpy(float), rtol=1e-9, equal_nan=True)
        else:
            # text: a CSV cannot tell an empty string from a missing one, both are an empty cell
            expected = stored[c].astype(object).where(stored[c].notna(), "")
            got = csv[c].astype(object).where(csv[c].notna(), "")
            assert [str(x) for x in got] == [str(x) for x in expected], c


def test_every_table_round_trips_through_its_csv(analysed: Session, tmp_path: Path) -> None:
    result = export_sessions([analysed], tmp_path / "out")
    folder = tmp_path / "out" / analysed.meta.subject / analysed.meta.session_id
    assert result.exported == (analysed,)
    assert not result.failed
    assert not result.not_analysed
    assert {p.name for p in folder.iterdir()} == {f"{name}.csv" for name in TABLES}
    for name, schema in TABLES.items():
        assert_same(read_csv(folder / f"{name}.csv"), read_table(analysed.derived_path(name), schema).to_pandas())
    # the compensation notes keep their degree signs (UTF-8 with a byte-order mark for spreadsheet programs)
    raw = (folder / "compensation.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "°".encode() in raw


def test_summary_csv_names_the_session_the_metric_and_the_affected_side(analysed: Session, tmp_path: Path) -> None:
    export_sessions([analysed], tmp_path / "out")
    summary = read_csv(tmp_path / "out" / "summary.csv")
    stored = read_table(analysed.derived_path("summary"), TABLES["summary"]).to_pandas()
    assert len(summary) == len(stored)
    assert set(summary["session_id"].astype(str)) == {analysed.meta.session_id}
    assert set(summary["affected_side"]) == {"right"}
    assert set(summary["pipeline_version"].astype(str)) == {analysed.processed_with()}
    assert (summary["metric_label"] == [METRICS[m].label for m in summary["metric"]]).all()
    np.testing.assert_allclose(summary["value"], stored["value"], rtol=1e-9, equal_nan=True)


def test_the_data_dictionary_describes_every_exported_column_with_its_unit(analysed: Session, tmp_path: Path) -> None:
    export_sessions([analysed], tmp_path / "out")
    columns = read_csv(tmp_path / "out" / "columns.csv")
    folder = tmp_path / "out" / analysed.meta.subject / analysed.meta.session_id
    for name, schema in TABLES.items():
        described = columns[columns["table"] == name]
        assert list(described["column"]) == list(read_csv(folder / f"{name}.csv").columns)
        for column, unit in zip(described["column"], described["unit"].fillna(""), strict=True):
            assert unit == (schema.unit(column) or "")
    summary_columns = set(columns.loc[columns["table"] == "summary.csv", "column"]) | set(
        TABLES["summary"].schema.names
    )
    assert set(read_csv(tmp_path / "out" / "summary.csv").columns) <= summary_columns


def test_sessions_never_analysed_are_listed_not_exported(tmp_path: Path, sim_builder: Callable[..., Any]) -> None:
    raw_only = sim_builder(tmp_path / "data", "healthy", duration_s=10.0).session
    result = export_sessions([raw_only], tmp_path / "out")
    assert result.not_analysed == (raw_only,)
    assert not result.exported
    assert not result.files
    assert not (tmp_path / "out").exists()
    with pytest.raises(DataContractError, match="imugait process"):
        session_zip(raw_only)


def test_an_unreadable_table_fails_its_session_only(analysed: Session, tmp_path: Path) -> None:
    broken_root = tmp_path / "data"
    shutil.copytree(analysed.path, broken_root / "someone" / analysed.meta.session_id)
    broken = next(iter_sessions(broken_root))
    strides = broken.derived_path("strides")
    strides.write_bytes(strides.read_bytes()[:100])  # truncated, as by a crash of another program
    result = export_sessions([broken, analysed], tmp_path / "out")
    assert result.exported == (analysed,)
    [(session, message)] = result.failed
    assert session == broken
    assert "strides.arrow" in message
    assert not (tmp_path / "out" / "someone").exists()
    assert set(read_csv(tmp_path / "out" / "summary.csv")["subject"]) == {analysed.meta.subject}


def test_refuses_to_write_inside_a_session_and_touches_nothing(analysed: Session) -> None:
    before = sorted((p, p.stat().st_mtime_ns) for p in analysed.path.rglob("*"))
    with pytest.raises(DataContractError, match="outside the data"):
        export_sessions([analysed], analysed.path / "derived" / "export")
    assert sorted((p, p.stat().st_mtime_ns) for p in analysed.path.rglob("*")) == before


def test_a_full_disk_is_a_clear_error_and_leaves_no_partial_file(
    analysed: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = Path.write_bytes
    calls = {"n": 0}

    def fill_up(self: Path, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == 3:
            real_write(self, data[: len(data) // 2])  # the disk fills halfway through the third file
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", fill_up)
    with pytest.raises(StorageError, match="No space left on device"):
        export_sessions([analysed], tmp_path / "out")
    written = sorted(p.name for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert written == ["compensation.csv", "summary.csv"]  # the first two, whole; no half-written temporary file
    monkeypatch.undo()
    folder = tmp_path / "out" / analysed.meta.subject / analysed.meta.session_id
    assert_same(
        read_csv(folder / "summary.csv"), read_table(analysed.derived_path("summary"), TABLES["summary"]).to_pandas()
    )


def test_exporting_again_replaces_the_export_and_leaves_other_files(analysed: Session, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export_sessions([analysed], out)
    (out / "my_notes.txt").write_text("kept")
    first = (out / "summary.csv").read_bytes()
    export_sessions([analysed], out)
    assert (out / "summary.csv").read_bytes() == first
    assert (out / "my_notes.txt").read_text() == "kept"


def test_a_session_written_by_an_older_imugait_exports_with_empty_new_columns(tmp_path: Path) -> None:
    root = tmp_path / "data"
    shutil.copytree(V1_DATA, root)
    [old] = list(iter_sessions(root))
    result = export_sessions([old], tmp_path / "out")
    assert result.exported == (old,)
    summary = read_csv(tmp_path / "out" / "summary.csv")
    assert summary["value"].notna().any()
    assert summary["ci_low"].isna().all()
    assert summary["ci_high"].isna().all()
    folder = tmp_path / "out" / old.meta.subject / old.meta.session_id
    assert {p.stem for p in folder.iterdir()} == {p.stem for p in old.path.joinpath("derived").glob("*.arrow")}


def test_the_session_zip_holds_its_tables_its_summary_and_the_dictionary(analysed: Session) -> None:
    with zipfile.ZipFile(io.BytesIO(session_zip(analysed))) as z:
        names = set(z.namelist())
        assert names == {f"{n}.csv" for n in TABLES} | {"summary_with_session.csv", "columns.csv"}
        assert_same(
            read_csv(z.read("strides.csv")), read_table(analysed.derived_path("strides"), TABLES["strides"]).to_pandas()
        )
        assert_same(read_csv(z.read("summary_with_session.csv")), summary_frame([analysed]))
        assert list(read_csv(z.read("columns.csv"))["table"].unique()) == [*TABLES, "summary.csv"]


def test_no_sessions_give_an_empty_summary_with_its_columns() -> None:
    assert summary_frame([]).empty
    assert list(summary_frame([]).columns)[:2] == ["subject", "session_id"]
    assert set(columns_frame()["table"]) == {*TABLES, "summary.csv"}


def test_every_column_of_the_dictionary_says_what_it_holds() -> None:
    columns = columns_frame()
    assert (columns["description"].str.len() > 0).all(), columns[columns["description"] == ""]
    stance = columns[(columns["table"] == "strides") & (columns["column"] == "stance_pct")]
    assert stance["description"].item().startswith("per stride: stance;")  # from the metric catalogue


def read_sheets(path: Path | bytes) -> dict[str, pd.DataFrame]:
    return pd.read_excel(
        io.BytesIO(path) if isinstance(path, bytes) else path, sheet_name=None, dtype={"session_id": str}
    )


def assert_same_sheet(sheet: pd.DataFrame, stored: pd.DataFrame) -> None:
    """The sheet holds the stored table to Excel's precision (15 significant digits); text as stored, missing text
    as an empty cell."""
    assert list(sheet.columns) == list(stored.columns)
    assert len(sheet) == len(stored)
    for c in stored.columns:
        if pd.api.types.is_numeric_dtype(stored[c]) and not pd.api.types.is_bool_dtype(stored[c]):
            np.testing.assert_allclose(
                sheet[c].to_numpy(float), stored[c].to_numpy(float), rtol=1e-15, equal_nan=True, err_msg=c
            )
        elif pd.api.types.is_bool_dtype(stored[c]):
            assert sheet[c].tolist() == stored[c].tolist(), c
        else:
            expected = stored[c].astype(object).where(stored[c].notna(), "")
            got = sheet[c].astype(object).where(sheet[c].notna(), "")
            assert [str(x) for x in got] == [str(x) for x in expected], c


def test_every_table_round_trips_through_its_workbook(analysed: Session, tmp_path: Path) -> None:
    result = export_sessions([analysed], tmp_path / "out", fmt="xlsx")
    subject = tmp_path / "out" / analysed.meta.subject
    assert result.exported == (analysed,)
    assert not result.failed
    assert sorted(result.files) == sorted(
        [subject / f"{analysed.meta.session_id}.xlsx", tmp_path / "out" / "summary.xlsx"]
    )
    assert sorted(p.name for p in (tmp_path / "out").rglob("*") if p.is_file()) == sorted(
        [f"{analysed.meta.session_id}.xlsx", "summary.xlsx"]
    )
    sheets = read_sheets(subject / f"{analysed.meta.session_id}.xlsx")
    assert list(sheets) == [*TABLES, "summary_with_session", "columns"]
    for name, schema in TABLES.items():
        assert_same_sheet(sheets[name], read_table(analysed.derived_path(name), schema).to_pandas())
    assert any("°" in str(note) for note in sheets["compensation"]["note"])
    # the session's summary carries its identity, with the start as a date-time cell
    with_session = sheets["summary_with_session"]
    assert set(with_session["session_id"]) == {analysed.meta.session_id}
    assert pd.api.types.is_datetime64_any_dtype(with_session["start_utc"])
    expected_start = pd.Timestamp(analysed.meta.start_utc).tz_convert("UTC").tz_localize(None)
    assert (with_session["start_utc"] - expected_start).abs().max() < pd.Timedelta(milliseconds=1)
    assert set(with_session["affected_side"]) == {"right"}
    dictionary = sheets["columns"]
    assert set(dictionary["table"]) == {*TABLES, "summary_with_session"}
    summary = read_sheets(tmp_path / "out" / "summary.xlsx")
    assert list(summary) == ["summary", "columns"]
    assert set(summary["columns"]["table"]) == {"summary"}
    assert set(summary["columns"]["column"]) == set(summary_frame([analysed]).columns)
    assert_same_sheet(summary["summary"].drop(columns="start_utc"), summary_frame([analysed]).drop(columns="start_utc"))


def test_the_session_workbook_is_what_the_dashboard_offers(analysed: Session, tmp_path: Path) -> None:
    export_sessions([analysed], tmp_path / "out", fmt="xlsx")
    written = read_sheets(tmp_path / "out" / analysed.meta.subject / f"{analysed.meta.session_id}.xlsx")
    offered = read_sheets(session_xlsx(analysed))
    assert list(written) == list(offered)
    for name in written:
        pd.testing.assert_frame_equal(written[name], offered[name])


def test_text_in_a_workbook_stays_text() -> None:
    frame = pd.DataFrame({"label": ['=HYPERLINK("x")', "visit\x07 2", "+1", None], "value": [1.5, np.nan, 3.0, 4.0]})
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes({"s": frame})))
    sheet = book["s"]
    labels = [sheet.cell(row=r, column=1) for r in range(2, 6)]
    assert [c.value for c in labels] == ['=HYPERLINK("x")', "visit 2", "+1", None]
    assert [c.data_type for c in labels[:3]] == ["s", "s", "s"]  # never a formula
    assert [sheet.cell(row=r, column=2).value for r in range(2, 6)] == [1.5, None, 3.0, 4.0]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:B5"


def test_a_table_too_long_for_a_sheet_fails_its_session_only(
    analysed: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "EXCEL_MAX_ROWS", 20)  # a strides table longer than a sheet
    result = export_sessions([analysed], tmp_path / "out", fmt="xlsx")
    assert not result.exported
    [(session, message)] = result.failed
    assert session == analysed
    assert "more than an Excel sheet holds (19); export it as CSV" in message
    assert not (tmp_path / "out").exists()
    csv = export_sessions([analysed], tmp_path / "csv", fmt="csv")
    assert csv.exported == (analysed,)


def test_a_session_written_by_an_older_imugait_exports_as_a_workbook(tmp_path: Path) -> None:
    root = tmp_path / "data"
    shutil.copytree(V1_DATA, root)
    [old] = list(iter_sessions(root))
    result = export_sessions([old], tmp_path / "out", fmt="xlsx")
    assert result.exported == (old,)
    sheets = read_sheets(tmp_path / "out" / old.meta.subject / f"{old.meta.session_id}.xlsx")
    stored = {p.stem for p in old.path.joinpath("derived").glob("*.arrow")}
    assert set(sheets) == stored | {"summary_with_session", "columns"}
    assert sheets["summary"]["value"].notna().any()
    assert sheets["summary"]["ci_low"].isna().all()


def test_an_unknown_format_is_refused_before_anything_is_written(analysed: Session, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown export format 'ods'; one of csv, xlsx"):
        export_sessions([analysed], tmp_path / "out", fmt="ods")
    assert not (tmp_path / "out").exists()

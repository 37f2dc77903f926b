"""Derived tables as CSV or Excel workbooks, for spreadsheets, statistics packages and patient records.

``imugait export`` and the dashboard's download buttons use this module. As CSV, for every analysed session one
file per derived table (``<subject>/<session_id>/<table>.csv``); over the sessions exported together, one tidy
``summary.csv`` (a row per session, metric and side, with the session's date, label and the pipeline version that
computed it); and ``columns.csv``, the data dictionary: every column of every table with its type, unit and
meaning, read from the versioned schemas (:mod:`pipeline.schemas`), so an export documents itself.

As Excel workbooks (``.xlsx``), the same content: a workbook per session (``<subject>/<session_id>.xlsx``, a sheet
per table, ``summary_with_session`` and ``columns``: self-contained, the file to send on) and ``summary.xlsx`` (the
summary over the sessions and its ``columns``). A workbook opens the same in every locale: a comma-separated file
does not where the list separator is ";" and the decimal mark "," (most of continental Europe), where Excel shows it
as one column. Numbers keep Excel's precision (15 significant digits), a missing value is an empty cell, the header
row is frozen and filtered, the session start is an Excel date-time (UTC). Text is always written as text: a label
that begins with "=" is not turned into a formula, and characters a workbook cannot hold (control characters) are
dropped.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from pipeline.catalog import METRICS
from pipeline.errors import DataContractError, ImuGaitError
from pipeline.schemas import BOUTS, COMPENSATION, CYCLES, EVENTS, STRIDES, SUMMARY, TURNS, TableSchema
from pipeline.store import Session, atomic_write_bytes, read_table
from pipeline.subjects import load_profile

#: The derived tables exported, in the order a reader wants them: the session's metrics first.
TABLES: Mapping[str, TableSchema] = {
    "summary": SUMMARY,
    "compensation": COMPENSATION,
    "strides": STRIDES,
    "events": EVENTS,
    "bouts": BOUTS,
    "turns": TURNS,
    "cycles": CYCLES,
}

#: Export formats: a CSV file per table, or an Excel workbook per session.
FORMATS = ("csv", "xlsx")

#: Rows of one Excel worksheet, its header included (Excel's specification limit).
EXCEL_MAX_ROWS = 1_048_576

SUMMARY_COLUMNS = (
    "subject",
    "session_id",
    "start_utc",
    "label",
    "pipeline_version",
    "affected_side",
    "metric",
    "metric_label",
    "side",
    "value",
    "unit",
    "ci_low",
    "ci_high",
    "n",
)


def session_frames(session: Session) -> dict[str, pd.DataFrame]:
    """The session's derived tables that exist (a session analysed by an older imugait may lack some), read
    through the schema upgrades. Raises :class:`DataContractError` for a session never analysed."""
    if not session.is_processed():
        raise DataContractError("not analysed yet; run 'imugait process' on it first", path=session.path)
    return {
        name: read_table(path, schema).to_pandas()
        for name, schema in TABLES.items()
        if (path := session.derived_path(name)).is_file()
    }


def summary_frame(sessions: Iterable[Session]) -> pd.DataFrame:
    """One tidy table over ``sessions``: a row per session, metric and side (columns :data:`SUMMARY_COLUMNS`).

    Sessions not analysed are left out; a session whose summary cannot be read raises.
    """
    parts: list[pd.DataFrame] = []
    for s in sessions:
        if not s.is_processed():
            continue
        frame = read_table(s.derived_path("summary"), SUMMARY).to_pandas()
        try:
            profile = load_profile(s.path.parent.parent, s.meta.subject)
        except ImuGaitError:  # a broken subject.json must not stop an export of the measurements
            profile = None
        frame.insert(0, "subject", s.meta.subject)
        frame.insert(1, "session_id", s.meta.session_id)
        frame.insert(2, "start_utc", s.meta.start_utc)
        frame.insert(3, "label", s.meta.label)
        frame.insert(4, "pipeline_version", s.processed_with() or "")
        frame.insert(5, "affected_side", (profile.affected_side or "") if profile is not None else "")
        frame.insert(7, "metric_label", [m.label if (m := METRICS.get(x)) else "" for x in frame["metric"]])
        parts.append(frame)
    if not parts:
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    frame = pd.concat(parts, ignore_index=True)
    return frame.reindex(columns=list(SUMMARY_COLUMNS))


def columns_frame(tables: Iterable[str] = TABLES, summary_name: str = "summary.csv") -> pd.DataFrame:
    """The data dictionary: table, column, type, unit and description of every column of ``tables``, then the
    columns the export's summary (named ``summary_name``) adds to the stored summary."""
    rows = []
    for name in tables:
        for f in TABLES[name].schema:
            meta = f.metadata or {}
            rows.append(
                {
                    "table": name,
                    "column": f.name,
                    "type": str(f.type),
                    "unit": meta.get(b"unit", b"").decode(),
                    "description": meta.get(b"doc", b"").decode() or _metric_definition(f.name),
                }
            )
    extra = {
        "subject": "subject id (the folder name)",
        "session_id": "session id (the folder name)",
        "start_utc": "session start, ISO 8601, UTC",
        "label": "the session's label, e.g. a visit",
        "pipeline_version": "imugait analysis version that computed the values",
        "affected_side": "the subject profile's affected side (left | right | empty)",
        "metric_label": "the metric's name for people",
    }
    rows += [
        {"table": summary_name, "column": c, "type": "string", "unit": "", "description": d} for c, d in extra.items()
    ]
    return pd.DataFrame(rows, columns=["table", "column", "type", "unit", "description"])


def _metric_definition(column: str) -> str:
    """A per-stride column named after a catalogue metric: that metric's definition."""
    metric = METRICS.get(column)
    return f"per stride: {metric.label.lower()}; {metric.definition}" if metric is not None else ""


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as CSV bytes with the conventions of the module docstring."""
    return frame.to_csv(index=False, float_format="%.10g", lineterminator="\n").encode("utf-8-sig")


def session_zip(session: Session) -> bytes:
    """A zip of the session's tables as CSV, ``summary_with_session.csv`` (its rows of the export's ``summary.csv``)
    and ``columns.csv``."""
    frames = session_frames(session)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, frame in frames.items():
            z.writestr(f"{name}.csv", csv_bytes(frame))
        z.writestr("summary_with_session.csv", csv_bytes(summary_frame([session])))
        z.writestr("columns.csv", csv_bytes(columns_frame(frames)))
    return buffer.getvalue()


def session_xlsx(session: Session) -> bytes:
    """The session as one workbook: a sheet per derived table, ``summary_with_session`` (its rows of the export's
    summary) and ``columns``. Raises :class:`DataContractError` for a table too long for a sheet."""
    frames = session_frames(session)
    sheets = {
        **frames,
        "summary_with_session": summary_frame([session]),
        "columns": columns_frame(frames, summary_name="summary_with_session"),
    }
    return xlsx_bytes(sheets, where=session.path)


def summary_workbook(summary: pd.DataFrame) -> bytes:
    """``summary`` (a :func:`summary_frame`) and the dictionary of its columns as a workbook."""
    return xlsx_bytes({"summary": summary, "columns": columns_frame(["summary"], summary_name="summary")})


def xlsx_bytes(sheets: Mapping[str, pd.DataFrame], *, where: Path | None = None) -> bytes:
    """``sheets`` (name → frame, names of at most 31 characters) as an ``.xlsx`` workbook with the conventions of
    the module docstring. A frame longer than a worksheet raises :class:`DataContractError` (naming ``where``)."""
    for name, frame in sheets.items():
        if len(frame) + 1 > EXCEL_MAX_ROWS:
            raise DataContractError(
                f"the {name} table has {len(frame):,} rows, more than an Excel sheet holds "
                f"({EXCEL_MAX_ROWS - 1:,}); export it as CSV (imugait export --format csv)",
                path=where,
            )
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            _excel_ready(frame).to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            for row in sheet.iter_rows(min_row=2):
                for cell in row:
                    if cell.data_type == "f":  # text that starts with "=": keep it text
                        cell.data_type = "s"
            for i, column in enumerate(frame.columns, start=1):
                width = 60 if column == "description" else min(max(len(str(column)), 8) + 2, 40)
                sheet.column_dimensions[get_column_letter(i)].width = width
            sheet.freeze_panes = "A2"
            sheet.auto_filter.ref = sheet.dimensions
    return buffer.getvalue()


def _excel_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with text stripped of characters a workbook cannot hold and ``start_utc`` as a date-time."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_object_dtype(out[column]) or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(lambda v: ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v)
    if "start_utc" in out.columns:
        stamps = pd.to_datetime(out["start_utc"], utc=True, errors="coerce", format="ISO8601")
        out["start_utc"] = stamps.dt.tz_localize(None)
    return out


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_sessions` wrote and left out."""

    out: Path
    exported: tuple[Session, ...]
    files: tuple[Path, ...]
    not_analysed: tuple[Session, ...]  # left out: never processed
    failed: tuple[tuple[Session, str], ...]  # left out: a derived table could not be read


def inside_session(path: Path) -> Path | None:
    """The session folder ``path`` is in (or is), if any."""
    for folder in (path.resolve(), *path.resolve().parents):
        if (folder / "session.json").is_file():
            return folder
    return None


def export_sessions(
    sessions: Sequence[Session],
    out: Path,
    *,
    fmt: str = "csv",
    on_session: Callable[[Session], None] | None = None,
) -> ExportResult:
    """Write each analysed session's tables to ``out/<subject>/<session_id>/<table>.csv``, then ``out/summary.csv``
    over the exported sessions and ``out/columns.csv``; with ``fmt="xlsx"``, ``out/<subject>/<session_id>.xlsx``
    (:func:`session_xlsx`) and ``out/summary.xlsx``. Files of an earlier export are replaced (each atomically);
    other files in ``out`` are left alone. ``on_session`` is called after each session (for a progress bar).
    A session whose tables cannot be read, or are too long for a workbook, is listed in ``failed``.

    Refuses (:class:`DataContractError`) an ``out`` inside a session folder; a disk that fills raises
    :class:`pipeline.store.StorageError` naming the file, with every file written before it complete.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")
    host = inside_session(out)
    if host is not None:
        raise DataContractError(
            f"is inside the session {host}; export to a folder outside the data (e.g. --out ./imugait-export)",
            path=out,
        )
    exported: list[Session] = []
    files: list[Path] = []
    not_analysed: list[Session] = []
    failed: list[tuple[Session, str]] = []
    for s in sessions:
        if not s.is_processed():
            not_analysed.append(s)
        else:
            folder = out / s.meta.subject
            try:
                if fmt == "xlsx":
                    contents = {folder / f"{s.meta.session_id}.xlsx": session_xlsx(s)}
                else:
                    frames = session_frames(s)
                    contents = {folder / s.meta.session_id / f"{n}.csv": csv_bytes(f) for n, f in frames.items()}
            except ImuGaitError as exc:
                failed.append((s, str(exc)))
            else:
                files += [_write(path, data) for path, data in contents.items()]
                exported.append(s)
        if on_session is not None:
            on_session(s)
    if exported and fmt == "xlsx":
        files.append(_write(out / "summary.xlsx", summary_workbook(summary_frame(exported))))
    elif exported:
        files.append(_write(out / "summary.csv", csv_bytes(summary_frame(exported))))
        files.append(_write(out / "columns.csv", csv_bytes(columns_frame())))
    return ExportResult(out, tuple(exported), tuple(files), tuple(not_analysed), tuple(failed))


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data)
    return path

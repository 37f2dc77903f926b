"""Derived tables as CSV, for spreadsheets, statistics packages and patient records.

``imugait export`` and the dashboard's download buttons use this module. For every analysed session it gives one
CSV per derived table (``<subject>/<session_id>/<table>.csv``); over the sessions exported together, one tidy
``summary.csv`` (a row per session, metric and side, with the session's date, label and the pipeline version that
computed it); and ``columns.csv``, the data dictionary: every column of every table with its type, unit and
meaning, read from the versioned schemas (:mod:`pipeline.schemas`), so an export documents itself.

CSV conventions: UTF-8 with a byte-order mark (spreadsheet programs then read the "°" and "±" of the notes),
comma separated, "." as decimal point, an empty cell for a missing value, floats to 10 significant digits (the
Arrow files keep full precision). Sessions written by an older imugait are read through the schema upgrades, so
columns added since are empty. Sides are ``left`` / ``right`` / ``both`` as stored; ``summary.csv`` adds the
subject's affected side so involved / uninvolved can be derived. Nothing is written inside a session folder: the
recorded and derived data stay exactly as they are.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

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


def columns_frame(tables: Iterable[str] = TABLES) -> pd.DataFrame:
    """The data dictionary: table, column, type, unit and description of every column of ``tables``."""
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
        {"table": "summary.csv", "column": c, "type": "string", "unit": "", "description": d} for c, d in extra.items()
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
    sessions: Sequence[Session], out: Path, *, on_session: Callable[[Session], None] | None = None
) -> ExportResult:
    """Write each analysed session's tables to ``out/<subject>/<session_id>/<table>.csv``, then ``out/summary.csv``
    over the exported sessions and ``out/columns.csv``. Files of an earlier export are replaced (each atomically);
    other files in ``out`` are left alone. ``on_session`` is called after each session (for a progress bar).

    Refuses (:class:`DataContractError`) an ``out`` inside a session folder; a disk that fills raises
    :class:`pipeline.store.StorageError` naming the file, with every file written before it complete.
    """
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
            try:
                frames = session_frames(s)
            except ImuGaitError as exc:
                failed.append((s, str(exc)))
            else:
                folder = out / s.meta.subject / s.meta.session_id
                files += [_write(folder / f"{name}.csv", csv_bytes(frame)) for name, frame in frames.items()]
                exported.append(s)
        if on_session is not None:
            on_session(s)
    if exported:
        files.append(_write(out / "summary.csv", csv_bytes(summary_frame(exported))))
        files.append(_write(out / "columns.csv", csv_bytes(columns_frame())))
    return ExportResult(out, tuple(exported), tuple(files), tuple(not_analysed), tuple(failed))


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data)
    return path

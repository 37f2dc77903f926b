"""Everything the dashboard reads: cached loaders that turn the pipeline's Arrow tables into pandas for display.

Pages call these functions and draw what they return; they never open a file themselves. Each cached loader is keyed
on a file's path and its ``st_mtime_ns``, so a session that is re-processed shows up on the next rerun without
clearing any cache. Errors from the pipeline's readers (:class:`pipeline.errors.ImuGaitError`) pass through unchanged:
their message names the file and the problem, and the pages show it instead of a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import streamlit as st
from pyarrow import ipc

from pipeline import export
from pipeline.catalog import METRICS
from pipeline.errors import ImuGaitError
from pipeline.quality import findings as quality_findings
from pipeline.run import PIPELINE_VERSION
from pipeline.schemas import (
    ALL,
    BOUTS,
    COMPENSATION,
    CYCLES,
    EVENTS,
    STRIDES,
    SUMMARY,
    TURNS,
    TableSchema,
    table_metadata,
)
from pipeline.store import DATA_ENV, default_data_root, iter_sessions, load_session, read_table
from pipeline.subjects import load_profile


@dataclass(frozen=True)
class DataRoot:
    """Where the sessions are read from, and what said so."""

    path: Path
    origin: str  # "--data", "$IMUGAIT_DATA" or "default"


def resolve_data_root(argv: Sequence[str], environ: Mapping[str, str]) -> DataRoot:
    """``--data PATH`` (given after ``--`` on ``streamlit run``) wins over ``$IMUGAIT_DATA``, then the user default."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--data", type=Path)
    args, _ = parser.parse_known_args(list(argv))
    if args.data is not None:
        return DataRoot(args.data.expanduser(), "--data")
    if environ.get(DATA_ENV):
        return DataRoot(Path(environ[DATA_ENV]).expanduser(), f"${DATA_ENV}")
    return DataRoot(default_data_root(), "default")


def display_path(path: Path, home: Path | None = None) -> str:
    """``path`` for display: inside the user's home folder as ``~/…`` (``~\\…`` on Windows), else in full."""
    home = Path.home() if home is None else home
    try:
        rest = path.relative_to(home)
    except ValueError:
        return str(path)
    return "~" if rest == Path() else f"~{os.sep}{rest}"


def file_mtime_ns(path: Path) -> int:
    """A file's ``st_mtime_ns`` for cache keys; -1 when it does not exist."""
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return -1


# ---------------------------------------------------------------------------------------------------------------
# Sessions


def _root_fingerprint(root: Path) -> tuple[tuple[str, int], ...]:
    files = sorted(root.glob("*/*/session.json")) + sorted(root.glob("*/*/derived/summary.arrow"))
    return tuple((str(p), file_mtime_ns(p)) for p in files)


@st.cache_data(max_entries=8, show_spinner=False)
def _sessions(root: str, fingerprint: tuple[tuple[str, int], ...]) -> pd.DataFrame:  # noqa: ARG001 - the fingerprint is the cache key
    rows = [
        {
            "subject": s.meta.subject,
            "session_id": s.meta.session_id,
            "start": pd.Timestamp(s.meta.start),
            "label": s.meta.label,
            "status": s.meta.status,
            "source": s.meta.source,
            "processed": s.is_processed(),
            "path": str(s.path),
            "pipeline_version": s.processed_with() if s.is_processed() else None,
        }
        for s in iter_sessions(Path(root))
    ]
    columns = ["subject", "session_id", "start", "label", "status", "source", "processed", "path", "pipeline_version"]
    return pd.DataFrame(rows, columns=columns)


def list_sessions(root: Path) -> pd.DataFrame:
    """One row per readable session below ``root``, oldest first (empty when the root is missing). ``pipeline_version``
    is the version that analysed a processed session (:meth:`pipeline.store.Session.processed_with`), None when the
    session is not processed or its summary does not say."""
    return _sessions(str(root), _root_fingerprint(root))


def session_choice_label(row: Mapping[str, object]) -> str:
    """How a session is named in pickers: date, label, and a note when it is not processed yet."""
    start = pd.Timestamp(row["start"])  # type: ignore[arg-type]
    text = start.strftime("%Y-%m-%d %H:%M")
    if row["label"]:
        text += f" — {row['label']}"
    if not row["processed"]:
        text += " (not processed)"
    return text


def default_subject(sessions: pd.DataFrame) -> str | None:
    """The subject of the most recent session (the patient just seen), None when there are no sessions."""
    if sessions.empty:
        return None
    return str(sessions.sort_values("start", kind="stable")["subject"].iloc[-1])


@dataclass(frozen=True)
class Selection:
    """What the sidebar picked; the router stores it in ``st.session_state["selection"]`` for the pages."""

    root: DataRoot
    sessions: pd.DataFrame  # every session under the root (see list_sessions)
    subject: str | None
    session_id: str | None

    def subject_sessions(self, *, processed_only: bool = False) -> pd.DataFrame:
        """The chosen subject's sessions, oldest first."""
        own = self.sessions[self.sessions["subject"] == self.subject]
        return own[own["processed"]] if processed_only else own

    def session(self) -> pd.Series | None:
        """The chosen session's row, or None when there is none."""
        own = self.subject_sessions()
        hit = own[own["session_id"] == self.session_id]
        return hit.iloc[0] if len(hit) else None


def current() -> Selection:
    """The sidebar's selection, as set by the router on this run."""
    return st.session_state["selection"]


@contextmanager
def section(what: str) -> Iterator[None]:
    """Show a pipeline error as a message naming the file, so one bad table does not hide the rest of a page."""
    try:
        yield
    except ImuGaitError as exc:
        st.error(f"Cannot show {what}: {exc}")


# ---------------------------------------------------------------------------------------------------------------
# Derived tables


@st.cache_data(max_entries=64, show_spinner=False)
def _summary(path: str, mtime_ns: int) -> pd.DataFrame:  # noqa: ARG001 - mtime_ns is part of the cache key
    frame = read_table(Path(path), SUMMARY).to_pandas()
    frame["label"] = [METRICS[m].label if m in METRICS else m for m in frame["metric"]]
    return frame


@st.cache_data(max_entries=128, show_spinner=False)
def _table(path: str, mtime_ns: int, schema: str) -> pd.DataFrame:  # noqa: ARG001 - mtime_ns is part of the cache key
    return read_table(Path(path), ALL[schema]).to_pandas()


def _derived(session_path: Path, name: str, schema: TableSchema) -> pd.DataFrame | None:
    path = Path(session_path) / "derived" / f"{name}.arrow"
    if not path.exists():
        return None
    return _table(str(path), file_mtime_ns(path), schema.name)


def load_summary(session_path: Path) -> pd.DataFrame:
    """``derived/summary.arrow`` (metric, side, value, unit, n, ci_low, ci_high; the 95 % within-session interval is
    NaN where the pipeline has none, e.g. sessions processed before it computed them) plus the catalogue's label."""
    path = Path(session_path) / "derived" / "summary.arrow"
    return _summary(str(path), file_mtime_ns(path))


def load_strides(session_path: Path) -> pd.DataFrame:
    """``derived/strides.arrow``: one row per stride and side."""
    path = Path(session_path) / "derived" / "strides.arrow"
    return _table(str(path), file_mtime_ns(path), STRIDES.name)


def load_events(session_path: Path) -> pd.DataFrame:
    """``derived/events.arrow``: one row per IC/FC event; empty when the session is not processed."""
    frame = _derived(session_path, "events", EVENTS)
    if frame is None:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in EVENTS.schema.names})
    return frame


def load_cycles(session_path: Path) -> pd.DataFrame | None:
    """``derived/cycles.arrow`` (side, signal, unit, pct, mean, sd, n); None for sessions processed before it."""
    return _derived(session_path, "cycles", CYCLES)


def load_bouts(session_path: Path) -> pd.DataFrame | None:
    """``derived/bouts.arrow`` (one row per walking bout); None for sessions processed before it."""
    return _derived(session_path, "bouts", BOUTS)


def load_turns(session_path: Path) -> pd.DataFrame | None:
    """``derived/turns.arrow`` (one row per turn of at least 45°); None for sessions processed before imugait 1.9
    listed turns."""
    return _derived(session_path, "turns", TURNS)


def load_compensation(session_path: Path) -> pd.DataFrame | None:
    """``derived/compensation.arrow``, one row per pattern and indicator; None when the session has none yet."""
    return _derived(session_path, "compensation", COMPENSATION)


@st.cache_data(max_entries=8, show_spinner=False)
def _session_file(path: str, fmt: str, fingerprint: tuple[tuple[str, int], ...]) -> bytes:  # noqa: ARG001 - cache key
    session = load_session(Path(path))
    return export.session_xlsx(session) if fmt == "xlsx" else export.session_zip(session)


def session_download(session_path: Path, fmt: str = "zip") -> bytes:
    """The session's derived tables as a zip of CSV (:func:`pipeline.export.session_zip`, what ``imugait export``
    writes for one session) or, ``fmt="xlsx"``, as one Excel workbook (:func:`pipeline.export.session_xlsx`, what
    ``imugait export --format xlsx`` writes for it), rebuilt only when a derived table or the subject profile
    changes. Raises :class:`DataContractError` for a table too long for a workbook."""
    files = [*sorted((Path(session_path) / "derived").glob("*.arrow")), Path(session_path).parent / "subject.json"]
    return _session_file(str(session_path), fmt, tuple((str(p), file_mtime_ns(p)) for p in files))


@st.cache_data(max_entries=8, show_spinner=False)
def _subject_summary(root: str, subject: str, fmt: str, fingerprint: tuple[tuple[str, int], ...]) -> bytes:  # noqa: ARG001 - cache key
    parts = [export.summary_frame([])]
    for session in iter_sessions(Path(root) / subject):
        try:
            parts.append(export.summary_frame([session]))
        except ImuGaitError:  # left out, as the page says above its charts
            continue
    frame = pd.concat(parts, ignore_index=True)
    if fmt == "xlsx":
        return export.summary_workbook(frame)
    return export.csv_bytes(frame)


def subject_summary(root: Path, subject: str, fmt: str = "csv") -> bytes:
    """Every analysed session of ``subject`` as ``imugait export``'s ``summary.csv`` (``fmt="xlsx"``: a workbook of
    it and the columns' units and meanings): a row per session, metric and side with its date, label, pipeline
    version, value, unit and 95 % interval. A session whose summary cannot be read is left out (the trends page
    names it)."""
    profile = Path(root) / subject / "subject.json"  # its affected side is a column
    return _subject_summary(str(root), subject, fmt, (*_root_fingerprint(root), (str(profile), file_mtime_ns(profile))))


@st.cache_data(max_entries=128, show_spinner=False)
def _quality(path: str, mtime_ns: int) -> dict[str, Any]:  # noqa: ARG001 - mtime_ns is part of the cache key
    try:
        with pa.memory_map(path, "r") as source:
            schema = ipc.open_file(source).schema
        quality = json.loads(table_metadata(schema).get("quality", "{}"))
    except (OSError, pa.ArrowInvalid, json.JSONDecodeError):
        return {}  # an unreadable summary is reported by load_summary; an unreadable record says nothing
    return quality if isinstance(quality, dict) else {}


def load_quality(session_path: Path) -> dict[str, Any]:
    """The session's quality record, as ``pipeline.run.process_session`` writes it into the metadata of every derived
    table (read from ``derived/summary.arrow``): keys such as ``"spatial.method"`` or ``"pelvis.drift_ppm"``. Empty
    when the session is not processed, or was processed by something that wrote no record (e.g. a test fixture)."""
    path = Path(session_path) / "derived" / "summary.arrow"
    return _quality(str(path), file_mtime_ns(path))


@dataclass(frozen=True)
class SpatialCalibration:
    """Whether a session's step lengths (hence stride length and walking speed) were calibrated for the walker.

    From the quality record's ``spatial.calibrated`` (bool) and ``spatial.calibration`` (what was used, or
    ``none: <why>``). ``calibrated`` is None when the record does not say: the session was processed before imugait
    calibrated step length, so it was not calibrated either.
    """

    calibrated: bool | None
    text: str

    @property
    def recorded(self) -> bool:
        return self.calibrated is not None

    @property
    def identity(self) -> str:
        """What must match for two sessions' spatial values to be comparable: the calibration used, or "" for every
        uncalibrated session (the reasons differ, the model does not)."""
        return self.text if self.calibrated else ""


def spatial_calibration(quality: Mapping[str, Any]) -> SpatialCalibration:
    """The calibration entries of a quality record (see :func:`load_quality`)."""
    flag = quality.get("spatial.calibrated")
    text = quality.get("spatial.calibration")
    return SpatialCalibration(flag if isinstance(flag, bool) else None, text if isinstance(text, str) else "")


# ---------------------------------------------------------------------------------------------------------------
# Views across sessions


@dataclass(frozen=True)
class Trends:
    """A subject's summary values over sessions, and the sessions that could not be read."""

    values: pd.DataFrame  # session_id, start, session_label, label, the summary's columns (value, ci_low, ...),
    # calibrated (True/False, None when the session's record does not say), calibration (its text, "" if none) and
    # pipeline_version (the version that analysed the session, None when its tables do not say) and quality_warnings
    # (the session's data-quality warnings as ``pipeline.quality`` words them, a tuple, empty when none)
    problems: tuple[str, ...]


def subject_trends(root: Path, subject: str) -> Trends:
    """Every processed session's summary of one subject, long form, oldest first."""
    sessions = list_sessions(root)
    sessions = sessions[(sessions["subject"] == subject) & sessions["processed"]]
    frames, problems = [], []
    for row in sessions.itertuples():
        try:
            summary = load_summary(Path(row.path))
        except ImuGaitError as exc:
            problems.append(str(exc))
            continue
        record = load_quality(Path(row.path))
        calibration = spatial_calibration(record)
        warnings = [f.text for f in quality_findings(record) if f.level == "warning"]
        frames.append(
            summary.assign(
                session_id=row.session_id,
                start=row.start,
                session_label=row.label,
                calibrated=pd.Series([calibration.calibrated] * len(summary), index=summary.index, dtype=object),
                calibration=calibration.text,
                pipeline_version=pd.Series([row.pipeline_version] * len(summary), index=summary.index, dtype=object),
                quality_warnings=pd.Series([tuple(warnings)] * len(summary), index=summary.index, dtype=object),
            )
        )
    columns = [
        "session_id",
        "start",
        "session_label",
        "label",
        *SUMMARY.schema.names,
        "calibrated",
        "calibration",
        "pipeline_version",
        "quality_warnings",
    ]
    values = pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    return Trends(values, tuple(problems))


# ---------------------------------------------------------------------------------------------------------------
# Pipeline versions

UNKNOWN_VERSION = "unknown version"


def version_name(version: object) -> str:
    """How a session's pipeline version is named: ``1.0``, ``1.1 (current)`` or ``unknown version`` (None: the tables
    do not say, e.g. written before imugait recorded it, or unreadable)."""
    if not isinstance(version, str) or not version:
        return UNKNOWN_VERSION
    return f"{version} (current)" if version == PIPELINE_VERSION else version


def is_current(version: object) -> bool:
    """True when a session was analysed by this imugait's pipeline version."""
    return version == PIPELINE_VERSION


def outdated_command(root: Path) -> str:
    """The command that re-analyses every session under ``root`` not analysed by the current pipeline version
    (``imugait process --outdated``: raw data is never touched)."""
    return f"imugait process {shlex.quote(str(root))} --outdated"


def version_counts(versions: Sequence[object]) -> dict[str, int]:
    """Sessions per pipeline version (one entry per session), current version last, unknown first."""
    counts = Counter(v if isinstance(v, str) and v else None for v in versions)

    def order(version: str | None) -> tuple[int, str]:
        return (0 if version is None else 2 if version == PIPELINE_VERSION else 1, version or "")

    return {version_name(v): counts[v] for v in sorted(counts, key=order)}


def versions_note(versions: Sequence[object], root: Path) -> str | None:
    """The trends page's note when its sessions (one version per session) were analysed by more than one pipeline
    version, or by one other than the current: how many per version, and the command to bring them up to date.
    None when every session was analysed by the current version."""
    if all(is_current(v) for v in versions):
        return None
    counts = ", ".join(
        f"{n} session{'s' if n != 1 else ''} by {'an ' if name == UNKNOWN_VERSION else 'pipeline '}{name}"
        for name, n in version_counts(versions).items()
    )
    mixed = len(version_counts(versions)) > 1
    lead = (
        "**These sessions were analysed by different pipeline versions**"
        if mixed
        else "**These sessions were not analysed by the current pipeline version**"
    )
    return (
        f"{lead} — {counts}. Values from different algorithm versions can differ for reasons other than the "
        f"patient. To re-analyse every session not analysed by pipeline {PIPELINE_VERSION} (raw data is not "
        "touched), run:\n\n"
        f"`{outdated_command(root)}`"
    )


def session_version_warning(version: object, root: Path) -> str | None:
    """The session page's warning when the session was not analysed by the current pipeline version."""
    if is_current(version):
        return None
    which = (
        "by an unknown pipeline version"
        if version_name(version) == UNKNOWN_VERSION
        else f"by pipeline version {version}"
    )
    return (
        f"This session was analysed {which}, not the current {PIPELINE_VERSION}: its values may differ from those "
        "of sessions analysed by the current version for reasons other than the patient. To re-analyse it, with "
        f"every other outdated session of the data root (raw data is not touched), run:\n\n`{outdated_command(root)}`"
    )


def compare_version_warning(a: object, b: object, root: Path) -> str | None:
    """The compare page's warning when the two sessions were analysed by different pipeline versions (or either
    by an unknown one)."""
    name_a, name_b = version_name(a), version_name(b)
    if name_a == name_b != UNKNOWN_VERSION:
        return None  # the same version, even an older one: like for like (the session page says it is outdated)
    lead = "different pipeline versions" if name_a != name_b else "pipeline versions that are not recorded"
    return (
        f"**A and B were analysed by {lead}** — A: {name_a}, B: {name_b}. "
        "A difference between them may come from the algorithms, not the patient. To re-analyse the outdated "
        f"session(s) with pipeline {PIPELINE_VERSION} (raw data is not touched), run:\n\n`{outdated_command(root)}`"
    )


# ---------------------------------------------------------------------------------------------------------------
# Subject profile


@dataclass(frozen=True)
class SubjectFacts:
    """A subject profile as display text; ``problem`` instead when ``subject.json`` cannot be read."""

    facts: tuple[tuple[str, str], ...]  # (label, value with unit), e.g. ("Height", "1.78 m")
    problem: str = ""


def subject_profile(root: Path, subject: str) -> SubjectFacts | None:
    """Height, leg length and affected side from ``<root>/<subject>/subject.json`` (``pipeline.subjects``); None
    when the subject has no profile. An invalid file is a ``problem`` to show, not an error."""
    try:
        profile = load_profile(root, subject)
    except ImuGaitError as exc:
        return SubjectFacts((), str(exc))
    if profile is None:
        return None
    facts = []
    if profile.height_m is not None:
        facts.append(("Height", f"{profile.height_m:.2f} m"))
    leg = profile.leg_length
    if leg is not None:
        facts.append(("Leg length", f"{leg.value_m:.2f} m" + (" (estimated from height)" if leg.estimated else "")))
    facts.append(("Affected side", profile.affected_side or "not set"))
    return SubjectFacts(tuple(facts))

"""Everything the dashboard reads: cached loaders that turn the pipeline's Arrow tables into pandas for display.

Pages call these functions and draw what they return; they never open a file themselves. Each cached loader is keyed
on a file's path and its ``st_mtime_ns``, so a session that is re-processed shows up on the next rerun without
clearing any cache. Errors from the pipeline's readers (:class:`pipeline.errors.ImuGaitError`) pass through unchanged:
their message names the file and the problem, and the pages show it instead of a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from pipeline.catalog import METRICS
from pipeline.errors import DataContractError, ImuGaitError
from pipeline.schemas import EVENTS, STRIDES, SUMMARY
from pipeline.store import DATA_ENV, default_data_root, iter_sessions, load_session, read_raw, read_table

MAX_PLOT_POINTS = 20_000  # per site: enough for a 10-minute walk at 33 Hz, light enough for the browser
TRUTH_FILE = "sim/truth.json"


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


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return -1


# ---------------------------------------------------------------------------------------------------------------
# Sessions


def _root_fingerprint(root: Path) -> tuple[tuple[str, int], ...]:
    files = sorted(root.glob("*/*/session.json")) + sorted(root.glob("*/*/derived/summary.arrow"))
    return tuple((str(p), _mtime_ns(p)) for p in files)


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
        }
        for s in iter_sessions(Path(root))
    ]
    columns = ["subject", "session_id", "start", "label", "status", "source", "processed", "path"]
    return pd.DataFrame(rows, columns=columns)


def list_sessions(root: Path) -> pd.DataFrame:
    """One row per readable session below ``root``, oldest first (empty when the root is missing)."""
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


@dataclass(frozen=True)
class SessionHeader:
    """What the top of the session page says about a session."""

    subject: str
    session_id: str
    start: pd.Timestamp
    label: str
    notes: str
    status: str
    source: str
    sensors: pd.DataFrame  # site, family, model, rate_hz, firmware
    duration_s: float  # NaN when no raw stream is readable
    processed: bool


def session_header(session_path: Path) -> SessionHeader:
    """Metadata of one session plus its recorded duration (from the raw streams' host clock)."""
    session = load_session(session_path)
    meta = session.meta
    sensors = pd.DataFrame(
        [
            {"site": s.site, "family": s.family, "model": s.model, "rate_hz": s.rate_hz, "firmware": s.firmware}
            for s in meta.sensors
        ],
        columns=["site", "family", "model", "rate_hz", "firmware"],
    )
    ends = []
    for site in session.raw_sites():
        try:
            t = _raw_norms(str(session.raw_path(site)), _mtime_ns(session.raw_path(site)), meta.host_t0_ns)["t_s"]
        except ImuGaitError:
            continue
        if len(t):
            ends.append(float(t.iloc[-1]))
    return SessionHeader(
        subject=meta.subject,
        session_id=meta.session_id,
        start=pd.Timestamp(meta.start),
        label=meta.label,
        notes=meta.notes,
        status=meta.status,
        source=meta.source,
        sensors=sensors,
        duration_s=max(ends) if ends else math.nan,
        processed=session.is_processed(),
    )


# ---------------------------------------------------------------------------------------------------------------
# Derived tables


@st.cache_data(max_entries=64, show_spinner=False)
def _summary(path: str, mtime_ns: int) -> pd.DataFrame:  # noqa: ARG001 - mtime_ns is part of the cache key
    frame = read_table(Path(path), SUMMARY).to_pandas()
    frame["label"] = [METRICS[m].label if m in METRICS else m for m in frame["metric"]]
    return frame


@st.cache_data(max_entries=32, show_spinner=False)
def _strides(path: str, mtime_ns: int) -> pd.DataFrame:  # noqa: ARG001 - mtime_ns is part of the cache key
    return read_table(Path(path), STRIDES).to_pandas()


@st.cache_data(max_entries=32, show_spinner=False)
def _events(path: str, mtime_ns: int) -> pd.DataFrame:  # noqa: ARG001 - mtime_ns is part of the cache key
    return read_table(Path(path), EVENTS).to_pandas()


def load_summary(session_path: Path) -> pd.DataFrame:
    """``derived/summary.arrow`` (metric, side, value, unit, n) plus the catalogue's display label."""
    path = Path(session_path) / "derived" / "summary.arrow"
    return _summary(str(path), _mtime_ns(path))


def load_strides(session_path: Path) -> pd.DataFrame:
    """``derived/strides.arrow``: one row per stride and side."""
    path = Path(session_path) / "derived" / "strides.arrow"
    return _strides(str(path), _mtime_ns(path))


def load_events(session_path: Path) -> pd.DataFrame:
    """``derived/events.arrow``: one row per IC/FC event; empty when the session is not processed."""
    path = Path(session_path) / "derived" / "events.arrow"
    if not path.exists():
        return pd.DataFrame({name: pd.Series(dtype=object) for name in EVENTS.schema.names})
    return _events(str(path), _mtime_ns(path))


# ---------------------------------------------------------------------------------------------------------------
# Signals


@st.cache_data(max_entries=16, show_spinner=False)
def _raw_norms(path: str, mtime_ns: int, host_t0_ns: int) -> pd.DataFrame:  # noqa: ARG001 - mtime_ns is part of the cache key
    raw = read_raw(Path(path))
    step = max(1, math.ceil(len(raw) / MAX_PLOT_POINTS))
    return pd.DataFrame(
        {
            "t_s": (raw.t_host_ns[::step] - host_t0_ns) / 1e9,
            "gyr_norm_dps": np.linalg.norm(raw.gyr[::step], axis=1),
            "acc_norm_ms2": np.linalg.norm(raw.acc[::step], axis=1),
        }
    )


def load_signals(session_path: Path) -> pd.DataFrame:
    """Per-site signals to draw under the gait events: long form ``site, t_s, gyr_norm_dps, acc_norm_ms2``.

    Built from the raw streams (norms are orientation-free, so no alignment is needed) on the host timeline,
    ``t_host_ns - host_t0_ns``. This is the one place to switch to ``pipeline.run.load_aligned`` once it exists, to
    plot resampled angles on the same grid as the events.
    """
    session = load_session(Path(session_path))
    frames = []
    for site in session.raw_sites():
        path = session.raw_path(site)
        frame = _raw_norms(str(path), _mtime_ns(path), session.meta.host_t0_ns)
        frames.append(frame.assign(site=site))
    if not frames:
        return pd.DataFrame(columns=["site", "t_s", "gyr_norm_dps", "acc_norm_ms2"])
    return pd.concat(frames, ignore_index=True)[["site", "t_s", "gyr_norm_dps", "acc_norm_ms2"]]


# ---------------------------------------------------------------------------------------------------------------
# Views across sessions


@dataclass(frozen=True)
class Trends:
    """A subject's summary values over sessions, and the sessions that could not be read."""

    values: pd.DataFrame  # session_id, start, label, metric, side, value, unit, n
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
        frames.append(summary.assign(session_id=row.session_id, start=row.start, session_label=row.label))
    columns = ["session_id", "start", "session_label", "metric", "label", "side", "value", "unit", "n"]
    values = pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    return Trends(values, tuple(problems))


def load_truth(session_path: Path, summary: pd.DataFrame | None) -> pd.DataFrame | None:
    """The simulator's ground truth (``sim/truth.json``) beside the measured values, or None for real recordings.

    Reads ``truth["summary"]`` as the simulator writes it (``sensors.sim``): flat numbers keyed by catalogue metric,
    with a ``_left``/``_right`` suffix for per-side ones and the pelvic ranges without their ``pelvic_`` prefix.
    Keys with no catalogue metric (e.g. ``speed_m_s``) are shown as given, without a measured value.
    """
    path = Path(session_path) / TRUTH_FILE
    if not path.is_file():
        return None
    try:
        truth = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataContractError(f"simulator truth is not readable JSON ({exc})", path=path) from exc
    block = truth.get("summary") if isinstance(truth, dict) else None
    if not isinstance(block, dict):
        raise DataContractError("simulator truth has no 'summary' object", path=path)
    rows = [
        {**_truth_key(name), "truth": float(value)}
        for name, value in block.items()
        if isinstance(value, int | float) and not name.startswith("n_strides")
    ]
    frame = pd.DataFrame(rows, columns=["metric", "side", "truth"])
    frame["label"] = [METRICS[m].label if m in METRICS else m for m in frame["metric"]]
    frame["unit"] = [METRICS[m].unit if m in METRICS else "" for m in frame["metric"]]
    rank = {m: i for i, m in enumerate(METRICS)}
    frame = frame.sort_values(["metric", "side"], key=lambda c: c.map(rank) if c.name == "metric" else c, kind="stable")
    measured = (
        summary[["metric", "side", "value"]]
        if summary is not None
        else pd.DataFrame(columns=["metric", "side", "value"])
    )
    frame = frame.merge(measured, on=["metric", "side"], how="left").rename(columns={"value": "measured"})
    frame["error"] = frame["measured"] - frame["truth"]
    frame = frame.rename(columns={"truth": "simulator ground truth", "error": "error (measured − truth)"})
    return frame[["label", "side", "unit", "measured", "simulator ground truth", "error (measured − truth)"]].round(3)


# ---------------------------------------------------------------------------------------------------------------
# Display-ready pieces of one session


def _truth_key(name: str) -> dict[str, str]:
    """``stance_time_s_left`` → stance_time_s/left; ``obliquity_range_deg`` → pelvic_obliquity_range_deg/both."""
    for side in ("left", "right"):
        if name.endswith(f"_{side}") and name.removesuffix(f"_{side}") in METRICS:
            return {"metric": name.removesuffix(f"_{side}"), "side": side}
    metric = name if name in METRICS else f"pelvic_{name}" if f"pelvic_{name}" in METRICS else name
    return {"metric": metric, "side": "both"}

"""What the session page reads beyond the derived tables: the header, the signals under the events, the truth.

Same rules as :mod:`dashboard.data`: cached loaders keyed on paths and ``st_mtime_ns``, pipeline errors passed
through (or, for the angles, returned as a note so the page can fall back to the raw streams).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from dashboard.data import file_mtime_ns, load_events
from pipeline.catalog import METRICS
from pipeline.errors import DataContractError, ImuGaitError
from pipeline.run import load_aligned
from pipeline.store import load_session, read_raw

MAX_PLOT_POINTS = 20_000  # per signal: a 3-minute walk at 100 Hz in full, light enough for the browser
TRUTH_FILE = "sim/truth.json"


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
        path = session.raw_path(site)
        try:
            t = _raw_norms(str(path), file_mtime_ns(path), meta.host_t0_ns)["t_s"]
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
# Signals


@dataclass(frozen=True)
class SessionSignals:
    """What the signals plot draws: body-aligned angles when the pipeline could align the session, else raw norms.

    ``angles``: ``t_s`` plus one column per angle in degrees (``pelvic_obliquity_deg``, ``pelvic_tilt_deg``,
    ``pelvic_rotation_deg``, ``left_thigh_sagittal_deg``, ``right_thigh_sagittal_deg``; only the sites present).
    ``raw``: long form ``site, t_s, gyr_norm_dps, acc_norm_ms2``, filled only when there are no angles.
    ``problem``: the pipeline's reason when there are no angles. ``events``: ``t_s, side, event``.
    """

    angles: pd.DataFrame
    raw: pd.DataFrame
    events: pd.DataFrame
    events_detected_now: bool  # True: not processed, so the events come from this run, not derived/events.arrow
    problem: str


_EVENT_COLUMNS = ["t_s", "side", "event"]


@st.cache_data(max_entries=8, show_spinner="Aligning the sensors to the body…")
def _aligned(session_path: str, fingerprint: tuple[tuple[str, int], ...]) -> tuple[pd.DataFrame, pd.DataFrame, str]:  # noqa: ARG001 - the fingerprint is the cache key
    # load_aligned re-runs timeline, alignment, angles and events (≈ 0.2 s per minute of walking): once per
    # session and file state. Its errors are returned, not raised, so a session that cannot be aligned is not
    # re-tried on every rerun.
    try:
        aligned = load_aligned(load_session(Path(session_path)))
    except ImuGaitError as exc:
        return pd.DataFrame(), pd.DataFrame(columns=_EVENT_COLUMNS), str(exc)
    step = max(1, math.ceil(aligned.t_s.size / MAX_PLOT_POINTS))
    columns = {"t_s": aligned.t_s[::step]}
    if aligned.pelvis is not None:
        columns["pelvic_obliquity_deg"] = aligned.pelvis.obliquity_deg[::step]
        columns["pelvic_tilt_deg"] = aligned.pelvis.tilt_deg[::step]
        columns["pelvic_rotation_deg"] = aligned.pelvis.rotation_deg[::step]
    for side in ("left", "right"):
        if side in aligned.thighs:
            columns[f"{side}_thigh_sagittal_deg"] = aligned.thighs[side].sagittal_deg[::step]
    ev = aligned.events
    events = pd.DataFrame({"t_s": ev.t_s, "side": ev.side.astype(str), "event": ev.kind.astype(str)})
    return pd.DataFrame(columns), events, ""


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


def _raw_signals(session_path: Path) -> pd.DataFrame:
    """Gyroscope and accelerometer norms per site on the host (packet arrival) clock, straight from the raw files."""
    session = load_session(session_path)
    frames = []
    for site in session.raw_sites():
        path = session.raw_path(site)
        frames.append(_raw_norms(str(path), file_mtime_ns(path), session.meta.host_t0_ns).assign(site=site))
    if not frames:
        return pd.DataFrame(columns=["site", "t_s", "gyr_norm_dps", "acc_norm_ms2"])
    return pd.concat(frames, ignore_index=True)[["site", "t_s", "gyr_norm_dps", "acc_norm_ms2"]]


def load_signals(session_path: Path) -> SessionSignals:
    """The session's resampled, body-aligned angles (``pipeline.run.load_aligned``) with its gait events.

    Events are those of ``derived/events.arrow`` (the ones behind the metrics) when the session is processed, else
    the ones the alignment run detected. When the pipeline cannot align the session, ``problem`` says why and
    ``raw`` holds the raw gyroscope norms instead.
    """
    session_path = Path(session_path)
    session = load_session(session_path)
    files = [session_path / "session.json", session.derived_path("events")]
    files += [session.raw_path(site) for site in session.raw_sites()]
    angles, detected, problem = _aligned(str(session_path), tuple((str(p), file_mtime_ns(p)) for p in files))
    derived = load_events(session_path)
    detected_now = derived.empty and not problem
    events = detected if detected_now else derived[_EVENT_COLUMNS]
    raw = _raw_signals(session_path) if problem else pd.DataFrame()
    return SessionSignals(angles, raw, events, detected_now, problem)


# ---------------------------------------------------------------------------------------------------------------
# Simulator truth


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


def _truth_key(name: str) -> dict[str, str]:
    """``stance_time_s_left`` → stance_time_s/left; ``obliquity_range_deg`` → pelvic_obliquity_range_deg/both."""
    for side in ("left", "right"):
        if name.endswith(f"_{side}") and name.removesuffix(f"_{side}") in METRICS:
            return {"metric": name.removesuffix(f"_{side}"), "side": side}
    metric = name if name in METRICS else f"pelvic_{name}" if f"pelvic_{name}" in METRICS else name
    return {"metric": metric, "side": "both"}

"""Compare: two sessions of one subject side by side, e.g. the first visit against the latest."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import charts, data

selection = data.current()
st.title("Compare sessions")
own = selection.subject_sessions(processed_only=True)
if len(own) < 2:
    who = selection.subject or "this data root"
    st.info(f"Comparing needs two processed sessions of {who} — run `imugait process …` on the recorded sessions.")
    st.stop()

names = {row["session_id"]: data.session_choice_label(row) for _, row in own.iterrows()}
paths = dict(zip(own["session_id"], own["path"], strict=True))
left, right = st.columns(2)
a = left.selectbox("Session A (before)", list(names), index=0, format_func=names.__getitem__, key="compare_a")
b = right.selectbox(
    "Session B (after)", list(names), index=len(names) - 1, format_func=names.__getitem__, key="compare_b"
)

versions = dict(zip(own["session_id"], own["pipeline_version"], strict=True))
version_warning = data.compare_version_warning(versions[a], versions[b], selection.root.path)
if version_warning:
    st.warning(version_warning)

with data.section("the comparison"):
    table = charts.compare_summaries(data.load_summary(Path(paths[a])), data.load_summary(Path(paths[b])))
    st.caption(
        f"A = {names[a]}, B = {names[b]}. ↑/↓: B is higher/lower than A. "
        "For symmetry indices, 'toward symmetry' means |SI| got smaller. "
        "95 % CI: each session's within-session interval, how far its value could have moved had the patient walked "
        "a different handful of strides. 'Overlap': the intervals overlap, so stride sampling alone could explain "
        "the difference. Intervals apart: 'beyond walk-to-walk variation' when the difference is also larger than "
        "healthy adults vary between walks on one visit (the minimal detectable change: τ from 19 people's repeated "
        "walks, with each session's own interval), 'within walk-to-walk variation' when it is not, 'beyond stride "
        "sampling' for metrics without such a figure (thigh metrics, turns). Days apart and patients vary more, so "
        "even 'beyond' does not make it a clinically meaningful change. Blank: a session has no interval "
        "(processed before imugait computed them, or none for that metric)."
    )
    st.dataframe(charts.compare_display(table), hide_index=True, key="compare_table")
    st.plotly_chart(charts.compare_figure(table, f"A: {names[a]}", f"B: {names[b]}"), key="compare_bars")

"""Trends: is the limp, the pelvic drop and the asymmetry shrinking across a subject's sessions?"""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data
from pipeline.catalog import KEY_METRICS

selection = data.current()
st.title("Trends")

if selection.subject is None:
    st.info(
        "No processed sessions yet — record or import a session, then run `imugait process <session folder>`. "
        f"Looking in `{selection.root.path}`."
    )
    st.stop()

trends = data.subject_trends(selection.root.path, selection.subject)
for problem in trends.problems:
    st.error(f"A session was left out: {problem}")
values = charts.prefer_involved(trends.values)
if values.empty:
    st.info(
        f"No processed sessions yet for {selection.subject} — run `imugait process <session folder>` on a recorded "
        "session to see its metrics here."
    )
    st.stop()

dates = values["start"].dt.strftime("%Y-%m-%d")
st.caption(f"{selection.subject}: {values['session_id'].nunique()} processed sessions, {dates.min()} to {dates.max()}")
versions_note = data.versions_note(
    values.drop_duplicates("session_id")["pipeline_version"].tolist(), selection.root.path
)
if versions_note:
    st.warning(versions_note)
flagged = charts.quality_warning_sessions(values)
if flagged:
    st.warning(
        f"{len(flagged)} of {values['session_id'].nunique()} sessions have data-quality warnings: read them (hover "
        "the red ring on a chart, or open the session's page) before reading their values as change. "
        + "; ".join(flagged)
        + "."
    )

options = charts.metric_options(values)
metrics = st.multiselect(
    "Metrics",
    list(options),
    default=[m for m in KEY_METRICS if m in options],
    format_func=options.__getitem__,
    key="trend_metrics",
)

for warning in charts.calibration_warnings(values, metrics):
    st.warning(warning)

for row_start in range(0, len(metrics), 2):
    columns = st.columns(2)
    for column, metric in zip(columns, metrics[row_start : row_start + 2], strict=False):
        column.plotly_chart(charts.trend_figure(values[values["metric"] == metric], metric), key=f"trend_{metric}")

st.caption(
    "Error bars: each session's 95 % within-session interval, i.e. how far that session's value could have moved had "
    "the patient walked a different handful of strides that day. They leave out day-to-day variability, so two "
    "sessions whose bars do not overlap differ by more than stride sampling explains — a measurement statement, not "
    "by itself a clinically meaningful change. Healthy adults' own walks differ by more than that (the Compare page "
    "says whether a change also passes their walk-to-walk variation). No bar: the session was processed before "
    "imugait computed intervals (re-process it to add them), it had too few strides, or the metric has no interval "
    "(step symmetry, walking time). Red ring: the session has data-quality warnings (a sensor lost or left out, few "
    "strides, swapped or doubtful sensors, ...); hover it for them."
)
st.caption(
    f"Shaded band on symmetry indices: ±{charts.SI_NOISE_BAND_PCT:g} %, the healthy noise floor of IMU symmetry "
    "indices (≈ ±2–3 %; gait_reference §3, PMC8919661). Inside it, an asymmetry cannot be told from measurement noise. "
    "SI = (right − left) / mean × 100 %; negative means the right value is smaller. Sessions processed with a subject "
    "profile naming the affected side show involved / uninvolved instead of left / right."
)

st.subheader("Values per session")
st.caption(
    "Each metric: the session value, then its 95 % within-session interval (low–high) in the same unit; blank where "
    "the session has no interval. Click a value column's header to sort the sessions by that value."
)
table = charts.trends_table(values, metrics)
column_config = {
    column: st.column_config.NumberColumn(column, format=fmt) for column, fmt in table.number_formats.items()
}
column_config |= {
    column: st.column_config.TextColumn(column, help="95 % within-session interval: low–high")
    for column in table.interval_columns
}
st.dataframe(table.frame, hide_index=True, column_config=column_config, key="trend_table")
DOWNLOAD_HELP = (
    "Every metric of every analysed session (not only those chosen above), one row per session, metric and side, "
    "with its unit and 95 % interval; left/right as measured, with the subject's affected side."
)
csv_column, xlsx_column = st.columns(2)
with csv_column, data.section("the CSV download"):
    st.download_button(
        "Download values per session (CSV)",
        data.subject_summary(selection.root.path, selection.subject),
        file_name=f"{selection.subject}_sessions_imugait.csv",
        mime="text/csv",
        help=f"{DOWNLOAD_HELP} The same as `imugait export`'s summary.csv.",
    )
with xlsx_column, data.section("the Excel download"):
    st.download_button(
        "Download values per session (Excel)",
        data.subject_summary(selection.root.path, selection.subject, "xlsx"),
        file_name=f"{selection.subject}_sessions_imugait.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        help=f"{DOWNLOAD_HELP} A workbook with the columns' units and meanings, which opens the same whatever the "
        "computer's language and list separator: `imugait export --format xlsx`'s summary.xlsx.",
    )

"""Session: one walk in detail — symmetry and pelvic metrics, signals with gait events, strides, left vs right."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import charts, data

selection = data.current()
row = selection.session()
st.title("Session")
if row is None:
    st.info(f"No sessions in `{selection.root.path}` yet — record or import one, then run `imugait process …`.")
    st.stop()

path = Path(row["path"])
header = data.session_header(path)
st.header(f"{header.subject} · {header.start:%Y-%m-%d %H:%M} UTC")
duration = "—" if header.duration_s != header.duration_s else f"{header.duration_s:.0f} s"
st.markdown(
    f"**{header.label or 'no label'}** · status **{header.status}** · source {header.source} · "
    f"duration {duration} · sensors: {', '.join(header.sensors['site']) or 'none'}"
)
if header.notes:
    st.caption(header.notes)
with st.expander("Sensors"):
    st.dataframe(header.sensors, hide_index=True)

if not header.processed:
    st.warning(
        "This session is recorded but not processed yet, so there are no gait events or metrics. Run:\n\n"
        f"`imugait process {path}`"
    )

summary = strides = None
if header.processed:
    with data.section("the session summary"):
        summary = data.load_summary(path)
    if summary is not None:
        st.subheader("Symmetry")
        for column, card in zip(st.columns(4), charts.cards(summary, charts.SYMMETRY_CARDS), strict=False):
            column.metric(card.label, card.value, help=card.help)
        st.subheader("Pelvis")
        pelvis = charts.cards(summary, charts.PELVIC_CARDS)
        for start in range(0, len(pelvis), 3):
            for column, card in zip(st.columns(3), pelvis[start : start + 3], strict=False):
                column.metric(card.label, card.value, help=card.help)

with data.section("the simulator ground truth"):
    truth = data.load_truth(path, summary)
    if truth is not None:
        st.subheader("Simulator ground truth")
        st.caption(
            "Simulated session: the simulator's ground truth beside the measured values (error = measured − truth)."
        )
        st.dataframe(truth, hide_index=True, key="truth_table")

st.subheader("Signals and gait events")
with data.section("the signals"):
    signals = data.load_signals(path)
    events = data.load_events(path)
    if signals.empty:
        st.info("No raw streams in this session.")
    else:
        markers = charts.event_markers(signals, events)
        st.plotly_chart(charts.signals_figure(signals, markers, charts.initial_window(events, signals)), key="signals")
        st.caption(
            "Gyroscope norm of each sensor; ▼ initial contact (IC), ○ final contact (FC), blue left, orange right. "
            "Zoomed to the first strides: double-click the plot to see the whole session."
        )

if header.processed:
    with data.section("the strides"):
        strides = data.load_strides(path)
        st.subheader("Strides")
        st.caption("Highlighted rows are valid strides (steady, straight), the ones behind the session metrics.")
        for tab, side in zip(st.tabs(["Left", "Right"]), ("left", "right"), strict=True):
            tab.dataframe(
                charts.style_strides(charts.stride_table(strides, side)), hide_index=True, key=f"strides_{side}"
            )
    if summary is not None:
        st.subheader("Left vs right")
        st.plotly_chart(charts.side_bars_figure(charts.side_comparison(summary, strides)), key="side_bars")
        st.caption("Bars: session means; whiskers: SD over valid strides.")

"""Session: one walk in detail — data quality, compensation indicators, symmetry and pelvic metrics, angles with
gait events, gait-cycle curves, strides, left vs right."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard import charts, data, session_data
from dashboard import charts_session as sc
from pipeline import quality


def show_card(column: DeltaGenerator, card: charts.Card) -> None:
    """A metric card, with its 95 % within-session interval small underneath when the session has one."""
    column.metric(card.label, card.value, help=card.help)
    if card.interval:
        column.caption(card.interval)


def show_quality(found: tuple[quality.Finding, ...], has_record: bool) -> None:
    """Warnings first and in plain sight (a result may be wrong), notes folded away (how the numbers were made)."""
    st.subheader("Data quality")
    if not has_record:
        st.caption("No quality record: this session was processed before imugait kept one. Re-process it to add it.")
        return
    warnings = [f.text for f in found if f.level == "warning"]
    notes = [f.text for f in found if f.level == "note"]
    if warnings:
        st.warning("\n".join(f"- {text}" for text in warnings))
    else:
        st.success("No data-quality warnings: sensors, timing, events and strides passed every check.")
    if notes:
        with st.expander(f"{sc.count_text(len(notes), 'note')} on how the numbers were made"):
            st.markdown("\n".join(f"- {text}" for text in notes))


selection = data.current()
row = selection.session()
st.title("Session")
if row is None:
    st.info(f"No sessions in `{selection.root.path}` yet — record or import one, then run `imugait process …`.")
    st.stop()

path = Path(row["path"])
header = session_data.session_header(path)
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

if header.processed:
    version = row["pipeline_version"]
    st.caption(f"Pipeline version that analysed this session: {data.version_name(version)}")
    version_warning = data.session_version_warning(version, selection.root.path)
    if version_warning:
        st.warning(version_warning)
    csv_column, xlsx_column = st.columns(2)
    with csv_column, data.section("the CSV download"):
        st.download_button(
            "Download this session's tables (CSV, zip)",
            data.session_download(path),
            file_name=f"{header.subject}_{path.name}_imugait.zip",
            mime="application/zip",
            help="Every derived table as CSV, the session's metrics with its date and label, and columns.csv with "
            "the unit and meaning of each column: what `imugait export` writes for one session.",
        )
    with xlsx_column, data.section("the Excel download"):
        st.download_button(
            "Download this session's tables (Excel)",
            data.session_download(path, "xlsx"),
            file_name=f"{header.subject}_{path.name}_imugait.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            help="The same tables as sheets of one workbook, which opens the same whatever the computer's language "
            "and list separator: what `imugait export --format xlsx` writes for one session.",
        )

summary = strides = None
record = data.load_quality(path) if header.processed else {}
calibration = data.spatial_calibration(record) if header.processed else None
if header.processed:
    show_quality(quality.findings(record), bool(record))
calibration_note = sc.calibration_caption(calibration.calibrated, calibration.text) if calibration else ""
if header.processed:
    st.subheader("Compensation indicators")
    with data.section("the compensation report"):
        report = data.load_compensation(path)
        if report is None:
            st.caption(
                "No compensation report for this session: it was processed before the pipeline wrote one. "
                f"Re-run `imugait process {path}` to add it."
            )
        else:
            tables = sc.compensation_tables(report)
            st.caption(
                "Indicators to review, not a diagnosis: each compares one measured value with the healthy "
                "noise-floor threshold for a compensation pattern. Read them with the clinical examination."
            )
            if tables.flagged.empty:
                st.success("No indicator is clearly beyond its threshold in this session.")
            else:
                st.warning(f"{sc.count_text(len(tables.flagged), 'indicator')} beyond their threshold — to review:")
                st.table(tables.flagged, hide_index=True)  # a static table wraps the notes, which are the point
            if not tables.unclear.empty:
                st.info(
                    f"{sc.count_text(len(tables.unclear), 'indicator')} beyond their threshold but not clearly: the "
                    "95 % interval reaches inside it. A longer walk would decide."
                )
                st.table(tables.unclear, hide_index=True)
            with st.expander(f"{sc.count_text(len(tables.within), 'indicator')} within their threshold"):
                st.table(tables.within, hide_index=True)
            if not tables.not_assessed.empty:
                with st.expander(
                    f"{sc.count_text(len(tables.not_assessed), 'indicator')} not assessed in this session"
                ):
                    st.table(tables.not_assessed, hide_index=True)

    with data.section("the session summary"):
        summary = data.load_summary(path)
    if summary is not None:
        st.subheader("Symmetry")
        for column, card in zip(st.columns(4), charts.cards(summary, charts.SYMMETRY_CARDS), strict=False):
            show_card(column, card)
        st.subheader("Pelvis")
        pelvis = charts.cards(summary, charts.PELVIC_CARDS)
        for start in range(0, len(pelvis), 3):
            for column, card in zip(st.columns(3), pelvis[start : start + 3], strict=False):
                show_card(column, card)
        spatial = sc.spatial_cards(summary)
        if spatial:
            st.subheader("Walking speed and lengths")
            for column, card in zip(st.columns(4), charts.cards(summary, spatial), strict=False):
                show_card(column, card)
            if calibration_note:
                st.caption(calibration_note)

with data.section("the simulator ground truth"):
    truth = session_data.load_truth(path, summary)
    if truth is not None:
        st.subheader("Simulator ground truth")
        st.caption(
            "Simulated session: the simulator's ground truth beside the measured values (error = measured − truth)."
        )
        st.dataframe(truth, hide_index=True, key="truth_table")

turn_bands = None
if header.processed:
    with data.section("the turns"):
        turn_bands = data.load_turns(path)
st.subheader("Angles and gait events")
with data.section("the signals"):
    signals = session_data.load_signals(path)
    if not signals.problem:
        markers = sc.angle_markers(signals.angles, signals.events)
        window = sc.initial_window(signals.events, signals.angles)
        st.plotly_chart(sc.angles_figure(signals.angles, markers, window, turn_bands), key="signals")
        st.caption(
            "Body-aligned angles on the pipeline's resampled session grid. ▼ initial contact (IC), ○ final contact "
            "(FC); blue left, orange right; grey bands: turns"
            + (" — detected now, as the session is not processed yet" if signals.events_detected_now else "")
            + ". Gaps: samples the pipeline marked invalid (lost packets, a dropped link). "
            "Zoomed to the first strides: double-click the plot to see the whole session."
        )
    elif signals.raw.empty:
        st.info(f"No signals to show: {signals.problem}")
    else:
        st.info(
            f"Body-aligned angles are not available for this session ({signals.problem}). Showing the raw "
            "gyroscope norm instead, on packet arrival time: samples of one BLE packet share a time, hence the steps."
        )
        markers = sc.event_markers(signals.raw, signals.events)
        window = sc.initial_window(signals.events, signals.raw)
        st.plotly_chart(sc.raw_signals_figure(signals.raw, markers, window), key="signals")

if header.processed:
    st.subheader("Gait-cycle curves")
    with data.section("the gait-cycle curves"):
        cycles = data.load_cycles(path)
        if cycles is None:
            st.caption(
                "No gait-cycle curves for this session: it was processed before the pipeline wrote them. "
                f"Re-run `imugait process {path}` to add them."
            )
        else:
            st.plotly_chart(sc.cycles_figure(cycles), key="cycles")
            st.caption(
                "Each side's valid strides normalised from its initial contact (0 %) to its next one (100 %): "
                "line = mean, band = ± 1 SD. Left and right overlaid."
            )

    with data.section("the strides"):
        strides = data.load_strides(path)
        st.subheader("Strides")
        st.caption(
            "Status **valid** (green): a steady, straight stride, behind every session metric. **times only** "
            "(amber): the contact that ends the stride was lost (e.g. to a sensor gap), so only its step, stance, "
            "single- and double-support times (shaded) count; its stride time, swing, percentages, angles and "
            "lengths do not. **excluded** (grey): a turn, the first or last strides of a walk, or an irregular "
            "stride; it counts for nothing."
        )
        for tab, side in zip(st.tabs(["Left", "Right"]), ("left", "right"), strict=True):
            tab.dataframe(sc.style_strides(sc.stride_table(strides, side)), hide_index=True, key=f"strides_{side}")
    with data.section("the walking bouts"):
        bouts = data.load_bouts(path)
        if bouts is not None and len(bouts):
            st.subheader("Walking bouts")
            st.dataframe(sc.style_bouts(sc.bouts_display(bouts)), hide_index=True, key="bouts")
            st.caption(
                "**Speed** is the bout's distance over its time, pauses included. **Cadence**, **stride length** "
                "and **stride speed** are means over the bout's strides (the Mobilise-D definitions), so in a bout "
                "with hesitations the stride speed reads above the speed. **Measured**: the share of the bout's "
                "time inside strides with a length. Under 50 % (amber) the bout rests on its brisker strides, since "
                "the steps the detection misses are mostly slow, short or turning ones: its lengths and speeds "
                "likely read high (by about 0.2 m/s more than the other bouts on real recordings; "
                "docs/validation/README.md §e)."
            )
            if bouts["speed_m_s"].isna().all():
                st.caption(
                    "Distance and speed need the subject's leg length: `imugait subject set "
                    f"{header.subject} --height M` (or `--leg-length M`), then re-process."
                )
            elif calibration_note:
                st.caption(calibration_note)
    with data.section("the turns"):
        turns = data.load_turns(path)
        if turns is None:
            st.caption(
                "No turn list for this session: it was processed before imugait 1.9 listed turns. "
                f"Re-run `imugait process {path}` to add it."
            )
        elif len(turns) and summary is not None:
            st.subheader("Turns")
            for column, card in zip(st.columns(4), charts.cards(summary, charts.TURN_CARDS), strict=False):
                show_card(column, card)
            st.dataframe(sc.turns_display(turns), hide_index=True, key="turns")
            st.caption(
                "Heading changes of at least 45° from the pelvis sensor (in a session without one, the mean of the "
                "thighs, or the one thigh worn; with one thigh the other side's steps are counted midway between "
                "its own), walking or standing. **Duration**: from 5 % "
                "to 95 % of the heading change; **rate**: angle / duration. **Steps**: initial contacts inside the "
                "turn; from the pelvis alone, short turning steps are often missed, so this can read low "
                "(docs/validation/README.md §q). Strides in and next to turns are left out of every symmetry "
                "statistic."
            )
    if summary is not None:
        st.subheader("Left vs right")
        st.plotly_chart(sc.side_bars_figure(sc.side_comparison(summary, strides)), key="side_bars")
        st.caption("Bars: session means; whiskers: SD over the strides behind each mean.")

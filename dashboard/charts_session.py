"""What the session page draws beyond cards: signals with gait events, gait-cycle curves, the compensation report,
strides and left vs right. Pure functions of the frames :mod:`dashboard.data` and :mod:`dashboard.session_data`
load, like :mod:`dashboard.charts` (whose side colours and layout they share).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from pandas.io.formats.style import Styler
from plotly.subplots import make_subplots

from dashboard.charts import LAYOUT, SIDE_COLOURS, metric_title, metric_value
from pipeline.catalog import METRICS, SIGNALS
from pipeline.metrics import OPENING_TIMES
from pipeline.schemas import SITES
from pipeline.spatial import MIN_MEASURED_SHARE

SITE_TITLES = {"pelvis": "Pelvis", "left_thigh": "Left thigh", "right_thigh": "Right thigh"}
EVENT_SYMBOLS = {"IC": "triangle-down", "FC": "circle-open"}
PELVIS_COLOUR = "#455a64"
_EVENT_RANK = {("left", "IC"): 10, ("left", "FC"): 11, ("right", "IC"): 12, ("right", "FC"): 13}  # after the lines

# Angle panels of the signals plot: title (signs from pipeline.orientation), then (column, whose events it carries).
ANGLE_PANELS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Pelvic obliquity (deg, + left hip higher)", (("pelvic_obliquity_deg", "both"),)),
    ("Pelvic tilt (deg, + anterior)", (("pelvic_tilt_deg", "both"),)),
    ("Pelvic rotation (deg, + turned left)", (("pelvic_rotation_deg", "both"),)),
    (
        "Thigh sagittal angle (deg, + flexion)",
        (("left_thigh_sagittal_deg", "left"), ("right_thigh_sagittal_deg", "right")),
    ),
)

# Names of the gait-cycle signals the pipeline writes (derived/cycles.arrow); others are shown by their own name.
SIGNAL_LABELS = SIGNALS  # labels of the cycles table's signal names, from the catalogue


# ---------------------------------------------------------------------------------------------------------------
# Signals with gait events


def angle_markers(angles: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Where each event sits on the angle curves (``column, t_s, y, side, event``): every event on the pelvic
    curves, each side's events on its own thigh's curve."""
    rows = []
    t = angles["t_s"].to_numpy(float) if "t_s" in angles else np.empty(0)
    for _, columns in ANGLE_PANELS:
        for column, owner in columns:
            if column not in angles or events.empty:
                continue
            own = events if owner == "both" else events[events["side"] == owner]
            y = np.interp(own["t_s"].to_numpy(float), t, angles[column].to_numpy(float))
            rows.append(
                pd.DataFrame(
                    {
                        "column": column,
                        "t_s": own["t_s"].to_numpy(float),
                        "y": y,
                        "side": own["side"],
                        "event": own["event"],
                    }
                )
            )
    if not rows:
        return pd.DataFrame(columns=["column", "t_s", "y", "side", "event"])
    return pd.concat(rows, ignore_index=True)


def _event_traces(fig: go.Figure, markers: pd.DataFrame, row: int, shown: set[tuple[str, str]]) -> None:
    """IC/FC markers, one legend entry per side and kind across all panels."""
    for (side, event), part in markers.groupby(["side", "event"]):
        key = (str(side), str(event))
        fig.add_trace(
            go.Scatter(
                x=part["t_s"],
                y=part["y"],
                mode="markers",
                marker={"symbol": EVENT_SYMBOLS.get(key[1], "x"), "size": 9, "color": SIDE_COLOURS.get(key[0])},
                name=f"{event} {side}",
                legendgroup=f"{event} {side}",
                legendrank=_EVENT_RANK.get(key, 20),
                showlegend=key not in shown,
                hovertemplate=f"{event} {side} %{{x:.2f}} s<extra></extra>",
            ),
            row=row,
            col=1,
        )
        shown.add(key)


def angles_figure(
    angles: pd.DataFrame,
    markers: pd.DataFrame,
    window_s: tuple[float, float] | None,
    turns: pd.DataFrame | None = None,
) -> go.Figure:
    """Body-aligned pelvic angles and thigh sagittal angles (deg) against session time, IC/FC of each side on top,
    each turn (``derived/turns.arrow``) shaded grey across the panels and labelled with its angle.

    ``angles`` as :class:`dashboard.session_data.SessionSignals` holds them, ``markers`` from :func:`angle_markers`;
    ``window_s`` is the initial zoom (the whole session stays one double-click away).
    """
    panels = [(title, [c for c in columns if c[0] in angles]) for title, columns in ANGLE_PANELS]
    panels = [(title, columns) for title, columns in panels if columns]
    fig = make_subplots(
        rows=max(len(panels), 1),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.07,
        subplot_titles=[title for title, _ in panels],
    )
    shown: set[tuple[str, str]] = set()
    lines: set[str] = set()
    for row, (_, columns) in enumerate(panels, start=1):
        for column, owner in columns:
            name = "pelvis" if owner == "both" else f"{owner} thigh"
            fig.add_trace(
                go.Scatter(
                    x=angles["t_s"],
                    y=angles[column],
                    mode="lines",
                    line={"color": PELVIS_COLOUR if owner == "both" else SIDE_COLOURS[owner], "width": 1.5},
                    name=name,
                    legendgroup=name,
                    legendrank=1,
                    showlegend=name not in lines,
                    hovertemplate=f"{name} %{{x:.2f}} s: %{{y:.1f}} deg<extra></extra>",
                ),
                row=row,
                col=1,
            )
            lines.add(name)
        _event_traces(fig, markers[markers["column"].isin([c for c, _ in columns])], row, shown)
        fig.update_yaxes(title_text="deg", row=row, col=1)
    for turn in (turns if turns is not None else pd.DataFrame()).itertuples():
        x0, x1 = float(turn.start_s), float(turn.end_s)
        fig.add_vrect(x0=x0, x1=x1, fillcolor=TURN_FILL, line_width=0, layer="below", row="all", col=1)
        fig.add_annotation(  # one label, on the top panel
            x=x0,
            y=1.0,
            xref="x",
            yref="y domain",
            text=turn_label(float(turn.angle_deg)),
            showarrow=False,
            xanchor="left",
            yanchor="top",
            font={"size": 11},
        )
    fig.update_xaxes(title_text="Time since session start (s)", row=max(len(panels), 1), col=1)
    if window_s is not None:
        fig.update_xaxes(range=list(window_s))
    fig.update_layout(height=150 + 200 * len(panels), legend={"orientation": "h", "y": 1.06, "x": 0}, **LAYOUT)
    fig.update_annotations(font_size=13)
    return fig


TURN_FILL = "rgba(120, 120, 120, 0.15)"


def turn_label(angle_deg: float) -> str:
    """A turn's shading label: its angle and direction, e.g. "turn 181° L"."""
    return f"turn {abs(angle_deg):.0f}° {'L' if angle_deg > 0 else 'R'}"


def turns_display(turns: pd.DataFrame) -> pd.DataFrame:
    """The turns table as shown: one row per turn, units in the column names."""
    return pd.DataFrame(
        {
            "Turn": turns["turn"] + 1,
            "Start (s)": turns["start_s"].round(1),
            "Angle (°)": turns["angle_deg"].abs().round(0),
            "Direction": turns["direction"],
            "Duration (s)": turns["duration_s"].round(2),
            "Rate (°/s)": turns["mean_rate_dps"].round(0),
            "Steps": turns["steps"],
            "Complete": np.where(turns["complete"], "yes", "no: sensor gap or recording edge"),
        }
    )


def event_markers(signals: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Where each event sits on the plotted signals: its side's thigh and the pelvis (``site, t_s, y, side, event``)."""
    rows = []
    for site in SITES:
        sig = signals[signals["site"] == site]
        if sig.empty or events.empty:
            continue
        own = events if site == "pelvis" else events[events["side"] == site.removesuffix("_thigh")]
        y = np.interp(own["t_s"].to_numpy(float), sig["t_s"].to_numpy(float), sig["gyr_norm_dps"].to_numpy(float))
        rows.append(
            pd.DataFrame(
                {"site": site, "t_s": own["t_s"].to_numpy(), "y": y, "side": own["side"], "event": own["event"]}
            )
        )
    if not rows:
        return pd.DataFrame(columns=["site", "t_s", "y", "side", "event"])
    return pd.concat(rows, ignore_index=True)


def initial_window(events: pd.DataFrame, signals: pd.DataFrame, width_s: float = 10.0) -> tuple[float, float] | None:
    """A first zoom that shows single strides: ``width_s`` from just before the first event (None: show it all)."""
    if signals.empty:
        return None
    start = float(events["t_s"].min()) - 1.0 if not events.empty else float(signals["t_s"].min())
    if float(signals["t_s"].max()) - start <= width_s:
        return None
    return (start, start + width_s)


def raw_signals_figure(signals: pd.DataFrame, markers: pd.DataFrame, window_s: tuple[float, float] | None) -> go.Figure:
    """The fallback when a session cannot be aligned: gyroscope norm per site against packet arrival time, with the
    IC/FC events of each side on top. ``window_s`` is the initial zoom."""
    sites = [s for s in SITE_TITLES if s in set(signals["site"])]
    fig = make_subplots(
        rows=max(len(sites), 1),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=[SITE_TITLES[s] for s in sites],
    )
    shown: set[tuple[str, str]] = set()
    for row, site in enumerate(sites, start=1):
        sig = signals[signals["site"] == site]
        fig.add_trace(
            go.Scatter(
                x=sig["t_s"],
                y=sig["gyr_norm_dps"],
                mode="lines",
                line={"color": "#607d8b", "width": 1},
                name="gyroscope norm",
                showlegend=row == 1,
                hovertemplate="%{x:.2f} s: %{y:.0f} deg/s<extra></extra>",
            ),
            row=row,
            col=1,
        )
        _event_traces(fig, markers[markers["site"] == site], row, shown)
        fig.update_yaxes(title_text="deg/s", row=row, col=1)
    fig.update_xaxes(title_text="Time since session start (s)", row=max(len(sites), 1), col=1)
    if window_s is not None:
        fig.update_xaxes(range=list(window_s))
    fig.update_layout(height=170 + 190 * len(sites), legend={"orientation": "h", "y": 1.08, "x": 0}, **LAYOUT)
    return fig


# ---------------------------------------------------------------------------------------------------------------
# Gait-cycle curves


def signal_title(signal: str, unit: str) -> str:
    """``pelvic_obliquity_deg`` → ``Pelvic obliquity (deg)``; unknown signals keep their name."""
    return f"{SIGNAL_LABELS.get(signal, signal)} ({unit})" if unit else SIGNAL_LABELS.get(signal, signal)


def _rgba(colour: str, alpha: float) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def cycles_figure(cycles: pd.DataFrame) -> go.Figure:
    """Mean ± SD over valid strides against % gait cycle, sides overlaid, one small panel per signal.

    ``cycles`` is ``derived/cycles.arrow`` (side, signal, unit, pct, mean, sd, n).
    """
    known = [s for s in SIGNAL_LABELS if s in set(cycles["signal"])]
    signals = known + sorted(set(cycles["signal"]) - set(known))
    units = {s: str(cycles.loc[cycles["signal"] == s, "unit"].iloc[0]) for s in signals}
    cols = min(3, max(len(signals), 1))
    rows = max(1, math.ceil(len(signals) / cols))
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[signal_title(s, units[s]) for s in signals],
        vertical_spacing=0.28 if rows > 1 else 0.1,
        horizontal_spacing=0.08,
    )
    rank = {side: i for i, side in enumerate(SIDE_COLOURS)}
    shown: set[str] = set()
    for i, signal in enumerate(signals):
        row, col = i // cols + 1, i % cols + 1
        part = cycles[cycles["signal"] == signal]
        for side in sorted(part["side"].unique(), key=lambda s: rank.get(s, len(rank))):
            curve = part[part["side"] == side].sort_values("pct")
            colour = SIDE_COLOURS.get(str(side), "#444444")
            n = int(curve["n"].max())
            upper, lower = curve["mean"] + curve["sd"], curve["mean"] - curve["sd"]
            fig.add_trace(
                go.Scatter(
                    x=np.concatenate([curve["pct"], curve["pct"][::-1]]),
                    y=np.concatenate([upper, lower[::-1]]),
                    fill="toself",
                    fillcolor=_rgba(colour, 0.18),
                    line={"width": 0},
                    hoverinfo="skip",
                    name=f"{side} ± SD",
                    legendgroup=str(side),
                    showlegend=False,
                ),
                row=row,
                col=col,
            )
            fig.add_trace(
                go.Scatter(
                    x=curve["pct"],
                    y=curve["mean"],
                    mode="lines",
                    line={"color": colour, "width": 2},
                    name=f"{side} (n = {n} strides)",
                    legendgroup=str(side),
                    showlegend=side not in shown,
                    customdata=curve["sd"],
                    hovertemplate=(
                        f"{side} %{{x:.0f}} %: %{{y:.1f}} ± %{{customdata:.1f}} {units[signal]}<extra></extra>"
                    ),
                ),
                row=row,
                col=col,
            )
            shown.add(str(side))
        fig.update_xaxes(title_text="Gait cycle (%)", range=[0, 100], row=row, col=col)
        fig.update_yaxes(title_text=units[signal], row=row, col=col)
    fig.update_layout(height=90 + 290 * rows, legend={"orientation": "h", "y": 1.12, "x": 0}, **LAYOUT)
    fig.update_annotations(font_size=13)
    return fig


# ---------------------------------------------------------------------------------------------------------------
# Compensation report


def _number(value: float, unit: str) -> str:
    """A report value as the notes and the summary cards print it: one decimal in % and degrees, else three
    significant digits (ratios); — when not assessed."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.1f}" if unit in ("%", "deg", "°") else f"{value:.3g}"


def count_text(n: int, noun: str) -> str:
    """ "1 indicator", "3 indicators"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclass(frozen=True)
class CompensationTables:
    """The rows of ``derived/compensation.arrow`` by status, as shown (see :func:`compensation_tables`)."""

    flagged: pd.DataFrame
    unclear: pd.DataFrame  # beyond the threshold, the 95 % interval not
    within: pd.DataFrame
    not_assessed: pd.DataFrame


def compensation_tables(report: pd.DataFrame) -> CompensationTables:
    """The report's rows by status, as shown: indicator labels from the catalogue (unknown names as given),
    readable column names, numbers as short text (— when not assessed)."""
    shown = pd.DataFrame(
        {
            "Pattern": report["label"].where(report["label"] != "", report["pattern"]),
            "Indicator": [METRICS[m].label if m in METRICS else m for m in report["indicator"]],
            "Side": report["side"],
            "Value": [_number(v, u) for v, u in zip(report["value"], report["unit"], strict=True)],
            "Threshold": [_number(v, u) for v, u in zip(report["threshold"], report["unit"], strict=True)],
            "Unit": report["unit"],
            "Note": report["note"],
        }
    )
    status = report["status"].to_numpy(str)

    def having(name: str) -> pd.DataFrame:
        return shown[status == name].reset_index(drop=True)

    return CompensationTables(having("flagged"), having("unclear"), having("within"), having("not_assessed"))


# ---------------------------------------------------------------------------------------------------------------
# Strides and left vs right


SIDE_METRICS: tuple[str, ...] = (
    "step_time_s",
    "stance_time_s",
    "swing_time_s",
    "stance_pct",
    "pelvic_drop_deg",
    "thigh_range_deg",
)


def _opening_valid(strides: pd.DataFrame) -> pd.Series:
    """Whether each stride's opening-IC times count; where a writer left it null, as its ``valid``."""
    opening = strides["opening_valid"]
    return opening.where(opening.notna(), strides["valid"]).astype(bool)


def side_comparison(summary: pd.DataFrame, strides: pd.DataFrame | None) -> pd.DataFrame:
    """Left vs right of the per-side metrics, with the SD over the strides behind each mean (the valid ones, and for
    step and stance time also those whose closing IC was lost) where the strides are readable."""
    rows = summary[summary["metric"].isin(SIDE_METRICS) & summary["side"].isin(["left", "right"])].copy()
    rows["sd"] = math.nan
    if strides is not None and not strides.empty:
        opening, valid = _opening_valid(strides), strides["valid"]
        sds = {
            m: strides[opening if m in OPENING_TIMES else valid].groupby("side")[m].std()
            for m in SIDE_METRICS
            if m in strides.columns
        }
        rows["sd"] = [
            float(sds[m][s]) if m in sds and s in sds[m].index else math.nan
            for m, s in zip(rows["metric"], rows["side"], strict=True)
        ]
    rows["title"] = [metric_title(m) for m in rows["metric"]]
    rank = {m: i for i, m in enumerate(SIDE_METRICS)}
    return rows.sort_values(["metric", "side"], key=lambda c: c.map(rank) if c.name == "metric" else c).reset_index(
        drop=True
    )


STRIDE_STATUS = ("valid", "times only", "excluded")  # behind every session metric / its OPENING_TIMES only / none


def stride_table(strides: pd.DataFrame, side: str) -> pd.DataFrame:
    """One side's strides for display (column names already carry their units: ``_s``, ``_pct``, ``_deg``), without
    the columns the pipeline left empty for this session (e.g. lengths without a subject profile). The validity
    flags become one ``status`` column, first: one of :data:`STRIDE_STATUS`."""
    own = strides[strides["side"] == side]
    status = np.select([own["valid"], _opening_valid(own)], STRIDE_STATUS[:2], STRIDE_STATUS[2])
    shown = own.drop(columns=["side", "valid", "opening_valid"]).dropna(axis=1, how="all")
    shown.insert(0, "status", status)
    return shown.sort_values("stride").reset_index(drop=True)


def side_bars_figure(sides: pd.DataFrame) -> go.Figure:
    """Left vs right bars of each per-side metric, one panel (and unit) each; whiskers: SD over the strides behind
    each mean (see :func:`side_comparison`)."""
    metrics = list(dict.fromkeys(sides["metric"]))
    cols = 3
    rows = max(1, -(-len(metrics) // cols))
    titles = [sides.loc[sides["metric"] == m, "title"].iloc[0] for m in metrics]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, vertical_spacing=0.22, horizontal_spacing=0.09)
    for i, metric in enumerate(metrics):
        part = sides[sides["metric"] == metric]
        for side in ("left", "right"):
            hit = part[part["side"] == side]
            if hit.empty:
                continue
            fig.add_trace(
                go.Bar(
                    x=[side],
                    y=hit["value"],
                    error_y={"type": "data", "array": hit["sd"].fillna(0), "visible": bool(hit["sd"].notna().any())},
                    marker_color=SIDE_COLOURS[side],
                    name=side,
                    showlegend=False,
                    hovertemplate=f"{side}: %{{y:.2f}} {hit['unit'].iloc[0]}<extra></extra>",
                ),
                row=i // cols + 1,
                col=i % cols + 1,
            )
        fig.update_yaxes(title_text=part["unit"].iloc[0], row=i // cols + 1, col=i % cols + 1)
    fig.update_layout(height=300 * rows, **LAYOUT)
    fig.update_annotations(font_size=12)
    return fig


_VALID_CELL = "background-color: #e8f5e9"
_TIMES_ONLY_CELL = "background-color: #fff3e0"
_EXCLUDED_CELL = "color: #9e9e9e"


def style_strides(strides: pd.DataFrame) -> Styler:
    """A :func:`stride_table` with the values behind the session metrics shaded: a valid stride green, an excluded
    one greyed, and of a "times only" stride its status and opening-IC times (``OPENING_TIMES``) amber, its other
    values (stride time, swing, percentages, angles, lengths: not counted) greyed."""

    def times_only(column: str) -> str:
        if column in ("status", *OPENING_TIMES):
            return _TIMES_ONLY_CELL
        return "" if column in ("stride", "start_s") else _EXCLUDED_CELL

    def shade(row: pd.Series) -> list[str]:
        if row["status"] == STRIDE_STATUS[0]:
            return [_VALID_CELL] * len(row)
        if row["status"] == STRIDE_STATUS[1]:
            return [times_only(c) for c in row.index]
        return [_EXCLUDED_CELL] * len(row)

    return strides.style.apply(shade, axis=1).format(precision=3, na_rep="—")


SPATIAL_CARDS: tuple[tuple[str, str], ...] = (
    ("walking_speed_m_s", "both"),
    ("stride_length_m", "both"),
    ("step_length_m", "left"),
    ("step_length_m", "right"),
)


def spatial_cards(summary: pd.DataFrame) -> tuple[tuple[str, str], ...]:
    """The spatial cards this session has a value for (none without a subject profile giving a leg length)."""
    return tuple((m, s) for m, s in SPATIAL_CARDS if math.isfinite(metric_value(summary, m, s)))


def calibration_caption(calibrated: bool | None, text: str) -> str:
    """What the session's quality record says about its step-length calibration, for a caption beside walking speed,
    stride and step length; empty when the record does not say (sessions processed before imugait calibrated)."""
    if calibrated is None:
        return ""
    if calibrated:
        return f"Step length calibrated for this walker: {text}. Walking speed, stride and step length use it."
    reason = text.removeprefix("none:").strip()
    return (
        "Step length **not calibrated** for this walker"
        + (f" — {reason}" if reason else "")
        + ". Walking speed, stride and step length come from the model alone, whose error differs from walker to "
        "walker: compare them with this subject's other uncalibrated sessions only."
    )


def bouts_display(bouts: pd.DataFrame) -> pd.DataFrame:
    """The walking-bouts table as shown: one row per bout, units in the column names. "Speed" is distance over time
    (pauses count); the stride columns are means over the bout's strides, the Mobilise-D definitions; "Measured" is
    the share of the bout's time inside strides with a length. Columns a session analysed before they existed
    lacks (stride means: imugait 1.5, measured share: 1.6) stay empty until it is re-processed."""

    def column(name: str) -> pd.Series:
        return bouts[name] if name in bouts else pd.Series(np.nan, index=bouts.index)

    return pd.DataFrame(
        {
            "Bout": bouts["bout"] + 1,
            "Start (s)": bouts["start_s"].round(1),
            "Duration (s)": bouts["duration_s"].round(1),
            "Strides": bouts["n_strides"],
            "Distance (m)": bouts["distance_m"].round(1),
            "Speed (m/s)": bouts["speed_m_s"].round(2),
            "Cadence (steps/min)": column("cadence_spm").round(1),
            "Stride length (m)": column("stride_length_m").round(2),
            "Stride speed (m/s)": column("stride_speed_m_s").round(2),
            "Measured (%)": (100 * column("measured_share")).round(0),
        }
    )


BOUT_LENGTH_COLUMNS = ("Distance (m)", "Speed (m/s)", "Stride length (m)", "Stride speed (m/s)", "Measured (%)")
_BOUT_FORMATS = {
    "Start (s)": "{:.1f}",
    "Duration (s)": "{:.1f}",
    "Distance (m)": "{:.1f}",
    "Speed (m/s)": "{:.2f}",
    "Cadence (steps/min)": "{:.1f}",
    "Stride length (m)": "{:.2f}",
    "Stride speed (m/s)": "{:.2f}",
    "Measured (%)": "{:.0f}",
}


def style_bouts(shown: pd.DataFrame) -> Styler:
    """A :func:`bouts_display` table with the length and speed cells amber in bouts measured over less than
    ``pipeline.spatial.MIN_MEASURED_SHARE`` of their time: their values likely read high."""
    low = shown["Measured (%)"] < 100 * MIN_MEASURED_SHARE  # NaN (not known) is not low

    def shade(row: pd.Series) -> list[str]:
        return [_TIMES_ONLY_CELL if low[row.name] and c in BOUT_LENGTH_COLUMNS else "" for c in row.index]

    return shown.style.apply(shade, axis=1).format(_BOUT_FORMATS, na_rep="—")

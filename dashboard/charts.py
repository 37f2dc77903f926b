"""What the pages draw: cards, display tables and plotly figures, as pure functions of the frames ``dashboard.data``
loads. No Streamlit and no file access here, so all of it is testable without an app.

Colours are fixed per side across every chart (left blue, right orange, both-sides metrics grey), so a clinician
learns them once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from pandas.io.formats.style import Styler
from plotly.subplots import make_subplots

from pipeline.catalog import METRICS
from pipeline.schemas import SITES

SI_NOISE_BAND_PCT = 3.0  # healthy IMU symmetry-index floor ≈ ±2–3 % (gait_reference §3, PMC8919661)


def metric_value(summary: pd.DataFrame, metric: str, side: str = "both") -> float:
    """One value of a summary table, NaN when the pipeline did not report it."""
    hit = summary[(summary["metric"] == metric) & (summary["side"] == side)]
    return float(hit["value"].iloc[0]) if len(hit) else math.nan


def format_value(value: float, unit: str, digits: int = 1) -> str:
    """``-10.0 %``, ``1.12 s``; an em dash for a missing value."""
    if value is None or not math.isfinite(value):
        return "—"
    if unit == "s":
        digits = 2
    elif unit == "steps/min":
        digits = 0
    return f"{value:.{digits}f} {unit}"


def metric_title(metric: str) -> str:
    """Catalogue label with unit, e.g. ``Stance-time symmetry index (%)``."""
    m = METRICS.get(metric)
    return f"{m.label} ({m.unit})" if m else metric


def is_symmetry_index(metric: str) -> bool:
    """Symmetry indices are the metrics whose target is 0 and whose noise band is drawn."""
    return metric.endswith("_si_pct")


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


def trends_table(values: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """One row per session, one column per metric and side (in ``metrics`` order), units in the column names."""
    chosen = values[values["metric"].isin(metrics)].copy()
    if chosen.empty:
        return pd.DataFrame()
    chosen["column"] = [
        f"{METRICS[m].label if m in METRICS else m}{'' if s == 'both' else f' {s}'} ({u})"
        for m, s, u in zip(chosen["metric"], chosen["side"], chosen["unit"], strict=True)
    ]
    rank = {m: i for i, m in enumerate(metrics)}
    chosen["_rank"] = chosen["metric"].map(rank)
    order = list(dict.fromkeys(chosen.sort_values(["_rank", "side"], kind="stable")["column"]))
    table = chosen.pivot_table(
        index=["start", "session_label"], columns="column", values="value", aggfunc="first", sort=False
    )
    table = table.reset_index().rename(columns={"start": "Date", "session_label": "Label"})
    table["Date"] = pd.to_datetime(table["Date"]).dt.strftime("%Y-%m-%d")
    return table[["Date", "Label", *order]].round(2)


def compare_summaries(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Metric-by-metric table of two sessions: values, B − A, and an arrow for the direction of change.

    For symmetry indices, ``toward symmetry`` says whether \\|SI\\| shrank, which is what a clinician reads first.
    """
    keys = ["metric", "side"]
    merged = a[[*keys, "label", "unit", "value"]].merge(
        b[[*keys, "value"]], on=keys, how="outer", suffixes=("_a", "_b")
    )
    merged["label"] = [METRICS[m].label if m in METRICS else m for m in merged["metric"]]
    merged["unit"] = [
        METRICS[m].unit if m in METRICS else u for m, u in zip(merged["metric"], merged["unit"], strict=True)
    ]
    merged["difference"] = merged["value_b"] - merged["value_a"]
    merged["direction"] = [_arrow(d) for d in merged["difference"]]
    merged["toward_symmetry"] = [
        ("yes" if abs(vb) < abs(va) else "no") if is_symmetry_index(m) and np.isfinite(va) and np.isfinite(vb) else ""
        for m, va, vb in zip(merged["metric"], merged["value_a"], merged["value_b"], strict=True)
    ]
    rank = {m: i for i, m in enumerate(METRICS)}
    merged["_rank"] = merged["metric"].map(lambda m: rank.get(m, len(rank)))
    merged = merged.sort_values(["_rank", "side"]).drop(columns="_rank").reset_index(drop=True)
    return merged.round({"value_a": 3, "value_b": 3, "difference": 3})


def _arrow(diff: float) -> str:
    if not np.isfinite(diff):
        return ""
    if abs(diff) < 1e-9:
        return "→"
    return "↑" if diff > 0 else "↓"


SIDE_METRICS: tuple[str, ...] = (
    "step_time_s",
    "stance_time_s",
    "swing_time_s",
    "stance_pct",
    "pelvic_drop_deg",
    "thigh_range_deg",
)


def side_comparison(summary: pd.DataFrame, strides: pd.DataFrame | None) -> pd.DataFrame:
    """Left vs right of the per-side metrics, with the SD over valid strides where the strides are readable."""
    rows = summary[summary["metric"].isin(SIDE_METRICS) & summary["side"].isin(["left", "right"])].copy()
    rows["sd"] = math.nan
    if strides is not None and not strides.empty:
        valid = strides[strides["valid"]]
        sds = valid.groupby("side")[[m for m in SIDE_METRICS if m in valid.columns]].std()
        rows["sd"] = [
            float(sds.at[s, m]) if s in sds.index and m in sds.columns else math.nan
            for m, s in zip(rows["metric"], rows["side"], strict=True)
        ]
    rows["title"] = [metric_title(m) for m in rows["metric"]]
    rank = {m: i for i, m in enumerate(SIDE_METRICS)}
    return rows.sort_values(["metric", "side"], key=lambda c: c.map(rank) if c.name == "metric" else c).reset_index(
        drop=True
    )


@dataclass(frozen=True)
class Card:
    """One ``st.metric`` card."""

    label: str
    value: str
    help: str


SYMMETRY_CARDS: tuple[tuple[str, str], ...] = (
    ("stance_time_si_pct", "both"),
    ("step_time_si_pct", "both"),
    ("thigh_range_si_pct", "both"),
    ("cadence_spm", "both"),
)


PELVIC_CARDS: tuple[tuple[str, str], ...] = (
    ("pelvic_obliquity_range_deg", "both"),
    ("pelvic_tilt_range_deg", "both"),
    ("pelvic_rotation_range_deg", "both"),
    ("pelvic_drop_deg", "left"),
    ("pelvic_drop_deg", "right"),
)


def cards(summary: pd.DataFrame, which: Sequence[tuple[str, str]]) -> list[Card]:
    """Metric cards with units; the help text is the catalogue definition and the number of strides behind it."""
    out = []
    for metric, side in which:
        m = METRICS[metric]
        hit = summary[(summary["metric"] == metric) & (summary["side"] == side)]
        n = int(hit["n"].iloc[0]) if len(hit) else 0
        label = m.label if side == "both" else f"{m.label} ({side})"
        out.append(Card(label, format_value(metric_value(summary, metric, side), m.unit), f"{m.definition} n = {n}."))
    return out


def stride_table(strides: pd.DataFrame, side: str) -> pd.DataFrame:
    """One side's strides for display (column names already carry their units: ``_s``, ``_pct``, ``_deg``)."""
    return strides[strides["side"] == side].drop(columns=["side"]).sort_values("stride").reset_index(drop=True)


def initial_window(events: pd.DataFrame, signals: pd.DataFrame, width_s: float = 10.0) -> tuple[float, float] | None:
    """A first zoom that shows single strides: ``width_s`` from just before the first event (None: show it all)."""
    if signals.empty:
        return None
    start = float(events["t_s"].min()) - 1.0 if not events.empty else float(signals["t_s"].min())
    if float(signals["t_s"].max()) - start <= width_s:
        return None
    return (start, start + width_s)


def compare_display(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison table as shown: readable column names, one row per metric and side."""
    return table.rename(
        columns={
            "label": "Metric",
            "side": "Side",
            "unit": "Unit",
            "value_a": "Session A",
            "value_b": "Session B",
            "difference": "Difference (B − A)",
            "direction": "Change",
            "toward_symmetry": "Toward symmetry",
        }
    )[["Metric", "Side", "Unit", "Session A", "Session B", "Difference (B − A)", "Change", "Toward symmetry"]]


# ---------------------------------------------------------------------------------------------------------------
# Figures


SIDE_COLOURS = {"left": "#1f77b4", "right": "#ff7f0e", "both": "#444444"}
SESSION_COLOURS = ("#9e9e9e", "#00897b")
SITE_TITLES = {"pelvis": "Pelvis", "left_thigh": "Left thigh", "right_thigh": "Right thigh"}
EVENT_SYMBOLS = {"IC": "triangle-down", "FC": "circle-open"}
_LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 40, "b": 50}}


def trend_figure(values: pd.DataFrame, metric: str) -> go.Figure:
    """One metric over sessions: a line per side, session label on hover, the healthy band for symmetry indices.

    ``values`` is the long frame of :func:`dashboard.data.subject_trends` restricted to ``metric``.
    """
    fig = go.Figure()
    if is_symmetry_index(metric):
        fig.add_hrect(
            y0=-SI_NOISE_BAND_PCT,
            y1=SI_NOISE_BAND_PCT,
            fillcolor="#2e7d32",
            opacity=0.12,
            line_width=0,
            annotation_text=f"healthy noise ±{SI_NOISE_BAND_PCT:g} %",
            annotation_position="top left",
        )
        fig.add_hline(y=0, line={"color": "#2e7d32", "width": 1, "dash": "dot"})
    for side, part in values.sort_values("start").groupby("side", sort=False):
        fig.add_trace(
            go.Scatter(
                x=part["start"],
                y=part["value"],
                mode="lines+markers",
                name=str(side),
                line={"color": SIDE_COLOURS.get(str(side), "#444444")},
                customdata=part[["session_label", "session_id", "n"]].to_numpy(),
                hovertemplate=(
                    "%{x|%Y-%m-%d}<br>%{customdata[0]}<br>"
                    + f"{side}: %{{y:.2f}} {part['unit'].iloc[0]}"
                    + "<br>n = %{customdata[2]}<br>%{customdata[1]}<extra></extra>"
                ),
            )
        )
    fig.update_layout(
        title=metric_title(metric),
        xaxis_title="Session date",
        yaxis_title=metric_title(metric),
        height=320,
        legend={"orientation": "h", "y": -0.25},
        showlegend=values["side"].nunique() > 1,
        **_LAYOUT,
    )
    fig.update_xaxes(tickformat="%Y-%m-%d")
    return fig


def signals_figure(signals: pd.DataFrame, markers: pd.DataFrame, window_s: tuple[float, float] | None) -> go.Figure:
    """Gyroscope norm per site against session time, with the detected IC/FC events of each side on top.

    ``window_s`` is the initial zoom; the whole recording stays one double-click away.
    """
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
        for (side, event), part in markers[markers["site"] == site].groupby(["side", "event"]):
            fig.add_trace(
                go.Scatter(
                    x=part["t_s"],
                    y=part["y"],
                    mode="markers",
                    marker={"symbol": EVENT_SYMBOLS.get(str(event), "x"), "size": 9, "color": SIDE_COLOURS[str(side)]},
                    name=f"{event} {side}",
                    legendgroup=f"{event} {side}",
                    showlegend=(side, event) not in shown,
                    hovertemplate=f"{event} {side} %{{x:.2f}} s<extra></extra>",
                ),
                row=row,
                col=1,
            )
            shown.add((str(side), str(event)))
        fig.update_yaxes(title_text="deg/s", row=row, col=1)
    fig.update_xaxes(title_text="Time since session start (s)", row=max(len(sites), 1), col=1)
    if window_s is not None:
        fig.update_xaxes(range=list(window_s))
    fig.update_layout(height=170 + 190 * len(sites), legend={"orientation": "h", "y": 1.08, "x": 0}, **_LAYOUT)
    return fig


def side_bars_figure(sides: pd.DataFrame) -> go.Figure:
    """Left vs right bars of each per-side metric, one panel (and unit) each; whiskers: SD over valid strides."""
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
    fig.update_layout(height=300 * rows, **_LAYOUT)
    fig.update_annotations(font_size=12)
    return fig


def compare_figure(table: pd.DataFrame, name_a: str, name_b: str) -> go.Figure:
    """Grouped bars of two sessions, one panel per unit so that seconds and degrees never share an axis."""
    table = table.dropna(subset=["value_a", "value_b"], how="all")
    units = list(dict.fromkeys(table["unit"]))
    fig = make_subplots(
        rows=max(len(units), 1), cols=1, vertical_spacing=0.12, subplot_titles=[f"in {u}" for u in units]
    )
    for row, unit in enumerate(units, start=1):
        part = table[table["unit"] == unit]
        x = [
            label if side == "both" else f"{label} ({side})"
            for label, side in zip(part["label"], part["side"], strict=True)
        ]
        for col, name, colour in (("value_a", name_a, SESSION_COLOURS[0]), ("value_b", name_b, SESSION_COLOURS[1])):
            fig.add_trace(
                go.Bar(
                    x=x,
                    y=part[col],
                    name=name,
                    marker_color=colour,
                    showlegend=row == 1,
                    legendgroup=name,
                    hovertemplate=f"{name}<br>%{{x}}: %{{y:.2f}} {unit}<extra></extra>",
                ),
                row=row,
                col=1,
            )
        fig.update_yaxes(title_text=unit, row=row, col=1)
    fig.update_layout(
        barmode="group", height=80 + 300 * max(len(units), 1), legend={"orientation": "h", "y": 1.05}, **_LAYOUT
    )
    return fig


def style_strides(strides: pd.DataFrame) -> Styler:
    """A stride table with the valid strides (those behind the session metrics) shaded green."""

    def shade(row: pd.Series) -> list[str]:
        return ["background-color: #e8f5e9" if row["valid"] else "color: #9e9e9e"] * len(row)

    return strides.style.apply(shade, axis=1).format(precision=3, na_rep="—")

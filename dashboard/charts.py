"""What the pages draw: cards, display tables and plotly figures, as pure functions of the frames ``dashboard.data``
loads. No Streamlit and no file access here, so all of it is testable without an app.

Colours are fixed per side across every chart (left blue, right orange, both-sides metrics grey; involved purple
and uninvolved green where a subject profile names the affected side), so a clinician learns them once. The
session page's pieces are in :mod:`dashboard.charts_session`.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pipeline.catalog import METRICS
from pipeline.change import change_label

SI_NOISE_BAND_PCT = 3.0  # healthy IMU symmetry-index floor ≈ ±2–3 % (gait_reference §3, PMC8919661)


def metric_value(summary: pd.DataFrame, metric: str, side: str = "both") -> float:
    """One value of a summary table, NaN when the pipeline did not report it."""
    hit = summary[(summary["metric"] == metric) & (summary["side"] == side)]
    return float(hit["value"].iloc[0]) if len(hit) else math.nan


DIMENSIONLESS = "1"  # the catalogue's unit for ratios (symmetry ratio, harmonic ratio, regularity)
_DIGITS = {
    "s": 2,
    "m": 2,
    "m/s": 2,
    "steps/min": 0,
    "turns": 0,
    DIMENSIONLESS: 2,
}  # decimals per unit; 1 for the others


def _missing(value: float) -> bool:
    return value is None or not math.isfinite(value)  # None: an object column's null


def format_number(value: float, unit: str) -> str:
    """A value at its unit's precision, without the unit: ``1.12`` (s), ``-10.0`` (%), ``112`` (steps/min)."""
    return "—" if _missing(value) else f"{value:.{_DIGITS.get(unit, 1)}f}"


def format_value(value: float, unit: str) -> str:
    """``-10.0 %``, ``1.12 s``, ``0.95`` (a ratio); an em dash for a missing value."""
    text = format_number(value, unit)
    return text if text == "—" or unit == DIMENSIONLESS else f"{text} {unit}"


def has_interval(low: float, high: float) -> bool:
    """Whether a summary row carries a 95 % within-session interval (null in sessions processed before there were
    any, NaN where the pipeline could not compute one)."""
    return not (_missing(low) or _missing(high))


def format_interval(low: float, high: float, unit: str) -> str:
    """``0.66–0.70``, or ``-4.6 to -3.4`` where a minus sign would run into the dash; empty without an interval.
    At the unit's precision, with up to two more decimals where the ends would otherwise read the same."""
    if not has_interval(low, high):
        return ""
    sep = "–" if low >= 0 else " to "
    digits = _DIGITS.get(unit, 1)
    for extra in range(3):  # a narrow interval gets up to two more decimals rather than reading "0.64–0.64"
        ends = f"{low:.{digits + extra}f}", f"{high:.{digits + extra}f}"
        if ends[0] != ends[1] or low == high:
            break
    return f"{ends[0]}{sep}{ends[1]}"


def value_with_interval(value: float, low: float, high: float, unit: str) -> str:
    """Prose form for hovers: ``0.68 s (95 % CI 0.66–0.70)``; the value alone where there is no interval."""
    text = format_value(value, unit)
    interval = format_interval(low, high, unit)
    return f"{text} (95 % CI {interval})" if interval and text != "—" else text


def interval_cell(low: float, high: float, unit: str) -> str:
    """Table form of an interval: ``[0.66, 0.70]``; empty where there is none."""
    if not has_interval(low, high):
        return ""
    return f"[{format_number(low, unit)}, {format_number(high, unit)}]"


def metric_title(metric: str, unit: str = "") -> str:
    """Catalogue label with unit, e.g. ``Stance-time symmetry index (%)``; a metric the catalogue does not know yet
    keeps its own name, with ``unit`` (from its summary rows) when given."""
    m = METRICS.get(metric)
    label, unit = (m.label, m.unit) if m else (metric, unit)
    return f"{label} ({unit})" if unit and unit != DIMENSIONLESS else label


def metric_options(values: pd.DataFrame) -> dict[str, str]:
    """Every metric of a long summary frame → its title with unit: catalogue metrics in catalogue order, then the
    ones the catalogue does not know yet, by name."""
    units = dict(zip(values["metric"], values["unit"], strict=True))
    names = [m for m in METRICS if m in units] + sorted(set(units) - set(METRICS))
    return {m: metric_title(m, str(units[m])) for m in names}


def is_symmetry_index(metric: str) -> bool:
    """Symmetry indices are the metrics whose target is 0 and whose noise band is drawn."""
    return metric.endswith("_si_pct")


SPATIAL_PREFIXES = ("walking_speed_", "stride_length_", "step_length_")


def is_spatial(metric: str) -> bool:
    """Metrics computed from step lengths, which a walker's step-length calibration scales: walking speeds, stride
    and step lengths. Not their symmetry indices: one factor multiplies both sides and cancels in (R − L) / mean."""
    return metric.startswith(SPATIAL_PREFIXES) and not is_symmetry_index(metric)


def prefer_involved(values: pd.DataFrame) -> pd.DataFrame:
    """Where a session reports a metric for the involved/uninvolved sides (its subject profile names the affected
    side), drop that session's left/right rows of the metric: they are the same numbers under anatomical names, and
    drawn twice they would hide each other."""
    keys = ["session_id", "metric"]
    oriented = values.loc[values["side"].isin(["involved", "uninvolved"]), keys].drop_duplicates()
    flagged = values.merge(oriented.assign(_oriented=True), on=keys, how="left")["_oriented"].notna().to_numpy()
    return values[~(flagged & values["side"].isin(["left", "right"]).to_numpy())].reset_index(drop=True)


def number_format(unit: str) -> str:
    """A printf format for a numeric table column at its unit's precision (see :func:`format_number`)."""
    return f"%.{_DIGITS.get(unit, 1)}f"


def _with_unit(name: str, unit: str) -> str:
    return f"{name} ({unit})" if unit and unit != DIMENSIONLESS else name


@dataclass(frozen=True)
class TrendsTable:
    """The trends page's table: numbers stay numbers, so a click on a column header sorts by value.

    ``frame``: Date, Label, then per metric and side a numeric value column (float, NaN where the session has no
    value) followed by a text column with its 95 % within-session interval, ``0.66–0.70`` (empty where none).
    ``number_formats``: value column → printf format at its unit's precision, for ``st.column_config.NumberColumn``.
    ``interval_columns``: the interval columns, in order.
    """

    frame: pd.DataFrame
    number_formats: dict[str, str]
    interval_columns: tuple[str, ...]


def trends_table(values: pd.DataFrame, metrics: Sequence[str]) -> TrendsTable:
    """One row per session; per metric and side (in ``metrics`` order) its value and its 95 % within-session
    interval in two columns, units in the column names (see :class:`TrendsTable`)."""
    chosen = values[values["metric"].isin(metrics)].copy()
    if chosen.empty:
        return TrendsTable(pd.DataFrame(), {}, ())
    chosen["interval"] = [
        format_interval(lo, hi, u) if not _missing(v) else ""
        for v, lo, hi, u in zip(chosen["value"], chosen["ci_low"], chosen["ci_high"], chosen["unit"], strict=True)
    ]
    names = [
        f"{METRICS[m].label if m in METRICS else m}{'' if s == 'both' else f' {s}'}"
        for m, s in zip(chosen["metric"], chosen["side"], strict=True)
    ]
    chosen["column"] = [_with_unit(n, u) for n, u in zip(names, chosen["unit"], strict=True)]
    chosen["interval_column"] = [_with_unit(f"{n} 95 % CI", u) for n, u in zip(names, chosen["unit"], strict=True)]
    chosen["value"] = pd.to_numeric(chosen["value"], errors="coerce").astype("float64")
    rank = {m: i for i, m in enumerate(metrics)}
    chosen["_rank"] = chosen["metric"].map(rank)
    ordered = chosen.sort_values(["_rank", "side"], kind="stable").drop_duplicates("column")
    index = ["start", "session_label"]
    pivot = {"aggfunc": "first", "sort": False, "dropna": False}
    numbers = chosen.pivot_table(index=index, columns="column", values="value", **pivot)
    texts = chosen.pivot_table(index=index, columns="interval_column", values="interval", **pivot)
    sessions = chosen[index].drop_duplicates().set_index(index).index
    table = pd.concat([numbers.reindex(sessions), texts.reindex(sessions)], axis=1)
    columns = [c for pair in zip(ordered["column"], ordered["interval_column"], strict=True) for c in pair]
    table = table.reset_index().rename(columns={"start": "Date", "session_label": "Label"})
    table["Date"] = pd.to_datetime(table["Date"]).dt.strftime("%Y-%m-%d")
    intervals = tuple(ordered["interval_column"])
    for column in intervals:
        table[column] = table[column].fillna("").astype(str)
    for column in ordered["column"]:
        table[column] = table[column].astype("float64")
    formats = dict(zip(ordered["column"], (number_format(u) for u in ordered["unit"]), strict=True))
    return TrendsTable(table[["Date", "Label", *columns]], formats, intervals)


def compare_summaries(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Metric-by-metric table of two sessions: values and their 95 % within-session intervals, B − A, an arrow for
    the direction of change, and how the change compares with the noise (:func:`pipeline.change.change_label`:
    overlapping intervals, or apart and within / beyond the walk-to-walk variation of healthy walkers).

    For symmetry indices, ``toward symmetry`` says whether \\|SI\\| shrank, which is what a clinician reads first.
    """
    keys = ["metric", "side"]
    measured = ["value", "ci_low", "ci_high"]
    merged = a[[*keys, "label", "unit", *measured]].merge(
        b[[*keys, *measured]], on=keys, how="outer", suffixes=("_a", "_b")
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
    merged["intervals"] = [
        change_label(m, va, (la, ha), vb, (lb, hb)) if has_interval(la, ha) and has_interval(lb, hb) else ""
        for m, va, la, ha, vb, lb, hb in zip(
            merged["metric"],
            merged["value_a"],
            merged["ci_low_a"],
            merged["ci_high_a"],
            merged["value_b"],
            merged["ci_low_b"],
            merged["ci_high_b"],
            strict=True,
        )
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


@dataclass(frozen=True)
class Card:
    """One ``st.metric`` card."""

    label: str
    value: str
    help: str
    interval: str  # "95 % CI 0.66–0.70 s" for a caption under the card; empty when the session has none


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


TURN_CARDS: tuple[tuple[str, str], ...] = (
    ("turns_n", "both"),
    ("turn_angle_deg", "both"),
    ("turn_duration_s", "both"),
    ("turn_rate_dps", "both"),
)


def cards(summary: pd.DataFrame, which: Sequence[tuple[str, str]]) -> list[Card]:
    """Metric cards with units; the help text is the catalogue definition, the number of strides behind the value
    and, where the session has one, its 95 % within-session interval with what that interval means."""
    out = []
    for metric, side in which:
        m = METRICS[metric]
        hit = summary[(summary["metric"] == metric) & (summary["side"] == side)]
        n = int(hit["n"].iloc[0]) if len(hit) else 0
        low, high = (float(hit["ci_low"].iloc[0]), float(hit["ci_high"].iloc[0])) if len(hit) else (math.nan, math.nan)
        interval = format_interval(low, high, m.unit)
        if interval and m.unit != DIMENSIONLESS:
            interval += f" {m.unit}"
        help_text = f"{m.definition} n = {n}."
        if interval:
            help_text += (
                f" 95 % within-session interval: {interval} — how far the value could move had the patient walked "
                "a different handful of strides in this session; day-to-day variability is not included."
            )
        label = m.label if side == "both" else f"{m.label} ({side})"
        value = format_value(metric_value(summary, metric, side), m.unit)
        out.append(Card(label, value, help_text, f"95 % CI {interval}" if interval else ""))
    return out


def compare_display(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison table as shown: readable column names, one row per metric and side, each session's interval
    as ``[low, high]`` in the row's unit."""
    table = table.copy()
    for s in ("a", "b"):
        table[f"interval_{s}"] = [
            interval_cell(lo, hi, u)
            for lo, hi, u in zip(table[f"ci_low_{s}"], table[f"ci_high_{s}"], table["unit"], strict=True)
        ]
    names = {  # in display order
        "label": "Metric",
        "side": "Side",
        "unit": "Unit",
        "value_a": "Session A",
        "interval_a": "95 % CI A",
        "value_b": "Session B",
        "interval_b": "95 % CI B",
        "difference": "Difference (B − A)",
        "direction": "Change",
        "intervals": "Change vs variation",
        "toward_symmetry": "Toward symmetry",
    }
    return table.rename(columns=names)[list(names.values())]


# ---------------------------------------------------------------------------------------------------------------
# Figures


SIDE_COLOURS = {
    "left": "#1f77b4",
    "right": "#ff7f0e",
    "both": "#444444",
    "involved": "#8e24aa",
    "uninvolved": "#43a047",
}
SESSION_COLOURS = ("#9e9e9e", "#00897b")
WARNING_COLOUR = "#c62828"  # the ring around a session with data-quality warnings (no side uses red)
LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 40, "b": 50}}


def error_bars(value: pd.Series, low: pd.Series, high: pd.Series, colour: str) -> dict[str, object] | None:
    """Plotly ``error_y`` from each point to the ends of its 95 % within-session interval; None when no point has one.

    A point without an interval gets NaN, and the arrays stay float64 numpy so that plotly sends them as typed arrays:
    a NaN there draws no bar, whereas a JSON null (what a list's NaN becomes) is read as 0 by plotly.js and would draw
    a zero-width bar, as if the value were certain.
    """
    v, lo, hi = (np.asarray(x, dtype=np.float64) for x in (value, low, high))
    known = np.isfinite(v) & np.isfinite(lo) & np.isfinite(hi)
    if not known.any():
        return None
    return {
        "type": "data",
        "symmetric": False,
        "array": np.where(known, hi - v, np.nan),
        "arrayminus": np.where(known, v - lo, np.nan),
        "color": colour,
        "thickness": 1.5,
        "width": 4,
    }


UNCALIBRATED = "not calibrated"
UNCALIBRATED_SYMBOL = "circle-open"
CALIBRATED_SYMBOLS = ("circle", "diamond", "square", "triangle-up", "star")


def _calibration_identity(calibrated: object, text: object) -> str:
    """The calibration a row's session used, "" when it used none (or its record does not say: processed before
    imugait calibrated, so not calibrated either). Uncalibrated sessions compare with each other whatever the reason."""
    return str(text) if calibrated is True else ""


@dataclass(frozen=True)
class CalibrationMarks:
    """How a trend tells its sessions' step-length calibrations apart: identity → (legend name, marker symbol),
    and the runs of consecutive sessions sharing one, oldest first, as (first date, last date, identity)."""

    marks: dict[str, tuple[str, str]]
    runs: tuple[tuple[str, str, str], ...]

    def name(self, identity: str) -> str:
        return self.marks[identity][0]

    def describe(self) -> str:
        """``2026-01-12 to 2026-02-02: not calibrated · from 2026-02-23: calibrated (pelvis ×1.190 …)``."""
        parts = []
        for i, (first, last, identity) in enumerate(self.runs):
            when = first if first == last else f"{first} to {last}"
            if i == len(self.runs) - 1 and first != last:
                when = f"from {first}"
            what = self.name(identity) + (f" ({identity})" if identity else "")
            parts.append(f"{when}: {what}")
        return " · ".join(parts)


def calibration_marks(values: pd.DataFrame) -> CalibrationMarks | None:
    """The calibrations behind the values of one spatial metric (rows of :func:`dashboard.data.subject_trends`),
    None unless the sessions with a value differ in calibration (calibrated vs not, or two calibrations)."""
    if not {"calibrated", "calibration"} <= set(values.columns):
        return None
    known = values[np.isfinite(pd.to_numeric(values["value"], errors="coerce").astype("float64"))]
    sessions = known.sort_values("start", kind="stable").drop_duplicates("session_id")
    identities = [
        _calibration_identity(c, t) for c, t in zip(sessions["calibrated"], sessions["calibration"], strict=True)
    ]
    distinct = list(dict.fromkeys(identities))
    if len(distinct) < 2:
        return None
    calibrations = [i for i in distinct if i]
    marks = {"": (UNCALIBRATED, UNCALIBRATED_SYMBOL)} if "" in distinct else {}
    for k, identity in enumerate(calibrations):
        name = "calibrated" if len(calibrations) == 1 else f"calibration {k + 1}"
        marks[identity] = (name, CALIBRATED_SYMBOLS[k % len(CALIBRATED_SYMBOLS)])
    dates = pd.to_datetime(sessions["start"]).dt.strftime("%Y-%m-%d").tolist()
    runs: list[list[str]] = []
    for date, identity in zip(dates, identities, strict=True):
        if runs and runs[-1][2] == identity:
            runs[-1][1] = date
        else:
            runs.append([date, date, identity])
    return CalibrationMarks(marks, tuple((a, b, i) for a, b, i in runs))


def calibration_warnings(values: pd.DataFrame, metrics: Sequence[str]) -> list[str]:
    """One warning per distinct calibration history among the chosen spatial metrics whose sessions differ in
    step-length calibration (:func:`calibration_marks`); none when they do not, or the records do not say."""
    histories: dict[str, tuple[CalibrationMarks, list[str]]] = {}
    for metric in metrics:
        if not is_spatial(metric):
            continue
        part = values[values["metric"] == metric]
        marks = calibration_marks(part)
        if marks is not None:
            unit = str(part["unit"].iloc[0]) if len(part) else ""
            key = repr((sorted(marks.marks.items()), marks.runs))
            histories.setdefault(key, (marks, []))[1].append(metric_title(metric, unit))
    out = []
    for marks, titles in histories.values():
        symbols = ", ".join(
            f"{_SYMBOL_TEXT.get(symbol, symbol)} {name}" for name, symbol in dict.fromkeys(marks.marks.values())
        )
        out.append(
            f"**Step-length calibration changes across these sessions** — {', '.join(titles)}: values are not "
            "comparable across the change; a jump there may be the calibration, not the patient. "
            f"{marks.describe()}. Chart markers: {symbols}."
        )
    return out


_SYMBOL_TEXT = {
    "circle-open": "○",
    "circle": "●",
    "diamond": "◆",
    "square": "■",
    "triangle-up": "▲",
    "star": "★",
}


def trend_figure(values: pd.DataFrame, metric: str) -> go.Figure:
    """One metric over sessions: a line per side, each session's 95 % within-session interval as an error bar (none
    where the session has no interval), session label, interval and pipeline version on hover, the healthy band for
    symmetry indices.

    ``values`` is the long frame of :func:`dashboard.data.subject_trends` restricted to ``metric``. Sides are
    left/right/both, or involved/uninvolved where the pipeline knew the subject's affected side.
    """
    title = metric_title(metric, str(values["unit"].iloc[0]) if len(values) else "")
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
    spatial = is_spatial(metric) and {"calibrated", "calibration"} <= set(values.columns)
    marks = calibration_marks(values) if spatial else None
    rank = {side: i for i, side in enumerate(SIDE_COLOURS)}
    for side in sorted(values["side"].unique(), key=lambda s: rank.get(s, len(rank))):
        part = values[values["side"] == side].sort_values("start")
        colour = SIDE_COLOURS.get(str(side), "#444444")
        shown = [
            value_with_interval(v, lo, hi, u)
            for v, lo, hi, u in zip(part["value"], part["ci_low"], part["ci_high"], part["unit"], strict=True)
        ]
        identities = (
            [_calibration_identity(c, t) for c, t in zip(part["calibrated"], part["calibration"], strict=True)]
            if spatial
            else [""] * len(part)
        )
        notes = (
            [
                f"<br>calibration: {t}" if isinstance(t, str) and t else ""
                for t in part["calibration"]  # the text of calibrated and uncalibrated sessions alike
            ]
            if spatial
            else [""] * len(part)
        )
        versions = [
            f"<br>pipeline version {v}" if isinstance(v, str) and v else "<br>pipeline version unknown"
            for v in (part["pipeline_version"] if "pipeline_version" in part.columns else [None] * len(part))
        ]
        marker: dict[str, object] = {}
        if marks is not None:
            symbols = [marks.marks[i][1] for i in identities]
            marker = {"symbol": symbols, "size": 9, "color": colour, "line": {"width": 2, "color": colour}}
        fig.add_trace(
            go.Scatter(
                x=part["start"],
                y=part["value"],
                mode="lines+markers",
                name=str(side),
                showlegend=values["side"].nunique() > 1,  # one side needs no entry, even beside calibration entries
                line={"color": colour},
                marker=marker or None,
                error_y=error_bars(part["value"], part["ci_low"], part["ci_high"], colour),
                customdata=part[["session_label", "session_id", "n"]]
                .assign(shown=shown, note=notes, version=versions)
                .to_numpy(),
                hovertemplate=(
                    "%{x|%Y-%m-%d}<br>%{customdata[0]}<br>"
                    + f"{side}: %{{customdata[3]}}"
                    + "<br>n = %{customdata[2]}%{customdata[4]}<br>%{customdata[1]}%{customdata[5]}<extra></extra>"
                ),
            )
        )
    flagged = _sessions_with_warnings(values)
    if len(flagged):  # a ring around each session whose data quality needs reading before its values
        fig.add_trace(
            go.Scatter(
                x=flagged["start"],
                y=flagged["value"],
                mode="markers",
                name="data-quality warning",
                marker={"symbol": "circle-open", "size": 18, "color": WARNING_COLOUR, "line": {"width": 2}},
                customdata=flagged[["session_label", "text"]].to_numpy(),
                hovertemplate="%{x|%Y-%m-%d}<br>%{customdata[0]}<br>%{customdata[1]}<extra>data quality</extra>",
            )
        )
    if marks is not None:  # a legend entry per calibration, in grey: the markers, not the colours, tell them apart
        for name, symbol in dict.fromkeys(marks.marks.values()):
            fig.add_trace(
                go.Scatter(
                    x=[None],
                    y=[None],
                    mode="markers",
                    name=name,
                    marker={"symbol": symbol, "size": 9, "color": "#616161", "line": {"width": 2, "color": "#616161"}},
                    hoverinfo="skip",
                )
            )
    fig.update_layout(
        title=title,
        xaxis_title="Session date",
        yaxis_title=title,
        height=320,
        legend={"orientation": "h", "y": -0.25},
        showlegend=values["side"].nunique() > 1 or marks is not None or len(flagged) > 0,
        **LAYOUT,
    )
    fig.update_xaxes(tickformat="%Y-%m-%d")
    return fig


def _sessions_with_warnings(values: pd.DataFrame) -> pd.DataFrame:
    """One row per session of ``values`` that has data-quality warnings: its start, label, the value the ring goes
    around (the lowest side's, so one ring per session) and the warnings as hover text."""
    if "quality_warnings" not in values.columns or values.empty:
        return pd.DataFrame(columns=["start", "session_label", "value", "text"])
    has = values[
        np.array([bool(w) for w in values["quality_warnings"]], dtype=bool) & values["value"].notna().to_numpy()
    ]
    rows = has.sort_values("value").drop_duplicates("session_id").sort_values("start")
    text = ["<br>".join(textwrap.shorten(w, 110, placeholder=" …") for w in ws) for ws in rows["quality_warnings"]]
    return rows[["start", "session_label", "value"]].assign(text=text)


def quality_warning_sessions(values: pd.DataFrame) -> list[str]:
    """Date and label of each session in ``values`` (``dashboard.data.subject_trends``) with data-quality warnings,
    oldest first, with how many warnings it has."""
    if "quality_warnings" not in values.columns:
        return []
    sessions = values.drop_duplicates("session_id").sort_values("start")
    return [
        f"{start:%Y-%m-%d} {label}".rstrip() + f" ({len(ws)} warning{'s' if len(ws) != 1 else ''})"
        for start, label, ws in zip(
            sessions["start"], sessions["session_label"], sessions["quality_warnings"], strict=True
        )
        if ws
    ]


def compare_figure(table: pd.DataFrame, name_a: str, name_b: str) -> go.Figure:
    """Grouped bars of two sessions with their 95 % within-session intervals as error bars, one panel per unit so
    that seconds and degrees never share an axis."""
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
        for s, name, colour in (("a", name_a, SESSION_COLOURS[0]), ("b", name_b, SESSION_COLOURS[1])):
            value, low, high = part[f"value_{s}"], part[f"ci_low_{s}"], part[f"ci_high_{s}"]
            fig.add_trace(
                go.Bar(
                    x=x,
                    y=value,
                    name=name,
                    marker_color=colour,
                    error_y=error_bars(value, low, high, "#37474f"),
                    customdata=[value_with_interval(*point, unit) for point in zip(value, low, high, strict=True)],
                    showlegend=row == 1,
                    legendgroup=name,
                    hovertemplate=f"{name}<br>%{{x}}: %{{customdata}}<extra></extra>",
                ),
                row=row,
                col=1,
            )
        fig.update_yaxes(title_text=unit, row=row, col=1)
    fig.update_layout(
        barmode="group", height=80 + 300 * max(len(units), 1), legend={"orientation": "h", "y": 1.05}, **LAYOUT
    )
    return fig

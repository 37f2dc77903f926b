"""Compensation report: the gait patterns the knee-pain literature names, mapped to their indicator metrics.

Each pattern (gait_reference, scope and §3) is checked on session summary rows against a threshold set at the
healthy noise floor (:class:`CompensationThresholds`, each with its source). A row is an *indicator to review*,
never a diagnosis: its note says what was measured, which side, and what pattern it is consistent with.

Patterns and indicators (side of a flagged row = the side the finding points to):

- ``antalgic_gait`` — shorter stance and single support on the painful leg, uneven steps: ``stance_time_si_pct``,
  ``single_support_time_si_pct`` (|SI| > floor), ``step_time_ga_pct`` (> floor).
- ``trendelenburg`` — the opposite hip drops during stance on the weak/painful side: ``pelvic_drop_deg`` per
  stance side vs the other side (more than ``pelvic_side_diff_deg`` larger), ``pelvic_obliquity_range_deg``.
- ``hip_hiking`` — the swing-side hip is lifted to clear a stiff leg: ``pelvic_hike_deg`` per swing side vs the
  other side; skipped with a note when the pipeline does not report it.
- ``altered_pelvic_tilt`` — ``pelvic_tilt_range_deg`` above normal; ``pelvic_tilt_rel_standing_deg`` (mean tilt
  walking vs standing) beyond ± its threshold, when a standing calibration exists.
- ``reduced_hip_range`` — ``thigh_range_si_pct`` (|SI| > floor), the smaller side flagged.
- ``weight_shift`` — weight taken off a leg sooner: ``initial_double_support_si_pct`` (loading phase).
- ``trunk_lean``, ``reduced_knee_flexion`` — not measurable with pelvis and thigh sensors; reported as such.

A missing or NaN indicator (sensor absent, too few strides, metric not computed) gives an unflagged row with a note.

Contacts found from the pelvis alone (no thigh sensor, or a thigh that dropped out for most of the session) do not
assess the timing indicators (antalgic gait, weight shift): their value is reported, never flagged. Against foot
sensors their left/right timing carries an offset per walk (18 ms IC SD per side in 110 healthy walks; ≈ 135 ms
between the sides in every walk of one person with MS, whose pelvis-only timing SIs all had the wrong sign;
``bench/validate_symmetry.py``, docs/validation §n), so a timing asymmetry could be the method's, or on the wrong
leg.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import pyarrow as pa

from pipeline.catalog import METRICS
from pipeline.metrics import SummaryRow


@dataclass(frozen=True)
class CompensationThresholds:
    """Healthy noise floors (flag when a value and its 95 % interval are beyond), with their sources.

    - ``temporal_si_pct`` 3 %: healthy symmetry noise floor ±2–3 % (gait_reference §3; IMU hip/knee SI_norm
      −1.5…1.1 % / −3.0…3.1 %, PMC8919661). Also used for Plotnik GA, which equals |SI| to first order. On short
      real walks the point estimates scatter far wider (pelvis-only stance SI 95th percentile 7.2 % in healthy
      people), which is why a flag needs the interval beyond the floor, not the value alone.
    - ``hip_range_si_pct`` 3 %: hip SI_norm ±1.5 % in 25 healthy adults (PMC8919661), widened to the 3 % floor.
    - ``pelvic_side_diff_deg`` 1.5°: about 2 × the between-subject SD of mean pelvic obliquity in healthy walkers
      (0.7 ± 0.7°, Sensors 2024 24:3091, gait_reference §3). The healthy simulator's left/right drop difference
      is < 0.1° (6 seeds), so this is set by real-world variability, not by the simulator. On 110 real healthy
      walks it flags 0–5 % per side with the interval rule (``bench/validate_symmetry.py``).
    - ``obliquity_range_deg`` 11.5°, ``tilt_range_deg`` 9°, ``tilt_rel_standing_deg`` 6.5°: the 95th percentile
      of this pipeline's values on 110 walks of 19 healthy adults (IPOL 2023 lower-back sensor: 11.4°, 9.1°,
      6.3°; ``bench/validate_symmetry.py``, docs/validation §n), rounded to 0.5°. Set on one group of people, the
      percentile flagged 5–7 % of the walks of people it was not set on (leave one person out). They replace
      textbook values (obliquity ROM 8–10°, tilt ROM 2–4° + 1°, tilt 2 × 2.4°) that flagged 12–31 % of these
      healthy walks: a lower-back sensor reads more pelvic motion than the textbook's markers.
    - ``loading_si_pct`` 10 %: no published floor found; initial double support is short (≈ 0.12 s) so its SI
      amplifies event-timing error (thigh FC SD ≈ 20 ms, Strick 2024). The healthy simulator gives |SI| ≤ 2.8 %
      (6 seeds); 10 % leaves room for real sensors.

    Every indicator flags only when its value and its whole 95 % interval (``pipeline.uncertainty``) are beyond
    the threshold, and says so when the value is beyond but the interval is not; for the side-against-side ones
    (drop, hike) that is the interval of the left − right difference (:func:`_difference`).
    """

    temporal_si_pct: float = 3.0
    hip_range_si_pct: float = 3.0
    pelvic_side_diff_deg: float = 1.5
    obliquity_range_deg: float = 11.5
    tilt_range_deg: float = 9.0
    tilt_rel_standing_deg: float = 6.5
    loading_si_pct: float = 10.0


@dataclass(frozen=True)
class CompensationRow:
    """One row of ``derived/compensation.arrow`` (columns as ``schemas.COMPENSATION``)."""

    pattern: str
    label: str
    indicator: str
    side: str
    value: float
    threshold: float
    unit: str
    flagged: bool
    note: str
    status: str = "within"  # one of STATUSES


# flagged: value and interval beyond the threshold; unclear: the value beyond, its interval not; within: inside;
# not_assessed: no value, or a value this session cannot assess (see the note)
STATUSES = ("flagged", "unclear", "within", "not_assessed")


_LABELS: Mapping[str, str] = {
    "antalgic_gait": "Antalgic gait (limp)",
    "trendelenburg": "Trendelenburg (contralateral pelvic drop)",
    "hip_hiking": "Hip hiking",
    "altered_pelvic_tilt": "Altered pelvic tilt",
    "reduced_hip_range": "Reduced hip range",
    "weight_shift": "Weight shift to the other leg",
    "trunk_lean": "Trunk lean",
    "reduced_knee_flexion": "Reduced knee flexion",
}
_REVIEW = "review clinically."
# Drop and hike come from the sacral sensor's obliquity within the stride, which against motion-capture markers
# (one trial, docs/validation §m) rocked with the soft tissue: drop 5° larger, hike of the opposite sign, and a 2°
# side difference the markers did not show. The obliquity *range* and pelvic rotation agreed.
_SENSOR_ROCK = "a sensor over the sacrum can rock with the soft tissue, so confirm it by observation and "


# Patterns the literature names that three sensors (pelvis, thighs) cannot see: reported, never flagged.
_NOT_MEASURABLE = (
    (
        "trunk_lean",
        "Not measurable with these sensors (pelvis and thighs): trunk lean needs a sensor on the trunk (sternum).",
    ),
    (
        "reduced_knee_flexion",
        "Not measurable with these sensors: knee flexion needs a shank sensor; thigh range is reported instead.",
    ),
)


class _Report:
    """Collects rows; every check goes through ``get`` so missing metrics become notes, not errors."""

    def __init__(self, rows: Sequence[SummaryRow], affected_side: str | None, pelvis_contacts: bool) -> None:
        self.by_key = {(r.metric, r.side): r for r in rows}
        self.affected = affected_side
        self.pelvis_contacts = pelvis_contacts
        self.out: list[CompensationRow] = []

    def get(self, metric: str, side: str = "both") -> float | None:
        row = self.row(metric, side)
        return None if row is None else float(row.value)

    def row(self, metric: str, side: str = "both") -> SummaryRow | None:
        row = self.by_key.get((metric, side))
        if row is None or row.n == 0 or not math.isfinite(row.value):
            return None
        return row

    def missing(self, pattern: str, metric: str, side: str, threshold: float) -> None:
        why = (
            "not computed by this pipeline version"
            if metric not in METRICS or (metric, side) not in self.by_key
            else "not available for this session (sensor missing or too few valid strides)"
        )
        unit = METRICS[metric].unit if metric in METRICS else ""
        note = f"{_label(metric)}: {why}; not assessed."
        self.add(pattern, metric, side, math.nan, threshold, unit, "not_assessed", note)

    def add(
        self, pattern: str, indicator: str, side: str, value: float, threshold: float, unit: str, status: str, note: str
    ) -> None:
        flagged = status == "flagged"
        row = CompensationRow(pattern, _LABELS[pattern], indicator, side, value, threshold, unit, flagged, note, status)
        self.out.append(row)

    def involvement(self, side: str) -> str:
        if self.affected is None:
            return ""
        return " (the involved side)" if side == self.affected else " (the uninvolved side)"

    def signed_si(self, pattern: str, metric: str, threshold: float, phrase: Callable[[str, str, float], str]) -> None:
        """A Robinson SI (R − L): flag when it and its interval are beyond ±threshold, side = the smaller side."""
        row = self.row(metric)
        if row is None:
            self.missing(pattern, metric, "both", threshold)
            return
        si = float(row.value)
        if self.pelvis_contacts and metric in TIMING_INDICATORS:
            self.add(pattern, metric, "both", si, threshold, "%", "not_assessed", _pelvis_timing_note(row, "%"))
            return
        smaller, larger = ("right", "left") if si < 0 else ("left", "right")
        beyond = abs(si) > threshold
        flag = beyond and _clears(row, threshold, absolute=True)
        if flag:
            note = phrase(smaller + self.involvement(smaller), larger, _pct_smaller(si)) + _interval_text(row, "%")
        elif beyond:
            note = _unclear(row, f"±{threshold:g} %", "%")
        else:
            note = f"{_label(metric)} {si:+.1f} %: within the healthy noise floor (±{threshold:g} %)."
        self.add(pattern, metric, smaller if flag else "both", si, threshold, "%", _status(flag, beyond), note)

    def side_excess(self, pattern: str, metric: str, margin: float, phrase: Callable[[str, float], str]) -> None:
        """Per-side metric: flag a side whose value exceeds the other side's by more than ``margin``, with the
        difference's 95 % interval beyond ``margin`` too (:func:`_difference`)."""
        rows = {side: self.row(metric, side) for side in ("left", "right")}
        for side, other in (("left", "right"), ("right", "left")):
            row, ref = rows[side], rows[other]
            if row is None or ref is None:
                self.missing(pattern, metric, side, math.nan)
                continue
            diff = _difference(row, ref)
            beyond = diff.value > margin
            flag = beyond and _clears(diff, margin, absolute=False)
            if flag:
                note = phrase(side + self.involvement(side), diff.value) + _interval_text(
                    diff, "°", "95 % interval of the difference"
                )
            elif beyond:
                note = (
                    f"{_label(metric)} {row.value:.1f}° vs {ref.value:.1f}° on the other side: {diff.value:.1f}° "
                    f"more, beyond {margin:g}°, but the 95 % interval of the difference ({diff.ci_low:+.1f} … "
                    f"{diff.ci_high:+.1f}°) reaches inside: not clear from this walk. A longer walk would decide."
                )
            else:
                note = (
                    f"{_label(metric)} {row.value:.1f}° vs {ref.value:.1f}° on the other side: not more than "
                    f"{margin:g}° larger."
                )
            threshold = ref.value + margin
            self.add(pattern, metric, side, row.value, threshold, "deg", _status(flag, beyond), note)

    def upper(self, pattern: str, metric: str, threshold: float, phrase: str, *, absolute: bool = False) -> None:
        """Flag when the value and its interval are above ``threshold`` (beyond ±threshold when ``absolute``)."""
        row = self.row(metric)
        if row is None:
            self.missing(pattern, metric, "both", threshold)
            return
        value = float(row.value)
        unit = METRICS[metric].unit
        if self.pelvis_contacts and metric in TIMING_INDICATORS:
            self.add(pattern, metric, "both", value, threshold, unit, "not_assessed", _pelvis_timing_note(row, unit))
            return
        beyond = (abs(value) if absolute else value) > threshold
        flag = beyond and _clears(row, threshold, absolute=absolute)
        limit = f"±{threshold:g}" if absolute else f"{threshold:g}"
        if flag:
            note = phrase.format(value=value) + _interval_text(row, unit)
        elif beyond:
            note = _unclear(row, f"{limit} {unit}", unit)
        else:
            note = f"{_label(metric)} {value:.1f} {unit}: within {limit} {unit}."
        self.add(pattern, metric, "both", value, threshold, unit, _status(flag, beyond), note)


def _status(flag: bool, beyond: bool) -> str:
    return "flagged" if flag else "unclear" if beyond else "within"


# indicators computed from contact times (left against right)
TIMING_INDICATORS = frozenset(
    {"stance_time_si_pct", "single_support_time_si_pct", "step_time_ga_pct", "initial_double_support_si_pct"}
)


def _pelvis_timing_note(row: SummaryRow, unit: str) -> str:
    return (
        f"{_label(row.metric)} {row.value:+.1f} {unit}: not assessed — the contacts come from the pelvis sensor "
        "alone, whose left/right timing can be offset by tens of ms per walk (enough to make or hide an asymmetry, "
        "or put it on the wrong leg; docs/validation §n). Thigh sensors are needed to assess limping."
    )


def _clears(row: SummaryRow, threshold: float, *, absolute: bool) -> bool:
    """Whether the row's 95 % interval lies wholly beyond the threshold on the value's side (True without an
    interval: the value alone decides)."""
    lo, hi = row.ci_low, row.ci_high
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return True
    if absolute and row.value < 0:
        return hi < -threshold
    return lo > threshold


def _difference(a: SummaryRow, b: SummaryRow) -> SummaryRow:
    """``a − b`` with a 95 % interval combined from the two sides' intervals as independent normal estimates
    (half-widths add in quadrature). Left and right values come from alternating stances of the same walk; what
    they share (speed, the sensor's mounting) moves both alike, so treating them as independent widens the interval:
    the conservative side for a flag. NaN interval when either side has none (the value alone decides)."""
    half = math.hypot(a.ci_high - a.ci_low, b.ci_high - b.ci_low) / 2.0
    value = a.value - b.value
    return SummaryRow(a.metric, a.side, value, a.unit, min(a.n, b.n), value - half, value + half)


def _interval_text(row: SummaryRow, unit: str, what: str = "95 % interval") -> str:
    if not (math.isfinite(row.ci_low) and math.isfinite(row.ci_high)):
        return ""
    unit = unit if unit == "°" else " " + unit
    return f" ({what} {row.ci_low:+.1f} … {row.ci_high:+.1f}{unit})"


def _unclear(row: SummaryRow, limit: str, unit: str) -> str:
    return (
        f"{_label(row.metric)} {row.value:+.1f} {unit} is beyond {limit}, but its 95 % interval "
        f"({row.ci_low:+.1f} … {row.ci_high:+.1f} {unit}) reaches inside: not clear from this walk. A longer walk "
        "(and, for contacts found from the pelvis alone, thigh sensors) would decide."
    )


def _label(metric: str) -> str:
    return METRICS[metric].label if metric in METRICS else metric


def _pct_smaller(si: float) -> float:
    """How much smaller (in % of the larger side) the smaller side is, from a Robinson SI."""
    a = abs(si) / 100.0
    return 100.0 * (1.0 - (2.0 - a) / (2.0 + a))


def compensation_report(
    rows: Sequence[SummaryRow],
    *,
    affected_side: str | None = None,
    thresholds: CompensationThresholds = CompensationThresholds(),
    pelvis_contacts: bool = False,
) -> tuple[CompensationRow, ...]:
    """Check every pattern on the session summary ``rows`` (see the module docstring); ``pelvis_contacts``: the
    contacts were found from the pelvis sensor alone, so the timing indicators are reported, not assessed."""
    th = thresholds
    r = _Report(rows, affected_side, pelvis_contacts)
    r.signed_si(
        "antalgic_gait",
        "stance_time_si_pct",
        th.temporal_si_pct,
        lambda s, o, p: (
            f"Stance on the {s} is {p:.0f} % shorter than on the {o} — consistent with an antalgic "
            f"(pain-avoiding) gait; {_REVIEW}"
        ),
    )
    r.signed_si(
        "antalgic_gait",
        "single_support_time_si_pct",
        th.temporal_si_pct,
        lambda s, o, p: (
            f"Single-leg support on the {s} is {p:.0f} % shorter than on the {o} — the {s.split()[0]} "
            f"leg is unloaded sooner, consistent with an antalgic gait; {_REVIEW}"
        ),
    )
    r.upper(
        "antalgic_gait",
        "step_time_ga_pct",
        th.temporal_si_pct,
        "Left and right step times differ (gait asymmetry {value:.1f} %) — an uneven rhythm (limp); " + _REVIEW,
    )
    r.side_excess(
        "trendelenburg",
        "pelvic_drop_deg",
        th.pelvic_side_diff_deg,
        lambda s, d: (
            f"During stance on the {s} the opposite hip drops {d:.1f}° more than in the other stance — "
            f"consistent with a Trendelenburg (hip-abductor) pattern on the {s.split()[0]}; {_SENSOR_ROCK}{_REVIEW}"
        ),
    )
    r.upper(
        "trendelenburg",
        "pelvic_obliquity_range_deg",
        th.obliquity_range_deg,
        "Pelvic obliquity range {value:.1f}° is larger than usual — more frontal-plane pelvic motion; " + _REVIEW,
    )
    if "pelvic_hike_deg" in METRICS:
        r.side_excess(
            "hip_hiking",
            "pelvic_hike_deg",
            th.pelvic_side_diff_deg,
            lambda s, d: (
                f"During swing of the {s} leg its hip rises {d:.1f}° more than on the other side — "
                f"consistent with hip hiking to clear the leg; {_SENSOR_ROCK}{_REVIEW}"
            ),
        )
    else:
        r.missing("hip_hiking", "pelvic_hike_deg", "both", th.pelvic_side_diff_deg)
    r.upper(
        "altered_pelvic_tilt",
        "pelvic_tilt_range_deg",
        th.tilt_range_deg,
        "Pelvic tilt range {value:.1f}° is larger than usual — more sagittal pelvic motion; " + _REVIEW,
    )
    r.upper(
        "altered_pelvic_tilt",
        "pelvic_tilt_rel_standing_deg",
        th.tilt_rel_standing_deg,
        "Mean pelvic tilt while walking differs from standing by {value:+.1f}° — an altered pelvic posture; " + _REVIEW,
        absolute=True,
    )
    r.signed_si(
        "reduced_hip_range",
        "thigh_range_si_pct",
        th.hip_range_si_pct,
        lambda s, o, p: (
            f"Thigh (hip) sagittal range on the {s} is {p:.0f} % smaller than on the {o} — consistent "
            f"with reduced hip/knee excursion on that side; {_REVIEW}"
        ),
    )
    r.signed_si(
        "weight_shift",
        "initial_double_support_si_pct",
        th.loading_si_pct,
        lambda s, o, p: (
            f"Weight acceptance (loading) on the {s} is {p:.0f} % shorter than on the {o} — weight is "
            f"moved onto the {o} leg sooner; {_REVIEW}"
        ),
    )
    for pattern, note in _NOT_MEASURABLE:
        r.add(pattern, "", "both", math.nan, math.nan, "", "not_assessed", note)
    return tuple(r.out)


def to_table(report: Sequence[CompensationRow]) -> pa.Table:
    """The report as an Arrow table with the ``schemas.COMPENSATION`` columns."""
    cols: dict[str, list[Any]] = {f.name: [getattr(row, f.name) for row in report] for f in fields(CompensationRow)}
    return pa.table(
        {
            **{k: pa.array(v, pa.string()) for k, v in cols.items() if k not in ("value", "threshold", "flagged")},
            "value": pa.array(cols["value"], pa.float64(), from_pandas=False),
            "threshold": pa.array(cols["threshold"], pa.float64(), from_pandas=False),
            "flagged": pa.array(cols["flagged"], pa.bool_()),
        }
    )

"""Subject profiles: anthropometry and the affected side, in ``<root>/<subject>/subject.json``.

A profile holds what the spatial model (:mod:`pipeline.spatial`) and the involved/uninvolved orientation of the
symmetry metrics need: stature, leg length (greater trochanter to floor), the height of the pelvis sensor above
the floor, and which knee hurts. All lengths are metres. ``subject.json`` is versioned like ``session.json``
(``format``; a newer file than this imugait understands is refused with a clear error), written atomically, and
validated field by field when read.

Leg length, when only the stature is known, is estimated as 0.530 × height: greater-trochanter height as a
fraction of stature in Winter's anthropometric segment model (Winter, *Biomechanics and Motor Control of Human
Movement*, 4th ed., 2009, Fig. 4.1, after Drillis & Contini 1966). The estimate is flagged
(:attr:`LegLength.estimated`) and travels into the quality record of every processed session.

Pendulum length (Zijlstra & Hof's step-length model, :mod:`pipeline.spatial`): the pelvis sensor's height above the
floor. The model's population factor K (mobgap's 4.587/4) was fitted with the measured height of a lower-back (L5)
sensor as the pendulum, so an estimate must estimate *that* height, not the leg length. L5 lies at the level of the
iliac crests, so without a measured sensor height the pendulum is 0.607 × stature, else 1.179 × leg length: the
iliac-crest (iliocristale) height as a fraction of stature and of the greater-trochanter (trochanterion) height in
the 2012 U.S. Army anthropometric survey ANSUR II (Gordon et al. 2014, NATICK/TR-15/007; its public data, 4,082
men and 1,986 women: 0.604 and 0.611 of stature, SD 0.013; 1.179 of trochanterion height, SD 0.026;
``bench/anthropometry.py`` recomputes them). The three Mobilise-D example participants' measured sensor heights
are 0.580–0.617 of their stature. Substituting the leg length (0.53 × stature) read straight walking ≈ 7 % short
(``docs/validation/README.md`` §l). A sacral sensor sits a few centimetres lower than L5; measure it
(``--pelvis-sensor-height``) when you can.

Involved vs uninvolved (gait_reference §3): when the profile names the affected side, the per-side rows of the
session summary are repeated with side ``involved`` / ``uninvolved``, and symmetry indices are oriented as
SI = (involved − uninvolved) / mean × 100 % (``*_si_involved_pct``): negative means the painful side's value is
smaller, e.g. a shorter stance on the painful knee.

Step-length calibration (:mod:`pipeline.calibration`, ``imugait subject calibrate``): one record per model
("pelvis", "thigh") with the walker's factor and where it came from. A record holds only with the body length its
model used; changing the lengths drops the records they invalidate (:func:`update_profile`), and a record that no
longer matches is never applied (:meth:`SubjectProfile.calibration_for`). Format 2 added the records; format-1
files read as profiles without calibration.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal, cast

from pipeline import spatial
from pipeline.calibration import METHODS, Method, StepLengthCalibration, is_current, model_factor
from pipeline.catalog import METRICS
from pipeline.errors import DataContractError
from pipeline.events import GaitEvents
from pipeline.metrics import StrideTable, SummaryRow
from pipeline.orientation import PelvisAngles, ThighAngles
from pipeline.store import atomic_write_text, check_identifier, read_json_object
from pipeline.symmetry import symmetry_index

SUBJECT_FORMAT = 3  # 2: step_length_calibration; 3: their model_factor
ESTIMATED_PENDULUM_SINCE = "1.2"  # pipeline version that estimates the pendulum from stature (module docstring)
SUBJECT_FILE = "subject.json"
WINTER_LEG_LENGTH_RATIO = 0.530  # greater trochanter height / stature (Winter 2009, Fig. 4.1)
# Lower-back sensor height (iliac-crest level) / stature and / greater-trochanter height: ANSUR II (module docstring)
SENSOR_HEIGHT_STATURE_RATIO = 0.607
SENSOR_HEIGHT_LEG_RATIO = 1.179
Side = Literal["left", "right"]

# Plausible adult/child ranges (m); values outside are typing mistakes, most often centimetres or millimetres.
_RANGES: Mapping[str, tuple[float, float]] = {
    "height_m": (0.5, 2.5),
    "leg_length_m": (0.25, 1.4),
    "pelvis_sensor_height_m": (0.25, 1.6),
}

# (SI metric, per-side base metric) oriented (involved − uninvolved) / mean; catalogued in pipeline.catalog.
INVOLVED_SI: tuple[tuple[str, str], ...] = (
    ("step_time_si_involved_pct", "step_time_s"),
    ("stance_time_si_involved_pct", "stance_time_s"),
    ("swing_time_si_involved_pct", "swing_time_s"),
    ("single_support_time_si_involved_pct", "single_support_time_s"),
    ("thigh_range_si_involved_pct", "thigh_range_deg"),
    ("step_length_si_involved_pct", "step_length_m"),
)


@dataclass(frozen=True)
class LegLength:
    """The leg length used by the spatial model and whether it was estimated from stature."""

    value_m: float
    estimated: bool


@dataclass(frozen=True)
class PendulumLength:
    """The pendulum length of the pelvis step-length model and where it came from."""

    value_m: float
    source: Literal["sensor height", "stature", "leg length"]  # measured sensor height, or estimated from

    @property
    def estimated(self) -> bool:
        return self.source != "sensor height"


@dataclass(frozen=True)
class SubjectProfile:
    """The content of ``subject.json`` (lengths in metres; ``None`` = not measured).

    ``affected_side`` is the painful/involved side ("left" or "right") or ``None`` when there is none or it is not
    known. Construction validates every field and raises :class:`DataContractError` saying what to fix.
    """

    subject: str
    height_m: float | None = None
    leg_length_m: float | None = None
    pelvis_sensor_height_m: float | None = None
    affected_side: Side | None = None
    notes: str = ""
    step_length_calibration: tuple[StepLengthCalibration, ...] = ()
    format: int = SUBJECT_FORMAT

    def __post_init__(self) -> None:
        check_identifier(self.subject, "subject id")
        for name, (lo, hi) in _RANGES.items():
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise DataContractError(f"{name} must be a number of metres, got {value!r}")
            object.__setattr__(self, name, float(value))
            if not lo <= value <= hi:
                raise DataContractError(_range_message(name, float(value), lo, hi))
        if self.affected_side not in ("left", "right", None):
            raise DataContractError(f"affected_side must be 'left', 'right' or none, got {self.affected_side!r}")
        if self.height_m is not None and self.leg_length_m is not None and self.leg_length_m >= self.height_m:
            raise DataContractError(
                f"leg length {self.leg_length_m:g} m is not shorter than height {self.height_m:g} m; leg length is "
                "measured from the greater trochanter to the floor (about half the height)"
            )
        if not isinstance(self.notes, str):
            raise DataContractError("notes must be text")
        cals = tuple(
            c if isinstance(c, StepLengthCalibration) else StepLengthCalibration.from_dict(c)
            for c in self.step_length_calibration
        )
        methods = [c.method for c in cals]
        if len(set(methods)) != len(methods):
            raise DataContractError(f"step_length_calibration has more than one record per method: {methods}")
        object.__setattr__(self, "step_length_calibration", cals)
        object.__setattr__(self, "format", SUBJECT_FORMAT)

    @property
    def leg_length(self) -> LegLength | None:
        """Measured leg length, else 0.530 × height (Winter 2009), else None."""
        if self.leg_length_m is not None:
            return LegLength(self.leg_length_m, estimated=False)
        if self.height_m is not None:
            return LegLength(round(WINTER_LEG_LENGTH_RATIO * self.height_m, 4), estimated=True)
        return None

    @property
    def pendulum_length(self) -> PendulumLength | None:
        """Inverted-pendulum length for Zijlstra & Hof: the measured pelvis sensor height, else that height
        estimated from stature, else from the measured leg length (module docstring), else None."""
        if self.pelvis_sensor_height_m is not None:
            return PendulumLength(self.pelvis_sensor_height_m, "sensor height")
        if self.height_m is not None:
            return PendulumLength(round(SENSOR_HEIGHT_STATURE_RATIO * self.height_m, 4), "stature")
        if self.leg_length_m is not None:
            return PendulumLength(round(SENSOR_HEIGHT_LEG_RATIO * self.leg_length_m, 4), "leg length")
        return None

    @property
    def pendulum_length_m(self) -> float | None:
        """:attr:`pendulum_length` in metres, None without one."""
        pendulum = self.pendulum_length
        return pendulum.value_m if pendulum is not None else None

    def calibration_for(self, method: str) -> StepLengthCalibration | None:
        """The calibration of ``method`` that holds with the current lengths, else None."""
        leg = self.leg_length
        for cal in self.step_length_calibration:
            if cal.method == method and leg is not None and is_current(cal, leg.value_m, self.pendulum_length_m):
                return cal
        return None

    @property
    def stale_calibrations(self) -> tuple[StepLengthCalibration, ...]:
        """Stored calibrations that no longer hold with the current lengths (never applied)."""
        return tuple(c for c in self.step_length_calibration if self.calibration_for(c.method) is not c)

    def why_stale(self, cal: StepLengthCalibration) -> str:
        """Why ``cal`` no longer holds, for people: the body length its model used and the one the profile gives now.

        A pelvis factor fitted before imugait 1.2 on a profile without a measured sensor height used the leg length
        as the pendulum; 1.2 estimates the lower-back height instead (module docstring), so such a factor is stale
        although nobody changed the profile. The text says so rather than leave the user looking for an edit."""
        leg, pendulum = self.leg_length, self.pendulum_length
        what = "pendulum" if cal.method == "pelvis" else "leg length"
        if leg is None:
            now = "the profile now has no body length"
        elif cal.method == "pelvis" and pendulum is not None:
            now = f"the profile now gives {pendulum.value_m:g} m (from the {pendulum.source})"
        else:
            now = f"the profile now gives {leg.value_m:g} m"
        text = f"{cal.method} from session {cal.session} was made with a {cal.model_length_m:g} m {what}, {now}"
        estimated = cal.method == "pelvis" and pendulum is not None and pendulum.source != "sensor height"
        if estimated and _version(cal.pipeline_version) < _version(ESTIMATED_PENDULUM_SINCE):
            text += (
                f"; imugait {ESTIMATED_PENDULUM_SINCE} estimates the lower-back sensor height where "
                f"{cal.pipeline_version} used the leg length"
            )
        return text

    def with_calibrations(self, cals: Sequence[StepLengthCalibration]) -> SubjectProfile:
        """This profile with ``cals`` replacing the records of their methods (other methods kept)."""
        new = {c.method: c for c in cals}
        kept = [c for c in self.step_length_calibration if c.method not in new]
        ordered = sorted([*kept, *new.values()], key=lambda c: METHODS.index(c.method))
        return replace(self, step_length_calibration=tuple(ordered))

    def to_json(self) -> str:
        """Serialise for ``subject.json``."""
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, *, path: Path | None = None) -> SubjectProfile:
        """Parse ``subject.json``; raise :class:`DataContractError` naming the file and the problem."""
        data = read_json_object(text, "subject", SUBJECT_FORMAT, path=path)
        if "subject" not in data:
            raise DataContractError("subject.json lacks 'subject'", path=path)
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise DataContractError(f"subject.json has unknown field(s) {', '.join(unknown)}", path=path)
        try:
            return cls(**data)
        except DataContractError as exc:
            raise DataContractError(str(exc), path=path) from exc


def _version(text: str) -> tuple[int, ...]:
    """ "1.2" -> (1, 2); an unreadable version sorts first."""
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return ()


def _range_message(name: str, value: float, lo: float, hi: float) -> str:
    what = name.removesuffix("_m").replace("_", " ")
    if lo * 100 <= value <= hi * 100:
        return f"{what} {value:g} looks like centimetres — give metres (e.g. {value / 100:g})"
    if lo * 1000 <= value <= hi * 1000:
        return f"{what} {value:g} looks like millimetres — give metres (e.g. {value / 1000:g})"
    return f"{what} {value:g} m is outside the plausible range {lo:g}–{hi:g} m; give metres"


def subject_path(root: Path, subject: str) -> Path:
    """``<root>/<subject>/subject.json``."""
    return Path(root) / check_identifier(subject, "subject id") / SUBJECT_FILE


def read_profile(path: Path) -> SubjectProfile | None:
    """The profile stored at ``path``, or None when there is none."""
    path = Path(path)
    if not path.is_file():
        return None
    return SubjectProfile.from_json(path.read_text(encoding="utf-8"), path=path)


def load_profile(root: Path, subject: str) -> SubjectProfile | None:
    """The profile of ``subject`` under the data root ``root``, or None when none was set."""
    return read_profile(subject_path(root, subject))


def save_profile(root: Path, profile: SubjectProfile) -> Path:
    """Write ``profile`` atomically to ``<root>/<subject>/subject.json`` (the folder is created) and return it."""
    path = subject_path(root, profile.subject)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, profile.to_json())
    return path


def update_profile(root: Path, subject: str, **changes: Any) -> SubjectProfile:
    """Apply ``changes`` to the stored profile (or a new, empty one), validate, save and return it.

    Calibrations that the new lengths invalidate are dropped (see :attr:`SubjectProfile.stale_calibrations`)."""
    current = load_profile(root, subject) or SubjectProfile(subject)
    profile = replace(current, **changes)
    stale = profile.stale_calibrations
    if stale:
        profile = replace(
            profile, step_length_calibration=tuple(c for c in profile.step_length_calibration if c not in stale)
        )
    save_profile(root, profile)
    return profile


def parse_side(value: str | None) -> Side | None:
    """CLI spelling of the affected side: 'left', 'right' or 'none' (case-insensitive)."""
    if value is None or value.strip().lower() in ("none", ""):
        return None
    side = value.strip().lower()
    if side not in ("left", "right"):
        raise DataContractError(f"affected side must be left, right or none, not {value!r}")
    return cast(Side, side)


def involved_rows(rows: Sequence[SummaryRow], affected_side: Side) -> tuple[SummaryRow, ...]:
    """Involved/uninvolved copies of every per-side (left and right) catalogue metric, and the oriented SIs.

    Metrics missing from ``rows`` are skipped; an SI whose sides are missing is NaN with n = 0.
    """
    other: Side = "right" if affected_side == "left" else "left"
    by_key = {(r.metric, r.side): r for r in rows}
    out: list[SummaryRow] = []
    for metric in METRICS.values():
        if not {"left", "right"} <= set(metric.sides):
            continue
        for side, label in ((affected_side, "involved"), (other, "uninvolved")):
            row = by_key.get((metric.name, side))
            if row is not None:
                out.append(replace(row, side=label))
    for si, base in INVOLVED_SI:
        inv, uninv = by_key.get((base, affected_side)), by_key.get((base, other))
        n = min(inv.n, uninv.n) if inv is not None and uninv is not None else 0
        value = symmetry_index(inv.value, uninv.value) if inv is not None and uninv is not None and n else math.nan
        # the right-vs-left SI row has the interval; involved-vs-uninvolved is that SI, negated for a left side
        lo = hi = math.nan
        plain = by_key.get((si.replace("_si_involved_pct", "_si_pct"), "both"))
        if plain is not None and n:
            lo, hi = (plain.ci_low, plain.ci_high) if affected_side == "right" else (-plain.ci_high, -plain.ci_low)
        out.append(SummaryRow(si, "both", value, "%", n, lo, hi))
    return tuple(out)


def merge_rows(rows: Sequence[SummaryRow], updates: Sequence[SummaryRow]) -> tuple[SummaryRow, ...]:
    """``rows`` with each (metric, side) of ``updates`` replaced in place, or appended when new."""
    new = {(r.metric, r.side): r for r in updates}
    merged = [new.pop((r.metric, r.side), r) for r in rows]
    return (*merged, *new.values())


def calibration_quality(
    profile: SubjectProfile,
    methods: str,
    cals: Mapping[Method, StepLengthCalibration],
    config: spatial.SpatialConfig | None = None,
) -> dict[str, Any]:
    """Quality entries saying whether the session's combined step length is calibrated, and how.

    The combined length is the pelvis model's when the session has one, else the thighs' (:mod:`pipeline.spatial`),
    so the session counts as calibrated when that model has a current calibration. The factors are the ones
    applied with ``config``'s population factors (:meth:`StepLengthCalibration.factor_for`).
    """
    config = config or spatial.SpatialConfig()
    applied = {m: round(c.factor_for(config), 4) for m, c in cals.items()}
    used = methods.split("+", maxsplit=1)[0] if methods else ""
    cal = next((c for m, c in cals.items() if m == used), None)
    if cal is not None:
        text = cal.describe()
        if not math.isclose(applied[cal.method], cal.factor, rel_tol=1e-4):
            text += (
                f"; applied as ×{applied[cal.method]:.3f} because the model's population factor is now "
                f"{model_factor(cal.method, config):.3f} (was {cal.model_factor:.3f})"
            )
    elif profile.stale_calibrations:
        why = "; ".join(profile.why_stale(c) for c in profile.stale_calibrations)
        text = f"none: the calibration no longer matches the body lengths ({why}); re-run imugait subject calibrate"
    elif cals:
        text = f"none: the calibration is for the {', '.join(cals)} model, this session uses the {used or 'no'} model"
    else:
        text = "none: no calibration walk for this subject (imugait subject calibrate)"
    return {
        "spatial.calibrated": cal is not None,
        "spatial.calibration": text,
        "spatial.calibration_factors": applied,
    }


def extend_summary(
    rows: Sequence[SummaryRow],
    profile: SubjectProfile | None,
    *,
    strides: StrideTable,
    events: GaitEvents,
    fs_hz: float,
    n_samples: int,
    pelvis: PelvisAngles | None,
    thighs: Mapping[str, ThighAngles],
    config: spatial.SpatialConfig | None = None,
) -> tuple[tuple[SummaryRow, ...], dict[str, Any], spatial.SpatialResult | None]:
    """``rows`` with the spatial metrics (when the profile gives a leg length) and the involved/uninvolved rows
    (when it names the affected side), quality entries saying what was used, and the per-stride spatial result
    (None without a leg length)."""
    leg = profile.leg_length if profile is not None else None
    quality: dict[str, Any] = {"subject.profile": profile is not None}
    result = None
    if profile is None or leg is None:
        quality["spatial.method"] = "none: no subject profile with height or leg length (imugait subject set)"
    else:
        cals = {m: c for m in METHODS if (c := profile.calibration_for(m)) is not None}
        pendulum = profile.pendulum_length
        result = spatial.spatial_metrics(
            strides,
            events,
            fs_hz,
            n_samples,
            leg_length_m=leg.value_m,
            pendulum_length_m=profile.pendulum_length_m,
            pelvis=pelvis,
            thighs=thighs,
            factors={m: c.factor_for(config or spatial.SpatialConfig()) for m, c in cals.items()},
            config=config or spatial.SpatialConfig(),
        )
        rows = merge_rows(rows, spatial.summary_rows(result, strides))
        quality.update(
            {
                "spatial.method": result.method or "none: no pelvis and no pair of thighs",
                "subject.leg_length_m": leg.value_m,
                "subject.leg_length_estimated": leg.estimated,
                "subject.pendulum_length_m": profile.pendulum_length_m,
                "subject.pendulum_length_source": pendulum.source if pendulum is not None else None,
            }
        )
        quality.update(spatial.measured_quality(result.bouts))
        quality.update(spatial.gap_quality(result.steps))
        quality.update(calibration_quality(profile, result.method, cals, config))
    if profile is not None and profile.affected_side is not None:
        rows = merge_rows(rows, involved_rows(rows, profile.affected_side))
        quality["subject.affected_side"] = profile.affected_side
    return tuple(rows), quality, result

"""Arrow schemas of every table imugait writes: names, versions, columns, units.

Schemas are code. Each table carries ``imugait.schema`` and ``imugait.schema_version`` in its schema metadata, and
each column with a physical unit carries ``unit`` in its field metadata. Readers call :func:`validate`, which checks
the name, the version, the column names, types and nullability, and says exactly what is wrong.

Changing a schema means bumping its version and teaching :func:`validate` (through ``_UPGRADES``) to read the old
one: recorded sessions are the users' long-term memory, so a newer imugait reads every older session.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline.errors import SchemaMismatchError

SCHEMA_KEY = b"imugait.schema"
VERSION_KEY = b"imugait.schema_version"

SITES: tuple[str, ...] = ("pelvis", "left_thigh", "right_thigh")
SIDES: tuple[str, ...] = ("left", "right")
EVENT_KINDS: tuple[str, ...] = ("IC", "FC")


def _field(
    name: str, type_: pa.DataType, unit: str | None = None, *, nullable: bool = False, doc: str = ""
) -> pa.Field:
    meta = {}
    if unit is not None:
        meta["unit"] = unit
    if doc:
        meta["doc"] = doc
    return pa.field(name, type_, nullable=nullable, metadata=meta or None)


@dataclass(frozen=True)
class TableSchema:
    """A named, versioned Arrow schema."""

    name: str
    version: int
    schema: pa.Schema

    def with_metadata(self, extra: Mapping[str, str] | None = None) -> pa.Schema:
        """The Arrow schema with name, version and ``extra`` (``imugait.``-prefixed keys) as metadata."""
        meta = {SCHEMA_KEY: self.name.encode(), VERSION_KEY: str(self.version).encode()}
        for key, value in (extra or {}).items():
            meta[f"imugait.{key}".encode()] = value.encode()
        return self.schema.with_metadata(meta)

    def unit(self, column: str) -> str | None:
        """The unit recorded for ``column``, or None for unitless columns."""
        meta = self.schema.field(column).metadata or {}
        raw = meta.get(b"unit")
        return raw.decode() if raw is not None else None


RAW_IMU = TableSchema(
    "raw_imu",
    1,
    pa.schema(
        [
            _field("packet", pa.int64(), doc="host-side index of the notification that carried the sample"),
            _field("t_host_ns", pa.int64(), "ns", doc="host monotonic clock when the notification arrived"),
            _field("t_device_us", pa.int64(), "us", nullable=True, doc="device clock, unwrapped, per sample"),
            _field(
                "counter", pa.int64(), nullable=True, doc="device sample counter, unwrapped, where the device has one"
            ),
            _field("acc_x", pa.float32(), "m/s^2"),
            _field("acc_y", pa.float32(), "m/s^2"),
            _field("acc_z", pa.float32(), "m/s^2"),
            _field("gyr_x", pa.float32(), "deg/s"),
            _field("gyr_y", pa.float32(), "deg/s"),
            _field("gyr_z", pa.float32(), "deg/s"),
        ]
    ),
)
"""One sensor's raw stream (``raw/<site>.arrows``): sensor frame, gravity included, SI units."""

EVENTS = TableSchema(
    "gait_events",
    1,
    pa.schema(
        [
            _field("t_s", pa.float64(), "s", doc="seconds from session start on the session timeline"),
            _field("sample", pa.int64(), doc="index on the resampled session grid"),
            _field("side", pa.string(), doc="left | right"),
            _field("event", pa.string(), doc="IC (initial contact) | FC (final contact)"),
            _field("source", pa.string(), doc="sensor site the event was detected from"),
        ]
    ),
)
"""One row per gait event (``derived/events.arrow``). ``t_s``, ``side``, ``event`` are a stable contract."""

_STRIDES_V1_FIELDS = [
    _field("side", pa.string(), doc="left | right: the side whose IC starts the stride"),
    _field("stride", pa.int32(), doc="index of the stride within its side"),
    _field("start_s", pa.float64(), "s", doc="IC opening the stride"),
    _field("end_s", pa.float64(), "s", doc="next IC of the same side (half-open [start_s, end_s))"),
    _field("stride_time_s", pa.float64(), "s"),
    _field("step_time_s", pa.float64(), "s", nullable=True, doc="previous contralateral IC to this IC"),
    _field("stance_time_s", pa.float64(), "s", nullable=True),
    _field("swing_time_s", pa.float64(), "s", nullable=True),
    _field("stance_pct", pa.float64(), "%", nullable=True),
    _field("pelvic_obliquity_range_deg", pa.float64(), "deg", nullable=True),
    _field("pelvic_tilt_range_deg", pa.float64(), "deg", nullable=True),
    _field("pelvic_rotation_range_deg", pa.float64(), "deg", nullable=True),
    _field("pelvic_drop_deg", pa.float64(), "deg", nullable=True, doc="contralateral drop in this stance"),
    _field("thigh_range_deg", pa.float64(), "deg", nullable=True),
    _field("valid", pa.bool_(), doc="steady straight stride used for session statistics"),
]
# Added in version 2 (all nullable, so version-1 files upgrade by adding null columns).
_STRIDES_V2_FIELDS = [
    _field("single_support_time_s", pa.float64(), "s", nullable=True, doc="contralateral swing"),
    _field("single_support_pct", pa.float64(), "%", nullable=True),
    _field("initial_double_support_s", pa.float64(), "s", nullable=True, doc="IC to contralateral FC"),
    _field("initial_double_support_pct", pa.float64(), "%", nullable=True),
    _field("terminal_double_support_s", pa.float64(), "s", nullable=True, doc="contralateral IC to FC"),
    _field("terminal_double_support_pct", pa.float64(), "%", nullable=True),
    _field("double_support_pct", pa.float64(), "%", nullable=True),
    _field("phase_deg", pa.float64(), "deg", nullable=True, doc="Plotnik step phase of the contralateral IC"),
    _field("pelvic_hike_deg", pa.float64(), "deg", nullable=True, doc="swing-side hip rise in this swing"),
    _field("pelvic_tilt_mean_deg", pa.float64(), "deg", nullable=True, doc="mean tilt relative to standing"),
    _field("step_length_m", pa.float64(), "m", nullable=True, doc="step ending at the stride's closing IC"),
    _field("stride_length_m", pa.float64(), "m", nullable=True),
    _field("speed_m_s", pa.float64(), "m/s", nullable=True, doc="stride length / stride time"),
]

# Added in version 3. Versions 1 and 2 upgrade with ``opening_valid = valid`` (see ``_strides_v2_to_v3``).
_STRIDES_V3_FIELDS = [
    _field(
        "opening_valid",
        pa.bool_(),
        nullable=True,
        doc="the stride's opening-IC times count (step, stance, single support, initial and terminal double "
        "support) even when the whole stride does not: its closing IC was lost; true for every valid stride",
    ),
]

STRIDES = TableSchema("gait_strides", 3, pa.schema(_STRIDES_V1_FIELDS + _STRIDES_V2_FIELDS + _STRIDES_V3_FIELDS))
"""One row per stride and side (``derived/strides.arrow``)."""

_SUMMARY_V1_FIELDS = [
    _field("metric", pa.string(), doc="metric name (pipeline.catalog; summary.csv adds its label)"),
    _field("side", pa.string(), doc="left | right | both"),
    _field(
        "value",
        pa.float64(),
        nullable=True,
        doc="the session value, in the unit column; NaN when there was not enough data",
    ),
    _field("unit", pa.string(), doc="unit of value and of the interval"),
    _field("n", pa.int64(), doc="number of strides or events behind the value"),
]
# Added in version 2 (nullable: version-1 sessions upgrade with null intervals until they are re-processed).
_SUMMARY_V2_FIELDS = [
    _field("ci_low", pa.float64(), nullable=True, doc="95 % within-session interval, lower end (value's unit)"),
    _field("ci_high", pa.float64(), nullable=True, doc="95 % within-session interval, upper end (value's unit)"),
]

SUMMARY = TableSchema("gait_summary", 2, pa.schema(_SUMMARY_V1_FIELDS + _SUMMARY_V2_FIELDS))
"""Session-level metrics in long form (``derived/summary.arrow``): new metrics need no schema change."""

_BOUTS_V1_FIELDS = [
    _field("bout", pa.int32(), doc="bout number in the session, from 0"),
    _field("start_s", pa.float64(), "s", doc="first IC of the bout's first stride"),
    _field("end_s", pa.float64(), "s", doc="closing IC of its last stride"),
    _field("duration_s", pa.float64(), "s", doc="end_s - start_s"),
    _field("n_strides", pa.int64(), doc="strides of either side starting in the bout"),
    _field("n_steps", pa.int64(), doc="steps with a length (0 without a subject profile)"),
    _field("distance_m", pa.float64(), "m", nullable=True, doc="sum of the lengths of its steps that have one"),
    _field(
        "speed_m_s",
        pa.float64(),
        "m/s",
        nullable=True,
        doc="distance over time: mean step length x cadence from every IC, pauses included",
    ),
]
# Added in version 2 (nullable: version-1 files upgrade with null columns until re-processed). The Mobilise-D /
# INDIP bout definitions: means over the bout's strides.
_BOUTS_V2_FIELDS = [
    _field("stride_speed_m_s", pa.float64(), "m/s", nullable=True, doc="mean of the bout's stride speeds"),
    _field("cadence_spm", pa.float64(), "steps/min", nullable=True, doc="mean of 120 / stride time"),
    _field("stride_length_m", pa.float64(), "m", nullable=True, doc="mean of the bout's stride lengths"),
]

# Added in version 3 (nullable, as above): how much of the bout its stride values rest on.
_BOUTS_V3_FIELDS = [
    _field(
        "measured_share",
        pa.float64(),
        "fraction",
        nullable=True,
        doc="share of the bout's time inside strides with a length (0-1); under 0.5 the lengths and speeds of the "
        "bout likely read high (pipeline.spatial.measured_share)",
    ),
]

BOUTS = TableSchema("walking_bouts", 3, pa.schema(_BOUTS_V1_FIELDS + _BOUTS_V2_FIELDS + _BOUTS_V3_FIELDS))
"""Walking bouts: runs of strides with no pause longer than 0.5 s (``derived/bouts.arrow``)."""

CYCLES = TableSchema(
    "gait_cycles",
    1,
    pa.schema(
        [
            _field("side", pa.string(), doc="stance side whose IC→IC cycle the curve is normalised to"),
            _field("signal", pa.string(), doc="e.g. pelvic_obliquity_deg, thigh_sagittal_deg"),
            _field("unit", pa.string(), doc="unit of mean and sd"),
            _field("pct", pa.float64(), "%", doc="gait cycle, 0 = IC, 100 = next IC of the same side"),
            _field(
                "mean", pa.float64(), nullable=True, doc="mean over the side's valid strides at this point of the cycle"
            ),
            _field("sd", pa.float64(), nullable=True, doc="standard deviation over the same strides"),
            _field("n", pa.int64(), doc="valid strides averaged"),
        ]
    ),
)
"""Gait-cycle-normalised mean ± SD curves per side (``derived/cycles.arrow``), long form."""

_COMPENSATION_V2_FIELDS = (
    _field(
        "status",
        pa.string(),
        doc="flagged | unclear (value beyond the threshold, its 95 % interval not) | within | not_assessed",
    ),
)

COMPENSATION = TableSchema(
    "compensation_report",
    2,
    pa.schema(
        [
            _field("pattern", pa.string(), doc="e.g. antalgic_gait, trendelenburg, hip_hiking"),
            _field("label", pa.string(), doc="human-readable pattern name"),
            _field("indicator", pa.string(), doc="metric name from the catalogue"),
            _field("side", pa.string(), doc="left | right | both | involved | uninvolved"),
            _field("value", pa.float64(), nullable=True, doc="the indicator's session value, in the unit column"),
            _field("threshold", pa.float64(), nullable=True, doc="healthy noise floor it is compared with"),
            _field("unit", pa.string(), doc="unit of value and threshold"),
            _field("flagged", pa.bool_(), doc="value beyond the healthy noise-floor threshold"),
            _field("note", pa.string(), doc="wording for the clinician: an indicator to review, not a diagnosis"),
            *_COMPENSATION_V2_FIELDS,
        ]
    ),
)
"""Compensation patterns mapped to their indicator metrics (``derived/compensation.arrow``)."""

TURNS = TableSchema(
    "turns",
    1,
    pa.schema(
        [
            _field("turn", pa.int32(), doc="turn number in the session, from 0"),
            _field("start_s", pa.float64(), "s", doc="5 % of the heading change covered (pipeline.turns)"),
            _field("end_s", pa.float64(), "s", doc="95 % of the heading change covered"),
            _field("duration_s", pa.float64(), "s", doc="end_s - start_s"),
            _field("angle_deg", pa.float64(), "deg", doc="heading change, + = to the left"),
            _field("direction", pa.string(), doc="left | right"),
            _field("mean_rate_dps", pa.float64(), "deg/s", nullable=True, doc="|angle| / duration"),
            _field("steps", pa.int64(), doc="initial contacts (either side) from start to end"),
            _field(
                "complete",
                pa.bool_(),
                doc="False when a sensor gap over 0.5 s or the recording's start or end cuts into the turn",
            ),
        ]
    ),
)
"""Turns of at least 45° (``derived/turns.arrow``) from the pelvis heading, or the thighs' without a pelvis sensor."""

ALL: Mapping[str, TableSchema] = {
    s.name: s for s in (RAW_IMU, EVENTS, STRIDES, SUMMARY, BOUTS, CYCLES, COMPENSATION, TURNS)
}


def _add_null_columns(fields: Sequence[pa.Field], version: int) -> Callable[[pa.Table], pa.Table]:
    """An upgrade that appends ``fields`` (nullable) as null columns and records ``version``."""

    def upgrade_(table: pa.Table) -> pa.Table:
        for f in fields:
            if f.name not in table.column_names:
                table = table.append_column(f, pa.nulls(table.num_rows, f.type))
        meta = dict(table.schema.metadata or {})
        meta[VERSION_KEY] = str(version).encode()
        return table.replace_schema_metadata(meta)

    return upgrade_


def _strides_v2_to_v3(table: pa.Table) -> pa.Table:
    """``opening_valid`` = ``valid``, not null: the pipelines that wrote versions 1 and 2 computed every session
    statistic, step, stance and support times included, from the valid strides, so this is exactly the set of
    strides behind the times in the session's stored summary. (Only development builds of pipeline 1.1 written
    after the flag existed but before it was stored counted more strides for those times; re-processing fixes
    their tables.)"""
    f = _STRIDES_V3_FIELDS[0]
    table = table.append_column(f, table.column("valid").cast(f.type))
    meta = dict(table.schema.metadata or {})
    meta[VERSION_KEY] = b"3"
    return table.replace_schema_metadata(meta)


def _compensation_v1_to_v2(table: pa.Table) -> pa.Table:
    """``status`` from what version 1 knew: flagged, no value (not assessed), else within. Version 1 flagged on the
    value alone, so it had no "unclear" rows."""
    flagged = table.column("flagged").to_pylist()
    value = table.column("value").to_pylist()
    status = [
        "flagged" if f else "not_assessed" if v is None or math.isnan(v) else "within"
        for f, v in zip(flagged, value, strict=True)
    ]
    table = table.append_column(_COMPENSATION_V2_FIELDS[0], pa.array(status, pa.string()))
    meta = dict(table.schema.metadata or {})
    meta[VERSION_KEY] = b"2"
    return table.replace_schema_metadata(meta)


# (name, version found) -> function turning a table of that version into the next one. Each version bump adds an
# entry here and a test that reads a file written by the old version (tests/data/sessions_v1).
_UPGRADES: dict[tuple[str, int], Callable[[pa.Table], pa.Table]] = {
    ("gait_strides", 1): _add_null_columns(_STRIDES_V2_FIELDS, 2),
    ("gait_strides", 2): _strides_v2_to_v3,
    ("gait_summary", 1): _add_null_columns(_SUMMARY_V2_FIELDS, 2),
    ("compensation_report", 1): _compensation_v1_to_v2,
    ("walking_bouts", 1): _add_null_columns(_BOUTS_V2_FIELDS, 2),
    ("walking_bouts", 2): _add_null_columns(_BOUTS_V3_FIELDS, 3),
}


def schema_identity(schema: pa.Schema) -> tuple[str | None, int | None]:
    """The (name, version) recorded in a schema's metadata, None where absent or unreadable."""
    meta = schema.metadata or {}
    name = meta.get(SCHEMA_KEY)
    version = meta.get(VERSION_KEY)
    try:
        parsed = int(version) if version is not None else None
    except ValueError:
        parsed = None
    return (name.decode(errors="replace") if name is not None else None), parsed


def table_metadata(schema: pa.Schema) -> dict[str, str]:
    """The ``imugait.*`` metadata of a schema, keys without the prefix (bytes that are not UTF-8, a corrupt file's,
    read as U+FFFD rather than failing the read)."""
    out = {}
    for key, value in (schema.metadata or {}).items():
        if key.startswith(b"imugait."):
            out[key.decode(errors="replace")[len("imugait.") :]] = value.decode(errors="replace")
    return out


def validate_schema(actual: pa.Schema, expected: TableSchema, *, path: Path | None = None) -> None:
    """Raise :class:`SchemaMismatchError` unless ``actual`` is ``expected`` (name, version, columns, types).

    Extra columns are allowed (a newer writer may add optional columns); missing columns, type changes and
    nullability widening on a required column are not.
    """
    name, version = schema_identity(actual)
    if name is None:
        raise SchemaMismatchError(
            f"not an imugait table (no '{SCHEMA_KEY.decode()}' metadata); expected a {expected.name} table",
            path=path,
            expected=expected.name,
            actual="none",
        )
    if name != expected.name:
        raise SchemaMismatchError(
            f"is a '{name}' table, expected '{expected.name}'", path=path, expected=expected.name, actual=name
        )
    if version is None or version > expected.version:
        raise SchemaMismatchError(
            f"{name} schema version {version} is newer than this imugait understands ({expected.version}); "
            "upgrade imugait to read it",
            path=path,
            expected=str(expected.version),
            actual=str(version),
        )
    if version < expected.version and (name, version) not in _UPGRADES:
        raise SchemaMismatchError(
            f"{name} schema version {version} has no upgrade path to {expected.version}",
            path=path,
            expected=str(expected.version),
            actual=str(version),
        )
    if version < expected.version:
        return  # columns are checked after the upgrade, by read_table
    for want in expected.schema:
        idx = actual.get_field_index(want.name)
        if idx < 0:
            raise SchemaMismatchError(
                f"column '{want.name}' is missing from the {name} table",
                path=path,
                expected=want.name,
                actual=", ".join(actual.names),
            )
        got = actual.field(idx)
        if not got.type.equals(want.type):
            raise SchemaMismatchError(
                f"column '{want.name}' has type {got.type}, expected {want.type}",
                path=path,
                expected=str(want.type),
                actual=str(got.type),
            )
        if got.nullable and not want.nullable:
            raise SchemaMismatchError(
                f"column '{want.name}' is nullable but the {name} schema requires values",
                path=path,
                expected="not null",
                actual="nullable",
            )


def upgrade(table: pa.Table, expected: TableSchema) -> pa.Table:
    """Bring a validated table of an older version up to ``expected``'s version."""
    _, version = schema_identity(table.schema)
    while version is not None and version < expected.version:
        table = _UPGRADES[(expected.name, version)](table)
        _, version = schema_identity(table.schema)
    return table


def dumps_meta(value: Any) -> str:
    """JSON for a metadata value (sorted keys, so equal metadata compares equal)."""
    return json.dumps(value, sort_keys=True, default=str)

"""The session store: one folder per session, ``session.json``, raw Arrow streams and derived tables.

Layout (schema v1)::

    <root>/<subject>/<session_id>/
        session.json              subject, start, sensors, status, app version
        raw/<site>.arrows         one Arrow IPC *stream* per sensor, flushed at least once a second
        derived/events.arrow      Arrow IPC files written atomically by ``imugait process``
        derived/strides.arrow
        derived/summary.arrow

Nothing here ever overwrites recorded data: new sessions get a fresh folder (``create_session`` refuses to reuse
one), raw streams are opened exclusively, and derived tables are replaced atomically (write, then rename).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
from pyarrow import ipc

from pipeline._raw import RawBatch, RawStream, RawStreamWriter, StorageError, raw_schema_metadata, read_raw
from pipeline.errors import DataContractError, SchemaMismatchError, SessionNotFoundError
from pipeline.schemas import SITES, TableSchema, schema_identity, table_metadata, upgrade, validate_schema

SESSION_FORMAT = 1
DATA_ENV = "IMUGAIT_DATA"
Status = Literal["recording", "complete", "interrupted"]

__all__ = [
    "DATA_ENV",
    "RawBatch",
    "RawStream",
    "RawStreamWriter",
    "SensorInfo",
    "Session",
    "SessionMeta",
    "StorageError",
    "create_session",
    "default_data_root",
    "iter_sessions",
    "load_session",
    "raw_schema_metadata",
    "read_raw",
    "read_table",
    "write_table",
]
_ID_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def app_version() -> str:
    """The installed imugait version (``0+unknown`` when run from a source tree that is not installed)."""
    try:
        return importlib_metadata.version("imugait")
    except importlib_metadata.PackageNotFoundError:
        return "0+unknown"


def default_data_root() -> Path:
    """``$IMUGAIT_DATA`` if set, else the per-user data directory (e.g. ``~/.local/share/imugait``)."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("imugait", appauthor=False))


def check_identifier(value: str, what: str) -> str:
    """Validate a subject or session id: it becomes a folder name on every OS."""
    if not _ID_SAFE.match(value):
        raise DataContractError(
            f"{what} {value!r} is not usable as a folder name: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


@dataclass(frozen=True)
class SensorInfo:
    """One sensor of a session: where it was worn and what it was."""

    site: str
    family: str  # device family codec name, e.g. "movesense", or "imported"
    model: str = ""
    address: str = ""
    name: str = ""
    firmware: str = ""
    rate_hz: float = 0.0
    acc_range_g: float | None = None
    gyr_range_dps: float | None = None

    def __post_init__(self) -> None:
        if self.site not in SITES:
            raise DataContractError(f"unknown sensor site {self.site!r}; expected one of {', '.join(SITES)}")


@dataclass(frozen=True)
class SessionMeta:
    """The content of ``session.json``."""

    subject: str
    session_id: str
    start_utc: str  # ISO-8601, UTC
    sensors: tuple[SensorInfo, ...]
    status: Status = "recording"
    label: str = ""
    notes: str = ""
    app_version: str = field(default_factory=app_version)
    clock: str = "monotonic"  # host clock behind t_host_ns: "monotonic", "simulated" or "imported"
    host_t0_ns: int = 0  # host clock at session start; session time 0
    source: str = "ble"  # "ble", "simulator", "replay", "import"
    extra: Mapping[str, Any] = field(default_factory=dict)
    format: int = SESSION_FORMAT

    def to_json(self) -> str:
        """Serialise for ``session.json``."""
        data = asdict(self)
        data["sensors"] = [asdict(s) for s in self.sensors]
        data["extra"] = dict(self.extra)
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, *, path: Path | None = None) -> SessionMeta:
        """Parse ``session.json``; raise :class:`DataContractError` naming the problem."""
        data = read_json_object(text, "session", SESSION_FORMAT, path=path)
        missing = [k for k in ("subject", "session_id", "start_utc", "sensors") if k not in data]
        if missing:
            raise DataContractError(f"session.json lacks {', '.join(missing)}", path=path)
        known = set(cls.__dataclass_fields__)
        try:
            sensors = tuple(SensorInfo(**s) for s in data["sensors"])
            kwargs = {k: v for k, v in data.items() if k in known and k != "sensors"}
            return cls(sensors=sensors, **kwargs)
        except TypeError as exc:
            raise DataContractError(f"session.json has an unexpected field ({exc})", path=path) from exc

    @property
    def start(self) -> datetime:
        """Start as an aware UTC datetime."""
        return datetime.fromisoformat(self.start_utc)


@dataclass(frozen=True)
class Session:
    """A session folder and its metadata."""

    path: Path
    meta: SessionMeta

    @property
    def raw_dir(self) -> Path:
        """``raw/``: one ``<site>.arrows`` per sensor."""
        return self.path / "raw"

    @property
    def derived_dir(self) -> Path:
        """``derived/``: tables written by ``imugait process``."""
        return self.path / "derived"

    def raw_path(self, site: str) -> Path:
        """The raw stream file of one site."""
        return self.raw_dir / f"{site}.arrows"

    def raw_sites(self) -> list[str]:
        """Sites with a raw stream file on disk, in canonical order."""
        return [s for s in SITES if self.raw_path(s).exists()]

    def derived_path(self, name: str) -> Path:
        """A derived table, e.g. ``derived_path("events")``."""
        return self.derived_dir / f"{name}.arrow"

    def is_processed(self) -> bool:
        """True when the summary table exists."""
        return self.derived_path("summary").exists()

    def processed_with(self) -> str | None:
        """The pipeline version that wrote the derived tables (``pipeline_version`` in the summary's metadata);
        None when the session is unprocessed or its summary cannot be read."""
        path = self.derived_path("summary")
        try:
            with pa.memory_map(str(path), "r") as source:
                metadata = table_metadata(ipc.open_file(source).schema)
        except (pa.ArrowInvalid, OSError, UnicodeDecodeError):
            return None
        return metadata.get("pipeline_version")

    def update(self, **changes: Any) -> Session:
        """Rewrite ``session.json`` atomically with ``changes`` applied and return the new Session."""
        meta = replace(self.meta, **changes)
        atomic_write_text(self.path / "session.json", meta.to_json())
        return Session(self.path, meta)


def new_session_id(start: datetime) -> str:
    """A sortable, filesystem-safe id from a start time, e.g. ``20261121T084012Z``."""
    return start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def create_session(
    root: Path,
    subject: str,
    sensors: tuple[SensorInfo, ...],
    *,
    start: datetime | None = None,
    label: str = "",
    notes: str = "",
    clock: str = "monotonic",
    host_t0_ns: int = 0,
    source: str = "ble",
    extra: Mapping[str, Any] | None = None,
) -> Session:
    """Make a new session folder under ``root/subject`` and write its ``session.json`` (status ``recording``).

    Never reuses a folder: when the id derived from ``start`` exists, a ``-2``, ``-3``... suffix is added.
    """
    check_identifier(subject, "subject id")
    start = (start or datetime.now(UTC)).astimezone(UTC)
    base = new_session_id(start)
    subject_dir = root / subject
    try:
        subject_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create the data folder ({exc.strerror})", path=subject_dir) from exc
    for n in range(1, 1000):
        session_id = base if n == 1 else f"{base}-{n}"
        path = subject_dir / session_id
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise StorageError(f"cannot create the session folder ({exc.strerror})", path=path) from exc
        (path / "raw").mkdir()
        (path / "derived").mkdir()
        meta = SessionMeta(
            subject=subject,
            session_id=session_id,
            start_utc=start.isoformat(),
            sensors=sensors,
            label=label,
            notes=notes,
            clock=clock,
            host_t0_ns=host_t0_ns,
            source=source,
            extra=dict(extra or {}),
        )
        atomic_write_text(path / "session.json", meta.to_json())
        return Session(path, meta)
    raise StorageError("too many sessions started in the same second", path=subject_dir)


def load_session(path: Path) -> Session:
    """Open a session folder; raise :class:`SessionNotFoundError` if it holds no ``session.json``."""
    path = Path(path)
    meta_path = path / "session.json"
    if not meta_path.is_file():
        raise SessionNotFoundError(
            "no session.json here; pass a session folder <root>/<subject>/<session_id>", path=path
        )
    return Session(path, SessionMeta.from_json(meta_path.read_text(encoding="utf-8"), path=meta_path))


def iter_sessions(root: Path) -> Iterator[Session]:
    """Every readable session below ``root`` (a data root, a subject folder, or one session), oldest first.

    Folders with a broken ``session.json`` are skipped here; ``load_session`` on them says what is wrong.
    """
    root = Path(root)
    if (root / "session.json").is_file():
        yield load_session(root)
        return
    found = []
    for meta_path in sorted(root.glob("*/session.json")) + sorted(root.glob("*/*/session.json")):
        try:
            found.append(load_session(meta_path.parent))
        except DataContractError:
            continue
    yield from sorted(found, key=lambda s: (s.meta.start_utc, s.meta.subject, s.meta.session_id))


# ---------------------------------------------------------------------------------------------------------------
# Derived tables


def write_table(path: Path, table: pa.Table, schema: TableSchema, metadata: Mapping[str, str] | None = None) -> None:
    """Write a derived table as an Arrow IPC file, atomically (a reader never sees half a file)."""
    full = schema.with_metadata(metadata)
    missing = [f for f in full if f.name not in table.column_names]
    required = [f.name for f in missing if not f.nullable]
    if required:
        raise DataContractError(f"cannot write a {schema.name} table without {', '.join(required)}", path=path)
    for f in missing:  # optional columns the producer could not compute are written as nulls
        table = table.append_column(f.name, pa.nulls(table.num_rows, f.type))
    table = table.select(full.names).cast(full)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with pa.OSFile(str(tmp), "wb") as sink, ipc.new_file(sink, full) as writer:
            writer.write_table(table)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StorageError(f"cannot write the table ({exc.strerror or exc})", path=path) from exc


def read_table(path: Path, schema: TableSchema) -> pa.Table:
    """Read and validate a derived table; errors name the file and the problem."""
    path = Path(path)
    if not path.is_file():
        raise DataContractError(f"{schema.name} table not found; run 'imugait process' on the session", path=path)
    try:
        with pa.memory_map(str(path), "r") as source:
            table = ipc.open_file(source).read_all()
    except (pa.ArrowInvalid, OSError) as exc:
        raise SchemaMismatchError(f"not a readable Arrow IPC file ({exc})", path=path) from exc
    validate_schema(table.schema, schema, path=path)
    table = upgrade(table, schema)
    validate_schema(table.schema, schema, path=path)  # the upgraded table must meet the current schema
    return table


def table_identity(path: Path) -> tuple[str | None, int | None]:
    """(schema name, version) of an Arrow file or stream, for diagnostics."""
    with pa.memory_map(str(path), "r") as source:
        try:
            schema = ipc.open_file(source).schema
        except pa.ArrowInvalid:
            source.seek(0)
            schema = ipc.open_stream(source).schema
    return schema_identity(schema)


def read_json_object(text: str, kind: str, newest_format: int, *, path: Path | None = None) -> dict[str, Any]:
    """Parse ``<kind>.json``: a JSON object whose ``format`` (default 1) this imugait understands."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataContractError(f"{kind}.json is not valid JSON ({exc})", path=path) from exc
    if not isinstance(data, dict):
        raise DataContractError(f"{kind}.json must hold a JSON object", path=path)
    fmt = data.get("format", 1)
    if not isinstance(fmt, int) or isinstance(fmt, bool) or fmt > newest_format:
        raise DataContractError(
            f"{kind} format {fmt} is newer than this imugait understands ({newest_format}); upgrade imugait",
            path=path,
        )
    return data


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path``'s content atomically: a reader sees the old file or the new one, never half of either."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """:func:`atomic_write_text` for bytes."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StorageError(f"cannot write ({exc.strerror or exc})", path=path) from exc

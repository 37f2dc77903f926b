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

import errno
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, BinaryIO, Literal

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray
from pyarrow import ipc

from pipeline.errors import DataContractError, ImuGaitError, SchemaMismatchError, SessionNotFoundError
from pipeline.schemas import RAW_IMU, SITES, TableSchema, schema_identity, table_metadata, upgrade, validate_schema

SESSION_FORMAT = 1
DATA_ENV = "IMUGAIT_DATA"
Status = Literal["recording", "complete", "interrupted"]
_ID_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class StorageError(ImuGaitError):
    """The disk refused a write (full, read-only, gone). What was flushed before is intact."""

    def __init__(self, message: str, *, path: Path) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


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
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataContractError(f"session.json is not valid JSON ({exc})", path=path) from exc
        if not isinstance(data, dict):
            raise DataContractError("session.json must hold a JSON object", path=path)
        fmt = data.get("format", 1)
        if not isinstance(fmt, int) or fmt > SESSION_FORMAT:
            raise DataContractError(
                f"session format {fmt} is newer than this imugait understands ({SESSION_FORMAT}); upgrade imugait",
                path=path,
            )
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

    def update(self, **changes: Any) -> Session:
        """Rewrite ``session.json`` atomically with ``changes`` applied and return the new Session."""
        meta = replace(self.meta, **changes)
        _atomic_write_text(self.path / "session.json", meta.to_json())
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
        _atomic_write_text(path / "session.json", meta.to_json())
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
# Raw streams


@dataclass(frozen=True)
class RawBatch:
    """Samples to append to a raw stream; all arrays share length n."""

    packet: NDArray[np.int64]
    t_host_ns: NDArray[np.int64]
    t_device_us: NDArray[np.int64] | None
    counter: NDArray[np.int64] | None
    acc: NDArray[np.floating[Any]]  # (n, 3) m/s²
    gyr: NDArray[np.floating[Any]]  # (n, 3) deg/s

    def __len__(self) -> int:
        return int(self.packet.shape[0])


def raw_schema_metadata(session: Session, sensor: SensorInfo) -> dict[str, str]:
    """The ``imugait.*`` provenance carried by a raw stream's schema."""
    return {
        "site": sensor.site,
        "session_id": session.meta.session_id,
        "subject": session.meta.subject,
        "device": json.dumps(asdict(sensor), sort_keys=True),
        "app_version": session.meta.app_version,
        "frame": "sensor",
        "clock": session.meta.clock,
    }


def _batch_table(batch: RawBatch, schema: pa.Schema) -> pa.RecordBatch:
    n = len(batch)
    acc = np.asarray(batch.acc, dtype=np.float32).reshape(n, 3)
    gyr = np.asarray(batch.gyr, dtype=np.float32).reshape(n, 3)
    null64 = pa.nulls(n, pa.int64())
    columns = [
        pa.array(batch.packet, pa.int64()),
        pa.array(batch.t_host_ns, pa.int64()),
        pa.array(batch.t_device_us, pa.int64()) if batch.t_device_us is not None else null64,
        pa.array(batch.counter, pa.int64()) if batch.counter is not None else null64,
        *(pa.array(acc[:, i]) for i in range(3)),
        *(pa.array(gyr[:, i]) for i in range(3)),
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


class RawStreamWriter:
    """Append-only writer of one sensor's ``raw/<site>.arrows`` (Arrow IPC stream).

    Rows are buffered and written as a record batch at least every ``flush_s`` seconds of host time, then flushed
    to the OS and fsync'ed, so a killed process loses at most ``flush_s`` of data. The file is opened in exclusive
    mode: an existing recording is never overwritten.
    """

    def __init__(self, path: Path, metadata: Mapping[str, str], *, flush_s: float = 0.5) -> None:
        self.path = Path(path)
        self.flush_s = flush_s
        self.schema = RAW_IMU.with_metadata(metadata)
        self.rows_written = 0
        self._pending: list[RawBatch] = []
        self._last_flush_ns: int | None = None
        try:
            self._file: BinaryIO = self.path.open("xb")
        except FileExistsError as exc:
            raise StorageError("a raw stream already exists here; refusing to overwrite it", path=self.path) from exc
        except OSError as exc:
            raise StorageError(f"cannot create the raw stream ({exc.strerror})", path=self.path) from exc
        self._writer = ipc.new_stream(self._file, self.schema)
        self._sync()

    def append(self, batch: RawBatch, *, now_ns: int) -> None:
        """Queue samples; write them out once ``flush_s`` has passed since the last write."""
        if len(batch):
            self._pending.append(batch)
        if self._last_flush_ns is None:
            self._last_flush_ns = now_ns
        if now_ns - self._last_flush_ns >= self.flush_s * 1e9:
            self.flush(now_ns=now_ns)

    def flush(self, *, now_ns: int | None = None) -> None:
        """Write every queued sample as one record batch and push it to the disk."""
        if now_ns is not None:
            self._last_flush_ns = now_ns
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        merged = RawBatch(
            packet=np.concatenate([b.packet for b in pending]),
            t_host_ns=np.concatenate([b.t_host_ns for b in pending]),
            t_device_us=None
            if any(b.t_device_us is None for b in pending)
            else np.concatenate([b.t_device_us for b in pending if b.t_device_us is not None]),
            counter=None
            if any(b.counter is None for b in pending)
            else np.concatenate([b.counter for b in pending if b.counter is not None]),
            acc=np.concatenate([b.acc for b in pending]),
            gyr=np.concatenate([b.gyr for b in pending]),
        )
        try:
            self._writer.write_batch(_batch_table(merged, self.schema))
            self._sync()
        except OSError as exc:
            # The batch that failed is lost (at most flush_s); earlier batches are complete on disk.
            raise StorageError(f"writing the raw stream failed ({exc.strerror or exc})", path=self.path) from exc
        self.rows_written += len(merged)

    def _sync(self) -> None:
        self._file.flush()
        try:
            os.fsync(self._file.fileno())
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.ENOTSUP):  # some filesystems cannot fsync; flushed is enough
                raise

    def close(self) -> None:
        """Flush what is queued and end the stream cleanly."""
        try:
            self.flush()
        finally:
            try:
                self._writer.close()
                self._file.close()
            except OSError:
                self._file.close()


@dataclass(frozen=True)
class RawStream:
    """A raw stream read back: columns as numpy arrays plus provenance."""

    path: Path
    site: str
    metadata: Mapping[str, str]
    packet: NDArray[np.int64]
    t_host_ns: NDArray[np.int64]
    t_device_us: NDArray[np.int64] | None  # None when the device has no clock
    counter: NDArray[np.int64] | None
    acc: NDArray[np.float64]  # (n, 3) m/s²
    gyr: NDArray[np.float64]  # (n, 3) deg/s
    truncated: bool  # the file ended part-way through a message (a crash); every complete batch is here

    def __len__(self) -> int:
        return int(self.packet.shape[0])

    @property
    def device(self) -> SensorInfo:
        """The sensor description stored with the stream."""
        return SensorInfo(**json.loads(self.metadata["device"]))


def read_raw(path: Path) -> RawStream:
    """Read a raw stream, tolerating a torn last message (a recording killed mid-write).

    Raises :class:`SchemaMismatchError` for files that are not imugait raw streams.
    """
    path = Path(path)
    try:
        source = pa.memory_map(str(path), "r")
    except FileNotFoundError as exc:
        raise DataContractError("raw stream file not found", path=path) from exc
    try:
        reader = ipc.open_stream(source)
    except (pa.ArrowInvalid, OSError) as exc:
        raise SchemaMismatchError(
            f"not an Arrow IPC stream ({exc}); raw files must be written by imugait", path=path
        ) from exc
    validate_schema(reader.schema, RAW_IMU, path=path)
    batches = []
    truncated = False
    while True:
        try:
            batches.append(reader.read_next_batch())
        except StopIteration:
            break
        except (pa.ArrowInvalid, OSError):
            truncated = True
            break
    table = upgrade(pa.Table.from_batches(batches, schema=reader.schema), RAW_IMU)
    meta = table_metadata(reader.schema)

    def ints(name: str) -> NDArray[np.int64] | None:
        col = table.column(name)
        if len(col) and col.null_count == len(col):
            return None
        if col.null_count:
            return np.asarray(col.fill_null(-1).to_numpy(), dtype=np.int64)
        return np.asarray(col.to_numpy(), dtype=np.int64)

    def vec(prefix: str) -> NDArray[np.float64]:
        return np.column_stack([table.column(f"{prefix}_{a}").to_numpy().astype(np.float64) for a in "xyz"]).reshape(
            -1, 3
        )

    return RawStream(
        path=path,
        site=meta.get("site", path.stem),
        metadata=meta,
        packet=np.asarray(table.column("packet").to_numpy(), dtype=np.int64),
        t_host_ns=np.asarray(table.column("t_host_ns").to_numpy(), dtype=np.int64),
        t_device_us=ints("t_device_us"),
        counter=ints("counter"),
        acc=vec("acc"),
        gyr=vec("gyr"),
        truncated=truncated,
    )


# ---------------------------------------------------------------------------------------------------------------
# Derived tables


def write_table(path: Path, table: pa.Table, schema: TableSchema, metadata: Mapping[str, str] | None = None) -> None:
    """Write a derived table as an Arrow IPC file, atomically (a reader never sees half a file)."""
    full = schema.with_metadata(metadata)
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
    return upgrade(table, schema)


def table_identity(path: Path) -> tuple[str | None, int | None]:
    """(schema name, version) of an Arrow file or stream, for diagnostics."""
    with pa.memory_map(str(path), "r") as source:
        try:
            schema = ipc.open_file(source).schema
        except pa.ArrowInvalid:
            source.seek(0)
            schema = ipc.open_stream(source).schema
    return schema_identity(schema)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StorageError(f"cannot write ({exc.strerror or exc})", path=path) from exc

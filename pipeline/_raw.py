"""Raw sensor streams: one Arrow IPC *stream* per sensor, appended and flushed while recording.

Public names are re-exported by :mod:`pipeline.store`; import them from there.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray
from pyarrow import ipc

from pipeline.errors import DataContractError, ImuGaitError, SchemaMismatchError
from pipeline.schemas import RAW_IMU, table_metadata, upgrade, validate_schema

if TYPE_CHECKING:
    from pipeline.store import SensorInfo, Session


class StorageError(ImuGaitError):
    """The disk refused a write (full, read-only, gone). What was flushed before is intact."""

    def __init__(self, message: str, *, path: Path) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


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
        from pipeline.store import SensorInfo

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
        # A corrupt byte can leave a signalling NaN, which raises the "invalid" flag when widened; it stays a NaN,
        # and the timeline counts the sample as unusable
        with np.errstate(invalid="ignore"):
            columns = [table.column(f"{prefix}_{a}").to_numpy().astype(np.float64) for a in "xyz"]
        return np.column_stack(columns).reshape(-1, 3)

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

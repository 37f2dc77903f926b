"""The session store's contract: layout, round trips, crash tolerance, clear errors, nothing overwritten."""

from __future__ import annotations

import errno
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import store
from pipeline.errors import DataContractError, SchemaMismatchError, SessionNotFoundError
from pipeline.schemas import EVENTS, RAW_IMU, SUMMARY

PELVIS = store.SensorInfo("pelvis", "movesense", model="Movesense (GSP)", address="AA:BB", rate_hz=104.0)


def _batch(n: int, start: int = 0, with_device: bool = True) -> store.RawBatch:
    idx = np.arange(start, start + n)
    return store.RawBatch(
        packet=idx // 8,
        t_host_ns=idx * 9_615_385,
        t_device_us=idx * 9615 if with_device else None,
        counter=None,
        acc=np.column_stack([idx * 0.01, -idx * 0.02, np.full(n, 9.81)]),
        gyr=np.column_stack([np.sin(idx), np.cos(idx), idx * 0.5]),
    )


def _new(tmp_path: Path) -> store.Session:
    return store.create_session(tmp_path, "P01", (PELVIS,), start=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))


def test_create_session_layout_and_metadata(tmp_path: Path) -> None:
    session = _new(tmp_path)
    assert session.path == tmp_path / "P01" / "20260102T030405Z"
    assert (session.path / "raw").is_dir()
    assert (session.path / "derived").is_dir()
    meta = json.loads((session.path / "session.json").read_text())
    assert meta["status"] == "recording"
    assert meta["sensors"][0]["site"] == "pelvis"
    assert meta["sensors"][0]["rate_hz"] == 104.0
    assert store.load_session(session.path).meta == session.meta


def test_second_session_in_the_same_second_gets_a_new_folder(tmp_path: Path) -> None:
    first, second = _new(tmp_path), _new(tmp_path)
    assert first.path != second.path
    assert second.path.name == "20260102T030405Z-2"


@pytest.mark.parametrize("bad", ["", "../up", "a b", "x" * 65, "-lead"])
def test_subject_ids_must_be_folder_safe(tmp_path: Path, bad: str) -> None:
    with pytest.raises(DataContractError, match="folder name"):
        store.create_session(tmp_path, bad, (PELVIS,))


def test_unknown_site_is_rejected() -> None:
    with pytest.raises(DataContractError, match="unknown sensor site 'knee'"):
        store.SensorInfo("knee", "movesense")


def test_raw_stream_round_trip_with_provenance(tmp_path: Path) -> None:
    session = _new(tmp_path)
    writer = store.RawStreamWriter(session.raw_path("pelvis"), store.raw_schema_metadata(session, PELVIS))
    writer.append(_batch(40), now_ns=0)
    writer.close()
    raw = store.read_raw(session.raw_path("pelvis"))
    expected = _batch(40)
    assert len(raw) == 40
    assert not raw.truncated
    np.testing.assert_array_equal(raw.t_device_us, expected.t_device_us)
    np.testing.assert_allclose(raw.acc, expected.acc, rtol=1e-6)
    assert raw.counter is None
    assert raw.device == PELVIS
    assert raw.site == "pelvis"
    schema = ipc.open_stream(pa.memory_map(str(session.raw_path("pelvis")))).schema
    assert schema.field("acc_x").metadata[b"unit"] == b"m/s^2"
    assert schema.field("gyr_z").metadata[b"unit"] == b"deg/s"


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=6),
    with_device=st.booleans(),
)
def test_raw_round_trip_property(tmp_path_factory: pytest.TempPathFactory, sizes: list[int], with_device: bool) -> None:
    session = _new(tmp_path_factory.mktemp("prop"))
    writer = store.RawStreamWriter(session.raw_path("pelvis"), store.raw_schema_metadata(session, PELVIS))
    start = 0
    for n in sizes:
        writer.append(_batch(n, start, with_device), now_ns=start * 10**8)
        start += n
    writer.close()
    raw = store.read_raw(session.raw_path("pelvis"))
    assert len(raw) == sum(sizes)
    if sum(sizes):
        np.testing.assert_array_equal(raw.t_host_ns, np.arange(sum(sizes)) * 9_615_385)
        assert (raw.t_device_us is None) == (not with_device)


def test_flushed_stream_is_readable_before_close(tmp_path: Path) -> None:
    """What a killed recorder leaves behind: batches flushed so far, no end-of-stream marker."""
    session = _new(tmp_path)
    writer = store.RawStreamWriter(session.raw_path("pelvis"), store.raw_schema_metadata(session, PELVIS), flush_s=0.5)
    for k in range(10):  # 10 packets 0.1 s apart: flushes at 0.5 s and 1.0 s only
        writer.append(_batch(8, 8 * k), now_ns=k * 100_000_000)
    raw = store.read_raw(session.raw_path("pelvis"))
    assert len(raw) == 48  # packets 0..5 written at the 0.5 s flush; 6..9 still buffered
    writer.close()
    assert len(store.read_raw(session.raw_path("pelvis"))) == 80


def test_torn_last_message_keeps_complete_batches(tmp_path: Path) -> None:
    session = _new(tmp_path)
    path = session.raw_path("pelvis")
    writer = store.RawStreamWriter(path, store.raw_schema_metadata(session, PELVIS))
    writer.append(_batch(30), now_ns=0)
    writer.flush()
    writer.append(_batch(30, 30), now_ns=0)
    writer.close()
    path.write_bytes(path.read_bytes()[:-40])
    raw = store.read_raw(path)
    assert raw.truncated
    assert len(raw) == 30


def test_raw_writer_never_overwrites(tmp_path: Path) -> None:
    session = _new(tmp_path)
    path = session.raw_path("pelvis")
    path.write_bytes(b"precious")
    with pytest.raises(store.StorageError, match="refusing to overwrite"):
        store.RawStreamWriter(path, store.raw_schema_metadata(session, PELVIS))
    assert path.read_bytes() == b"precious"


def test_disk_full_raises_storage_error_and_keeps_earlier_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = _new(tmp_path)
    path = session.raw_path("pelvis")
    writer = store.RawStreamWriter(path, store.raw_schema_metadata(session, PELVIS))
    writer.append(_batch(16), now_ns=0)
    writer.flush()

    def full(*_args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store.os, "fsync", full)
    writer.append(_batch(16, 16), now_ns=0)
    with pytest.raises(store.StorageError, match="No space left"):
        writer.flush()
    monkeypatch.undo()
    writer.close()
    assert len(store.read_raw(path)) >= 16


def test_foreign_and_wrong_files_get_clear_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.arrows"
    junk.write_bytes(b"this is not arrow")
    with pytest.raises(SchemaMismatchError, match="not an Arrow IPC stream"):
        store.read_raw(junk)
    plain = tmp_path / "plain.arrows"
    with pa.OSFile(str(plain), "wb") as sink, ipc.new_stream(sink, pa.schema([("x", pa.int64())])) as w:
        w.write_table(pa.table({"x": [1, 2]}))
    with pytest.raises(SchemaMismatchError, match="not an imugait table"):
        store.read_raw(plain)
    events = tmp_path / "events.arrow"
    store.write_table(
        events,
        pa.table({"t_s": [0.5], "sample": [50], "side": ["left"], "event": ["IC"], "source": ["left_thigh"]}),
        EVENTS,
    )
    with pytest.raises(SchemaMismatchError, match="is a 'gait_events' table, expected 'gait_summary'"):
        store.read_table(events, SUMMARY)


def _pelvis_file(tmp_path: Path) -> Path:
    """A new session's pelvis raw file of 40 samples."""
    session = _new(tmp_path)
    path = session.raw_path("pelvis")
    writer = store.RawStreamWriter(path, store.raw_schema_metadata(session, PELVIS))
    writer.append(_batch(40), now_ns=0)
    writer.close()
    return path


def test_metadata_bytes_that_are_not_utf8_do_not_fail_the_read(tmp_path: Path) -> None:
    """A corrupt byte in a raw file's metadata (found by flipping bytes of a recording) reads as U+FFFD; the samples
    are still there."""
    path = _pelvis_file(tmp_path)
    table = ipc.open_stream(path.read_bytes()).read_all()
    meta = dict(table.schema.metadata)
    meta[b"imugait.app_version"] = b"0.1 \x99"
    with pa.OSFile(str(path), "wb") as sink, ipc.new_stream(sink, table.schema.with_metadata(meta)) as w:
        w.write_table(table.replace_schema_metadata(meta))
    raw = store.read_raw(path)
    assert len(raw) == 40
    assert raw.metadata["app_version"] == "0.1 \ufffd"


def test_a_signalling_nan_left_by_a_corrupt_byte_reads_as_nan_without_a_warning(tmp_path: Path) -> None:
    """Flipping bytes of a recording can leave a float32 signalling NaN, whose widening raised numpy's "invalid
    value encountered in cast" (an error under this suite's warning filter); it reads as NaN and the rest stays."""
    path = _pelvis_file(tmp_path)
    table = ipc.open_stream(path.read_bytes()).read_all()
    acc_x = table.column("acc_x").to_numpy().copy()
    acc_x[7] = np.array([0x7F800001], dtype=np.uint32).view(np.float32)[0]  # a signalling NaN
    table = table.set_column(table.schema.get_field_index("acc_x"), table.schema.field("acc_x"), pa.array(acc_x))
    with pa.OSFile(str(path), "wb") as sink, ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    raw = store.read_raw(path)
    assert np.isnan(raw.acc[7, 0])
    assert np.isfinite(np.delete(raw.acc, 7, axis=0)).all()
    assert len(raw) == 40


def test_newer_schema_version_asks_for_an_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "future.arrows"
    schema = RAW_IMU.schema.with_metadata({b"imugait.schema": b"raw_imu", b"imugait.schema_version": b"9"})
    with pa.OSFile(str(path), "wb") as sink, ipc.new_stream(sink, schema):
        pass
    with pytest.raises(SchemaMismatchError, match="newer than this imugait understands"):
        store.read_raw(path)


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "events.arrow"
    schema = EVENTS.with_metadata().remove(EVENTS.schema.get_field_index("side"))
    with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, schema) as w:
        w.write_table(schema.empty_table())
    with pytest.raises(SchemaMismatchError, match="column 'side' is missing"):
        store.read_table(path, EVENTS)


def test_derived_table_written_atomically_and_validated(tmp_path: Path) -> None:
    path = tmp_path / "derived" / "summary.arrow"
    table = pa.table({"metric": ["cadence_spm"], "side": ["both"], "value": [108.0], "unit": ["steps/min"], "n": [40]})
    store.write_table(path, table, SUMMARY, {"pipeline_version": "1"})
    back = store.read_table(path, SUMMARY)
    assert back.column("value").to_pylist() == [108.0]
    assert not list(path.parent.glob(".*.tmp"))


def test_session_json_errors(tmp_path: Path) -> None:
    with pytest.raises(SessionNotFoundError, match="no session.json"):
        store.load_session(tmp_path)
    (tmp_path / "session.json").write_text("{not json")
    with pytest.raises(DataContractError, match="not valid JSON"):
        store.load_session(tmp_path)
    (tmp_path / "session.json").write_text(json.dumps({"subject": "x", "format": 99}))
    with pytest.raises(DataContractError, match="newer than this imugait"):
        store.load_session(tmp_path)


def test_iter_sessions_finds_sessions_at_any_level_and_skips_broken(tmp_path: Path) -> None:
    a = _new(tmp_path)
    b = store.create_session(tmp_path, "P02", (PELVIS,), start=datetime(2025, 1, 1, tzinfo=UTC))
    broken = tmp_path / "P03" / "x"
    broken.mkdir(parents=True)
    (broken / "session.json").write_text("{")
    assert [s.path for s in store.iter_sessions(tmp_path)] == [b.path, a.path]
    assert [s.path for s in store.iter_sessions(tmp_path / "P01")] == [a.path]
    assert [s.path for s in store.iter_sessions(a.path)] == [a.path]


def test_data_root_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IMUGAIT_DATA", str(tmp_path))
    assert store.default_data_root() == tmp_path
    monkeypatch.delenv("IMUGAIT_DATA")
    assert store.default_data_root().name == "imugait"

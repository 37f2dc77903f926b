"""A newer imugait reads every older session: a session written by imugait with schema v1 tables, kept as a
fixture exactly as that version wrote it, still loads, validates, upgrades and re-processes."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pyarrow.ipc as ipc
import pytest

from pipeline.run import process_session
from pipeline.schemas import CYCLES, EVENTS, STRIDES, SUMMARY, schema_identity
from pipeline.store import iter_sessions, load_session, read_raw, read_table

FIXTURE = Path(__file__).resolve().parent.parent / "data" / "sessions_v1"
MANIFEST = FIXTURE / "MANIFEST.sha256"


def _fixture_session() -> Path:
    (session,) = [s.path for s in iter_sessions(FIXTURE)]
    return session


def test_fixture_is_unchanged() -> None:
    """The fixture must stay byte-for-byte what imugait v1 wrote; regenerate it only with a new version's fixture."""
    for line in MANIFEST.read_text().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((FIXTURE / name).read_bytes()).hexdigest() == digest, name


def test_v1_strides_file_is_version_1() -> None:
    with ipc.open_file(str(_fixture_session() / "derived" / "strides.arrow")) as reader:
        assert schema_identity(reader.schema) == ("gait_strides", 1)


def test_v1_tables_read_and_upgrade(tmp_path: Path) -> None:
    session = load_session(_fixture_session())
    strides = read_table(session.derived_path("strides"), STRIDES)
    assert schema_identity(strides.schema) == ("gait_strides", STRIDES.version)
    assert strides.num_rows > 10
    assert strides.column("speed_m_s").null_count == strides.num_rows  # added by the upgrade, unknown in v1
    assert strides.column("stance_time_s").null_count < strides.num_rows  # v1 data kept
    for name, schema in (("events", EVENTS), ("summary", SUMMARY), ("cycles", CYCLES)):
        assert read_table(session.derived_path(name), schema).num_rows > 0
    summary = read_table(session.derived_path("summary"), SUMMARY)
    assert schema_identity(summary.schema) == ("gait_summary", SUMMARY.version)
    assert summary.column("ci_low").null_count == summary.num_rows  # v1 had no intervals: unknown, not zero
    assert summary.column("value").null_count < summary.num_rows
    for site in session.raw_sites():
        assert len(read_raw(session.raw_path(site))) > 1000


def test_v1_session_reprocesses_with_this_version(tmp_path: Path) -> None:
    copy = tmp_path / "legacy"
    shutil.copytree(_fixture_session().parent, copy)
    (session,) = list(iter_sessions(copy))
    before = json.loads((session.path / "session.json").read_text())
    process_session(session)
    with ipc.open_file(str(session.derived_path("strides"))) as reader:
        assert schema_identity(reader.schema) == ("gait_strides", STRIDES.version)
    assert json.loads((session.path / "session.json").read_text()) == before  # raw data and metadata untouched


@pytest.mark.parametrize("name", ["events", "summary"])
def test_unknown_future_version_is_refused(tmp_path: Path, name: str) -> None:
    import pyarrow as pa

    from pipeline.errors import SchemaMismatchError

    src = _fixture_session() / "derived" / f"{name}.arrow"
    with ipc.open_file(str(src)) as reader:
        table = reader.read_all()
    meta = dict(table.schema.metadata)
    meta[b"imugait.schema_version"] = b"99"
    table = table.replace_schema_metadata(meta)
    dst = tmp_path / f"{name}.arrow"
    with pa.OSFile(str(dst), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    with pytest.raises(SchemaMismatchError, match="newer than this imugait understands"):
        read_table(dst, EVENTS if name == "events" else SUMMARY)

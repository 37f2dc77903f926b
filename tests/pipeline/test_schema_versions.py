"""A newer imugait reads every older session: a session written by imugait with schema v1 tables, kept as a
fixture exactly as that version wrote it, still loads, validates, upgrades and re-processes; a strides table
written with schema v2 upgrades too."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from pipeline.run import process_session
from pipeline.schemas import (
    _BOUTS_V1_FIELDS,
    _BOUTS_V2_FIELDS,
    _STRIDES_V1_FIELDS,
    _STRIDES_V2_FIELDS,
    BOUTS,
    COMPENSATION,
    CYCLES,
    EVENTS,
    STRIDES,
    SUMMARY,
    TableSchema,
    schema_identity,
)
from pipeline.store import iter_sessions, load_session, read_raw, read_table, write_table

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
    assert strides.column("opening_valid").equals(strides.column("valid"))  # v1 counted valid strides only
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


def test_v1_strides_upgrade_with_opening_valid_as_valid() -> None:
    """The v1 pipeline computed every statistic, stance and step times included, from the valid strides: the
    upgraded ``opening_valid`` says exactly that, as values, not as unknown."""
    with ipc.open_file(str(_fixture_session() / "derived" / "strides.arrow")) as reader:
        assert "opening_valid" not in reader.schema.names
        stored_valid = reader.read_all().column("valid").to_pylist()
    assert True in stored_valid
    assert False in stored_valid

    strides = read_table(_fixture_session() / "derived" / "strides.arrow", STRIDES)

    assert strides.column("opening_valid").null_count == 0
    assert strides.column("opening_valid").to_pylist() == stored_valid


def test_v1_compensation_report_upgrades_with_a_status_from_what_it_knew() -> None:
    """Version 1 flagged on the value alone and had no "unclear" state: its rows become flagged, within or (no
    value) not assessed, and every v1 flag stays a flag."""
    path = _fixture_session() / "derived" / "compensation.arrow"
    with ipc.open_file(str(path)) as reader:
        assert schema_identity(reader.schema) == ("compensation_report", 1)
        stored = reader.read_all().to_pandas()
    report = read_table(path, COMPENSATION).to_pandas()
    assert schema_identity(read_table(path, COMPENSATION).schema) == ("compensation_report", COMPENSATION.version)
    assert len(report) == len(stored)
    assert (report.status == "flagged").tolist() == stored.flagged.tolist()
    assert set(report.status[report.value.isna()]) == {"not_assessed"}
    assert set(report.status[~report.flagged & report.value.notna()]) <= {"within"}
    assert "unclear" not in set(report.status)


def test_v2_strides_upgrade_to_v3_with_opening_valid_as_valid(tmp_path: Path) -> None:
    v2 = TableSchema("gait_strides", 2, pa.schema(_STRIDES_V1_FIELDS + _STRIDES_V2_FIELDS))
    valid = [False, True, True, False, True, False]
    n = len(valid)
    columns = {
        "side": ["left", "left", "left", "right", "right", "right"],
        "stride": pa.array([0, 1, 2, 0, 1, 2], pa.int32()),
        "start_s": [1.0, 2.1, 3.2, 1.5, 2.6, 3.7],
        "end_s": [2.1, 3.2, 4.3, 2.6, 3.7, 4.8],
        "stride_time_s": [1.1] * n,
        "stance_time_s": [0.66] * n,
        "valid": valid,
    }
    path = tmp_path / "strides.arrow"
    write_table(path, pa.table(columns), v2, {"pipeline_version": "1.1"})  # as the v2 pipeline wrote it
    with ipc.open_file(str(path)) as reader:
        assert schema_identity(reader.schema) == ("gait_strides", 2)
        assert "opening_valid" not in reader.schema.names

    strides = read_table(path, STRIDES)

    assert schema_identity(strides.schema) == ("gait_strides", 3)
    assert strides.column("opening_valid").to_pylist() == valid
    assert strides.column("valid").to_pylist() == valid
    assert strides.column("stance_time_s").to_pylist() == [0.66] * n
    assert strides.schema.metadata[b"imugait.pipeline_version"] == b"1.1"


def test_v1_bouts_upgrade_with_null_stride_means(tmp_path: Path) -> None:
    """Bouts written before the stride means existed (pipeline ≤ 1.4) read with those columns null: unknown until
    the session is re-processed, never zero; the v1 columns keep their values."""
    v1 = TableSchema("walking_bouts", 1, pa.schema(_BOUTS_V1_FIELDS))
    columns = {
        "bout": pa.array([0, 1], pa.int32()),
        "start_s": [1.0, 20.0],
        "end_s": [15.0, 40.0],
        "duration_s": [14.0, 20.0],
        "n_strides": pa.array([12, 18], pa.int64()),
        "n_steps": pa.array([24, 36], pa.int64()),
        "distance_m": [15.1, 22.0],
        "speed_m_s": [1.08, 1.1],
    }
    path = tmp_path / "bouts.arrow"
    write_table(path, pa.table(columns), v1, {"pipeline_version": "1.4"})

    bouts = read_table(path, BOUTS)

    assert schema_identity(bouts.schema) == ("walking_bouts", 3)
    for name in ("stride_speed_m_s", "cadence_spm", "stride_length_m", "measured_share"):
        assert bouts.column(name).null_count == 2
    assert bouts.column("speed_m_s").to_pylist() == [1.08, 1.1]


def test_v2_bouts_upgrade_with_a_null_measured_share(tmp_path: Path) -> None:
    """Bouts written by pipeline 1.5 (schema 2) read with ``measured_share`` null and their stride means kept."""
    v2 = TableSchema("walking_bouts", 2, pa.schema(_BOUTS_V1_FIELDS + _BOUTS_V2_FIELDS))
    columns = {
        "bout": pa.array([0], pa.int32()),
        "start_s": [1.0],
        "end_s": [15.0],
        "duration_s": [14.0],
        "n_strides": pa.array([12], pa.int64()),
        "n_steps": pa.array([24], pa.int64()),
        "distance_m": [15.1],
        "speed_m_s": [1.08],
        "stride_speed_m_s": [1.12],
        "cadence_spm": [104.0],
        "stride_length_m": [1.29],
    }
    path = tmp_path / "bouts.arrow"
    write_table(path, pa.table(columns), v2, {"pipeline_version": "1.5"})

    bouts = read_table(path, BOUTS)

    assert schema_identity(bouts.schema) == ("walking_bouts", 3)
    assert bouts.column("measured_share").null_count == 1
    assert bouts.column("stride_speed_m_s").to_pylist() == [1.12]


def test_processed_session_with_packet_loss_stores_opening_valid(tmp_path: Path) -> None:
    """10 % of the notifications lost: some strides lose their closing IC. They are stored as ``opening_valid`` but
    not ``valid``, and the stored flags are exactly the strides behind the stored summary's times."""
    from sensors.sim.gait_model import GaitModel, get_profile
    from sensors.sim.offline import LinkImperfections, write_simulated_session

    model = GaitModel(get_profile("healthy"), 40.0, seed=0)
    session = write_simulated_session(tmp_path, model, duration_s=40.0, seed=0, link=LinkImperfections(loss=0.1))
    process_session(session)

    strides = read_table(session.derived_path("strides"), STRIDES).to_pandas()
    summary = read_table(session.derived_path("summary"), SUMMARY).to_pandas().set_index(["metric", "side"])
    assert strides["opening_valid"].notna().all()
    valid, opening = strides["valid"].to_numpy(bool), strides["opening_valid"].to_numpy(bool)
    assert not (valid & ~opening).any()  # a valid stride's times count
    assert (opening & ~valid).sum() >= 1
    for side in ("left", "right"):
        own = (strides["side"] == side).to_numpy()
        for metric, counted in (("stance_time_s", opening), ("step_time_s", opening), ("stride_time_s", valid)):
            behind = counted & own & np.isfinite(strides[metric].to_numpy(float))
            assert summary.loc[(metric, side), "n"] == behind.sum(), (metric, side)
    assert np.isfinite(strides.loc[opening & ~valid, "stance_time_s"]).any()  # counted in the summary's stance n


@pytest.mark.parametrize("name", ["events", "summary"])
def test_unknown_future_version_is_refused(tmp_path: Path, name: str) -> None:
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

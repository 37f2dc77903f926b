"""A data root the pipeline can really align: the simulator's walker (``sensors.sim.GaitModel``) written as raw
streams in 8-sample BLE packets, then processed by ``pipeline.run.process_session``.

The P01 series of ``conftest`` has hand-made raw signals, which the pipeline may or may not manage to align;
this root tests the body-aligned angles. Subject W01 has a processed session and a newer, unprocessed one.
``build_short_session`` writes a walk the pipeline refuses to align, for the raw-signal fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from pipeline.run import process_session
from pipeline.schemas import SITES
from pipeline.store import RawBatch, RawStreamWriter, SensorInfo, Session, create_session, raw_schema_metadata
from sensors.sim.gait_model import GaitModel, get_profile

SUBJECT = "W01"
RATE_HZ = 104.0
DURATION_S = 25.0
HOST_T0_NS = 2_000_000_000_000
PACKET = 8  # samples per BLE notification, as Movesense sends them


@dataclass(frozen=True)
class WalkerRoot:
    root: Path
    processed: Session
    unprocessed: Session


def _write_raw(session: Session, model: GaitModel, rng: np.random.Generator, duration_s: float = DURATION_S) -> None:
    k = np.arange(int(duration_s * RATE_HZ), dtype=np.int64)
    t = k / RATE_HZ
    packet = k // PACKET
    arrival_s = (packet * PACKET + PACKET - 1) / RATE_HZ + 0.012  # a packet arrives after its last sample
    for sensor in session.meta.sensors:
        acc, gyr = model.imu(sensor.site, t, rng)
        writer = RawStreamWriter(session.raw_path(sensor.site), raw_schema_metadata(session, sensor))
        t_host = HOST_T0_NS + np.round(arrival_s * 1e9).astype(np.int64)
        batch = RawBatch(
            packet=packet, t_host_ns=t_host, t_device_us=np.round(t * 1e6).astype(np.int64), counter=k, acc=acc, gyr=gyr
        )
        writer.append(batch, now_ns=int(t_host[-1]))
        writer.close()


def build_walker_root(root: Path) -> WalkerRoot:
    """Two sessions of a simulated right-knee antalgic walker; only the first is processed."""
    model = GaitModel(get_profile("antalgic_right"), DURATION_S, seed=3)
    sensors = tuple(SensorInfo(site, "movesense", model="Movesense MD", rate_hz=RATE_HZ) for site in SITES)
    sessions = []
    for day, label in ((1, "processed walk"), (8, "recorded walk")):
        session = create_session(
            root,
            SUBJECT,
            sensors,
            start=datetime(2026, 5, day, 9, 0, tzinfo=UTC),
            label=label,
            host_t0_ns=HOST_T0_NS,
            source="simulator",
            clock="simulated",
        )
        _write_raw(session, model, np.random.default_rng(day))
        sessions.append(session.update(status="complete"))
    process_session(sessions[0])
    return WalkerRoot(root, sessions[0], sessions[1])


def build_short_session(root: Path, duration_s: float = 3.0) -> Session:
    """A walk too short for the pipeline to align (it asks for 5 s), unprocessed."""
    model = GaitModel(get_profile("healthy"), duration_s, seed=5)
    sensors = tuple(SensorInfo(site, "movesense", model="Movesense MD", rate_hz=RATE_HZ) for site in SITES)
    session = create_session(root, "S01", sensors, label="too short", host_t0_ns=HOST_T0_NS, source="simulator")
    _write_raw(session, model, np.random.default_rng(0), duration_s)
    return session.update(status="complete")

"""Replaying a stored session through BleakClient gives back the stored samples at the stored times."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest
from bleak import BleakClient, BleakScanner

from pipeline.store import RawBatch, RawStreamWriter, SensorInfo, Session, create_session, load_session, read_raw
from pipeline.store import raw_schema_metadata as meta_of
from sensors.devices import movesense as ms
from sensors.replay import replay_backends

RATE = 104
T0_NS = 7_000_000_000


def _write(session: Session, sensor: SensorInfo, packets: list[int], *, device_clock: bool, seed: int) -> None:
    """``packets`` gives the samples per notification; arrivals ~77 ms apart with jitter."""
    rng = np.random.default_rng(seed)
    writer = RawStreamWriter(session.raw_path(sensor.site), meta_of(session, sensor))
    k = 0
    for p, n in enumerate(packets):
        t_host = T0_NS + 300_000_000 + p * 76_923_077 + int(rng.integers(5_000_000, 30_000_000))
        ts_ms = 1_000_000 + (k * 1000) // RATE
        writer.append(
            RawBatch(
                packet=np.full(n, p, np.int64),
                t_host_ns=np.full(n, t_host, np.int64),
                t_device_us=np.rint((ts_ms + np.arange(n) * 1000 / RATE) * 1000).astype(np.int64)
                if device_clock
                else None,
                counter=None,
                acc=rng.normal(0, 3, (n, 3)).astype(np.float32),
                gyr=rng.normal(0, 90, (n, 3)).astype(np.float32),
            ),
            now_ns=t_host,
        )
        k += n
    writer.close()


@pytest.fixture
def session(tmp_path: Path) -> Session:
    sensors = (
        SensorInfo("pelvis", "movesense", name="Movesense 1747000001", address="AA:00:00:00:00:01", rate_hz=RATE),
        SensorInfo("left_thigh", "imported", rate_hz=RATE),
    )
    s = create_session(tmp_path, "s01", sensors, clock="simulated", host_t0_ns=T0_NS, source="simulator")
    _write(s, sensors[0], [8] * 30, device_clock=True, seed=1)
    _write(s, sensors[1], [8] * 10 + [20] + [8] * 10, device_clock=False, seed=2)
    return load_session(s.path)


Log = list[tuple[int, str, bytes]]  # (player clock at arrival, site, notification), in callback order


async def _replay(session: Session, speed: float | None) -> Log:
    scanner_cls, client_cls, player = replay_backends(session, speed)
    try:
        assert player.clock_ns() == T0_NS
        found = await BleakScanner.discover(0.05, backend=scanner_cls, return_adv=True)
        assert sorted(str(d.name) for d, _ in found.values()) == ["Movesense 1747000001", "Movesense left_thigh"]
        assert sorted(player.names.values()) == ["Movesense 1747000001", "Movesense left_thigh"]
        log: Log = []
        clients = {}
        for address, (device, _) in found.items():
            clients[player.site_of(address)] = client = BleakClient(device, backend=client_cls)
            await client.connect()
        for site, client in clients.items():

            def on_notify(_c: object, data: bytearray, site: str = site) -> None:
                log.append((player(), site, bytes(data)))

            await ms.MovesenseDriver().start(client, RATE, on_notify)
        await asyncio.wait_for(player.done.wait(), 10)
        for client in clients.values():
            await ms.MovesenseDriver().stop(client)
            await client.disconnect()
        return log
    finally:
        await player.aclose()


def _decoded(log: Log, site: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    decoder = ms.MovesenseDecoder(RATE)
    host, t_dev, acc, gyr = [], [], [], []
    for t_ns, _, data in (entry for entry in log if entry[1] == site):
        got = decoder.feed(data)
        if got is not None:
            assert got.t_device_us is not None
            host.append(np.full(len(got), t_ns))
            t_dev.append(got.t_device_us)
            acc.append(got.acc)
            gyr.append(got.gyr)
    assert decoder.bad_packets == 0
    return np.concatenate(host), np.concatenate(t_dev), np.concatenate(acc), np.concatenate(gyr)


async def test_replay_gives_back_the_stored_samples_and_times(session: Session) -> None:
    log = await _replay(session, None)
    for site in ("pelvis", "left_thigh"):
        stored = read_raw(session.raw_path(site))
        host, t_dev, acc, gyr = _decoded(log, site)
        np.testing.assert_array_equal(acc, stored.acc.astype(np.float32))
        np.testing.assert_array_equal(gyr, stored.gyr.astype(np.float32))
        np.testing.assert_array_equal(host, stored.t_host_ns)  # the recorder would see the original timing
        if stored.t_device_us is not None:
            np.testing.assert_array_equal(t_dev, stored.t_device_us)
        else:
            np.testing.assert_allclose(t_dev - t_dev[0], np.arange(len(t_dev)) * 1e6 / RATE, atol=1000)  # ms ticks
    clock = [t for t, _, _ in log]
    assert clock == sorted(clock)  # both sensors interleaved in recorded arrival order


async def test_replay_at_finite_speed_keeps_the_pace(session: Session) -> None:
    start = time.monotonic()
    log = await _replay(session, 20.0)
    elapsed = time.monotonic() - start
    stored = read_raw(session.raw_path("pelvis"))
    span_s = (stored.t_host_ns[-1] - stored.t_host_ns[0]) / 1e9
    assert elapsed >= span_s / 20 * 0.9
    host, _, acc, _ = _decoded(log, "pelvis")
    np.testing.assert_array_equal(acc, stored.acc.astype(np.float32))
    assert np.all(host >= stored.t_host_ns)  # never early; late only by event-loop delay
    assert np.all(np.diff(host) >= 0)

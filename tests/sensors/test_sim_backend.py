"""The simulator through bleak's real fronts (BleakScanner / BleakClient with backend=...)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError

from pipeline.schemas import SITES
from sensors.devices import movesense as ms
from sensors.errors import SensorNotFoundError
from sensors.sim.world import CLOCK_ORIGIN_NS, SimConditions, SimWorld, sim_backends

RATE = 104


class Sines:
    """A stand-in gait model: smooth deterministic signals, different per site, with a tiny truth."""

    def __init__(self, duration_s: float) -> None:
        self.duration_s = duration_s
        self.profile = SimpleNamespace(name="sines")
        self.truth = SimpleNamespace(
            events_t_s=np.array([1.0, 1.5, 2.0]),
            events_side=np.array(["left", "right", "left"]),
            events_kind=np.array(["IC", "IC", "IC"]),
            turns=np.array([[2.5, 3.0]]),
            walking_start_s=1.0,
            summary=lambda: {"cadence_spm": np.float64(120.0)},
        )

    def imu(self, site: str, t: Any, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
        t = np.asarray(t, dtype=np.float64)
        k = SITES.index(site) + 1
        acc = np.column_stack([np.sin(2 * np.pi * 0.9 * k * t), np.cos(t), 9.81 + 0.1 * np.sin(3 * t)])
        gyr = 50.0 * np.column_stack([np.sin(k * t), np.cos(2 * t), np.sin(0.5 * t + k)])
        if rng is not None:
            acc = acc + rng.normal(0, 0.05, acc.shape)
            gyr = gyr + rng.normal(0, 0.5, gyr.shape)
        return acc, gyr


@pytest.fixture
async def make_world() -> AsyncIterator[Callable[..., SimWorld]]:
    worlds: list[SimWorld] = []

    def make(duration_s: float = 10.0, model: Any = None, **conditions: Any) -> SimWorld:
        conditions.setdefault("speed", None)
        conditions.setdefault("noise", False)
        world = SimWorld(model or Sines(duration_s), SimConditions(**conditions))
        worlds.append(world)
        return world

    yield make
    for world in worlds:
        await world.aclose()


Received = list[tuple[int, bytes]]


async def _subscribe(world: SimWorld, site: str, **client_kw: Any) -> tuple[BleakClient, Received]:
    _, client_cls = sim_backends(world)
    received: Received = []
    client = BleakClient(world.device(site).address, backend=client_cls, **client_kw)
    await client.connect()
    await ms.MovesenseDriver().start(client, RATE, lambda _c, data: received.append((world.clock_ns(), bytes(data))))
    return client, received


def _decode(received: Received) -> tuple[ms.MovesenseDecoder, list[tuple[int, Any]]]:
    decoder = ms.MovesenseDecoder(RATE)
    out = []
    for t_ns, data in received:
        got = decoder.feed(data)
        if got is not None:
            out.append((t_ns, got))
    return decoder, out


async def test_discover_three_movesense(make_world: Callable[..., SimWorld]) -> None:
    world = make_world()
    scanner_cls, _ = sim_backends(world)
    found = await BleakScanner.discover(0.05, backend=scanner_cls, return_adv=True)
    assert len(found) == 3
    driver = ms.MovesenseDriver()
    for address, (device, adv) in found.items():
        assert driver.matches(device, adv)
        assert adv.local_name == device.name
        assert ms.SERVICE_UUID in adv.service_uuids
        assert world.site_of(str(device.name)) == world.site_of(address)
    assert sorted(world.site_of(a) for a in found) == sorted(SITES)
    with pytest.raises(SensorNotFoundError):
        world.site_of("Movesense 999")


async def test_hello_subscribe_and_exact_samples(make_world: Callable[..., SimWorld]) -> None:
    world = make_world(duration_s=3.0)
    client, received = await _subscribe(world, "left_thigh")
    assert client.backend_id == "SimBleakClient"
    assert client.mtu_size == 247
    await asyncio.wait_for(world.done.wait(), 10)
    assert received[0][1] == ms.hello_response(ms.HELLO_REF)
    decoder, messages = _decode(received)
    assert decoder.hello_seen == 1
    assert decoder.bad_packets == decoder.lost_packets == decoder.clock_jumps == 0
    assert len(messages) == 3 * RATE // 8

    device = world.device("left_thigh")
    for arrival_ns, got in messages:
        k = np.rint(got.t_device_us * RATE / 1e6).astype(np.int64)
        assert np.all(np.diff(k) == 1)
        t = device.sample_time_s(k, RATE)
        acc, gyr = world.model.imu("left_thigh", t)
        np.testing.assert_array_equal(got.acc, acc.astype(np.float32))
        np.testing.assert_array_equal(got.gyr, gyr.astype(np.float32))
        latency_s = world.model_time_s(arrival_ns) - t[-1]
        assert 7.5e-3 - 1e-9 <= latency_s <= 30e-3 + 1e-9
    assert all(a <= b for (a, _), (b, _) in zip(received, received[1:], strict=False))


async def test_bad_path_fifth_subscription_and_unsubscribe(make_world: Callable[..., SimWorld]) -> None:
    world = make_world(duration_s=5.0)
    client, received = await _subscribe(world, "pelvis")
    cmd = ms.COMMAND_CHAR_UUID
    await client.write_gatt_char(cmd, ms.subscribe_command(0x10, "/Meas/IMU6/100"), response=True)
    for ref in (0x11, 0x12, 0x13):
        await client.write_gatt_char(cmd, ms.subscribe_command(ref, ms.imu6_path(13)), response=True)
    await client.write_gatt_char(cmd, ms.subscribe_command(0x14, ms.imu6_path(13)), response=True)
    await asyncio.sleep(0.05)
    assert ms.status_response(0x10, 404) in [d for _, d in received]
    assert ms.status_response(0x14, 507) in [d for _, d in received]
    for ref in (ms.DATA_REF, 0x11, 0x12, 0x13):
        await client.write_gatt_char(cmd, ms.unsubscribe_command(ref), response=True)
    count = len(received)
    await asyncio.sleep(0.05)
    assert len(received) <= count + 8  # at most one message (two notifications) per stream was in flight
    assert not world.device("pelvis").streaming()


async def test_packet_loss_is_detected(make_world: Callable[..., SimWorld]) -> None:
    world = make_world(duration_s=10.0, packet_loss=0.1, seed=3)
    _, received = await _subscribe(world, "right_thigh")
    await asyncio.wait_for(world.done.wait(), 10)
    decoder, messages = _decode(received)
    device = world.device("right_thigh")
    assert device.notifications_dropped > 0
    assert decoder.lost_packets > 0
    assert decoder.bad_packets > 0  # orphaned or unfinished halves
    assert decoder.clock_jumps == 0
    first_k = round(messages[0][1].t_device_us[0] * RATE / 1e6)
    last_k = round(messages[-1][1].t_device_us[0] * RATE / 1e6)
    assert len(messages) + decoder.lost_packets == (last_k - first_k) // 8 + 1
    assert device.batches_sent >= len(messages) + decoder.lost_packets


async def test_disconnect_calls_back_and_reconnect_resumes(make_world: Callable[..., SimWorld]) -> None:
    world = make_world(duration_s=6.0, speed=5.0, disconnects=(("left_thigh", 1.0, 1.0),))
    lost = asyncio.Event()
    client, before = await _subscribe(world, "left_thigh", disconnected_callback=lambda _c: lost.set())
    await asyncio.wait_for(lost.wait(), 5)
    assert not client.is_connected
    await ms.MovesenseDriver().stop(client)  # tolerates the dead link
    with pytest.raises(BleakError):
        await BleakClient(world.device("left_thigh").address, backend=sim_backends(world)[1]).connect()

    scanner_cls, _ = sim_backends(world)
    address = world.device("left_thigh").address
    device = await BleakScanner.find_device_by_address(address, timeout=5, backend=scanner_cls)
    assert device is not None
    assert world.model_time_s(world.clock_ns()) >= 2.0
    client, after = await _subscribe(world, "left_thigh")
    await asyncio.wait_for(world.done.wait(), 5)
    _, msgs_before = _decode(before)
    _, msgs_after = _decode(after)
    assert msgs_before
    assert msgs_after
    gap_s = (msgs_after[0][1].t_device_us[0] - msgs_before[-1][1].t_device_us[-1]) / 1e6
    assert gap_s >= 1.0  # the device clock kept running while away
    await client.disconnect()


async def test_clock_drift_shows_in_device_time(make_world: Callable[..., SimWorld]) -> None:
    world = make_world(duration_s=20.0, latency_ms=(10.0, 10.0))
    streams = {site: (await _subscribe(world, site))[1] for site in SITES}
    await asyncio.wait_for(world.done.wait(), 10)
    for site, received in streams.items():
        device = world.device(site)
        _, messages = _decode(received)
        k_last = np.array([round(m.t_device_us[-1] * RATE / 1e6) for _, m in messages])
        host_ns = np.array([t for t, _ in messages])
        expected_ns = CLOCK_ORIGIN_NS + np.rint(device.sample_time_s(k_last, RATE) * 1e9).astype(np.int64) + 10**7
        np.testing.assert_allclose(host_ns, expected_ns, atol=2)
        slope = np.polyfit((host_ns - host_ns[0]) / 1e9, k_last / RATE, 1)[0]
        assert slope - 1 == pytest.approx(device.drift_ppm * 1e-6, abs=1e-8)
        assert messages[0][1].t_device_us[0] / 1e6 == pytest.approx(device.boot_offset_s, abs=0.5)


async def test_flat_out_finishes_quickly_and_completely(make_world: Callable[..., SimWorld]) -> None:
    world = make_world(duration_s=10.0, noise=True)
    streams = [(await _subscribe(world, site))[1] for site in SITES]
    await asyncio.wait_for(world.done.wait(), 10)  # a guard, not a benchmark
    assert world.finished
    for received in streams:
        decoder, messages = _decode(received)
        assert sum(len(m) for _, m in messages) == 10 * RATE
        assert decoder.bad_packets == decoder.lost_packets == 0


async def test_finite_speed_paces_virtual_time(make_world: Callable[..., SimWorld]) -> None:
    world = make_world(duration_s=0.5, speed=10.0)
    start = time.monotonic()
    _, received = await _subscribe(world, "pelvis")
    await asyncio.wait_for(world.done.wait(), 5)
    assert time.monotonic() - start >= 0.5 / 10 * 0.9
    assert len(received) > 1


async def test_write_truth_uses_the_session_timeline(make_world: Callable[..., SimWorld], tmp_path: Path) -> None:
    world = make_world()
    host_t0_ns = CLOCK_ORIGIN_NS + 500_000_000  # session starts at model time 0.5 s
    path = world.write_truth(tmp_path, host_t0_ns)
    assert path == tmp_path / "sim" / "truth.json"
    data = json.loads(path.read_text())
    assert data["profile"]["name"] == "sines"
    assert data["events"] == {"t_s": [0.5, 1.0, 1.5], "side": ["left", "right", "left"], "event": ["IC"] * 3}
    assert data["turns_s"] == [[2.0, 2.5]]
    assert data["summary"] == {"cadence_spm": 120.0}
    assert data["conditions"]["clock_drift_ppm"]["left_thigh"] == -35.0
    with pytest.raises(Exception, match="refusing to overwrite"):
        world.write_truth(tmp_path, host_t0_ns)


async def test_world_with_gait_model(make_world: Callable[..., SimWorld], tmp_path: Path) -> None:
    gait_model = pytest.importorskip("sensors.sim.gait_model")
    model = gait_model.GaitModel(gait_model.get_profile("healthy"), 4.0, seed=1)
    world = make_world(model=model)
    _, received = await _subscribe(world, "pelvis")
    await asyncio.wait_for(world.done.wait(), 10)
    _, messages = _decode(received)
    got = messages[20][1]
    t = world.device("pelvis").sample_time_s(np.rint(got.t_device_us * RATE / 1e6), RATE)
    acc, gyr = model.imu("pelvis", t)
    np.testing.assert_allclose(got.acc, acc, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(got.gyr, gyr, rtol=1e-6, atol=1e-4)
    data = json.loads(world.write_truth(tmp_path, CLOCK_ORIGIN_NS).read_text())
    assert data["profile"]["name"] == "healthy"
    np.testing.assert_allclose(data["events"]["t_s"], model.truth.events_t_s)

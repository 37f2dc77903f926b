"""Private: one sensor's BLE link for the recorder — discovery, connection, decoding, reconnection.

Public names are re-exported by :mod:`sensors.recorder`; import them from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakError

from pipeline.live import live_cadence
from pipeline.store import (
    RawBatch,
    RawStreamWriter,
)
from sensors.devices._driver import DecodedSamples, DeviceDriver, PacketDecoder
from sensors.errors import SensorNotFoundError

logger = logging.getLogger(__name__)

_Packet = tuple[int, bytes]  # (host clock ns at arrival, notification bytes)
LIVE_WINDOW_S = 8.0


@dataclass(frozen=True)
class LinkBackend:
    """Where the BLE link comes from and which clock stamps arrivals.

    ``scanner``/``client`` None means bleak's platform backend (real hardware). Simulated and replayed links bring
    their own classes and a virtual clock, so ``--speed`` changes wall time but not the recorded timeline.
    """

    scanner: type[BaseBleakScanner] | None = None
    client: type[BaseBleakClient] | None = None
    clock_ns: Callable[[], int] = time.monotonic_ns
    clock: str = "monotonic"
    source: str = "ble"
    done: asyncio.Event | None = None  # set by a finite source (simulator, replay) when it has nothing more to send


@dataclass(frozen=True)
class SensorTarget:
    """A sensor to record: the body site and the device's advertised name, a suffix of it, or its address."""

    site: str
    identifier: str


@dataclass
class SensorStatus:
    """Live state of one sensor, read by the status view."""

    site: str
    name: str = ""
    connected: bool = False
    samples: int = 0
    packets: int = 0
    lost_packets: int = 0
    bad_packets: int = 0
    reconnects: int = 0
    rate_hz: float = 0.0
    seconds: float = 0.0
    cadence_spm: float = float("nan")  # live estimate from the last seconds of this sensor alone
    last_error: str = ""
    _recent: deque[tuple[int, int]] = field(default_factory=lambda: deque(maxlen=64), repr=False)


def _scanner_kwargs(backend: LinkBackend) -> dict[str, Any]:
    return {} if backend.scanner is None else {"backend": backend.scanner}


def match_target(target: SensorTarget, device: BLEDevice, adv: AdvertisementData) -> bool:
    """True when ``device`` is the one ``target`` names (address, exact name, or trailing serial)."""
    ident = target.identifier.strip().lower()
    name = (adv.local_name or device.name or "").lower()
    return ident in (device.address.lower(), name) or (bool(name) and name.endswith(ident))


async def discover(
    targets: Sequence[SensorTarget], drivers: Sequence[DeviceDriver], backend: LinkBackend, timeout_s: float
) -> dict[str, tuple[BLEDevice, DeviceDriver]]:
    """Scan until every target is seen (or the timeout); return site -> (device, driver)."""
    found: dict[str, tuple[BLEDevice, DeviceDriver]] = {}
    seen: dict[str, str] = {}
    all_found = asyncio.Event()

    def on_adv(device: BLEDevice, adv: AdvertisementData) -> None:
        seen[device.address] = adv.local_name or device.name or "?"
        for target in targets:
            if target.site in found or not match_target(target, device, adv):
                continue
            driver = next((d for d in drivers if d.matches(device, adv)), None)
            if driver is not None:
                found[target.site] = (device, driver)
        if len(found) == len(targets):
            all_found.set()

    scanner = BleakScanner(detection_callback=on_adv, **_scanner_kwargs(backend))
    async with scanner:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_found.wait(), timeout_s)
    missing = [t for t in targets if t.site not in found]
    if missing:
        names = ", ".join(f"{n} ({a})" for a, n in sorted(seen.items())) or "nothing"
        raise SensorNotFoundError(
            ", ".join(f"{t.site}={t.identifier}" for t in missing),
            f"not found after {timeout_s:g} s of scanning; seen: {names}. Check the sensor is on, charged and "
            "not connected to another app, then run 'imugait scan'.",
        )
    return found


async def scan_devices(
    drivers: Sequence[DeviceDriver], backend: LinkBackend, timeout_s: float
) -> list[tuple[str, str, int, str]]:
    """Scan for ``timeout_s`` and list supported sensors as (name, address, rssi dBm, family), by name."""
    found = await BleakScanner.discover(timeout=timeout_s, return_adv=True, **_scanner_kwargs(backend))
    rows = []
    for device, adv in found.values():
        driver = next((d for d in drivers if d.matches(device, adv)), None)
        if driver is not None:
            rows.append((adv.local_name or device.name or "?", device.address, adv.rssi, driver.family))
    return sorted(rows)


class SensorLink:
    """One sensor's connection, decoder and raw stream writer."""

    def __init__(
        self,
        site: str,
        device: BLEDevice,
        driver: DeviceDriver,
        writer: RawStreamWriter,
        rate_hz: float,
        backend: LinkBackend,
        t0_ns: int,
        deadline_ns: int | None,
    ) -> None:
        self.site = site
        self.device = device
        self.driver = driver
        self.writer = writer
        self.rate_hz = rate_hz
        self.backend = backend
        self.t0_ns = t0_ns
        self.deadline_ns = deadline_ns
        self.status = SensorStatus(site=site, name=device.name or device.address)
        self.queue: asyncio.Queue[_Packet | None] = asyncio.Queue()
        self.lost_link = asyncio.Event()
        self.client: BleakClient | None = None
        self.decoder: PacketDecoder | None = None
        self._packet_index = 0
        # The last LIVE_WINDOW_S of one motion signal for the live cadence: a thigh's gyro norm swings once per
        # stride, the pelvis acceleration norm peaks once per step.
        self._live = np.full(int(LIVE_WINDOW_S * rate_hz), np.nan)
        self._live_per_stride = site != "pelvis"
        self._lost_before = 0
        self._bad_before = 0

    def _on_notify(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        self.queue.put_nowait((self.backend.clock_ns(), bytes(data)))

    def _on_disconnect(self, _client: BleakClient) -> None:
        self.status.connected = False
        self.lost_link.set()

    async def connect(self, lock: asyncio.Lock) -> dict[str, Any]:
        """Connect (one sensor at a time, as bleak advises) and start streaming."""
        async with lock:
            client = BleakClient(self.device, disconnected_callback=self._on_disconnect, backend=self.backend.client)
            await client.connect()
            try:
                # Fresh decoder per connection: the device drops subscriptions with the link.
                if self.decoder is not None:
                    self._lost_before += self.decoder.lost_packets
                    self._bad_before += self.decoder.bad_packets
                self.decoder = self.driver.decoder(self.rate_hz)
                info = await self.driver.start(client, self.rate_hz, self._on_notify)
            except BaseException:
                with contextlib.suppress(BleakError, OSError):
                    await client.disconnect()
                raise
        self.client = client
        self.lost_link.clear()
        self.status.connected = True
        return info

    def update_live(self) -> None:
        """Refresh the live cadence (called at the status rate, not per packet)."""
        self.status.cadence_spm = live_cadence(self._live, self.rate_hz, per_stride=self._live_per_stride).cadence_spm

    async def disconnect(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        with contextlib.suppress(BleakError, OSError, TimeoutError):
            if client.is_connected:
                await self.driver.stop(client)
        with contextlib.suppress(BleakError, OSError, TimeoutError):
            await client.disconnect()
        self.status.connected = False

    def consume(self, arrival_ns: int, data: bytes) -> None:
        """Decode one notification and queue its samples for the writer (never raises on bad bytes)."""
        assert self.decoder is not None
        if self.deadline_ns is not None and arrival_ns >= self.deadline_ns:
            return  # past --duration: a fast simulated source may overshoot before the main loop notices
        decoded: DecodedSamples | None = self.decoder.feed(data)
        self.status.lost_packets = self._lost_before + self.decoder.lost_packets
        self.status.bad_packets = self._bad_before + self.decoder.bad_packets
        if decoded is None or len(decoded) == 0:
            return
        n = len(decoded)
        self.writer.append(
            RawBatch(
                packet=np.full(n, self._packet_index, dtype=np.int64),
                t_host_ns=np.full(n, arrival_ns, dtype=np.int64),
                t_device_us=decoded.t_device_us,
                counter=decoded.counter,
                acc=decoded.acc,
                gyr=decoded.gyr,
            ),
            now_ns=arrival_ns,
        )
        self._packet_index += 1
        motion = np.linalg.norm(decoded.gyr if self._live_per_stride else decoded.acc, axis=1)[-self._live.size :]
        self._live = np.concatenate([self._live[motion.size :], motion])
        st = self.status
        st.packets += 1
        st.samples += n
        st.seconds = (arrival_ns - self.t0_ns) / 1e9
        st._recent.append((arrival_ns, st.samples))
        (t_a, s_a), (t_b, s_b) = st._recent[0], st._recent[-1]
        st.rate_hz = (s_b - s_a) / ((t_b - t_a) / 1e9) if t_b > t_a else 0.0


async def consume_packets(link: SensorLink) -> None:
    while (item := await link.queue.get()) is not None:
        link.consume(*item)
        if link.queue.empty():
            await asyncio.sleep(0)  # let producers run when a fast source fills the queue in bursts


async def keep_connected(
    link: SensorLink,
    target: SensorTarget,
    lock: asyncio.Lock,
    stop: asyncio.Event,
    drivers: Sequence[DeviceDriver],
    timeout_s: float,
) -> None:
    """Reconnect with backoff whenever the link drops, until ``stop``.

    Only the lost sensor is scanned for: connected sensors stop advertising, so waiting for all would never end.
    """
    delay = 0.5
    while not stop.is_set():
        await _wait_any(link.lost_link, stop)
        if stop.is_set():
            return
        link.status.last_error = "link lost; reconnecting"
        logger.warning("%s: link lost, reconnecting", link.site)
        while not stop.is_set():
            try:
                found = await discover([target], drivers, link.backend, timeout_s)
                link.device = found[target.site][0]
                await link.connect(lock)
            except (BleakError, OSError, TimeoutError, SensorNotFoundError) as exc:
                link.status.last_error = f"reconnect failed: {exc}"
                await sleep_or_stop(stop, delay)
                delay = min(delay * 2, 5.0)
                continue
            link.status.reconnects += 1
            link.status.last_error = ""
            delay = 0.5
            break


async def _wait_any(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)

# ruff: noqa: ARG002  (the backend methods' signatures are bleak's; the simulator ignores some arguments)
"""A Movesense-like GSP peripheral behind bleak's backend seam, shared by the simulator and the replay backend.

:class:`GspPeripheral` holds the device side of GSP (HELLO, SUBSCRIBE slots, the 507 and 404 replies,
UNSUBSCRIBE, links that drop); subclasses decide what a subscription streams. :func:`make_backends` builds the
``BaseBleakScanner`` / ``BaseBleakClient`` subclasses bound to a set of peripherals and their scheduler.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
from bleak.args import SizedBuffer
from bleak.assigned_numbers import CharacteristicPropertyName
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError

from sensors.devices import movesense as ms
from sensors.sim._scheduler import VirtualScheduler

logger = logging.getLogger(__name__)

MTU_SIZE = 247
ADVERTISING_INTERVAL_S = 0.1  # period of re-advertising while a scanner runs (wall clock and virtual clock)


class Link:
    """One connection: where notifications go, and whether it is still up."""

    def __init__(self, on_lost: Callable[[], None]) -> None:
        self.alive = True
        self.notify: NotifyCallback | None = None
        self.last_delivery_ns = 0  # BLE delivers a link's notifications in order
        self._on_lost = on_lost

    def deliver(self, data: bytes) -> None:
        if self.alive and self.notify is not None:
            self.notify(bytearray(data))

    def lost(self) -> None:
        """The link dropped unsolicited: tell the client the way a platform backend does."""
        self.alive = False
        asyncio.get_running_loop().call_soon(self._on_lost)


class GspPeripheral:
    """The device side of GSP: commands in, notifications out through the scheduler."""

    def __init__(
        self,
        name: str,
        address: str,
        scheduler: VirtualScheduler,
        *,
        rssi: int,
        latency_ms: tuple[float, float],
        rng: np.random.Generator,
        battery_pct: int = 87,
    ) -> None:
        self.name = name
        self.address = address
        self.rssi = rssi
        self.battery_pct = battery_pct
        self.scheduler = scheduler
        self.link: Link | None = None
        self.subscriptions: dict[int, int] = {}  # client reference -> rate, Hz
        self._latency_ms = latency_ms
        self._link_rng = rng

    # -- link ----------------------------------------------------------------------------------------------------
    def is_away(self) -> bool:
        """Out of range (not advertising, not connectable)."""
        return False

    def advertising(self) -> bool:
        """Connectable devices advertise; a connected one does not."""
        return self.link is None and not self.is_away()

    def streaming(self) -> bool:
        return self.link is not None and bool(self.subscriptions)

    def connect(self, on_lost: Callable[[], None]) -> Link:
        if self.is_away():
            raise BleakDeviceNotFoundError(self.address, f"{self.name} ({self.address}) is out of range")
        if self.link is not None:
            raise BleakError(f"{self.name} is already connected to another central; disconnect it first")
        self.link = Link(on_lost)
        return self.link

    def disconnect(self, link: Link) -> None:
        """The central disconnects (no disconnected callback, as on a platform backend)."""
        if self.link is link:
            self._drop()
            link.alive = False

    def drop_link(self) -> None:
        """The radio link is lost: subscriptions go, the central is told."""
        link = self.link
        if link is not None:
            self._drop()
            link.lost()

    def _drop(self) -> None:
        self.link = None
        for ref in list(self.subscriptions):
            del self.subscriptions[ref]
            self._stop_stream(ref)
        self.scheduler.poke()

    # -- commands ------------------------------------------------------------------------------------------------
    def write_command(self, data: bytes) -> None:
        if len(data) < 2:
            logger.info("%s: ignored a %d-byte command", self.name, len(data))
            return
        cmd, ref = data[0], data[1]
        if cmd == ms.CMD_HELLO:
            self.send([ms.hello_response(ref)])
        elif cmd == ms.CMD_SUBSCRIBE:
            rate = ms.parse_imu6_path(data[2:].decode("ascii", "replace"))
            if ref in self.subscriptions:
                del self.subscriptions[ref]
                self._stop_stream(ref)
            if len(self.subscriptions) >= ms.MAX_SUBSCRIPTIONS:
                self.send([ms.status_response(ref, ms.STATUS_INSUFFICIENT_STORAGE)])
            elif rate is None:
                self.send([ms.status_response(ref, ms.STATUS_NOT_FOUND)])  # simulator convention, see the note
            else:
                self.subscriptions[ref] = rate
                self._start_stream(ref, rate)
                self.scheduler.poke()
        elif cmd == ms.CMD_UNSUBSCRIBE and ref in self.subscriptions:
            del self.subscriptions[ref]
            self._stop_stream(ref)

    def _start_stream(self, ref: int, rate_hz: int) -> None:
        raise NotImplementedError

    def _stop_stream(self, ref: int) -> None:
        raise NotImplementedError

    # -- notifications -------------------------------------------------------------------------------------------
    def latency_ns(self) -> int:
        lo, hi = self._latency_ms
        return int(self._link_rng.uniform(lo, hi) * 1e6)

    def send(self, parts: Sequence[bytes], ready_ns: int | None = None, latency_ns: int | None = None) -> None:
        """Deliver ``parts`` on the current link ``latency`` after ``ready_ns`` (default: now), in link order."""
        link = self.link
        if link is None:
            return
        ready = self.scheduler.now_ns() if ready_ns is None else ready_ns
        t_ns = max(ready + (self.latency_ns() if latency_ns is None else latency_ns), link.last_delivery_ns)
        link.last_delivery_ns = t_ns
        for part in parts:
            self.scheduler.at(t_ns, functools.partial(link.deliver, part), in_flight=True)


def gsp_services() -> BleakGATTServiceCollection:
    """The GATT table of a GSP sensor: GSP service (command, data) and the battery service."""
    services = BleakGATTServiceCollection()
    table: list[tuple[int, str, list[tuple[int, str, list[CharacteristicPropertyName]]]]] = [
        (0x000C, ms.SERVICE_UUID, [(0x000E, ms.COMMAND_CHAR_UUID, ["write"]), (0x0010, ms.DATA_CHAR_UUID, ["notify"])]),
        (0x0020, ms.BATTERY_SERVICE_UUID, [(0x0022, ms.BATTERY_LEVEL_UUID, ["read", "notify"])]),
    ]
    for handle, uuid, chars in table:
        service = BleakGATTService(None, handle, uuid)
        services.add_service(service)
        for char_handle, char_uuid, props in chars:
            services.add_characteristic(
                BleakGATTCharacteristic(None, char_handle, char_uuid, props, lambda: MTU_SIZE - 3, service)
            )
    return services


class _GspScanner(BaseBleakScanner):
    peripherals: ClassVar[tuple[GspPeripheral, ...]] = ()
    scheduler: ClassVar[VirtualScheduler]

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None = None,
        service_uuids: list[str] | None = None,
        scanning_mode: str = "active",
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._task: asyncio.Task[None] | None = None
        self._running = False

    async def start(self) -> None:
        self.scheduler.ensure_running()
        self.seen_devices = {}
        self._running = True
        self._advertise()
        self._task = asyncio.get_running_loop().create_task(self._keep_advertising())
        self._advertise_in_virtual_time()

    async def stop(self) -> None:
        self._running = False
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _keep_advertising(self) -> None:
        while True:
            await asyncio.sleep(ADVERTISING_INTERVAL_S)
            self._advertise()

    def _advertise_in_virtual_time(self) -> None:
        # Also advertise on the virtual clock, so a device coming back in range is seen at once even when virtual
        # time runs far faster than the wall clock.
        def tick() -> None:
            if self._running:
                self._advertise()
                self._advertise_in_virtual_time()

        self.scheduler.at(self.scheduler.now_ns() + round(ADVERTISING_INTERVAL_S * 1e9), tick)

    def _advertise(self) -> None:
        for p in self.peripherals:
            if not p.advertising():
                continue
            adv = AdvertisementData(
                local_name=p.name,
                manufacturer_data={},
                service_data={},
                service_uuids=[ms.SERVICE_UUID],
                tx_power=None,
                rssi=p.rssi,
                platform_data=(),
            )
            if self.is_allowed_uuid(adv.service_uuids):
                device: BLEDevice = self.create_or_update_device(p.address, p.address, p.name, None, adv)
                self.call_detection_callbacks(device, adv)


class _GspClient(BaseBleakClient):
    peripherals: ClassVar[tuple[GspPeripheral, ...]] = ()
    scheduler: ClassVar[VirtualScheduler]

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
        wanted = self.address.upper()
        self._peripheral = next((p for p in self.peripherals if p.address.upper() == wanted), None)
        self._link: Link | None = None

    @property
    def name(self) -> str:
        return self._peripheral.name if self._peripheral is not None else self.address

    @property
    def mtu_size(self) -> int:
        return MTU_SIZE

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        self.scheduler.ensure_running()
        if self._peripheral is None:
            raise BleakDeviceNotFoundError(self.address, f"Device with address {self.address} was not found.")
        self._link = self._peripheral.connect(self._on_lost)
        self.services = gsp_services()

    def _on_lost(self) -> None:
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        link, self._link = self._link, None
        if link is not None and self._peripheral is not None:
            self._peripheral.disconnect(link)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """GSP needs no pairing."""

    async def unpair(self) -> None:
        """GSP needs no pairing."""

    @property
    def is_connected(self) -> bool:
        return self._link is not None and self._link.alive

    def _connected(self) -> tuple[GspPeripheral, Link]:
        if self._peripheral is None or self._link is None or not self._link.alive:
            raise BleakError("Not connected")
        return self._peripheral, self._link

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        peripheral, _ = self._connected()
        if characteristic.uuid == ms.BATTERY_LEVEL_UUID:
            return bytearray([peripheral.battery_pct])
        raise BleakError(f"characteristic {characteristic.uuid} is not readable")

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        raise BleakError("the simulated sensor has no descriptors")

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool) -> None:
        peripheral, _ = self._connected()
        if characteristic.uuid != ms.COMMAND_CHAR_UUID:
            raise BleakError(f"characteristic {characteristic.uuid} is not writable")
        peripheral.write_command(bytes(data))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: SizedBuffer) -> None:
        raise BleakError("the simulated sensor has no descriptors")

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        _, link = self._connected()
        if characteristic.uuid == ms.DATA_CHAR_UUID:
            link.notify = callback
        elif characteristic.uuid != ms.BATTERY_LEVEL_UUID:
            raise BleakError(f"characteristic {characteristic.uuid} does not notify")

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        _, link = self._connected()
        if characteristic.uuid == ms.DATA_CHAR_UUID:
            link.notify = None


def make_backends(
    prefix: str, scheduler: VirtualScheduler, peripherals: Sequence[GspPeripheral]
) -> tuple[type[BaseBleakScanner], type[BaseBleakClient]]:
    """Scanner and client backend classes bound to ``peripherals`` (``BleakClient(..., backend=Client)``)."""
    bound = tuple(peripherals)
    scanner = type(f"{prefix}BleakScanner", (_GspScanner,), {"peripherals": bound, "scheduler": scheduler})
    client = type(f"{prefix}BleakClient", (_GspClient,), {"peripherals": bound, "scheduler": scheduler})
    return scanner, client

"""What the recorder needs from a device family: matching, starting, stopping, decoding.

A family module (``sensors/devices/<family>.py``) holds a pure codec (bytes ⇄ SI arrays, commands → bytes) and a
driver object implementing :class:`DeviceDriver`, the only part that touches a ``BleakClient``. The recorder knows
nothing of any byte format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from numpy.typing import NDArray

NotifyCallback = Callable[[BleakGATTCharacteristic, bytearray], None]


@dataclass(frozen=True)
class DecodedSamples:
    """Samples decoded from one notification (or one reassembled multi-part message)."""

    t_device_us: NDArray[np.int64] | None  # per sample, device clock, unwrapped by the decoder; None if none
    counter: NDArray[np.int64] | None  # per sample, device counter if the family has one
    acc: NDArray[np.float32]  # (n, 3) m/s², sensor frame
    gyr: NDArray[np.float32]  # (n, 3) deg/s, sensor frame

    def __len__(self) -> int:
        return int(self.acc.shape[0])


class PacketDecoder(Protocol):
    """Stateful decoder of one sensor's notification stream (reassembly, wrap-around, loss counting)."""

    bad_packets: int  # notifications that could not be decoded (counted and dropped, never fatal)
    lost_packets: int  # notifications inferred missing from the device clock or counter

    def feed(self, data: bytes) -> DecodedSamples | None:
        """Decode one notification; None when it completes no samples (a first part, an ack, or garbage)."""
        ...


class DeviceDriver(Protocol):
    """One device family, as the recorder sees it."""

    family: str  # codec name stored in session.json, e.g. "movesense"
    model: str  # human-readable model, e.g. "Movesense (GSP)"

    def matches(self, device: BLEDevice, adv: AdvertisementData) -> bool:
        """True when an advertisement belongs to this family."""
        ...

    def supported_rate(self, rate_hz: float) -> float:
        """The nearest rate the device streams at (the recorder asks for ``rate_hz``)."""
        ...

    async def start(self, client: BleakClient, rate_hz: float, on_notify: NotifyCallback) -> dict[str, Any]:
        """Enable notifications with ``on_notify`` and configure/start streaming.

        Returns what was learnt about the device (``firmware``, ``acc_range_g``, ``gyr_range_dps``, ...) for
        session.json. ``on_notify`` only stamps and queues; the driver must not decode inside it.
        """
        ...

    async def stop(self, client: BleakClient) -> None:
        """Stop streaming and disable notifications; must tolerate a link that is already gone."""
        ...

    def decoder(self, rate_hz: float) -> PacketDecoder:
        """A fresh decoder for one connection's notification stream."""
        ...

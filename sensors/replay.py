"""Replay a stored session as live Movesense sensors, through bleak's backend seam.

``scanner, client, player = replay_backends(session, speed)`` gives backend classes for ``BleakScanner`` /
``BleakClient`` and a :class:`ReplayPlayer` (the virtual clock: ``player.clock_ns()``, or call ``player()``; plus
``player.done`` and ``player.names``). Each stored sensor advertises under its stored name (``Movesense <site>``
for imported sessions) and, once subscribed to ``/Meas/IMU6/<rate>``, re-emits its recorded samples as GSP
notifications: one message per recorded ``packet`` (longer groups are split into messages of 8), with the device
timestamp taken from ``t_device_us`` (or from the sample index and the stored rate when the recording has none).

**Time.** The player's clock reads the recorded host clock: ``clock_ns()`` starts at the session's ``host_t0_ns``
(or at the first recorded arrival if that is earlier or unset) and stays there until the first subscription.
Then it runs at ``speed``× the wall clock (None: as fast as the consumers allow, and only while every connected
sensor is subscribed), and each message is delivered when the clock reaches its recorded ``t_host_ns``. A recorder
stamping with ``player.clock_ns`` therefore sees the original arrival times. A sensor subscribed late first sends
what it missed at once, in order. ``done`` is set after the last recorded arrival.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass

import numpy as np
from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner
from numpy.typing import NDArray

from pipeline.errors import DataContractError
from pipeline.store import RawStream, SensorInfo, Session, read_raw
from sensors.devices import movesense as ms
from sensors.errors import SensorNotFoundError
from sensors.sim._gsp_peripheral import GspPeripheral, make_backends
from sensors.sim._scheduler import VirtualScheduler

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Message:
    t_ns: int  # recorded arrival, ns since the player's origin
    timestamp_ms: int
    acc: NDArray[np.float64]
    gyr: NDArray[np.float64]


def _messages(stream: RawStream, rate_hz: float, origin_ns: int) -> list[_Message]:
    """One message per recorded packet (groups longer than the protocol allows are split into 8s)."""
    n = len(stream)
    if n == 0:
        return []
    starts = np.concatenate([[0], np.flatnonzero(np.diff(stream.packet) != 0) + 1])
    ends = np.append(starts[1:], n)
    out = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        step = end - start if end - start <= ms.MAX_IMU6_SAMPLES else ms.SAMPLES_PER_MESSAGE
        for i in range(start, end, step):
            j = min(i + step, end)
            if stream.t_device_us is not None and stream.t_device_us[i] >= 0:
                ts_ms = round(int(stream.t_device_us[i]) / 1000)
            else:
                ts_ms = round(i * 1000 / rate_hz)
            out.append(_Message(int(stream.t_host_ns[start]) - origin_ns, ts_ms, stream.acc[i:j], stream.gyr[i:j]))
    return out


def _rate_of(stream: RawStream, sensor: SensorInfo | None) -> float:
    if sensor is not None and sensor.rate_hz > 0:
        return sensor.rate_hz
    if stream.t_device_us is not None and len(stream) > 1:
        dt_us = float(np.median(np.diff(stream.t_device_us)))
        if dt_us > 0:
            return 1e6 / dt_us
    return 104.0  # the imugait default rate


@dataclass
class _Cursor:
    ref: int
    active: bool = True


class ReplayDevice(GspPeripheral):
    """One stored sensor, re-emitting its recording."""

    def __init__(
        self, site: str, index: int, stream: RawStream, sensor: SensorInfo | None, player: ReplayPlayer
    ) -> None:
        stored = sensor is not None and sensor.family != "imported"
        super().__init__(
            sensor.name if sensor is not None and stored and sensor.name else f"Movesense {site}",
            sensor.address if sensor is not None and sensor.address else f"02:52:50:4C:59:{index + 1:02X}",
            player.scheduler,
            rssi=-50 - 5 * index,
            latency_ms=(0.0, 0.0),
            rng=np.random.default_rng(index),
        )
        self.site = site
        self.rate_hz = _rate_of(stream, sensor)
        self.messages = _messages(stream, self.rate_hz, player.scheduler.origin_ns)
        self.next_message = 0
        self._cursor: _Cursor | None = None

    def _start_stream(self, ref: int, rate_hz: int) -> None:
        if abs(rate_hz - self.rate_hz) > 0.5:
            logger.warning("%s: subscribed at %d Hz; replaying the recorded %g Hz", self.name, rate_hz, self.rate_hz)
        if self._cursor is not None:
            self._cursor.active = False
        self._cursor = cursor = _Cursor(ref)
        self.scheduler.start()
        self._schedule(cursor)

    def _stop_stream(self, ref: int) -> None:
        if self._cursor is not None and self._cursor.ref == ref:
            self._cursor.active = False
            self._cursor = None

    def _schedule(self, cursor: _Cursor) -> None:
        if self.next_message < len(self.messages):
            t_ns = max(self.messages[self.next_message].t_ns, self.scheduler.now_ns())
            self.scheduler.at(t_ns, functools.partial(self._emit, cursor, t_ns))

    def _emit(self, cursor: _Cursor, t_ns: int) -> None:
        if not cursor.active:
            return
        msg = self.messages[self.next_message]
        self.send(ms.encode_imu6(cursor.ref, msg.timestamp_ms, msg.acc, msg.gyr), t_ns, latency_ns=0)
        self.next_message += 1
        self._schedule(cursor)


class ReplayPlayer:
    """The replay's virtual clock, its devices and its end."""

    def __init__(self, session: Session, speed: float | None) -> None:
        streams = {site: read_raw(session.raw_path(site)) for site in session.raw_sites()}
        arrivals = [int(s.t_host_ns[0]) for s in streams.values() if len(s)]
        if not arrivals:
            raise DataContractError("the session has no recorded samples to replay", path=session.path)
        t0 = session.meta.host_t0_ns
        origin_ns = t0 if 0 < t0 <= min(arrivals) else min(arrivals)
        self.session = session
        self.scheduler = VirtualScheduler(speed, origin_ns, self._may_advance)
        sensors = {s.site: s for s in session.meta.sensors}
        self.devices = [
            ReplayDevice(site, i, stream, sensors.get(site), self) for i, (site, stream) in enumerate(streams.items())
        ]
        self.names: dict[str, str] = {d.site: d.name for d in self.devices}
        self.done = asyncio.Event()
        last_ns = max((d.messages[-1].t_ns for d in self.devices if d.messages), default=0)
        self.scheduler.at(last_ns + 1, self.done.set)

    def _may_advance(self) -> bool:
        connected = [d for d in self.devices if d.link is not None]
        return bool(connected) and all(d.streaming() for d in connected)

    def site_of(self, name_or_address: str) -> str:
        """The site of a replayed sensor given its advertised name or address."""
        wanted = name_or_address.upper()
        for d in self.devices:
            if wanted in (d.name.upper(), d.address.upper()):
                return d.site
        raise SensorNotFoundError(name_or_address, "no replayed sensor has this name or address")

    def clock_ns(self) -> int:
        """The replayed host clock, ns (the recorded ``t_host_ns`` timeline)."""
        return self.scheduler.clock_ns()

    __call__ = clock_ns

    async def aclose(self) -> None:
        """Stop the scheduler task."""
        await self.scheduler.aclose()


def replay_backends(
    session: Session, speed: float | None
) -> tuple[type[BaseBleakScanner], type[BaseBleakClient], ReplayPlayer]:
    """Backend classes replaying ``session`` at ``speed`` (None: as fast as possible) and the player (clock)."""
    player = ReplayPlayer(session, speed)
    scanner, client = make_backends("Replay", player.scheduler, player.devices)
    return scanner, client, player

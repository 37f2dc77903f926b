"""Movesense over the GATT SensorData Protocol (GSP): a pure codec and the :class:`MovesenseDriver`.

The byte format, its sources and the hex test vectors are in ``firmware_notes/movesense_gsp.md`` (the tests read
the vectors from that page). In short: commands ``[cmd][ref][data]`` go to the command characteristic; the data
characteristic notifies ``01 ref ...`` command results and ``02 ref`` / ``03 ref`` data messages. An IMU6 message
is ``u32 timestamp_ms`` + N × acc xyz float32 (m/s²) + N × gyro xyz float32 (deg/s), split after 150 payload bytes
into DATA + DATA_PART2.
"""

from __future__ import annotations

import logging
import re
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
from bleak import BleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError
from numpy.typing import NDArray

from sensors.devices._driver import DecodedSamples, NotifyCallback
from sensors.errors import PacketDecodeError

logger = logging.getLogger(__name__)

SERVICE_UUID = "34802252-7185-4d5d-b431-630e7050e8f0"
COMMAND_CHAR_UUID = "34800001-7185-4d5d-b431-630e7050e8f0"
DATA_CHAR_UUID = "34800002-7185-4d5d-b431-630e7050e8f0"
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
FIRMWARE_REVISION_UUID = "00002a26-0000-1000-8000-00805f9b34fb"

CMD_HELLO = 0x00
CMD_SUBSCRIBE = 0x01
CMD_UNSUBSCRIBE = 0x02
MSG_COMMAND_RESULT = 0x01
MSG_DATA = 0x02
MSG_DATA_PART2 = 0x03

HELLO_TEXT = b"Hello"
STATUS_NOT_FOUND = 404
STATUS_INSUFFICIENT_STORAGE = 507  # 5th subscription; the sample firmware sends it big-endian (01 FB)
MAX_SUBSCRIPTIONS = 4
MAX_PATH_CHARS = 159
PART1_PAYLOAD = 150  # payload bytes carried by a DATA notification before a DATA_PART2 is needed
PART2_MAX_PAYLOAD = 156  # firmware buffer 158 bytes minus the 2-byte header
IMU6_SAMPLE_BYTES = 24  # acc xyz + gyro xyz, float32
MAX_IMU6_SAMPLES = (PART1_PAYLOAD + PART2_MAX_PAYLOAD - 4) // IMU6_SAMPLE_BYTES  # 12
SAMPLES_PER_MESSAGE = 8  # at 104 Hz per the official client; other rates UNVERIFIED, decoders use the length
SUPPORTED_RATES_HZ: tuple[int, ...] = (13, 26, 52, 104, 208)
HELLO_REF = 0x01
DATA_REF = 0x63  # the client reference of the official Python client's example
U32 = 1 << 32
_IMU6_PATH = re.compile(r"^/Meas/IMU6/(\d+)$")


# ---------------------------------------------------------------------------------------------------------------
# Commands (client → sensor)


def _check_ref(ref: int) -> int:
    if not 1 <= ref <= 255:
        raise ValueError(f"client reference must be 1..255, got {ref}")
    return ref


def hello_command(ref: int) -> bytes:
    """HELLO: the sensor answers ``01 ref "Hello"``."""
    return bytes((CMD_HELLO, _check_ref(ref)))


def subscribe_command(ref: int, path: str) -> bytes:
    """SUBSCRIBE to a resource path (ASCII, no NUL), e.g. ``/Meas/IMU6/104``; data then arrives tagged ``ref``."""
    raw = path.encode("ascii")
    if not raw or len(raw) > MAX_PATH_CHARS:
        raise ValueError(f"resource path must be 1..{MAX_PATH_CHARS} ASCII characters, got {len(raw)}")
    return bytes((CMD_SUBSCRIBE, _check_ref(ref))) + raw


def unsubscribe_command(ref: int) -> bytes:
    """UNSUBSCRIBE the stream started with the same ``ref``; the sensor does not reply."""
    return bytes((CMD_UNSUBSCRIBE, _check_ref(ref)))


def imu6_path(rate_hz: float) -> str:
    """``/Meas/IMU6/<rate>`` for a supported rate (13, 26, 52, 104, 208 Hz)."""
    if rate_hz not in SUPPORTED_RATES_HZ:
        raise ValueError(f"unsupported IMU6 rate {rate_hz:g} Hz; use one of {SUPPORTED_RATES_HZ}")
    return f"/Meas/IMU6/{int(rate_hz)}"


def parse_imu6_path(path: str) -> int | None:
    """The rate of a valid ``/Meas/IMU6/<rate>`` path, None for anything else."""
    match = _IMU6_PATH.match(path)
    if match is None or int(match.group(1)) not in SUPPORTED_RATES_HZ:
        return None
    return int(match.group(1))


# ---------------------------------------------------------------------------------------------------------------
# Notifications (sensor → client)


def hello_response(ref: int) -> bytes:
    """The sensor's answer to HELLO."""
    return bytes((MSG_COMMAND_RESULT, ref)) + HELLO_TEXT


def status_response(ref: int, status: int, *, big_endian: bool = True) -> bytes:
    """A command-result status, big-endian as the sample firmware sends it."""
    return bytes((MSG_COMMAND_RESULT, ref)) + status.to_bytes(2, "big" if big_endian else "little")


@dataclass(frozen=True)
class CommandResult:
    """A decoded ``01 ref ...`` notification: the HELLO answer or a status code."""

    ref: int
    hello: bool
    status: int | None


def parse_status(two: bytes) -> int:
    """A 2-byte status in either byte order (the sample firmware sends big-endian, third parties expect little).

    The order giving an HTTP-style code (100..599) wins; if both do, big-endian (what the firmware sends).
    """
    big, little = int.from_bytes(two, "big"), int.from_bytes(two, "little")
    if 100 <= big <= 599:
        return big
    if 100 <= little <= 599:
        return little
    return big


def parse_command_result(data: bytes) -> CommandResult:
    """Decode a command result; raise :class:`PacketDecodeError` if ``data`` is not one."""
    if len(data) < 3 or data[0] != MSG_COMMAND_RESULT:
        raise PacketDecodeError(f"not a command result: {data.hex(' ')}")
    body = bytes(data[2:])
    if body == HELLO_TEXT:
        return CommandResult(data[1], True, None)
    if len(body) == 2:
        return CommandResult(data[1], False, parse_status(body))
    raise PacketDecodeError(f"command result with a {len(body)}-byte body: {data.hex(' ')}")


def encode_imu6(ref: int, timestamp_ms: int, acc: NDArray[Any], gyr: NDArray[Any]) -> list[bytes]:
    """The notifications carrying one IMU6 message: DATA, plus DATA_PART2 when the payload exceeds 150 bytes.

    ``acc`` (N, 3) m/s² and ``gyr`` (N, 3) deg/s become float32; ``timestamp_ms`` (the device time of the first
    sample) is sent as u32, i.e. modulo 2**32 like the device's own counter.
    """
    acc32 = np.ascontiguousarray(acc, dtype="<f4")
    gyr32 = np.ascontiguousarray(gyr, dtype="<f4")
    n = acc32.shape[0]
    if acc32.shape != (n, 3) or gyr32.shape != (n, 3) or not 1 <= n <= MAX_IMU6_SAMPLES:
        raise ValueError(
            f"acc and gyr must both be (N, 3) with 1 <= N <= {MAX_IMU6_SAMPLES}; got {acc32.shape}, {gyr32.shape}"
        )
    if not 0 <= ref <= 255:
        raise ValueError(f"client reference must be 0..255, got {ref}")
    payload = struct.pack("<I", timestamp_ms % U32) + acc32.tobytes() + gyr32.tobytes()
    if len(payload) <= PART1_PAYLOAD:
        return [bytes((MSG_DATA, ref)) + payload]
    return [
        bytes((MSG_DATA, ref)) + payload[:PART1_PAYLOAD],
        bytes((MSG_DATA_PART2, ref)) + payload[PART1_PAYLOAD:],
    ]


class MovesenseDecoder:
    """Stateful decoder of one connection's GSP data notifications (IMU6).

    Reassembles DATA + DATA_PART2, derives N from the payload length, unwraps the u32 ms timestamp and interpolates
    per-sample device time ``t_i = ts + i·1000/rate`` ms (returned in µs, unwrapped). Loss: consecutive messages
    should be ``N·1000/rate`` ms apart; a step of m such periods (± half a sample) counts m − 1 lost messages. Any
    other step (backwards, or not a whole number of messages: a sensor FIFO overflow) counts in ``clock_jumps``.
    Command results are recorded (``hello_seen``, ``statuses``), never counted as bad. Bad notifications
    (truncated, oversize, unknown type, wrong ref, orphan or missing part) count in ``bad_packets``; nothing raises.
    """

    def __init__(self, rate_hz: float, *, ref: int | None = DATA_REF) -> None:
        if rate_hz <= 0:
            raise ValueError(f"rate must be positive, got {rate_hz}")
        self.rate_hz = float(rate_hz)
        self.ref = ref
        self.bad_packets = 0
        self.lost_packets = 0
        self.clock_jumps = 0
        self.hello_seen = 0
        self.statuses: list[int] = []
        self._part1: bytes | None = None
        self._last_raw_ms: int | None = None
        self._last_ms = 0
        self._last_n = 0

    def feed(self, data: bytes) -> DecodedSamples | None:
        """Decode one notification; None for a first part, a command result or a bad packet."""
        try:
            return self._feed(bytes(data))
        except PacketDecodeError as exc:
            self.bad_packets += 1
            logger.debug("dropped a bad notification: %s", exc)
            return None

    def _feed(self, data: bytes) -> DecodedSamples | None:
        if len(data) < 2:
            raise PacketDecodeError(f"{len(data)}-byte notification")
        kind, ref = data[0], data[1]
        if kind == MSG_COMMAND_RESULT:
            result = parse_command_result(data)
            if result.hello:
                self.hello_seen += 1
            elif result.status is not None:
                self.statuses.append(result.status)
                logger.info("sensor answered ref %d with status %d", result.ref, result.status)
            return None
        if kind not in (MSG_DATA, MSG_DATA_PART2):
            raise PacketDecodeError(f"unknown notification type 0x{kind:02x}")
        if self.ref is not None and ref != self.ref:
            raise PacketDecodeError(f"data for reference {ref}, expected {self.ref}")
        body = data[2:]
        if kind == MSG_DATA:
            if self._part1 is not None:
                self._part1 = None
                self.bad_packets += 1  # the previous message never got its second part
            if len(body) > PART1_PAYLOAD:
                raise PacketDecodeError(f"oversize DATA ({len(data)} bytes)")
            if len(body) == PART1_PAYLOAD:
                self._part1 = body
                return None
            return self._decode(body)
        if self._part1 is None:
            raise PacketDecodeError("DATA_PART2 without a first part")
        payload, self._part1 = self._part1 + body, None
        if len(body) > PART2_MAX_PAYLOAD:
            raise PacketDecodeError(f"oversize DATA_PART2 ({len(data)} bytes)")
        return self._decode(payload)

    def _decode(self, payload: bytes) -> DecodedSamples:
        n, rest = divmod(len(payload) - 4, IMU6_SAMPLE_BYTES)
        if n < 1 or rest:
            raise PacketDecodeError(f"IMU6 payload of {len(payload)} bytes is not 4 + N·24")
        raw_ms = int.from_bytes(payload[:4], "little")
        values = np.frombuffer(payload, dtype="<f4", offset=4).reshape(2, n, 3)
        ms = self._unwrap(raw_ms)
        self._last_n = n
        t_us = np.rint((ms + np.arange(n) * (1000.0 / self.rate_hz)) * 1000.0).astype(np.int64)
        return DecodedSamples(
            t_device_us=t_us,
            counter=None,
            acc=values[0].astype(np.float32),
            gyr=values[1].astype(np.float32),
        )

    def _unwrap(self, raw_ms: int) -> int:
        if self._last_raw_ms is None:
            self._last_raw_ms, self._last_ms = raw_ms, raw_ms
            return raw_ms
        step = (raw_ms - self._last_raw_ms) % U32
        if step >= U32 // 2:
            step -= U32
        self._last_raw_ms = raw_ms
        self._last_ms += step
        period_ms = self._last_n * 1000.0 / self.rate_hz
        messages = round(step / period_ms)
        if messages >= 1 and abs(step - messages * period_ms) <= 500.0 / self.rate_hz:
            self.lost_packets += messages - 1
        else:
            self.clock_jumps += 1
        return self._last_ms


# ---------------------------------------------------------------------------------------------------------------
# Driver


class MovesenseDriver:
    """Movesense sensors running GSP (default firmware ≥ 2.3.0 or the gatt_sensordata_app sample)."""

    family = "movesense"
    model = "Movesense (GSP)"

    def matches(self, device: BLEDevice, adv: AdvertisementData) -> bool:
        """Movesense advertise as ``Movesense <serial>``."""
        return (adv.local_name or device.name or "").startswith("Movesense")

    def supported_rate(self, rate_hz: float) -> float:
        """The nearest IMU6 rate the sensor offers."""
        return float(min(SUPPORTED_RATES_HZ, key=lambda r: (abs(r - rate_hz), r)))

    async def start(self, client: BleakClient, rate_hz: float, on_notify: NotifyCallback) -> dict[str, Any]:
        """Enable data notifications, say HELLO and subscribe ``/Meas/IMU6/<rate>`` (reference ``DATA_REF``).

        GSP cannot read ranges or the firmware version; they are reported only if the device exposes the standard
        Device Information firmware revision, otherwise left unknown ("" / None).
        """
        rate = self.supported_rate(rate_hz)
        await client.start_notify(DATA_CHAR_UUID, on_notify)
        await client.write_gatt_char(COMMAND_CHAR_UUID, hello_command(HELLO_REF), response=True)
        await client.write_gatt_char(COMMAND_CHAR_UUID, subscribe_command(DATA_REF, imu6_path(rate)), response=True)
        return {
            "firmware": await _read_text(client, FIRMWARE_REVISION_UUID),
            "acc_range_g": None,  # GSP has no GET/PUT of /Meas/Acc/Config; the firmware default is UNVERIFIED
            "gyr_range_dps": None,
            "rate_hz": rate,
            "battery_pct": await _read_battery(client),
        }

    async def stop(self, client: BleakClient) -> None:
        """UNSUBSCRIBE and disable notifications; a link that is already gone is not an error."""
        if not client.is_connected:
            return
        try:
            await client.write_gatt_char(COMMAND_CHAR_UUID, unsubscribe_command(DATA_REF), response=True)
        except (BleakError, OSError, TimeoutError) as exc:
            logger.info("unsubscribing %s: %s (link probably gone)", client.address, exc)
        try:
            await client.stop_notify(DATA_CHAR_UUID)
        except (BleakError, OSError, TimeoutError) as exc:
            logger.info("disabling notifications of %s: %s (link probably gone)", client.address, exc)

    def decoder(self, rate_hz: float) -> MovesenseDecoder:
        """A fresh decoder for one connection (data tagged with ``DATA_REF``)."""
        return MovesenseDecoder(self.supported_rate(rate_hz), ref=DATA_REF)


def _has_char(client: BleakClient, uuid: str) -> bool:
    try:
        return client.services.get_characteristic(uuid) is not None
    except BleakError:
        return False


async def _read_text(client: BleakClient, uuid: str) -> str:
    if not _has_char(client, uuid):
        return ""
    try:
        return bytes(await client.read_gatt_char(uuid)).decode("utf-8", "replace").strip("\x00 ")
    except (BleakError, OSError, TimeoutError):
        return ""


async def _read_battery(client: BleakClient) -> int | None:
    if not _has_char(client, BATTERY_LEVEL_UUID):
        return None
    try:
        value = await client.read_gatt_char(BATTERY_LEVEL_UUID)
    except (BleakError, OSError, TimeoutError):
        return None
    return int(value[0]) if value else None

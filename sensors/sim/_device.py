"""One simulated Movesense: a GSP peripheral whose IMU6 stream samples the gait model on its own drifting clock.

Device clock (s since boot) at model time t: ``D(t) = boot_offset_s + t · (1 + drift_ppm·1e-6)``. The sensor takes
sample k when its clock reads ``k / rate``, i.e. at model time ``t_k = (k / rate − boot_offset_s) / (1 + drift)``.
A message holds samples k..k+7, is ready when the last one is taken, carries the timestamp
``floor(k · 1000 / rate)`` ms (u32, so it wraps like the real counter) and reaches the host one connection-interval
latency later (uniform in ``latency_ms``, never overtaking the previous notification of the link). A reboot
(:meth:`SimDevice.reboot`) drops the link and starts the clock again from zero: ``boot_offset_s`` becomes
``−t_reboot · (1 + drift)``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from sensors.devices import movesense as ms
from sensors.sim._gsp_peripheral import GspPeripheral
from sensors.sim._scheduler import VirtualScheduler

FloatArray = NDArray[np.float64]
_CHUNK = 4096  # samples evaluated per model call; each chunk has its own noise stream, so order does not matter


class ImuSource(Protocol):
    """What the simulator needs from a gait model."""

    duration_s: float

    def imu(self, site: str, t: Any, rng: np.random.Generator | None = None) -> tuple[FloatArray, FloatArray]: ...


@dataclass
class _Stream:
    ref: int
    rate_hz: int
    next_k: int


class _Signal:
    """The model sampled at one device's sample instants for one rate, evaluated lazily in chunks."""

    def __init__(self, device: SimDevice, rate_hz: int) -> None:
        self._device = device
        self.rate_hz = rate_hz
        self.k_first = math.ceil(device.boot_offset_s * rate_hz - 1e-9)  # first sample at model time >= 0
        self.k_end = math.ceil(device.device_time_s(device.duration_s) * rate_hz - 1e-9)  # samples before the end
        self._chunks: dict[int, tuple[FloatArray, FloatArray]] = {}

    def _chunk(self, c: int) -> tuple[FloatArray, FloatArray]:
        if c not in self._chunks:
            if len(self._chunks) >= 4:
                del self._chunks[min(self._chunks)]
            k = np.arange(self.k_first + c * _CHUNK, min(self.k_first + (c + 1) * _CHUNK, self.k_end))
            self._chunks[c] = self._device.model_imu(self._device.sample_time_s(k, self.rate_hz), (self.rate_hz, c))
        return self._chunks[c]

    def samples(self, k: int, n: int) -> tuple[FloatArray, FloatArray]:
        i0, i1 = k - self.k_first, k + n - self.k_first
        parts = [self._chunk(c) for c in range(i0 // _CHUNK, (i1 - 1) // _CHUNK + 1)]
        base = (i0 // _CHUNK) * _CHUNK
        acc = np.concatenate([p[0] for p in parts])[i0 - base : i1 - base]
        gyr = np.concatenate([p[1] for p in parts])[i0 - base : i1 - base]
        return acc, gyr


class SimDevice(GspPeripheral):
    """A simulated Movesense worn at ``site``."""

    def __init__(
        self,
        site: str,
        index: int,
        model: ImuSource,
        scheduler: VirtualScheduler,
        *,
        drift_ppm: float,
        boot_offset_s: float,
        latency_ms: tuple[float, float],
        packet_loss: float,
        noise: bool,
        seed: int,
    ) -> None:
        super().__init__(
            f"Movesense 174700000{index + 1}",
            f"02:4D:53:17:47:{index + 1:02X}",
            scheduler,
            rssi=-52 - 6 * index,
            latency_ms=latency_ms,
            rng=np.random.default_rng([seed, index, 1]),
        )
        self.site = site
        self.drift_ppm = drift_ppm
        self.boot_offset_s = boot_offset_s
        self.duration_s = float(model.duration_s)
        self.batches_sent = 0  # messages generated while subscribed
        self.notifications_dropped = 0  # notifications lost to packet_loss
        self._model = model
        self._noise_seed: tuple[int, int] | None = (seed, index) if noise else None
        self._packet_loss = packet_loss
        self._signals: dict[int, _Signal] = {}
        self._streams: dict[int, _Stream] = {}
        self._away_until_ns = -1
        self._boots = 0  # reboots so far; each gets its own noise streams

    # -- clock ---------------------------------------------------------------------------------------------------
    def device_time_s(self, model_t_s: float) -> float:
        """The device clock (s since boot) at a model time."""
        return self.boot_offset_s + model_t_s * (1.0 + self.drift_ppm * 1e-6)

    def sample_time_s(self, k: NDArray[Any] | int, rate_hz: float) -> FloatArray:
        """Model time (s) at which the device takes sample ``k`` (index since boot) at ``rate_hz``."""
        return (np.asarray(k, dtype=np.float64) / rate_hz - self.boot_offset_s) / (1.0 + self.drift_ppm * 1e-6)

    def model_imu(self, t: FloatArray, stream_id: tuple[int, int]) -> tuple[FloatArray, FloatArray]:
        boot = (self._boots,) if self._boots else ()
        rng = None if self._noise_seed is None else np.random.default_rng([*self._noise_seed, *stream_id, *boot])
        return self._model.imu(self.site, t, rng)

    # -- presence ------------------------------------------------------------------------------------------------
    def is_away(self) -> bool:
        return self.scheduler.now_ns() < self._away_until_ns

    def go_away(self, until_ns: int) -> None:
        """Out of range until virtual time ``until_ns``: the link drops now."""
        self._away_until_ns = until_ns
        self.drop_link()

    def reboot(self, until_ns: int) -> None:
        """Restart now (a brown-out, a firmware reset): the link drops, the clock starts again from zero, and the
        sensor advertises again at virtual time ``until_ns``."""
        self.go_away(until_ns)
        self.boot_offset_s = -self.scheduler.now_ns() / 1e9 * (1.0 + self.drift_ppm * 1e-6)
        self._boots += 1
        self._signals.clear()  # sample indices count from the new boot

    # -- streaming -----------------------------------------------------------------------------------------------
    def _signal(self, rate_hz: int) -> _Signal:
        if rate_hz not in self._signals:
            self._signals[rate_hz] = _Signal(self, rate_hz)
        return self._signals[rate_hz]

    def _start_stream(self, ref: int, rate_hz: int) -> None:
        signal = self._signal(rate_hz)
        now_s = self.scheduler.now_ns() / 1e9
        stream = _Stream(ref, rate_hz, max(signal.k_first, math.ceil(self.device_time_s(now_s) * rate_hz - 1e-9)))
        self._streams[ref] = stream
        self._schedule(stream)

    def _stop_stream(self, ref: int) -> None:
        self._streams.pop(ref, None)

    def _schedule(self, stream: _Stream) -> None:
        n = ms.SAMPLES_PER_MESSAGE
        if stream.next_k + n > self._signal(stream.rate_hz).k_end:
            return  # the model ends here; the subscription stays but sends nothing more
        ready_ns = round(float(self.sample_time_s(stream.next_k + n - 1, stream.rate_hz)) * 1e9)
        emit: Callable[[], None] = functools.partial(self._emit, stream, ready_ns)
        self.scheduler.at(ready_ns, emit)

    def _emit(self, stream: _Stream, ready_ns: int) -> None:
        if self._streams.get(stream.ref) is not stream:
            return  # unsubscribed or the link dropped
        n, k = ms.SAMPLES_PER_MESSAGE, stream.next_k
        acc, gyr = self._signal(stream.rate_hz).samples(k, n)
        parts = ms.encode_imu6(stream.ref, (k * 1000) // stream.rate_hz, acc, gyr)
        self.batches_sent += 1
        keep = self._link_rng.random(len(parts)) >= self._packet_loss
        self.notifications_dropped += int(np.count_nonzero(~keep))
        self.send([p for p, kept in zip(parts, keep, strict=True) if kept], ready_ns)
        stream.next_k += n
        self._schedule(stream)

"""The simulator: three Movesense sensors on a walking model, served through bleak's backend seam.

Use it exactly like hardware: ``scanner, client = sim_backends(world)``, then ``BleakScanner(backend=scanner)`` and
``BleakClient(device, backend=client)`` with :class:`~sensors.devices.movesense.MovesenseDriver`. Only the backend
classes and the clock (``world.clock_ns`` instead of ``time.monotonic_ns``) differ from a real recording.

**Time.** Model time t (s) is the truth's time axis. The simulated host monotonic clock is
``world.clock_ns() = CLOCK_ORIGIN_NS + t·1e9`` (``world.model_time_s`` inverts it). Virtual time starts at 0 when
the world is built. With ``speed`` = s it advances s× the wall clock; with ``speed`` None it jumps from event to
event as fast as the consumers allow, but only while a device streams, a device is away or a reply is in flight
(otherwise it waits, so scanning and connecting take no model time). Every device notification of every sensor
goes through one scheduler, in virtual-time order, on the running event loop.

**Device clocks.** Each sensor's clock reads ``D(t) = boot_offset_s + t·(1 + drift_ppm·1e-6)`` s. It takes sample k
when ``D = k / rate``, i.e. at model time ``t_k = (k/rate − boot_offset_s) / (1 + drift_ppm·1e-6)``
(:meth:`SimDevice.sample_time_s`), stamps each 8-sample message with ``floor(k·1000/rate)`` ms (u32, wraps), and
the host receives it ``latency_ms`` (uniform, in link order) after the 8th sample is taken. The clock keeps
running through disconnects.

**Exact:** GSP bytes (``encode_imu6``), the GATT table, HELLO / SUBSCRIBE / UNSUBSCRIBE, the 507 reply, dropping
subscriptions with the link; sample values equal ``model.imu(site, t_k)`` to float32 precision (plus the model's
bias and white noise when ``noise`` is on). **Faked:** radio timing (uniform latency instead of connection
events), independent per-notification loss, the 404 reply to a bad path (the real sample firmware stays silent),
advertisement content (the GSP service UUID is advertised), N = 8 samples per message at every rate, battery 87 %.
Only ``/Meas/IMU6/<rate>`` streams.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner

from pipeline.schemas import SITES
from pipeline.store import StorageError
from sensors.errors import SensorNotFoundError
from sensors.sim._device import ImuSource, SimDevice
from sensors.sim._gsp_peripheral import make_backends
from sensors.sim._scheduler import VirtualScheduler

logger = logging.getLogger(__name__)

CLOCK_ORIGIN_NS = 1_000_000_000_000  # simulated host clock at model time 0 (a host that has been up ~17 min)
TRUTH_FORMAT = 1


def _per_site(values: tuple[float, float, float]) -> dict[str, float]:
    return dict(zip(SITES, values, strict=True))


@dataclass(frozen=True)
class SimConditions:
    """How the simulated sensors and radio behave.

    Attributes:
        speed: virtual time per wall time (1.0 real time, 5.0 five times faster); None runs as fast as possible.
        rate_hz: the rate recorders are expected to ask for (kept in the truth); devices stream 13/26/52/104/208 Hz.
        packet_loss: probability that one notification is lost.
        latency_ms: (min, max) delivery latency after a message is ready, uniform.
        clock_drift_ppm: device clock error per site (device seconds per model second − 1, in ppm).
        boot_offset_s: device clock reading at model time 0, per site.
        disconnects: (site, at_s, for_s): the link drops at model time ``at_s``; the device is out of range for
            ``for_s`` seconds, then advertises again.
        reboots: (site, at_s, for_s): the sensor restarts at model time ``at_s`` (the link drops, its clock starts
            again from zero) and advertises again ``for_s`` seconds later.
        noise: add the model's sensor bias and white noise.
        seed: seeds latency, loss and noise.
    """

    speed: float | None = 1.0
    rate_hz: float = 104.0
    packet_loss: float = 0.0
    latency_ms: tuple[float, float] = (7.5, 30.0)
    clock_drift_ppm: Mapping[str, float] = field(default_factory=lambda: _per_site((20.0, -35.0, 10.0)))
    boot_offset_s: Mapping[str, float] = field(default_factory=lambda: _per_site((5021.337, 86_417.25, 733.5)))
    disconnects: tuple[tuple[str, float, float], ...] = ()
    reboots: tuple[tuple[str, float, float], ...] = ()
    noise: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if self.speed is not None and not self.speed > 0:
            raise ValueError(f"speed must be > 0 or None (as fast as possible), got {self.speed}")
        if not self.rate_hz > 0:
            raise ValueError(f"rate_hz must be > 0, got {self.rate_hz}")
        if not 0.0 <= self.packet_loss < 1.0:
            raise ValueError(f"packet_loss must be in [0, 1), got {self.packet_loss}")
        lo, hi = self.latency_ms
        if not 0.0 <= lo <= hi:
            raise ValueError(f"latency_ms must be (min, max) with 0 <= min <= max, got {self.latency_ms}")
        for kind, outages in (("disconnect", self.disconnects), ("reboot", self.reboots)):
            for site, at_s, for_s in outages:
                if site not in SITES or at_s < 0 or for_s <= 0:
                    raise ValueError(f"{kind} {(site, at_s, for_s)}: need a site in {SITES}, at_s >= 0, for_s > 0")
        for name, mapping in (("clock_drift_ppm", self.clock_drift_ppm), ("boot_offset_s", self.boot_offset_s)):
            if set(mapping) - set(SITES):
                raise ValueError(f"{name} has unknown sites {sorted(set(mapping) - set(SITES))}")


def _ns(seconds: float) -> int:
    return round(seconds * 1e9)


class SimWorld:
    """The gait model, one simulated Movesense per site, and the virtual clock that drives them."""

    def __init__(self, model: ImuSource, conditions: SimConditions | None = None) -> None:
        self.model = model
        self.conditions = conditions = conditions or SimConditions()
        self.duration_s = float(model.duration_s)
        self.scheduler = VirtualScheduler(conditions.speed, CLOCK_ORIGIN_NS, self._may_advance)
        self.devices: list[SimDevice] = [
            SimDevice(
                site,
                i,
                model,
                self.scheduler,
                drift_ppm=conditions.clock_drift_ppm.get(site, 0.0),
                boot_offset_s=conditions.boot_offset_s.get(site, 0.0),
                latency_ms=conditions.latency_ms,
                packet_loss=conditions.packet_loss,
                noise=conditions.noise,
                seed=conditions.seed,
            )
            for i, site in enumerate(SITES)
        ]
        self.done = asyncio.Event()
        outages = [(site, at_s, for_s, SimDevice.go_away) for site, at_s, for_s in conditions.disconnects]
        outages += [(site, at_s, for_s, SimDevice.reboot) for site, at_s, for_s in conditions.reboots]
        for site, at_s, for_s, begin in outages:
            self.scheduler.at(_ns(at_s), functools.partial(begin, self.device(site), _ns(at_s + for_s)))
            self.scheduler.at(_ns(at_s + for_s), self.scheduler.poke)  # back in range: time must reach this point
        self.scheduler.at(_ns(self.duration_s + conditions.latency_ms[1] / 1e3) + 1, self.done.set)
        self.scheduler.start()

    def _may_advance(self) -> bool:
        return any(d.streaming() or d.is_away() for d in self.devices)

    @property
    def finished(self) -> bool:
        """True once the model has ended and its last notification has been delivered."""
        return self.done.is_set()

    def clock_ns(self) -> int:
        """The simulated host monotonic clock, ns (stamp notifications with this instead of time.monotonic_ns)."""
        return self.scheduler.clock_ns()

    def model_time_s(self, clock_ns: int) -> float:
        """Model time (s) of a simulated host clock reading."""
        return (clock_ns - CLOCK_ORIGIN_NS) / 1e9

    def device(self, site: str) -> SimDevice:
        """The device worn at ``site``."""
        for d in self.devices:
            if d.site == site:
                return d
        raise SensorNotFoundError(site, f"the simulator has sensors at {', '.join(d.site for d in self.devices)}")

    def site_of(self, name_or_address: str) -> str:
        """The site of a device given its advertised name or its address."""
        wanted = name_or_address.upper()
        for d in self.devices:
            if wanted in (d.name.upper(), d.address.upper()):
                return d.site
        raise SensorNotFoundError(name_or_address, "no simulated sensor has this name or address")

    async def aclose(self) -> None:
        """Stop the scheduler task (the event loop would cancel it at exit anyway)."""
        await self.scheduler.aclose()

    def write_truth(self, session_dir: Path, host_t0_ns: int) -> Path:
        """Write ``<session_dir>/sim/truth.json``: what really happened, on the session timeline.

        Format (JSON object, ``format`` 1): ``profile`` {``name``, ``parameters``}; ``conditions`` (SimConditions);
        ``model_duration_s``; ``model_time_at_session_start_s`` (model time of ``host_t0_ns``, so
        ``t_session = t_model − that``); ``summary`` (``truth.summary()``); ``events`` {``t_s``, ``side``,
        ``event``}: parallel lists, ``t_s`` in seconds from ``host_t0_ns``, ``side`` left/right, ``event`` IC/FC;
        ``walking_start_s`` and ``turns_s`` ([start, end) pairs) on the session timeline; ``devices``: site, name,
        address, clock_drift_ppm, boot_offset_s. Refuses to overwrite an existing file.
        """
        truth: Any = getattr(self.model, "truth", None)
        if truth is None:
            raise ValueError("the model has no truth to write")
        offset_s = self.model_time_s(host_t0_ns)
        profile: Any = getattr(self.model, "profile", None)
        data = {
            "format": TRUTH_FORMAT,
            "profile": {
                "name": getattr(profile, "name", ""),
                "parameters": _plain(profile) if is_dataclass(profile) else {},
            },
            "conditions": _plain(self.conditions),
            "model_duration_s": self.duration_s,
            "model_time_at_session_start_s": offset_s,
            "summary": {k: float(v) for k, v in truth.summary().items()},
            "events": {
                "t_s": (np.asarray(truth.events_t_s, dtype=np.float64) - offset_s).tolist(),
                "side": [str(s) for s in truth.events_side],
                "event": [str(k) for k in truth.events_kind],
            },
            "walking_start_s": float(truth.walking_start_s) - offset_s,
            "turns_s": (np.asarray(truth.turns, dtype=np.float64).reshape(-1, 2) - offset_s).tolist(),
            "devices": [
                {
                    "site": d.site,
                    "name": d.name,
                    "address": d.address,
                    "clock_drift_ppm": d.drift_ppm,
                    "boot_offset_s": d.boot_offset_s,
                }
                for d in self.devices
            ],
        }
        path = Path(session_dir) / "sim" / "truth.json"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8") as f:
                f.write(json.dumps(data, indent=1))
        except FileExistsError as exc:
            raise StorageError("a truth file already exists here; refusing to overwrite it", path=path) from exc
        except OSError as exc:
            raise StorageError(f"cannot write the truth file ({exc.strerror})", path=path) from exc
        return path


def _plain(value: Any) -> Any:
    """JSON-ready copy of parameters: dataclasses and mappings become dicts, arrays and tuples lists."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def sim_backends(world: SimWorld) -> tuple[type[BaseBleakScanner], type[BaseBleakClient]]:
    """bleak backend classes bound to ``world``: ``BleakScanner(backend=...)``, ``BleakClient(dev, backend=...)``."""
    return make_backends("Sim", world.scheduler, world.devices)

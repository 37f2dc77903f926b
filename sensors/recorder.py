"""Record several BLE IMUs at once into one session: scan, connect, configure, stream, write, reconnect.

The same code drives real sensors (bleak's platform backend), the simulator and the replay backend: only the
:class:`LinkBackend` differs. Per sensor, the notify callback stamps the host clock and queues the bytes; a
consumer task decodes and appends to the sensor's raw Arrow stream, which is flushed at least twice a second.
A link that drops is reconnected with backoff until the recording stops; what was written stays written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.store import (
    RawStreamWriter,
    SensorInfo,
    Session,
    StorageError,
    create_session,
    raw_schema_metadata,
)
from sensors._link import (
    LinkBackend,
    SensorLink,
    SensorStatus,
    SensorTarget,
    consume_packets,
    discover,
    keep_connected,
    match_target,
    scan_devices,
    sleep_or_stop,
)
from sensors.devices._driver import DeviceDriver

__all__ = [
    "LinkBackend",
    "RecordingPlan",
    "RecordingResult",
    "SensorStatus",
    "SensorTarget",
    "discover",
    "match_target",
    "record",
    "scan_devices",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordingPlan:
    """What to record and where."""

    root: Path
    subject: str
    targets: tuple[SensorTarget, ...]
    rate_hz: float = 104.0
    duration_s: float | None = None
    label: str = ""
    notes: str = ""
    start: datetime | None = None  # session start (UTC); defaults to now
    scan_timeout_s: float = 10.0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordingResult:
    """How a recording ended."""

    session: Session
    status: list[SensorStatus]
    reason: str  # "duration", "stopped", "source finished", "storage error: ..."


async def record(
    plan: RecordingPlan,
    drivers: Sequence[DeviceDriver],
    backend: LinkBackend,
    *,
    stop: asyncio.Event | None = None,
    on_session: Callable[[Session], None] | None = None,
    on_status: Callable[[list[SensorStatus]], None] | None = None,
    status_interval_s: float = 0.5,
) -> RecordingResult:
    """Record ``plan`` until its duration passes, ``stop`` is set, the source finishes, or the task is cancelled.

    The session folder is created once every sensor is found; ``on_session`` is told its path at once. On every
    exit path (including Ctrl-C, which cancels this coroutine) the raw streams are flushed and closed and
    ``session.json`` gets its final status: ``complete``, or ``interrupted`` after a storage error.
    """
    stop = stop or asyncio.Event()
    found = await discover(plan.targets, drivers, backend, plan.scan_timeout_s)
    sensors = tuple(
        SensorInfo(
            site=t.site,
            family=found[t.site][1].family,
            model=found[t.site][1].model,
            address=found[t.site][0].address,
            name=found[t.site][0].name or "",
            rate_hz=found[t.site][1].supported_rate(plan.rate_hz),
        )
        for t in plan.targets
    )
    session = create_session(
        plan.root,
        plan.subject,
        sensors,
        start=plan.start,
        label=plan.label,
        notes=plan.notes,
        clock=backend.clock,
        host_t0_ns=backend.clock_ns(),
        source=backend.source,
        extra=plan.extra,
    )
    if on_session is not None:
        on_session(session)
    t0_ns = session.meta.host_t0_ns
    links = [
        SensorLink(
            s.site,
            found[s.site][0],
            found[s.site][1],
            RawStreamWriter(session.raw_path(s.site), raw_schema_metadata(session, s)),
            s.rate_hz,
            backend,
            t0_ns,
            None if plan.duration_s is None else t0_ns + int(plan.duration_s * 1e9),
        )
        for s in sensors
    ]
    lock = asyncio.Lock()
    tasks: list[asyncio.Task[None]] = []
    reason = "stopped"
    status = "complete"

    try:
        learnt = {}
        for link in links:
            learnt[link.site] = await link.connect(lock)
        session = session.update(sensors=tuple(_with_learnt(s, learnt.get(s.site, {})) for s in sensors))
        tasks = [asyncio.create_task(consume_packets(link)) for link in links]
        tasks += [
            asyncio.create_task(keep_connected(link, target, lock, stop, drivers, plan.scan_timeout_s))
            for link, target in zip(links, plan.targets, strict=True)
        ]
        reason = await _run_until_done(plan, backend, stop, links, t0_ns, on_status, status_interval_s)
    except StorageError as exc:
        reason, status = f"storage error: {exc}", "interrupted"
        logger.error("%s", exc)
    finally:
        stop.set()
        for link in links:
            await link.disconnect()
        for link in links:
            link.queue.put_nowait(None)
        consumers = tasks[: len(links)]
        for task in tasks[len(links) :]:
            task.cancel()
        results = await asyncio.gather(*consumers, return_exceptions=True)
        if any(isinstance(r, StorageError) for r in results):
            reason, status = next(f"storage error: {r}" for r in results if isinstance(r, StorageError)), "interrupted"
        for link in links:
            try:
                link.writer.close()
            except StorageError as exc:
                reason, status = f"storage error: {exc}", "interrupted"
        session = session.update(status=status, extra={**session.meta.extra, "stop_reason": reason})
        for link in links:
            link.update_live()
        if on_status is not None:
            on_status([link.status for link in links])
    return RecordingResult(session=session, status=[link.status for link in links], reason=reason)


async def _run_until_done(
    plan: RecordingPlan,
    backend: LinkBackend,
    stop: asyncio.Event,
    links: list[SensorLink],
    t0_ns: int,
    on_status: Callable[[list[SensorStatus]], None] | None,
    interval_s: float,
) -> str:
    next_status_ns = 0
    while True:
        if stop.is_set():
            return "stopped"
        if plan.duration_s is not None and backend.clock_ns() - t0_ns >= plan.duration_s * 1e9:
            return "duration"
        if backend.done is not None and backend.done.is_set() and all(link.queue.empty() for link in links):
            return "source finished"
        if on_status is not None and backend.clock_ns() >= next_status_ns:
            next_status_ns = backend.clock_ns() + int(interval_s * 1e9)
            for link in links:
                link.update_live()
            on_status([link.status for link in links])
        # Poll often enough to honour --duration with a fast virtual clock, yet cheaply in real time.
        await sleep_or_stop(stop, min(interval_s, 0.05))


def _with_learnt(sensor: SensorInfo, learnt: dict[str, Any]) -> SensorInfo:
    fields = {k: v for k, v in learnt.items() if k in SensorInfo.__dataclass_fields__ and v not in (None, "")}
    return SensorInfo(**{**sensor.__dict__, **fields})

"""A virtual clock and the one scheduler that runs every simulated event in virtual-time order.

Virtual time ``v`` is in ns since the clock's origin. With a finite ``speed`` it follows the wall clock
(``v = speed · (monotonic − start)``) and the scheduler sleeps until each event is due. With ``speed`` None it jumps
from event to event, but only while ``may_advance()`` says something is happening (a device streams, a device is
away) or the next event is a message already in flight; otherwise it waits for the client, so scanning and
connecting take no virtual time. Between events it yields to the event loop (``asyncio.sleep(0)``) so consumers
keep up. Everything runs on the caller's event loop: no threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Callable

Action = Callable[[], None]


class VirtualScheduler:
    """Virtual clock + event heap; one asyncio task runs the events."""

    def __init__(self, speed: float | None, origin_ns: int, may_advance: Callable[[], bool]) -> None:
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be positive or None (as fast as possible), got {speed}")
        self.speed = speed
        self.origin_ns = origin_ns
        self._may_advance = may_advance
        self._heap: list[tuple[int, int, bool, Action]] = []
        self._seq = itertools.count()
        self._now = 0
        self._real_start: int | None = None
        self._base = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def started(self) -> bool:
        """True once virtual time runs."""
        return self._real_start is not None

    def start(self) -> None:
        """Let virtual time run from its current value (idempotent)."""
        if self._real_start is None:
            self._real_start = time.monotonic_ns()
            self._base = self._now
            self._wake.set()

    def now_ns(self) -> int:
        """Virtual ns since the origin."""
        if self.speed is None or self._real_start is None:
            return self._now
        return max(self._now, self._base + int((time.monotonic_ns() - self._real_start) * self.speed))

    def clock_ns(self) -> int:
        """The simulated host monotonic clock, ns."""
        return self.origin_ns + self.now_ns()

    def at(self, t_ns: int, action: Action, *, in_flight: bool = False) -> None:
        """Run ``action`` at virtual time ``t_ns`` (ns since origin); ``in_flight`` marks a message already sent."""
        heapq.heappush(self._heap, (t_ns, next(self._seq), in_flight, action))
        self._wake.set()

    def poke(self) -> None:
        """Re-check ``may_advance`` (call after a state change that adds no event)."""
        self._wake.set()

    def ensure_running(self) -> None:
        """Start the runner task on the running loop if it is not running."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="imugait-sim-scheduler")

    async def aclose(self) -> None:
        """Stop the runner task."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                if not task.cancelled():
                    raise

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            if not self._heap:
                await self._wake.wait()
                continue
            t_ns, _, in_flight, action = self._heap[0]
            if not self.started and not (in_flight and t_ns <= self._now):
                await self._wake.wait()  # before start only replies due right now go out
                continue
            if self.speed is None:
                if not (in_flight or self._may_advance()):
                    await self._wake.wait()
                    continue
            else:
                delay_s = (t_ns - self.now_ns()) / 1e9 / self.speed
                if delay_s > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), delay_s)
                    continue
            heapq.heappop(self._heap)
            self._now = max(self._now, t_ns)
            action()
            await asyncio.sleep(0)

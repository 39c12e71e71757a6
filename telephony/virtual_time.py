"""Virtual time for simulations: an event loop whose clock jumps over idle time.

With a scaled wall clock, simulating faster also shrinks the real time the code has to react,
so waits get distorted (1 ms of processing is 1 s at ×1000). This loop does the opposite: time
stands still while anything is runnable, any socket has data or a worker thread computes
(``asyncio.to_thread``), and when the whole process is idle — every task waiting on a timer —
the clock jumps straight to the next timer. A day of traffic then takes as long as the work it
contains, and every timing is exact to the event loop's resolution whatever the machine's speed.

It is for simulations that run the router and the simulated PBX in one process (the demo, the
what-if replays): real sockets on loopback still carry every ARI request and event, so the same
code paths run as against Asterisk.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, TypeVarTuple

_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")

# Real time granted to in-flight I/O (a loopback write not yet readable on the other side, a
# worker thread about to wake the loop) before the clock jumps.
_SETTLE_S = 0.0
# Where the loop's clock starts: the same whole number on every run, as aiohttp rounds its
# longer deadlines (keep-alive, timeouts over 5 s) up to whole seconds of loop time. Starting at
# the real monotonic time would put those at a different offset from the simulation's own
# timers on each run, and simultaneous events could then come in another order.
_START_S = 0.0


class _JumpingSelector(selectors.BaseSelector):
    def __init__(self, inner: selectors.BaseSelector, loop: VirtualTimeLoop) -> None:
        self._inner = inner
        self._loop = loop

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._inner.get_map()

    def close(self) -> None:
        self._inner.close()

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is not None and timeout <= 0:
            return self._inner.select(0)
        ready = self._inner.select(_SETTLE_S)
        if ready:
            return ready
        if timeout is None or self._loop.threads_at_work:
            # No timer at all, or a worker thread computing: only I/O (the thread's result
            # comes through the loop's self-pipe) can wake us; time stands still meanwhile.
            return self._inner.select(None)
        if timeout is None:
            return self._inner.select(None)  # no timer at all: only I/O can wake us
        self._loop.jump(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """``asyncio.Runner(loop_factory=VirtualTimeLoop)`` runs a simulation in virtual time."""

    def __init__(self) -> None:
        super().__init__()
        # Frozen: the work the process does takes no virtual time, so a replay gives the same
        # timings on any machine and under any load (a real clock here would leak milliseconds
        # of processing into every wait).
        self._now = _START_S
        self._threads = 0
        self._selector = _JumpingSelector(self._selector, self)  # type: ignore[has-type]

    def time(self) -> float:
        return self._now

    @property
    def threads_at_work(self) -> bool:
        """A function given to an executor (``asyncio.to_thread``) has not returned yet."""
        return self._threads > 0

    def run_in_executor(
        self, executor: Executor | None, func: Callable[[*_Ts], _T], *args: *_Ts
    ) -> asyncio.Future[_T]:
        # Work done in a thread takes no virtual time, like work done on the loop: the clock
        # must not jump past the timers while a thread computes.
        future = super().run_in_executor(executor, func, *args)
        self._threads += 1

        def done(_: asyncio.Future[_T]) -> None:
            self._threads -= 1

        future.add_done_callback(done)
        return future

    def jump(self, seconds: float) -> None:
        self._now += seconds


class LoopClock:
    """A :class:`telephony.clock.Clock` on the running loop's time (virtual in a
    :class:`VirtualTimeLoop`): ``now`` is ``origin`` plus the loop time since creation."""

    speed = 1.0

    def __init__(self, origin: datetime) -> None:
        if origin.tzinfo is None:
            raise ValueError("clock origin must be timezone-aware")
        self._origin = origin.astimezone(UTC)
        self._start = asyncio.get_running_loop().time()

    def now(self) -> datetime:
        elapsed = asyncio.get_running_loop().time() - self._start
        return self._origin + timedelta(seconds=elapsed)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def real_seconds(self, seconds: float) -> float:
        return seconds

    def advance(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        if isinstance(loop, VirtualTimeLoop):
            loop.jump(seconds)
        else:
            self._origin += timedelta(seconds=seconds)

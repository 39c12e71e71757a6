"""Clocks shared by the call flow and the simulated PBX.

The simulated PBX and the router both run on a :class:`Clock` so that a day of traffic can be
played in seconds: every timer (ring timeout, IVR timeout, prompt duration, caller patience) goes
through ``sleep``/``timeout`` and every timestamp through ``now``. A :class:`ScaledClock` with
``speed=1`` is real time; two processes that build a ScaledClock with the same ``origin`` and
``speed`` agree on the time, which is how the demo runs the router and the simulator apart.

Durations in call records are never taken from a clock: they come from the events' own
``timestamp`` fields. The clock only decides *when* things happen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

T = TypeVar("T")


class Clock(Protocol):
    speed: float

    def now(self) -> datetime:
        """The current (possibly simulated) time, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep for ``seconds`` of this clock's time."""
        ...

    def real_seconds(self, seconds: float) -> float:
        """How many wall-clock seconds ``seconds`` of this clock's time take."""
        ...


class ScaledClock:
    """Time that runs ``speed`` times faster than the wall clock, from ``origin``.

    ``origin`` is the simulated time at the wall-clock instant ``started_at`` (epoch seconds).
    """

    def __init__(
        self,
        speed: float = 1.0,
        origin: datetime | None = None,
        started_at: float | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        self.speed = speed
        self._started_at = time.time() if started_at is None else started_at
        self._origin = (
            origin if origin is not None else datetime.fromtimestamp(self._started_at, UTC)
        )
        if self._origin.tzinfo is None:
            raise ValueError("clock origin must be timezone-aware")

    @property
    def origin(self) -> datetime:
        return self._origin

    @property
    def started_at(self) -> float:
        return self._started_at

    def now(self) -> datetime:
        elapsed = (time.time() - self._started_at) * self.speed
        return (self._origin + timedelta(seconds=elapsed)).astimezone(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    def real_seconds(self, seconds: float) -> float:
        return seconds / self.speed

    def advance(self, seconds: float) -> None:
        """Jump forward (a simulation skipping a quiet night). Only safe when no timer of the
        simulated world is pending, since sleeps already started keep their wall-clock end."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go back ({seconds} s)")
        self._origin += timedelta(seconds=seconds)


class RealClock(ScaledClock):
    """Wall-clock time."""

    def __init__(self) -> None:
        super().__init__(speed=1.0)

    def now(self) -> datetime:
        return datetime.now(UTC)


async def wait_for(clock: Clock, awaitable: Awaitable[T], seconds: float) -> T:
    """``asyncio.wait_for`` measured in the clock's time."""
    return await asyncio.wait_for(awaitable, clock.real_seconds(seconds))


def ari_timestamp(moment: datetime) -> str:
    """Format a time as Asterisk does in ARI events: ``2026-11-29T01:58:03.224+0000``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def parse_ari_timestamp(text: str) -> datetime:
    """Parse an ARI timestamp (``...+0000`` or any ISO 8601 offset) to an aware datetime."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"ARI timestamp without a time zone: {text!r}")
    return moment

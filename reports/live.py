"""What is happening now: the router publishes snapshots, the live view page streams them.

The router (the publisher) builds a :class:`LiveSnapshot` whenever something changes and calls
``publish``; each open page holds a subscription. A slow page never slows the router down: a
subscriber only ever keeps the newest snapshot it has not sent yet.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class AgentState(StrEnum):
    AVAILABLE = "available"
    RINGING = "ringing"
    IN_CALL = "in_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"
    SIGNED_OUT = "signed_out"
    UNREACHABLE = "unreachable"


AGENT_STATE_FR = {
    AgentState.AVAILABLE: "disponible",
    AgentState.RINGING: "sonne",
    AgentState.IN_CALL: "en communication",
    AgentState.WRAP_UP: "après-appel",
    AgentState.PAUSED: "en pause",
    AgentState.SIGNED_OUT: "déconnecté",
    AgentState.UNREACHABLE: "injoignable",
}


@dataclass(frozen=True, slots=True)
class QueuedLive:
    """One caller in a service's waiting queue: their place (1: the next one served), since
    when they wait in the queue, and their wait in the service (from choosing it, as the
    records count it)."""

    position: int
    since: datetime
    wait_s: float


@dataclass(frozen=True, slots=True)
class ServiceLive:
    service_id: str
    waiting: int = 0  # callers waiting for the service (in its queue, or ringing an agent)
    in_conversation: int = 0
    longest_wait_s: float | None = None
    agents_available: int = 0
    queued: tuple[QueuedLive, ...] = ()  # those in its waiting queue, by position


@dataclass(frozen=True, slots=True)
class AgentLive:
    agent: str  # the phone (endpoint)
    state: AgentState
    services: tuple[str, ...] = ()
    since: datetime | None = None
    login: str | None = None  # the account of the agent at that phone, when known


@dataclass(frozen=True, slots=True)
class LiveSnapshot:
    at: datetime
    in_ivr: int = 0  # callers in the voice menus, not yet in a service
    services: tuple[ServiceLive, ...] = ()
    agents: tuple[AgentLive, ...] = field(default_factory=tuple)
    # How to read ``at`` when it is not now (the demo's simulated clock), in French; None: now.
    note: str | None = None


class LiveFeed(Protocol):
    def publish(self, snapshot: LiveSnapshot) -> None: ...

    def latest(self) -> LiveSnapshot | None: ...

    def subscribe(self) -> AsyncGenerator[LiveSnapshot, None]:
        """The latest snapshot (if any), then each new one, until the consumer closes it."""
        ...


class InMemoryLiveFeed:
    """The feed inside one process (the router and the web app share the event loop)."""

    def __init__(self) -> None:
        self._latest: LiveSnapshot | None = None
        self._subscribers: set[asyncio.Queue[LiveSnapshot]] = set()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, snapshot: LiveSnapshot) -> None:
        self._latest = snapshot
        for queue in self._subscribers:
            if queue.full():
                queue.get_nowait()  # drop the stale one: only the newest matters
            queue.put_nowait(snapshot)

    def latest(self) -> LiveSnapshot | None:
        return self._latest

    async def subscribe(self) -> AsyncGenerator[LiveSnapshot, None]:
        queue: asyncio.Queue[LiveSnapshot] = asyncio.Queue(maxsize=1)
        if self._latest is not None:
            queue.put_nowait(self._latest)
        self._subscribers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.discard(queue)

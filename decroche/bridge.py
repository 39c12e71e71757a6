"""The demo's bridge between two threads: the simulation's event loop, where the router runs (in
virtual time or on a scaled clock), and the dashboard's loop, in real time.

The router's state — its live calls, the agents' tracker — belongs to the simulation's loop and
is only touched there (:class:`telephony.flow.agents.AgentTracker` takes no lock, by design).
The dashboard's thread never reads it directly: it has the simulation's loop compute what it
needs (``asyncio.run_coroutine_threadsafe``) and gets immutable results back — a live snapshot,
the Prometheus text, the health — or has an agent's sign-in or pause carried out there, where
the next call routed sees it. In virtual time it is the only way to tell the state at all: the
simulated clock jumps, and only the loop that owns it can say what time it is.

The dashboard pulls a view once a (real) second (:meth:`ServiceBridge.follow`); ``/metrics``,
``/healthz`` and the IT page read the last one. Once the traffic is played, the simulation
stops its service and detaches: the bridge keeps the last view and says the simulation is over,
and the agents' page acts on the tracker directly (no other thread touches it any more).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from decroche.presence import RouterPresence
from decroche.web import ServiceStatus, live_snapshot
from reports.errors import PresenceError
from reports.live import InMemoryLiveFeed, LiveSnapshot
from reports.presence import PresenceState
from reports.web.status import HealthCheck

if TYPE_CHECKING:
    from decroche.service import Service

log = logging.getLogger(__name__)

T = TypeVar("T")

# Longest wait for the simulation's loop to answer (it answers in milliseconds: this is for a
# loop gone away).
ANSWER_WITHIN_S = 10.0


@dataclass(frozen=True, slots=True)
class ServiceView:
    """The running service as the dashboard last saw it (computed on the service's loop)."""

    snapshot: LiveSnapshot
    metrics: str
    health: dict[str, object]
    checks: tuple[HealthCheck, ...]


class ServiceBridge:
    """The service of another thread's event loop, as the dashboard's thread sees and drives
    it. ``running_note`` and ``finished_note`` say on the live view how to read its time."""

    def __init__(self, phones: Mapping[str, str], running_note: str, finished_note: str) -> None:
        self._phones = dict(phones)
        self._running_note = running_note
        self._finished_note = finished_note
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._service: Service | None = None
        self._presence: RouterPresence | None = None
        self._view: ServiceView | None = None
        self.presence = BridgedPresence(self)

    # --- the simulation's side (on its loop) -----------------------------------------------

    def attach(self, service: Service) -> None:
        """The service has started on the running loop: from now on, ask it."""
        presence = RouterPresence(
            service.router.agents, lambda: service.rules.current, self._phones
        )
        with self._lock:
            self._loop = asyncio.get_running_loop()
            self._service = service
            self._presence = presence

    async def detach(self) -> None:
        """The service has stopped (still on its loop): keep its last view, stop asking."""
        service = self._service
        view = self._compute(service, self._finished_note) if service is not None else None
        with self._lock:
            self._loop = None
            if view is not None:
                self._view = view
        # What the dashboard handed over just before is still queued on this loop: let it run,
        # so that no request waits for a loop that is going away.
        for _ in range(3):
            await asyncio.sleep(0)

    def _compute(self, service: Service, note: str) -> ServiceView:
        return ServiceView(
            snapshot=live_snapshot(service, note, self._phones),
            metrics=service.metrics(),
            health=service.health(),
            checks=tuple(ServiceStatus.service_checks(service)),
        )

    # --- the dashboard's side (on its loop) ------------------------------------------------

    async def on_service_loop(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run ``work`` on the service's loop and wait for it; once the simulation is over,
        here (nothing else touches the service then)."""
        with self._lock:
            loop = self._loop
            future = asyncio.run_coroutine_threadsafe(_call(work), loop) if loop else None
        if future is None:
            return await work()
        return await asyncio.wait_for(asyncio.wrap_future(future), ANSWER_WITHIN_S)

    async def refresh(self) -> LiveSnapshot | None:
        """Ask the service for its state now; the last one known once it is over."""
        with self._lock:
            attached = self._loop is not None
            service = self._service
        if attached and service is not None:
            note = self._running_note

            async def compute() -> ServiceView:
                return self._compute(service, note)

            view = await self.on_service_loop(compute)
            with self._lock:
                if self._loop is not None:  # not overtaken by the final view
                    self._view = view
        latest = self._view
        return latest.snapshot if latest is not None else None

    async def follow(self, feed: InMemoryLiveFeed, every_s: float = 1.0) -> None:
        """Publish the service's state to the live view every ``every_s`` real seconds."""
        while True:
            try:
                snapshot = await self.refresh()
                if snapshot is not None:
                    feed.publish(snapshot)
            except Exception:  # the next second may do better; the page keeps the last one
                log.exception("the simulation's live state could not be read")
            await asyncio.sleep(every_s)

    def metrics(self) -> str:
        view = self._view
        return view.metrics if view is not None else "# la démonstration démarre\n"

    def health(self) -> dict[str, object]:
        view = self._view
        return dict(view.health) if view is not None else {"starting": True}

    def checks(self) -> list[HealthCheck]:
        view = self._view
        if view is None:
            return [HealthCheck("Service d'appels", False, "la démonstration démarre")]
        return list(view.checks)

    def router_presence(self) -> RouterPresence:
        presence = self._presence
        if presence is None:
            raise PresenceError("la démonstration démarre : réessayez dans un instant")
        return presence


async def _call(work: Callable[[], Awaitable[T]]) -> T:
    return await work()


class BridgedPresence:
    """:class:`reports.presence.AgentPresence` carried out on the service's loop: the agents'
    page changes whom the router rings, as with ``decroche serve``."""

    def __init__(self, bridge: ServiceBridge) -> None:
        self._bridge = bridge

    async def _on_router(
        self, act: Callable[[RouterPresence], Awaitable[PresenceState]]
    ) -> PresenceState:
        presence = self._bridge.router_presence()
        return await self._bridge.on_service_loop(lambda: act(presence))

    async def state(self, agent: str) -> PresenceState:
        if self._bridge._presence is None:
            return PresenceState(agent)
        return await self._on_router(lambda p: p.state(agent))

    async def sign_in(self, agent: str, service: str, allowed: frozenset[str]) -> PresenceState:
        return await self._on_router(lambda p: p.sign_in(agent, service, allowed))

    async def sign_out(self, agent: str, service: str) -> PresenceState:
        return await self._on_router(lambda p: p.sign_out(agent, service))

    async def pause(self, agent: str, reason: str | None = None) -> PresenceState:
        return await self._on_router(lambda p: p.pause(agent, reason))

    async def resume(self, agent: str) -> PresenceState:
        return await self._on_router(lambda p: p.resume(agent))

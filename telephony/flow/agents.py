"""What the router knows of the agents: Asterisk's view of their phones, and their sign-in.

Two sources, as routing expects them (:class:`routing_rules.agents.AgentsView`):

- Asterisk: each endpoint's state (``online``/``offline`` from ``GET /endpoints`` and
  ``EndpointStateChange``) and device state (``DeviceStateChanged``: in use, ringing...);
- decroche: the calls it is ringing or bridging right now (known before Asterisk says so, which
  closes the window in which two calls would ring the same phone), each agent's sign-in and pause
  per service (agents' page, or the phone's feature codes), the end of each agent's last call
  (longest idle) and each service's round-robin position.

A snapshot (:meth:`AgentTracker.view`) is taken for each decision; the tracker is only mutated by
the router's event loop, so no locking is needed. Listeners (:meth:`AgentTracker.add_listener`)
hear of every change that may free an agent: the services' queues then give the next caller its
turn.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from routing_rules.agents import AgentsView, DeviceState, Presence
from telephony.ari.models import DeviceStateChanged, Endpoint, EndpointStateChange, Event

log = logging.getLogger(__name__)


def _device_state(text: str) -> DeviceState:
    try:
        return DeviceState(text)
    except ValueError:
        return DeviceState.UNKNOWN


@dataclass(frozen=True, slots=True)
class AgentSnapshot:
    """One agent's phone and sign-ins, for the live view and the agents' page."""

    endpoint: str
    state: DeviceState
    in_decroche_call: bool
    presence: dict[str, Presence]
    last_call_end: datetime | None


class AgentTracker:
    def __init__(self, endpoints: Iterable[str] = ()) -> None:
        self._devices: dict[str, DeviceState] = dict.fromkeys(endpoints, DeviceState.UNKNOWN)
        self._ours: dict[str, DeviceState] = {}  # endpoint -> RINGING / INUSE (calls we drive)
        self._presence: dict[tuple[str, str], Presence] = {}
        self._last_call_end: dict[str, datetime] = {}
        self._round_robin: dict[str, str] = {}
        self._listeners: list[Callable[[], None]] = []

    def add_listener(self, listener: Callable[[], None]) -> None:
        """``listener()`` after every change that may free an agent (it must not block)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    # --- Asterisk ------------------------------------------------------------------------------

    def load_endpoints(self, endpoints: Iterable[Endpoint]) -> None:
        """Initial (and resync) state from ``GET /endpoints``."""
        for endpoint in endpoints:
            name = f"{endpoint.technology}/{endpoint.resource}"
            self._set_endpoint(name, endpoint.state or "unknown", len(endpoint.channel_ids))
        self._changed()

    def _set_endpoint(self, name: str, state: str, channels: int) -> None:
        if state == "offline":
            self._devices[name] = DeviceState.UNAVAILABLE
        elif state == "online":
            self._devices[name] = DeviceState.INUSE if channels else DeviceState.NOT_INUSE
        else:
            self._devices[name] = DeviceState.UNKNOWN

    def mark_unknown(self, endpoints: Iterable[str]) -> None:
        """Phones Asterisk does not know: ``INVALID``, as Asterisk answers for them."""
        for name in endpoints:
            self._devices[name] = DeviceState.INVALID
        self._changed()

    def on_event(self, event: Event) -> None:
        """Global events from the dispatcher (device and endpoint states)."""
        if isinstance(event, DeviceStateChanged):
            name = event.device_state.name
            self._devices[name] = _device_state(event.device_state.state)
        elif isinstance(event, EndpointStateChange):
            endpoint = event.endpoint
            name = f"{endpoint.technology}/{endpoint.resource}"
            self._set_endpoint(name, endpoint.state or "unknown", len(endpoint.channel_ids))
        else:
            return
        self._changed()

    # --- our calls -----------------------------------------------------------------------------

    def ringing(self, endpoint: str) -> None:
        self._ours[endpoint] = DeviceState.RINGING

    def in_call(self, endpoint: str) -> None:
        self._ours[endpoint] = DeviceState.INUSE

    def released(self, endpoint: str, at: datetime | None, *, talked: bool) -> None:
        self._ours.pop(endpoint, None)
        if talked and at is not None:
            self._last_call_end[endpoint] = at
        self._changed()

    def started_with(self, service_id: str, endpoint: str) -> None:
        self._round_robin[service_id] = endpoint

    # --- sign-in -------------------------------------------------------------------------------

    def set_presence(self, service_id: str, endpoint: str, presence: Presence) -> None:
        self._presence[(service_id, endpoint)] = presence
        log.info("agent %s is %s for %s", endpoint, presence.value, service_id)
        self._changed()

    def presence(self, service_id: str, endpoint: str) -> Presence:
        return self._presence.get((service_id, endpoint), Presence.SIGNED_IN)

    # --- views ---------------------------------------------------------------------------------

    def device(self, endpoint: str) -> DeviceState:
        ours = self._ours.get(endpoint)
        device = self._devices.get(endpoint, DeviceState.UNKNOWN)
        if ours is not None and device not in (DeviceState.UNAVAILABLE, DeviceState.INVALID):
            return ours
        return device

    def view(self) -> AgentsView:
        devices = {name: self.device(name) for name in self._devices.keys() | self._ours.keys()}
        return AgentsView(
            devices=MappingProxyType(devices),
            presence=MappingProxyType(dict(self._presence)),
            last_call_end=MappingProxyType(dict(self._last_call_end)),
            round_robin_last=MappingProxyType(dict(self._round_robin)),
        )

    def snapshot(self) -> list[AgentSnapshot]:
        names = sorted(self._devices.keys() | self._ours.keys())
        return [
            AgentSnapshot(
                endpoint=name,
                state=self.device(name),
                in_decroche_call=name in self._ours,
                presence={s: p for (s, e), p in self._presence.items() if e == name},
                last_call_end=self._last_call_end.get(name),
            )
            for name in names
        ]

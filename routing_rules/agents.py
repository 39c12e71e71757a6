"""What routing knows of the agents at one moment: an immutable view built by the call flow.

Two sources, combined: Asterisk's device state of each endpoint (registered? in use?) and each
agent's sign-in or pause for each service. Routing never rings an endpoint that is not
``NOT_INUSE``, and never one that is not signed in to the service.

The flow maps an endpoint reported ``offline`` by ARI to ``UNAVAILABLE``. An endpoint missing
from the view is ``UNKNOWN``, i.e. absent: a phone routing knows nothing of is never rung.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType


class DeviceState(StrEnum):
    """Asterisk's device states (ARI ``deviceStates``, the same names)."""

    UNKNOWN = "UNKNOWN"
    NOT_INUSE = "NOT_INUSE"
    INUSE = "INUSE"
    BUSY = "BUSY"
    INVALID = "INVALID"
    UNAVAILABLE = "UNAVAILABLE"
    RINGING = "RINGING"
    RINGINUSE = "RINGINUSE"
    ONHOLD = "ONHOLD"


# Not registered (or not known): the agent is absent, not busy.
ABSENT_STATES = frozenset({DeviceState.UNKNOWN, DeviceState.INVALID, DeviceState.UNAVAILABLE})


class Presence(StrEnum):
    """An agent's sign-in for one service."""

    SIGNED_IN = "signed_in"
    PAUSED = "paused"
    SIGNED_OUT = "signed_out"


def _empty() -> Mapping[object, object]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class AgentsView:
    """Agents' state and the strategies' memory, as the flow knows them when it asks.

    ``presence`` is keyed by (service id, endpoint); agents missing from it have
    ``default_presence`` (signed in, for services whose agents do not sign in). ``last_call_end``
    feeds longest idle; ``round_robin_last`` holds, per service, the endpoint the previous call
    started with; ``queued``, per service, how many callers wait in its queue now (a caller who
    comes then waits behind them, free agent or not).
    """

    devices: Mapping[str, DeviceState]
    presence: Mapping[tuple[str, str], Presence] = field(default_factory=_empty)  # type: ignore[arg-type]
    default_presence: Presence = Presence.SIGNED_IN
    last_call_end: Mapping[str, datetime] = field(default_factory=_empty)  # type: ignore[arg-type]
    round_robin_last: Mapping[str, str] = field(default_factory=_empty)  # type: ignore[arg-type]
    queued: Mapping[str, int] = field(default_factory=_empty)  # type: ignore[arg-type]

    def device(self, endpoint: str) -> DeviceState:
        return self.devices.get(endpoint, DeviceState.UNKNOWN)

    def presence_in(self, service_id: str, endpoint: str) -> Presence:
        return self.presence.get((service_id, endpoint), self.default_presence)

    @classmethod
    def all_free(cls, endpoints: Mapping[str, object] | tuple[str, ...] | list[str]) -> AgentsView:
        """Every listed endpoint registered and idle, signed in everywhere (simulate, tests)."""
        return cls(devices=MappingProxyType(dict.fromkeys(endpoints, DeviceState.NOT_INUSE)))

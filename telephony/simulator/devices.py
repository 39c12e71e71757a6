"""Phones: the agents' endpoints, registered or not, and their device states.

Asterisk republishes an endpoint's snapshot whenever a channel comes or goes
(``EndpointStateChange``, to apps subscribed to the endpoint), and derives the device state from
the endpoint's channels (``DeviceStateChanged``, only when it changes).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from .errors import ScriptError
from .resources import Endpoint
from .scripts import AgentScript, Duration, draw

if TYPE_CHECKING:
    from .engine import Engine


class Devices:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Each agent's own generator: an agent's draws do not depend on the others' calls.
        self._draws: dict[str, random.Random] = {}

    def add_agent(self, script: AgentScript) -> AgentScript:
        tech, _, resource = script.endpoint.partition("/")
        endpoint = self.engine.endpoints.get(script.endpoint)
        self.engine.agents[script.endpoint] = script
        self._draws[script.endpoint] = random.Random(script.seed)
        if endpoint is None:
            endpoint = Endpoint(tech, resource, online=script.registered)
            self.engine.endpoints[script.endpoint] = endpoint
            self.update(endpoint, force=True)
        elif endpoint.online != script.registered:
            endpoint.online = script.registered
            self.emit_endpoint_state(endpoint)
            self.update(endpoint)
        return script

    def duration(self, script: AgentScript, duration: Duration) -> float:
        """``duration`` of ``script``'s agent for this call: drawn when it is a distribution."""
        rng = self._draws.setdefault(script.endpoint, random.Random(script.seed))
        return draw(duration, rng)

    def remove_agent(self, endpoint_name: str) -> None:
        if endpoint_name not in self.engine.agents:
            raise ScriptError(f"no agent with endpoint {endpoint_name!r}")
        del self.engine.agents[endpoint_name]
        endpoint = self.engine.endpoints.get(endpoint_name)
        if endpoint is not None and endpoint.online:
            endpoint.online = False
            self.emit_endpoint_state(endpoint)
            self.update(endpoint)

    def emit_endpoint_state(self, endpoint: Endpoint) -> None:
        event = self.engine.event("EndpointStateChange", endpoint=endpoint.to_json())
        self.engine.stasis.emit(event, endpoint=endpoint.name)

    def _state_of(self, endpoint: Endpoint) -> str:
        if not endpoint.online:
            return "UNAVAILABLE"
        states = [
            self.engine.channels[c].state for c in endpoint.channel_ids if c in self.engine.channels
        ]
        if any(s == "Up" for s in states):
            return "RINGINUSE" if any(s == "Ringing" for s in states) else "INUSE"
        if any(s == "Ringing" for s in states):
            return "RINGING"
        return "INUSE" if states else "NOT_INUSE"

    def update(self, endpoint: Endpoint, *, force: bool = False) -> None:
        state = self._state_of(endpoint)
        if state == endpoint.device_state and not force:
            return
        endpoint.device_state = state
        event = self.engine.event(
            "DeviceStateChanged", device_state={"name": endpoint.name, "state": state}
        )
        self.engine.stasis.emit(event, device=endpoint.name)

    def device_state(self, name: str) -> str:
        if name in self.engine.custom_device_states:
            return self.engine.custom_device_states[name]
        endpoint = self.engine.endpoints.get(name)
        return endpoint.device_state if endpoint is not None else "UNKNOWN"

"""What a call would live through, traced step by step from the service's own decision code.

``decroche rules simulate`` prints this trace: the entry route taken, each menu heard and each
key, the service reached, who rings and for how long, and where the call overflows and why.
Keys run out -> the caller stays silent (timeouts) until the menu's fallback.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import MappingProxyType

from routing_rules.agents import AgentsView, DeviceState, Presence
from routing_rules.compiled import CompiledRules, PlayMessage, TakeCallback
from routing_rules.errors import RoutingInputError
from routing_rules.ivr import (
    EndWithMessage,
    GoToService,
    IvrStep,
    Key,
    Phase,
    PromptFinished,
    StartCallback,
    Timeout,
    ivr_next,
    ivr_start,
)
from routing_rules.routing import (
    CallFacts,
    Closed,
    GoService,
    Ring,
    Routed,
    after_no_answer,
    entry_point,
    route_service,
    survey_for,
)

_PRESENCES = {p.value: p for p in Presence}


def parse_agents_state(rules: CompiledRules, items: Sequence[str]) -> AgentsView:
    """``PJSIP/1001=INUSE``, ``PJSIP/1101=paused@ccas``, ``PJSIP/1102=signed_out`` (every
    service when no ``@service``). Agents not named are registered, idle and signed in."""
    devices: dict[str, DeviceState] = {
        agent: DeviceState.NOT_INUSE for s in rules.services.values() for agent in s.agents
    }
    presence: dict[tuple[str, str], Presence] = {}
    for item in (part.strip() for chunk in items for part in chunk.split(",")):
        if not item:
            continue
        endpoint, sep, state = item.partition("=")
        if not sep or not endpoint or not state:
            raise RoutingInputError(f"agent state {item!r}: expected ENDPOINT=STATE")
        value, _, service = state.partition("@")
        if value.lower() in _PRESENCES:
            services = [service] if service else [s.id for s in rules.services.values()]
            for sid in services:
                if sid not in rules.services:
                    raise RoutingInputError(f"agent state {item!r}: unknown service {sid!r}")
                presence[(sid, endpoint)] = _PRESENCES[value.lower()]
            continue
        try:
            devices[endpoint] = DeviceState(value.upper())
        except ValueError:
            known = ", ".join([*(d.value for d in DeviceState), *_PRESENCES])
            raise RoutingInputError(
                f"agent state {item!r}: unknown state {value!r} (one of: {known})"
            ) from None
    return AgentsView(devices=MappingProxyType(devices), presence=MappingProxyType(presence))


def _routed(lines: list[str], routed: Routed, indent: str) -> Ring | None:
    for hop in routed.hops:
        lines.append(f"{indent}{hop.why}")
    for prompt in routed.announcements:
        lines.append(f"{indent}plays {prompt}")
    final = routed.final
    if isinstance(final, Ring):
        lines.append(f"{indent}{final.why}")
        return final
    lines.append(f"{indent}{_end(final)}")
    return None


def _end(target: PlayMessage | TakeCallback) -> str:
    if isinstance(target, PlayMessage):
        return f"ends: plays {target.prompt_id}, hangs up"
    return f"ends: {target.describe()}, then {target.thanks_prompt}, hangs up"


def _service_part(
    lines: list[str],
    rules: CompiledRules,
    service_id: str,
    now: datetime,
    agents: AgentsView,
    facts: CallFacts,
) -> None:
    ring = _routed(lines, route_service(rules, service_id, now, agents, facts), "  ")
    if ring is None:
        return
    survey = survey_for(rules, ring.plan.service_id, 0)
    if survey is not None:
        lines.append(f"  if answered: survey {survey.id} (1 call in {survey.one_in})")
    lines.append("  if nobody answers:")
    _routed(lines, after_no_answer(rules, ring.plan.service_id, now, agents, facts), "    ")


def simulate(
    rules: CompiledRules,
    *,
    at: datetime,
    dialled: str,
    keys: Sequence[str],
    agents: AgentsView,
    facts: CallFacts,
) -> list[str]:
    local = at.astimezone(rules.tz)
    called = dialled or "(any number)"
    lines = [f"call to {called} on {local:%A %Y-%m-%d %H:%M %Z}, rules {rules.version}"]
    entry = entry_point(rules, dialled, at)
    lines.append(entry.why)
    if isinstance(entry, Closed):
        lines.append(f"ends: plays {entry.prompt_id}, hangs up")
        return lines
    if isinstance(entry, GoService):
        _service_part(lines, rules, entry.service_id, at, agents, facts)
        return lines
    step: IvrStep = ivr_start(rules, entry.menu_id)
    lines.append(step.why)
    pending = list(keys)
    # Every silent round costs a retry, so this ends; the bound is a guard, not a rule.
    for _ in range(len(pending) + 20 * (len(rules.menus) + 1)):
        state = step.state
        if state is None:
            break
        if state.phase is Phase.PLAYING and not pending:
            step = ivr_next(rules, state, PromptFinished())
            continue
        event = Key(pending.pop(0)) if pending else Timeout()
        step = ivr_next(rules, state, event)
        lines.append(step.why)
    last = step.actions[-1] if step.actions else None
    if isinstance(last, GoToService):
        _service_part(lines, rules, last.service_id, at, agents, facts)
    elif isinstance(last, EndWithMessage):
        lines.append(f"ends: plays {last.prompt_id}, hangs up")
    elif isinstance(last, StartCallback):
        lines.append(_end(last.callback))
    if pending:
        lines.append(f"keys not used: {' '.join(pending)}")
    return lines

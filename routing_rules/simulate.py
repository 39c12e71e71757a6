"""What a call would live through, traced step by step from the service's own decision code.

``decroche rules simulate`` prints this trace: the entry route taken, each menu heard and each
key, the service reached, who rings and for how long, and where the call overflows and why.
Keys run out -> the caller stays silent (timeouts) until the menu's fallback.

Every path from a ringing is traced, as a tree: the caller hanging up (abandon, callback owed),
nobody answering, every phone busy, no phone reachable — each followed by ``after_ringing``, the
very decision the call flow asks, down to the end of the chain. The phones rung are taken as busy
(INUSE) or unreachable (UNAVAILABLE) on the busy and unreachable paths, as Asterisk would then
report them.

A caller who waits in a service's queue (every present agent busy) is traced the same way: the
caller hanging up in the queue, the first busy agent freeing up (its ringing, as
``queue_round`` would give it, and that ringing's own paths), the maximum wait running out
(``left_queue``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from routing_rules.agents import AgentsView, DeviceState, Presence
from routing_rules.compiled import CompiledRules, PlayMessage
from routing_rules.errors import RoutingInputError
from routing_rules.ivr import (
    EndWithMessage,
    GoToService,
    IvrAction,
    IvrStep,
    Key,
    Phase,
    Play,
    PromptFinished,
    StartCallback,
    Timeout,
    ivr_next,
    ivr_start,
)
from routing_rules.narration import CALLBACK_KINDS, OUTCOMES, Narrator, moment, seconds
from routing_rules.outcomes import EntryOutcome, LegOutcome
from routing_rules.routing import (
    CallFacts,
    Closed,
    GoService,
    Ring,
    Routed,
    RungLeg,
    Wait,
    after_ringing,
    entry_point,
    left_queue,
    owed_callback,
    queue_round,
    route_service,
    survey_for,
)
from routing_rules.routing.queue import Queued
from routing_rules.routing.service import agents_now

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
            raise RoutingInputError(
                f"état de poste « {item} » : attendu POSTE=ÉTAT (PJSIP/1001=INUSE)"
            )
        value, _, service = state.partition("@")
        if value.lower() in _PRESENCES:
            services = [service] if service else [s.id for s in rules.services.values()]
            for sid in services:
                if sid not in rules.services:
                    raise RoutingInputError(f"état de poste « {item} » : service « {sid} » inconnu")
                presence[(sid, endpoint)] = _PRESENCES[value.lower()]
            continue
        try:
            devices[endpoint] = DeviceState(value.upper())
        except ValueError:
            known = ", ".join([*(d.value for d in DeviceState), *_PRESENCES])
            raise RoutingInputError(
                f"état de poste « {item} » : état « {value} » inconnu (un de : {known})"
            ) from None
    return AgentsView(devices=MappingProxyType(devices), presence=MappingProxyType(presence))


class RingEnding(StrEnum):
    """How a ringing may end unanswered, each traced as a path of its own."""

    NO_ANSWER = "no_answer"  # every phone rang, nobody picked up
    BUSY = "busy"  # every phone rung was busy
    UNREACHABLE = "unreachable"  # no phone rung could be reached


ALL_ENDINGS: tuple[RingEnding, ...] = tuple(RingEnding)

# Per ending: the heading of its path, how each leg ended, and the phones' state after it.
_ENDINGS: dict[RingEnding, tuple[str, LegOutcome, DeviceState]] = {
    RingEnding.NO_ANSWER: ("si personne ne répond", LegOutcome.NO_ANSWER, DeviceState.NOT_INUSE),
    RingEnding.BUSY: ("si tous les postes sonnés sont occupés", LegOutcome.BUSY, DeviceState.INUSE),
    RingEnding.UNREACHABLE: (
        "si aucun poste sonné n'est joignable",
        LegOutcome.UNREACHABLE,
        DeviceState.UNAVAILABLE,
    ),
}


@dataclass(frozen=True, slots=True)
class _Trace:
    """What stays the same along every path of one simulated call."""

    rules: CompiledRules
    now: datetime
    facts: CallFacts
    endings: tuple[RingEnding, ...]
    say: Narrator


def _routed(
    trace: _Trace,
    routed: Routed,
    agents: AgentsView,
    indent: str,
    queued: frozenset[str] = frozenset(),
) -> list[str]:
    """The lines of a chain: its hops, then the ringing and each of its endings, the wait in a
    queue and each of its endings, or the end (``queued``: the services whose queue this path
    comes from, told already above)."""
    lines = [f"{indent}{trace.say.overflow(hop)}" for hop in routed.hops]
    lines += [f"{indent}joue {prompt}" for prompt in routed.announcements]
    final = routed.final
    if isinstance(final, Ring):
        lines.append(f"{indent}{trace.say.ring(final)}")
        lines += _after_ring(trace, final, agents, indent, queued)
        return lines
    if isinstance(final, Wait):
        lines.append(f"{indent}{trace.say.wait(final)}")
        if final.service_id in queued:
            lines.append(f"{indent}  puis comme dans la file plus haut")
        else:
            lines += _in_queue(trace, final, agents, indent, queued | {final.service_id})
        return lines
    lines.append(f"{indent}{trace.say.end(final)}")
    if isinstance(final, PlayMessage) and routed.hops:
        lines += _owed(trace, routed.hops[-1].entry_outcome, indent)
    return lines


def _in_queue(
    trace: _Trace, wait: Wait, agents: AgentsView, indent: str, queued: frozenset[str]
) -> list[str]:
    """Every way a wait in a queue can end: the caller hangs up, the first busy agent frees up
    (then its ringing's paths), the maximum wait runs out."""
    lines = _owed(
        trace, EntryOutcome.ABANDONED, indent, "si l'appelant raccroche pendant l'attente"
    )
    busy = [e for e, _ in agents_now(trace.rules.services[wait.service_id], agents).busy]
    if busy:
        # The first busy agent (in the service's order) hangs up: the caller's turn.
        freed = _with_devices(agents, {busy[0]: DeviceState.NOT_INUSE})
        caller = Queued("simulate", trace.now, trace.rules, trace.facts)
        for turn in queue_round(wait.service_id, [caller], trace.now, freed):
            if not isinstance(turn.decision, Ring):
                continue  # an agent is present (the one freed): never
            routed = Routed((), turn.decision)
            first, *rest = _routed(trace, routed, freed, indent + "  ", queued)
            lines += [f"{indent}si {busy[0]} se libère :", first, *rest]
    after = left_queue(
        trace.rules, wait.service_id, wait.remaining_s, trace.now, agents, trace.facts
    )
    lines.append(f"{indent}si l'attente maximale ({seconds(wait.remaining_s)}) est atteinte :")
    lines += _routed(trace, after, agents, indent + "  ", queued)
    return lines


def _with_devices(agents: AgentsView, devices: dict[str, DeviceState]) -> AgentsView:
    return AgentsView(
        devices=MappingProxyType({**agents.devices, **devices}),
        presence=agents.presence,
        default_presence=agents.default_presence,
        last_call_end=agents.last_call_end,
        round_robin_last=agents.round_robin_last,
    )


def _after_ring(
    trace: _Trace,
    ring: Ring,
    agents: AgentsView,
    indent: str,
    queued: frozenset[str] = frozenset(),
) -> list[str]:
    """Every way the ringing can end without an answer, each followed to its end; a path the
    same as an earlier one from its second line on is told as such instead of repeated."""
    lines = _owed(
        trace, EntryOutcome.ABANDONED, indent, "si l'appelant raccroche pendant la sonnerie"
    )
    rung = tuple(dict.fromkeys(e for step in ring.plan.steps for e in step.endpoints))
    seen: dict[tuple[str, ...], str] = {}
    for ending in trace.endings:
        heading, outcome, state = _ENDINGS[ending]
        after = _with_devices(agents, dict.fromkeys(rung, state))
        legs = [RungLeg(endpoint, outcome) for endpoint in rung]
        routed = after_ringing(
            trace.rules, ring.plan.service_id, legs, trace.now, after, trace.facts
        )
        first, *rest = _routed(trace, routed, after, indent + "  ", queued)
        lines += [f"{indent}{heading} :", first]
        same = seen.setdefault(tuple(rest), heading)
        lines += rest if same == heading else [f"{indent}  puis comme « {same} »"]
    return lines


def _owed(trace: _Trace, left: EntryOutcome, indent: str, heading: str = "") -> list[str]:
    """The callback the call is owed when it ends having left a service so (``heading``: the
    path's own line, else a line only when one is owed)."""
    has_number = trace.facts.caller_number is not None
    kind = owed_callback(left, has_number=has_number, requested=False)
    if kind is not None:
        told = f"rappel dû ({CALLBACK_KINDS[kind]}) : le numéro va dans la liste des rappels"
    else:
        told = "" if has_number else "pas de rappel : le numéro est masqué"
    if heading:
        return [f"{indent}{heading} : {OUTCOMES[left]}" + (f", {told}" if told else "")]
    return [f"{indent}{told}"] if told else []


def _service_part(trace: _Trace, service_id: str, agents: AgentsView) -> list[str]:
    routed = route_service(trace.rules, service_id, trace.now, agents, trace.facts)
    lines = _routed(trace, routed, agents, "  ")
    if isinstance(routed.final, Ring):
        # The survey is sampled when the call first rings a service.
        survey = survey_for(trace.rules, routed.final.plan.service_id, 0)
        if survey is not None:
            at = len(routed.hops) + len(routed.announcements) + 1
            sampled = f"enquête « {survey.id} » (1 appel sur {survey.one_in})"
            lines.insert(at, f"  si l'appel est décroché : {sampled}")
    return lines


@dataclass(frozen=True, slots=True)
class IvrWalk:
    """What a caller pressing ``keys`` lives through in the menus: the start, then one step per
    key or silence (the ends of prompts are no step), and the keys left unused."""

    steps: tuple[IvrStep, ...]
    unused: tuple[str, ...]

    @property
    def last(self) -> IvrAction | None:
        """How the caller leaves the menus (None: still in them, which the bound prevents)."""
        actions = self.steps[-1].actions
        return actions[-1] if actions and self.steps[-1].state is None else None

    @property
    def prompts(self) -> tuple[str, ...]:
        """Every prompt the menus play, in order."""
        return tuple(
            prompt
            for step in self.steps
            for action in step.actions
            if isinstance(action, Play)
            for prompt in action.prompt_ids
        )


def walk_ivr(rules: CompiledRules, menu_id: str, keys: Sequence[str]) -> IvrWalk:
    """The menus from ``menu_id`` for a caller pressing ``keys`` in turn, each once the menu
    waits or while it plays, then silent (timeouts) until the menus send them somewhere."""
    step: IvrStep = ivr_start(rules, menu_id)
    steps = [step]
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
        steps.append(step)
    return IvrWalk(tuple(steps), tuple(pending))


def simulate(
    rules: CompiledRules,
    *,
    at: datetime,
    dialled: str,
    keys: Sequence[str],
    agents: AgentsView,
    facts: CallFacts,
    endings: Sequence[RingEnding] = ALL_ENDINGS,
) -> list[str]:
    """The trace of one call: the entry, the menus, then the service and every path from its
    ringing (``endings``: the unanswered endings to follow; all three by default)."""
    say = Narrator(rules)
    trace = _Trace(rules, at, facts, tuple(endings), say)
    called = dialled or "(tout numéro)"
    lines = [f"appel vers {called} le {moment(at.astimezone(rules.tz))}, règles {rules.version}"]
    entry = entry_point(rules, dialled, at)
    lines.append(say.entry(entry))
    if isinstance(entry, Closed):
        lines.append(say.end(PlayMessage(entry.prompt_id)))
        return lines
    if isinstance(entry, GoService):
        lines += _service_part(trace, entry.service_id, agents)
        return lines
    walk = walk_ivr(rules, entry.menu_id, keys)
    lines += say.ivr_steps(walk.steps)
    last = walk.last
    pending = walk.unused
    if isinstance(last, GoToService):
        lines += _service_part(trace, last.service_id, agents)
    elif isinstance(last, EndWithMessage):
        lines.append(say.end(PlayMessage(last.prompt_id)))
    elif isinstance(last, StartCallback):
        lines.append(say.end(last.callback))
    if pending:
        lines.append(f"touches non utilisées : {' '.join(pending)}")
    return lines

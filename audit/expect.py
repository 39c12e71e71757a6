"""Where a path must end at one moment, and what the caller hears on the way (pure).

The expectation comes from the very decisions the call flow asks — the entry route, the menus
(``routing_rules.simulate.walk_ivr``, what ``decroche rules simulate`` prints), the services'
hours and overflows — with every agent present, as an audit call's routing sees them
(``routing.audit_agents``). It also says where a call would go if nobody answered the service
(no answer, then the overflow chain), which an audit call never lives but the report shows and
the sounds check covers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from audit.moments import Moment
from audit.paths import AuditPath
from routing_rules.agents import AgentsView
from routing_rules.compiled import CompiledRules, PlayMessage, TakeCallback
from routing_rules.ivr import EndWithMessage, GoToService, StartCallback
from routing_rules.outcomes import LegOutcome
from routing_rules.routing import (
    CallFacts,
    Closed,
    GoService,
    Reached,
    ReachedKind,
    Ring,
    Routed,
    RungLeg,
    Wait,
    after_ringing,
    audit_agents,
    entry_point,
    route_service,
    survey_for,
)
from routing_rules.simulate import walk_ivr

# An audit call presents no number (the robot's Local channel has none).
AUDIT_FACTS = CallFacts(None)


@dataclass(frozen=True, slots=True)
class Expected:
    """A path at one moment.

    ``prompts``: every prompt heard, in order, up to the destination's own (a message, or the
    callback invitation); ``after``: the prompts the destination may play next (a callback's
    number and thanks, a service's satisfaction survey); ``unanswered``: where a call would go,
    hop by hop, if nobody answered the service reached, with ``unanswered_prompts`` the prompts
    heard there.
    """

    reached: Reached
    prompts: tuple[str, ...]
    services: tuple[str, ...] = ()  # the services gone through (closed ones, then the last)
    after: tuple[str, ...] = ()
    unanswered: tuple[Reached, ...] = ()
    unanswered_prompts: tuple[str, ...] = ()
    why: tuple[str, ...] = field(default=(), compare=False)

    @property
    def sounds(self) -> frozenset[str]:
        """Every prompt this moment of the path may play."""
        return frozenset((*self.prompts, *self.after, *self.unanswered_prompts))


def _callback_after(target: TakeCallback) -> tuple[str, ...]:
    return tuple(p for p in (target.number_prompt, target.thanks_prompt) if p)


def expect(rules: CompiledRules, path: AuditPath, at: datetime) -> Expected:
    """Where ``path`` ends at ``at`` (an aware datetime)."""
    agents = audit_agents(rules)
    entry = entry_point(rules, path.dialled, at)
    why = [entry.why]
    if isinstance(entry, Closed):
        return Expected(
            Reached(ReachedKind.MESSAGE, entry.prompt_id), (entry.prompt_id,), why=tuple(why)
        )
    if isinstance(entry, GoService):
        return _service(rules, entry.service_id, at, agents, (), why)
    walk = walk_ivr(rules, entry.menu_id, path.keys)
    why += [step.why for step in walk.steps]
    last = walk.last
    if isinstance(last, EndWithMessage):
        reached = Reached(ReachedKind.MESSAGE, last.prompt_id)
        return Expected(reached, (*walk.prompts, last.prompt_id), why=tuple(why))
    if isinstance(last, StartCallback):
        target = last.callback
        return Expected(
            Reached(ReachedKind.CALLBACK, target.prompt_id),
            (*walk.prompts, target.prompt_id),
            after=_callback_after(target),
            why=tuple(why),
        )
    assert isinstance(last, GoToService), f"path {path.id}: the menus never end"
    return _service(rules, last.service_id, at, agents, walk.prompts, why)


def _service(
    rules: CompiledRules,
    service_id: str,
    at: datetime,
    agents: AgentsView,
    heard: tuple[str, ...],
    why: list[str],
) -> Expected:
    routed = route_service(rules, service_id, at, agents, AUDIT_FACTS)
    why += routed.why
    prompts = (*heard, *routed.announcements)
    services = tuple(hop.service_id for hop in routed.hops)
    final = routed.final
    if isinstance(final, PlayMessage):
        reached = Reached(ReachedKind.MESSAGE, final.prompt_id)
        return Expected(reached, (*prompts, final.prompt_id), services, why=tuple(why))
    if isinstance(final, TakeCallback):
        return Expected(
            Reached(ReachedKind.CALLBACK, final.prompt_id),
            (*prompts, final.prompt_id),
            services,
            after=_callback_after(final),
            why=tuple(why),
        )
    if isinstance(final, Wait):
        # Never with every agent free and nobody waiting, as audit calls see the agents; a
        # queue would hold the call at the service all the same.
        reached = Reached(ReachedKind.SERVICE, final.service_id)
        return Expected(reached, prompts, (*services, final.service_id), why=tuple(why))
    unanswered, more = _unanswered(rules, final, at, agents)
    # A caller of the service may be asked the satisfaction survey (1 in N): its prompts.
    survey = survey_for(rules, final.plan.service_id, 0)
    asked = (
        (survey.consent_prompt, *(q.prompt for q in survey.questions), survey.thanks_prompt)
        if survey is not None
        else ()
    )
    return Expected(
        Reached(ReachedKind.SERVICE, final.plan.service_id),
        prompts,
        (*services, final.plan.service_id),
        after=asked,
        unanswered=unanswered,
        unanswered_prompts=more,
        why=tuple(why),
    )


def _unanswered(
    rules: CompiledRules, ring: Ring, at: datetime, agents: AgentsView
) -> tuple[tuple[Reached, ...], tuple[str, ...]]:
    """Where a call goes when nobody answers ``ring``, hop by hop, and the prompts heard there."""
    chain: list[Reached] = []
    prompts: list[str] = []
    rung = {ring.plan.service_id}
    while True:
        endpoints = dict.fromkeys(e for step in ring.plan.steps for e in step.endpoints)
        legs = [RungLeg(e, LegOutcome.NO_ANSWER) for e in endpoints]
        routed: Routed = after_ringing(rules, ring.plan.service_id, legs, at, agents, AUDIT_FACTS)
        prompts += routed.announcements
        final = routed.final
        if isinstance(final, PlayMessage):
            chain.append(Reached(ReachedKind.MESSAGE, final.prompt_id))
            prompts.append(final.prompt_id)
            break
        if isinstance(final, TakeCallback):
            chain.append(Reached(ReachedKind.CALLBACK, final.prompt_id))
            prompts += (final.prompt_id, *_callback_after(final))
            break
        if isinstance(final, Wait):  # not after no answer, which no queue takes back
            chain.append(Reached(ReachedKind.SERVICE, final.service_id))
            break
        chain.append(Reached(ReachedKind.SERVICE, final.plan.service_id))
        if final.plan.service_id in rung:
            break  # rings a service already rung: the same chain again
        rung.add(final.plan.service_id)
        ring = final
    return tuple(chain), tuple(prompts)


@dataclass(frozen=True, slots=True)
class Variant:
    """One outcome of a path and the moments it holds at."""

    expected: Expected
    moments: tuple[Moment, ...]


def variants(rules: CompiledRules, path: AuditPath, chosen: Sequence[Moment]) -> list[Variant]:
    """The path's distinct outcomes over ``chosen`` moments, most frequent first."""
    found: dict[Expected, list[Moment]] = {}
    for moment in chosen:
        found.setdefault(expect(rules, path, moment.at), []).append(moment)
    ordered = sorted(found.items(), key=lambda item: -sum(len(m.days) for m in item[1]))
    return [Variant(expected, tuple(held)) for expected, held in ordered]

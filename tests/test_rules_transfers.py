"""Where an agent's blind transfer leads (``routing_rules.routing.transfer_destination``), as a
table of cases over inline rules."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from types import MappingProxyType

import pytest

from routing_rules.agents import AgentsView, DeviceState, Presence
from routing_rules.compiled import CompiledRules
from routing_rules.loader import validate_text
from routing_rules.routing import (
    CallFacts,
    Closed,
    ColleagueAway,
    GoService,
    IvrStart,
    ToColleague,
    colleague_of,
    transfer_destination,
)

RULES = textwrap.dedent(
    """\
    settings:
      invalid_prompt: p
      ring_cycle_s: 5
    schedules:
      mornings:
        weekly:
          wed: ["08:00-12:00"]
    services:
      front:
        name: Accueil
        tag: ACCUEIL
        agents: [PJSIP/1001, PJSIP/1002, PJSIP/1003]
        strategy: ring_all
        rings: 6
        rings_per_agent: 2
        overflow: {otherwise: {message: p}}
      social:
        name: CCAS
        tag: CCAS
        agents: [PJSIP/1101, PJSIP/1102, PJSIP/1002]
        strategy: in_order
        rings: 4
        rings_per_agent: 2
        hours: mornings
        overflow: {otherwise: {message: p}}
    menus:
      main:
        greeting: p
        prompt: p
        keys: {"1": {service: front}}
        fallback: {service: front}
    entry:
      - numbers: ["0232000001"]
        service: social
      - numbers: ["0232000002"]
        hours: mornings
        closed_message: p
        service: social
      - menu: main
    """
)
COMPILED = validate_text(RULES, "transfers.yaml", {"p"})
assert isinstance(COMPILED, CompiledRules)
WED_10 = datetime(2026, 10, 14, 8, 0, tzinfo=UTC)  # Wednesday 10:00 in Paris
WED_15 = datetime(2026, 10, 14, 13, 0, tzinfo=UTC)  # the CCAS is closed
ALL = ("PJSIP/1001", "PJSIP/1002", "PJSIP/1003", "PJSIP/1101", "PJSIP/1102")
FACTS = CallFacts("0611111111")


def view(busy: tuple[str, ...] = (), **presence: Presence) -> AgentsView:
    """Every phone free but ``busy``; ``presence`` of PJSIP/1002 per service."""
    devices = {e: DeviceState.INUSE if e in busy else DeviceState.NOT_INUSE for e in ALL}
    return AgentsView(
        devices=MappingProxyType(devices),
        presence=MappingProxyType({(s, "PJSIP/1002"): p for s, p in presence.items()}),
    )


def steps(decision: object) -> list[tuple[tuple[str, ...], float]]:
    assert isinstance(decision, ToColleague)
    return [(step.endpoints, step.seconds) for step in decision.ring.plan.steps]


def test_a_free_colleague_rings_first_then_the_rest_of_their_service() -> None:
    decision = transfer_destination(COMPILED, "1002", WED_10, view(), FACTS)
    assert isinstance(decision, ToColleague)
    assert (decision.endpoint, decision.service_id) == ("PJSIP/1002", "front")
    # Their rings per agent (2 x 5 s), then the service's plan without them (ring_all, 30 s).
    assert steps(decision) == [(("PJSIP/1002",), 10.0), (("PJSIP/1001", "PJSIP/1003"), 30.0)]
    assert decision.ring.plan.timeout_s == 40.0
    assert decision.ring.plan.caller_id == "[ACCUEIL] 0611111111"


def test_one_at_a_time_services_go_on_without_the_colleague() -> None:
    decision = transfer_destination(COMPILED, "1101", WED_10, view(), FACTS)
    # in_order, 2 rings each for 4 rings: 1101, 1102 (the plan's 1101 step is left out).
    assert steps(decision) == [(("PJSIP/1101",), 10.0), (("PJSIP/1102",), 10.0)]


def test_the_first_service_where_the_colleague_is_signed_in_is_theirs() -> None:
    decision = transfer_destination(
        COMPILED, "1002", WED_10, view(front=Presence.SIGNED_OUT), FACTS
    )
    assert isinstance(decision, ToColleague) and decision.service_id == "social"


def test_a_colleague_whose_service_is_closed_still_rings_alone() -> None:
    decision = transfer_destination(COMPILED, "1101", WED_15, view(), FACTS)
    assert steps(decision) == [(("PJSIP/1101",), 10.0)]


@pytest.mark.parametrize(
    ("busy", "presence", "reason"),
    [
        ((), {"front": Presence.PAUSED, "social": Presence.PAUSED}, "paused"),
        (("PJSIP/1002",), {}, "device INUSE"),
        ((), {"front": Presence.SIGNED_OUT, "social": Presence.SIGNED_OUT}, "signed_out"),
    ],
)
def test_a_colleague_who_cannot_take_calls_hands_over_to_their_service(
    busy: tuple[str, ...], presence: dict[str, Presence], reason: str
) -> None:
    decision = transfer_destination(COMPILED, "1002", WED_10, view(busy, **presence), FACTS)
    assert decision == ColleagueAway("PJSIP/1002", "front", reason)
    assert reason in decision.why


def test_other_numbers_follow_the_entry_routes_without_the_welcome() -> None:
    service = transfer_destination(COMPILED, "0232000001", WED_10, view(), FACTS)
    assert isinstance(service, GoService) and service.service_id == "social"
    closed = transfer_destination(COMPILED, "0232000002", WED_15, view(), FACTS)
    assert isinstance(closed, Closed)
    menu = transfer_destination(COMPILED, "0232999999", WED_10, view(), FACTS)
    assert isinstance(menu, IvrStart) and (menu.menu_id, menu.greet) == ("main", False)
    assert "no welcome" in menu.why


def test_an_extension_is_a_colleague_only_when_the_rules_list_the_phone() -> None:
    assert colleague_of(COMPILED, "1102") == "PJSIP/1102"
    assert colleague_of(COMPILED, "1999") is None
    assert colleague_of(COMPILED, "PJSIP") is None

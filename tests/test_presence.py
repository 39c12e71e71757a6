"""The agents' page sign-in and pause reach the router: routing then skips the agent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from decroche.presence import RouterPresence
from reports.errors import PresenceError
from routing_rules.holder import RulesHolder
from routing_rules.loader import default_rules_path
from routing_rules.routing import CallFacts, Overflow, Ring, service_decision
from telephony.flow.agents import AgentTracker

WEDNESDAY_10H = datetime(2026, 10, 14, 8, 0, tzinfo=UTC)
CCAS = ("PJSIP/1101", "PJSIP/1102", "PJSIP/1103")


def ringing(rules, tracker) -> set[str]:
    decision = service_decision(rules, "ccas", WEDNESDAY_10H, tracker.view(), CallFacts("06"))
    if isinstance(decision, Overflow):
        return set()
    assert isinstance(decision, Ring)
    return {e for step in decision.plan.steps for e in step.endpoints}


async def test_sign_out_pause_resume_drive_routing() -> None:
    rules = RulesHolder(default_rules_path()).current
    tracker = AgentTracker()
    for endpoint in CCAS:
        tracker._set_endpoint(endpoint, "online", 0)
    presence = RouterPresence(tracker, lambda: rules, {"marie": "PJSIP/1101"})
    assert ringing(rules, tracker) == set(CCAS)
    state = await presence.state("marie")
    assert state.signed_in == frozenset({"ccas"})
    await presence.sign_out("marie", "ccas")
    assert ringing(rules, tracker) == set(CCAS) - {"PJSIP/1101"}
    await presence.sign_in("marie", "ccas", frozenset({"ccas"}))
    await presence.pause("marie", "réunion")
    assert (await presence.state("marie")).paused
    assert "PJSIP/1101" not in ringing(rules, tracker)
    await presence.resume("marie")
    assert ringing(rules, tracker) == set(CCAS)
    with pytest.raises(PresenceError, match="ne répond pas pour le service « police"):
        await presence.sign_in("marie", "police_municipale", frozenset({"police_municipale"}))
    with pytest.raises(PresenceError, match="aucun poste n'est configuré pour l'agent « paul »"):
        await presence.pause("paul")

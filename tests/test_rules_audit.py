"""The audit calls' own decisions (``routing_rules.routing.audit``), as tables of cases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from routing_rules.agents import DeviceState, Presence
from routing_rules.holder import RulesHolder
from routing_rules.loader import default_rules_path
from routing_rules.model import Strategy
from routing_rules.routing import (
    AuditMark,
    CallFacts,
    Reached,
    ReachedKind,
    Ring,
    RingPlan,
    RingStep,
    StopRinging,
    audit_agents,
    audit_ring,
    route_service,
)

BERNAY = RulesHolder(default_rules_path()).current
TUESDAY_10H = datetime(2026, 10, 13, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "mark"),
    [
        ("20261014-100000-abc123/p07", AuditMark("20261014-100000-abc123", "p07")),
        (" run/p1 \n", AuditMark("run", "p1")),
        ("", None),
        (None, None),
        ("run", None),  # no path
        ("run/p1/extra", None),
        ("ru n/p1", None),
        ("run/" + "p" * 65, None),  # too long to be ours
    ],
)
def test_an_audit_mark_is_a_run_and_a_path(value: str | None, mark: AuditMark | None) -> None:
    assert AuditMark.parse(value) == mark
    if mark is not None:
        assert AuditMark.parse(mark.value) == mark


@pytest.mark.parametrize(
    ("value", "reached"),
    [
        ("service ccas", Reached(ReachedKind.SERVICE, "ccas")),
        ("message mairie_fermee", Reached(ReachedKind.MESSAGE, "mairie_fermee")),
        ("callback rappel_invitation", Reached(ReachedKind.CALLBACK, "rappel_invitation")),
        ("service", None),
        ("agent 1001", None),
        (None, None),
    ],
)
def test_where_an_audit_call_ended_reads_back(value: str | None, reached: Reached | None) -> None:
    assert Reached.parse(value) == reached


PLAN = RingPlan(
    service_id="ccas",
    strategy=Strategy.RING_ALL,
    steps=(RingStep(("PJSIP/1101", "PJSIP/1102"), 25.0),),
    timeout_s=25.0,
    caller_id="[CCAS] masqué",
    skipped=(),
)


@pytest.mark.parametrize(
    ("test_phone", "rings"),
    [(None, None), ("", None), ("PJSIP/1999", ("PJSIP/1999",))],
)
def test_an_audit_call_never_rings_agents(test_phone: str | None, rings: tuple[str] | None):
    decision = audit_ring(PLAN, test_phone)
    if rings is None:
        assert decision == StopRinging("ccas")
        assert "would ring service ccas" in decision.why
        return
    assert isinstance(decision, RingPlan)
    assert [step.endpoints for step in decision.steps] == [rings]
    # The service's ring time and the caller id its agents would see.
    assert (decision.timeout_s, decision.steps[0].seconds) == (25.0, 25.0)
    assert decision.caller_id == "[CCAS] masqué"
    assert {e for e, _ in decision.skipped} == {"PJSIP/1101", "PJSIP/1102"}


def test_an_audit_call_sees_every_agent_present_and_free() -> None:
    view = audit_agents(BERNAY)
    agents = {a for s in BERNAY.services.values() for a in s.agents}
    assert set(view.devices) == agents
    assert {view.device(a) for a in agents} == {DeviceState.NOT_INUSE}
    assert {view.presence_in(s, a) for s in BERNAY.services for a in agents} == {Presence.SIGNED_IN}
    routed = route_service(BERNAY, "ccas", TUESDAY_10H, view, CallFacts(None))
    assert isinstance(routed.final, Ring) and routed.final.plan.service_id == "ccas"

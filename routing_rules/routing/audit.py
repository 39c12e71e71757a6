"""Audit calls: decroche's own synthetic calls through the PBX (``docs/audit.md``).

An audit call enters through the dialplan like a caller and carries the channel variable
``DECROCHE_AUDIT`` (``<run>/<path>``). It lives through the same decisions as any call — entry,
menus, opening hours, overflows of closed services — with two differences decided here:

- who is present is not what it tests: routing sees every agent of the rules signed in and idle
  (:func:`audit_agents`), so a path reaches the same service whatever the day's staffing, and
  ``decroche rules simulate`` at the same moment says where it must end;
- it never rings agents: where a caller's phones would ring, the call stops ("would ring service
  X now"), or rings the test phone named in the configuration instead (:func:`audit_ring`).

Where it ended is told to the audit robot on the call's channel (:data:`REACHED_VARIABLE`,
:class:`Reached`), which the robot compares with its own expectation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from routing_rules.agents import AgentsView
from routing_rules.compiled import CompiledRules
from routing_rules.routing.service import RingPlan, RingStep

AUDIT_VARIABLE = "DECROCHE_AUDIT"
REACHED_VARIABLE = "DECROCHE_AUDIT_REACHED"
_MARK = re.compile(r"^(?P<run>[A-Za-z0-9_.-]{1,64})/(?P<path>[A-Za-z0-9_.-]{1,64})$")


@dataclass(frozen=True, slots=True)
class AuditMark:
    """Which audit run and which of its paths a call is."""

    run_id: str
    path_id: str

    @property
    def value(self) -> str:
        return f"{self.run_id}/{self.path_id}"

    @classmethod
    def parse(cls, value: str | None) -> AuditMark | None:
        """The mark a channel variable holds (None: empty or not a mark)."""
        match = _MARK.match((value or "").strip())
        return cls(match["run"], match["path"]) if match else None


class ReachedKind(StrEnum):
    SERVICE = "service"  # a service would ring now (or its call rang the test phone)
    MESSAGE = "message"  # a message was played, then the call ended
    CALLBACK = "callback"  # the callback request was offered


@dataclass(frozen=True, slots=True)
class Reached:
    """Where an audit call ended: ``service ccas``, ``message mairie_fermee``, ``callback
    rappel_invitation`` (the channel variable's value)."""

    kind: ReachedKind
    target: str

    @property
    def value(self) -> str:
        return f"{self.kind.value} {self.target}"

    @classmethod
    def parse(cls, value: str | None) -> Reached | None:
        kind, _, target = (value or "").strip().partition(" ")
        if not target or kind not in set(ReachedKind):
            return None
        return cls(ReachedKind(kind), target)


def audit_agents(rules: CompiledRules) -> AgentsView:
    """Every agent of the rules registered, idle and signed in: what an audit call's routing
    sees, so that a path always ends where the rules send it."""
    return AgentsView.all_free(
        tuple(dict.fromkeys(a for s in rules.services.values() for a in s.agents))
    )


@dataclass(frozen=True, slots=True)
class StopRinging:
    """The audit call ends where the service's phones would ring."""

    service_id: str

    @property
    def why(self) -> str:
        return f"audit call: would ring service {self.service_id} now; stops here"


def audit_ring(plan: RingPlan, test_phone: str | None) -> StopRinging | RingPlan:
    """What an audit call does instead of ringing ``plan``: stop, or ring only the test phone
    for the service's ring time, with the caller id the agents would see."""
    if not test_phone:
        return StopRinging(plan.service_id)
    return RingPlan(
        service_id=plan.service_id,
        strategy=plan.strategy,
        steps=(RingStep((test_phone,), plan.timeout_s),),
        timeout_s=plan.timeout_s,
        caller_id=plan.caller_id,
        skipped=tuple((e, "audit call: the test phone rings instead") for e in _rung(plan)),
    )


def _rung(plan: RingPlan) -> tuple[str, ...]:
    return tuple(dict.fromkeys(e for step in plan.steps for e in step.endpoints))

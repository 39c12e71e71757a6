"""Pure routing decisions: each decision of a call's way through the services has its home here.

No I/O and no clock: ``now`` and the agents' state are passed in, the result is a value the call
flow carries out. Every decision says why (``.why``), which ``decroche rules simulate`` prints,
so IT reads the very reasoning the service follows. Modules, by decision:

- ``entry``: :func:`entry_point` — the dialled number -> a menu, a service, or closed.
- ``service``: :func:`service_decision` — one service at ``now`` -> :class:`Ring` (a plan),
  :class:`Wait` (in the service's queue) or :class:`Overflow` (reason: closed, nobody, busy).
- ``queue``: :func:`queue_round` — the waiting callers of a service, longest waiting first, who
  ring now; :func:`left_queue` — a caller's maximum wait ran out; :func:`position_prompts`.
- ``chain``: :func:`route_service` follows the overflow chain until something rings or the call
  ends on a message or a callback request; :func:`overflow_target` is one hop.
- ``after_ringing``: :func:`after_ringing` — ringing ended unanswered -> why (no answer, busy,
  nobody reachable, from how each leg ended; :func:`leg_outcome_of_cause` reads Q.850 causes)
  and the chain from there.
- ``callbacks``: :func:`owed_callback` — a finished call is owed a callback, or not.
- ``surveys``: :func:`survey_for` — the satisfaction survey a call is sampled for, if any.
- ``phone_codes``: :func:`phone_code` — what an agent's ``*51``/``*52``/``*53`` does and says.
- ``audit``: :func:`audit_agents`, :func:`audit_ring` — how decroche's own audit calls differ:
  every agent seen present, and no agent rung (stop, or the test phone).
- ``transfers``: :func:`transfer_destination` — where an agent's blind transfer leads (a
  colleague first, or the entry routes without the welcome).
"""

from routing_rules.routing.after_ringing import (
    RungLeg,
    after_ringing,
    leg_outcome_of_cause,
    unanswered_reason,
)
from routing_rules.routing.audit import (
    AUDIT_VARIABLE,
    REACHED_VARIABLE,
    AuditMark,
    Reached,
    ReachedKind,
    StopRinging,
    audit_agents,
    audit_ring,
)
from routing_rules.routing.callbacks import OwedKind, owed_callback
from routing_rules.routing.chain import Routed, overflow_target, route_onward, route_service
from routing_rules.routing.entry import Closed, EntryDecision, GoService, IvrStart, entry_point
from routing_rules.routing.phone_codes import CodeAnswer, PhoneCode, Said, phone_code
from routing_rules.routing.queue import Queued, Turn, left_queue, position_prompts, queue_round
from routing_rules.routing.service import (
    CallFacts,
    Overflow,
    Ring,
    RingPlan,
    RingStep,
    ServiceDecision,
    Wait,
    caller_id_for,
    can_ring,
    service_decision,
)
from routing_rules.routing.surveys import survey_for
from routing_rules.routing.transfers import (
    ColleagueAway,
    ToColleague,
    TransferDecision,
    colleague_of,
    transfer_destination,
)

__all__ = [
    "AUDIT_VARIABLE",
    "REACHED_VARIABLE",
    "AuditMark",
    "CallFacts",
    "Closed",
    "CodeAnswer",
    "ColleagueAway",
    "EntryDecision",
    "GoService",
    "IvrStart",
    "Overflow",
    "OwedKind",
    "PhoneCode",
    "Queued",
    "Reached",
    "ReachedKind",
    "Ring",
    "RingPlan",
    "RingStep",
    "Routed",
    "RungLeg",
    "Said",
    "ServiceDecision",
    "StopRinging",
    "ToColleague",
    "TransferDecision",
    "Turn",
    "Wait",
    "after_ringing",
    "audit_agents",
    "audit_ring",
    "caller_id_for",
    "can_ring",
    "colleague_of",
    "entry_point",
    "left_queue",
    "leg_outcome_of_cause",
    "overflow_target",
    "owed_callback",
    "phone_code",
    "position_prompts",
    "queue_round",
    "route_onward",
    "route_service",
    "service_decision",
    "survey_for",
    "transfer_destination",
    "unanswered_reason",
]

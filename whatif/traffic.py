"""The traffic model of a what-if (pure): call records in, the callers and phones to replay out.

:func:`traffic_from_records` rebuilds a :class:`TrafficModel` from call records — arrival
times, number dialled, keys pressed (the IVR's KEY and INVALID events, in order), how long each
caller was willing to wait, and how each agent's phone behaved over time.

Patience: a caller who hung up waiting gave it exactly (call end − arrival). A caller who was
answered, or left on a message or a callback, was still willing to wait: that patience is
*censored*. It is completed with a draw from the service's patience, taken as exponential
(memoryless: what is left does not depend on how long one has waited) with its mean estimated
the textbook way for censored data: total time waited in the service ÷ number of abandons.

Agents: each agent leg is one observation of that phone at that time. An answered leg gives the
ring-to-answer time; a leg nobody answered tells "more than that" — if the agent answered other
calls after a longer ring, the median of those is used, otherwise the phone does not answer. Busy
and declined legs are replayed as such, an unreachable one as an unregistered phone. During the
replay each phone behaves as its observation nearest in time. Agents never observed (new agents
in the new rules) answer after the median ring time of everyone.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

from routing_rules.compiled import CompiledRules, EntryRule, ToService
from routing_rules.messages import agreeing
from telephony.records.model import (
    CallOutcome,
    CallRecord,
    EntryOutcome,
    IvrEventKind,
    LegOutcome,
)
from telephony.simulator.scripts import AgentScript
from whatif.errors import UnknownQueue

log = logging.getLogger(__name__)

DEFAULT_PATIENCE_S = 300.0  # a service where nobody ever hung up waiting
DEFAULT_TALK_S = 120.0  # nobody was answered at all
DEFAULT_RING_S = 8.0  # nobody ever answered a phone
DIRECT_PREFIX = "99990"  # dialled numbers of queue_log callers: 99990 + service index


# --- the traffic model (pure) --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReplayCall:
    at: datetime
    dialled: str
    caller_number: str
    keys: tuple[tuple[str, float], ...]  # (digits, seconds after the previous trigger)
    patience: float  # seconds from arrival
    talk_time: float
    service: str | None = None  # direct callers (queue_log): the service to go straight to
    # The recorded call this one is the blind-transfer leg of: replayed as a call to the
    # transfer's number, and linked again afterwards so that totals count the caller once.
    transfer_of: str | None = None


@dataclass(frozen=True, slots=True)
class AgentChange:
    at: datetime
    script: AgentScript


@dataclass(slots=True)
class TrafficModel:
    calls: list[ReplayCall]
    agent_changes: list[AgentChange]  # by time; the first of each agent holds from the start
    default_ring_s: float = DEFAULT_RING_S
    patience_mean_s: dict[str, float] = field(default_factory=dict)
    direct: bool = False  # callers go straight to a service (queue_log: no IVR keys)

    def direct_services(self) -> list[str]:
        return sorted({c.service for c in self.calls if c.service is not None})


def _seconds(a: datetime, b: datetime) -> float:
    return max(0.0, (b - a).total_seconds())


def _patience_means(records: Sequence[CallRecord]) -> dict[str, float]:
    waited: dict[str, float] = {}
    abandons: dict[str, int] = {}
    for record in records:
        for entry in record.entries:
            waited[entry.service_id] = waited.get(entry.service_id, 0.0) + entry.wait_seconds
            if entry.outcome is EntryOutcome.ABANDONED:
                abandons[entry.service_id] = abandons.get(entry.service_id, 0) + 1
    total_abandons = sum(abandons.values())
    overall = sum(waited.values()) / total_abandons if total_abandons else DEFAULT_PATIENCE_S
    return {s: (w / abandons[s] if abandons.get(s) else overall) for s, w in waited.items()} | {
        "": overall
    }


def _keys(record: CallRecord) -> tuple[tuple[str, float], ...]:
    keys: list[tuple[str, float]] = []
    trigger = record.started_at
    for event in sorted(record.ivr, key=lambda e: e.at):
        if event.kind is IvrEventKind.MENU:
            trigger = event.at
        elif event.kind in (IvrEventKind.KEY, IvrEventKind.INVALID) and event.key:
            keys.append((event.key, round(min(30.0, _seconds(trigger, event.at)), 3)))
            trigger = event.at
    return tuple(keys)


def _talk(record: CallRecord) -> float | None:
    for entry in record.entries:
        for leg in entry.legs:
            if leg.outcome is LegOutcome.ANSWERED and leg.answered_at is not None:
                return _seconds(leg.answered_at, leg.ended_at)
        if entry.answered_at is not None:
            return _seconds(entry.answered_at, min(entry.ended_at, record.ended_at))
    return None


def _agent_changes(
    records: Sequence[CallRecord], rules: CompiledRules | None
) -> tuple[list[AgentChange], float]:
    legs = sorted(
        (leg for r in records for e in r.entries for leg in e.legs),
        key=lambda leg: leg.ring_started_at,
    )
    answered: dict[str, list[float]] = {}
    for leg in legs:
        if leg.outcome is LegOutcome.ANSWERED:
            answered.setdefault(leg.endpoint, []).append(leg.ring_seconds)
    every = [t for times in answered.values() for t in times]
    default_ring = statistics.median(every) if every else DEFAULT_RING_S
    seen: list[tuple[datetime, AgentScript]] = []
    for leg in legs:
        script = _behaviour(leg.endpoint, leg.outcome, leg.ring_seconds, answered)
        if script is not None:
            seen.append((leg.ring_started_at, script))
    if rules is not None:
        seen += _absences(records, rules, {leg.endpoint for leg in legs})
    seen.sort(key=lambda item: item[0])
    observed: dict[str, list[tuple[datetime, AgentScript]]] = {}
    for at, script in seen:
        observed.setdefault(script.endpoint, []).append((at, script))
    changes: list[AgentChange] = []
    for timeline in observed.values():
        # Each observation holds from halfway since the previous one: the nearest one in time.
        changes.append(AgentChange(timeline[0][0] - timedelta(days=3650), timeline[0][1]))
        for (before, _), (at, script) in pairwise(timeline):
            changes.append(AgentChange(before + (at - before) / 2, script))
    changes.sort(key=lambda c: c.at)
    return changes, default_ring


def _absences(
    records: Sequence[CallRecord], rules: CompiledRules, rung: set[str]
) -> list[tuple[datetime, AgentScript]]:
    """Agents nobody could ring: a service's entry that overflowed for want of anyone present
    says its agents were away then; an agent of a service that got calls but never rang at all
    was away the whole period."""
    absences: list[tuple[datetime, AgentScript]] = []
    offered: dict[str, datetime] = {}
    for record in records:
        for entry in record.entries:
            offered.setdefault(entry.service_id, entry.entered_at)
            service = rules.services.get(entry.service_id)
            if entry.outcome is EntryOutcome.OVERFLOW_NOBODY and service is not None:
                absences += [
                    (entry.entered_at, AgentScript(endpoint=a, registered=False))
                    for a in service.agents
                ]
    for service_id, first in offered.items():
        service = rules.services.get(service_id)
        for agent in service.agents if service is not None else ():
            if agent not in rung:
                absences.append((first, AgentScript(endpoint=agent, registered=False)))
    return absences


def _behaviour(
    endpoint: str, outcome: LegOutcome, ring: float, answered: Mapping[str, list[float]]
) -> AgentScript | None:
    if outcome is LegOutcome.ANSWERED:
        return AgentScript(endpoint=endpoint, ring_time=ring)
    if outcome is LegOutcome.NO_ANSWER:
        longer = [t for t in answered.get(endpoint, []) if t > ring]
        if longer:
            return AgentScript(endpoint=endpoint, ring_time=statistics.median(longer))
        return AgentScript(endpoint=endpoint, response="no_answer")
    if outcome is LegOutcome.BUSY:
        return AgentScript(endpoint=endpoint, response="busy")
    if outcome is LegOutcome.DECLINED:
        return AgentScript(endpoint=endpoint, response="decline")
    if outcome is LegOutcome.UNREACHABLE:
        return AgentScript(endpoint=endpoint, registered=False)
    return None  # cancelled (someone else answered, the caller left) or failed: says nothing


def traffic_from_records(
    records: Iterable[CallRecord],
    *,
    direct: bool = False,
    queue_map: Mapping[str, str] | None = None,
    rules: CompiledRules | None = None,
    seed: int = 2026,
) -> TrafficModel:
    """The traffic a period's records describe.

    ``direct``: the records have no IVR (a queue_log): each caller goes straight to the service
    of its first entry (``queue_map`` renames queues into service ids). ``rules``: the rules
    in force during the period, to tell which agents were away (see :func:`_absences`).
    """
    ordered = sorted(records, key=lambda r: (r.started_at, r.call_id))
    rng = random.Random(seed)
    means = _patience_means(ordered)
    talks: dict[str, list[float]] = {}
    for record in ordered:
        talk = _talk(record)
        if talk is not None and record.entries:
            talks.setdefault(record.entries[-1].service_id, []).append(talk)
    every_talk = [t for values in talks.values() for t in values]
    talk_default = statistics.median(every_talk) if every_talk else DEFAULT_TALK_S
    numbers: dict[str, str] = {}
    calls: list[ReplayCall] = []
    for record in ordered:
        if direct and not record.entries:
            continue
        service = (queue_map or {}).get(s, s) if (s := _first_service(record)) else None
        last = record.entries[-1].service_id if record.entries else ""
        talk = _talk(record)
        if talk is None:
            values = talks.get(last)
            talk = statistics.median(values) if values else talk_default
        number = numbers.setdefault(record.caller_number, f"06{len(numbers):08d}")
        calls.append(
            ReplayCall(
                at=record.started_at,
                dialled=record.dialled or "0",
                caller_number=number,
                keys=() if direct else _keys(record),
                patience=_patience(record, means, rng),
                talk_time=max(1.0, talk),
                service=service if direct else None,
                transfer_of=record.transfer_of,
            )
        )
    changes, default_ring = _agent_changes(ordered, rules)
    return TrafficModel(calls, changes, default_ring, means, direct)


def _first_service(record: CallRecord) -> str | None:
    return min(record.entries, key=lambda e: e.entered_at).service_id if record.entries else None


def _patience(record: CallRecord, means: Mapping[str, float], rng: random.Random) -> float:
    """Seconds from arrival the caller accepts to wait for someone (see the module's text)."""
    gave_up = record.outcome in (CallOutcome.ABANDONED, CallOutcome.IVR_HANGUP)
    answered = [e.answered_at for e in record.entries if e.answered_at is not None]
    if gave_up and not answered:
        return max(0.5, _seconds(record.started_at, record.ended_at))
    if answered:
        waited = _seconds(record.started_at, min(answered))
    else:
        waited = _seconds(record.started_at, record.ended_at)
    last = record.entries[-1].service_id if record.entries else ""
    mean = means.get(last, means.get("", DEFAULT_PATIENCE_S))
    return max(0.5, waited + rng.expovariate(1.0 / mean))


# --- queue_log callers: one entry route per service (pure) ---------------------------------------


def direct_number(index: int) -> str:
    return f"{DIRECT_PREFIX}{index:02d}"


def with_direct_entries(rules: CompiledRules, services: Sequence[str]) -> CompiledRules:
    """The rules with one entry route per service for queue_log callers (dialled
    ``99990NN`` → that service), ahead of the file's own routes."""
    unknown = [s for s in services if s not in rules.services]
    if unknown:
        n = len(unknown)
        raise UnknownQueue(
            f"{agreeing(n, 'file du queue_log inconnue', 'files du queue_log inconnues')} des "
            f"règles ({rules.source}) : {', '.join(unknown)} ; "
            f"{agreeing(n, 'associez-la', 'associez-les')} à un service avec --queue-map "
            "FILE=SERVICE"
        )
    extra = tuple(
        EntryRule(0, frozenset({direct_number(i)}), ToService(s), None, None)
        for i, s in enumerate(services)
    )
    return dataclasses.replace(rules, entry=extra + tuple(rules.entry))

"""Why a service the new rules change shows no difference (pure): one French sentence each.

A what-if that changes nothing looks broken unless it says why. The usual reason is in the
replay of the current rules: fewer rings for a service whose calls were all answered before
the new limit cut nothing; more rings for a service whose calls never rang to the limit gain
nothing. Other changes (agents, strategy, hours, queue) that touch no call of the period are
said so, without guessing further.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from analytics import glossary
from routing_rules.compiled import CompiledRules, ServiceRules
from routing_rules.messages import counted
from routing_rules.outcomes import EntryOutcome
from telephony.records.model import CallRecord, ServiceEntry


def _rings(ring_s: float, cycle: float) -> str:
    """« 15 s (3 sonneries) », or « 12 s » when the limit is no whole number of rings."""
    rings = ring_s / cycle if cycle else 0.0
    said = f"{glossary.decimal(ring_s).removesuffix(',0')}\u00a0s"
    if rings and abs(rings - round(rings)) < 1e-9:
        n = round(rings)
        said += f" ({counted(n, 'sonnerie')})"
    return said


def _entries(records: Iterable[CallRecord], service: str) -> list[ServiceEntry]:
    return [e for r in records for e in r.entries if e.service_id == service and not e.closed]


def _ringing(entry: ServiceEntry) -> float | None:
    """How long the phones rang before an agent answered (None: not answered)."""
    if entry.answered_at is None:
        return None
    start = entry.ringing_at or entry.entered_at
    return max(0.0, (entry.answered_at - start).total_seconds())


def _why(
    before: ServiceRules, after: ServiceRules, entries: Sequence[ServiceEntry], cycle: float
) -> str:
    name = after.name
    if not entries:
        return f"{name} : aucun appel de la période n'est entré dans ce service pendant ses heures."
    if before.ring_s != after.ring_s:
        change = f"sonnerie {_rings(before.ring_s, cycle)} → {_rings(after.ring_s, cycle)}"
        if after.ring_s < before.ring_s:
            rang = [s for s in map(_ringing, entries) if s is not None]
            longest = max(rang, default=0.0)
            if rang and longest < after.ring_s:
                which = (
                    f"son {glossary.count('answered', 1).removeprefix('1 ')} l'a été"
                    if len(rang) == 1
                    else f"chacun de ses {glossary.count('answered', len(rang))} l'a été"
                )
                return (
                    f"{name} : {change} : dans le rejeu des règles actuelles, {which} après "
                    f"{glossary.seconds(longest)} de sonnerie au plus : la nouvelle limite "
                    "n'en aurait coupé aucun."
                )
        else:
            timed_out = [e for e in entries if e.outcome is EntryOutcome.OVERFLOW_TIMEOUT]
            if not timed_out:
                return (
                    f"{name} : {change} : dans le rejeu des règles actuelles, aucun de ses appels "
                    "n'a sonné jusqu'à la limite sans réponse : sonner plus longtemps ne change "
                    "rien."
                )
        return f"{name} : {change}, sans effet sur les appels de la période."
    return f"{name} : ses règles changent, mais aucun appel de la période n'en est touché."


def unchanged_notes(
    current: CompiledRules,
    new: CompiledRules,
    replayed: Sequence[CallRecord],
    difference: Mapping[str, Any],
) -> list[str]:
    """For each service the new rules change (in both rule sets) whose compared figures
    ``difference`` (:meth:`WhatIfResult.difference`) are all zero: why, from ``replayed`` (the
    replay of the current rules). In the order of the services' names."""
    notes: list[tuple[str, str]] = []
    changes = difference.get("services", {})
    for sid, after in new.services.items():
        before = current.services.get(sid)
        if before is None or before == after:
            continue
        moved = changes.get(sid, {})
        if any(v for v in moved.values() if v is not None):
            continue  # the figures show the change
        why = _why(before, after, _entries(replayed, sid), current.ring_cycle_s)
        notes.append((glossary.reading_order(after.name), why))
    return [why for _, why in sorted(notes)]

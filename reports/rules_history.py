"""The routing rules put in force over time, as a management review reads them: which services,
their opening hours, how many agents, how long the phones ring — and what changed from one
version to the next (ISO 9001 §9.3: "changes in internal issues": hours, routing, staffing).

The service records each version it puts in force (at start-up and at each reload) in the web
app's ``rules_versions`` table with a short summary (JSON): the rules file itself may be long
gone by the time of the review.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from reports.schema import rules_versions
from routing_rules.calendar_fr import WEEKDAYS_FR
from routing_rules.compiled import CompiledRules
from routing_rules.hours import CompiledSchedule, Span
from routing_rules.messages import counted


def _hhmm(seconds: int) -> str:
    # No-break spaces: « 13 h 30 » never splits across lines in a narrow column.
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    return f"{hours}\u00a0h" if minutes == 0 else f"{hours}\u00a0h\u00a0{minutes:02d}"


def _spans(spans: tuple[Span, ...]) -> str:
    return " et ".join(f"{_hhmm(a)}–{_hhmm(b)}" for a, b in spans)


def hours_fr(schedule: CompiledSchedule | None) -> str:
    """The weekly opening hours in French, days with the same hours together: « du lundi au
    vendredi 8 h 30–12 h et 13 h 30–17 h ; samedi 9 h–12 h »."""
    if schedule is None:
        return "ouvert en permanence"
    groups: list[tuple[list[int], tuple[Span, ...]]] = []
    for day, spans in enumerate(schedule.weekly):
        if not spans:
            continue
        if groups and groups[-1][1] == spans and groups[-1][0][-1] == day - 1:
            groups[-1][0].append(day)
        else:
            groups.append(([day], spans))
    if not groups:
        return "fermé toute la semaine"
    said = []
    for days, spans in groups:
        if len(days) == 1:
            named = WEEKDAYS_FR[days[0]]
        elif len(days) == 2:
            named = f"{WEEKDAYS_FR[days[0]]} et {WEEKDAYS_FR[days[1]]}"
        else:
            named = f"du {WEEKDAYS_FR[days[0]]} au {WEEKDAYS_FR[days[-1]]}"
        said.append(f"{named} {_spans(spans)}")
    closed = "fermé les jours fériés" if schedule.holidays_closed else "ouvert les jours fériés"
    return " ; ".join(said) + f" ({closed})"


@dataclass(frozen=True, slots=True)
class ServiceSummary:
    name: str
    hours: str
    agents: int
    ring_s: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "hours": self.hours,
            "agents": self.agents,
            "ring_s": self.ring_s,
        }


def summarise(rules: CompiledRules) -> dict[str, ServiceSummary]:
    return {
        sid: ServiceSummary(s.name, hours_fr(s.schedule), len(s.agents), s.ring_s)
        for sid, s in rules.services.items()
    }


def changes_fr(
    before: Mapping[str, ServiceSummary], after: Mapping[str, ServiceSummary]
) -> list[str]:
    """What changed between two versions, one French sentence a change, services by name."""
    said: list[str] = []
    for sid, new in after.items():
        old = before.get(sid)
        if old is None:
            said.append(
                f"{new.name} : service ajouté ({new.hours} ; {counted(new.agents, 'poste')})"
            )
            continue
        if old.name != new.name:
            said.append(f"{old.name} renommé « {new.name} »")
        if old.hours != new.hours:
            said.append(f"{new.name} : horaires « {old.hours} » → « {new.hours} »")
        if old.agents != new.agents:
            said.append(
                f"{new.name} : {counted(old.agents, 'poste')} → {counted(new.agents, 'poste')}"
            )
        if old.ring_s != new.ring_s:
            said.append(
                f"{new.name} : sonnerie {old.ring_s:g} s → {new.ring_s:g} s avant débordement"
            )
    for sid, old in before.items():
        if sid not in after:
            said.append(f"{old.name} : service retiré des règles")
    return said


@dataclass(frozen=True, slots=True)
class RulesVersion:
    in_force_from: datetime
    version: str
    trigger: str
    by: str | None
    services: dict[str, ServiceSummary]


def _decode(text: str) -> dict[str, ServiceSummary]:
    data = json.loads(text)
    return {
        sid: ServiceSummary(s["name"], s["hours"], int(s["agents"]), float(s["ring_s"]))
        for sid, s in data.get("services", {}).items()
    }


class RulesVersionBook:
    """The versions of the rules put in force (the web app's tables, ``upgrade_web_schema``)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, rules: CompiledRules, *, trigger: str, by: str | None, now: datetime) -> bool:
        """Record ``rules`` as in force from ``now``, unless it is the version already last
        recorded (a restart with the same file). True when recorded."""
        c = rules_versions.c
        with self._engine.begin() as conn:
            last = conn.execute(
                select(c.version).order_by(c.in_force_from.desc(), c.id.desc()).limit(1)
            ).first()
            if last is not None and last[0] == rules.version[:64]:
                return False
            summary = {"services": {sid: s.as_dict() for sid, s in summarise(rules).items()}}
            conn.execute(
                insert(rules_versions).values(
                    in_force_from=now,
                    version=rules.version[:64],
                    trigger=trigger[:16],
                    by=by[:64] if by else None,
                    summary=json.dumps(summary, ensure_ascii=False),
                )
            )
        return True

    def between(self, start: datetime, end: datetime) -> list[RulesVersion]:
        """The version in force at ``start`` (if recorded) and those put in force up to
        ``end``, oldest first."""
        c = rules_versions.c
        with self._engine.connect() as conn:
            before = (
                conn.execute(
                    select(rules_versions)
                    .where(c.in_force_from <= start)
                    .order_by(c.in_force_from.desc(), c.id.desc())
                    .limit(1)
                )
                .mappings()
                .all()
            )
            during = (
                conn.execute(
                    select(rules_versions)
                    .where(c.in_force_from > start, c.in_force_from <= end)
                    .order_by(c.in_force_from, c.id)
                )
                .mappings()
                .all()
            )
        return [
            RulesVersion(
                row["in_force_from"],
                row["version"],
                row["trigger"],
                row["by"],
                _decode(row["summary"]),
            )
            for row in [*before, *during]
        ]

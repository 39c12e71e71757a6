"""Staffing of a year: a town of 100,000 calls a year, every service and slot, from SQLite.

A year (2025) of generated calls on the Bernay rules — each service's callers arrive while it
is open, on a town hall's day profile; most are answered after a few rings (some after an agent
let it ring), some hang up, some overflow to the general reception — is imported into a SQLite
database. Timed: ``Staffing.plan`` over the year (read the entries and the agent legs, the
traffic per service and weekday × hour, the agents needed with Erlang B/A and Erlang C),
without ``--verify``. Reference in the same run: the year's indicators (``Indicators.report``)
on the same database, the figure every page already computes. Target: under 5 s.

``BENCH_STAFFING_CALLS`` sets the calls of the year (default 100,000).
"""

from __future__ import annotations

import math
import os
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from analytics.api import Indicators
from analytics.sources import DatabaseSource
from analytics.staffing.api import RulesOpeningHours, Staffing
from ivr_prompts.catalogue import load_catalogue
from routing_rules.compiled import CompiledRules
from routing_rules.loader import default_rules_path, load_rules
from telephony.records.engine import open_store
from telephony.records.model import (
    AgentLeg,
    CallOutcome,
    CallRecord,
    EntryOutcome,
    LegOutcome,
    ServiceEntry,
)
from telephony.records.pseudonym import Pseudonymiser
from telephony.records.store import RecordStore

YEAR = 2025
START, END = date(YEAR, 1, 1), date(YEAR, 12, 31)
# Share of a day's calls in each local hour (a town hall: mornings and early afternoons).
PROFILE = {8: 0.08, 9: 0.15, 10: 0.16, 11: 0.13, 12: 0.03, 13: 0.04, 14: 0.13, 15: 0.12,
           16: 0.10, 17: 0.06}  # fmt: skip
TARGET_S = 5.0


def _generate(rules: CompiledRules, calls_a_year: int, seed: int = 2025) -> Iterator[CallRecord]:
    rng = random.Random(seed)
    services = sorted(rules.services)
    weights = [6.0 if s == "accueil_general" else 2.0 if s == "ccas" else 1.0 for s in services]
    per_day = calls_a_year / (251 + 52 * 0.15)
    day = START
    index = 0
    while day <= END:
        share = 0.15 if day.weekday() == 5 else 0.0 if day.weekday() == 6 else 1.0
        for hour, part in PROFILE.items():
            for _ in range(_poisson(rng, per_day * share * part)):
                local = datetime(day.year, day.month, day.day, hour, tzinfo=rules.tz)
                at = (local + timedelta(seconds=rng.uniform(0, 3600))).astimezone(UTC)
                service = rng.choices(services, weights)[0]
                index += 1
                yield _call(rules, service, at, index, rng)
        day += timedelta(days=1)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _call(
    rules: CompiledRules, service: str, at: datetime, index: int, rng: random.Random
) -> CallRecord:
    entries = [_entry(rules, service, at, rng)]
    if entries[0].outcome is EntryOutcome.OVERFLOW_BUSY:
        entries.append(_entry(rules, "accueil_general", entries[0].ended_at, rng, busy=False))
    return CallRecord(
        call_id=f"bench.{index}",
        started_at=at - timedelta(seconds=15),
        ended_at=entries[-1].ended_at,
        dialled="0232464646",
        caller_number=f"06{rng.randrange(10**8):08d}",
        outcome=CallOutcome.ANSWERED,
        entries=entries,
    )


def _entry(
    rules: CompiledRules, service: str, at: datetime, rng: random.Random, busy: bool = True
) -> ServiceEntry:
    agents = rules.services[service].agents
    schedule = rules.services[service].schedule
    if schedule is not None and not schedule.state_at(at).is_open:
        return ServiceEntry(
            service, at, at, EntryOutcome.OVERFLOW_CLOSED, overflow_to="message", closed=True
        )
    roll = rng.random()
    if busy and roll < 0.08:
        return ServiceEntry(
            service, at, at, EntryOutcome.OVERFLOW_BUSY, overflow_to="accueil_general"
        )
    legs: list[AgentLeg] = []
    start = at
    if rng.random() < 0.3:  # the first phone rang out
        end = start + timedelta(seconds=15)
        legs.append(AgentLeg(rng.choice(agents), start, end, LegOutcome.NO_ANSWER))
        start = end
    if roll < 0.9:
        answered = start + timedelta(seconds=rng.uniform(2, 14))
        ended = answered + timedelta(seconds=max(15.0, rng.lognormvariate(4.9, 0.6)))
        agent = rng.choice(agents)
        legs.append(AgentLeg(agent, start, ended, LegOutcome.ANSWERED, answered))
        return ServiceEntry(
            service, at, ended, EntryOutcome.ANSWERED, at, answered, agent, None, legs
        )
    ended = start + timedelta(seconds=rng.uniform(1, 20))
    legs.append(AgentLeg(rng.choice(agents), start, ended, LegOutcome.CANCELLED))
    return ServiceEntry(service, at, ended, EntryOutcome.ABANDONED, at, legs=legs)


def main() -> bool:
    calls = int(os.environ.get("BENCH_STAFFING_CALLS", "100000"))
    rules = load_rules(default_rules_path(), load_catalogue().keys())
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'records.sqlite'}"
        database = open_store(url)
        store = RecordStore(database, Pseudonymiser(b"bench-staffing-secret-0123"))
        started = time.perf_counter()
        imported = store.import_records(_generate(rules, calls))
        print(
            f"generated and imported {imported.inserted:,} calls of {YEAR} in "
            f"{time.perf_counter() - started:.0f} s (setup, not timed)"
        )
        names = {s.id: s.name for s in rules.services.values()}
        staffing = Staffing(DatabaseSource(database), RulesOpeningHours(rules), names=names)
        indicators = Indicators(DatabaseSource(database))
        started = time.perf_counter()
        plan = staffing.plan(START, END)
        staffing_s = time.perf_counter() - started
        started = time.perf_counter()
        report = indicators.report(START, END)
        reference_s = time.perf_counter() - started
        database.dispose()
    slots = sum(len(s.slots) for s in plan.services.values())
    print(
        f"staffing of the year: {staffing_s:.2f} s ({len(plan.services)} services, "
        f"{slots} weekday × hour slots, {report.total.offered:,} calls counted)"
    )
    print(f"reference, the year's indicators on the same database: {reference_s:.2f} s")
    print(f"ratio staffing / indicators: {staffing_s / reference_s:.2f}")
    print(f"target: staffing under {TARGET_S:g} s: {'met' if staffing_s < TARGET_S else 'MISSED'}")
    return staffing_s < TARGET_S


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)

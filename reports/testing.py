"""Test and benchmark helpers: a town's calls generated at random, and ready-made web deps.

Used by ``tests/test_web_*``, ``tests/test_reports_*`` and ``bench/bench_web.py``; not by the
service itself.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from analytics.api import Indicators
from analytics.sources import DatabaseSource
from reports.accounts import AccountStore, AuthSettings, Role, upgrade_web_schema
from reports.live import InMemoryLiveFeed
from reports.presence import InMemoryAgentPresence
from reports.web.app import WebDeps
from telephony.records.engine import Database
from telephony.records.model import (
    CallbackRequest,
    CallOutcome,
    CallRecord,
    EntryOutcome,
    IvrEvent,
    IvrEventKind,
    ServiceEntry,
)
from telephony.records.pseudonym import Pseudonymiser
from telephony.records.store import RecordStore

SERVICES = ("accueil", "ccas", "etat_civil", "urbanisme")
MENU_KEYS = {"1": "etat_civil", "2": "ccas", "3": "urbanisme", "0": "accueil"}
PASSWORD = "mot-de-passe-de-test"
PARIS = ZoneInfo("Europe/Paris")


def town_calls(first: date, days: int, per_day: int, seed: int = 11) -> Iterator[CallRecord]:
    """Calls on working hours of ``days`` days from ``first``: menu, one to three services with
    overflows, answers within or beyond 25 s, abandons (some short), callbacks."""
    rng = random.Random(seed)
    serial = 0
    for offset in range(days):
        day = first + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for _ in range(per_day):
            serial += 1
            local = datetime(day.year, day.month, day.day, 8, 30, tzinfo=PARIS) + timedelta(
                seconds=rng.uniform(0, 9 * 3600)
            )
            start = local.astimezone(UTC)
            key = rng.choice(list(MENU_KEYS))
            ivr = [
                IvrEvent(start + timedelta(seconds=1), "accueil", IvrEventKind.MENU),
                IvrEvent(start + timedelta(seconds=6), "accueil", IvrEventKind.KEY, key),
            ]
            t = start + timedelta(seconds=7)
            service = MENU_KEYS[key]
            entries: list[ServiceEntry] = []
            callbacks: list[CallbackRequest] = []
            for hop in range(3):
                last = hop == 2 or rng.random() < 0.8
                wait = rng.choice([2.0, 8.0, 15.0, 22.0, 25.0, 31.0, 48.0, 70.0])
                if not last:
                    outcome = EntryOutcome.OVERFLOW_TIMEOUT
                else:
                    outcome = rng.choices(
                        [EntryOutcome.ANSWERED, EntryOutcome.ABANDONED, EntryOutcome.CALLBACK],
                        [0.82, 0.14, 0.04],
                    )[0]
                answered = t + timedelta(seconds=wait) if outcome is EntryOutcome.ANSWERED else None
                ended = t + timedelta(seconds=wait + (rng.uniform(30, 400) if answered else 0))
                target = None if last else ("accueil" if service != "accueil" else "ccas")
                entries.append(
                    ServiceEntry(
                        service_id=service,
                        entered_at=t,
                        ended_at=ended,
                        outcome=outcome,
                        ringing_at=t,
                        answered_at=answered,
                        agent=f"PJSIP/10{rng.randrange(10):02d}" if answered else None,
                        overflow_to=target,
                    )
                )
                if outcome is EntryOutcome.CALLBACK:
                    callbacks.append(
                        CallbackRequest(ended, service, f"06{rng.randrange(10**8):08d}")
                    )
                t = ended
                if last:
                    break
                service = target or "accueil"
            final = entries[-1].outcome
            yield CallRecord(
                call_id=f"{int(start.timestamp())}.{serial}",
                started_at=start,
                ended_at=entries[-1].ended_at + timedelta(seconds=1),
                dialled="0232464646",
                caller_number=f"02320{rng.randrange(3000):05d}",
                outcome={
                    EntryOutcome.ANSWERED: CallOutcome.ANSWERED,
                    EntryOutcome.ABANDONED: CallOutcome.ABANDONED,
                }.get(final, CallOutcome.CALLBACK),
                ivr=ivr,
                entries=entries,
                callbacks=callbacks,
            )


def fill(database: Database, records: Iterator[CallRecord]) -> RecordStore:
    store = RecordStore(database, Pseudonymiser(b"k" * 32))
    store.import_records(records)
    return store


def web_deps(
    database: Database,
    store: RecordStore,
    *,
    now: datetime,
    settings: AuthSettings | None = None,
) -> WebDeps:
    """Deps with the in-memory live feed and presence, and one account per role:
    ``qualite``, ``informatique``, ``agent1`` (ccas, etat_civil), all with :data:`PASSWORD`."""
    upgrade_web_schema(database.engine)
    accounts = AccountStore(database.engine, settings or AuthSettings())
    if not accounts.users():
        accounts.add_user("qualite", PASSWORD, Role.QUALITY, now=now)
        accounts.add_user("informatique", PASSWORD, Role.IT, now=now)
        accounts.add_user("agent1", PASSWORD, Role.AGENT, ("ccas", "etat_civil"), now=now)
    source = DatabaseSource(database)
    return WebDeps(
        database=database,
        indicators=Indicators(source),
        source=source,
        accounts=accounts,
        live=InMemoryLiveFeed(),
        presence=InMemoryAgentPresence(),
        callbacks=store,
        now=lambda: now,
        service_names={"etat_civil": "État civil", "ccas": "CCAS", "accueil": "Accueil général"},
    )

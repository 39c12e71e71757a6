"""Helpers for tests of code that produces or reads call records (here and in other packages).

``sample_record`` builds a full, realistic CallRecord (IVR, two services with an overflow,
agent legs, a transfer, a survey, a callback request); ``town_calls`` a town's calls at random
over days (for pages, reports and benchmarks), ``fill`` stores them; ``temporary_database``
opens a fresh database on SQLite (a file) or PostgreSQL (a schema of its own, dropped
afterwards).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

from telephony.records.engine import Database, create_store_engine, open_store, upgrade_schema
from telephony.records.model import (
    AgentLeg,
    CallbackRequest,
    CallOutcome,
    CallRecord,
    EntryOutcome,
    IvrEvent,
    IvrEventKind,
    LegOutcome,
    ServiceEntry,
    SurveyAnswer,
    Transfer,
)
from telephony.records.pseudonym import Pseudonymiser
from telephony.records.store import RecordStore

T0 = datetime(2025, 3, 10, 9, 0, 0, 123456, tzinfo=UTC)


def sample_record(
    call_id: str = "1741597200.1",
    start: datetime = T0,
    caller: str = "+33 2 32 00 00 01",
    *,
    callback_number: str = "06 12 34 56 78",
) -> CallRecord:
    def at(seconds: float) -> datetime:
        return start + timedelta(seconds=seconds)

    return CallRecord(
        call_id=call_id,
        started_at=start,
        ended_at=at(185.25),
        dialled="0232000000",
        caller_number=caller,
        outcome=CallOutcome.ANSWERED,
        rules_version="sha256:abc123",
        ivr=[
            IvrEvent(at(0.5), "accueil", IvrEventKind.MENU),
            IvrEvent(at(4.0), "accueil", IvrEventKind.TIMEOUT),
            IvrEvent(at(4.1), "accueil", IvrEventKind.MENU),
            IvrEvent(at(6.75), "accueil", IvrEventKind.KEY, "2"),
        ],
        entries=[
            ServiceEntry(
                service_id="etat-civil",
                entered_at=at(7.0),
                ended_at=at(32.0),
                outcome=EntryOutcome.OVERFLOW_TIMEOUT,
                ringing_at=at(7.2),
                overflow_to="accueil-general",
                legs=[
                    AgentLeg("PJSIP/1042", at(7.2), at(32.0), LegOutcome.NO_ANSWER, None, 16, "c1"),
                    AgentLeg("PJSIP/1043", at(7.2), at(7.4), LegOutcome.BUSY, None, 17, "c2"),
                ],
            ),
            ServiceEntry(
                service_id="accueil-general",
                entered_at=at(32.0),
                ended_at=at(185.25),
                outcome=EntryOutcome.ANSWERED,
                ringing_at=at(32.1),
                answered_at=at(40.5),
                agent="PJSIP/1001",
                legs=[
                    AgentLeg(
                        "PJSIP/1001", at(32.1), at(185.25), LegOutcome.ANSWERED, at(40.5), 16, "c3"
                    ),
                    AgentLeg("PJSIP/1002", at(32.1), at(40.5), LegOutcome.CANCELLED, None, 26),
                ],
            ),
        ],
        transfers=[Transfer(at(150.0), "accueil-general", "urbanisme", "2301", "PJSIP/1001")],
        callbacks=[CallbackRequest(at(20.0), "etat-civil", callback_number, "overflowed")],
        survey=[
            SurveyAnswer(1, "survey.q1", at(170.0), 4),
            SurveyAnswer(2, "survey.q2", at(178.0), None),
        ],
        survey_offered=True,
        survey_service="accueil-general",
        survey_agent="PJSIP/1001",
    )


@contextmanager
def temporary_database(
    backend: str,
    tmp_path: Path,
    pg_url: str | None = None,
    *,
    busy_timeout_ms: int = 2000,
    revision: str = "head",
) -> Iterator[Database]:
    """A fresh database migrated up to ``revision``: ``backend`` is ``sqlite`` or
    ``postgresql``."""
    if backend == "sqlite":
        database = open_store(
            f"sqlite:///{(tmp_path / 'records.db').as_posix()}",
            busy_timeout_ms=busy_timeout_ms,
            upgrade=False,
        )
        try:
            upgrade_schema(database.engine, revision)
            yield database
        finally:
            database.dispose()
        return
    if pg_url is None:
        raise ValueError("a PostgreSQL URL is needed for the postgresql backend")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_store_engine(pg_url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        database = open_store(pg_url, schema=schema, upgrade=False)
        try:
            upgrade_schema(database.engine, revision)
            yield database
        finally:
            database.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


SERVICES = ("accueil", "ccas", "etat_civil", "urbanisme")
MENU_KEYS = {"1": "etat_civil", "2": "ccas", "3": "urbanisme", "0": "accueil"}
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


def fill(database: Database, records: Iterable[CallRecord]) -> RecordStore:
    store = RecordStore(database, Pseudonymiser(b"k" * 32))
    store.import_records(records)
    return store

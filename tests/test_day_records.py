"""A simulated day of Bernay traffic through the router into the call records database.

Call by call, the stored records tell the same story as the simulator's scripts; and the
indicators from the database equal those from a queue_log of the same calls.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from analytics.frame import frame_from_records
from analytics.indicators import compute_indicators
from analytics.sources import DatabaseSource
from decroche.traffic import plan_day
from routing_rules.holder import RulesHolder
from routing_rules.loader import default_rules_path
from telephony.flow.router import endpoint_of_channel_name
from telephony.records.journal import Journal
from telephony.records.model import CallOutcome, EntryOutcome, IvrEventKind
from telephony.records.pseudonym import Pseudonymiser
from telephony.records.queue_log import parse_queue_log
from telephony.records.queue_log_export import queue_log_lines
from telephony.records.store import RecordStore
from telephony.records.testing import temporary_database
from telephony.records.writer import RecordWriter
from telephony.simulator.scripts import AgentScript
from tests.conftest import BACKENDS, pg_url
from tests.flow_support import running_system

pytestmark = pytest.mark.virtual_time

DAY = date(2026, 10, 14)  # a Wednesday


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_day_of_calls_is_recorded_as_it_happened(backend: str, tmp_path: Path) -> None:
    rules = RulesHolder(default_rules_path()).current
    rng = random.Random(42)
    midnight = datetime(2026, 10, 14, tzinfo=rules.tz)
    planned = plan_day(rules, midnight, 40, rng)
    # Compress the day: same order and spacing pattern, a few simulated seconds apart.
    first = planned[0].at
    at = first.replace(hour=8, minute=0, tzinfo=UTC)
    agents = [
        AgentScript(endpoint="PJSIP/1101", response="busy"),
        AgentScript(endpoint="PJSIP/1102", registered=False),
        AgentScript(endpoint="PJSIP/1103", response="no_answer"),
    ]
    with temporary_database(backend, tmp_path, pg_url()) as database:
        pseudonymiser = Pseudonymiser(b"d" * 32)
        store = RecordStore(database, pseudonymiser)

        def store_pseudonym(number: str) -> str:
            return pseudonymiser.pseudonym(number) or ""

        writer = RecordWriter(store, Journal(tmp_path / "journal"))
        writer.start()
        try:
            async with running_system(agents, at=at, sink=writer) as system:
                handles = []
                for i, call in enumerate(planned):
                    await system.clock.sleep(3.0 if i else 0.0)
                    handles.append(system.pbx.place_call(call.script))
                await system.settle(len(planned))
            assert await writer.drain(10.0)
        finally:
            await writer.aclose()
        assert store.count_calls() == len(planned)
        for handle in handles:
            stored = store.load_call(handle.channel_id)
            assert stored is not None, handle.script.caller_number
            script = handle.script
            assert stored.dialled == script.dialled
            pressed = "".join(p["digit"] for p in handle.pressed)
            keyed = "".join(
                e.key or ""
                for e in stored.ivr
                if e.kind in (IvrEventKind.KEY, IvrEventKind.INVALID)
            )
            assert keyed == pressed[: len(keyed)]  # keys after leaving the menu are not menu keys
            talked = [endpoint_of_channel_name(t["channel"]) for t in handle.talked_with]
            answered_by = [e.agent for e in stored.entries if e.outcome is EntryOutcome.ANSWERED]
            if stored.outcome is CallOutcome.ANSWERED:
                assert answered_by and answered_by[-1] in talked
            else:
                assert not talked
            # Only a keyed hash of the caller's number is stored.
            assert stored.caller_number == store_pseudonym(script.caller_number)
            assert script.caller_number not in stored.caller_number
        records = [store.load_call(h.channel_id) for h in handles]
        from_db = compute_indicators(DatabaseSource(database).load(DAY, DAY).frame, DAY, DAY)
    in_memory = compute_indicators(frame_from_records(records), DAY, DAY)
    assert from_db.to_json() == in_memory.to_json()
    parsed, report = parse_queue_log(queue_log_lines(records, whole_seconds=False))
    assert report.malformed_count == 0
    from_log = compute_indicators(frame_from_records(parsed), DAY, DAY)
    # A queue_log knows the queues only: no menu before them (its calls arrive at their first
    # queue), no entry into a closed service. The same calls seen that way give its figures.
    queued = [
        replace(r, started_at=entries[0].entered_at, entries=entries)
        for r in records
        if (entries := [e for e in r.entries if not e.closed])
    ]
    assert from_log.to_json() == compute_indicators(frame_from_records(queued), DAY, DAY).to_json()
    assert from_db.total.offered == sum(1 for r in records if r.entries)

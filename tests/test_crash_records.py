"""decroche crashes with calls in progress: each keeps what was known of it (issue 15, defect 3).

On the real PBX, calls in progress at a crash were recorded ``interrupted`` with a duration of
0, no IVR path, no service, no agent: nothing told the records what the calls had done. The
flow now journals each call's progress as it happens (IVR steps, services entered, legs rung,
the answer) and notes every call alive every 15 s; the next start closes the open calls with
that, ending at the last time they were known alive, and they count for their services.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from analytics.indicators import compute_indicators
from analytics.sources import DatabaseSource
from telephony.records.journal import Journal
from telephony.records.model import CallOutcome, EntryOutcome, IvrEventKind, LegOutcome
from telephony.records.pseudonym import Pseudonymiser
from telephony.records.store import RecordStore
from telephony.records.testing import temporary_database
from telephony.records.writer import RecordWriter, WriterState
from telephony.simulator.scripts import AgentScript, CallerScript, KeyPress
from tests.conftest import BACKENDS, pg_url
from tests.flow_support import OPEN_HOURS, running_system

pytestmark = pytest.mark.virtual_time

DAY = date(2026, 10, 14)
POLICE_LINE = "0232464317"


def _recovered(writer: RecordWriter, within_s: float = 20.0) -> bool:
    """The writer started, replayed its journal and closed the previous run's calls."""
    deadline = time.monotonic() + within_s
    while writer.status().state is not WriterState.OK:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.mark.parametrize("backend", BACKENDS)
async def test_calls_in_progress_at_a_crash_keep_what_was_known(
    backend: str, tmp_path: Path
) -> None:
    police = [
        AgentScript(endpoint=f"PJSIP/120{i}", response="no_answer", ring_time=60.0)
        for i in (1, 2, 3)
    ]
    with temporary_database(backend, tmp_path, pg_url()) as database:
        store = RecordStore(database, Pseudonymiser(b"c" * 32))
        journal = tmp_path / "records.journal"
        writer = RecordWriter(store, Journal(journal))
        writer.start()
        try:
            async with running_system(police, sink=writer) as system:
                talking = system.pbx.place_call(
                    CallerScript(
                        caller_number="0611000001",
                        keys=(KeyPress(digits="0", after=1.0),),
                        talk_time=600.0,
                    )
                )
                ringing = system.pbx.place_call(
                    CallerScript(caller_number="0611000002", dialled=POLICE_LINE, patience=600)
                )
                await system.clock.sleep(20.0)
                assert talking.answered is not None and talking.talked_with
                assert not ringing.talked_with
                await system.crash_decroche()
                assert await writer.drain(10.0)
                await writer.aclose()
                # decroche starts again: its writer closes the calls the crash left open.
                restarted = RecordWriter(store, Journal(journal))
                restarted.start()
                try:
                    assert await asyncio.to_thread(_recovered, restarted)
                    assert restarted.status().interrupted_closed == 2
                finally:
                    await restarted.aclose()
        finally:
            await writer.aclose()
        alive = OPEN_HOURS + timedelta(seconds=15)  # the last time both were noted alive
        assert {at for _, at in system.records.touched} == {alive}

        answered = store.load_call(talking.channel_id or "")
        assert answered is not None
        assert answered.outcome is CallOutcome.INTERRUPTED
        assert (answered.started_at, answered.ended_at) == (OPEN_HOURS, alive)
        assert answered.duration_seconds == 15.0
        assert [(e.menu_id, e.kind, e.key) for e in answered.ivr][-1] == (
            "principal",
            IvrEventKind.KEY,
            "0",
        )
        (entry,) = answered.entries
        assert entry.service_id == "accueil_general"
        assert entry.outcome is EntryOutcome.ANSWERED  # answered before the crash: it was
        assert entry.agent == talking.talked_with[0]["channel"].rsplit("-", 1)[0]
        assert entry.answered_at is not None and entry.ended_at == alive
        (leg,) = entry.legs
        assert (leg.endpoint, leg.outcome, leg.ended_at) == (
            entry.agent,
            LegOutcome.ANSWERED,
            alive,
        )

        waiting = store.load_call(ringing.channel_id or "")
        assert waiting is not None
        assert waiting.outcome is CallOutcome.INTERRUPTED
        assert waiting.ended_at == alive
        (entry,) = waiting.entries
        assert entry.service_id == "police_municipale"
        assert entry.outcome is EntryOutcome.INTERRUPTED
        assert entry.ringing_at == entry.entered_at
        assert entry.ended_at == alive and entry.answered_at is None
        assert sorted((g.endpoint, g.outcome, g.ended_at) for g in entry.legs) == [
            (f"PJSIP/120{i}", LegOutcome.CANCELLED, alive) for i in (1, 2, 3)
        ]

        # Both count for their services: offered, and the answered one answered.
        figures = compute_indicators(DatabaseSource(database).load(DAY, DAY).frame, DAY, DAY)
        by_service = figures.services
        assert by_service["accueil_general"].offered == 1
        assert by_service["accueil_general"].answered == 1
        assert by_service["police_municipale"].offered == 1
        assert by_service["police_municipale"].answered == 0
        assert by_service["police_municipale"].abandoned == 0

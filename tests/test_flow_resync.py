"""The event WebSocket lost mid-call: what ended meanwhile is closed, what goes on goes on."""

from __future__ import annotations

import pytest

from telephony.records.model import CallOutcome, EntryOutcome
from telephony.simulator.scripts import CallerScript, KeyPress
from tests.flow_support import running_system

pytestmark = pytest.mark.virtual_time


async def test_call_that_ended_while_events_were_lost_is_closed_by_resync() -> None:
    async with running_system() as system:
        app = system.pbx.engine.stasis.apps["decroche"]
        leaving = system.pbx.place_call(CallerScript(caller_number="0611000001", patience=3.0))
        system.pbx.place_call(
            CallerScript(
                caller_number="0611000002",
                keys=(KeyPress(digits="0", after=8.0, on="answer"),),
                talk_time=5.0,
            )
        )
        await system.clock.sleep(1.0)
        assert len(system.router.live_calls()) == 2
        sink, app.sink = app.sink, None  # Asterisk drops every event of a disconnected app
        await leaving.wait()  # the first caller hangs up: its StasisEnd is lost
        assert len(system.router.live_calls()) == 2
        app.sink = sink
        await system.router.resync()
        await system.settle(2)
    assert system.router.counters.calls_closed_by_resync == 1
    closed = system.records.by_caller("0611000001")
    assert closed.outcome is CallOutcome.IVR_HANGUP
    went_on = system.records.by_caller("0611000002")
    assert went_on.outcome is CallOutcome.ANSWERED
    assert went_on.entries[0].outcome is EntryOutcome.ANSWERED

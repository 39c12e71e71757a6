"""Callers through the Bernay rules, end to end: simulated PBX <-HTTP/WS-> router."""

from __future__ import annotations

from telephony.records.model import CallOutcome, EntryOutcome, IvrEventKind, LegOutcome
from telephony.simulator.scripts import CallerScript, KeyPress
from tests.flow_support import running_system


async def test_ivr_to_ccas_answered() -> None:
    async with running_system() as system:
        handle = system.pbx.place_call(
            CallerScript(
                caller_number="0612345678",
                dialled="0232464646",
                keys=(KeyPress(digits="2", after=1.0), KeyPress(digits="1", after=1.0)),
                talk_time=20.0,
            )
        )
        await system.settle(1)
        ended = await handle.wait()
    record = system.records.by_caller("0612345678")
    assert record.outcome is CallOutcome.ANSWERED
    assert [(e.menu_id, e.kind, e.key) for e in record.ivr] == [
        ("principal", IvrEventKind.MENU, None),
        ("principal", IvrEventKind.KEY, "2"),
        ("droit_famille", IvrEventKind.MENU, None),
        ("droit_famille", IvrEventKind.KEY, "1"),
    ]
    (entry,) = record.entries
    assert entry.service_id == "ccas"
    assert entry.outcome is EntryOutcome.ANSWERED
    assert entry.agent in {"PJSIP/1101", "PJSIP/1102", "PJSIP/1103"}
    assert entry.wait_seconds > 2.5  # the agents ring 3 s
    answered = [leg for leg in entry.legs if leg.outcome is LegOutcome.ANSWERED]
    assert len(answered) == 1
    assert {leg.outcome for leg in entry.legs} <= {LegOutcome.ANSWERED, LegOutcome.CANCELLED}
    assert ended is not None
    assert system.pbx.state()["channels"] == []

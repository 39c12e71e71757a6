"""A closed service's message, then the rest of the chain (found by the oracle,
``tests/test_flow_oracle.py``): where the call goes after the message is decided once the
caller has heard it. Decided before, the phones rung after the message were chosen seconds
earlier (one could be ringing for another call by then, and was rung twice), and a caller who
hung up during the message was recorded in services they never reached.

At 10:00 on a Wednesday the pôle ados (menu 5 then 2) is closed: its message
``horaires_pole_ados`` (2 s in the simulated PBX), then the accueil général.
"""

from __future__ import annotations

import pytest

from telephony.clock import parse_ari_timestamp
from telephony.records.model import CallOutcome, EntryOutcome
from telephony.simulator.scripts import AgentScript, CallerScript, KeyPress
from tests.flow_support import running_system

pytestmark = pytest.mark.virtual_time

CLOSED_MESSAGE = "sound:decroche/horaires_pole_ados"
POLE_ADOS = (KeyPress(digits="5", after=0.2), KeyPress(digits="2", after=0.2))


def only_1001_registered() -> list[AgentScript]:
    return [AgentScript(endpoint="PJSIP/1001", ring_time=10.0, talk_time=5.0)] + [
        AgentScript(endpoint=f"PJSIP/100{i}", registered=False) for i in (2, 3, 4)
    ]


async def test_the_next_service_rings_the_phones_free_after_the_message() -> None:
    async with running_system(only_1001_registered()) as system:
        # Asks the pôle ados at 0.4 s and hears its closed message until 2.4 s.
        late = system.pbx.place_call(
            CallerScript(caller_number="0611111111", keys=POLE_ADOS, patience=60.0)
        )
        # Rings the accueil général's only phone from 1.5 s, answered at 11.5 s.
        system.pbx.place_call(
            CallerScript(
                caller_number="0622222222", keys=(KeyPress(digits="0", after=1.5),), talk_time=5.0
            )
        )
        await system.settle(2)
    first = system.records.by_caller("0622222222")
    assert first.outcome is CallOutcome.ANSWERED
    record = system.records.by_caller("0611111111")
    closed, general = record.entries
    assert closed.outcome is EntryOutcome.OVERFLOW_CLOSED
    (message,) = [item for item in late.heard if item["media"] == CLOSED_MESSAGE]
    assert general.entered_at == parse_ari_timestamp(message["ended"])
    # PJSIP/1001 rings for the other call then: busy, not rung a second time; the caller waits
    # in the accueil général's queue until the other call is over, then it rings for them.
    assert general.service_id == "accueil_general"
    assert general.queue_started_at == general.entered_at
    assert [leg.endpoint for leg in general.legs] == ["PJSIP/1001"]
    assert general.legs[0].ring_started_at >= first.ended_at
    assert general.outcome is EntryOutcome.ANSWERED
    assert [leg.endpoint for leg in first.entries[0].legs] == ["PJSIP/1001"]


async def test_a_caller_gone_during_the_message_never_reached_the_next_service() -> None:
    # Nobody at the accueil général: it would overflow at once (to the callback offer).
    nobody = [AgentScript(endpoint=f"PJSIP/100{i}", registered=False) for i in (1, 2, 3, 4)]
    async with running_system(nobody) as system:
        system.pbx.place_call(
            CallerScript(caller_number="0633333333", keys=POLE_ADOS, patience=1.5)
        )
        await system.settle(1)
    record = system.records.by_caller("0633333333")
    (closed,) = record.entries
    assert (closed.service_id, closed.outcome) == ("pole_ados", EntryOutcome.OVERFLOW_CLOSED)
    # The callback the plan owes is the pôle ados's, the service the caller asked for.
    assert [(c.service_id, c.kind) for c in record.callbacks] == [("pole_ados", "overflowed")]

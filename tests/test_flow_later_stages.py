"""One phone at a time: each stage rings only a phone that can take the call when the stage
starts (found by the oracle, ``tests/test_flow_oracle.py``). The plan is made when the service is
chosen; its later stages come 10 or 15 s later, by which time a phone of the plan may be ringing
for, or talking with, another caller: it is not rung (Asterisk would ring it on top of that
call), and its stage is skipped.

The accueil général rings the longest idle first, 15 s each (3 rings), 30 s in all.
"""

from __future__ import annotations

import pytest

from telephony.records.model import LegOutcome
from telephony.simulator.scripts import AgentScript, CallerScript, KeyPress
from tests.flow_support import running_system

pytestmark = pytest.mark.virtual_time


def agents() -> list[AgentScript]:
    return [
        AgentScript(endpoint="PJSIP/1001", response="no_answer"),
        AgentScript(endpoint="PJSIP/1002", ring_time=5.0, talk_time=60.0),
        AgentScript(endpoint="PJSIP/1003", registered=False),
        AgentScript(endpoint="PJSIP/1004", registered=False),
    ]


def general(number: str, patience: float = 120.0) -> CallerScript:
    # The welcome (2 s), cut by 0 one second in.
    keys = (KeyPress(digits="0", after=1.0),)
    return CallerScript(caller_number=number, keys=keys, patience=patience, talk_time=60.0)


async def test_a_later_stage_skips_a_phone_taken_by_another_call_meanwhile() -> None:
    async with running_system(agents()) as system:
        # Plans PJSIP/1001 (1 s to 16 s), then PJSIP/1002 (16 s to 31 s).
        system.pbx.place_call(general("0611111111", patience=40.0))
        await system.clock.sleep(5.0)
        # PJSIP/1001 rings for the first caller: this one gets PJSIP/1002 from 6 s, answered
        # at 11 s, talking until 71 s.
        system.pbx.place_call(general("0622222222"))
        await system.settle(2)
    second = system.records.by_caller("0622222222")
    (leg,) = second.entries[0].legs
    assert (leg.endpoint, leg.outcome) == ("PJSIP/1002", LegOutcome.ANSWERED)
    first = system.records.by_caller("0611111111")
    entry = first.entries[0]
    # PJSIP/1002 is on a call at 16 s: not rung again (it would have answered busy).
    assert [(leg.endpoint, leg.outcome) for leg in entry.legs] == [
        ("PJSIP/1001", LegOutcome.NO_ANSWER)
    ]
    assert entry.wait_seconds == pytest.approx(15.0, abs=0.01)
    phone = system.pbx.engine.endpoints["PJSIP/1002"]
    assert len(phone.shown) == 1

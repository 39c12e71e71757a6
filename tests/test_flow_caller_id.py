"""What an agent's phone shows for a call (issue 15, defect 10).

A phone shows the INVITE's From, which Asterisk takes from the dialled channel's *connected
line*: ``dial?caller=X`` copies caller X's identity into it, over any ``CALLERID(...)`` or
``CONNECTEDLINE(...)`` set at ``channels/create``. The rules' ``caller_id_format`` (Bernay:
``[{tag}] {number}``) must reach the phone, so that the agent knows which service is called.
"""

from __future__ import annotations

import pytest

from telephony.simulator.scripts import CallerScript, KeyPress
from tests.flow_support import running_system

pytestmark = pytest.mark.virtual_time

POLICE = ("PJSIP/1201", "PJSIP/1202", "PJSIP/1203")


async def test_the_agents_phones_show_the_service_and_the_callers_number() -> None:
    async with running_system() as system:
        system.pbx.place_call(
            CallerScript(
                caller_number="0611111111",
                caller_name="Caller One",
                dialled="0232464317",  # the police's direct line
                talk_time=5.0,
            )
        )
        await system.settle(1)
        shown = {e: system.pbx.engine.endpoints[e].shown for e in POLICE}
    for endpoint in POLICE:
        assert [(s["name"], s["number"]) for s in shown[endpoint]] == [
            ("[POLICE] 0611111111", "0611111111")
        ], endpoint


async def test_a_hidden_number_shows_the_rules_anonymous_word_and_no_number() -> None:
    async with running_system() as system:
        system.pbx.place_call(
            CallerScript(caller_number="", keys=(KeyPress(digits="2"), KeyPress(digits="1")))
        )
        await system.settle(1)
        shown = [s for e in ("PJSIP/1101", "PJSIP/1102", "PJSIP/1103")
                 for s in system.pbx.engine.endpoints[e].shown]  # fmt: skip
    # No number to call back: the word is in the name only (a SIP URI wants digits).
    assert {(s["name"], s["number"]) for s in shown} == {("[CCAS] masqué", "")}

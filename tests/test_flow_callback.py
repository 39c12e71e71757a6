"""Callback requests end to end (issue 15, defect 5): a request is a key press, never silence.

With ``number: choose`` the invitation says « pour être rappelé au numéro d’où vous appelez,
tapez 1 ; pour indiquer un autre numéro, tapez 2 ». A caller who presses nothing has asked for
nothing: the invitation is said once more, then the « no key » prompt, and the call ends with no
callback *requested*. The rules' plan still owes that caller a callback (kind ``overflowed``: no
service could take them and the network gave their number), counted apart from the requests.
"""

from __future__ import annotations

import pytest

from telephony.clock import parse_ari_timestamp
from telephony.records.model import CallOutcome, EntryOutcome
from telephony.simulator.scripts import AgentScript, CallerScript, KeyPress
from tests.flow_support import running_system

pytestmark = pytest.mark.virtual_time

GENERAL = ("PJSIP/1001", "PJSIP/1002", "PJSIP/1003", "PJSIP/1004")
INVITATION = "sound:decroche/rappel_invitation"
NO_KEY = "sound:decroche/pas_de_saisie"
NUMBER_PROMPT = "sound:decroche/rappel_saisie_numero"
THANKS = "sound:decroche/rappel_merci"


def nobody_answers() -> list[AgentScript]:
    return [AgentScript(endpoint=e, response="no_answer") for e in GENERAL]


async def test_no_key_at_the_invitation_is_no_request() -> None:
    async with running_system(nobody_answers()) as system:
        handle = system.pbx.place_call(
            CallerScript(
                caller_number="0699999991",
                keys=(KeyPress(digits="0", after=1.0),),
                patience=300.0,
            )
        )
        await system.settle(1)
    record = system.records.by_caller("0699999991")
    (entry,) = record.entries
    assert (entry.outcome, entry.overflow_to) == (EntryOutcome.OVERFLOW_TIMEOUT, "callback")
    # No "requested" callback: only the one the plan owes a caller no service could take.
    assert [(c.kind, c.number) for c in record.callbacks] == [("overflowed", "0699999991")]
    assert record.outcome is CallOutcome.MESSAGE
    heard = [item["media"] for item in handle.heard]
    assert heard[-4:] == [INVITATION, NO_KEY, INVITATION, NO_KEY]
    assert THANKS not in heard
    # Each invitation (2 s) is followed by the 8 s the caller had to choose.
    times = [
        parse_ari_timestamp(item["started"]) for item in handle.heard if item["media"] == NO_KEY
    ]
    assert (times[1] - times[0]).total_seconds() == 2.0 + 2.0 + 8.0


async def test_a_key_after_the_second_invitation_is_a_request() -> None:
    async with running_system(nobody_answers()) as system:
        system.pbx.place_call(
            CallerScript(
                caller_number="0699999992",
                keys=(
                    KeyPress(digits="0", after=1.0),
                    # Silent through the first invitation, its 8 s and the "no key" prompt
                    # (12 s), then 1 during the second invitation.
                    KeyPress(digits="1", after=13.0, media=INVITATION),
                ),
                patience=300.0,
            )
        )
        await system.settle(1)
    record = system.records.by_caller("0699999992")
    assert [(c.kind, c.number) for c in record.callbacks] == [("requested", "0699999992")]
    assert record.outcome is CallOutcome.CALLBACK


def another_number_then_silence(number: str) -> CallerScript:
    """The accueil (0), nobody answers; 2 (another number) at the invitation, then no digits."""
    keys = (KeyPress(digits="0", after=1.0), KeyPress(digits="2", after=1.0, media=INVITATION))
    return CallerScript(caller_number=number, keys=keys, patience=300.0)


async def test_key_2_then_no_digits_is_no_request() -> None:
    async with running_system(nobody_answers()) as system:
        handle = system.pbx.place_call(another_number_then_silence("0699999993"))
        await system.settle(1)
    record = system.records.by_caller("0699999993")
    assert [c.kind for c in record.callbacks] == ["overflowed"]
    assert record.outcome is CallOutcome.MESSAGE
    assert NUMBER_PROMPT in [item["media"] for item in handle.heard]


async def test_the_call_ends_when_decroche_hangs_up_after_waiting_for_digits() -> None:
    # Found by the oracle (tests/test_flow_oracle.py): the record ended at the number prompt's
    # end, 8 s before decroche, having waited for digits in vain, hung up.
    async with running_system(nobody_answers()) as system:
        handle = system.pbx.place_call(another_number_then_silence("0699999994"))
        await system.settle(1)
    record = system.records.by_caller("0699999994")
    assert handle.ended is not None and handle.ended["how"] == "hung_up_by_app"
    assert record.ended_at == parse_ari_timestamp(handle.ended["at"])
    (number_prompt,) = [item for item in handle.heard if item["media"] == NUMBER_PROMPT]
    waited = record.ended_at - parse_ari_timestamp(number_prompt["ended"])
    assert waited.total_seconds() == 8.0


async def test_a_caller_gone_during_the_thanks_has_still_asked_for_a_callback() -> None:
    # Found by the oracle (tests/test_flow_oracle.py): 1 at the invitation, then hanging up
    # during « merci, vous serez rappelé »: the request was kept but the call was recorded as
    # ending on a message.
    async with running_system(nobody_answers()) as system:
        handle = system.pbx.place_call(
            CallerScript(
                caller_number="0699999995",
                # The accueil rings 30 s from 1 s; the invitation from 31 s, 1 at 32 s; the
                # thanks from 32 s to 34 s.
                keys=(
                    KeyPress(digits="0", after=1.0),
                    KeyPress(digits="1", after=1.0, media=INVITATION),
                ),
                hangup_after=33.0,
            )
        )
        await system.settle(1)
    assert handle.ended is not None and handle.ended["how"] == "hangup_after"
    assert [item["media"] for item in handle.heard][-1] == THANKS
    record = system.records.by_caller("0699999995")
    assert [(c.kind, c.number) for c in record.callbacks] == [("requested", "0699999995")]
    assert record.outcome is CallOutcome.CALLBACK

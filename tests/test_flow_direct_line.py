"""A direct line rings its agents as Dial() would (issue 15, "Speed on the real PBX").

Through decroche the post-dial delay was 11.0 ms median / 19.1 ms p95 on a real Asterisk,
against 1.9 / 4.6 ms for a plain ``Dial()``: the router answered the caller, started the
ring-back, then created the agents' channels, one round trip after the other. A caller whose
number leads straight to a service (no menu) is now not answered before an agent answers: the
agents' channels are the first thing asked for, the ring-back (SIP 180 to the caller) goes with
them, and the caller pays nothing while it rings.
"""

from __future__ import annotations

from typing import Any

import pytest

from telephony.clock import parse_ari_timestamp
from telephony.records.model import CallOutcome, EntryOutcome
from telephony.simulator.scripts import AgentScript, CallerScript
from tests.flow_support import STASIS_WINDOW_S, running_system

pytestmark = pytest.mark.virtual_time

POLICE_LINE = "0232464317"
POLICE = ("PJSIP/1201", "PJSIP/1202", "PJSIP/1203")


async def test_a_direct_line_caller_is_answered_with_the_agent_not_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with running_system() as system:
        client = system.router.client
        sent: list[str] = []
        for name in ("answer", "ring", "create_channel", "dial", "create_bridge"):
            original = getattr(client, name)

            def recorder(*args: Any, _name: str = name, _call: Any = original, **kw: Any) -> Any:
                sent.append(_name)
                return _call(*args, **kw)

            monkeypatch.setattr(client, name, recorder)
        handle = system.pbx.place_call(
            CallerScript(caller_number="0611111111", dialled=POLICE_LINE, talk_time=5.0)
        )
        await system.settle(1)
    # The three police phones first, the ring-back with them; the answer with the bridge.
    assert sent[:7] == ["create_channel"] * 3 + ["ring"] + ["dial"] * 3
    assert sorted(sent[7:]) == ["answer", "create_bridge"]  # sent together
    record = system.records.by_caller("0611111111")
    (entry,) = record.entries
    assert entry.outcome is EntryOutcome.ANSWERED
    assert entry.wait_seconds == STASIS_WINDOW_S + 3.0
    # Answered by decroche the moment an agent answered, not at its arrival.
    assert handle.answered is not None
    assert parse_ari_timestamp(handle.answered) == entry.answered_at
    heard = [(item["media"], item["state"]) for item in handle.heard]
    assert heard[0] == ("ring", "answered")


async def test_a_direct_line_caller_nobody_takes_is_answered_for_the_message() -> None:
    police = [AgentScript(endpoint=e, response="busy") for e in POLICE]
    general = [AgentScript(endpoint=f"PJSIP/100{i}", response="busy") for i in range(1, 5)]
    async with running_system([*police, *general]) as system:
        handle = system.pbx.place_call(
            CallerScript(caller_number="0622222222", dialled=POLICE_LINE, patience=300.0)
        )
        await system.settle(1)
    record = system.records.by_caller("0622222222")
    assert [e.outcome for e in record.entries] == [
        EntryOutcome.OVERFLOW_BUSY,
        EntryOutcome.OVERFLOW_BUSY,
    ]
    assert record.outcome is CallOutcome.MESSAGE
    # Not answered while the phones were tried; answered when the general desk's queue speaks
    # (every phone busy: the caller waits there its 90 s, then hears the callback invitation).
    assert handle.answered is not None
    queue = next(i for i in handle.heard if i["media"] == "sound:decroche/file_attente")
    assert handle.answered == queue["started"]
    assert record.entries[1].queue_seconds == 90.0
    assert any(i["media"] == "sound:decroche/rappel_invitation" for i in handle.heard)


async def test_a_direct_line_caller_giving_up_cancels_an_unanswered_call() -> None:
    police = [AgentScript(endpoint=e, response="no_answer") for e in POLICE]
    async with running_system(police) as system:
        handle = system.pbx.place_call(
            CallerScript(caller_number="0633333333", dialled=POLICE_LINE, patience=8.0)
        )
        await system.settle(1)
        ended = await handle.wait()
    assert handle.answered is None
    # A CANCEL (127/487): the caller was never answered, never charged.
    assert (ended["how"], ended["cause"]) == ("abandoned", 127)
    record = system.records.by_caller("0633333333")
    assert record.outcome is CallOutcome.ABANDONED
    assert record.entries[0].wait_seconds == 8.0

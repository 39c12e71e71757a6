"""Asterisk restarts under decroche (issue 15, defect 4).

On a real Asterisk 22, a ``core restart`` ends every call (the callers get a BYE, cause 0) and
closes the application's WebSocket; nothing tells the application afterwards which calls it
lost. decroche recorded them as callers giving up: ``abandoned``, a callback owed, and a leg
``unreachable`` from a phone rung while Asterisk was going down. The simulated PBX restarts the
same way (``SimulatedPbx.restart``); decroche records those calls as *cut* (``cut``), owes them
no "abandoned call" callback, and rings nobody while it cannot hear Asterisk.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from routing_rules.loader import default_rules_path
from telephony.ari.client import AriClient
from telephony.ari.errors import AriConnectionError
from telephony.records.model import CallOutcome, EntryOutcome, LegOutcome
from telephony.simulator.scripts import AgentScript, CallerScript, KeyPress
from telephony.virtual_time import LoopClock
from tests.flow_support import OPEN_HOURS, running_system, simulated_pbx

pytestmark = pytest.mark.virtual_time

POLICE_LINE = "0232464317"
POLICE = [
    AgentScript(endpoint=f"PJSIP/120{i}", response="no_answer", ring_time=60.0) for i in (1, 2, 3)
]


async def test_the_simulated_pbx_restarts_as_asterisk_does() -> None:
    clock = LoopClock(OPEN_HOURS)
    pbx = simulated_pbx(clock)
    await pbx.start(port=0)
    pbx.add_agent(AgentScript(endpoint="PJSIP/1001"))
    client = AriClient(pbx.url, "decroche", "decroche", "decroche")
    session = aiohttp.ClientSession()
    try:
        ws = await session.ws_connect(
            f"{pbx.url}/ari/events?app=decroche", headers=client.transport.auth_header
        )
        before = await client.asterisk_info()
        call = pbx.place_call(CallerScript(caller_number="0611000009", patience=600))
        await clock.sleep(1.0)
        assert [c.id for c in await client.list_channels()] == [call.channel_id]
        await clock.sleep(4.0)
        await pbx.restart(down_s=2.0)
        # The callers hear a BYE with cause 0; the application's socket closes, nothing said.
        assert call.ended is not None
        assert (call.ended["how"], call.ended["cause"]) == ("pbx_restarted", 0)
        received = []
        async for message in ws:
            received.append(message)
        assert ws.closed and all(m.type is not aiohttp.WSMsgType.TEXT for m in received[1:])
        assert pbx.state()["channels"] == [] and pbx.state()["apps"] == []
        # Back after 2 s: the same phones, a new start time.
        after = await client.asterisk_info()
        assert after.status is not None and before.status is not None
        assert after.status.startup_time == OPEN_HOURS + timedelta(seconds=7)
        assert before.status.startup_time == OPEN_HOURS
        assert [e.resource for e in await client.list_endpoints()] == ["1001", "caller"]
    finally:
        await session.close()
        await client.close()
        await pbx.stop()


async def test_asterisk_refuses_connections_while_it_restarts() -> None:
    clock = LoopClock(OPEN_HOURS)
    pbx = simulated_pbx(clock)
    await pbx.start(port=0)
    client = AriClient(pbx.url, "decroche", "decroche", "decroche")
    try:
        restarting = __import__("asyncio").get_running_loop().create_task(pbx.restart(3.0))
        await clock.sleep(1.0)
        with pytest.raises(AriConnectionError):
            await client.ping()
        await restarting
        assert (await client.ping()).ping == "pong"
    finally:
        await client.close()
        await pbx.stop()


def _rules(tmp_path: Path, *, callback_after_cut: bool) -> Path:
    text = default_rules_path().read_text(encoding="utf-8")
    if callback_after_cut:
        text = text.replace(
            "  timeout_prompt: pas_de_saisie\n",
            "  timeout_prompt: pas_de_saisie\n  callback_after_cut: true\n",
        )
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def test_an_asterisk_restart_cuts_the_calls_it_does_not_abandon_them(
    tmp_path: Path,
) -> None:
    async with running_system(POLICE, rules_path=_rules(tmp_path, callback_after_cut=False)) as (
        system
    ):
        waiting = system.pbx.place_call(
            CallerScript(caller_number="0611000001", dialled=POLICE_LINE, patience=600)
        )
        talking = system.pbx.place_call(
            CallerScript(
                caller_number="0611000002", keys=(KeyPress(digits="0", after=1.0),), talk_time=600
            )
        )
        in_menu = system.pbx.place_call(CallerScript(caller_number="0611000003", patience=600))
        await system.clock.sleep(8.0)
        assert talking.talked_with and not waiting.talked_with and not in_menu.pressed
        await system.pbx.restart(down_s=2.0)
        cut_at = OPEN_HOURS + timedelta(seconds=8)
        await system.settle(3)
        # Once Asterisk is back, calls go on as usual.
        after = system.pbx.place_call(
            CallerScript(
                caller_number="0611000004", keys=(KeyPress(digits="0", after=1.0),), talk_time=5
            )
        )
        await system.settle(4)
        assert after.talked_with
        assert system.router.counters.calls_cut == 3
    for handle in (waiting, talking, in_menu):
        assert handle.ended is not None and handle.ended["how"] == "pbx_restarted"

    police = system.records.by_caller("0611000001")
    assert (police.outcome, police.ended_at, police.callbacks) == (CallOutcome.CUT, cut_at, [])
    (entry,) = police.entries
    assert (entry.service_id, entry.outcome, entry.ended_at) == (
        "police_municipale",
        EntryOutcome.CUT,
        cut_at,
    )
    # The three phones were ringing: none of them unreachable, none rung after the cut.
    assert sorted((g.endpoint, g.outcome, g.ended_at) for g in entry.legs) == [
        (f"PJSIP/120{i}", LegOutcome.CANCELLED, cut_at) for i in (1, 2, 3)
    ]

    answered = system.records.by_caller("0611000002")
    assert (answered.outcome, answered.ended_at) == (CallOutcome.CUT, cut_at)
    (entry,) = answered.entries
    assert entry.outcome is EntryOutcome.ANSWERED and entry.agent is not None
    assert entry.ended_at == cut_at

    menu = system.records.by_caller("0611000003")
    assert (menu.outcome, menu.ended_at, menu.entries) == (CallOutcome.CUT, cut_at, [])

    assert system.records.by_caller("0611000004").outcome is CallOutcome.ANSWERED


async def test_the_rules_may_call_back_the_callers_cut_while_waiting(tmp_path: Path) -> None:
    async with running_system(POLICE, rules_path=_rules(tmp_path, callback_after_cut=True)) as (
        system
    ):
        system.pbx.place_call(
            CallerScript(caller_number="0611000001", dialled=POLICE_LINE, patience=600)
        )
        await system.clock.sleep(8.0)
        await system.pbx.restart()
        await system.settle(1)
    record = system.records.by_caller("0611000001")
    assert record.outcome is CallOutcome.CUT
    ((request),) = record.callbacks
    assert (request.kind, request.service_id, request.number, request.at) == (
        "cut",
        "police_municipale",
        "0611000001",
        OPEN_HOURS + timedelta(seconds=8),
    )


async def test_nobody_is_rung_or_overflowed_on_a_timer_that_ran_out_while_asterisk_was_away(
    tmp_path: Path,
) -> None:
    async with running_system(POLICE, rules_path=_rules(tmp_path, callback_after_cut=False)) as (
        system
    ):
        system.pbx.place_call(
            CallerScript(caller_number="0611000001", dialled=POLICE_LINE, patience=600)
        )
        await system.clock.sleep(30.0)
        # The police ring 6 × 5 s: their time runs out at 32 s, while Asterisk is restarting.
        await system.pbx.restart(down_s=5.0)
        await system.settle(1)
    record = system.records.by_caller("0611000001")
    cut_at = OPEN_HOURS + timedelta(seconds=30)
    assert (record.outcome, record.ended_at, record.callbacks) == (CallOutcome.CUT, cut_at, [])
    (entry,) = record.entries  # no overflow to the accueil général on a timer seen in the dark
    assert (entry.outcome, entry.overflow_to) == (EntryOutcome.CUT, None)
    assert {(g.outcome, g.ended_at) for g in entry.legs} == {(LegOutcome.CANCELLED, cut_at)}

"""Agents are rung whatever Asterisk's create/StasisStart window (issue 15, defect 1).

``channels/create`` answers before the channel is in the application; a dial sent before its
``StasisStart`` is refused with 409 (a real Asterisk 22 refused 6 % of dials under load, 31 % in
one run, the first dial of an idle service included). The router waits for each agent channel's
``StasisStart`` before dialling it, and a leg that fails anyway is hung up at once, so that the
agent is not held busy by a dead channel while the caller's call goes on.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from routing_rules.agents import DeviceState
from telephony.records.model import CallOutcome, EntryOutcome, LegOutcome
from telephony.simulator.latency import StasisWindow
from telephony.simulator.scripts import AgentScript, CallerScript
from tests.flow_support import System, running_system

pytestmark = pytest.mark.virtual_time

POLICE_LINE = "0232464317"  # the police's direct line: no menu
POLICE = ("PJSIP/1201", "PJSIP/1202", "PJSIP/1203")  # ring_all, 6 rings


def _police_channels(system: System) -> list[str]:
    return [c["name"] for c in system.pbx.state()["channels"] if c["name"].startswith(POLICE)]


async def test_the_first_call_of_an_idle_service_rings_every_agent() -> None:
    async with running_system() as system:
        # Longer than any HTTP round trip here: a dial right after the create is always early.
        system.pbx.engine.stasis_window = StasisWindow(0.5, 1.0, seed=15)
        system.pbx.place_call(
            CallerScript(caller_number="0611111111", dialled=POLICE_LINE, talk_time=5.0)
        )
        await system.settle(1)
    record = system.records.by_caller("0611111111")
    assert record.outcome is CallOutcome.ANSWERED
    (entry,) = record.entries
    assert (entry.service_id, entry.outcome) == ("police_municipale", EntryOutcome.ANSWERED)
    assert sorted(leg.endpoint for leg in entry.legs) == list(POLICE)
    assert {leg.outcome for leg in entry.legs} <= {LegOutcome.ANSWERED, LegOutcome.CANCELLED}
    # The rings started once each channel was in the app, not before: the first one in (of the
    # three delays drawn with seed 15) answers after its 3 s of ringing (ARI times are to the ms).
    drawn = StasisWindow(0.5, 1.0, seed=15)
    first_in = min(drawn.draw() for _ in POLICE)
    assert entry.wait_seconds == int((first_in + 3.0) * 1000) / 1000


async def test_a_failed_leg_is_hung_up_at_once_and_its_agent_is_free_for_other_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with running_system() as system:
        engine, tracker = system.pbx.engine, system.router.agents
        # The police channels created for the first caller never enter the app (as if their
        # StasisStart were lost): the router dials anyway after a while and gets 409. Those
        # created next (the accueil's, where the caller overflows) enter at once.
        engine.stasis_window = StasisWindow(3600.0, 3600.0)
        talking = asyncio.Event()
        ringing, in_call = tracker.ringing, tracker.in_call

        def ringing_noted(endpoint: str) -> None:
            if endpoint == POLICE[-1]:
                engine.stasis_window = StasisWindow.none()
            ringing(endpoint)

        def in_call_noted(endpoint: str) -> None:
            in_call(endpoint)
            talking.set()

        monkeypatch.setattr(tracker, "ringing", ringing_noted)
        monkeypatch.setattr(tracker, "in_call", in_call_noted)
        first = system.pbx.place_call(
            CallerScript(caller_number="0611111111", dialled=POLICE_LINE, talk_time=120.0)
        )
        async with asyncio.timeout(30.0):
            await talking.wait()  # answered by the accueil after the police rang nobody
        # The police legs ended before the accueil's phone even rang: their channels are gone
        # and Asterisk told the police phones are idle, while the first caller is still talking.
        assert first.ended is None
        assert _police_channels(system) == []
        for endpoint in POLICE:
            assert tracker.device(endpoint) is DeviceState.NOT_INUSE, endpoint
        # So a second caller is answered by the police.
        engine.stasis_window = StasisWindow(0.5, 1.0, seed=15)
        system.pbx.place_call(
            CallerScript(caller_number="0622222222", dialled=POLICE_LINE, talk_time=5.0)
        )
        await system.settle(2)
    police, accueil = system.records.by_caller("0611111111").entries
    assert (police.service_id, police.outcome) == (
        "police_municipale",
        EntryOutcome.OVERFLOW_NOBODY,
    )
    assert [leg.outcome for leg in police.legs] == [LegOutcome.FAILED] * 3
    assert (accueil.service_id, accueil.outcome) == ("accueil_general", EntryOutcome.ANSWERED)
    second = system.records.by_caller("0622222222")
    assert second.outcome is CallOutcome.ANSWERED
    assert second.entries[0].agent in POLICE


async def test_a_lost_stasis_start_costs_a_moment_not_the_ring(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    agents = [AgentScript(endpoint=e, ring_time=0.5) for e in POLICE]
    async with running_system(agents) as system:
        system.pbx.engine.stasis_window = StasisWindow(0.001, 0.001)
        emit = system.pbx.stasis.emit

        def losing_agents_entry(event: dict[str, Any], **targets: Any) -> None:
            # The agent channels do enter the app, but the app never hears of it.
            if event["type"] == "StasisStart" and event.get("args", [""])[0] == "agent":
                return
            emit(event, **targets)

        monkeypatch.setattr(system.pbx.stasis, "emit", losing_agents_entry)
        system.pbx.place_call(
            CallerScript(caller_number="0611111111", dialled=POLICE_LINE, talk_time=5.0)
        )
        await system.settle(1)
    record = system.records.by_caller("0611111111")
    assert record.outcome is CallOutcome.ANSWERED
    assert record.entries[0].agent in POLICE


async def test_a_caller_hanging_up_as_the_ringing_starts_is_an_abandon_not_a_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with running_system() as system:
        client, engine = system.router.client, system.pbx.engine
        ring = client.ring

        async def ring_then_caller_leaves(channel_id: str) -> None:
            await ring(channel_id)
            # The caller hangs up just after the ring-back started (asked for together with the
            # agents' channels, before they are dialled): their StasisEnd reaches the router
            # while the flow still runs.
            run = engine.runs[channel_id]
            engine.callers.caller_hangup(run, "gave_up")
            await asyncio.sleep(0.05)

        monkeypatch.setattr(client, "ring", ring_then_caller_leaves)
        system.pbx.place_call(CallerScript(caller_number="0611111111", dialled=POLICE_LINE))
        await system.settle(1)
    record = system.records.by_caller("0611111111")
    assert record.outcome is CallOutcome.ABANDONED
    assert record.entries[0].outcome is EntryOutcome.ABANDONED
    # The police's phones were called with the ring-back and stopped before they rang.
    legs = record.entries[0].legs
    assert sorted(leg.endpoint for leg in legs) == ["PJSIP/1201", "PJSIP/1202", "PJSIP/1203"]
    assert {(leg.outcome, leg.ring_seconds) for leg in legs} == {(LegOutcome.CANCELLED, 0.0)}
    assert system.router.counters.calls_failed == 0
    assert system.pbx.state()["channels"] == []

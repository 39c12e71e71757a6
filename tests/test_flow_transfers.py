"""Agents' blind transfers end to end (issue 15, defects 11 and 12).

An agent's REFER to a number swaps a Local channel's ``;1`` half into the caller's bridge in the
agent's place, while its ``;2`` half enters decroche through the shipped ``[decroche-transfer]``
context as ``Stasis(decroche,<number>,transfer)``: a leg of the caller's call, not a new caller.

- 11: when the caller hangs up, the leg ends with them (the ``;1`` half is hung up, which takes
  ``;2`` with it): it never goes on ringing, bridging or being recorded for nobody.
- 12: a transfer to a colleague's extension rings that colleague (if they can take calls), then
  their service; a transfer to a service's number follows that service's rules; neither plays the
  welcome nor the survey's consent again; a survey after a transfer credits the agent who
  finished the call.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from routing_rules.agents import Presence
from telephony.clock import parse_ari_timestamp
from telephony.records.model import CallOutcome, CallRecord, EntryOutcome, LegOutcome
from telephony.simulator.scripts import AgentScript, CallerScript, KeyPress
from tests.flow_support import STASIS_WINDOW_S, System, running_system

pytestmark = pytest.mark.virtual_time

GENERAL = ("PJSIP/1001", "PJSIP/1002", "PJSIP/1003", "PJSIP/1004")
POLICE = ("PJSIP/1201", "PJSIP/1202", "PJSIP/1203")
POLICE_LINE = "0232464317"


def transferring_general(destination: str) -> list[AgentScript]:
    """The accueil's agents answer after 2 s and transfer to ``destination`` 3 s later."""
    return [
        AgentScript(endpoint=e, ring_time=2.0, transfer_to=destination, transfer_after=3.0)
        for e in GENERAL
    ]


def first_and_leg(system: System, number: str) -> tuple[CallRecord, CallRecord]:
    first = system.records.by_caller(number)
    (leg,) = [r for r in system.records.finished if r.transfer_of == first.call_id]
    return first, leg


async def test_the_transferred_leg_ends_when_the_caller_hangs_up() -> None:
    police = [AgentScript(endpoint=e, ring_time=10.0, talk_time=30.0) for e in POLICE]
    async with running_system([*transferring_general(POLICE_LINE), *police]) as system:
        handle = system.pbx.place_call(
            CallerScript(caller_number="0611111111", keys=(KeyPress(digits="0"),), talk_time=5.0)
        )
        await system.settle(2)
        ended = await handle.wait()
        state = system.pbx.state()
    assert ended["how"] == "talked"
    hung_up = parse_ari_timestamp(ended["at"])
    first, leg = first_and_leg(system, "0611111111")
    assert first.outcome is CallOutcome.ANSWERED and first.ended_at == hung_up
    # The police's phones rang for the caller 2 s, then stopped with them: nobody answered.
    (entry,) = leg.entries
    assert entry.service_id == "police_municipale"
    assert (entry.outcome, entry.agent) == (EntryOutcome.ABANDONED, None)
    assert leg.ended_at == entry.ended_at == hung_up
    assert {leg_.outcome for leg_ in entry.legs} == {LegOutcome.NO_ANSWER}
    assert leg.outcome is CallOutcome.ABANDONED
    assert not leg.survey_offered
    # The police owe the caller a callback, at the caller's number (the leg's own caller id,
    # the Local channel's, is empty): the first call, answered, owes none.
    assert [(c.service_id, c.number, c.kind) for c in leg.callbacks] == [
        ("police_municipale", "0611111111", "abandoned")
    ]
    assert first.callbacks == []
    # Nothing is left on the PBX: no Local pair, no bridge, no police phone off the hook.
    assert state["channels"] == [] and state["bridges"] == []
    assert leg.ended_at - first.entries[0].answered_at == timedelta(seconds=5)


async def transfer_call(
    system: System, number: str, *, talk_time: float = 60.0
) -> tuple[CallRecord, CallRecord, list[str]]:
    """A caller for the accueil (key 0) whose agent transfers them; returns the first call's
    record, the transferred leg's, and the prompts decroche played to the leg (the caller hears
    them through the Local pair)."""
    played: list[str] = []
    legs: set[str] = set()

    def seen(app: str, event: dict[str, Any], delivered: bool) -> None:
        if event["type"] == "StasisStart" and event["channel"]["name"].endswith(";2"):
            legs.add(event["channel"]["id"])
        if event["type"] == "PlaybackStarted":
            playback = event["playback"]
            if playback["target_uri"].removeprefix("channel:") in legs:
                played.append(playback["media_uri"].removeprefix("sound:decroche/"))

    system.pbx.stasis.observers.append(seen)
    handle = system.pbx.place_call(
        CallerScript(caller_number=number, keys=(KeyPress(digits="0"),), talk_time=talk_time)
    )
    await system.settle(2)
    await handle.wait()
    first, leg = first_and_leg(system, number)
    return first, leg, played


async def test_a_transfer_to_a_colleagues_extension_rings_that_colleague() -> None:
    police = [AgentScript(endpoint=e, ring_time=2.0, talk_time=4.0) for e in POLICE]
    async with running_system([*transferring_general("1202"), *police]) as system:
        first, leg, played = await transfer_call(system, "0622222222")
    (transfer,) = first.transfers
    assert (transfer.destination, transfer.to_service) == ("1202", "police_municipale")
    assert transfer.by_agent == first.entries[0].agent
    # The leg: no welcome, no menu, no consent; 1202 alone rings first, and answers.
    assert leg.transfer_of == first.call_id
    assert leg.ivr == [] and not leg.survey_offered
    (entry,) = leg.entries
    assert (entry.service_id, entry.outcome, entry.agent) == (
        "police_municipale", EntryOutcome.ANSWERED, "PJSIP/1202",
    )  # fmt: skip
    assert [(g.endpoint, g.outcome) for g in entry.legs] == [("PJSIP/1202", LegOutcome.ANSWERED)]
    assert entry.wait_seconds == STASIS_WINDOW_S + 2.0
    assert played == []  # no welcome, no menu, no consent: the colleague's phone rang at once
    # The transferring agent's leg ended with the transfer, and the agent was free again.
    answered = next(g for g in first.entries[0].legs if g.outcome is LegOutcome.ANSWERED)
    assert answered.ended_at == transfer.at


async def test_a_transfer_to_a_colleague_on_pause_reaches_their_service() -> None:
    police = [AgentScript(endpoint=e, ring_time=2.0, talk_time=4.0) for e in POLICE]
    async with running_system([*transferring_general("1202"), *police]) as system:
        system.router.agents.set_presence("police_municipale", "PJSIP/1202", Presence.PAUSED)
        _, leg, _ = await transfer_call(system, "0633333333")
    (entry,) = leg.entries
    assert entry.service_id == "police_municipale"
    assert sorted(g.endpoint for g in entry.legs) == ["PJSIP/1201", "PJSIP/1203"]
    assert entry.outcome is EntryOutcome.ANSWERED and entry.agent != "PJSIP/1202"


async def test_a_colleague_who_does_not_answer_hands_over_to_their_service() -> None:
    police = [
        AgentScript(endpoint="PJSIP/1201", ring_time=2.0, talk_time=4.0),
        AgentScript(endpoint="PJSIP/1202", response="no_answer"),
        AgentScript(endpoint="PJSIP/1203", ring_time=2.0, talk_time=4.0),
    ]
    async with running_system([*transferring_general("1202"), *police]) as system:
        _, leg, _ = await transfer_call(system, "0644444444")
    (entry,) = leg.entries
    # 1202 alone for its 3 rings (15 s), then the police's plan: the others together.
    first_leg, *others = entry.legs
    assert (first_leg.endpoint, first_leg.outcome) == ("PJSIP/1202", LegOutcome.NO_ANSWER)
    assert (first_leg.ended_at - entry.entered_at).total_seconds() == 15.0
    assert sorted(g.endpoint for g in others) == ["PJSIP/1201", "PJSIP/1203"]
    assert entry.outcome is EntryOutcome.ANSWERED
    assert entry.wait_seconds == 17.002  # 15 s, then the others in the app 2 ms later, 2 s


async def test_a_transfer_to_a_service_number_follows_its_rules_without_the_welcome() -> None:
    police = [AgentScript(endpoint=e, ring_time=2.0, talk_time=4.0) for e in POLICE]
    async with running_system([*transferring_general(POLICE_LINE), *police]) as system:
        _, leg, played = await transfer_call(system, "0655555555")
    (entry,) = leg.entries
    assert (entry.service_id, entry.outcome) == ("police_municipale", EntryOutcome.ANSWERED)
    assert leg.ivr == [] and played == []


async def test_a_transfer_to_the_towns_number_plays_its_menu_without_the_welcome() -> None:
    async with running_system(transferring_general("0232000000")) as system:
        first, leg, played = await transfer_call(system, "0666666666", talk_time=10.0)
    assert [(e.menu_id, e.kind.value) for e in leg.ivr][:1] == [("principal", "menu")]
    assert played[:1] == ["menu_principal"] and "bienvenue" not in played
    # The caller hung up 5 s after the transfer: the leg ended with them (defect 11).
    assert leg.ended_at == first.ended_at


async def test_a_second_transfer_still_shows_the_callers_number() -> None:
    # Found by the oracle (tests/test_flow_oracle.py): the accueil transfers the caller to
    # 1202, who transfers them on to 1203; 1203's phone showed "[POLICE] masqué", the first
    # leg's own (empty) caller id, not the caller's number.
    police = [
        AgentScript(endpoint="PJSIP/1201", ring_time=2.0, talk_time=4.0),
        AgentScript(endpoint="PJSIP/1202", ring_time=2.0, transfer_to="1203", transfer_after=3.0),
        AgentScript(endpoint="PJSIP/1203", ring_time=2.0, talk_time=4.0),
    ]
    async with running_system([*transferring_general("1202"), *police]) as system:
        system.pbx.place_call(
            CallerScript(caller_number="0644444444", keys=(KeyPress(digits="0"),), talk_time=60)
        )
        await system.settle(3)
    shown = {
        endpoint: [item["name"] for item in system.pbx.engine.endpoints[endpoint].shown]
        for endpoint in ("PJSIP/1202", "PJSIP/1203")
    }
    assert shown == {"PJSIP/1202": ["[POLICE] 0644444444"], "PJSIP/1203": ["[POLICE] 0644444444"]}

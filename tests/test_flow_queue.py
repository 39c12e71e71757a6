"""A waiting queue per service (issue 16), on the simulated PBX in virtual time.

Seen on a real Asterisk: a caller who found every present agent busy overflowed at once, although
an agent freed up moments later. A service with ``queue:`` keeps them: they wait (its message,
their position, music), the first agent to become free rings the longest-waiting caller, the
maximum wait ends in the ``busy`` overflow, and the whole wait counts in the entry's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from decroche.web import live_snapshot
from routing_rules.agents import Presence
from telephony.records.model import (
    CallOutcome,
    CallRecord,
    EntryOutcome,
    LegOutcome,
    ServiceEntry,
)
from telephony.simulator.people import CallHandle
from telephony.simulator.scripts import AgentScript, CallerScript
from tests.flow_support import OPEN_HOURS, STASIS_WINDOW_S, System, running_system

pytestmark = pytest.mark.virtual_time

A, B = "PJSIP/1101", "PJSIP/1102"
RING_S = 1.0  # both phones answer after one second

RULES = """\
settings:
  invalid_prompt: touche_invalide
services:
  ccas:
    name: CCAS
    tag: CCAS
    agents: [PJSIP/1101, PJSIP/1102]
    strategy: ring_all
    rings: 5
    queue:
      max_wait_s: 60
      prompt: file_attente
      repeat_prompt: file_attente_suite
      announce_every_s: 20
      position: true
    overflow:
      busy: {message: au_revoir}
      otherwise: {message: mairie_fermee}
entry:
  - service: ccas
"""


@asynccontextmanager
async def queue_system(
    tmp_path: Path, rules: str = RULES, agents: Sequence[AgentScript] | None = None
) -> AsyncIterator[System]:
    path = tmp_path / "regles.yaml"
    path.write_text(rules, encoding="utf-8")
    if agents is None:
        agents = [AgentScript(endpoint=e, ring_time=RING_S) for e in (A, B)]
    async with running_system(agents, rules_path=path) as system:
        yield system


async def call_at(system: System, seconds: float, number: str, **script: object) -> CallHandle:
    """A caller dials in ``seconds`` after the start of the test."""
    at = OPEN_HOURS + timedelta(seconds=seconds)
    await asyncio.sleep(max(0.0, (at - system.clock.now()).total_seconds()))
    return system.pbx.place_call(CallerScript(caller_number=number, **script))  # type: ignore[arg-type]


def seconds(system_start: datetime, at: datetime | None) -> float:
    assert at is not None
    return round((at - system_start).total_seconds(), 3)


def heard(handle: CallHandle) -> list[str]:
    return [str(item["media"]).removeprefix("sound:decroche/") for item in handle.heard]


def only_entry(record: CallRecord) -> ServiceEntry:
    (entry,) = record.entries
    return entry


async def busy_agents(system: System, talks: Sequence[float]) -> None:
    """Both agents on a call with callers who talk ``talks`` seconds: A with the first."""
    for i, talk in enumerate(talks):
        await call_at(system, 3.0 * i, f"060000000{i}", talk_time=talk)
    await asyncio.sleep(3.0 * len(talks))
    assert system.router.agents.device(A).value == "INUSE"
    assert system.router.agents.device(B).value == "INUSE"


async def test_the_agent_who_frees_up_rings_the_longest_waiting_caller(tmp_path: Path) -> None:
    async with queue_system(tmp_path) as system:
        # A talks 20 s with its caller (answered 1 s after the call), B 50 s.
        await busy_agents(system, [20.0, 50.0])
        first = await call_at(system, 10.0, "0611111111", talk_time=60.0)
        second = await call_at(system, 12.0, "0622222222", talk_time=10.0)
        await asyncio.sleep(5.0)
        assert [(q.call_id, q.position) for q in system.router.queues.waiting()] == [
            (first.channel_id, 1),
            (second.channel_id, 2),
        ]
        await system.settle(4)
    start = OPEN_HOURS
    early = only_entry(system.records.by_caller("0611111111"))
    late = only_entry(system.records.by_caller("0622222222"))
    # A is free once its caller hung up, 1 + 20 s after the first call (plus the stasis window):
    # the caller who waited longest rings it and is answered one ring time later.
    freed = 1.0 + 20.0 + STASIS_WINDOW_S
    assert early.outcome is EntryOutcome.ANSWERED
    assert early.agent == A
    assert seconds(start, early.queue_started_at) == seconds(start, early.entered_at) == 10.0
    assert seconds(start, early.queue_ended_at) == pytest.approx(freed, abs=0.01)
    assert seconds(start, early.answered_at) == pytest.approx(freed + RING_S, abs=0.02)
    # The wait in the queue is part of the entry's wait.
    assert early.wait_seconds == pytest.approx(freed + RING_S - 10.0, abs=0.02)
    assert [leg.outcome for leg in early.legs] == [LegOutcome.ANSWERED]
    # The second caller waited on, for B (free after its 50 s call, started at 3 s).
    assert late.outcome is EntryOutcome.ANSWERED
    assert late.agent == B
    assert seconds(start, late.queue_ended_at) == pytest.approx(3.0 + 1.0 + 50.0, abs=0.02)
    # What the first caller heard: the message, their position, then music until A rang.
    assert heard(first)[:3] == ["file_attente", "file_prochain", "moh"]
    assert heard(second)[:4] == ["file_attente", "file_position", "number:2", "moh"]
    # Every 20 s the second caller heard the queue again, with their place as it was then.
    assert "file_attente_suite" in heard(second)
    assert system.router.queues.waiting() == []


async def test_the_maximum_wait_ends_in_the_busy_overflow(tmp_path: Path) -> None:
    async with queue_system(tmp_path) as system:
        await busy_agents(system, [200.0, 200.0])
        waiting = await call_at(system, 10.0, "0633333333", patience=300.0)
        await system.settle(3)
    record = system.records.by_caller("0633333333")
    entry = only_entry(record)
    assert entry.outcome is EntryOutcome.OVERFLOW_BUSY
    assert entry.overflow_to == "message:au_revoir"
    assert entry.queue_seconds == pytest.approx(60.0, abs=0.01)
    assert entry.wait_seconds == pytest.approx(60.0, abs=0.01)
    assert record.outcome is CallOutcome.MESSAGE
    # Nobody answered: the plan owes the caller a callback.
    assert [c.kind for c in record.callbacks] == ["overflowed"]
    assert heard(waiting)[-1] == "au_revoir"
    assert entry.legs == []


async def test_a_caller_hanging_up_in_the_queue_abandons_with_the_queue_wait(
    tmp_path: Path,
) -> None:
    async with queue_system(tmp_path) as system:
        await busy_agents(system, [200.0, 200.0])
        await call_at(system, 10.0, "0644444444", patience=25.0)
        await system.settle(3)
    record = system.records.by_caller("0644444444")
    entry = only_entry(record)
    assert entry.outcome is EntryOutcome.ABANDONED
    assert record.outcome is CallOutcome.ABANDONED
    assert entry.queue_started_at == entry.entered_at
    assert entry.queue_ended_at == entry.ended_at == record.ended_at
    assert entry.wait_seconds == pytest.approx(25.0, abs=0.01)
    assert entry.queue_seconds == pytest.approx(25.0, abs=0.01)
    assert [c.kind for c in record.callbacks] == ["abandoned"]


async def test_an_agent_who_signs_in_while_callers_wait_gets_the_first(tmp_path: Path) -> None:
    async with queue_system(tmp_path) as system:
        system.router.agents.set_presence("ccas", B, Presence.SIGNED_OUT)
        await call_at(system, 0.0, "0600000000", talk_time=300.0)  # A is busy
        first = await call_at(system, 5.0, "0655555555", talk_time=100.0)
        await call_at(system, 7.0, "0666666666", talk_time=10.0, patience=300.0)
        await asyncio.sleep(8.0)
        assert len(system.router.queues.waiting()) == 2
        # B signs in from its phone (*51): its phone is free again once the code is said.
        code = system.pbx.place_call(
            CallerScript(caller_number="1102", endpoint=B, context="from-agents", dialled="*51")
        )
        await code.wait()
        signed_in = system.clock.now()
        await system.settle(3)
    early = only_entry(system.records.by_caller("0655555555"))
    assert early.agent == B
    assert early.outcome is EntryOutcome.ANSWERED
    assert early.queue_ended_at is not None
    assert abs((early.queue_ended_at - signed_in).total_seconds()) < 0.01
    late = only_entry(system.records.by_caller("0666666666"))
    # The later caller was not taken before: it waited its 60 s for A, still busy.
    assert late.outcome is EntryOutcome.OVERFLOW_BUSY
    assert late.queue_seconds == pytest.approx(60.0, abs=0.01)
    assert first.answered is not None


async def test_the_live_snapshot_shows_each_caller_in_the_queue_with_their_wait(
    tmp_path: Path,
) -> None:
    async with queue_system(tmp_path) as system:
        await busy_agents(system, [200.0, 200.0])
        await call_at(system, 10.0, "0611111111", patience=300.0)
        await call_at(system, 14.5, "0622222222", patience=300.0)
        await asyncio.sleep(20.0 - (system.clock.now() - OPEN_HOURS).total_seconds())
        view = SimpleNamespace(router=system.router, clock=system.clock, rules=system.router.rules)
        snap = live_snapshot(view)  # type: ignore[arg-type]
        (ccas,) = snap.services
        assert ccas.waiting == 2
        assert [(q.position, round(q.wait_s, 2)) for q in ccas.queued] == [(1, 10.0), (2, 5.5)]
        assert seconds(OPEN_HOURS, ccas.queued[0].since) == 10.0
        await system.settle(3)


async def test_a_phone_refusing_calls_while_free_is_not_rung_in_a_loop(tmp_path: Path) -> None:
    # B is on do not disturb: Asterisk shows it free, it answers every call busy (486). The
    # caller waits in the queue for A; B is tried again only after a rest of a few seconds.
    agents = [
        AgentScript(endpoint=A, ring_time=RING_S),
        AgentScript(endpoint=B, response="busy"),
    ]
    async with queue_system(tmp_path, agents=agents) as system:
        await call_at(system, 0.0, "0600000000", talk_time=200.0)  # A busy
        await call_at(system, 10.0, "0677777777", patience=300.0)
        await system.settle(2)
    entry = only_entry(system.records.by_caller("0677777777"))
    assert entry.outcome is EntryOutcome.OVERFLOW_BUSY
    assert entry.queue_seconds == pytest.approx(60.0, abs=0.01)  # B refused at once
    assert entry.wait_seconds == pytest.approx(60.0, abs=0.01)
    tries = [leg for leg in entry.legs if leg.endpoint == B]
    assert all(leg.outcome is LegOutcome.BUSY for leg in tries)
    # One try at once, then one each rest (5 s) at most: not hundreds in a minute.
    assert 2 <= len(tries) <= 60 / 5 + 1
    assert all(leg.endpoint != A for leg in entry.legs)


async def test_a_turn_whose_phone_another_call_took_meanwhile_waits_again(tmp_path: Path) -> None:
    # Seen in the demo: A rings in turn twice for a first caller (in_order, 2 x 15 s). As its
    # first stage ends, A is free for a moment and the waiting caller's turn is A; the first
    # caller's second stage takes A before that turn rings it. The turn rings nobody: the
    # waiting caller goes back to the queue (not the "nobody" overflow: A is there, busy).
    rules = RULES.replace("strategy: ring_all\n    rings: 5", "strategy: in_order\n    rings: 6")
    agents = [
        AgentScript(endpoint=A, response="no_answer"),
        AgentScript(endpoint=B, ring_time=RING_S),
    ]
    async with queue_system(tmp_path, rules=rules, agents=agents) as system:
        # B talks with a first caller (A does not answer: B is rung after A's 15 s).
        await call_at(system, 0.0, "0600000000", talk_time=200.0)
        await asyncio.sleep(20.0)
        assert system.router.agents.device(B).value == "INUSE"
        await call_at(system, 21.0, "0611111111", patience=300.0)  # A rings twice for it
        await call_at(system, 24.0, "0622222222", patience=300.0)  # waits
        await system.settle(3)
    waiting = only_entry(system.records.by_caller("0622222222"))
    assert waiting.outcome is not EntryOutcome.OVERFLOW_NOBODY
    assert waiting.legs and {leg.endpoint for leg in waiting.legs} == {A}
    assert (
        waiting.legs[0].ring_started_at
        >= system.records.by_caller("0611111111").entries[0].legs[-1].ended_at
    )

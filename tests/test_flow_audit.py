"""decroche's audit calls through the call flow (``routing_rules.routing.audit``).

A robot application dials a Local channel into the callers' dialplan entry with the
``DECROCHE_AUDIT`` mark; decroche takes the call like any caller's (menus, hours, overflows of
closed services) but never rings an agent for it: it stops where a service would ring, or rings
the test phone of the configuration, tells the robot where it ended (``DECROCHE_AUDIT_REACHED``)
and keeps the call out of the records, the counters and the live view. Virtual time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from routing_rules.routing import AuditMark, Reached, ReachedKind
from telephony.simulator import AgentScript
from tests.ari_support import Listener
from tests.flow_support import OPEN_HOURS, System, running_system

pytestmark = pytest.mark.virtual_time

ROBOT = "decroche-audit"
# Saturday 17 October 2026, 15:00 in Paris: the mairie is closed, the état civil too.
SATURDAY_AFTERNOON = datetime(2026, 10, 17, 13, 0, tzinfo=UTC)


@asynccontextmanager
async def robot_of(system: System) -> AsyncIterator[Listener]:
    robot = Listener(system.pbx, ROBOT)
    async with aiohttp.ClientSession() as session:
        await robot.connect(session)
        await asyncio.sleep(0.01)
        try:
            yield robot
        finally:
            await robot.client.close()


async def audit_call(
    robot: Listener, keys: str, *, n: int = 1, mark: bool = True
) -> dict[str, Any]:
    """One audit call pressing ``keys`` one by one, each after a prompt ended; returns what the
    robot heard: the prompts played on the caller half, their states, and where it ended."""
    one, two = f"audit-{n}-robot", f"audit-{n}-caller"
    variables = {"DECROCHE_AUDIT": AuditMark("run1", f"p{n}").value} if mark else {"X": "1"}
    await robot.client.create_channel(
        "Local/standard@from-trunk", channel_id=one, other_channel_id=two, variables=variables
    )
    await robot.wait_for("StasisStart", one)
    await robot.client.dial(one, ring_timeout=30)
    pending = list(keys)
    position = 0
    while True:
        position, event = await robot.next_event(position)
        position += 1
        if not _of(event, one, two):
            continue
        if event["type"] == "PlaybackFinished" and pending:
            await robot.client.send_dtmf(one, pending.pop(0))
        if event["type"] == "ChannelDestroyed" and event["channel"]["id"] == one:
            break
    played = [
        (e["playback"]["media_uri"], e["type"], e["playback"]["state"])
        for e in robot.events
        if e["type"] in ("PlaybackStarted", "PlaybackContinuing", "PlaybackFinished")
        and e["playback"]["target_uri"] == f"channel:{two}"
    ]
    reached = [
        e["value"]
        for e in robot.events
        if e["type"] == "ChannelVarset" and e["variable"] == "DECROCHE_AUDIT_REACHED"
    ]
    return {"played": played, "reached": reached}


def _of(event: dict[str, Any], *ids: str) -> bool:
    channel = event.get("channel") or event.get("peer")
    if channel is not None:
        return channel["id"] in ids
    playback = event.get("playback")
    return playback is not None and playback["target_uri"].split(":", 1)[1] in ids


def agent_legs(system: System) -> list[str]:
    """Every agent phone channel the PBX ever created (none may exist for an audit call)."""
    return [
        c
        for c in system.pbx.engine.endpoints
        if c.startswith("PJSIP/") and system.pbx.engine.endpoints[c].channel_ids
    ]


async def test_an_audit_call_stops_where_the_service_would_ring_and_is_no_call_record() -> None:
    async with running_system() as system, robot_of(system) as robot:
        rang: list[str] = []
        system.pbx.stasis.observers.append(
            lambda app, event, _: (
                rang.append(event["channel"]["name"])
                if event["type"] == "ChannelStateChange" and "PJSIP/1" in event["channel"]["name"]
                else None
            )
        )
        live: list[int] = []

        async def watch() -> None:
            while True:
                live.append(len(system.router.live_calls()))
                await asyncio.sleep(0.5)

        watcher = asyncio.create_task(watch())
        heard = await audit_call(robot, "21")
        watcher.cancel()
        assert heard["reached"] == [Reached(ReachedKind.SERVICE, "ccas").value]
        assert [m for m, kind, _ in heard["played"] if kind == "PlaybackStarted"] == [
            "sound:decroche/bienvenue",
            "sound:decroche/menu_principal",
            "sound:decroche/menu_droit_famille",
        ]
        await system.pbx.wait_idle()
        assert rang == []  # no agent's phone ever rang
        records = system.records
        assert records.started == [] and records.finished == []
        # Nothing journaled either: a crash during an audit call leaves no call to close.
        assert records.progress == [] and records.touched == []
        counters = system.router.counters
        assert (counters.audit_calls, counters.calls_started, counters.calls_finished) == (1, 0, 0)
        assert max(live) == 0  # never in the live view


async def test_a_closed_service_plays_its_hours_then_the_audit_call_follows_the_overflow() -> None:
    async with running_system(at=SATURDAY_AFTERNOON) as system, robot_of(system) as robot:
        heard = await audit_call(robot, "3")
        # Eau et urbanisme is closed: its hours, then the accueil général (closed as well).
        assert heard["reached"] == ["message mairie_fermee"]
        media = [m for m, kind, _ in heard["played"] if kind == "PlaybackStarted"]
        assert media[-2:] == ["sound:decroche/horaires_mairie", "sound:decroche/mairie_fermee"]
        assert system.records.finished == []


async def test_agents_absent_or_busy_do_not_change_an_audit_calls_path() -> None:
    absent = [AgentScript(endpoint=f"PJSIP/110{i}", registered=False) for i in (1, 2, 3)]
    async with running_system(absent) as system, robot_of(system) as robot:
        heard = await audit_call(robot, "21")
        assert heard["reached"] == ["service ccas"]


async def test_with_a_test_phone_the_audit_call_rings_it_with_the_services_tag() -> None:
    phone = AgentScript(endpoint="PJSIP/1999", ring_time=2.0, talk_time=3.0)
    async with (
        running_system([phone], audit_test_phone="PJSIP/1999") as system,
        robot_of(system) as robot,
    ):
        bridged: list[str] = []
        system.pbx.stasis.observers.append(
            lambda app, event, _: (
                bridged.append(event["channel"]["name"])
                if event["type"] == "ChannelEnteredBridge"
                else None
            )
        )
        heard = await audit_call(robot, "21")
        assert heard["reached"] == ["service ccas"]
        # Rung showing what the CCAS's agents would see, answered, bridged with the robot.
        (shown,) = system.pbx.engine.endpoints["PJSIP/1999"].shown
        assert shown["name"].startswith("[CCAS]")
        assert any(name.startswith("PJSIP/1999") for name in bridged)
        assert any(name.startswith("Local/standard@from-trunk") for name in bridged)
        await system.pbx.wait_idle()
        assert system.pbx.state()["bridges"] == []
        assert system.records.finished == []


async def test_a_local_channel_without_the_mark_is_a_callers_call() -> None:
    talks = AgentScript(endpoint="PJSIP/0", ring_time=2.0, talk_time=5.0)
    async with (
        running_system(at=OPEN_HOURS, default_agent=talks) as system,
        robot_of(system) as robot,
    ):
        heard = await audit_call(robot, "21", mark=False)
        assert heard["reached"] == []
        await system.settle(1)
        (record,) = system.records.finished
        assert record.entries[0].service_id == "ccas"

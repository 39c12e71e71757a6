"""Local channels into the dialplan's inbound context, as Asterisk 22 makes them (``core_local``):
the way decroche's audit calls come in.

An ARI application (the "robot") creates ``Local/<number>@from-trunk``: ``;1`` is its own, ``;2``
runs the dialplan and enters ``Stasis(decroche,<number>)`` like any caller once ``;1`` is
dialled, with ``;1``'s variables copied. What one half is sent, the other receives (DTMF, answer,
hang-up), and the robot hears ``;2``'s events (playbacks, keys, variables) because ARI subscribed
it to both halves. Virtual time: every delay is exact.
"""

from __future__ import annotations

import asyncio
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from telephony.ari.errors import AriHttpError
from telephony.simulator import SimulatedPbx
from telephony.virtual_time import LoopClock
from tests.ari_support import Listener

pytestmark = pytest.mark.virtual_time

NUMBER = "0232000000"


@asynccontextmanager
async def pbx_with(
    *apps: str, sounds: Path | None = None
) -> AsyncIterator[tuple[SimulatedPbx, list[Listener]]]:
    pbx = SimulatedPbx(clock=LoopClock(datetime(2026, 10, 14, 8, 0, tzinfo=UTC)), sounds=sounds)
    await pbx.start(port=0)
    listeners = [Listener(pbx, app) for app in apps]
    try:
        async with aiohttp.ClientSession() as session:
            for listener in listeners:
                await listener.connect(session)
            await asyncio.sleep(0.01)
            yield pbx, listeners
            for listener in listeners:
                await listener.client.close()
    finally:
        await pbx.stop()


async def robot_call(robot: Listener, number: str = NUMBER, **variables: str) -> tuple[str, str]:
    """The robot's Local pair into from-trunk, dialled; returns (;1 id, ;2 id)."""
    await robot.client.create_channel(
        f"Local/{number}@from-trunk",
        channel_id="audit-1-robot",
        other_channel_id="audit-1-caller",
        variables={"DECROCHE_AUDIT": "run1/p1", **variables},
    )
    await robot.wait_for("StasisStart", "audit-1-robot")
    await robot.client.dial("audit-1-robot", ring_timeout=30)
    return "audit-1-robot", "audit-1-caller"


async def test_the_second_half_enters_the_app_like_a_caller_with_the_first_halfs_variables() -> (
    None
):
    async with pbx_with("robot", "decroche") as (pbx, (robot, decroche)):
        one, two = await robot_call(robot)
        start = await decroche.wait_for("StasisStart", two)
        channel = start["channel"]
        assert start["args"] == [NUMBER]
        assert channel["name"].startswith(f"Local/{NUMBER}@from-trunk-")
        assert channel["name"].endswith(";2") and channel["state"] == "Ring"
        assert channel["dialplan"]["context"] == "from-trunk"
        assert channel["dialplan"]["app_name"] == "Stasis"
        assert channel["language"] == "fr"
        # decroche reads the mark the robot set on its own half (local_call copied it).
        assert await decroche.client.get_variable(two, "DECROCHE_AUDIT") == "run1/p1"
        # ;1 waits, in the robot's app, for ;2 to be answered.
        assert pbx.engine.channels[one].state == "Down"
        varset = await robot.wait_for("ChannelVarset", two)
        assert (varset["variable"], varset["value"]) == ("DECROCHE_AUDIT", "run1/p1")
        assert not decroche.of("StasisStart", one)


async def test_answering_the_caller_half_answers_the_robot_and_keys_cross_the_pair() -> None:
    async with pbx_with("robot", "decroche") as (pbx, (robot, decroche)):
        one, two = await robot_call(robot)
        await decroche.wait_for("StasisStart", two)
        await decroche.client.answer(two)
        answer = await robot.wait_for("Dial", one, lambda e: e["dialstatus"] == "ANSWER")
        assert answer["peer"]["state"] == "Up"
        sent_at = pbx.clock.now()
        await robot.client.send_dtmf(one, "21")
        first = await decroche.wait_for("ChannelDtmfReceived", two)
        second = await decroche.wait_for(
            "ChannelDtmfReceived", two, lambda e: e is not first and e["digit"] == "1"
        )
        assert (first["digit"], first["duration_ms"], second["duration_ms"]) == ("2", 100, 100)
        # Each digit lasts 100 ms, with 100 ms between them (ARI's defaults).
        first_at = datetime.fromisoformat(first["timestamp"])
        second_at = datetime.fromisoformat(second["timestamp"])
        assert round((first_at - sent_at).total_seconds(), 2) == 0.1
        assert round((second_at - first_at).total_seconds(), 2) == 0.2
        # The robot hears them arrive on ;2 too (it is subscribed to both halves).
        assert [e["digit"] for e in robot.of("ChannelDtmfReceived", two)] == ["2", "1"]


async def test_the_robot_hears_the_caller_halfs_prompts_and_variables() -> None:
    async with pbx_with("robot", "decroche") as (pbx, (robot, decroche)):
        pbx.set_media_durations({"sound:decroche/bienvenue": 3.0})
        _one, two = await robot_call(robot)
        await decroche.wait_for("StasisStart", two)
        await decroche.client.answer(two)
        await decroche.client.play(two, "sound:decroche/bienvenue", lang="fr", playback_id="pb1")
        await decroche.client.set_variable(two, "DECROCHE_AUDIT_REACHED", "service ccas")
        finished = await robot.wait_for("PlaybackFinished", two)
        assert finished["playback"]["state"] == "done"
        assert finished["playback"]["media_uri"] == "sound:decroche/bienvenue"
        reached = await robot.wait_for(
            "ChannelVarset", two, lambda e: e["variable"] == "DECROCHE_AUDIT_REACHED"
        )
        assert reached["value"] == "service ccas"


async def test_hanging_up_the_caller_half_ends_both_and_leaves_nothing() -> None:
    async with pbx_with("robot", "decroche") as (_pbx, (robot, decroche)):
        one, two = await robot_call(robot)
        await decroche.wait_for("StasisStart", two)
        await decroche.client.answer(two)
        await decroche.client.hangup(two)
        await robot.wait_for("ChannelDestroyed", one)
        await robot.wait_for("ChannelDestroyed", two)
        # The owning app is unsubscribed from an inbound channel at its StasisEnd.
        assert decroche.of("StasisEnd", two) and not decroche.of("ChannelDestroyed", two)
        assert await robot.client.list_channels() == []


async def test_an_originated_pair_enters_the_robots_app_when_answered() -> None:
    async with pbx_with("robot", "decroche") as (_pbx, (robot, decroche)):
        await robot.client.originate(
            f"Local/{NUMBER}@from-trunk",
            channel_id="audit-2-robot",
            other_channel_id="audit-2-caller",
            app_args="robot",
            variables={"DECROCHE_AUDIT": "run1/p2"},
        )
        await decroche.wait_for("StasisStart", "audit-2-caller")
        assert not robot.of("StasisStart", "audit-2-robot")
        await decroche.client.answer("audit-2-caller")
        start = await robot.wait_for("StasisStart", "audit-2-robot")
        assert start["args"] == ["robot"] and start["channel"]["state"] == "Up"


@pytest.mark.parametrize(("dialled", "given"), [("+33232000000", "0232000000"), ("s", "standard")])
async def test_the_trunk_context_gives_decroche_the_national_number(
    dialled: str, given: str
) -> None:
    async with pbx_with("robot", "decroche") as (_pbx, (robot, decroche)):
        _, two = await robot_call(robot, dialled)
        start = await decroche.wait_for("StasisStart", two)
        assert start["args"] == [given]


@pytest.mark.parametrize(("marked", "cause"), [(True, 16), (False, 21)])
async def test_an_audit_call_is_hung_up_when_decroche_is_not_connected(
    marked: bool, cause: int
) -> None:
    """The shipped dialplan never sends an audit call to the fallback ring group."""
    async with pbx_with("robot") as (_pbx, (robot,)):
        await robot.client.create_channel(
            f"Local/{NUMBER}@from-trunk",
            channel_id="audit-3-robot",
            other_channel_id="audit-3-caller",
            variables={"DECROCHE_AUDIT": "run1/p3"} if marked else {"OTHER": "x"},
        )
        await robot.wait_for("StasisStart", "audit-3-robot")
        await robot.client.dial("audit-3-robot")
        destroyed = await robot.wait_for("ChannelDestroyed", "audit-3-caller")
        assert destroyed["cause"] == cause
        await robot.wait_for("ChannelDestroyed", "audit-3-robot")


async def test_other_ids_are_checked_like_channel_ids() -> None:
    async with pbx_with("robot") as (_pbx, (robot,)):
        await robot.client.create_channel("Local/1@from-trunk", other_channel_id="taken-caller")
        with pytest.raises(AriHttpError) as refused:
            await robot.client.create_channel("Local/1@from-trunk", other_channel_id="taken")
        assert refused.value.status == 409


# --- the sounds folder --------------------------------------------------------------------


def write_wav(path: Path, seconds: float, rate: int = 8000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"\0\0" * int(seconds * rate))


async def played(pbx: SimulatedPbx, decroche: Listener, media: str, lang: str) -> dict[str, Any]:
    """Play ``media`` to a fresh caller; the PlaybackFinished and how long it lasted."""
    call = pbx.place_call(dialled=NUMBER)
    start = await decroche.wait_for("StasisStart", where=lambda e: e not in decroche.events[:0])
    channel = start["channel"]["id"]
    decroche.events.clear()
    await decroche.client.answer(channel)
    began = pbx.clock.now()
    await decroche.client.play(channel, media, lang=lang, playback_id=f"pb-{call.call_id}")
    finished = await decroche.wait_for("PlaybackFinished", channel)
    ended = datetime.fromisoformat(finished["timestamp"])
    await decroche.client.hangup(channel)
    await call.wait()
    decroche.events.clear()
    return {"state": finished["playback"]["state"], "s": (ended - began).total_seconds()}


async def test_only_sounds_in_the_folder_play_in_the_callers_language(tmp_path: Path) -> None:
    write_wav(tmp_path / "fr" / "decroche" / "bienvenue.wav", 2.5)
    write_wav(tmp_path / "en" / "decroche" / "english_only.wav", 1.0)
    write_wav(tmp_path / "decroche" / "no_language.wav", 1.5)
    (tmp_path / "fr" / "decroche" / "raw.sln16").write_bytes(b"\0" * 32000 * 2)
    async with pbx_with("decroche", sounds=tmp_path) as (pbx, (decroche,)):
        bienvenue = await played(pbx, decroche, "sound:decroche/bienvenue", "fr")
        assert bienvenue["state"] == "done" and round(bienvenue["s"], 1) == 2.5
        raw = await played(pbx, decroche, "sound:decroche/raw", "fr")
        assert raw["state"] == "done" and round(raw["s"], 1) == 2.0
        assert (await played(pbx, decroche, "sound:decroche/english_only", "fr"))["state"] == (
            "done"
        )
        assert (await played(pbx, decroche, "sound:decroche/no_language", "fr"))["state"] == (
            "done"
        )
        missing = await played(pbx, decroche, "sound:decroche/absent", "fr")
        assert missing["state"] == "failed" and missing["s"] < 0.01
        # Removed while the PBX runs: the next playback fails.
        (tmp_path / "fr" / "decroche" / "bienvenue.wav").unlink()
        assert (await played(pbx, decroche, "sound:decroche/bienvenue", "fr"))["state"] == (
            "failed"
        )


async def test_the_sounds_resource_lists_the_folder(tmp_path: Path) -> None:
    write_wav(tmp_path / "fr" / "decroche" / "bienvenue.wav", 1.0)
    (tmp_path / "fr" / "decroche" / "bienvenue.sln16").write_bytes(b"\0" * 320)
    write_wav(tmp_path / "en" / "vm-goodbye.wav", 1.0)
    (tmp_path / "fr" / "decroche" / "notes.txt").write_text("not a sound")
    async with pbx_with("decroche", sounds=tmp_path) as (_pbx, (decroche,)):
        client = decroche.client
        listing = await client.list_sounds(lang="fr")
        assert [(s.id, sorted(f.format for f in s.formats)) for s in listing] == [
            ("decroche/bienvenue", ["sln16", "wav"])
        ]
        assert sorted(s.id for s in await client.list_sounds()) == [
            "decroche/bienvenue",
            "vm-goodbye",
        ]
        assert (await client.get_sound("vm-goodbye")).formats[0].language == "en"
        with pytest.raises(AriHttpError) as missing:
            await client.get_sound("nope")
        assert missing.value.status == 404


async def test_without_a_folder_every_sound_plays() -> None:
    async with pbx_with("decroche") as (pbx, (decroche,)):
        assert (await played(pbx, decroche, "sound:decroche/anything", "fr"))["state"] == "done"

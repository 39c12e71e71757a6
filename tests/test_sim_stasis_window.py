"""The simulated PBX reproduces Asterisk's window between ``channels/create`` and the created
channel's ``StasisStart``: until then a dial (or any operation needing the channel in the app)
is refused with 409 ``Channel not in Stasis application``, as a real Asterisk 22 does."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import aiohttp
import pytest
from click.testing import CliRunner

from decroche.cli import main
from telephony.ari.client import AriClient
from telephony.ari.errors import Conflict, NotFound
from telephony.ari.models import ChannelDestroyed, Event, StasisStart
from telephony.ari.stream import EventStream
from telephony.simulator.latency import StasisWindow
from telephony.simulator.pbx import SimulatedPbx
from telephony.virtual_time import LoopClock, VirtualTimeLoop

AT = datetime(2026, 10, 14, 8, 0, tzinfo=UTC)
T = TypeVar("T")


def in_virtual_time(scenario: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await scenario()

    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main())


class _Listening:
    """A PBX with one agent phone, and the app's events as they come over the WebSocket."""

    def __init__(self, window: StasisWindow) -> None:
        self.pbx = SimulatedPbx(clock=LoopClock(AT), app="decroche", stasis_window=window)
        self.events: list[Event] = []
        self._arrived = asyncio.Event()

    def _sink(self, event: Event) -> None:
        self.events.append(event)
        self._arrived.set()

    async def __aenter__(self) -> tuple[SimulatedPbx, AriClient, _Listening]:
        await self.pbx.start(port=0)
        self.pbx.add_agent(endpoint="PJSIP/1001")
        self.client = AriClient(self.pbx.url, "decroche", "decroche", "decroche")
        self.stream = EventStream(self.client, self._sink, heartbeat=3600, ping_interval=3600)
        self._task = asyncio.create_task(self.stream.run())
        assert await self.stream.wait_connected(5.0)
        return self.pbx, self.client, self

    async def __aexit__(self, *exc: object) -> None:
        self.stream.stop()
        await self._task
        await self.client.close()
        await self.pbx.stop()

    async def first(self, kind: type[Event], channel_id: str) -> Event:
        while True:
            for event in self.events:
                channel = getattr(event, "channel", None)
                if isinstance(event, kind) and channel is not None and channel.id == channel_id:
                    return event
            self._arrived.clear()
            await self._arrived.wait()


def test_a_dial_before_the_stasis_start_is_refused_and_accepted_after() -> None:
    async def scenario() -> None:
        async with _Listening(StasisWindow(0.002, 0.002)) as (_, client, listening):
            created = await client.create_channel("PJSIP/1001", channel_id="a-1", app_args="agent")
            for early in (
                client.dial("a-1", ring_timeout=10),
                client.answer("a-1"),
                client.set_variable("a-1", "X", "1"),
                client.play("a-1", ["sound:hello"]),
            ):
                with pytest.raises(Conflict) as refused:
                    await early
                assert refused.value.message == "Channel not in Stasis application"
            # Reading a variable and hanging up do not need the app (res/ari/resource_channels.c).
            with pytest.raises(NotFound, match="Provided variable was not found"):
                await client.get_variable("a-1", "X")
            start = await listening.first(StasisStart, "a-1")
            assert isinstance(start, StasisStart)
            assert start.channel.state == "Down"
            assert start.args == ["agent"]
            waited = (start.timestamp - created.creationtime).total_seconds()
            assert waited == pytest.approx(0.002, abs=0.001)
            await client.dial("a-1", ring_timeout=10)  # in the app now: accepted

    in_virtual_time(scenario)


def test_a_channel_hung_up_in_the_window_never_enters_the_app() -> None:
    async def scenario() -> None:
        async with _Listening(StasisWindow(0.5, 0.5)) as (pbx, client, listening):
            await client.create_channel("PJSIP/1001", channel_id="a-1", app_args="agent")
            await client.hangup("a-1")
            destroyed = await listening.first(ChannelDestroyed, "a-1")
            assert isinstance(destroyed, ChannelDestroyed)
            await pbx.clock.sleep(1.0)
            assert not any(isinstance(e, StasisStart) for e in listening.events)
            assert pbx.state()["channels"] == []
            endpoint = next(e for e in pbx.state()["endpoints"] if e["resource"] == "1001")
            assert endpoint["device_state"] == "NOT_INUSE"

    in_virtual_time(scenario)


def test_with_no_window_the_channel_enters_right_after_the_answer() -> None:
    async def scenario() -> None:
        async with _Listening(StasisWindow.none()) as (_, client, listening):
            created = await client.create_channel("PJSIP/1001", channel_id="a-1", app_args="agent")
            start = await listening.first(StasisStart, "a-1")
            assert isinstance(start, StasisStart)
            assert start.timestamp == created.creationtime

    in_virtual_time(scenario)


def test_windows_are_drawn_in_their_range_and_repeatable_with_a_seed() -> None:
    one, two = StasisWindow(0.0005, 0.003, seed=15), StasisWindow(0.0005, 0.003, seed=15)
    drawn = [one.draw() for _ in range(200)]
    assert drawn == [two.draw() for _ in range(200)]
    assert all(0.0005 <= d <= 0.003 for d in drawn)
    assert len(set(drawn)) > 150  # at random, not one value
    default = [StasisWindow().draw() for _ in range(50)]
    assert all(0.0005 <= d <= 0.003 for d in default)
    assert StasisWindow.none().draw() == 0.0
    assert StasisWindow.parse_ms("2").draw() == pytest.approx(0.002)
    ranged = StasisWindow.parse_ms("1-4", seed=1)
    assert (ranged.min_s, ranged.max_s) == (0.001, 0.004)


@pytest.mark.parametrize("bad", ["abc", "3-1", "-1", "1-x"])
def test_a_bad_window_is_refused_naming_it(bad: str) -> None:
    with pytest.raises(ValueError, match="stasis window"):
        StasisWindow.parse_ms(bad)
    result = CliRunner().invoke(main, ["sim", "serve", "--port", "0", "--stasis-window-ms", bad])
    assert result.exit_code == 2
    assert "--stasis-window-ms" in result.output
    assert "stasis window" in result.output


def test_the_control_api_sets_the_window_for_the_next_channels() -> None:
    async def scenario() -> None:
        async with (
            _Listening(StasisWindow.none()) as (pbx, client, listening),
            aiohttp.ClientSession() as session,
        ):
            url = f"{pbx.url}/sim/stasis-window"
            async with session.put(url, json={"ms": "40", "seed": 3}) as response:
                assert response.status == 200
                assert await response.json() == {"min_ms": 40.0, "max_ms": 40.0}
            created = await client.create_channel("PJSIP/1001", channel_id="a-1", app_args="agent")
            start = await listening.first(StasisStart, "a-1")
            assert (start.timestamp - created.creationtime).total_seconds() == 0.04
            for bad, says in (
                ({"ms": "3-1"}, "stasis window"),
                ({"ms": "2", "max": 3}, "unknown keys"),
                ({"ms": "2", "seed": "x"}, "seed must be an integer"),
                ({}, "ms must be"),
            ):
                async with session.put(url, json=bad) as response:
                    assert response.status == 400, bad
                    assert says in (await response.json())["error"]
            async with session.get(url) as response:
                assert await response.json() == {"min_ms": 40.0, "max_ms": 40.0}

    in_virtual_time(scenario)

"""What a caller hears besides prompts, on the simulated PBX as on Asterisk 22.

Music on hold and the ring tone Asterisk plays to an answered channel are generators: a
playback on the channel deactivates them and nothing brings them back (``websocket-reconnect``:
« starting the playback also silently stopped the MOH »). Before the answer, ``ring`` is SIP 180
to the caller: their own network's ring-back, which the answer ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest

from telephony.ari.client import AriClient
from telephony.ari.models import Event
from telephony.ari.stream import EventStream
from telephony.simulator.pbx import SimulatedPbx
from telephony.simulator.scripts import CallerScript
from telephony.virtual_time import LoopClock

pytestmark = pytest.mark.virtual_time

AT = datetime(2026, 10, 14, 8, 0, tzinfo=UTC)


@asynccontextmanager
async def listening() -> AsyncIterator[tuple[SimulatedPbx, AriClient]]:
    pbx = SimulatedPbx(clock=LoopClock(AT), app="decroche")
    await pbx.start(port=0)
    client = AriClient(pbx.url, "decroche", "decroche", "decroche")
    events: list[Event] = []
    stream = EventStream(client, events.append, heartbeat=3600, ping_interval=3600)
    task = asyncio.create_task(stream.run())
    assert await stream.wait_connected(5.0)
    try:
        yield pbx, client
    finally:
        stream.stop()
        await task
        await client.close()
        await pbx.stop()


async def test_a_playback_stops_the_ring_tone_of_an_answered_channel_for_good() -> None:
    async with listening() as (pbx, client):
        handle = pbx.place_call(CallerScript(caller_number="0611111111", patience=60.0))
        assert handle.channel_id is not None
        await client.answer(handle.channel_id)
        await client.ring(handle.channel_id)
        await pbx.clock.sleep(1.0)
        await client.play(handle.channel_id, ["sound:decroche/enquete_consentement"])
        await pbx.clock.sleep(5.0)
        heard = [(item["media"], item["state"]) for item in handle.heard]
    assert heard == [
        ("ring", "stopped_by_playback"),
        ("sound:decroche/enquete_consentement", "done"),
    ]


async def test_before_the_answer_ring_is_the_callers_own_ring_back_until_the_answer() -> None:
    async with listening() as (pbx, client):
        handle = pbx.place_call(CallerScript(caller_number="0622222222", patience=60.0))
        assert handle.channel_id is not None
        await client.ring(handle.channel_id)
        await pbx.clock.sleep(3.0)
        await client.answer(handle.channel_id)
        heard = [(item["media"], item["state"]) for item in handle.heard]
    assert heard == [("ring", "answered")]

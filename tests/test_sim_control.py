"""Control API, Python API and scripted behaviours of the simulated PBX (in virtual time: the
scripted rings, talks and SIP timers last exactly what they say, whatever the machine's load)."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from telephony.simulator import AgentScript, CallerScript, KeyPress, SimulatedPbx
from telephony.virtual_time import LoopClock

pytestmark = pytest.mark.virtual_time

AUTH = {"Authorization": "Basic " + base64.b64encode(b"decroche:decroche").decode()}
# Bound of every wait, in the PBX's (virtual) seconds: past any scripted delay here (SIP timer B
# of an unreachable phone is 32 s).
WAIT = 60.0


class Harness:
    def __init__(self, pbx: SimulatedPbx, session: aiohttp.ClientSession) -> None:
        self.pbx = pbx
        self.session = session
        self.events: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()
        self.readers: dict[aiohttp.ClientWebSocketResponse, asyncio.Task[None]] = {}

    async def connect(self, query: str = "app=decroche") -> aiohttp.ClientWebSocketResponse:
        ws = await self.session.ws_connect(f"{self.pbx.url}/ari/events?{query}", headers=AUTH)

        async def read() -> None:
            async for message in ws:
                self.events.append(json.loads(message.data))
                self.arrived.set()

        self.readers[ws] = asyncio.get_running_loop().create_task(read())
        return ws

    async def wait_for(self, kind: str, count: int = 1, **match: Any) -> list[dict[str, Any]]:
        async def until() -> list[dict[str, Any]]:
            while True:
                found = [
                    e for e in self.events
                    if e["type"] == kind and all(e.get(k) == v for k, v in match.items())
                ]  # fmt: skip
                if len(found) >= count:
                    return found
                self.arrived.clear()
                await self.arrived.wait()

        return await asyncio.wait_for(until(), WAIT)

    async def ari(self, method: str, path: str, **params: Any) -> tuple[int, Any]:
        async with self.session.request(
            method, f"{self.pbx.url}/ari{path}", params=params, headers=AUTH
        ) as response:
            text = await response.text()
            return response.status, (json.loads(text) if text else None)


@pytest.fixture
async def harness() -> Any:
    pbx = SimulatedPbx(clock=LoopClock(datetime(2026, 10, 14, 8, 0, tzinfo=UTC)))
    await pbx.start("127.0.0.1", 0)
    async with aiohttp.ClientSession() as session:
        yield Harness(pbx, session)
    await pbx.stop()


async def test_call_without_app_connected_is_declined(harness: Harness) -> None:
    handle = harness.pbx.place_call(CallerScript())
    assert handle.ended is not None and handle.ended["how"] == "rejected_app_not_active"
    assert harness.pbx.state()["channels"] == []


async def test_scripted_caller_presses_keys_per_digit_and_hangs_up_after_talk(
    harness: Harness,
) -> None:
    await harness.connect()
    harness.pbx.add_agent(endpoint="PJSIP/1042", name="Agent", number="1042", ring_time=1)
    handle = harness.pbx.place_call(
        CallerScript(keys=(KeyPress(digits="12", after=0.5, duration_ms=100),), talk_time=2)
    )
    (start,) = await harness.wait_for("StasisStart")
    assert start["channel"]["state"] == "Ring" and start["args"] == ["0232000000"]
    assert start["channel"]["dialplan"]["app_data"] == "decroche,0232000000"
    caller = start["channel"]["id"]
    assert await harness.ari("POST", f"/channels/{caller}/answer") == (204, None)
    status, playback = await harness.ari("POST", f"/channels/{caller}/play", media="sound:menu")
    assert status == 201 and playback["state"] == "queued"
    digits = await harness.wait_for("ChannelDtmfReceived", 2)
    assert [(d["digit"], d["duration_ms"]) for d in digits] == [("1", 100), ("2", 100)]
    status, _ = await harness.ari(
        "POST", "/channels/create", endpoint="PJSIP/1042", app="decroche", channelId="ag"
    )
    assert status == 200
    await harness.wait_for("StasisStart", 2)
    assert await harness.ari("POST", "/channels/ag/dial", caller=caller) == (204, None)
    await harness.wait_for("Dial", dialstatus="ANSWER")
    await harness.ari("POST", "/bridges", bridgeId="b")
    await harness.ari("POST", "/bridges/b/addChannel", channel=f"{caller},ag")
    ended = await asyncio.wait_for(handle.wait(), WAIT)
    assert ended["how"] == "talked"
    (request,) = await harness.wait_for("ChannelHangupRequest")
    assert "cause" not in request  # the caller's BYE carries no cause
    assert [h["media"] for h in handle.heard] == ["sound:menu"]
    assert handle.talked_with[0]["number"] == "1042"


@pytest.mark.parametrize(
    ("response", "cause", "tech_cause"),
    [("busy", 17, 486), ("decline", 21, 603), ("unreachable", 18, 408)],
)
async def test_agent_failures_show_only_as_hangup_causes(
    harness: Harness, response: str, cause: int, tech_cause: int
) -> None:
    await harness.connect()
    harness.pbx.add_agent(endpoint="PJSIP/agent9", response=response)
    await harness.ari(
        "POST", "/channels/create", endpoint="PJSIP/agent9", app="decroche", channelId="a9"
    )
    await harness.wait_for("StasisStart")
    assert await harness.ari("POST", "/channels/a9/dial") == (204, None)
    (destroyed,) = await harness.wait_for("ChannelDestroyed")
    assert (destroyed["cause"], destroyed["tech_cause"]) == (cause, tech_cause)
    assert [e["dialstatus"] for e in harness.events if e["type"] == "Dial"] == [""]


async def test_unregistered_agent_and_endpoint_states(harness: Harness) -> None:
    await harness.connect("app=decroche&subscribeAll=true")
    harness.pbx.add_agent(endpoint="PJSIP/agent3", registered=False)
    status, body = await harness.ari("POST", "/channels/create", endpoint="PJSIP/agent3",
                                     app="decroche")  # fmt: skip
    assert (status, body) == (500, {"error": "Allocation failed"})
    assert (await harness.ari("GET", "/endpoints/PJSIP/agent3"))[1]["state"] == "offline"
    harness.pbx.add_agent(endpoint="PJSIP/agent3", registered=True)
    (change,) = await harness.wait_for("EndpointStateChange")
    assert change["endpoint"]["state"] == "online"
    states = await harness.wait_for("DeviceStateChanged", 2)
    assert [s["device_state"]["state"] for s in states] == ["UNAVAILABLE", "NOT_INUSE"]


async def test_second_websocket_replaces_the_first(harness: Harness) -> None:
    first = await harness.connect()
    await harness.connect()
    (replaced,) = await harness.wait_for("ApplicationReplaced")
    assert replaced["application"] == "decroche"
    # ...then Asterisk closes the first socket: its reader ends.
    await asyncio.wait_for(harness.readers[first], WAIT)
    assert first.closed


async def test_auth_and_events_handshake_errors(harness: Harness) -> None:
    session, url = harness.session, harness.pbx.url
    async with session.get(f"{url}/ari/channels") as response:
        assert response.status == 401
        assert await response.json() == {"message": "Authentication required"}
    async with session.get(f"{url}/ari/channels?api_key=decroche:decroche") as response:
        assert response.status == 200
    async with session.get(f"{url}/ari/events", headers=AUTH) as response:
        assert response.status == 400 and "missing param: [app]" in await response.text()
    async with session.get(f"{url}/ari/events?app=x", headers=AUTH) as response:
        assert response.status == 426


async def test_control_api_validates_and_reports(harness: Harness) -> None:
    session, url = harness.session, harness.pbx.url
    async with session.put(f"{url}/sim/agents/PJSIP/1042", json={"ring_time": -1}) as response:
        assert response.status == 400
        assert "ring_time" in (await response.json())["error"]
    async with session.put(f"{url}/sim/agents/PJSIP/1042", json={"surprise": 1}) as response:
        assert response.status == 400 and "surprise" in (await response.json())["error"]
    async with session.put(f"{url}/sim/agents/PJSIP/1042", json={"talk_time": 5}) as response:
        assert response.status == 200 and (await response.json())["talk_time"] == 5
    async with session.put(f"{url}/sim/media", json={"durations": {"sound:x": "long"}}) as r:
        assert r.status == 400 and "sound:x" in (await r.json())["error"]
    async with session.put(f"{url}/sim/media", json={"durations": {"sound:x": 4}}) as r:
        assert (await r.json())["durations"] == {"sound:x": 4.0}
    async with session.post(f"{url}/sim/calls", json={"dialled": "a b"}) as response:
        assert response.status == 400 and "dialled" in (await response.json())["error"]
    async with session.post(f"{url}/sim/calls", json={}) as response:
        assert response.status == 201
        call = await response.json()
    async with session.get(f"{url}/sim/calls/{call['call_id']}") as response:
        assert (await response.json())["ended"]["how"] == "rejected_app_not_active"
    async with session.get(f"{url}/sim/state") as response:
        state = await response.json()
    assert [e["resource"] for e in state["endpoints"]] == ["1042"]
    async with session.post(f"{url}/sim/wait-idle?timeout=1") as response:
        assert (await response.json()) == {"idle": True}


async def test_control_api_restarts_the_pbx(harness: Harness) -> None:
    session, url = harness.session, harness.pbx.url
    for body, field in (({"down_s": -1}, "down_s"), ({"soon": 1}, "soon")):
        async with session.post(f"{url}/sim/restart", json=body) as response:
            assert response.status == 400 and field in (await response.json())["error"]
    await harness.connect()
    handle = harness.pbx.place_call(CallerScript(patience=600))
    before = harness.pbx.engine.started_at
    await asyncio.sleep(1.0)
    async with session.post(f"{url}/sim/restart", json={"down_s": 0}) as response:
        assert response.status == 202
        assert await response.json() == {"restarting": True, "down_s": 0}
    await asyncio.wait_for(handle.wait(), WAIT)
    assert handle.ended is not None and handle.ended["how"] == "pbx_restarted"
    assert harness.pbx.engine.started_at > before
    assert [e["type"] for e in harness.events] == ["StasisStart"]  # nothing told of the loss


def test_scripts_refuse_bad_values() -> None:
    with pytest.raises(ValidationError, match="endpoint"):
        AgentScript(endpoint="1042")
    with pytest.raises(ValidationError, match="digits"):
        KeyPress(digits="x")
    with pytest.raises(ValidationError, match="survey"):
        CallerScript(survey=("ok",))


async def _answer_and_talk_times(harness: Harness, calls: int) -> list[tuple[float, float]]:
    """Dial PJSIP/1042 ``calls`` times, one after the other: (ring, talk) seconds of each."""
    clock = harness.pbx.clock
    times = []
    for n in range(calls):
        await harness.ari(
            "POST", "/channels/create", endpoint="PJSIP/1042", app="decroche", channelId=f"d{n}"
        )
        await harness.wait_for("StasisStart", n + 1)
        dialled = clock.now()
        await harness.ari("POST", f"/channels/d{n}/dial")
        await harness.wait_for("Dial", n + 1, dialstatus="ANSWER")
        answered = clock.now()
        await harness.wait_for("ChannelHangupRequest", n + 1)
        times.append(
            ((answered - dialled).total_seconds(), (clock.now() - answered).total_seconds())
        )
    return times


async def test_an_agents_ring_and_talk_times_are_drawn_for_each_call(harness: Harness) -> None:
    """People are not metronomes: an agent's answer delay and talk time vary from call to call,
    within the bounds given, and the same seed gives the same draws."""
    await harness.connect()
    drawn = {
        "ring_time": {"median": 6, "spread": 0.6, "low": 2, "high": 20},
        "talk_time": {"median": 20, "spread": 0.5, "low": 5, "high": 50},
        "seed": 7,
    }
    async with harness.session.put(f"{harness.pbx.url}/sim/agents/PJSIP/1042", json=drawn) as r:
        assert r.status == 200 and (await r.json())["ring_time"]["median"] == 6
    first = await _answer_and_talk_times(harness, 6)
    rings, talks = [r for r, _ in first], [t for _, t in first]
    assert len({round(r, 3) for r in rings}) == 6 and len({round(t, 3) for t in talks}) == 6
    assert all(2 <= r <= 20 for r in rings) and all(5 <= t <= 50 for t in talks)
    harness.pbx.add_agent(AgentScript.model_validate({"endpoint": "PJSIP/1042", **drawn}))
    harness.events.clear()
    again = await _answer_and_talk_times(harness, 6)
    # The same draws (to the millisecond: the times are read from the clock's datetimes).
    assert [(round(r, 3), round(t, 3)) for r, t in again] == [
        (round(r, 3), round(t, 3)) for r, t in first
    ]


def test_a_drawn_duration_refuses_bounds_the_wrong_way_round() -> None:
    with pytest.raises(ValidationError, match="high"):
        AgentScript.model_validate(
            {"endpoint": "PJSIP/1", "ring_time": {"median": 5, "low": 9, "high": 3}}
        )

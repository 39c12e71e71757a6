"""The dispatcher: per-call order, bindings, end of call, global and unrouted events."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import pytest

from telephony.ari.dispatch import CallEnded, CallInbox, Dispatcher, routing_keys
from telephony.ari.events import parse_event, parse_event_object
from telephony.ari.models import Event, StasisStart
from telephony.clock import parse_ari_timestamp

WAIT = 5.0
TS = "2026-11-29T01:58:03.224+0000"


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _channel(cid: str, state: str = "Up") -> dict[str, Any]:
    return {
        "id": cid,
        "name": f"PJSIP/{cid}",
        "state": state,
        "protocol_id": "",
        "caller": {"name": "", "number": "0600000001"},
        "connected": {"name": "", "number": ""},
        "accountcode": "",
        "dialplan": {
            "context": "from-callers",
            "exten": "s",
            "priority": 1,
            "app_name": "Stasis",
            "app_data": "bernay",
        },
        "creationtime": TS,
        "language": "fr",
    }


def _event(kind: str, **fields: Any) -> Event:
    return parse_event_object({"type": kind, "timestamp": TS, "application": "bernay", **fields})


class Recorder:
    """Call opener whose calls read their inbox to the end, yielding at random points."""

    def __init__(self, seed: int = 3) -> None:
        self.events: dict[str, list[Event]] = {}
        self.ended: dict[str, bool] = {}
        self.rng = random.Random(seed)

    def open(self, start: StasisStart, inbox: CallInbox):
        self.events[inbox.key] = [start]
        return self.run(inbox)

    async def run(self, inbox: CallInbox) -> None:
        while True:
            try:
                event = await asyncio.wait_for(inbox.get(), WAIT)
            except CallEnded:
                self.ended[inbox.key] = True
                return
            self.events[inbox.key].append(event)
            if self.rng.random() < 0.5:
                await asyncio.sleep(0)


async def test_two_concurrent_calls_keep_their_own_order(traces_dir: Path) -> None:
    lines = _lines(traces_dir / "two-concurrent-calls.jsonl")
    rest = [line for line in lines if line["kind"] == "rest"]
    # What the flow knew when it made each request: which call an agent or a bridge is for.
    agent_call = {
        line["path"].split("/")[3]: line["query"]["caller"]
        for line in rest
        if line["path"].endswith("/dial")
    }
    bridge_call: dict[str, str] = {}
    for line in rest:
        if line["path"].endswith("/addChannel"):
            bridge_call.setdefault(line["path"].split("/")[3], line["query"]["channel"])

    recorder = Recorder()
    dispatcher = Dispatcher(recorder.open)
    rng = random.Random(11)
    expected: dict[str, list[tuple[str, str]]] = {}
    owner: dict[str, str] = {}
    ended: set[str] = set()
    for line in lines:
        if line["kind"] == "rest":
            query, path = line["query"], line["path"]
            if path == "/ari/channels/create":
                dispatcher.bind(query["channelId"], agent_call[query["channelId"]])
                owner[query["channelId"]] = agent_call[query["channelId"]]
            elif path == "/ari/bridges" and line["method"] == "POST":
                dispatcher.bind_bridge(query["bridgeId"], bridge_call[query["bridgeId"]])
            continue
        data = line["data"]
        event = parse_event(json.dumps(data))
        # Independent expectation: the call is the channel's owner (callers own themselves).
        cid = (data.get("channel") or data.get("peer") or {}).get("id")
        call = owner.get(cid, cid) if cid else None
        opening = data["type"] == "StasisStart" and cid == call
        if call is not None and call not in ended and not opening:
            expected.setdefault(call, []).append((data["type"], data["timestamp"]))
            if data["type"] == "StasisEnd" and cid == call:
                ended.add(call)
        dispatcher.dispatch(event)
        if rng.random() < 0.3:
            await asyncio.sleep(0)
    assert await dispatcher.join(WAIT)

    assert sorted(recorder.events) == ["1795917652.115", "1795917653.117"]
    for call, events in recorder.events.items():
        assert isinstance(events[0], StasisStart) and events[0].channel.id == call
        got = [(e.type, e.timestamp) for e in events[1:]]
        want = [(kind, parse_ari_timestamp(ts)) for kind, ts in expected[call]]
        assert got == want, call
        assert recorder.ended[call]
        assert any(e.type == "Dial" for e in events)  # routed by peer.id
    # After each caller's StasisEnd, the agent's hang-up events reach no live call.
    assert dispatcher.counters.unrouted >= 8
    assert dispatcher.counters.calls_opened == 2
    assert dispatcher.active_calls == []


async def test_dialplan_continue_then_new_stasis_start_opens_a_new_call(traces_dir) -> None:
    recorder = Recorder()
    dispatcher = Dispatcher(recorder.open)
    for data in _lines(traces_dir / "dialplan-continue.jsonl"):
        if data["kind"] == "event":
            dispatcher.dispatch(parse_event_object(data["data"]))
            await asyncio.sleep(0)
    assert await dispatcher.join(WAIT)
    starts = [
        line["data"]
        for line in _lines(traces_dir / "dialplan-continue.jsonl")
        if line["kind"] == "event" and line["data"]["type"] == "StasisStart"
    ]
    assert len(starts) >= 2
    assert dispatcher.counters.calls_opened == len(starts)
    assert all(recorder.ended.values())


async def test_agent_dial_events_before_stasis_start_reach_the_call(traces_dir) -> None:
    """Originate: Dial and state changes come before the agent's StasisStart."""
    lines = _lines(traces_dir / "originate-agent-first.jsonl")
    recorder = Recorder()
    dispatcher = Dispatcher(recorder.open)
    caller = None
    for line in lines:
        if line["kind"] == "rest" and line["path"] == "/ari/channels" and line["status"] == 200:
            agent = line["response"]["id"]
            assert caller is not None
            dispatcher.bind(agent, caller)  # the flow binds as soon as it knows the id
        elif line["kind"] == "event":
            event = parse_event_object(line["data"])
            if caller is None and isinstance(event, StasisStart):
                caller = event.channel.id
            dispatcher.dispatch(event)
    assert await dispatcher.join(WAIT)
    events = recorder.events[caller]
    agent_starts = [e for e in events[1:] if isinstance(e, StasisStart)]
    assert agent_starts and agent_starts[0].args[0] == "callback"
    assert [e.type for e in events].index("Dial") < events.index(agent_starts[0])
    assert dispatcher.counters.calls_opened == 1


async def test_playbacks_route_by_target_and_globals_go_to_the_listener() -> None:
    recorder = Recorder()
    seen_global: list[Event] = []
    unrouted: list[Event] = []
    dispatcher = Dispatcher(
        recorder.open, on_global=seen_global.append, on_unrouted=unrouted.append
    )
    dispatcher.dispatch(_event("StasisStart", args=["0612345678"], channel=_channel("c1", "Ring")))
    dispatcher.bind_bridge("b1", "c1")

    def playback(target: str, pid: str) -> dict[str, Any]:
        return {"id": pid, "media_uri": "sound:x", "target_uri": target, "state": "playing"}

    dispatcher.dispatch(_event("PlaybackStarted", playback=playback("bridge:b1", "p1")))
    dispatcher.dispatch(_event("PlaybackFinished", playback=playback("channel:c1", "p2")))
    dispatcher.dispatch(_event("PlaybackFinished", playback=playback("channel:zz", "p3")))
    dispatcher.dispatch(
        _event("DeviceStateChanged", device_state={"name": "PJSIP/agent1", "state": "INUSE"})
    )
    dispatcher.dispatch(
        _event(
            "EndpointStateChange",
            endpoint={
                "technology": "PJSIP",
                "resource": "agent1",
                "state": "online",
                "channel_ids": [],
            },
        )
    )
    dispatcher.dispatch(_event("ChannelVarset", variable="X", value="1", channel=_channel("zz")))
    dispatcher.dispatch(_event("StasisEnd", channel=_channel("c1")))
    assert await dispatcher.join(WAIT)
    assert [e.type for e in recorder.events["c1"]] == [
        "StasisStart",
        "PlaybackStarted",
        "PlaybackFinished",
        "StasisEnd",
    ]
    assert [e.type for e in seen_global] == ["DeviceStateChanged", "EndpointStateChange"]
    assert [e.type for e in unrouted] == ["PlaybackFinished", "ChannelVarset"]
    assert dispatcher.counters.unrouted == 2


async def test_replace_channel_joins_the_replaced_channels_call() -> None:
    recorder = Recorder()
    dispatcher = Dispatcher(recorder.open)
    dispatcher.dispatch(_event("StasisStart", args=["0612345678"], channel=_channel("c1")))
    dispatcher.bind("agent1", "c1")
    dispatcher.dispatch(
        _event(
            "StasisStart", args=[], channel=_channel("local;1"), replace_channel=_channel("agent1")
        )
    )
    dispatcher.dispatch(
        _event("ChannelVarset", variable="X", value="1", channel=_channel("local;1"))
    )
    assert dispatcher.call_of("local;1") == "c1"
    dispatcher.dispatch(_event("StasisEnd", channel=_channel("c1")))
    assert await dispatcher.join(WAIT)
    assert [e.type for e in recorder.events["c1"]] == [
        "StasisStart",
        "StasisStart",
        "ChannelVarset",
        "StasisEnd",
    ]
    assert dispatcher.counters.calls_opened == 1
    assert dispatcher.call_of("local;1") is None


async def test_agent_channel_stays_bound_until_destroyed() -> None:
    """The dial-timeout cause (19) is only in ChannelDestroyed, which follows StasisEnd."""
    recorder = Recorder()
    dispatcher = Dispatcher(recorder.open)
    dispatcher.dispatch(_event("StasisStart", args=["0612345678"], channel=_channel("c1")))
    dispatcher.bind("a1", "c1")
    dispatcher.dispatch(_event("StasisEnd", channel=_channel("a1")))
    dispatcher.dispatch(
        _event(
            "ChannelDestroyed",
            cause=19,
            cause_txt="User alerting, no answer",
            tech_cause=480,
            channel=_channel("a1"),
        )
    )
    assert dispatcher.call_of("a1") is None
    dispatcher.dispatch(_event("StasisEnd", channel=_channel("c1")))
    assert await dispatcher.join(WAIT)
    destroyed = recorder.events["c1"][2]
    assert destroyed.type == "ChannelDestroyed" and destroyed.cause == 19


async def test_declined_and_failing_calls_are_counted_and_forgotten(caplog) -> None:
    async def broken(inbox: CallInbox) -> None:
        await inbox.get()
        raise RuntimeError("flow bug")

    def opener(start: StasisStart, inbox: CallInbox):
        if start.args and start.args[0] == "ignore":
            return None
        if start.args and start.args[0] == "explode":
            raise ValueError("bad call")
        return broken(inbox)

    dispatcher = Dispatcher(opener)
    dispatcher.dispatch(_event("StasisStart", args=["ignore"], channel=_channel("x1")))
    dispatcher.dispatch(_event("StasisStart", args=["explode"], channel=_channel("x2")))
    dispatcher.dispatch(_event("StasisStart", args=["0612"], channel=_channel("x3")))
    dispatcher.dispatch(_event("ChannelVarset", variable="X", value="1", channel=_channel("x3")))
    assert await dispatcher.join(WAIT)
    dispatcher.dispatch(_event("ChannelVarset", variable="X", value="2", channel=_channel("x3")))
    assert dispatcher.counters.calls_declined == 1
    assert dispatcher.counters.calls_failed == 2
    assert dispatcher.counters.calls_opened == 1
    assert dispatcher.counters.unrouted == 1  # the event after the call's task died
    assert "flow bug" in caplog.text
    with pytest.raises(KeyError, match="no live call 'x3'"):
        dispatcher.bind("a", "x3")


async def test_aclose_cancels_calls_and_runs_their_finally() -> None:
    cleaned: list[str] = []

    async def waiting(inbox: CallInbox) -> None:
        try:
            await inbox.get()
            await inbox.get()
        finally:
            cleaned.append(inbox.key)

    dispatcher = Dispatcher(lambda start, inbox: waiting(inbox))
    dispatcher.dispatch(_event("StasisStart", args=[], channel=_channel("c1")))
    dispatcher.dispatch(_event("StasisStart", args=[], channel=_channel("c2")))
    await asyncio.sleep(0)
    assert not await dispatcher.join(0.01)
    await dispatcher.aclose(grace=WAIT)
    assert sorted(cleaned) == ["c1", "c2"]


def test_inbox_get_nowait_and_routing_keys_of_unknown_events() -> None:
    start = _event("StasisStart", args=[], channel=_channel("c1"))
    assert isinstance(start, StasisStart)
    inbox = CallInbox("c1", start)
    assert inbox.get_nowait() is None
    inbox._put(start)
    inbox._end()
    assert inbox.get_nowait() is start
    with pytest.raises(CallEnded, match="c1"):
        inbox.get_nowait()
    unknown = parse_event(
        json.dumps(
            {
                "type": "ChannelTeleported",
                "timestamp": TS,
                "application": "a",
                "channel": {"id": "c9"},
                "bridge": {"id": "b9"},
            }
        )
    )
    assert list(routing_keys(unknown)) == [("channel", "c9"), ("bridge", "b9")]

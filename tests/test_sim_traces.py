"""Conformance of the simulated PBX with the traces recorded on a real Asterisk 22.

Each recorded scenario is replayed: the same REST requests in the same order (recorded ids mapped
to live ones, each request sent once the events that preceded it on the recording have arrived
and its recorded time has come), against a simulator whose scripted caller/agents behave as the
people of the recording. We then compare statuses (and error bodies) and the sequence of event
types per channel, ignoring ids, times and ChannelVarset. Every body and event the simulator sent
is validated against the api-docs models.

The replays run in virtual time: each request goes out at its recorded offset exactly, and the
scripted people act at their recorded delays, whatever the machine's load.

Not replayed: the three raw-* files (no REST lines). ``;2`` halves of Local channels are
dialplan-side noise the simulator does not reproduce, so they are left out of the comparison,
except in the blind transfers where the ``;2`` half enters Stasis as a new call and is driven by
the app like any caller.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from telephony.ari.api_schema import load_api_schema
from telephony.simulator import AgentScript, CallerScript, KeyPress, SimulatedPbx
from telephony.simulator.operations import OPERATIONS, resource_of
from telephony.simulator.swagger import SwaggerModels
from telephony.virtual_time import LoopClock

pytestmark = pytest.mark.virtual_time

# Bounds in the PBX's (virtual) seconds: a replay's longest silence, a whole replay.
WAIT = 60.0
REPLAY_LIMIT = 600.0
APP = "bernay-test"
USER, PASSWORD = "ceo", "ceo-secret"
ONE = {"caller_name": "Caller One", "caller_number": "0600000001", "endpoint": "PJSIP/caller1"}


def agent(n: int, **fields: Any) -> AgentScript:
    names = {1: "Agent One", 2: "Agent Two", 3: "Agent Three"}
    return AgentScript(endpoint=f"PJSIP/agent{n}", name=names[n], number=f"20{n}", **fields)


def caller(**fields: Any) -> CallerScript:
    base = {**ONE, "dialled": "0612345678", "patience": 600.0, "talk_time": 600.0}
    base.update(fields)
    return CallerScript(**base)


@dataclass
class Setup:
    callers: list[tuple[float, CallerScript]] = field(default_factory=list)
    agents: list[AgentScript] = field(default_factory=list)
    media: dict[str, float] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)
    # The ;2 half of a Local pair is in Stasis (blind transfer): compare its events too.
    local_peers_in_stasis: bool = False


SETUPS: dict[str, Setup] = {
    "ivr-then-agent-answers": Setup(
        [(0.0, caller(talk_time=5.83, keys=(
            KeyPress(digits="2", after=1.98, media="sound:vm-options"),)))],
        [agent(1, ring_time=4.02)],
        {"sound:indigen-welcome": 1.889, "sound:vm-options": 10.0},
    ),
    "agent-no-answer-overflow": Setup(
        [(0.0, caller())],
        [agent(1, response="no_answer"), agent(2, ring_time=2.02, talk_time=6.0)],
    ),
    "agent-busy": Setup(
        [(0.0, caller())], [agent(1, response="busy")], {"sound:vm-nobodyavail": 4.27}
    ),
    "agent-dial-timeout": Setup([(0.0, caller())], [agent(1, response="no_answer")]),
    "agent-unregistered": Setup(
        [(0.0, caller())], [agent(3, registered=False)], {"sound:vm-nobodyavail": 4.27}
    ),
    "caller-hangup-during-prompt": Setup(
        [(0.0, caller(hangup_after=4.02))], [], {"sound:conf-adminmenu": 26.0}
    ),
    "caller-abandons-while-ringing": Setup(
        [(0.0, caller(patience=6.03))], [agent(1, response="no_answer")]
    ),
    "agent-first-hangup-survey": Setup(
        [(0.0, caller(survey=("4",), survey_delay=2.83))],
        [agent(1, ring_time=2.01, talk_time=5.0)],
        {"sound:vm-review": 20.0, "sound:queue-thankyou": 2.55},
    ),
    "moh-while-waiting": Setup([(0.0, caller())]),
    "websocket-reconnect": Setup(
        [
            (0.1, caller(keys=(KeyPress(digits="1", after=3.0, on="answer"),))),
            (3.5, caller(caller_name="Caller Two", caller_number="0600000002",
                         endpoint="PJSIP/caller2")),
        ],
        [],
        {"sound:vm-press": 1.0, "sound:vm-goodbye": 1.53},
    ),
    "two-concurrent-calls": Setup(
        [
            (0.0, caller(hangup_after=9.02)),
            (0.706, caller(caller_name="Caller Two", caller_number="0600000002",
                           endpoint="PJSIP/caller2", dialled="0698765432", hangup_after=9.01)),
        ],
        [agent(1, ring_time=2.01), agent(2, ring_time=3.01)],
    ),
    "dialplan-continue": Setup(
        [(0.0, caller())], [], {"sound:pbx-transfer": 1.548, "sound:vm-goodbye": 1.53}
    ),
    "originate-agent-first": Setup([(0.0, caller())], [agent(1, ring_time=2.525)]),
    "caller-cancel-before-answer": Setup([(0.0, caller(patience=3.02))]),
    "bridge-destroyed-delivery": Setup(),
    "rest-errors": Setup([], [agent(1)], {"sound:hello-world": 1.42}, {"sound:no-such-sound"}),
    "blind-transfer": Setup(
        [(0.0, caller())],
        [agent(1, ring_time=1.011, transfer_to="0699000000", transfer_after=4.02),
         agent(2, ring_time=1.515, talk_time=4.013)],
        local_peers_in_stasis=True,
    ),
    "blind-transfer-ari-only": Setup(
        [(0.0, caller())],
        [agent(1, ring_time=1.013, transfer_to="0699000000", transfer_after=4.023),
         agent(2, ring_time=1.512, talk_time=4.015)],
        local_peers_in_stasis=True,
    ),
}  # fmt: skip


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def at(line: dict[str, Any]) -> float:
    return datetime.fromisoformat(line["at"]).timestamp()


_SUFFIX = re.compile(r"-[0-9a-f]{8}(;[12])?$")


def channel_key(name: str) -> str:
    """``PJSIP/agent1-00000032`` -> ``PJSIP/agent1``; Local halves keep their ``;1``/``;2``."""
    match = _SUFFIX.search(name)
    if match is None:
        return name
    return name[: match.start()] + (match.group(1) or "")


def event_subject(event: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """Which channel (or bridge) an event is about, for per-channel comparison."""
    channel = event.get("channel") or event.get("peer")
    if channel is None and "referred_by" in event:
        channel = event["referred_by"]["source_channel"]  # ChannelTransfer: the REFER's channel
    if channel is not None:
        return channel["id"], channel
    playback = event.get("playback")
    if playback is not None:
        return playback["target_uri"].split(":", 1)[1], None
    bridge = event.get("bridge")
    if bridge is not None:
        return "bridge:" + bridge["id"], None
    return "app", None


def comparable(event: dict[str, Any], local_peers: bool = False) -> bool:
    if event["type"] == "ChannelVarset":
        return False
    channel = event.get("channel") or event.get("peer")
    return local_peers or not (channel is not None and channel["name"].endswith(";2"))


class IdMap:
    """Recorded ids -> live ids, by channel name key and order of appearance."""

    def __init__(self) -> None:
        self.mapping: dict[str, str] = {}
        self._seen: dict[str, dict[str, list[str]]] = {"rec": defaultdict(list), "live": {}}
        self._live: dict[str, list[str]] = defaultdict(list)

    def see(self, side: str, channel: dict[str, Any]) -> None:
        key = channel_key(channel["name"])
        ids = self._seen["rec"][key] if side == "rec" else self._live[key]
        if channel["id"] not in ids:
            ids.append(channel["id"])
        recorded = self._seen["rec"][key]
        for index, rec_id in enumerate(recorded):
            if index < len(self._live[key]):
                self.mapping.setdefault(rec_id, self._live[key][index])

    def add(self, recorded: str, live: str) -> None:
        self.mapping.setdefault(recorded, live)

    def apply(self, text: str) -> str:
        for rec_id in sorted(self.mapping, key=len, reverse=True):
            text = re.sub(rf"(?<![\w.-]){re.escape(rec_id)}(?![\w-])", self.mapping[rec_id], text)
        return text


class Replay:
    def __init__(self, name: str, lines: list[dict[str, Any]], setup: Setup, models: SwaggerModels):
        self.name = name
        self.lines = lines
        self.setup = setup
        self.models = models
        self.clock = LoopClock(datetime.fromisoformat(lines[0]["at"]))
        self.pbx = SimulatedPbx(clock=self.clock, app=APP, username=USER, password=PASSWORD)
        self.live_events: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()
        self.ids = IdMap()
        self.statuses: list[tuple[str, int, int, Any, Any]] = []
        self.problems: list[str] = []
        self.handles: list[Any] = []
        self.extra_ws: dict[str, aiohttp.ClientWebSocketResponse] = {}

    def comparable(self, event: dict[str, Any]) -> bool:
        return comparable(event, self.setup.local_peers_in_stasis)

    def auth(self) -> dict[str, str]:
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    async def run(self) -> None:
        for script in self.setup.agents:
            self.pbx.add_agent(script)
        self.pbx.set_media_durations(self.setup.media)
        self.pbx.engine.media.missing.update(self.setup.missing)
        await self.pbx.start("127.0.0.1", 0)
        try:
            async with aiohttp.ClientSession() as session:
                self.session = session
                await self._connect()
                await self._play()
                await self._close_ws()
                for ws in self.extra_ws.values():
                    await ws.close()
        finally:
            await self.pbx.stop()

    async def _connect(self) -> None:
        url = f"{self.pbx.url}/ari/events?app={APP}&subscribeAll=false"
        self.ws: aiohttp.ClientWebSocketResponse | None = await self.session.ws_connect(
            url, headers=self.auth()
        )
        self.reader = asyncio.create_task(self._read(self.ws))

    async def _close_ws(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            await self.reader
            self.ws = None
            # The server has run its disconnect: Asterisk drops the events of an app away.
            await self._until(lambda: not self.pbx.stasis.is_active(APP), "app away")

    async def _until(self, done: Callable[[], bool], what: str) -> None:
        """Wait for a state of the PBX it has no event for (a few virtual milliseconds)."""
        async with asyncio.timeout(WAIT):
            while not done():  # noqa: ASYNC110 - polling the simulator's state
                await asyncio.sleep(0.001)
        assert done(), f"{self.name}: {what}"

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            event = json.loads(message.data)
            problems = self.models.validate_event(event)
            if problems:
                self.problems.append(f"event {event['type']}: {problems}")
            channel = event.get("channel") or event.get("peer")
            if channel is not None:
                self.ids.see("live", channel)
            self.live_events.append(event)
            self.arrived.set()

    async def _wait_events(self, count: int, what: str) -> None:
        deadline = asyncio.get_running_loop().time() + WAIT
        while sum(1 for e in self.live_events if self.comparable(e)) < count:
            self.arrived.clear()
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(
                    f"{self.name}: waiting for {count} events before {what}, got "
                    f"{[e['type'] for e in self.live_events if self.comparable(e)]}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), remaining)

    async def _play(self) -> None:
        start_rec = at(self.lines[0])
        start_live = asyncio.get_running_loop().time()
        recorded = [line for line in self.lines if line["kind"] == "event"]
        for line in recorded:
            channel = line["data"].get("channel") or line["data"].get("peer")
            if channel is not None:
                self.ids.see("rec", channel)
        for offset, script in self.setup.callers:
            asyncio.get_running_loop().call_later(
                offset, lambda s=script: self.handles.append(self.pbx.place_call(s))
            )
        for line in self.lines:
            if line["kind"] == "event":
                continue
            due = start_live + (at(line) - start_rec)
            await asyncio.sleep(max(0.0, due - asyncio.get_running_loop().time()))
            before = sum(1 for e in recorded if at(e) < at(line) and self.comparable(e["data"]))
            await self._wait_events(before, f"{line.get('method')} {line.get('path')}")
            if line["kind"] == "ws":
                if line["action"].startswith("closed"):
                    await self._close_ws()
                elif self.ws is None:
                    await self._connect()
                continue
            await self._rest(line)
        total = sum(1 for e in recorded if self.comparable(e["data"]))
        await self._wait_events(total, "the end")
        # Anything the PBX would still send (a phone hangs up 0.3 s after a NOTIFY) shows up now.
        await asyncio.sleep(1.0)

    async def _rest(self, line: dict[str, Any]) -> None:
        path = self.ids.apply(line["path"])
        query = {k: self.ids.apply(v) for k, v in line["query"].items()}
        headers = {} if "api_key" in query or line["status"] == 401 else self.auth()
        url = self.pbx.url + path
        if path == "/ari/events":
            await self._events_request(line, url, query, headers)
            return
        match = re.match(r"/ari/applications/([^/]+)$", path)
        if match and line["status"] == 404 and match.group(1) in self.extra_ws:
            name = match.group(1)
            await self.extra_ws.pop(name).close()
            # Nobody listens to it any more: Asterisk destroys the app.
            await self._until(lambda: name not in self.pbx.stasis.apps, f"{name} destroyed")
        body = line["body"]
        data: Any = None
        if isinstance(body, str):
            data = body.encode()
        elif body is not None:
            data = json.dumps(body).encode()
            headers = {**headers, "Content-Type": "application/json"}
        async with self.session.request(
            line["method"], url, params=query, data=data, headers=headers
        ) as response:
            text = await response.text()
            live_body = (
                json.loads(text) if text and response.content_type == "application/json" else None
            )
        self.statuses.append(
            (
                f"{line['method']} {line['path']}",
                line["status"],
                response.status,
                line["response"],
                live_body,
            )
        )
        self._learn_ids(line["response"], live_body)
        self._validate_body(line, live_body)

    async def _events_request(
        self, line: dict[str, Any], url: str, query: dict[str, str], headers: dict[str, str]
    ) -> None:
        if line["status"] == 101:
            ws = await self.session.ws_connect(url, params=query, headers=headers)
            self.extra_ws[query["app"]] = ws
            status = 101
            try:
                # Virtual time stands still until what the server sent on connecting has
                # arrived: 50 ms of it tell that nothing was sent.
                await asyncio.wait_for(ws.receive(), 0.05)
                self.problems.append("a message arrived on a new WebSocket")
            except TimeoutError:
                pass
        else:
            async with self.session.get(url, params=query, headers=headers) as response:
                status = response.status
        self.statuses.append((f"GET {line['path']}", line["status"], status, None, None))

    def _learn_ids(self, recorded: Any, live: Any) -> None:
        if isinstance(recorded, dict) and isinstance(live, dict) and "id" in recorded:
            self.ids.add(recorded["id"], live["id"])
            if "name" in live and "state" in live:
                self.ids.see("live", live)

    def _validate_body(self, line: dict[str, Any], body: Any) -> None:
        if body is None or line["status"] >= 400:
            return
        kind = {"channels": "Channel", "bridges": "Bridge", "playbacks": "Playback",
                "endpoints": "Endpoint", "applications": "Application"}.get(
            line["path"].split("/")[2])  # fmt: skip
        if kind is None:
            return
        if line["path"].endswith("/variable"):
            kind = "Variable"
        if "/play" in line["path"]:
            kind = "Playback"
        type_name = f"List[{kind}]" if isinstance(body, list) else kind
        problems = self.models.validate(body, type_name)
        if problems:
            self.problems.append(f"{line['method']} {line['path']}: {problems}")

    def per_channel(
        self, events: list[dict[str, Any]], mapping: dict[str, str] | None
    ) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = defaultdict(list)
        for event in events:
            if not self.comparable(event):
                continue
            subject, _ = event_subject(event)
            if mapping is not None:
                if subject.startswith("bridge:"):
                    pass
                else:
                    subject = mapping.get(subject, f"unmapped:{subject}")
            groups[subject].append(label(event))
        return {subject: canonical(types) for subject, types in groups.items()}


def label(event: dict[str, Any]) -> str:
    if event["type"] == "Dial":
        return f"Dial({event['dialstatus']})"
    if event["type"] == "ChannelStateChange":
        return f"ChannelStateChange({event['channel']['state']})"
    return str(event["type"])


RINGING_PAIR = ("ChannelStateChange(Ringing)", "Dial(RINGING)")


def canonical(types: list[str]) -> list[str]:
    """Dial RINGING and the Ringing state change come in either order on Asterisk."""
    result = list(types)
    for index in range(len(result) - 1):
        if (result[index], result[index + 1]) == RINGING_PAIR[::-1]:
            result[index], result[index + 1] = RINGING_PAIR
    return result


REPLAYED = sorted(SETUPS)


@pytest.fixture(scope="module")
def models() -> SwaggerModels:
    return SwaggerModels.load()


@pytest.mark.parametrize("scenario", REPLAYED)
async def test_trace_replays_identically(
    scenario: str, traces_dir: Path, models: SwaggerModels
) -> None:
    lines = load(traces_dir / f"{scenario}.jsonl")
    replay = Replay(scenario, lines, SETUPS[scenario], models)
    await asyncio.wait_for(replay.run(), REPLAY_LIMIT)

    mismatched = [
        (what, rec, live, rec_body, live_body)
        for what, rec, live, rec_body, live_body in replay.statuses
        if rec != live or (rec >= 400 and isinstance(rec_body, dict) and rec_body != live_body)
    ]
    assert not mismatched, f"{scenario}: REST answers differ: {mismatched}"
    assert len(replay.statuses) == sum(1 for line in lines if line["kind"] == "rest")

    recorded = replay.per_channel(
        [line["data"] for line in lines if line["kind"] == "event"], replay.ids.mapping
    )
    live = replay.per_channel(replay.live_events, None)
    assert recorded == live, f"{scenario}: per-channel event types differ"
    assert not replay.problems, replay.problems


async def test_websocket_down_drops_events_and_declines_new_calls(
    traces_dir: Path, models: SwaggerModels
) -> None:
    replay = Replay(
        "websocket-reconnect",
        load(traces_dir / "websocket-reconnect.jsonl"),
        SETUPS["websocket-reconnect"],
        models,
    )
    await asyncio.wait_for(replay.run(), REPLAY_LIMIT)
    first, second = replay.handles
    assert second.ended["how"] == "rejected_app_not_active"
    assert second.channel_id is None
    # caller1 pressed 1 while the app was away: recorded by the PBX, never delivered.
    assert [p["digit"] for p in first.pressed] == ["1"]
    assert not any(e["type"] == "ChannelDtmfReceived" for e in replay.live_events)
    assert replay.pbx.stasis.dropped >= 3


def test_served_operations_match_api_docs() -> None:
    documented: dict[tuple[str, str], tuple[str, set[str]]] = {}
    for operation in load_api_schema()["operations"]:
        params = {p["name"] for p in operation["parameters"] if p["paramType"] != "path"}
        documented[(operation["method"], operation["path"])] = (operation["resource"], params)
    assert len(documented) > 100
    for operation in OPERATIONS:
        key = (operation.method, operation.path)
        assert key in documented, f"{key} is not an Asterisk operation"
        resource, params = documented[key]
        assert set(operation.params) == params, (
            f"{key}: accepts {sorted(operation.params)}, Asterisk {sorted(params)}"
        )
        assert resource_of(operation) == resource, key


def test_validator_accepts_recorded_events_and_rejects_broken_ones(
    traces_dir: Path, models: SwaggerModels
) -> None:
    events = [
        line["data"]
        for line in load(traces_dir / "ivr-then-agent-answers.jsonl")
        if line["kind"] == "event"
    ]
    assert all(models.validate_event(e) == [] for e in events)
    broken = json.loads(json.dumps(events[0]))
    del broken["channel"]["state"]
    broken["args"] = "0612345678"
    broken["surprise"] = 1
    problems = models.validate_event(broken)
    assert any("state: required" in p for p in problems)
    assert any("args: expected a list" in p for p in problems)
    assert any("surprise: field not in the model" in p for p in problems)
    assert models.validate({"name": "x", "state": "BOGUS"}, "DeviceState") == [
        "$.state: 'BOGUS' not one of ['UNKNOWN', 'NOT_INUSE', 'INUSE', 'BUSY', 'INVALID', "
        "'UNAVAILABLE', 'RINGING', 'RINGINUSE', 'ONHOLD']"
    ]

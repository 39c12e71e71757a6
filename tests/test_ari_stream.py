"""The event WebSocket: reconnection, takeover, keep-alive, bad frames, outbound mode.

In virtual time: backoffs, pings and bounds last exactly what they say, whatever the load."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import socket
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from telephony.ari.client import AriClient
from telephony.ari.errors import Unauthorized
from telephony.ari.models import ApplicationReplaced, Event, StasisStart
from telephony.ari.outbound import OutboundEventEndpoint
from telephony.ari.stream import EventStream, StreamEnd, backoff_delay
from telephony.ari.traces import trace_events

pytestmark = pytest.mark.virtual_time

APP = "bernay-test"
USER, PASSWORD = "decroche", "secret"
AUTH = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
WAIT = 5.0  # bound of every wait, in virtual seconds; nothing here takes more than a few backoffs


def _frames(traces_dir: Path, name: str) -> list[str]:
    return [json.dumps(e) for e in trace_events(traces_dir / name)]


class FakeAsterisk:
    """ARI WebSocket + ping; the test pushes frames and drops connections at will."""

    def __init__(self) -> None:
        self.sockets: list[web.WebSocketResponse] = []
        self.connected = asyncio.Event()
        self.handshakes: list[dict[str, str]] = []
        self.ping_status = 200
        self.pings = 0

    async def events(self, request: web.Request) -> web.StreamResponse:
        self.handshakes.append(dict(request.query))
        if request.headers.get("Authorization") != AUTH:
            return web.json_response({"message": "Authentication required"}, status=401)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        self.connected.set()
        async for _ in ws:
            pass
        return ws

    async def ping(self, request: web.Request) -> web.Response:
        self.pings += 1
        if self.ping_status != 200:
            return web.json_response({"message": "busy"}, status=self.ping_status)
        return web.json_response(
            {"asterisk_id": "02:fc", "ping": "pong", "timestamp": "2026-11-29T01:58:03.224+0000"}
        )

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/ari/events", self.events)
        app.router.add_get("/ari/asterisk/ping", self.ping)
        return app

    async def wait_socket(self, count: int) -> web.WebSocketResponse:
        await _until(lambda: len(self.sockets) >= count, f"{count} connection(s)")
        return self.sockets[count - 1]


async def _until(predicate, what: str) -> None:
    """Poll counters the code under test updates (it exposes no event for each of them)."""
    async with asyncio.timeout(WAIT):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    assert predicate(), what


def _stream(client: AriClient, got: list[Event], **kwargs) -> EventStream:
    kwargs.setdefault("backoff_base", 0.01)
    kwargs.setdefault("backoff_cap", 0.05)
    kwargs.setdefault("rng", random.Random(7))
    return EventStream(client, got.append, **kwargs)


def test_backoff_retries_at_once_then_doubles_up_to_the_cap() -> None:
    rng = random.Random(1)
    delays = [backoff_delay(n, rng, base=0.05, cap=1.0) for n in range(12)]
    assert delays[0] == 0.0
    assert 0.025 <= delays[1] <= 0.05
    assert 0.05 <= delays[2] <= 0.1
    assert all(0.5 <= d <= 1.0 for d in delays[7:])
    assert backoff_delay(10_000, rng) <= 1.0


async def test_reconnects_resyncs_and_events_flow_again(aiohttp_server, traces_dir) -> None:
    fake = FakeAsterisk()
    server = await aiohttp_server(fake.app())
    frames = _frames(traces_dir, "websocket-reconnect.jsonl")
    got: list[Event] = []
    resyncs: list[int] = []

    async with AriClient(str(server.make_url("/")), USER, PASSWORD, APP) as client:

        async def on_reconnect() -> None:
            resyncs.append(len(got))

        stream = _stream(client, got, on_reconnect=on_reconnect)
        runner = asyncio.create_task(stream.run())
        first = await fake.wait_socket(1)
        assert fake.handshakes[0] == {"app": APP, "subscribeAll": "false"}
        for frame in frames[:3]:
            await first.send_str(frame)
        await _until(lambda: len(got) == 3, "first events")

        await first.close()  # Asterisk restarts, or the network drops
        second = await fake.wait_socket(2)
        await _until(lambda: resyncs == [3], "on_reconnect called once")
        for frame in frames[3:]:
            await second.send_str(frame)
        await _until(lambda: len(got) == len(frames), "events after the reconnect")

        assert stream.connected
        stream.stop()
        assert await asyncio.wait_for(runner, WAIT) is StreamEnd.STOPPED
    assert [json.loads(f)["type"] for f in frames] == [e.type for e in got]
    assert stream.counters.connects == 2
    assert stream.counters.reconnects == 1
    assert stream.counters.frames == len(frames)
    assert not stream.connected


async def test_application_replaced_stops_without_fighting(aiohttp_server) -> None:
    fake = FakeAsterisk()
    server = await aiohttp_server(fake.app())
    got: list[Event] = []
    async with AriClient(str(server.make_url("/")), USER, PASSWORD, APP) as client:
        stream = _stream(client, got)
        runner = asyncio.create_task(stream.run())
        ws = await fake.wait_socket(1)
        await ws.send_str(
            json.dumps(
                {
                    "type": "ApplicationReplaced",
                    "application": APP,
                    "timestamp": "2026-11-29T01:58:03.224+0000",
                }
            )
        )
        assert await asyncio.wait_for(runner, WAIT) is StreamEnd.REPLACED
    assert [type(e) for e in got] == [ApplicationReplaced]
    await asyncio.sleep(1.0)  # 20 times the longest backoff (0.05 s)
    assert len(fake.sockets) == 1  # no reconnection attempt
    assert stream.counters.reconnects == 0


async def test_malformed_frames_are_counted_and_skipped(aiohttp_server, traces_dir) -> None:
    fake = FakeAsterisk()
    server = await aiohttp_server(fake.app())
    good = _frames(traces_dir, "ivr-then-agent-answers.jsonl")[0]
    got: list[Event] = []
    async with AriClient(str(server.make_url("/")), USER, PASSWORD, APP) as client:
        stream = _stream(client, got)
        runner = asyncio.create_task(stream.run())
        ws = await fake.wait_socket(1)
        for frame in ("{truncated", "[]", '{"type":"Dial"}', good):
            await ws.send_str(frame)
        await _until(lambda: len(got) == 1, "the good event")
        stream.stop()
        assert await asyncio.wait_for(runner, WAIT) is StreamEnd.STOPPED
    assert isinstance(got[0], StasisStart)
    assert stream.counters.malformed == 3
    assert stream.counters.frames == 4
    assert stream.counters.reconnects == 0


async def test_a_failing_sink_does_not_kill_the_stream(aiohttp_server, traces_dir) -> None:
    fake = FakeAsterisk()
    server = await aiohttp_server(fake.app())
    frames = _frames(traces_dir, "agent-busy.jsonl")[:4]
    got: list[Event] = []

    def sink(event: Event) -> None:
        got.append(event)
        if len(got) == 1:
            raise RuntimeError("listener bug")

    async with AriClient(str(server.make_url("/")), USER, PASSWORD, APP) as client:
        stream = EventStream(client, sink)
        runner = asyncio.create_task(stream.run())
        ws = await fake.wait_socket(1)
        for frame in frames:
            await ws.send_str(frame)
        await _until(lambda: len(got) == 4, "all events despite the failing sink")
        stream.stop()
        await asyncio.wait_for(runner, WAIT)
    assert stream.counters.sink_errors == 1


async def test_wrong_credentials_fail_at_once(aiohttp_server) -> None:
    fake = FakeAsterisk()
    server = await aiohttp_server(fake.app())
    async with AriClient(str(server.make_url("/")), USER, "wrong", APP) as client:
        stream = _stream(client, [])
        with pytest.raises(Unauthorized, match="401"):
            await asyncio.wait_for(stream.run(), WAIT)
    assert len(fake.handshakes) == 1


async def test_keeps_retrying_until_asterisk_is_up(aiohttp_server) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    fake = FakeAsterisk()
    async with AriClient(f"http://127.0.0.1:{port}", USER, PASSWORD, APP) as client:
        stream = _stream(client, [])
        runner = asyncio.create_task(stream.run())
        await _until(lambda: stream.counters.connect_failures >= 3, "failed attempts")
        await aiohttp_server(fake.app(), port=port)
        assert await stream.wait_connected(WAIT)
        stream.stop()
        assert await asyncio.wait_for(runner, WAIT) is StreamEnd.STOPPED
    assert stream.counters.connects == 1
    assert stream.counters.reconnects == 0  # the first connection is not a reconnection


async def test_rest_ping_keeps_watch_without_dropping_the_socket(aiohttp_server) -> None:
    fake = FakeAsterisk()
    server = await aiohttp_server(fake.app())
    async with AriClient(str(server.make_url("/")), USER, PASSWORD, APP) as client:
        stream = _stream(client, [], ping_interval=0.01, ping_timeout=1.0)
        runner = asyncio.create_task(stream.run())
        await _until(lambda: stream.counters.pings_ok >= 2, "pings")
        assert stream.healthy
        fake.ping_status = 503
        await _until(lambda: stream.counters.pings_failed >= 2, "failed pings")
        assert stream.connected and not stream.healthy
        fake.ping_status = 200
        await _until(lambda: stream.healthy, "healthy again")
        stream.stop()
        await asyncio.wait_for(runner, WAIT)
    assert len(fake.sockets) == 1


async def test_stop_before_connecting_returns_at_once() -> None:
    async with AriClient("http://127.0.0.1:9", USER, PASSWORD, APP) as client:
        stream = _stream(client, [])
        stream.stop()
        assert await asyncio.wait_for(stream.run(), WAIT) is StreamEnd.STOPPED
    with pytest.raises(ValueError, match="heartbeat"):
        EventStream(client, print, heartbeat=0)


async def test_outbound_websocket_feeds_the_same_pipeline(aiohttp_client, traces_dir) -> None:
    frames = _frames(traces_dir, "two-concurrent-calls.jsonl")[:10]
    got: list[Event] = []
    endpoint = OutboundEventEndpoint("asterisk", "pw", got.append)
    app = web.Application()
    app.router.add_get("/ari/outbound", endpoint.handle)
    client = await aiohttp_client(app)
    token = base64.b64encode(b"asterisk:pw").decode()

    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ari/outbound", protocols=("ari",))
    assert refused.value.status == 401

    ws = await client.ws_connect(
        "/ari/outbound", protocols=("ari",), headers={"Authorization": f"Basic {token}"}
    )
    assert ws.protocol == "ari"
    for frame in [*frames, "not json"]:
        await ws.send_str(frame)
    await _until(lambda: endpoint.counters.frames == 11, "frames read")
    assert endpoint.open_connections == 1
    await ws.close()
    await _until(lambda: endpoint.open_connections == 0, "connection closed")
    assert [e.type for e in got] == [json.loads(f)["type"] for f in frames]
    assert endpoint.counters.malformed == 1
    assert endpoint.counters.connects == 1

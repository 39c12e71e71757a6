"""The REST client against a small aiohttp server answering exactly like the recorded Asterisk."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from telephony.ari import errors as e
from telephony.ari.client import AriClient, media_list
from telephony.ari.models import Bridge, Channel, Playback
from telephony.ari.traces import RestExchange, trace_rest

APP = "bernay-test"
USER, PASSWORD = "decroche", "s3cret:with-colon"
EXPECTED_AUTH = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


class ReplayAri:
    """Answers requests with the recorded answers, in order, and checks each request."""

    def __init__(self, exchanges: list[RestExchange]) -> None:
        self.expected = list(exchanges)
        self.seen: list[tuple[str, str, dict[str, str], Any]] = []
        self.problems: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        query = dict(request.query)
        decoded = json.loads(body) if body else None
        self.seen.append((request.method, request.path, query, decoded))
        if request.headers.get("Authorization") != EXPECTED_AUTH:
            self.problems.append(f"bad auth header on {request.path}")
        if PASSWORD in str(request.url) or "api_key" in query:
            self.problems.append(f"credentials in URL {request.url}")
        if not self.expected:
            self.problems.append(f"unexpected request {request.method} {request.path}")
            return web.json_response({"message": "no more answers"}, status=599)
        ex = self.expected.pop(0)
        got = (request.method, request.path, query, decoded)
        want = (ex.method, ex.path, ex.query, ex.body)
        if got != want:
            self.problems.append(f"request {got} != recorded {want}")
        if ex.response is None:
            return web.Response(status=ex.status)
        if isinstance(ex.response, str):
            return web.Response(status=ex.status, text=ex.response, content_type="text/html")
        return web.json_response(ex.response, status=ex.status)


async def _serve(aiohttp_server, handler) -> str:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = await aiohttp_server(app)
    return str(server.make_url("/"))


def _typed_call(client: AriClient, ex: RestExchange) -> Callable[[], Awaitable[Any]] | None:
    """The typed client call that should send exactly ``ex``'s request (None if there is none)."""
    parts = ex.path.removeprefix("/ari/").split("/")
    q = dict(ex.query)
    variables = ex.body.get("variables") if isinstance(ex.body, dict) else None

    def opt_int(name: str) -> int | None:
        return int(q[name]) if name in q else None

    match ex.method, parts:
        case "POST", ["channels", cid, "answer"]:
            return lambda: client.answer(cid)
        case "POST", ["channels", cid, "ring"]:
            return lambda: client.ring(cid)
        case "DELETE", ["channels", cid, "ring"]:
            return lambda: client.ring_stop(cid)
        case "POST", ["channels", cid, "play"] if "media" in q:
            return lambda: client.play(
                cid, q["media"].split(","), lang=q.get("lang"), playback_id=q.get("playbackId")
            )
        case "DELETE", ["playbacks", pid]:
            return lambda: client.stop_playback(pid)
        case "POST", ["channels", "create"] if q.get("app") == APP and "endpoint" in q:
            return lambda: client.create_channel(
                q["endpoint"],
                channel_id=q.get("channelId"),
                app_args=q.get("appArgs"),
                other_channel_id=q.get("otherChannelId"),
                variables=variables,
            )
        case "POST", ["channels"] if q.get("app") == APP and "endpoint" in q:
            return lambda: client.originate(
                q["endpoint"],
                channel_id=q.get("channelId"),
                app_args=q.get("appArgs"),
                caller_id=q.get("callerId"),
                ring_timeout=opt_int("timeout"),
                other_channel_id=q.get("otherChannelId"),
                variables=variables,
            )
        case "POST", ["channels", cid, "dial"]:
            return lambda: client.dial(cid, caller=q.get("caller"), ring_timeout=opt_int("timeout"))
        case "DELETE", ["channels", cid]:
            return lambda: client.hangup(cid, q.get("reason"))
        case "GET", ["channels"]:
            return client.list_channels
        case "GET", ["channels", cid]:
            return lambda: client.get_channel(cid)
        case "POST", ["channels", cid, "continue"]:
            return lambda: client.continue_in_dialplan(
                cid,
                context=q.get("context"),
                extension=q.get("extension"),
                priority=opt_int("priority"),
            )
        case "POST", ["channels", cid, "moh"]:
            return lambda: client.moh_start(cid, q.get("mohClass"))
        case "DELETE", ["channels", cid, "moh"]:
            return lambda: client.moh_stop(cid)
        case "POST", ["channels", cid, "silence"]:
            return lambda: client.silence_start(cid)
        case "DELETE", ["channels", cid, "silence"]:
            return lambda: client.silence_stop(cid)
        case "POST", ["channels", cid, "hold"]:
            return lambda: client.hold(cid)
        case "DELETE", ["channels", cid, "hold"]:
            return lambda: client.unhold(cid)
        case "POST", ["channels", cid, "variable"] if "variable" in q:
            return lambda: client.set_variable(cid, q["variable"], q["value"])
        case "GET", ["channels", cid, "variable"] if "variable" in q:
            return lambda: client.get_variable(cid, q["variable"])
        case "POST", ["channels", cid, "transfer_progress"]:
            return lambda: client.transfer_progress(cid, q["states"])
        case "POST", ["bridges"] if set(q) <= {"type", "bridgeId", "name"}:
            return lambda: client.create_bridge(
                q.get("type", "mixing"), bridge_id=q.get("bridgeId"), name=q.get("name")
            )
        case "GET", ["bridges"]:
            return client.list_bridges
        case "GET", ["bridges", bid]:
            return lambda: client.get_bridge(bid)
        case "POST", ["bridges", bid, "addChannel"] if "channel" in q:
            return lambda: client.add_channel(bid, q["channel"].split(","))
        case "POST", ["bridges", bid, "removeChannel"]:
            return lambda: client.remove_channel(bid, q["channel"])
        case "DELETE", ["bridges", bid]:
            return lambda: client.destroy_bridge(bid)
        case "POST", ["bridges", bid, "moh"]:
            return lambda: client.bridge_moh_start(bid, q.get("mohClass"))
        case "DELETE", ["bridges", bid, "moh"]:
            return lambda: client.bridge_moh_stop(bid)
        case "GET", ["endpoints", tech, resource]:
            return lambda: client.get_endpoint(tech, resource)
        case "GET", ["applications", name]:
            return lambda: client.get_application(name)
        case "POST", ["playbacks", pid, "control"]:
            return lambda: client.control_playback(pid, q["operation"])
    return None


def _trace_files(traces_dir: Path) -> list[Path]:
    return sorted(traces_dir.glob("*.jsonl"))


def _replayable(path: Path) -> list[RestExchange]:
    # Requests made with credentials in the query or raw bodies test Asterisk, not us.
    return [
        ex
        for ex in trace_rest(path)
        if not ex.path.startswith("/ari/events")
        and "api_key" not in ex.query
        and not isinstance(ex.body, str)
        and ex.status != 401
    ]


async def test_typed_calls_send_the_recorded_requests_and_read_the_answers(
    aiohttp_server, traces_dir: Path
) -> None:
    checked = 0
    statuses: set[int] = set()
    for path in _trace_files(traces_dir):
        probe = AriClient("http://unused", USER, PASSWORD, APP)
        exchanges = [ex for ex in _replayable(path) if _typed_call(probe, ex) is not None]
        await probe.close()
        if not exchanges:
            continue
        replay = ReplayAri(exchanges)
        url = await _serve(aiohttp_server, replay.handle)
        async with AriClient(url, USER, PASSWORD, APP, timeout=5) as client:
            for ex in exchanges:
                call = _typed_call(client, ex)
                assert call is not None
                try:
                    result = await call()
                except e.AriHttpError as exc:
                    assert ex.status >= 400, (path.name, ex, exc)
                    assert exc.status == ex.status
                    recorded = ex.response
                    assert exc.message == (recorded.get("message") or recorded.get("error"))
                    assert exc.path == ex.path.removeprefix("/ari")
                else:
                    assert ex.status < 300, (path.name, ex)
                    if isinstance(ex.response, dict) and "id" in ex.response:
                        assert result.id == ex.response["id"]
                        assert result.model_dump(mode="json", exclude_unset=True).keys() == (
                            ex.response.keys()
                        )
                    elif ex.response is None:
                        assert result is None
                checked += 1
                statuses.add(ex.status)
        assert replay.problems == [], path.name
        assert replay.expected == [], path.name
    assert checked > 200
    assert {200, 201, 204, 400, 404, 409, 422, 500} <= statuses


async def test_every_recorded_error_maps_to_its_exception(aiohttp_server, traces_dir) -> None:
    exchanges = [ex for ex in _replayable(traces_dir / "rest-errors.jsonl") if ex.status >= 400]
    replay = ReplayAri(exchanges)
    url = await _serve(aiohttp_server, replay.handle)
    expected_class = {
        400: e.BadRequest,
        404: e.NotFound,
        405: e.MethodNotAllowed,
        409: e.Conflict,
        422: e.Unprocessable,
        500: e.ServerError,
    }
    async with AriClient(url, USER, PASSWORD, APP) as client:
        for ex in exchanges:
            with pytest.raises(e.AriHttpError) as caught:
                await client.transport.request(
                    ex.method, ex.path.removeprefix("/ari"), params=ex.query, body=ex.body
                )
            assert type(caught.value) is expected_class[ex.status]
            assert caught.value.message == (ex.response.get("message") or ex.response.get("error"))
    assert replay.problems == []
    assert replay.expected == []


async def test_allocation_failed_uses_the_error_key(aiohttp_server, traces_dir) -> None:
    exchanges = [
        ex for ex in trace_rest(traces_dir / "agent-unregistered.jsonl") if ex.status == 500
    ]
    assert exchanges and exchanges[0].response == {"error": "Allocation failed"}
    url = await _serve(aiohttp_server, ReplayAri(exchanges).handle)
    async with AriClient(url, USER, PASSWORD, APP) as client:
        with pytest.raises(e.ServerError, match="Allocation failed") as caught:
            await _typed_call(client, exchanges[0])()
    assert caught.value.status == 500
    assert not e.is_gone(caught.value)


@pytest.mark.parametrize(
    ("exc", "gone"),
    [
        (e.NotFound(404, "Channel not found", "POST", "/channels/1/answer"), True),
        (e.NotFound(404, "Playback not found", "DELETE", "/playbacks/p"), True),
        (e.NotFound(404, "Bridge not found", "DELETE", "/bridges/b"), True),
        (e.BadRequest(400, "Channel not found", "POST", "/bridges/b/addChannel"), True),
        (e.Conflict(409, "Channel not in Stasis application", "POST", "/c/1/play"), True),
        (e.NotFound(404, "Provided variable was not found", "GET", "/c/1/variable"), False),
        (e.NotFound(404, "Resource not found", "GET", "/nothing"), False),
        (e.Conflict(409, "Channel is not in the 'Down' state", "POST", "/c/1/dial"), False),
        (e.ServerError(500, "Allocation failed", "POST", "/channels"), False),
        (e.AriTimeout("slow"), False),
        (ValueError("Channel not found"), False),
    ],
)
def test_is_gone(exc: BaseException, gone: bool) -> None:
    assert e.is_gone(exc) is gone


async def test_timeout_is_reported_as_ari_timeout(aiohttp_server) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.Response(status=204)

    url = await _serve(aiohttp_server, slow)
    async with AriClient(url, USER, PASSWORD, APP, timeout=0.05) as client:
        with pytest.raises(e.AriTimeout, match=r"POST /channels/c1/answer: no answer within"):
            await client.answer("c1")


async def test_connection_refused_is_a_connection_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with AriClient(f"http://127.0.0.1:{port}", USER, PASSWORD, APP) as client:
        with pytest.raises(e.AriConnectionError, match="GET /asterisk/ping"):
            await client.ping()


async def test_unreadable_answer_is_a_connection_error(aiohttp_server) -> None:
    async def odd(request: web.Request) -> web.Response:
        return web.json_response({"id": "p1"}, status=201)  # a Playback without its fields

    url = await _serve(aiohttp_server, odd)
    async with AriClient(url, USER, PASSWORD, APP) as client:
        with pytest.raises(e.AriConnectionError, match="unexpected answer at media_uri"):
            await client.play("c1", "sound:hello")


async def test_html_error_page_gives_its_text(aiohttp_server) -> None:
    async def html(request: web.Request) -> web.Response:
        return web.Response(
            status=400,
            text="<html><body><h1>400 Bad Request</h1><p>missing app</p></body></html>",
            content_type="text/html",
        )

    url = await _serve(aiohttp_server, html)
    async with AriClient(url + "ari/", USER, PASSWORD, APP) as client:
        with pytest.raises(e.BadRequest) as caught:
            await client.list_channels()
    assert caught.value.message == "400 Bad Request missing app"


async def test_ids_are_quoted_into_paths(aiohttp_server) -> None:
    paths: list[str] = []

    async def record(request: web.Request) -> web.Response:
        paths.append(request.raw_path)
        return web.Response(status=204)

    url = await _serve(aiohttp_server, record)
    async with AriClient(url, USER, PASSWORD, APP) as client:
        await client.answer("a/b?c")
        await client.set_device_state("Stasis:agent 1", "INUSE")
    assert paths == [
        "/ari/channels/a%2Fb%3Fc/answer",
        "/ari/deviceStates/Stasis:agent%201?deviceState=INUSE",
    ]


async def test_app_snapshot_keeps_only_our_channels_and_bridges(aiohttp_server, traces_dir):
    channels = next(
        ex.response
        for ex in trace_rest(traces_dir / "blind-transfer.jsonl")
        if ex.method == "GET" and ex.path == "/ari/channels" and ex.status == 200
    )
    bridges = next(
        ex.response
        for ex in trace_rest(traces_dir / "blind-transfer.jsonl")
        if ex.method == "GET" and ex.path == "/ari/bridges" and ex.status == 200
    )
    assert len(channels) >= 2 and bridges
    ours = channels[0]["id"]

    async def handler(request: web.Request) -> web.Response:
        if request.path == f"/ari/applications/{APP}":
            return web.json_response(
                {
                    "name": APP,
                    "channel_ids": [ours],
                    "bridge_ids": [bridges[0]["id"]],
                    "endpoint_ids": [],
                    "device_names": [],
                    "events_allowed": [],
                    "events_disallowed": [],
                }
            )
        if request.path == "/ari/channels":
            return web.json_response(channels)
        if request.path == "/ari/bridges":
            return web.json_response(bridges)
        return web.json_response({"message": "Resource not found"}, status=404)

    url = await _serve(aiohttp_server, handler)
    async with AriClient(url, USER, PASSWORD, APP) as client:
        snapshot = await client.app_snapshot()
    assert [c.id for c in snapshot.channels] == [ours]
    assert all(isinstance(c, Channel) for c in snapshot.channels)
    assert [b.id for b in snapshot.bridges] == [bridges[0]["id"]]
    assert isinstance(snapshot.bridges[0], Bridge)


def test_media_list_and_bad_arguments() -> None:
    assert media_list("sound:a") == "sound:a"
    assert media_list(["sound:a", "sound:b"]) == "sound:a,sound:b"
    with pytest.raises(ValueError, match="media"):
        media_list([])
    with pytest.raises(ValueError, match="application name"):
        AriClient("http://x", USER, PASSWORD, "")
    with pytest.raises(ValueError, match="timeout"):
        AriClient("http://x", USER, PASSWORD, APP, timeout=0)


async def test_play_returns_a_queued_playback(aiohttp_server, traces_dir) -> None:
    exchanges = [
        ex
        for ex in trace_rest(traces_dir / "ivr-then-agent-answers.jsonl")
        if ex.path.endswith("/play")
    ]
    url = await _serve(aiohttp_server, ReplayAri(exchanges).handle)
    async with AriClient(url, USER, PASSWORD, APP) as client:
        playback = await _typed_call(client, exchanges[0])()
    assert isinstance(playback, Playback)
    assert playback.state == "queued"
    assert playback.target_uri.startswith("channel:")
    assert playback.next_media_uri == "sound:vm-options"

"""The simulated PBX's ARI REST called in-process, for replays that only need the router's
decisions (``decroche whatif``).

Over HTTP, each of a call's ~14 REST requests costs the client and the server their whole aiohttp
machinery, about 60 % of a replay's time; here a request goes straight to the same handler table
(:class:`telephony.simulator.ari_handlers.AriHandlers`) with the same parameter merging, the same
Asterisk error bodies and the same client-side error translation. Events still travel over the
real WebSocket. Everything else — the demo, ``decroche serve`` against the simulator, the tests
of the router — uses HTTP, which is what this bypasses and what they check.

Ordering: a request over the network lets the event loop run both before the PBX handles it and
before its answer reaches the client, and events emitted meanwhile are delivered first. The
transport keeps that: it yields to the loop once on the way in and once on the way out (a replay
gives the same call outcomes either way; ``tests/test_whatif.py`` compares them call by call).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from telephony.ari.errors import http_error
from telephony.ari.transport import AriTransport, QueryValue, error_message, query_strings

from .ari_handlers import AriHandlers, Call, Handler, error_response, json_response, merge_body
from .errors import AriRefusal
from .operations import OPERATIONS
from .pbx import SimulatedPbx


def _pattern(path: str) -> re.Pattern[str]:
    # As the HTTP routes: a device name may hold slashes, other path parameters may not.
    def group(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"(?P<{name}>.+)" if name == "deviceName" else f"(?P<{name}>[^/]+)"

    # api-docs paths hold letters, slashes and {parameters}: nothing else to escape.
    return re.compile("^" + re.sub(r"\{(\w+)\}", group, path) + "$")


def _body(response: web.StreamResponse) -> bytes:
    raw = response.body if isinstance(response, web.Response) else None
    return raw if isinstance(raw, bytes) else b""


class InProcessAri:
    """The ARI REST operations of ``pbx``, as a function: (method, path, query, body) → answer."""

    def __init__(self, pbx: SimulatedPbx) -> None:
        table = AriHandlers(pbx.engine).table
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            (op.method, _pattern(op.path), table[(op.method, op.path)]) for op in OPERATIONS
        ]

    async def handle(
        self, method: str, path: str, query: dict[str, Any], body: bytes
    ) -> tuple[int, bytes]:
        """The status and body Asterisk would answer (``path`` relative to ``/ari``)."""
        known_path = False
        for route_method, pattern, handler in self._routes:
            match = pattern.match(path)
            if match is None:
                continue
            known_path = True
            if route_method != method:
                continue
            match_info = {k: unquote(v) for k, v in match.groupdict().items()}
            try:
                params, variables = merge_body(query, body)
                response = await handler(Call(match_info, params, variables))
            except AriRefusal as error:
                response = error_response(error)
            return response.status, _body(response)
        if known_path:
            answer = json_response({"message": "Invalid method"}, 405)
        else:
            answer = json_response({"message": "Resource not found"}, 404)
        return answer.status, _body(answer)


class InProcessTransport(AriTransport):
    """An :class:`AriTransport` whose REST requests go to :class:`InProcessAri` (its WebSocket,
    opened by the event stream from ``base_url``, is still the PBX's real one)."""

    def __init__(self, pbx: SimulatedPbx, username: str, password: str) -> None:
        super().__init__(pbx.url, username, password)
        self._ari = InProcessAri(pbx)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        body: Mapping[str, Any] | None = None,
        request_timeout: float | None = None,
    ) -> bytes:
        await asyncio.sleep(0)  # the request on its way: events already sent go first
        raw_body = json.dumps(body).encode() if body is not None else b""
        status, raw = await self._ari.handle(method, path, query_strings(params), raw_body)
        await asyncio.sleep(0)  # the answer on its way back
        if status >= 400:
            raise http_error(status, error_message(raw), method, path)
        return raw

"""The ARI over HTTP and WebSocket (``/ari/...``), answering like Asterisk 22.

The routes of the served operations (handlers in ``ari_handlers``), their parameters read from
the query string or a JSON body as Asterisk also accepts, the credentials, and the events
WebSocket. Errors are Asterisk's exact bodies; unknown paths are 404 "Resource not found", wrong
methods 405 "Invalid method", bad credentials 401.
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from .ari_handlers import AriHandlers, Call, Handler, error_response, json_response, merge_body
from .engine import Engine
from .errors import AriRefusal
from .operations import OPERATIONS, Operation
from .stasis import WebSocketSink

log = logging.getLogger(__name__)

_HTML = (
    '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\r\n<html><head>\r\n'
    "<title>{code} {title}</title>\r\n</head><body>\r\n<h1>{title}</h1>\r\n<p>{text}</p>\r\n"
    "<hr />\r\n<address>Asterisk</address>\r\n</body></html>\r\n"
)


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def check(self, request: web.Request) -> bool:
        api_key = request.query.get("api_key")
        if api_key is not None:
            user, _, password = api_key.partition(":")
            return self._equal(user, password)
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, _, password = decoded.partition(":")
        return self._equal(user, password)

    def _equal(self, user: str, password: str) -> bool:
        return secrets.compare_digest(user, self.username) and secrets.compare_digest(
            password, self.password
        )


def _unauthorised() -> web.Response:
    response = json_response({"message": "Authentication required"}, 401)
    response.headers["WWW-Authenticate"] = 'Basic realm="Asterisk REST Interface"'
    return response


async def _parse(request: web.Request) -> tuple[dict[str, Any], dict[str, str]]:
    params: dict[str, Any] = {k: v for k, v in request.query.items() if k != "api_key"}
    raw = await request.read() if request.can_read_body else b""
    return merge_body(params, raw)


def _wrap(
    handler: Handler, credentials: Credentials
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def endpoint(request: web.Request) -> web.StreamResponse:
        if not credentials.check(request):
            return _unauthorised()
        try:
            params, variables = await _parse(request)
            return await handler(Call(request.match_info, params, variables))
        except AriRefusal as error:
            return error_response(error)

    return endpoint


class EventsEndpoint:
    """``GET /ari/events``: the WebSocket of one or more Stasis apps."""

    def __init__(self, engine: Engine, credentials: Credentials) -> None:
        self.engine = engine
        self.credentials = credentials

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        apps = [a for a in request.query.get("app", "").split(",") if a]
        if not apps:
            text = _HTML.format(
                code=400, title="Bad Request", text="HTTP request is missing param: [app]"
            )
            return web.Response(status=400, text=text, content_type="text/html")
        if not self.credentials.check(request):
            return _unauthorised()
        if request.headers.get("Upgrade", "").lower() != "websocket":
            text = _HTML.format(code=426, title="Upgrade Required", text="")
            return web.Response(status=426, text=text, content_type="text/html")
        subscribe_all = request.query.get("subscribeAll", "false").lower() in ("true", "1", "yes")
        ws = web.WebSocketResponse(heartbeat=None, autoping=True)
        await ws.prepare(request)
        sink = WebSocketSink(ws.send_str, ws.close)
        stasis = self.engine.stasis
        await stasis.connect(apps, sink, subscribe_all)
        try:
            async for message in ws:
                if message.type == WSMsgType.ERROR:
                    break
        finally:
            stasis.disconnect(apps, sink)
            await sink.close()
        return ws


def add_ari_routes(app: web.Application, engine: Engine, credentials: Credentials) -> None:
    handlers = AriHandlers(engine)
    served: dict[str, set[str]] = {}
    for operation in OPERATIONS:
        handler = handlers.table[(operation.method, operation.path)]
        path = "/ari" + operation.path.replace("{deviceName}", "{deviceName:.+}")
        app.router.add_route(operation.method, path, _wrap(handler, credentials))
        served.setdefault(path, set()).add(operation.method)
    app.router.add_get("/ari/events", EventsEndpoint(engine, credentials).__call__)


@web.middleware
async def ari_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Asterisk's answers for unknown resources and methods under /ari."""
    try:
        return await handler(request)
    except web.HTTPMethodNotAllowed:
        if request.path.startswith("/ari/"):
            return json_response({"message": "Invalid method"}, 405)
        raise
    except web.HTTPNotFound:
        if request.path.startswith("/ari/"):
            return json_response({"message": "Resource not found"}, 404)
        raise


def operation_for(method: str, path: str) -> Operation | None:
    for operation in OPERATIONS:
        if operation.method == method and operation.path == path:
            return operation
    return None

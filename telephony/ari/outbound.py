"""ARI "outbound WebSocket" (Asterisk 22.5+ connects to us) feeding the same event pipeline.

Asterisk side (``ari.conf`` + ``websocket_client.conf``)::

    ; websocket_client.conf
    [decroche_ws]
    type = websocket_client
    uri = ws://decroche.mairie.local:8089/ari/outbound
    protocols = ari
    username = asterisk
    password = <secret>
    connection_type = persistent     ; or per_call_config: one connection per Stasis() call
    reconnect_interval = 500

    ; ari.conf
    [bernay]
    type = outbound_websocket
    websocket_client_id = decroche_ws
    apps = bernay
    subscribe_all = no

Asterisk authenticates with HTTP Basic (``username``/``password`` above) and asks for the
``ari`` sub-protocol. Every accepted connection feeds :class:`FramePipeline`, exactly like
:class:`telephony.ari.stream.EventStream`; REST requests still go through :class:`AriClient`.
With ``per_call_config`` several connections are open at once: their events all reach the same
sink, and each call's events travel on one connection, so their order is kept.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging

import aiohttp
from aiohttp import web

from telephony.ari.stream import EventSink, FramePipeline, StreamCounters

log = logging.getLogger(__name__)

ARI_SUBPROTOCOL = "ari"


def _credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


class OutboundEventEndpoint:
    """aiohttp handler accepting Asterisk's outbound ARI WebSockets.

    Mount it with ``app.router.add_get(path, endpoint.handle)``. ``counters`` are shared by every
    connection; ``open_connections`` tells how many Asterisk connections are live.
    """

    def __init__(
        self,
        username: str,
        password: str,
        sink: EventSink,
        *,
        heartbeat: float = 5.0,
    ) -> None:
        if not username or not password:
            raise ValueError("the outbound ARI WebSocket needs a username and a password")
        self._username = username.encode()
        self._password = password.encode()
        self._heartbeat = heartbeat
        self.counters = StreamCounters()
        self._pipeline = FramePipeline(sink, self.counters)
        self.open_connections = 0

    def _authorised(self, request: web.Request) -> bool:
        found = _credentials(request.headers.get("Authorization"))
        if found is None:
            return False
        user_ok = hmac.compare_digest(found[0].encode(), self._username)
        password_ok = hmac.compare_digest(found[1].encode(), self._password)
        return user_ok and password_ok

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            log.warning(
                "refused an outbound ARI WebSocket from %s: bad credentials", request.remote
            )
            raise web.HTTPUnauthorized(
                headers={"WWW-Authenticate": 'Basic realm="decroche ARI"'},
                text='{"message": "Authentication required"}',
                content_type="application/json",
            )
        ws = web.WebSocketResponse(protocols=(ARI_SUBPROTOCOL,), heartbeat=self._heartbeat)
        await ws.prepare(request)
        self.open_connections += 1
        self.counters.connects += 1
        log.info("Asterisk opened an outbound ARI WebSocket from %s", request.remote)
        try:
            async for message in ws:
                if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    self._pipeline.feed(message.data)
                elif message.type == aiohttp.WSMsgType.ERROR:
                    log.warning("outbound ARI WebSocket error: %s", ws.exception())
                    break
        finally:
            self.open_connections -= 1
            log.info("outbound ARI WebSocket from %s closed", request.remote)
        return ws

"""The ARI event WebSocket, kept connected.

:class:`EventStream` connects to ``/ari/events?app=<app>&subscribeAll=false`` (credentials in the
``Authorization`` header), parses every frame with :func:`parse_event` and hands the event to a
synchronous ``sink`` (normally :meth:`Dispatcher.dispatch`). Malformed frames are logged, counted
and skipped; the stream never dies of a bad frame.

Why reconnecting is fast: while our WebSocket is down Asterisk keeps our channels in Stasis but
drops their events (never replayed) and *refuses new calls* to ``Stasis()``. So the first retry is
immediate, then the backoff doubles from ``backoff_base`` up to ``backoff_cap`` (~1 s), with
jitter so several instances do not hammer Asterisk in step. After each *re*-connection the async
``on_reconnect`` hook runs (with a timeout) while events already flow again; it should resync with
:meth:`AriClient.app_snapshot`. The synchronous ``on_disconnect`` hook runs as soon as an open
WebSocket closes: from then on events may be lost.

``ApplicationReplaced`` means another connection registered our application: Asterisk now sends
everything there. The newest connection wins, we do not fight: the event is passed to the sink,
the stream closes and :meth:`EventStream.run` returns :attr:`StreamEnd.REPLACED`.

Keep-alive: WebSocket pings every ``heartbeat`` seconds (aiohttp closes the socket if no pong
comes, which triggers a reconnect) and ``GET /asterisk/ping`` every ``ping_interval`` seconds. A
failing REST ping is logged and counted (``healthy`` turns false) but does not drop the
WebSocket: reconnecting would lose events, and the WebSocket's own heartbeat already detects a
dead connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp

from telephony.ari.client import AriClient
from telephony.ari.errors import AriError, AriEventError, http_error
from telephony.ari.events import parse_event
from telephony.ari.models import Event

log = logging.getLogger(__name__)

EventSink = Callable[[Event], None]
ReconnectHook = Callable[[], Awaitable[None]]
DisconnectHook = Callable[[], None]


class StreamEnd(enum.Enum):
    """Why :meth:`EventStream.run` returned."""

    STOPPED = "stopped"  # stop() was called
    REPLACED = "replaced"  # ApplicationReplaced: another connection owns the application


@dataclass(slots=True)
class StreamCounters:
    connects: int = 0
    reconnects: int = 0
    connect_failures: int = 0
    frames: int = 0
    events: int = 0
    malformed: int = 0
    sink_errors: int = 0
    pings_ok: int = 0
    pings_failed: int = 0


def backoff_delay(
    attempt: int, rng: random.Random, *, base: float = 0.05, cap: float = 1.0
) -> float:
    """Seconds to wait before reconnect ``attempt`` (0-based): 0 first, then jittered doubling.

    The jitter keeps 50–100 % of the nominal delay, so the cap is never exceeded.
    """
    if attempt <= 0:
        return 0.0
    nominal: float = min(cap, base * 2.0 ** min(attempt - 1, 30))
    return nominal * rng.uniform(0.5, 1.0)


class FramePipeline:
    """Frame -> event -> sink, with counters. Shared by the inbound and outbound WebSockets."""

    def __init__(self, sink: EventSink, counters: StreamCounters) -> None:
        self._sink = sink
        self.counters = counters

    def feed(self, frame: str | bytes) -> Event | None:
        """Parse and deliver one frame; ``None`` if it was malformed (logged and skipped)."""
        counters = self.counters
        counters.frames += 1
        try:
            event = parse_event(frame)
        except AriEventError as exc:
            counters.malformed += 1
            log.warning("skipping malformed ARI frame: %s", exc)
            return None
        counters.events += 1
        try:
            self._sink(event)
        except Exception:
            counters.sink_errors += 1
            log.exception("event sink failed on %s", event.type)
        return event


class EventStream:
    """The application's event WebSocket, reconnected until :meth:`stop` or a takeover."""

    def __init__(
        self,
        client: AriClient,
        sink: EventSink,
        *,
        on_reconnect: ReconnectHook | None = None,
        on_disconnect: DisconnectHook | None = None,
        subscribe_all: bool = False,
        heartbeat: float = 5.0,
        ping_interval: float = 10.0,
        ping_timeout: float = 2.0,
        connect_timeout: float = 2.0,
        reconnect_hook_timeout: float = 15.0,
        backoff_base: float = 0.05,
        backoff_cap: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        for name, value in (
            ("heartbeat", heartbeat),
            ("ping_interval", ping_interval),
            ("ping_timeout", ping_timeout),
            ("connect_timeout", connect_timeout),
            ("reconnect_hook_timeout", reconnect_hook_timeout),
            ("backoff_cap", backoff_cap),
        ):
            if value <= 0:
                raise ValueError(f"EventStream {name} must be positive, got {value}")
        self._client = client
        self._on_reconnect = on_reconnect
        self._on_disconnect = on_disconnect
        self._subscribe_all = subscribe_all
        self._heartbeat = heartbeat
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._connect_timeout = connect_timeout
        self._hook_timeout = reconnect_hook_timeout
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._rng = rng or random.Random()
        self.counters = StreamCounters()
        self._pipeline = FramePipeline(sink, self.counters)
        self._stopping = asyncio.Event()
        self._connected = asyncio.Event()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._ping_failures = 0

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def healthy(self) -> bool:
        """Connected, and the last REST ping (if any) succeeded."""
        return self.connected and self._ping_failures == 0

    async def wait_connected(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the WebSocket to be open; True if it is."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout)
        return self.connected

    def stop(self) -> None:
        """Ask :meth:`run` to close the WebSocket and return :attr:`StreamEnd.STOPPED`."""
        self._stopping.set()
        ws = self._ws
        if ws is not None and not ws.closed:
            self._spawn(self._close(ws), "ari-ws-close")

    async def run(self) -> StreamEnd:
        """Connect, read, reconnect, until stopped or replaced.

        Raises :class:`Unauthorized`/:class:`BadRequest` at once when Asterisk refuses the
        handshake for a configuration reason (retrying would not help).
        """
        attempt = 0
        ever_connected = False
        try:
            while not self._stopping.is_set():
                ws = await self._connect()
                if ws is not None:
                    attempt = 0
                    self.counters.connects += 1
                    if ever_connected:
                        self.counters.reconnects += 1
                        self._spawn(self._run_hook(), "ari-reconnect-hook")
                    ever_connected = True
                    end = await self._read(ws)
                    if end is not None:
                        return end
                    if self._stopping.is_set():
                        break
                    log.warning("ARI WebSocket closed; reconnecting")
                else:
                    self.counters.connect_failures += 1
                delay = backoff_delay(
                    attempt, self._rng, base=self._backoff_base, cap=self._backoff_cap
                )
                attempt += 1
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), delay)
            return StreamEnd.STOPPED
        finally:
            self._connected.clear()
            for task in list(self._background):
                task.cancel()
            if self._background:
                await asyncio.wait(set(self._background), timeout=self._connect_timeout)

    def _url(self) -> str:
        return self._client.transport.base_url + "/events"

    async def _connect(self) -> aiohttp.ClientWebSocketResponse | None:
        transport = self._client.transport
        params = {
            "app": self._client.app,
            "subscribeAll": "true" if self._subscribe_all else "false",
        }
        try:
            ws = await asyncio.wait_for(
                transport.session.ws_connect(
                    self._url(),
                    params=params,
                    headers=transport.auth_header,
                    heartbeat=self._heartbeat,
                    autoping=True,
                ),
                self._connect_timeout,
            )
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status in (400, 401, 403):
                # Wrong credentials or application name: a configuration error, not an outage.
                raise http_error(exc.status, exc.message, "GET", "/events") from exc
            log.warning("ARI WebSocket handshake refused (%s); retrying", exc.status)
            return None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("ARI WebSocket connection failed: %s: %s", type(exc).__name__, exc)
            return None
        log.info("ARI WebSocket connected for application %s", self._client.app)
        return ws

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> StreamEnd | None:
        self._ws = ws
        if self._stopping.is_set():
            self._ws = None
            await self._close(ws)
            return None
        self._connected.set()
        pinger = self._spawn(self._ping_loop(), "ari-ping")
        try:
            async for message in ws:
                if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    event = self._pipeline.feed(message.data)
                    if event is not None and event.type == "ApplicationReplaced":
                        log.error(
                            "ARI application %s was taken over by another connection; "
                            "stopping this event stream",
                            self._client.app,
                        )
                        self._stopping.set()
                        return StreamEnd.REPLACED
                elif message.type == aiohttp.WSMsgType.ERROR:
                    log.warning("ARI WebSocket error: %s", ws.exception())
                    break
            return None
        finally:
            self._connected.clear()
            self._ws = None
            pinger.cancel()
            if self._on_disconnect is not None:
                try:
                    self._on_disconnect()
                except Exception:  # the stream must reconnect whatever the hook does
                    log.exception("on_disconnect hook failed")
            await self._close(ws)

    async def _close(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), self._connect_timeout)

    async def _ping_loop(self) -> None:
        while True:
            await asyncio.sleep(self._ping_interval)
            try:
                await self._client.ping(request_timeout=self._ping_timeout)
            except AriError as exc:
                self._ping_failures += 1
                self.counters.pings_failed += 1
                log.warning("ARI ping failed (%d in a row): %s", self._ping_failures, exc)
            else:
                self._ping_failures = 0
                self.counters.pings_ok += 1

    async def _run_hook(self) -> None:
        if self._on_reconnect is None:
            return
        try:
            await asyncio.wait_for(self._on_reconnect(), self._hook_timeout)
        except TimeoutError:
            log.error("on_reconnect hook did not finish within %.1f s", self._hook_timeout)
        except Exception:
            log.exception("on_reconnect hook failed")

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

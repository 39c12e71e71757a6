"""Stasis applications and event delivery to their WebSockets.

Who gets an event follows Asterisk: an app receives the events of the channels, bridges,
endpoints and device states it is subscribed to, or of everything with ``subscribeAll=true``.
An app whose WebSocket is closed is *inactive*: its events are dropped (Asterisk never replays
them) and new calls cannot enter it. It keeps existing while channels are still in it, which is
why ``GET /applications/<app>`` still answers during a reconnection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from telephony.clock import Clock, ari_timestamp

from .resources import Bridge, Channel, JsonDict

log = logging.getLogger(__name__)


class EventSink(Protocol):
    """One WebSocket (or an in-process listener) receiving an app's events as JSON text."""

    def send(self, text: str) -> None: ...

    async def close(self) -> None: ...


class WebSocketSink:
    """Queues events for one WebSocket and writes them in order from its own task."""

    def __init__(self, send_str: Callable[[str], Any], close: Callable[[], Any]) -> None:
        self._send_str = send_str
        self._close = close
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._write())

    def send(self, text: str) -> None:
        self._queue.put_nowait(text)

    async def _write(self) -> None:
        while True:
            text = await self._queue.get()
            if text is None:
                return
            try:
                await self._send_str(text)
            except (ConnectionError, RuntimeError) as exc:
                # The peer went away: the rest of this connection's events are dropped, as
                # Asterisk does for a dead WebSocket.
                log.debug("websocket write failed: %s", exc)
                return

    async def close(self) -> None:
        self._queue.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self._close()


@dataclass(eq=False)
class StasisApp:
    name: str
    sink: EventSink | None = None
    subscribe_all: bool = False
    channel_ids: set[str] = field(default_factory=set)
    bridge_ids: set[str] = field(default_factory=set)
    endpoint_ids: set[str] = field(default_factory=set)
    device_names: set[str] = field(default_factory=set)
    # Bridges the app's channels are in -> those channels: Asterisk subscribes the app to a
    # bridge as long as one of its channels is in it (control.c, app_subscribe_bridge).
    bridge_members: dict[str, set[str]] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.sink is not None

    def to_json(self) -> JsonDict:
        return {
            "name": self.name,
            "channel_ids": sorted(self.channel_ids),
            "bridge_ids": sorted(self.bridge_ids | set(self.bridge_members)),
            "endpoint_ids": sorted(self.endpoint_ids),
            "device_names": sorted(self.device_names),
            "events_allowed": [],
            "events_disallowed": [],
        }


class StasisApps:
    """Registry of Stasis apps; turns an event into one JSON message per interested app."""

    def __init__(self, clock: Clock, asterisk_id: str) -> None:
        self._clock = clock
        self.asterisk_id = asterisk_id
        self.apps: dict[str, StasisApp] = {}
        self.sent = 0
        self.dropped = 0
        # In-process observers (tests, state()): called with (app name, event) for every event
        # delivered or dropped.
        self.observers: list[Callable[[str, JsonDict, bool], None]] = []

    def timestamp(self) -> str:
        return ari_timestamp(self._clock.now())

    def is_active(self, name: str) -> bool:
        app = self.apps.get(name)
        return app is not None and app.active

    async def connect(self, names: Iterable[str], sink: EventSink, subscribe_all: bool) -> None:
        """A WebSocket opened for ``names``; a previous one for the same app is replaced."""
        for name in names:
            app = self.apps.get(name)
            if app is None:
                app = self.apps[name] = StasisApp(name)
            previous = app.sink
            app.sink = sink
            app.subscribe_all = subscribe_all
            if previous is not None and previous is not sink:
                event = {
                    "type": "ApplicationReplaced",
                    "timestamp": self.timestamp(),
                    "application": name,
                    "asterisk_id": self.asterisk_id,
                }
                previous.send(json.dumps(event))
                await previous.close()

    def disconnect(self, names: Iterable[str], sink: EventSink) -> None:
        for name in names:
            app = self.apps.get(name)
            if app is None or app.sink is not sink:
                continue  # already replaced by a newer connection
            app.sink = None
            app.subscribe_all = False
            if not app.channel_ids:
                # Asterisk destroys an app nobody listens to and no channel is in.
                del self.apps[name]

    def emit(
        self,
        event: JsonDict,
        *,
        channels: Iterable[Channel] = (),
        bridge: Bridge | None = None,
        endpoint: str | None = None,
        device: str | None = None,
    ) -> None:
        targets: set[str] = set()
        for channel in channels:
            targets |= channel.subscribers
        if bridge is not None:
            targets |= bridge.subscribers
        for app in self.apps.values():
            if app.subscribe_all or (
                (endpoint is not None and endpoint in app.endpoint_ids)
                or (device is not None and device in app.device_names)
            ):
                targets.add(app.name)
        for name in sorted(targets):
            self._deliver(name, event)

    def _deliver(self, name: str, event: JsonDict) -> None:
        app = self.apps.get(name)
        delivered = app is not None and app.sink is not None
        message = dict(event)
        message["asterisk_id"] = self.asterisk_id
        message["application"] = name
        for observer in self.observers:
            observer(name, message, delivered)
        if app is None or app.sink is None:
            self.dropped += 1
            log.debug("Inactive Stasis app '%s' missed message", name)
            return
        self.sent += 1
        app.sink.send(json.dumps(message))

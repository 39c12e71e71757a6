"""A minimal ARI application for tests: its WebSocket's events and decroche's typed REST client
(an audit robot, a second app beside decroche's, or decroche itself in simulator tests)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp

from telephony.ari.client import AriClient
from telephony.simulator import SimulatedPbx

WAIT = 60.0  # bound of every wait, in the PBX's (virtual) seconds


class Listener:
    """One ARI application: its WebSocket's events and a typed REST client."""

    def __init__(self, pbx: SimulatedPbx, app: str) -> None:
        self.app = app
        self.client = AriClient(pbx.url + "/ari", "decroche", "decroche", app)
        self.events: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._url = f"{pbx.url}/ari/events?app={app}&api_key=decroche:decroche"

    async def connect(self, session: aiohttp.ClientSession) -> None:
        ws = await session.ws_connect(self._url)

        async def read() -> None:
            async for message in ws:
                self.events.append(json.loads(message.data))
                self._arrived.set()

        asyncio.get_running_loop().create_task(read())

    def of(self, kind: str, channel_id: str | None = None) -> list[dict[str, Any]]:
        """The events of ``kind`` (``*``: any) about ``channel_id`` (None: any)."""

        def about(event: dict[str, Any]) -> str | None:
            channel = event.get("channel") or event.get("peer")
            if channel is not None:
                return str(channel["id"])
            playback = event.get("playback")
            return str(playback["target_uri"]).split(":", 1)[1] if playback else None

        return [
            e for e in self.events
            if kind in ("*", e["type"]) and (channel_id is None or about(e) == channel_id)
        ]  # fmt: skip

    async def wait_for(
        self, kind: str, channel_id: str | None = None, where: Callable[[Any], bool] = bool
    ) -> dict[str, Any]:
        async def until() -> dict[str, Any]:
            while True:
                found = [e for e in self.of(kind, channel_id) if where(e)]
                if found:
                    return found[0]
                self._arrived.clear()
                await self._arrived.wait()

        return await asyncio.wait_for(until(), WAIT)

    async def next_event(self, after: int) -> tuple[int, dict[str, Any]]:
        """The first event received at position ``after`` or later, and its position."""

        async def until() -> tuple[int, dict[str, Any]]:
            while len(self.events) <= after:
                self._arrived.clear()
                await self._arrived.wait()
            return after, self.events[after]

        return await asyncio.wait_for(until(), WAIT)

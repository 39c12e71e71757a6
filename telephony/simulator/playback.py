"""Playbacks on a channel or a bridge: queued in order, started, continued, finished or dropped.

Quirks reproduced (traces/rest-errors): a media list with an empty item is refused (500); an
unknown sound (absent from the sounds folder) starts, then finishes ``failed`` at once; an
unsupported media scheme starts and is then silently dropped, with no ``PlaybackFinished`` ever;
a playback on a channel stops its music on hold, and the ring tone of an answered channel, for good;
a queued playback stopped goes away silently.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from typing import TYPE_CHECKING

from .errors import AriRefusal
from .media import UNSUPPORTED
from .resources import Bridge, Channel, Playback

if TYPE_CHECKING:
    from .engine import Engine


class Player:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._background: set[asyncio.Task[None]] = set()

    def play(
        self,
        target: Channel | Bridge,
        media: list[str],
        lang: str | None,
        playback_id: str | None,
    ) -> Playback:
        if not media or not all(media):
            raise AriRefusal(500, "Failed to queue media for playback")
        if isinstance(target, Channel):
            uri = f"channel:{target.id}"
            language = lang or target.language
        else:
            uri = f"bridge:{target.id}"
            language = lang or "en"
        playback = Playback(
            id=playback_id or str(uuid.uuid4()), media=media, target_uri=uri, language=language
        )
        self.engine.playbacks[playback.id] = playback
        target.playbacks.append(playback)
        if len(target.playbacks) == 1:
            self._start(target, playback)
        return playback

    def _owner(self, target: Channel | Bridge) -> Channel | None:
        if isinstance(target, Channel):
            return target
        return None

    def _start(self, target: Channel | Bridge, playback: Playback) -> None:
        async def run() -> None:
            await asyncio.sleep(0)
            await self._run(target, playback)

        if isinstance(target, Channel):
            self.engine.spawn(target, run)
        else:
            task = asyncio.get_running_loop().create_task(run())
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            playback.task = task

    def _emit(self, target: Channel | Bridge, kind: str, playback: Playback) -> None:
        event = self.engine.event(kind, playback=playback.to_json())
        if isinstance(target, Channel):
            self.engine.stasis.emit(event, channels=(target,))
        else:
            members = [
                self.engine.channels[c] for c in target.channels if c in self.engine.channels
            ]
            self.engine.stasis.emit(event, channels=members, bridge=target)

    def _listeners(self, target: Channel | Bridge) -> list[Channel]:
        if isinstance(target, Channel):
            return [target]
        return [self.engine.channels[c] for c in target.channels if c in self.engine.channels]

    async def _run(self, target: Channel | Bridge, playback: Playback) -> None:
        if isinstance(target, Channel) and (
            target.tone == "moh" or (target.tone == "ring" and target.state == "Up")
        ):
            # Music on hold and, on an answered channel, the ring tone Asterisk plays are
            # generators: opening the file stream deactivates them, and nothing restarts them.
            self.engine.callers.heard_end(target, target.tone, "stopped_by_playback")
            target.tone = None
        playback.task = asyncio.current_task()
        for index in range(len(playback.media)):
            playback.index = index
            playback.state = "playing"
            self._emit(target, "PlaybackStarted", playback)
            for listener in self._listeners(target):
                self.engine.note(listener, "prompt", media=playback.media_uri)
                self.engine.callers.heard_start(listener, playback.media_uri, playback.id)
                run = self.engine.runs.get(listener.id)
                if run is not None:
                    run.on_prompt_started(playback.media_uri)
            duration = self.engine.media.duration(playback.media_uri, playback.language)
            if duration is UNSUPPORTED:
                # Started, then silently dropped: no PlaybackFinished ever (rest-errors).
                self._drop(target, playback)
                return
            if duration is None:
                self.finish(target, playback, "failed")
                return
            assert isinstance(duration, float)
            if math.isinf(duration):
                await asyncio.Event().wait()
            await self.engine.clock.sleep(duration)
            if index + 1 < len(playback.media):
                playback.state = "continuing"
                for listener in self._listeners(target):
                    self.engine.note(listener, "prompt_end", media=playback.media_uri, state="done")
                    self.engine.callers.heard_end(listener, playback.media_uri, "done")
                self._emit(target, "PlaybackContinuing", playback)
        playback.task = None
        self.finish(target, playback, "done")

    def _drop(self, target: Channel | Bridge, playback: Playback) -> None:
        if playback in target.playbacks:
            target.playbacks.remove(playback)
        if self.engine.playbacks.get(playback.id) is playback:
            del self.engine.playbacks[playback.id]
        for listener in self._listeners(target):
            self.engine.callers.heard_end(listener, playback.media_uri, "unsupported")
        if target.playbacks:
            self._start(target, target.playbacks[0])

    def finish(self, target: Channel | Bridge, playback: Playback, state: str) -> None:
        was_current = bool(target.playbacks) and target.playbacks[0] is playback
        if playback in target.playbacks:
            target.playbacks.remove(playback)
        if self.engine.playbacks.get(playback.id) is playback:
            del self.engine.playbacks[playback.id]
        if playback.task is not None and playback.task is not asyncio.current_task():
            playback.task.cancel()
        playback.task = None
        if not was_current:
            return  # a queued playback goes away silently
        playback.state = state
        self._emit(target, "PlaybackFinished", playback)
        for listener in self._listeners(target):
            self.engine.note(listener, "prompt_end", media=playback.media_uri, state=state)
            self.engine.callers.heard_end(listener, playback.media_uri, state)
        if target.playbacks and not (isinstance(target, Channel) and target.hanging_up):
            self._start(target, target.playbacks[0])

    def stop(self, playback_id: str) -> None:
        playback = self.engine.playbacks.get(playback_id)
        if playback is None:
            raise AriRefusal(404, "Playback not found")
        target = self._target(playback)
        if target is None:
            raise AriRefusal(404, "Playback not found")
        self.finish(target, playback, "done")

    def control(self, playback_id: str, operation: str | None) -> None:
        playback = self.engine.playbacks.get(playback_id)
        if playback is None:
            raise AriRefusal(404, "Playback not found")
        if operation not in ("restart", "pause", "unpause", "reverse", "forward"):
            raise AriRefusal(400, "Invalid operation")
        if playback.state == "queued":
            raise AriRefusal(409, "Playback not in a valid state")

    def _target(self, playback: Playback) -> Channel | Bridge | None:
        kind, _, target_id = playback.target_uri.partition(":")
        if kind == "channel":
            return self.engine.channels.get(target_id)
        return self.engine.bridges.get(target_id)

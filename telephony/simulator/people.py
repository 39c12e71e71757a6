"""What a scripted caller does during a call, and what is recorded about it.

A :class:`CallerRun` reacts to what the PBX does to its channel (answer, prompts, bridging) via
the ``on_*`` methods the engine calls, and acts back through the narrow :class:`CallerHost`.
All its timers are tasks attached to the channel (the engine cancels them at hang-up) and sleep
on the PBX clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from telephony.clock import Clock

from .resources import JsonDict
from .scripts import CallerScript, KeyPress


class CallerHost(Protocol):
    @property
    def clock(self) -> Clock: ...

    def caller_spawn(self, run: CallerRun, coro: Callable[[], Awaitable[None]]) -> None: ...

    def caller_hangup(self, run: CallerRun, how: str) -> None: ...

    def caller_dtmf(self, run: CallerRun, digit: str, duration_ms: int) -> None: ...


@dataclass
class CallHandle:
    """What happened to one scripted call; returned by ``place_call``."""

    call_id: str
    script: CallerScript
    app: str
    channel_id: str | None = None
    started: str = ""
    answered: str | None = None
    heard: list[JsonDict] = field(default_factory=list)
    pressed: list[JsonDict] = field(default_factory=list)
    talked_with: list[JsonDict] = field(default_factory=list)
    ended: JsonDict | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(self) -> JsonDict:
        """Wait for the end of the call; returns how it ended."""
        await self.done.wait()
        assert self.ended is not None
        return self.ended

    def to_json(self) -> JsonDict:
        return {
            "call_id": self.call_id,
            "channel_id": self.channel_id,
            "app": self.app,
            "caller_number": self.script.caller_number,
            "dialled": self.script.dialled,
            "started": self.started,
            "answered": self.answered,
            "heard": [dict(item) for item in self.heard],
            "pressed": [dict(item) for item in self.pressed],
            "talked_with": [dict(item) for item in self.talked_with],
            "ended": dict(self.ended) if self.ended is not None else None,
        }


class CallerRun:
    """The behaviour of one scripted caller while its channel lives."""

    def __init__(self, host: CallerHost, handle: CallHandle) -> None:
        self.host = host
        self.handle = handle
        self.script = handle.script
        self.answered = False
        self.connected = False  # bridged with someone right now
        self.has_talked = False
        self._keys: list[KeyPress] = list(self.script.keys)
        self._armed: KeyPress | None = None
        self._survey: list[str] = list(self.script.survey)
        self._patience_running = True
        self._answer_time: float | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self.host.caller_spawn(self, self._patience)
        self.host.caller_spawn(self, self._max_duration)
        self._arm_next_key()

    async def _patience(self) -> None:
        await self.host.clock.sleep(self.script.patience)
        if self._patience_running:
            self.host.caller_hangup(self, "abandoned")

    async def _max_duration(self) -> None:
        await self.host.clock.sleep(self.script.max_duration)
        self.host.caller_hangup(self, "max_duration")

    # -- reactions -------------------------------------------------------------------------
    def on_answer(self, now: str) -> None:
        if self.answered:
            return
        self.answered = True
        self.handle.answered = now
        self._answer_time = asyncio.get_running_loop().time()
        if self.script.hangup_after is not None:
            delay = self.script.hangup_after

            async def hang_up_later() -> None:
                await self.host.clock.sleep(delay)
                self.host.caller_hangup(self, "hangup_after")

            self.host.caller_spawn(self, hang_up_later)
        if self._armed is not None and self._armed.on == "answer":
            self._schedule_key(self._armed)

    def on_prompt_started(self, media: str) -> None:
        if self.has_talked and not self.connected:
            if self._survey:
                answer = self._survey.pop(0)
                self.host.caller_spawn(self, lambda: self._press(answer, 280, 0.2, delay=None))
            return
        key = self._armed
        if key is None or key.on != "prompt" or self.connected:
            return
        if key.media is not None and key.media != media:
            return
        self._schedule_key(key)

    def on_bridged(self, peer: JsonDict) -> None:
        self.handle.talked_with.append(peer)
        if self.connected:
            return
        self.connected = True
        self.has_talked = True
        self._patience_running = False
        talk = self.script.talk_time

        async def talk_then_hang_up() -> None:
            await self.host.clock.sleep(talk)
            if self.connected:
                self.host.caller_hangup(self, "talked")

        self.host.caller_spawn(self, talk_then_hang_up)

    def on_unbridged(self) -> None:
        if not self.connected:
            return
        self.connected = False
        if self._survey:
            return  # stays on the line for the survey
        linger = self.script.linger

        async def leave() -> None:
            await self.host.clock.sleep(linger)
            if not self.connected:
                self.host.caller_hangup(self, "other_party_left")

        self.host.caller_spawn(self, leave)

    # -- keys ------------------------------------------------------------------------------
    def _arm_next_key(self) -> None:
        self._armed = self._keys.pop(0) if self._keys else None
        if self._armed is not None and self._armed.on == "answer" and self.answered:
            self._schedule_key(self._armed)

    def _schedule_key(self, key: KeyPress) -> None:
        self._armed = None  # triggered: later prompts do not re-trigger it
        delay = key.after
        if key.on == "answer" and self._answer_time is not None:
            elapsed = (asyncio.get_running_loop().time() - self._answer_time) * (
                self.host.clock.speed
            )
            delay = max(0.0, key.after - elapsed)

        async def press() -> None:
            await self._press(key.digits, key.duration_ms, key.gap, delay=delay)
            self._arm_next_key()

        self.host.caller_spawn(self, press)

    async def _press(self, digits: str, duration_ms: int, gap: float, delay: float | None) -> None:
        await self.host.clock.sleep(self.script.survey_delay if delay is None else delay)
        for position, digit in enumerate(digits):
            if position:
                await self.host.clock.sleep(gap)
            # ChannelDtmfReceived comes at the end of the digit.
            await self.host.clock.sleep(duration_ms / 1000)
            self.host.caller_dtmf(self, digit, duration_ms)


def summary(handles: dict[str, CallHandle]) -> list[Any]:
    return [handle.to_json() for handle in handles.values()]

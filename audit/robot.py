"""The robot caller: decroche's audit calls placed and heard over ARI.

Each audit call is a Local channel into the dialplan entry the operator's calls take
(``Local/<number>@from-trunk``), made with ``channels/create`` then ``dial``, which is ARI's
originate in two steps: the robot's half (``;1``) is in the robot's own application before the
call starts, so not one event is missed. The other half (``;2``) runs the dialplan with the
``DECROCHE_AUDIT`` mark copied from the robot's half and enters ``Stasis(decroche,<number>)``
like any caller; decroche handles it. ARI subscribes the robot to both halves, so it hears what
the caller's half hears: each prompt started and how it ended (``PlaybackFinished`` ``done`` or
``failed``), the keys it receives, and where decroche says the call ended
(``DECROCHE_AUDIT_REACHED``).

The robot presses the path's next key (ARI DTMF on its half, received on the caller's) once a
prompt has played to its end, when the menu waits for it. When the call is over it asks Asterisk
whether any channel or bridge of the call is left.

Channel ids carry the run and the call (``audit-<run>-<n>-robot`` / ``-caller``): anything that
sweeps the PBX (decroche's orphan recovery) tells them apart from callers at a glance, and the
robot's half is never in decroche's application.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from audit.results import CallObservation, HeardPrompt
from routing_rules.routing import AUDIT_VARIABLE, REACHED_VARIABLE, AuditMark
from telephony.ari.client import AriClient
from telephony.ari.errors import AriError, is_gone
from telephony.ari.models import (
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelEnteredBridge,
    ChannelVarset,
    Dial,
    Event,
    PlaybackContinuing,
    PlaybackFinished,
    PlaybackStarted,
    StasisStart,
)
from telephony.ari.stream import EventStream
from telephony.clock import Clock

log = logging.getLogger(__name__)

SOUND_PREFIX = "sound:decroche/"
AUDIT_ID_PREFIX = "audit-"


class RobotUnavailable(Exception):
    """The robot cannot reach Asterisk's events (the message is French)."""


@dataclass(frozen=True, slots=True)
class RobotSettings:
    context: str = "from-trunk"  # the dialplan context the operator's calls enter
    call_timeout_s: float = 300.0  # a call still up after this is hung up and fails
    key_pause_s: float = 0.5  # after a prompt ends, before the robot presses the next key
    talk_s: float = 2.0  # a test phone that answered: the robot hangs up after this
    settle_s: float = 1.0  # after the call, before asking what is left on the PBX
    ring_timeout_s: int = 30


def channel_ids(mark: AuditMark, number: int) -> tuple[str, str]:
    """The robot's half and the caller's half of audit call ``number`` of a run."""
    base = f"{AUDIT_ID_PREFIX}{mark.run_id}-{number}"
    return f"{base}-robot", f"{base}-caller"


def _subject(event: Event) -> str | None:
    """The channel an event is about (a playback's: its target channel)."""
    if isinstance(event, PlaybackStarted | PlaybackContinuing | PlaybackFinished):
        kind, _, target = event.playback.target_uri.partition(":")
        return target if kind == "channel" else None
    if isinstance(event, Dial):
        return event.peer.id
    channel = getattr(event, "channel", None)
    return getattr(channel, "id", None)


@dataclass
class _Heard:
    media: str
    state: str
    at: datetime


@dataclass
class _Listening:
    """What the robot has heard of one call so far."""

    robot: str
    caller: str
    dialled_at: datetime | None = None
    answered_at: datetime | None = None
    reached: str | None = None
    reached_at: datetime | None = None
    ended_at: datetime | None = None
    heard: list[_Heard] = field(default_factory=list)
    keys_sent: list[str] = field(default_factory=list)
    keys_received: list[str] = field(default_factory=list)
    bridges: set[str] = field(default_factory=set)
    peers: set[str] = field(default_factory=set)
    bridged_at: datetime | None = None
    problem: str | None = None

    def hear(self, event: Event) -> None:
        if isinstance(event, Dial) and event.peer.id == self.robot:
            if event.dialstatus == "" and self.dialled_at is None:
                self.dialled_at = event.timestamp
            elif event.dialstatus == "ANSWER":
                self.answered_at = event.timestamp
        elif isinstance(event, PlaybackStarted) and _subject(event) == self.caller:
            self.heard.append(_Heard(event.playback.media_uri, "unfinished", event.timestamp))
        elif isinstance(event, PlaybackContinuing | PlaybackFinished) and (
            _subject(event) == self.caller
        ):
            state = "done" if isinstance(event, PlaybackContinuing) else event.playback.state
            for item in reversed(self.heard):
                if item.media == event.playback.media_uri and item.state == "unfinished":
                    item.state = state or "done"
                    break
        elif isinstance(event, ChannelVarset) and event.variable == REACHED_VARIABLE:
            self.reached, self.reached_at = event.value, event.timestamp
        elif isinstance(event, ChannelDtmfReceived) and event.channel.id == self.caller:
            self.keys_received.append(event.digit)
        elif isinstance(event, ChannelEnteredBridge) and event.channel is not None:
            if event.channel.id == self.caller:
                self.bridges.add(event.bridge.id)
                others = set(event.bridge.channels) - {self.caller, self.robot}
                self.peers |= others
                if others and self.bridged_at is None:
                    self.bridged_at = event.timestamp
        elif isinstance(event, ChannelDestroyed) and event.channel.id == self.robot:
            self.ended_at = event.timestamp

    def observation(self, leftovers: Sequence[str]) -> CallObservation:
        heard = tuple(
            HeardPrompt(
                media=h.media,
                prompt=h.media.removeprefix(SOUND_PREFIX),
                state=h.state,
                started_at=h.at,
            )
            for h in self.heard
        )
        return CallObservation(
            robot_channel=self.robot,
            caller_channel=self.caller,
            dialled_at=self.dialled_at,
            answered_at=self.answered_at,
            first_prompt_at=heard[0].started_at if heard else None,
            reached=self.reached,
            reached_at=self.reached_at,
            ended_at=self.ended_at,
            heard=heard,
            keys_sent=tuple(self.keys_sent),
            keys_received=tuple(self.keys_received),
            leftovers=tuple(leftovers),
            problem=self.problem,
        )


class Robot:
    """The robot's ARI application: its own WebSocket (app ``client.app``) and REST client.

    Use as an async context manager: the events flow from entry to exit.
    """

    def __init__(
        self,
        client: AriClient,
        clock: Clock,
        settings: RobotSettings | None = None,
        *,
        heartbeat_s: float = 5.0,
        ping_interval_s: float = 10.0,
    ) -> None:
        self.client = client
        self.clock = clock
        self.settings = settings or RobotSettings()
        self._queues: dict[str, asyncio.Queue[Event]] = {}
        self.stream = EventStream(
            client, self._on_event, heartbeat=heartbeat_s, ping_interval=ping_interval_s
        )
        self._task: asyncio.Task[object] | None = None

    async def __aenter__(self) -> Robot:
        self._task = asyncio.create_task(self.stream.run(), name="audit-robot-events")
        if not await self.stream.wait_connected(10.0):
            await self.__aexit__()
            raise RobotUnavailable(
                f"le robot d'audit n'a pas pu ouvrir les événements d'Asterisk ({self.client!r})"
            )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.stream.stop()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
            self._task = None

    def _on_event(self, event: Event) -> None:
        subject = _subject(event)
        queue = self._queues.get(subject or "")
        if queue is not None:
            queue.put_nowait(event)

    async def call(
        self, mark: AuditMark, number: int, dialled: str, keys: Sequence[str]
    ) -> CallObservation:
        """Place audit call ``number`` of the run to ``dialled``, press ``keys`` in turn, and
        tell what was heard. Never raises for the call's own troubles: they are its ``problem``.
        """
        robot, caller = channel_ids(mark, number)
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self._queues[robot] = self._queues[caller] = queue
        listening = _Listening(robot, caller)
        limit = self.clock.real_seconds(self.settings.call_timeout_s)
        try:
            async with asyncio.timeout(limit):
                await self._converse(mark, dialled, keys, queue, listening)
        except TimeoutError:
            listening.problem = (
                f"appel encore en ligne après {self.settings.call_timeout_s:g} s : "
                "raccroché par le robot"
            )
            await self._hang_up(robot)
        except AriError as exc:
            listening.problem = f"appel d'audit impossible : {exc}"
            await self._hang_up(robot)
        finally:
            del self._queues[robot], self._queues[caller]
        return listening.observation(await self._leftovers(listening))

    async def _converse(
        self,
        mark: AuditMark,
        dialled: str,
        keys: Sequence[str],
        queue: asyncio.Queue[Event],
        listening: _Listening,
    ) -> None:
        settings = self.settings
        robot = listening.robot
        await self.client.create_channel(
            f"Local/{dialled}@{settings.context}",
            channel_id=robot,
            other_channel_id=listening.caller,
            app_args="audit",
            variables={AUDIT_VARIABLE: mark.value},
        )
        while True:  # the robot's half in its app first, or the dial is refused (409)
            event = await queue.get()
            listening.hear(event)
            if isinstance(event, StasisStart) and event.channel.id == robot:
                break
        await self.client.dial(robot, ring_timeout=settings.ring_timeout_s)
        pending = list(keys)
        while listening.ended_at is None:
            timeout = None
            if listening.bridged_at is not None:  # a test phone answered: talk a little
                timeout = self.clock.real_seconds(settings.talk_s)
            try:
                event = await asyncio.wait_for(queue.get(), timeout)
            except TimeoutError:
                await self._hang_up(robot)
                continue
            listening.hear(event)
            if (
                isinstance(event, PlaybackFinished)
                and _subject(event) == listening.caller
                and pending
            ):
                await self.clock.sleep(settings.key_pause_s)
                key = pending.pop(0)
                listening.keys_sent.append(key)
                await self.client.send_dtmf(robot, key)
            if (
                isinstance(event, ChannelDestroyed)
                and event.channel.id == listening.caller
                and listening.answered_at is None
                # A direct line that would ring is not answered before an agent answers.
                and listening.reached is None
            ):
                listening.problem = (
                    "decroche n'a pas pris l'appel (l'application n'est pas connectée à "
                    "Asterisk, ou le plan de numérotation ne mène pas à Stasis)"
                )

    async def _hang_up(self, channel_id: str) -> None:
        try:
            await self.client.hangup(channel_id)
        except AriError as exc:
            if not is_gone(exc):
                log.warning("audit robot: hanging up %s failed: %s", channel_id, exc)

    async def _leftovers(self, listening: _Listening) -> list[str]:
        """The call's channels and bridges still on the PBX a moment after its end."""
        await self.clock.sleep(self.settings.settle_s)
        ours = {listening.robot, listening.caller, *listening.peers}
        try:
            channels = await self.client.list_channels()
            bridges = await self.client.list_bridges()
        except AriError as exc:
            return [f"vérification impossible ({exc})"]
        left = [f"canal {c.name}" for c in channels if c.id in ours]
        left += [
            f"pont {b.id}" for b in bridges if b.id in listening.bridges or ours & set(b.channels)
        ]
        return left

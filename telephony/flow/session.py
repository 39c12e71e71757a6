"""One call's view of Asterisk: its ordered events, and the REST calls on its channels.

A :class:`CallSession` is owned by the call's single task. It reads the call's events, in the
order Asterisk sent them, from the queue the dispatcher fills, and offers the steps the call
flow is made of: answer, play with barge-in, wait for a key, bridge, wait for the end (ringing
the agents is ``telephony.flow.ringing``, on the session's events and its ledger of agent legs,
``telephony.flow.legs``). A caller hanging up at any moment surfaces as one exception,
:class:`CallerHungUp` (:class:`CallCut` when the PBX or the link ended the call), so the flow
reads straight down; :meth:`CallSession.cleanup` (run in the
flow's ``finally``) hangs up every agent leg and bridge the call created, whatever happened.

Every time recorded comes from an event's own ``timestamp``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from telephony.ari.client import AriClient
from telephony.ari.dispatch import CallEnded, CallInbox, CallLost
from telephony.ari.errors import AriError, AriHttpError, is_gone
from telephony.ari.models import (
    BridgeBlindTransfer,
    Channel,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    Event,
    PlaybackFinished,
    StasisEnd,
    StasisStart,
)
from telephony.clock import Clock
from telephony.flow.legs import AgentLegs
from telephony.flow.link import LINK_WAIT_S, Link

log = logging.getLogger(__name__)

# How long cleanup may take in total, in real seconds, before it gives up on Asterisk.
CLEANUP_TIMEOUT_S = 5.0


class CallerHungUp(Exception):
    """The caller hung up (or left the application); ``at`` is the event's time."""

    def __init__(self, at: datetime) -> None:
        super().__init__(f"caller hung up at {at.isoformat()}")
        self.at = at


class CallCut(CallerHungUp):
    """The PBX or the link to it ended the call (Asterisk restarted, the link stayed down):
    nobody hung up; ``at`` is the last moment the call was known to be there."""

    def __init__(self, at: datetime) -> None:
        Exception.__init__(self, f"call cut by the PBX or the link at {at.isoformat()}")
        self.at = at


@dataclass(slots=True)
class AgentHungUp:
    at: datetime


class CallSession:
    def __init__(
        self,
        *,
        call_id: str,
        channel: Channel,
        started_at: datetime,
        ari: AriClient,
        events: CallInbox,
        clock: Clock,
        bind: Callable[[str], None],
        lang: str = "fr",
        sound_prefix: str = "sound:decroche/",
        transfer_context: str | None = None,
        on_transferred_into: Callable[[str], None] | None = None,
        link: Link | None = None,
    ) -> None:
        self.transfer_context = transfer_context
        # Whether decroche hears Asterisk: a wait that runs out while it does not decides
        # nothing until the link's verdict (see ``link``).
        self._link = link
        self.cut_at: datetime | None = None
        # Told the name of the Local channel a blind transfer swaps in for the agent: its other
        # half may come back into decroche as a call of its own (see Router).
        self._on_transferred_into = on_transferred_into
        self.call_id = call_id
        self.channel = channel
        self.channel_id = channel.id
        self.ari = ari
        self._events = events
        self.clock = clock
        # Routes a channel's events to this call's inbox (the dispatcher's binding).
        self.bind = bind
        self.lang = lang
        self.sound_prefix = sound_prefix
        self.last_event_at = started_at
        # When one of our waits last ran out (a timer has no event to date it by).
        self._timer_at = started_at
        self.hung_up_at: datetime | None = None
        # A caller is answered when they first need to hear us (a prompt) or an agent: a direct
        # line rings the agents first, as Dial() does (see :meth:`ensure_answered`).
        self.answered = channel.state == "Up"
        # While the caller waits for an agent (_waiting: agents ring, or a queue holds them),
        # they hear the hold sound (_holding: the ring-back, or the queue's music on hold class
        # _music) or a prompt in its place (_aside, the playback's id: the survey's consent, a
        # queue's announcement).
        self._waiting = False
        self._holding = False
        self._music: str | None = None
        self._aside: str | None = None
        self.legs = AgentLegs(ari, call_id)
        self._bridges: list[str] = []
        self._short = uuid.uuid4().hex[:12]
        self._counter = 0

    # --- events ---------------------------------------------------------------------------------

    def new_id(self, kind: str) -> str:
        """A new id for a channel, bridge or playback of this call."""
        # Random ids: Asterisk refuses an id that is a prefix of a live channel's id.
        self._counter += 1
        return f"dc-{self._short}-{kind}{self._counter}"

    async def next_event(
        self, timeout_s: float | None, *, until: asyncio.Future[Any] | None = None
    ) -> Event | None:
        """The call's next event, or None after ``timeout_s`` of clock time, or once ``until``
        is done (a turn in a queue, given by another task).

        Raises :class:`CallerHungUp` when the event says the caller left.
        """
        if self.cut_at is not None:
            raise CallCut(self.cut_at)
        if self.hung_up_at is not None:
            raise CallerHungUp(self.hung_up_at)
        try:
            event = await self._receive(timeout_s, until)
        except CallLost as lost:
            # Asterisk lost the call while we could not hear it (the resync's verdict).
            self.cut_at = self.hung_up_at = max(self.last_event_at, lost.at)
            raise CallCut(self.cut_at) from None
        except CallEnded:
            # The inbound channel's StasisEnd was already read: nothing more will come.
            self.hung_up_at = self.last_event_at
            raise CallerHungUp(self.last_event_at) from None
        if event is None:
            return None
        self.last_event_at = max(self.last_event_at, event.timestamp)
        if self._is_caller_gone(event):
            self.hung_up_at = event.timestamp
            raise CallerHungUp(event.timestamp)
        self.legs.track(event)
        await self._after_aside(event)
        return event

    async def _receive(
        self, timeout_s: float | None, until: asyncio.Future[Any] | None = None
    ) -> Event | None:
        """The inbox's next event, or None once ``timeout_s`` ran out or ``until`` is done. A
        wait that runs out while Asterisk is out of hearing waits for the link's verdict first:
        the events that would have told what happened meanwhile are lost."""
        if until is not None:
            event = self._events.get_nowait()
            if event is not None:
                return event
            if until.done() or await self._until(until, timeout_s):
                self._timer_at = max(self._timer_at, self.clock.now())
                return None
            event = self._events.get_nowait()
            if event is not None:
                return event
        elif timeout_s is None:
            return await self._events.get()
        else:
            with contextlib.suppress(TimeoutError):
                return await asyncio.wait_for(
                    self._events.get(), self.clock.real_seconds(max(0.0, timeout_s))
                )
        link = self._link
        if link is not None and not link.up:
            lost_at = link.lost_at or self.last_event_at
            if not await link.wait_up(self.clock.real_seconds(LINK_WAIT_S)):
                # No verdict: the call cannot be carried on. Cleanup still hands the caller
                # back, should Asterisk answer again.
                self.cut_at = max(self.last_event_at, lost_at)
                raise CallCut(self.cut_at)
            event = self._events.get_nowait()  # the resync may have ended the call meanwhile
            if event is not None:
                return event
        self._timer_at = max(self._timer_at, self.clock.now())
        return None

    async def _until(self, until: asyncio.Future[Any], timeout_s: float | None) -> bool:
        """Wait for an event in the inbox, ``until`` or the timeout: True when ``until`` is done
        (the event, if one came too, stays in the inbox)."""
        arrived = asyncio.ensure_future(self._events.wait())
        try:
            await asyncio.wait(
                {arrived, until},
                timeout=None if timeout_s is None else self.clock.real_seconds(max(0.0, timeout_s)),
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            arrived.cancel()
        return until.done()

    def now(self) -> datetime:
        """The call's present as it knows it: the last event's time, or when a wait of ours
        last ran out, whichever is later (after an IVR timeout, the last event is seconds old)."""
        return max(self.last_event_at, self._timer_at)

    def _is_caller_gone(self, event: Event) -> bool:
        if isinstance(event, (StasisEnd, ChannelHangupRequest, ChannelDestroyed)):
            return event.channel.id == self.channel_id
        return False

    @property
    def caller_left(self) -> bool:
        """The caller's StasisEnd is already in the inbox: nothing can join the call any more."""
        return self._events.ended

    def deadline(self, seconds: float) -> Callable[[], float]:
        """A countdown in clock seconds, for waits made of several events."""
        loop = asyncio.get_running_loop()
        end = loop.time() + self.clock.real_seconds(seconds)
        speed = self.clock.speed
        return lambda: max(0.0, (end - loop.time()) * speed)

    # --- caller ---------------------------------------------------------------------------------

    async def answer(self) -> None:
        await self._guard(self.ari.answer(self.channel_id))
        self.answered = True
        if self._holding:
            # The 200 ends the 180: the caller's network stops its ring-back.
            self._holding = self._waiting = False

    async def ensure_answered(self) -> None:
        """Answer the caller unless done already. Until then they hear the ring-back of their
        own network (a ``ring`` request sends SIP 180) and pay nothing, as with Dial()."""
        if not self.answered:
            await self.answer()

    async def _guard(self, call: Awaitable[Any]) -> Any:
        """Run a REST call on the caller's channel; a 'gone' answer means the caller left."""
        try:
            return await call
        except AriHttpError as exc:
            if is_gone(exc):
                # The StasisEnd is in the queue (or on its way): read up to it for its time.
                await self.drain_until_gone()
            raise

    async def drain_until_gone(self) -> None:
        """Read up to the caller's hang-up (2 s at most between events), then raise it."""
        while True:
            event = await self.next_event(2.0)
            if event is None:
                at = self.last_event_at
                self.hung_up_at = at
                raise CallerHungUp(at)

    async def play(
        self,
        prompts: Sequence[str],
        *,
        barge_in: bool,
        keys: str = "0123456789*#",
    ) -> tuple[str | None, datetime]:
        """Play prompts (by id) in order; with ``barge_in`` a key stops them and is returned.

        Returns the key (or None) and the time of the event that ended the playback.
        """
        if not prompts:
            return None, self.now()
        await self.stop_waiting()  # a prompt takes the place of the ring-back or the consent
        await self.ensure_answered()
        playback_id = self.new_id("p")
        media = [self.media(p) for p in prompts]
        await self._guard(
            self.ari.play(self.channel_id, media, lang=self.lang, playback_id=playback_id)
        )
        # A playback with an unsupported scheme never finishes on Asterisk: bound the wait.
        limit = self.deadline(600.0)
        while True:
            event = await self.next_event(limit())
            if event is None:
                await self._stop_playback(playback_id)
                return None, self.now()
            if isinstance(event, PlaybackFinished) and event.playback.id == playback_id:
                return None, event.timestamp
            if (
                barge_in
                and isinstance(event, ChannelDtmfReceived)
                and event.channel.id == self.channel_id
                and event.digit in keys
            ):
                await self._stop_playback(playback_id)
                return event.digit, event.timestamp

    def media(self, prompt_id: str) -> str:
        if ":" in prompt_id:
            return prompt_id  # already a media URI (sound:..., recording:..., tone:...)
        return f"{self.sound_prefix}{prompt_id}"

    async def _stop_playback(self, playback_id: str) -> None:
        try:
            await self.ari.stop_playback(playback_id)
        except AriHttpError as exc:
            if not is_gone(exc):
                raise

    async def wait_key(
        self, timeout_s: float, keys: str = "0123456789*#"
    ) -> tuple[str | None, datetime]:
        """The next key within ``timeout_s`` (clock seconds), or None at the timeout."""
        await self.ensure_answered()  # no media, no keys, before the answer
        limit = self.deadline(timeout_s)
        while True:
            event = await self.next_event(limit())
            if event is None:
                return None, self.now()
            if (
                isinstance(event, ChannelDtmfReceived)
                and event.channel.id == self.channel_id
                and event.digit in keys
            ):
                return event.digit, event.timestamp

    async def collect_digits(self, *, max_digits: int, timeout_s: float, end_key: str = "#") -> str:
        """Digits keyed by the caller (a phone number), ended by ``end_key`` or the timeout."""
        digits = ""
        while len(digits) < max_digits:
            key, _ = await self.wait_key(timeout_s)
            if key is None or key == end_key:
                break
            digits += key
        return digits

    # --- what the caller hears while agents ring, or in a queue ----------------------------------

    async def hear_waiting(self, prompt: str | None = None) -> None:
        """The caller waits for an agent: ring-back; with ``prompt`` (the survey's consent),
        that prompt in its place, then the ring-back once it has ended (a playback silences
        Asterisk's ring tone for good, see :meth:`next_event`). Whatever the caller already
        hears for this goes on: an overflow to another service rings on without a gap, and a
        caller leaving a queue for its turn keeps the queue's music while the phones ring.

        Before the answer, ring-back is SIP 180 and the caller's own network plays it; a prompt
        needs the caller answered."""
        self._waiting = True
        if self._aside is not None:
            return
        if prompt is None:
            if not self._holding:
                await self._hold()
            return
        await self._play_aside((prompt,))

    async def wait_in_queue(self, music: str | None, *, hold: bool) -> None:
        """From now on the caller waits in a queue, answered (the queue speaks to them):
        between its announcements they hear the music on hold class ``music`` (None: the ring
        tone). ``hold``: start it now (else the first announcement comes first); a hold sound
        already on changes at once, a prompt playing ends first."""
        await self.ensure_answered()
        self._waiting = True
        if self._holding and music != self._music:
            await self._hold_stop()
        self._music = music
        if hold and not self._holding and self._aside is None:
            await self._hold()

    async def announce(self, prompts: Sequence[str]) -> bool:
        """Say ``prompts`` to a waiting caller in place of the hold sound, which comes back
        once they are said; False when a prompt still plays (this one is skipped)."""
        self._waiting = True
        if self._aside is not None:
            return False
        await self._play_aside(prompts)
        return True

    async def _play_aside(self, prompts: Sequence[str]) -> None:
        await self.ensure_answered()
        self._waiting = True  # the answer ended the network's ring-back, not the wait
        # The playback stops Asterisk's ring tone or music on hold for good (a generator):
        # _after_aside starts it again.
        self._holding = False
        self._aside = self.new_id("p")
        media = [self.media(p) for p in prompts]
        await self._guard(
            self.ari.play(self.channel_id, media, lang=self.lang, playback_id=self._aside)
        )

    async def _hold(self) -> None:
        self._holding = True
        if self._music is None:
            await self._guard(self.ari.ring(self.channel_id))
        else:
            await self._guard(self.ari.moh_start(self.channel_id, self._music))

    async def _hold_stop(self) -> None:
        self._holding = False
        if self._music is None:
            await self._guard(self.ari.ring_stop(self.channel_id))
        else:
            await self._guard(self.ari.moh_stop(self.channel_id))

    async def stop_waiting(self) -> None:
        """The wait is over (an agent answered, or a prompt comes): stop the prompt playing in
        place of the hold sound, or the hold sound. (A caller not answered yet hears their
        network's ring-back until answered.)"""
        self._waiting = False
        aside, self._aside = self._aside, None
        if aside is not None:
            await self._stop_playback(aside)
        if self._holding:
            if self.answered:
                await self._hold_stop()
            self._holding = False

    async def _after_aside(self, event: Event) -> None:
        """The prompt played in place of the hold sound ended: the hold sound follows, if the
        caller still waits (the prompt stopped Asterisk's ring tone or music, which does not
        resume by itself)."""
        if (
            self._aside is not None
            and isinstance(event, PlaybackFinished)
            and event.playback.id == self._aside
        ):
            self._aside = None
            if self._waiting:
                await self._hold()

    async def bridge_with(self, agent_channel: str) -> str:
        """Put the caller and the agent together in a new mixing bridge: the caller answered (or
        their ring tone stopped) while the bridge is made, then both added at once — each
        round trip here is a moment the agent speaks to no one."""
        bridge_id = self.new_id("b")
        self._bridges.append(bridge_id)  # cleanup destroys it whatever happens from here
        caller_side = self.stop_waiting() if self.answered else self.answer()
        await asyncio.gather(caller_side, self.ari.create_bridge("mixing", bridge_id=bridge_id))
        await asyncio.gather(
            self._guard(self.ari.add_channel(bridge_id, self.channel_id)),
            self._add_agent(bridge_id, agent_channel),
        )
        return bridge_id

    async def _add_agent(self, bridge_id: str, agent_channel: str) -> None:
        try:
            await self.ari.add_channel(bridge_id, agent_channel)
        except AriHttpError as exc:
            if not is_gone(exc):
                raise  # gone: the agent hung up meanwhile, its hang-up event will say so

    async def converse(
        self,
        agent_channel: str,
        on_transfer: Callable[[datetime, str], None] | None = None,
    ) -> AgentHungUp:
        """Wait while caller and agent talk. Returns when the agent (or whoever the agent
        transferred the caller to) hangs up first; raises :class:`CallerHungUp` when the caller
        does.

        A blind transfer by the agent's phone swaps a Local channel into the bridge in place of
        the agent (``StasisStart`` with ``replace_channel``): the conversation goes on with it.
        """
        peer = agent_channel
        while True:
            event = await self.next_event(None)
            if (
                isinstance(event, StasisStart)
                and event.replace_channel is not None
                and event.replace_channel.id == peer
            ):
                self.legs.replaced(peer, event.channel.id, event.channel.name)
                peer = event.channel.id
                if self._on_transferred_into is not None:
                    self._on_transferred_into(event.channel.name)
                continue
            if isinstance(event, BridgeBlindTransfer) and on_transfer is not None:
                on_transfer(event.timestamp, event.exten)
                continue
            if (
                isinstance(event, (ChannelHangupRequest, StasisEnd, ChannelDestroyed))
                and event.channel.id == peer
            ):
                self.legs.forget(peer)
                return AgentHungUp(event.timestamp)

    @property
    def bridge_ids(self) -> tuple[str, ...]:
        """The bridges this call made and has not destroyed yet."""
        return tuple(self._bridges)

    async def leave_bridge(self, bridge_id: str) -> None:
        await self._guard(self.ari.remove_channel(bridge_id, self.channel_id))

    # --- the end --------------------------------------------------------------------------------

    async def hangup_caller(self) -> None:
        if self.hung_up_at is not None:
            return
        try:
            await self.ari.hangup(self.channel_id, reason="normal")
        except AriHttpError as exc:
            if not is_gone(exc):
                raise

    async def cleanup(self, *, failed: bool, fallback: DialplanTarget | None) -> None:
        """Leave nothing behind: agent legs and bridges go; a caller still here is hung up, or
        handed back to the dialplan when the flow failed (so a plain ring group can take it)."""
        try:
            await asyncio.wait_for(self._cleanup(failed, fallback), CLEANUP_TIMEOUT_S)
        except (TimeoutError, AriError) as exc:
            log.error("call %s: cleanup incomplete: %s", self.call_id, exc)

    async def _cleanup(self, failed: bool, fallback: DialplanTarget | None) -> None:
        await self.legs.hangup_all()
        for bridge_id in self._bridges:
            with contextlib.suppress(AriHttpError):
                await self.ari.destroy_bridge(bridge_id)
        self._bridges.clear()
        if self.hung_up_at is not None:
            return
        try:
            if failed and fallback is not None:
                await self.ari.continue_in_dialplan(
                    self.channel_id,
                    context=fallback.context,
                    extension=fallback.extension,
                    priority=fallback.priority,
                )
            else:
                await self.ari.hangup(self.channel_id, reason="normal")
        except AriHttpError as exc:
            if not is_gone(exc):
                raise


@dataclass(frozen=True, slots=True)
class DialplanTarget:
    context: str
    extension: str
    priority: int = 1


@dataclass(slots=True)
class StartFacts:
    """What the StasisStart of an inbound call tells."""

    channel: Channel
    dialled: str
    caller_number: str
    at: datetime
    extra_args: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, event: StasisStart) -> StartFacts:
        dialled = event.args[0] if event.args else event.channel.dialplan.exten
        return cls(
            channel=event.channel,
            dialled=dialled,
            caller_number=event.channel.caller.number,
            at=event.timestamp,
            extra_args=list(event.args[1:]),
        )

"""One call's view of Asterisk: its ordered events, and the REST calls on its channels.

A :class:`CallSession` is owned by the call's single task. It reads the call's events, in the
order Asterisk sent them, from the queue the dispatcher fills, and offers the steps the call
flow is made of: answer, play with barge-in, wait for a key, ring agents, bridge, wait for the
end. A caller hanging up at any moment surfaces as one exception, :class:`CallerHungUp`, so the
flow reads straight down; :meth:`CallSession.cleanup` (run in the flow's ``finally``) hangs up
every agent leg and bridge the call created, whatever happened.

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

from routing_rules.routing import RungLeg, leg_outcome_of_cause
from telephony.ari.client import AriClient
from telephony.ari.dispatch import CallEnded, CallInbox
from telephony.ari.errors import AriError, AriHttpError, ServerError, is_gone
from telephony.ari.models import (
    BridgeBlindTransfer,
    Channel,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    ChannelStateChange,
    Dial,
    Event,
    PlaybackFinished,
    StasisEnd,
    StasisStart,
)
from telephony.clock import Clock
from telephony.records.model import LegOutcome

log = logging.getLogger(__name__)

# How long cleanup may take in total, in real seconds, before it gives up on Asterisk.
CLEANUP_TIMEOUT_S = 5.0

# How long, in real seconds, a channel made by channels/create may take to enter the application
# before we dial it anyway. Asterisk answers the create before the channel is in the app, and a
# dial sent before its StasisStart is refused (409 "Channel not in Stasis application"); that
# StasisStart takes a millisecond or so, more under load. A longer wait means it was lost (the
# WebSocket dropped meanwhile), not late: the dial then tells which.
ENTER_TIMEOUT_S = 1.0


class CallerHungUp(Exception):
    """The caller hung up (or left the application); ``at`` is the event's time."""

    def __init__(self, at: datetime) -> None:
        super().__init__(f"caller hung up at {at.isoformat()}")
        self.at = at


@dataclass(slots=True)
class RingStage:
    """Endpoints rung together, for at most ``seconds``."""

    endpoints: Sequence[str]
    seconds: float


@dataclass(slots=True)
class RingResult:
    """How the ringing ended: answered by ``agent_channel`` (``agent_endpoint``), or not, with
    how each leg rung ended (the routing decides from them what comes next)."""

    at: datetime
    legs: tuple[RungLeg, ...] = ()
    agent_channel: str | None = None
    agent_endpoint: str | None = None


@dataclass(slots=True)
class _Leg:
    endpoint: str
    channel_id: str
    dialled: bool = False  # the dial request was sent (after the channel's StasisStart)
    ringing: bool = False
    ended: bool = False
    outcome: LegOutcome | None = None


@dataclass(slots=True)
class LegReport:
    """What the flow tells the call story about agent legs (kept decoupled from the story)."""

    started: Callable[[datetime, str, str | None], None]
    answered: Callable[[datetime, str], None]
    ended: Callable[[datetime, str, LegOutcome, int | None], None]
    failed: Callable[[datetime, str, LegOutcome], None]


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
    ) -> None:
        self.transfer_context = transfer_context
        # Told the name of the Local channel a blind transfer swaps in for the agent: its other
        # half may come back into decroche as a call of its own (see Router).
        self._on_transferred_into = on_transferred_into
        self.call_id = call_id
        self.channel = channel
        self.channel_id = channel.id
        self.ari = ari
        self._events = events
        self._clock = clock
        self._bind = bind
        self.lang = lang
        self.sound_prefix = sound_prefix
        self.last_event_at = started_at
        self.hung_up_at: datetime | None = None
        self._legs: dict[str, _Leg] = {}
        self._endpoints: dict[str, str] = {}  # every agent channel of the call -> its endpoint
        self._bridges: list[str] = []
        self._short = uuid.uuid4().hex[:12]
        self._counter = 0

    # --- events ---------------------------------------------------------------------------------

    def _new_id(self, kind: str) -> str:
        # Random ids: Asterisk refuses an id that is a prefix of a live channel's id.
        self._counter += 1
        return f"dc-{self._short}-{kind}{self._counter}"

    async def next_event(self, timeout_s: float | None) -> Event | None:
        """The call's next event, or None after ``timeout_s`` of clock time.

        Raises :class:`CallerHungUp` when the event says the caller left.
        """
        if self.hung_up_at is not None:
            raise CallerHungUp(self.hung_up_at)
        try:
            if timeout_s is None:
                event = await self._events.get()
            else:
                event = await asyncio.wait_for(
                    self._events.get(), self._clock.real_seconds(max(0.0, timeout_s))
                )
        except TimeoutError:
            return None
        except CallEnded:
            # The inbound channel's StasisEnd was already read: nothing more will come.
            self.hung_up_at = self.last_event_at
            raise CallerHungUp(self.last_event_at) from None
        self.last_event_at = max(self.last_event_at, event.timestamp)
        if self._is_caller_gone(event):
            self.hung_up_at = event.timestamp
            raise CallerHungUp(event.timestamp)
        self._track_leg(event)
        return event

    def _is_caller_gone(self, event: Event) -> bool:
        if isinstance(event, (StasisEnd, ChannelHangupRequest, ChannelDestroyed)):
            return event.channel.id == self.channel_id
        return False

    def _track_leg(self, event: Event) -> None:
        if isinstance(event, (ChannelHangupRequest, ChannelDestroyed, StasisEnd)):
            leg = self._legs.get(event.channel.id)
            if leg is not None:
                leg.ended = True

    def endpoint_of(self, channel_id: str) -> str | None:
        return self._endpoints.get(channel_id)

    def deadline(self, seconds: float) -> Callable[[], float]:
        """A countdown in clock seconds, for waits made of several events."""
        loop = asyncio.get_running_loop()
        end = loop.time() + self._clock.real_seconds(seconds)
        speed = self._clock.speed
        return lambda: max(0.0, (end - loop.time()) * speed)

    # --- caller ---------------------------------------------------------------------------------

    async def answer(self) -> None:
        await self._guard(self.ari.answer(self.channel_id))

    async def _guard(self, call: Awaitable[Any]) -> Any:
        """Run a REST call on the caller's channel; a 'gone' answer means the caller left."""
        try:
            return await call
        except AriHttpError as exc:
            if is_gone(exc):
                # The StasisEnd is in the queue (or on its way): read up to it for its time.
                await self._drain_until_gone()
            raise

    async def _drain_until_gone(self) -> None:
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
            return None, self.last_event_at
        playback_id = self._new_id("p")
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
                return None, self.last_event_at
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
        limit = self.deadline(timeout_s)
        while True:
            event = await self.next_event(limit())
            if event is None:
                return None, self._clock.now()
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

    async def start_ringback(self) -> None:
        await self._guard(self.ari.ring(self.channel_id))

    async def stop_ringback(self) -> None:
        await self._guard(self.ari.ring_stop(self.channel_id))

    # --- agents ---------------------------------------------------------------------------------

    async def ring(
        self,
        stages: Sequence[RingStage],
        *,
        caller_id_name: str,
        caller_id_number: str,
        report: LegReport,
    ) -> RingResult:
        """Ring agents stage by stage until one answers; hang up the others.

        The caller must already hear ringback. How each leg ended is read from its hang-up
        cause (``routing_rules.routing.leg_outcome_of_cause``: Asterisk sends no final Dial
        status); the result carries them for the routing to decide what comes next.
        """
        # Set on each agent channel as it is created.
        variables = {"CALLERID(name)": caller_id_name, "CALLERID(num)": caller_id_number}
        if self.transfer_context:
            # Where a blind transfer from the agent's phone goes (asterisk/extensions.conf).
            variables["TRANSFER_CONTEXT"] = self.transfer_context
        legs: list[RungLeg] = []
        for stage in stages:
            result = await self._ring_stage(stage, variables, report, legs)
            if result is not None:
                return result
        return RingResult(self.last_event_at, tuple(legs))

    async def _ring_stage(
        self,
        stage: RingStage,
        variables: dict[str, str],
        report: LegReport,
        rung: list[RungLeg],
    ) -> RingResult | None:
        legs = await self._create_legs(stage, variables, report, rung)
        # Asterisk's own timeout is a safety net a little after ours.
        ring_timeout = int(stage.seconds) + 5
        limit = self.deadline(stage.seconds)
        entering = self.deadline(self._clock.speed * ENTER_TIMEOUT_S)
        try:
            while any(leg.outcome is None for leg in legs.values()):
                undialled = [
                    leg for leg in legs.values() if leg.outcome is None and not leg.dialled
                ]
                event = await self.next_event(min(limit(), entering()) if undialled else limit())
                if event is None:
                    if undialled and limit() > 0:
                        # No StasisStart within ENTER_TIMEOUT_S: dial once anyway. Either the
                        # event was lost and the channel is in the app (it rings), or it is not
                        # and the 409 fails the leg, which is hung up at once.
                        for leg in undialled:
                            await self._dial_leg(leg, ring_timeout, report)
                        continue
                    break  # stage timeout: the finally hangs up who still rings
                channel = _channel_of(event)
                current = legs.get(channel) if channel else None
                if current is None or current.outcome is not None:
                    continue
                leg = current
                if isinstance(event, StasisStart):
                    if not leg.dialled:
                        await self._dial_leg(leg, ring_timeout, report)
                elif _is_ringing(event):
                    leg.ringing = True
                elif isinstance(event, ChannelStateChange) and event.channel.state == "Up":
                    leg.outcome = LegOutcome.ANSWERED
                    report.answered(event.timestamp, leg.channel_id)
                    return RingResult(
                        event.timestamp, agent_channel=leg.channel_id, agent_endpoint=leg.endpoint
                    )
                elif isinstance(event, (ChannelHangupRequest, ChannelDestroyed)):
                    outcome = leg_outcome_of_cause(event.cause)
                    self._end_leg(leg, event.timestamp, outcome, event.cause, report)
                elif isinstance(event, StasisEnd):
                    self._end_leg(leg, event.timestamp, LegOutcome.FAILED, None, report)
            await self._end_unanswered(legs, report)
        finally:
            answered = any(leg.outcome is LegOutcome.ANSWERED for leg in legs.values())
            for leg in legs.values():
                if leg.outcome is None:
                    # Still ringing: another agent answered (cancelled), or the stage's time ran
                    # out, or the caller left (no answer); never dialled: it never rang. We hang
                    # it up.
                    if answered:
                        outcome = LegOutcome.CANCELLED
                    else:
                        outcome = LegOutcome.NO_ANSWER if leg.dialled else LegOutcome.FAILED
                    self._end_leg(leg, self.last_event_at, outcome, None, report)
                    if not leg.ended:
                        await self._hangup_leg(leg.channel_id)
                if leg.outcome is not LegOutcome.ANSWERED:
                    rung.append(RungLeg(leg.endpoint, leg.outcome or LegOutcome.FAILED))
        return None

    async def _create_legs(
        self,
        stage: RingStage,
        variables: dict[str, str],
        report: LegReport,
        rung: list[RungLeg],
    ) -> dict[str, _Leg]:
        """Create the stage's agent channels, all at once: the first phone then rings one round
        trip after the decision, whatever the number of agents. They are dialled as each one's
        StasisStart arrives (see :meth:`_ring_stage`)."""
        if self._events.ended:
            # The caller's StasisEnd came while we were busy (say, during the ring-back request):
            # nothing can be bound to the call any more, and nobody is left to ring for.
            await self._drain_until_gone()
        planned = [_Leg(endpoint, self._new_id("a")) for endpoint in stage.endpoints]
        for leg in planned:
            # Bound and owned before the request: its events may come before the answer, and
            # cleanup hangs it up whatever happens from here on.
            self._bind(leg.channel_id)
            self._legs[leg.channel_id] = leg
            self._endpoints[leg.channel_id] = leg.endpoint
        refused = await asyncio.gather(*(self._create_channel(leg, variables) for leg in planned))
        legs: dict[str, _Leg] = {}
        for leg, error in zip(planned, refused, strict=True):
            if error is None:
                legs[leg.channel_id] = leg
                report.started(self.last_event_at, leg.endpoint, leg.channel_id)
                continue
            # 500 {"error": "Allocation failed"}: the endpoint is not registered.
            outcome = (
                LegOutcome.UNREACHABLE if isinstance(error, ServerError) else LegOutcome.FAILED
            )
            log.info("call %s: cannot reach %s: %s", self.call_id, leg.endpoint, error)
            del self._legs[leg.channel_id], self._endpoints[leg.channel_id]
            report.failed(self.last_event_at, leg.endpoint, outcome)
            rung.append(RungLeg(leg.endpoint, outcome))
        return legs

    async def _create_channel(self, leg: _Leg, variables: dict[str, str]) -> AriHttpError | None:
        try:
            await self.ari.create_channel(
                leg.endpoint,
                app_args=f"agent,{self.call_id}",
                channel_id=leg.channel_id,
                variables=variables,
            )
        except AriHttpError as exc:
            return exc
        return None

    async def _dial_leg(self, leg: _Leg, ring_timeout: int, report: LegReport) -> None:
        leg.dialled = True
        try:
            await self.ari.dial(leg.channel_id, caller=self.channel_id, ring_timeout=ring_timeout)
        except AriHttpError as exc:
            log.warning("call %s: dialling %s failed: %s", self.call_id, leg.endpoint, exc)
            self._end_leg(leg, self.last_event_at, LegOutcome.FAILED, None, report)
            # At once: a dead channel left on the phone until the caller's call ends would make
            # the agent look busy to every other call meanwhile.
            await self._hangup_leg(leg.channel_id)

    async def _end_unanswered(self, legs: dict[str, _Leg], report: LegReport) -> None:
        """The stage's time ran out: hang up who still rings, and date the end of each leg by
        its own hang-up event (our timer fired between two events, so it has no timestamp)."""
        ringing = [leg for leg in legs.values() if leg.outcome is None]
        for leg in ringing:
            await self._hangup_leg(leg.channel_id, forget=False)
        waiting = {leg.channel_id: leg for leg in ringing}
        limit = self.deadline(self._clock.speed * 2.0)  # 2 s of real time at most
        while waiting:
            event = await self.next_event(limit())
            if event is None:
                break
            if isinstance(event, (ChannelHangupRequest, ChannelDestroyed, StasisEnd)):
                ended = waiting.pop(event.channel.id, None)
                if ended is not None:
                    # A leg never dialled (its StasisStart still awaited) never rang.
                    outcome = LegOutcome.NO_ANSWER if ended.dialled else LegOutcome.FAILED
                    self._end_leg(ended, event.timestamp, outcome, None, report)
        for leg in ringing:
            self._legs.pop(leg.channel_id, None)

    def _end_leg(
        self,
        leg: _Leg,
        at: datetime,
        outcome: LegOutcome,
        cause: int | None,
        report: LegReport,
    ) -> None:
        leg.outcome = outcome
        report.ended(at, leg.channel_id, outcome, cause)

    async def _hangup_leg(self, channel_id: str, *, forget: bool = True) -> None:
        try:
            await self.ari.hangup(channel_id)
        except AriHttpError as exc:
            if not is_gone(exc):
                log.warning("call %s: hanging up %s failed: %s", self.call_id, channel_id, exc)
        if forget:
            self._legs.pop(channel_id, None)

    async def bridge_with(self, agent_channel: str) -> str:
        """Put the caller and the agent together in a new mixing bridge."""
        bridge_id = self._new_id("b")
        await self.ari.create_bridge("mixing", bridge_id=bridge_id)
        self._bridges.append(bridge_id)
        await self._guard(self.ari.add_channel(bridge_id, self.channel_id))
        try:
            await self.ari.add_channel(bridge_id, agent_channel)
        except AriHttpError as exc:
            if not is_gone(exc):
                raise
        return bridge_id

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
                self._legs.pop(peer, None)
                peer = event.channel.id
                self._endpoints[peer] = event.channel.name
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
                self._legs.pop(peer, None)
                return AgentHungUp(event.timestamp)

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
        for channel_id in list(self._legs):
            await self._hangup_leg(channel_id)
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


def _is_ringing(event: Event) -> bool:
    # Dial RINGING and ChannelStateChange Ringing come in either order: either one will do.
    if isinstance(event, Dial):
        return event.dialstatus == "RINGING"
    return isinstance(event, ChannelStateChange) and event.channel.state == "Ringing"


def _channel_of(event: Event) -> str | None:
    if isinstance(event, Dial):
        return event.peer.id
    channel = getattr(event, "channel", None)
    if isinstance(channel, Channel):
        return channel.id
    return None


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

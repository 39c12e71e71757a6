"""Ringing agents for one call: the stages of a ring plan, until an agent answers or none does.

A stage's agent channels are created together (``channels/create``): the first phone rings one
round trip after the decision, whatever the number of agents. Each is dialled when its own
``StasisStart`` arrives: Asterisk answers the create before the channel is in the application,
and refuses a dial sent in between (409 "Channel not in Stasis application"). No
``StasisStart`` within :data:`ENTER_TIMEOUT_S`: it was lost with the WebSocket, not late, and
the leg is dialled once anyway (the dial then tells which). A leg whose dial fails is hung up
at once, so that phone is free for other calls (Asterisk counts any channel on an endpoint as
in use).

How each leg ended is read from its hang-up cause (``routing_rules.routing.leg_outcome_of_cause``:
Asterisk sends no final Dial status) and told to the call story as it happens; the
:class:`RingResult` carries them, for the routing to decide what follows
(``routing_rules.routing.after_ringing``). The end of a stage is dated by the hang-up events of
the legs we cancel, never by our timer.

Two clocks, two meanings (issue 15, defect 7):

- **A stage's time is the caller's.** A service's "N rings" is how long its caller waits: a
  stage lasts its seconds from the moment its phones are called, whether they start ringing at
  once, late, or never (a phone that does not answer the INVITE does not make the caller wait
  longer, nor less).
- **A leg's ring time is the phone's.** It starts at the phone's 180 (``ChannelStateChange`` to
  ``Ringing``, or ``Dial`` ``RINGING``, whichever Asterisk tells first) and ends at its answer or
  its hang-up. A phone that never sent 180 never rang: no ring time, and when the stage's time
  ran out on it the leg is ``unreachable``, not ``no_answer``; stopped because the caller left or
  another agent answered, it is ``cancelled``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from routing_rules.routing import RungLeg, leg_outcome_of_cause
from telephony.ari.errors import AriHttpError, ServerError
from telephony.ari.models import (
    Channel,
    ChannelDestroyed,
    ChannelHangupRequest,
    ChannelStateChange,
    Dial,
    Event,
    StasisEnd,
    StasisStart,
)
from telephony.flow.legs import RingingLeg
from telephony.flow.session import CallSession
from telephony.records.model import LegOutcome

log = logging.getLogger(__name__)

# How long, in real seconds, a channel made by channels/create may take to enter the application
# before we dial it anyway. Asterisk answers the create before the channel is in the app, and a
# dial sent before its StasisStart is refused (409 "Channel not in Stasis application"); that
# StasisStart takes a millisecond or so, more under load. A longer wait means it was lost (the
# WebSocket dropped meanwhile), not late: the dial then tells which.
ENTER_TIMEOUT_S = 1.0


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
class LegReport:
    """What the flow tells the call story about agent legs (kept decoupled from the story)."""

    started: Callable[[str, str], None]  # endpoint, channel: the phone is called
    ringing: Callable[[datetime, str], None]  # the phone's 180
    answered: Callable[[datetime, str], None]
    ended: Callable[[datetime, str, LegOutcome, int | None], None]
    failed: Callable[[datetime, str, LegOutcome], None]


async def ring_agents(
    session: CallSession,
    stages: Sequence[RingStage],
    *,
    caller_id_name: str,
    caller_id_number: str,
    report: LegReport,
    meanwhile: Callable[[], Awaitable[None]] | None = None,
    can_ring: Callable[[str], bool] | None = None,
) -> RingResult:
    """Ring agents stage by stage until one answers; hang up the others.

    ``can_ring`` (an endpoint: may it be rung now?) is asked as each stage starts: the plan was
    made when the service was chosen, and by a later stage one of its phones may be ringing
    for, or talking with, another caller. Such a phone is not rung, and a stage left without
    phones is skipped.

    ``meanwhile`` (the caller's ring-back) is asked for together with the first stage's
    channels: neither waits for the other. Raises ``CallerHungUp`` when the caller leaves.
    """
    # Set on each agent channel as it is created. What the phone shows is the channel's
    # connected line (the INVITE's From); `i`: store it, no update to send yet. The dial then
    # goes without `caller=`, which would copy the caller's own identity over it.
    variables = {
        "CONNECTEDLINE(name,i)": caller_id_name,
        "CONNECTEDLINE(num,i)": caller_id_number,
    }
    if session.transfer_context:
        # Where a blind transfer from the agent's phone goes (asterisk/extensions.conf).
        variables["TRANSFER_CONTEXT"] = session.transfer_context
    ringing = _Ringing(session, variables, report)
    for planned in stages:
        stage = planned
        if can_ring is not None:
            stage = RingStage([e for e in planned.endpoints if can_ring(e)], planned.seconds)
            if not stage.endpoints:
                continue
        result = await ringing.stage(stage, meanwhile)
        meanwhile = None
        if result is not None:
            return result
    return RingResult(session.now(), ringing.rung)


class _Ringing:
    """One ringing of a call: its legs' channel variables, its report, the legs rung so far."""

    def __init__(self, session: CallSession, variables: dict[str, str], report: LegReport) -> None:
        self._session = session
        self._variables = variables
        self._report = report
        self._rung: list[RungLeg] = []

    @property
    def rung(self) -> tuple[RungLeg, ...]:
        """Every leg that ended unanswered, in order (a refused channel included)."""
        return tuple(self._rung)

    async def stage(
        self, stage: RingStage, meanwhile: Callable[[], Awaitable[None]] | None = None
    ) -> RingResult | None:
        """Ring one stage: the answer, or None once every leg ended or the time is up."""
        legs = await self._create_legs(stage, meanwhile)
        # Asterisk's own timeout is a safety net a little after ours.
        ring_timeout = int(stage.seconds) + 5
        limit = self._session.deadline(stage.seconds)
        entering = self._session.deadline(self._session.clock.speed * ENTER_TIMEOUT_S)
        try:
            while any(leg.outcome is None for leg in legs.values()):
                undialled = [
                    leg for leg in legs.values() if leg.outcome is None and not leg.dialled
                ]
                event = await self._session.next_event(
                    min(limit(), entering()) if undialled else limit()
                )
                if event is None:
                    if undialled and limit() > 0:
                        # No StasisStart within ENTER_TIMEOUT_S: dial once anyway. Either the
                        # event was lost and the channel is in the app (it rings), or it is not
                        # and the 409 fails the leg, which is hung up at once.
                        for leg in undialled:
                            await self._dial(leg, ring_timeout)
                        continue
                    break  # stage timeout: the finally hangs up who still rings
                channel = _channel_of(event)
                current = legs.get(channel) if channel else None
                if current is None or current.outcome is not None:
                    continue
                leg = current
                if isinstance(event, StasisStart):
                    if not leg.dialled:
                        await self._dial(leg, ring_timeout)
                elif _is_ringing(event):
                    if leg.ringing_at is None:
                        leg.ringing_at = event.timestamp
                        self._report.ringing(event.timestamp, leg.channel_id)
                elif isinstance(event, ChannelStateChange) and event.channel.state == "Up":
                    leg.outcome = LegOutcome.ANSWERED
                    self._report.answered(event.timestamp, leg.channel_id)
                    return RingResult(
                        event.timestamp, agent_channel=leg.channel_id, agent_endpoint=leg.endpoint
                    )
                elif isinstance(event, (ChannelHangupRequest, ChannelDestroyed)):
                    rang = leg.ringing_at is not None
                    outcome = leg_outcome_of_cause(event.cause, rang=rang)
                    self._end(leg, event.timestamp, outcome, event.cause)
                elif isinstance(event, StasisEnd):
                    self._end(leg, event.timestamp, LegOutcome.FAILED, None)
            await self._end_unanswered(legs)
        finally:
            answered = any(leg.outcome is LegOutcome.ANSWERED for leg in legs.values())
            for leg in legs.values():
                if leg.outcome is None:
                    # Still called: another agent answered, or the caller left, or the stage's
                    # time ran out (see _end_unanswered). We hang it up.
                    outcome = self._stopped(leg, answered=answered)
                    # Cut by the PBX or the link: the leg ended with the call, at its cut.
                    at = self._session.cut_at or self._session.last_event_at
                    self._end(leg, at, outcome, None)
                    if not leg.ended:
                        await self._session.legs.hangup(leg.channel_id)
                if leg.outcome is not LegOutcome.ANSWERED:
                    self._rung.append(RungLeg(leg.endpoint, leg.outcome or LegOutcome.FAILED))
        return None

    async def _create_legs(
        self, stage: RingStage, meanwhile: Callable[[], Awaitable[None]] | None
    ) -> dict[str, RingingLeg]:
        """Create the stage's agent channels, all at once and together with ``meanwhile``: the
        first phone then rings one round trip after the decision, whatever the number of
        agents. They are dialled as each one's StasisStart arrives (see :meth:`stage`)."""
        if self._session.caller_left:
            # The caller's StasisEnd came while we were busy (say, during the ring-back request):
            # nothing can be bound to the call any more, and nobody is left to ring for.
            await self._session.drain_until_gone()
        planned = [RingingLeg(endpoint, self._session.new_id("a")) for endpoint in stage.endpoints]
        for leg in planned:
            # Bound and owned before the request: its events may come before the answer, and
            # cleanup hangs it up whatever happens from here on.
            self._session.bind(leg.channel_id)
            self._session.legs.own(leg)
        # The channels first: their requests leave before the caller's ring-back.
        requests = [self._create_channel(leg) for leg in planned]
        if meanwhile is not None:
            requests.append(_nothing_refused(meanwhile))
        done = await asyncio.gather(*requests, return_exceptions=True)
        for outcome in done:
            if isinstance(outcome, BaseException):
                raise outcome  # the caller left, say: the legs are owned, cleanup hangs them up
        refused = [
            outcome for outcome in done[: len(planned)] if not isinstance(outcome, BaseException)
        ]
        legs: dict[str, RingingLeg] = {}
        for leg, error in zip(planned, refused, strict=True):
            if error is None:
                legs[leg.channel_id] = leg
                self._report.started(leg.endpoint, leg.channel_id)
                continue
            # 500 {"error": "Allocation failed"}: the endpoint is not registered.
            outcome = (
                LegOutcome.UNREACHABLE if isinstance(error, ServerError) else LegOutcome.FAILED
            )
            log.info("call %s: cannot reach %s: %s", self._session.call_id, leg.endpoint, error)
            self._session.legs.refused(leg)
            self._report.failed(self._session.now(), leg.endpoint, outcome)
            self._rung.append(RungLeg(leg.endpoint, outcome))
        return legs

    async def _create_channel(self, leg: RingingLeg) -> AriHttpError | None:
        try:
            await self._session.ari.create_channel(
                leg.endpoint,
                app_args=f"agent,{self._session.call_id}",
                channel_id=leg.channel_id,
                # Linked to the caller's channel (one call in Asterisk's CDR, the caller's
                # codecs offered first); unlike dial's caller=, it leaves the connected line.
                originator=self._session.channel_id,
                variables=self._variables,
            )
        except AriHttpError as exc:
            return exc
        return None

    async def _dial(self, leg: RingingLeg, ring_timeout: int) -> None:
        leg.dialled = True
        try:
            await self._session.ari.dial(leg.channel_id, ring_timeout=ring_timeout)
        except AriHttpError as exc:
            log.warning("call %s: dialling %s failed: %s", self._session.call_id, leg.endpoint, exc)
            self._end(leg, self._session.now(), LegOutcome.FAILED, None)
            # At once: a dead channel left on the phone until the caller's call ends would make
            # the agent look busy to every other call meanwhile.
            await self._session.legs.hangup(leg.channel_id)

    async def _end_unanswered(self, legs: dict[str, RingingLeg]) -> None:
        """The stage's time ran out: hang up who still rings, and date the end of each leg by
        its own hang-up event (our timer fired between two events, so it has no timestamp)."""
        ringing = [leg for leg in legs.values() if leg.outcome is None]
        for leg in ringing:
            await self._session.legs.hangup(leg.channel_id, forget=False)
        waiting = {leg.channel_id: leg for leg in ringing}
        limit = self._session.deadline(self._session.clock.speed * 2.0)  # 2 s of real time at most
        while waiting:
            event = await self._session.next_event(limit())
            if event is None:
                break
            if isinstance(event, (ChannelHangupRequest, ChannelDestroyed, StasisEnd)):
                ended = waiting.pop(event.channel.id, None)
                if ended is not None:
                    self._end(ended, event.timestamp, self._stopped(ended, answered=False), None)
        for leg in ringing:
            self._session.legs.forget(leg.channel_id)

    def _stopped(self, leg: RingingLeg, *, answered: bool) -> LegOutcome:
        """How a leg we hang up ended: another agent answered, or the PBX cut the call
        (cancelled), the caller left (no answer if it rang, else cancelled before it could), or
        the stage's time ran out (no answer if it rang, else unreachable: it had the whole stage
        to; never dialled: its channel never entered the application, it failed)."""
        if answered or self._session.cut_at is not None:
            return LegOutcome.CANCELLED
        if leg.ringing_at is not None:
            return LegOutcome.NO_ANSWER
        if self._session.hung_up_at is not None:
            return LegOutcome.CANCELLED
        if not leg.dialled:
            return LegOutcome.FAILED
        return LegOutcome.UNREACHABLE

    def _end(self, leg: RingingLeg, at: datetime, outcome: LegOutcome, cause: int | None) -> None:
        leg.outcome = outcome
        self._report.ended(at, leg.channel_id, outcome, cause)


async def _nothing_refused(request: Callable[[], Awaitable[None]]) -> AriHttpError | None:
    await request()
    return None


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

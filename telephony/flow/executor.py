"""The call flow: carries out the pure routing decisions on one call, step by step.

Every choice (entry, menu, service, who rings, overflow, what follows an unanswered ringing) is
made by ``routing_rules`` from the rules version the call started with, the time and the agents'
snapshot; this module only plays prompts, waits for keys, rings, bridges, and tells the call
story what happened, with the time of the event that proved it. The caller hanging up at any
point raises :class:`~telephony.flow.session.CallerHungUp` out of :meth:`CallFlow.run`; the
router's ``finally`` then cleans up and records the call.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from routing_rules.agents import AgentsView
from routing_rules.compiled import (
    CompiledRules,
    OverflowReason,
    OverflowTarget,
    PlayMessage,
    SurveyRules,
    TakeCallback,
    ToService,
)
from routing_rules.ivr import (
    EndWithMessage,
    GoToService,
    IvrAction,
    IvrStep,
    Key,
    Play,
    PromptFinished,
    StartCallback,
    Timeout,
    WaitForKey,
    ivr_next,
    ivr_start,
)
from routing_rules.kinds import NumberChoice
from routing_rules.routing import (
    AuditMark,
    CallFacts,
    Closed,
    ColleagueAway,
    GoService,
    Overflow,
    Reached,
    ReachedKind,
    Ring,
    Routed,
    RungLeg,
    StopRinging,
    ToColleague,
    TransferDecision,
    Wait,
    after_ringing,
    audit_agents,
    audit_ring,
    can_ring,
    entry_point,
    left_queue,
    position_prompts,
    route_onward,
    route_service,
    transfer_destination,
)
from routing_rules.routing.service import RingPlan
from telephony.clock import Clock
from telephony.flow.agents import AgentTracker
from telephony.flow.audit import tell_reached
from telephony.flow.queues import ServiceQueues
from telephony.flow.ringing import LegReport, RingStage, ring_agents
from telephony.flow.session import CallSession
from telephony.flow.story import CallStory
from telephony.flow.survey import ask_survey, survey_of_call
from telephony.records.model import (
    CallbackRequest,
    CallOutcome,
    EntryOutcome,
    IvrEventKind,
    LegOutcome,
    Transfer,
)

log = logging.getLogger(__name__)

# Longest phone number a caller may key in for a callback (French numbers have 10 digits).
_MAX_NUMBER_DIGITS = 15
_NUMBER_TIMEOUT_S = 8.0
# How many times the callback invitation is said to a caller who presses nothing.
_CHOICE_PLAYS = 2


class CallLinks(Protocol):
    """What the flow tells of, and asks about, the calls a blind transfer links it to (the
    router's ``telephony.flow.transfers.TransferLinks``)."""

    def answered(self, service_id: str | None, endpoint: str) -> None: ...

    def finisher(self) -> tuple[str | None, str] | None: ...


def describe_target(target: OverflowTarget) -> str:
    """How ``overflow_to`` names a destination in the call records."""
    if isinstance(target, ToService):
        return target.service_id
    if isinstance(target, PlayMessage):
        return f"message:{target.prompt_id}"
    return "callback"


class CallFlow:
    def __init__(
        self,
        *,
        session: CallSession,
        story: CallStory,
        rules: CompiledRules,
        clock: Clock,
        agents: AgentTracker,
        queues: ServiceQueues,
        facts: CallFacts,
        audit: AuditMark | None = None,
        test_phone: str | None = None,
        transfer: bool = False,
        links: CallLinks | None = None,
    ) -> None:
        self.session = session
        # The services' queues, the router's: shared by every call.
        self.queues = queues
        # One of decroche's audit calls (routing.audit): every agent seen present, none rung.
        self.audit = audit
        self.test_phone = test_phone
        self.story = story
        self.rules = rules
        self.clock = clock
        self.agents = agents
        self.facts = facts
        self._now = story.started_at
        # An agent's blind transfer brought this leg in: no welcome, no survey consent.
        self.transfer = transfer
        self._links = links
        # The satisfaction survey: sampled once, when the call first rings a service (a
        # transferred leg's caller was sampled, or not, when their call first rang).
        self._survey_sampled = transfer
        self._survey: SurveyRules | None = None

    async def run(self) -> None:
        # No answer yet: the caller is answered when first spoken to (a prompt), or when an
        # agent answers on a direct line (CallSession.ensure_answered).
        now = self.clock.now()
        decision: TransferDecision
        if self.transfer:
            decision = transfer_destination(
                self.rules, self.story.dialled, now, self._view(), self.facts
            )
        else:
            decision = entry_point(self.rules, self.story.dialled, now)
        start = self.story.started_at
        if isinstance(decision, Closed):
            await self.end_with_message(decision.prompt_id)
            self.story.set_outcome(CallOutcome.CLOSED)
            return
        if isinstance(decision, GoService | ColleagueAway):
            await self.serve(decision.service_id, start)
            return
        if isinstance(decision, ToColleague):
            await self.serve_routed(Routed((), decision.ring), start)
            return
        action, at = await self.ivr(decision.menu_id, greet=decision.greet)
        if isinstance(action, GoToService):
            await self.serve(action.service_id, at)
        elif isinstance(action, EndWithMessage):
            await self.end_with_message(action.prompt_id)
        elif isinstance(action, StartCallback):
            await self.take_callback(action.callback, None, at)

    # --- IVR -------------------------------------------------------------------------------------

    def _note(self, step: IvrStep, at: datetime) -> None:
        for note in step.notes:
            self.story.ivr(at, note.menu_id, IvrEventKind(note.kind.value), note.key)

    async def ivr(self, menu_id: str, *, greet: bool = True) -> tuple[IvrAction, datetime]:
        """Run the menus until the caller is sent somewhere; returns where, and when."""
        step = ivr_start(self.rules, menu_id, greet=greet)
        at = self.session.last_event_at
        while True:
            self._note(step, at)
            if step.state is None:
                return step.actions[-1], at
            state = step.state
            event: Key | PromptFinished | Timeout | None = None
            for action in step.actions:
                if isinstance(action, Play):
                    key, at = await self.session.play(action.prompt_ids, barge_in=True)
                    event = Key(key) if key is not None else PromptFinished()
                elif isinstance(action, WaitForKey):
                    key, at = await self.session.wait_key(action.timeout_s)
                    event = Key(key) if key is not None else Timeout()
            if event is None:
                # A step with nothing to do waits for the caller (never loop on nothing).
                key, at = await self.session.wait_key(60.0)
                event = Key(key) if key is not None else Timeout()
            step = ivr_next(self.rules, state, event)

    # --- services --------------------------------------------------------------------------------

    async def serve(self, service_id: str, at: datetime) -> None:
        """The caller asked for a service: follow the rules until an agent answers or it ends."""
        routed = route_service(self.rules, service_id, self.clock.now(), self._view(), self.facts)
        await self.serve_routed(routed, at)

    async def serve_routed(self, routed: Routed, at: datetime) -> None:
        """Carry a routing out: ring, and follow what routing says after each ringing."""
        if routed.announcements:
            routed, at = await self._announce_closed(routed, at)
        while True:
            self._carry_hops(routed, at)
            final = routed.final
            if isinstance(final, PlayMessage):
                await self.end_with_message(final.prompt_id)
                return
            if isinstance(final, TakeCallback):
                service = routed.hops[-1].service_id if routed.hops else None
                await self.take_callback(final, service, at)
                return
            if isinstance(final, Wait):
                routed, at = await self.wait_in_queue(final, at)
                continue
            next_routed = await self.ring(final, at)
            if next_routed is None:
                return
            routed, at = next_routed

    def _carry_hops(self, routed: Routed, at: datetime) -> None:
        for hop in routed.hops:
            self._overflow(hop, at)

    async def _announce_closed(self, routed: Routed, at: datetime) -> tuple[Routed, datetime]:
        """The service asked for is closed: the caller hears its message first, and where the
        call goes next is decided once it has been heard. Decided before, the phones rung after
        it were chosen seconds earlier (one may ring for another call by then), and a caller
        who hung up during it was recorded in services they never reached."""
        closed = routed.hops[0]
        self._overflow(closed, at)
        for prompt in routed.announcements:
            _, at = await self.session.play((prompt,), barge_in=False)
        onward = route_onward(self.rules, closed, self.clock.now(), self._view(), self.facts)
        return Routed(onward.hops[1:], onward.final), at

    def _view(self) -> AgentsView:
        """The agents as routing sees them: with the phones reserved for a queue's turn, and
        the callers waiting in each queue. An audit call sees every agent free and nobody
        waiting: it never waits in a queue."""
        if self.audit is not None:
            return audit_agents(self.rules)
        return self.queues.view(self.agents.view())

    async def _reached(self, kind: ReachedKind, target: str) -> None:
        """An audit call tells the robot where it ended (nothing for a caller's call)."""
        if self.audit is not None:
            await tell_reached(self.session.ari, self.session.channel_id, Reached(kind, target))

    def _overflow(self, hop: Overflow, at: datetime) -> None:
        if self.story.current_service != hop.service_id:
            # The routing decision says whether the service was closed when the call came in;
            # the record keeps it, so the figures never re-read hours that may have changed.
            closed = hop.reason is OverflowReason.CLOSED
            self.story.enter(at, hop.service_id, closed=closed)
        self.story.leave(at, hop.entry_outcome, describe_target(hop.target))

    async def ring(self, decision: Ring, at: datetime) -> tuple[Routed, datetime] | None:
        """Ring the plan; bridge on answer. Returns the next routing when nobody answered."""
        plan = decision.plan
        if self.audit is not None:
            await self._reached(ReachedKind.SERVICE, plan.service_id)
            instead = audit_ring(plan, self.test_phone)
            if isinstance(instead, StopRinging):
                log.info("call %s: %s", self.story.call_id, instead.why)
                return None
            await self._ring_test_phone(instead, at)
            return None
        # The caller's wait counts from here, the moment the service is chosen: a sampled
        # caller hears the survey's consent while the phones ring, in place of the ring-back.
        consent = self.offer_survey(plan.service_id) if plan.steps else None
        if self.story.current_service != plan.service_id:
            self.story.enter(at, plan.service_id)  # (a caller from its queue is in already)
        if plan.steps:
            self.agents.started_with(plan.service_id, plan.first_endpoint)
        self.story.ringing(at)
        stages = [RingStage(step.endpoints, step.seconds) for step in plan.steps]
        report = LegReport(
            started=self._leg_started,
            ringing=self.story.leg_ringing,
            answered=self.story.leg_answered,
            ended=self._leg_ended,
            failed=self._leg_failed,
        )
        # A hidden number has no number to show: the rules' word is in the name only.
        number = self.facts.caller_number or ""
        result = await ring_agents(
            self.session,
            stages,
            caller_id_name=plan.caller_id,
            caller_id_number=number,
            report=report,
            # The caller's ring-back (or consent), asked for together with the agents' channels.
            meanwhile=lambda: self.session.hear_waiting(consent),
            can_ring=lambda endpoint: self._may_ring(plan.service_id, endpoint),
        )
        if result.agent_channel is not None and result.agent_endpoint is not None:
            await self.converse(result.agent_channel, result.agent_endpoint)
            return None
        view = self._view()
        legs = list(result.legs)
        if self.audit is None and self.rules.services[plan.service_id].queue is not None:
            # The phones that answered busy lately are not tried again at once: a phone on do
            # not disturb would otherwise be rung in a loop with the service's others.
            view = self.queues.resting_busy(view)
            if not legs and plan.steps:
                # Every phone of the plan was taken by another call by the time it would have
                # rung (can_ring): they are busy, and the caller goes back to the queue.
                endpoints = dict.fromkeys(e for step in plan.steps for e in step.endpoints)
                legs = [RungLeg(endpoint, LegOutcome.BUSY) for endpoint in endpoints]
        routed = after_ringing(
            self.rules,
            plan.service_id,
            legs,
            self.clock.now(),
            view,
            self.facts,
            queued_s=self._queued_s(result.at),
        )
        # The caller keeps hearing the ring-back (or the consent) until a prompt takes its place
        # or the next service's phones ring.
        return routed, result.at

    async def _ring_test_phone(self, plan: RingPlan, at: datetime) -> None:
        """An audit call rings the test phone as the service's agents would be rung; answered,
        it is bridged; unanswered, the audit call ends there (the overflows that follow are
        checked by simulation)."""
        self.story.enter(at, plan.service_id)
        stages = [RingStage(step.endpoints, step.seconds) for step in plan.steps]
        report = LegReport(
            started=self.story.leg_started,
            ringing=self.story.leg_ringing,
            answered=self.story.leg_answered,
            ended=self.story.leg_ended,
            failed=self.story.leg_failed,
        )
        result = await ring_agents(
            self.session,
            stages,
            caller_id_name=plan.caller_id,
            caller_id_number=self.facts.caller_number or "",
            report=report,
            meanwhile=self.session.hear_waiting,
        )
        if result.agent_channel is not None:
            await self.session.bridge_with(result.agent_channel)
            await self.session.converse(result.agent_channel)

    def _queued_s(self, at: datetime) -> float | None:
        """How long the caller has waited in the current service's queue (None: never)."""
        since = self.story.queue_started_at
        return None if since is None else max(0.0, (at - since).total_seconds())

    # --- the service's queue ---------------------------------------------------------------------

    async def wait_in_queue(self, wait: Wait, at: datetime) -> tuple[Routed, datetime]:
        """Wait in the service's queue: its announcements (message, position), the music or the
        ring tone between them, until the caller's turn (a free agent rings for them), the end
        of the maximum wait (busy overflow), or no agent present any more (nobody overflow).
        The entry's wait counts on from the moment the service was chosen."""
        queue = wait.queue
        service_id = wait.service_id
        if self.story.current_service != service_id:
            self.story.enter(at, service_id)
        self.story.queue_started(at)
        since = self.story.queue_started_at or at
        # Sampled now (the survey's consent follows the queue's first message), not at the ring.
        consent = self.offer_survey(service_id)
        ticket = self.queues.join(service_id, self.story.call_id, since, self.rules, self.facts)
        ends = since + timedelta(seconds=queue.max_wait_s)
        every = queue.announce_every_s
        # Back from a ringing that found its phones busy: no first message again.
        first = self.story.queue_ended_at is None
        now = self.clock.now()
        next_announce: datetime | None = None
        if first or consent is not None:
            next_announce = now
        elif every is not None:
            next_announce = now + timedelta(seconds=every)
        session = self.session
        try:
            await session.wait_in_queue(queue.music, hold=next_announce != now)
            while not ticket.turn.done():
                now = self.clock.now()
                if next_announce is not None and now >= next_announce:
                    prompts: list[str] = []
                    if first or queue.announce_every_s is not None:
                        prompts.append(queue.prompt if first else queue.repeat_prompt)
                        if queue.position:
                            prompts += position_prompts(self.queues.position(ticket))
                    if consent is not None:
                        prompts.append(consent)
                        consent = None
                    if prompts and await session.announce(prompts):
                        first = False
                    next_announce = None if every is None else now + timedelta(seconds=every)
                left = (ends - now).total_seconds()
                if left <= 0:
                    break
                waits = [left]
                if next_announce is not None:
                    waits.append((next_announce - now).total_seconds())
                await session.next_event(max(0.0, min(waits)), until=ticket.turn)
        finally:
            self.queues.leave(ticket)
        now = session.now()
        self.story.queue_ended(now)
        turn = None if ticket.turn.cancelled() else ticket.turn.result()
        if isinstance(turn, Ring):
            return Routed((), turn), now
        if turn is not None:  # nobody present any more
            return route_onward(self.rules, turn, now, self._view(), self.facts), now
        waited = (now - since).total_seconds()
        routed = left_queue(self.rules, service_id, waited, now, self._view(), self.facts)
        return routed, now

    def _may_ring(self, service_id: str, endpoint: str) -> bool:
        """May this call ring ``endpoint`` now (a phone reserved for another caller's turn in a
        queue is not free)? If so the phone is claimed for it until its leg starts: a queue's
        turn decided meanwhile must not take it too (both calls would ring it)."""
        call_id = self.story.call_id
        if not can_ring(self.queues.view(self.agents.view(), mine=call_id), service_id, endpoint):
            return False
        self.queues.claim(call_id, endpoint)
        return True

    def _leg_started(self, endpoint: str, channel_id: str) -> None:
        self.agents.ringing(endpoint)
        self.queues.leg_started(self.story.call_id, endpoint)
        self.story.leg_started(endpoint, channel_id)

    def _leg_failed(self, at: datetime, endpoint: str, outcome: LegOutcome) -> None:
        self.queues.leg_started(self.story.call_id, endpoint)
        self.story.leg_failed(at, endpoint, outcome)

    def _leg_ended(
        self, at: datetime, channel_id: str, outcome: LegOutcome, cause: int | None
    ) -> None:
        endpoint = self.session.legs.endpoint_of(channel_id)
        if endpoint is not None and outcome is LegOutcome.BUSY:
            self.queues.found_busy(endpoint)
        if endpoint is not None and outcome is not LegOutcome.ANSWERED:
            self.agents.released(endpoint, at, talked=False)
        self.story.leg_ended(at, channel_id, outcome, cause)

    async def converse(self, agent_channel: str, endpoint: str) -> None:
        self.agents.in_call(endpoint)
        service = self.story.current_service
        if self._links is not None:
            self._links.answered(service, endpoint)
        if self._survey is not None:
            # The survey is about the service and the agent who took the call.
            self.story.survey_service = service
            self.story.survey_agent = endpoint
        released = False

        def release(at: datetime) -> None:
            nonlocal released
            if not released:
                released = True
                self.agents.released(endpoint, at, talked=True)

        def transferred(at: datetime, destination: str) -> None:
            # The agent's phone is out of the call (it hangs up after the REFER's NOTIFY): its
            # leg ends here and the agent is free for other calls, while the caller talks on
            # with whoever the transfer reaches.
            self.story.transfer(
                Transfer(at, service, self._transfer_service(destination), destination, endpoint)
            )
            self.story.leg_ended(at, agent_channel, LegOutcome.ANSWERED, None)
            release(at)

        try:
            bridge_id = await self.session.bridge_with(agent_channel)
            ended = await self.session.converse(agent_channel, transferred)
            self.story.leg_ended(ended.at, agent_channel, LegOutcome.ANSWERED, None)
            self.story.leave(ended.at, EntryOutcome.ANSWERED)
        finally:
            # Whoever hung up first, the phone is free again (the story closes the entry on a
            # caller's hang-up).
            release(self.session.last_event_at)
            if self._survey is not None:
                self._credit_finisher()
        if self._survey is not None:
            # The agent hung up first: the caller is still here for the questions.
            await self.session.leave_bridge(bridge_id)
            await ask_survey(self.session, self.story, self._survey, started_at=ended.at)

    def _credit_finisher(self) -> None:
        """The survey is about the agent who finished the call: the last one a transfer
        reached, if any. Whether or not the caller stays for the questions, so that each
        agent's offered calls and answers are counted alike."""
        finisher = self._links.finisher() if self._links is not None else None
        if finisher is not None:
            self.story.survey_service, self.story.survey_agent = finisher

    def _transfer_service(self, destination: str) -> str | None:
        """The service a blind transfer to ``destination`` reaches in decroche, if one."""
        decision = transfer_destination(
            self.rules, destination, self.clock.now(), self._view(), self.facts
        )
        if isinstance(decision, GoService | ColleagueAway | ToColleague):
            return decision.service_id
        return None

    # --- satisfaction survey ---------------------------------------------------------------------

    def offer_survey(self, service_id: str) -> str | None:
        """Sample the call when it first rings a service; returns the consent prompt a sampled
        caller hears while the phones ring (cut short if an agent answers first: the questions
        are asked after the conversation all the same)."""
        if self._survey_sampled:
            return None
        self._survey_sampled = True
        survey = survey_of_call(self.rules, service_id, self.story.call_id)
        if survey is None:
            return None
        self._survey = survey
        self.story.survey_offered = True
        self.story.survey_service = service_id
        return survey.consent_prompt

    # --- endings ---------------------------------------------------------------------------------

    async def end_with_message(self, prompt_id: str) -> None:
        await self._reached(ReachedKind.MESSAGE, prompt_id)
        await self.session.play((prompt_id,), barge_in=False)
        self.story.set_outcome(CallOutcome.MESSAGE)

    async def take_callback(
        self, target: TakeCallback, service_id: str | None, at: datetime
    ) -> None:
        """A callback request: the presented number, or one the caller keys in."""
        await self._reached(ReachedKind.CALLBACK, target.prompt_id)
        presented = self.facts.caller_number or ""
        ask = target.number is NumberChoice.ASK or not presented
        if target.number is NumberChoice.CHOOSE and presented:
            key, at = await self._choose_number(target)
            if key is None:
                # The invitation says "tapez 1" or "tapez 2": silence asks for nothing. (The
                # plan may still owe this caller a callback: routing.owed_callback decides.)
                self.story.set_outcome(CallOutcome.MESSAGE)
                return
            ask = key == "2"
        else:
            _, at = await self.session.play((target.prompt_id,), barge_in=True, keys="12")
        number = presented
        if ask:
            if target.number_prompt:
                _, at = await self.session.play((target.number_prompt,), barge_in=False)
            number = await self.session.collect_digits(
                max_digits=_MAX_NUMBER_DIGITS, timeout_s=_NUMBER_TIMEOUT_S
            )
            at = self.session.last_event_at
        if number:
            self.story.callback(
                CallbackRequest(at, service_id or "accueil", number, kind="requested")
            )
            # Asked for: hanging up during the thanks changes nothing.
            self.story.set_outcome(CallOutcome.CALLBACK)
            await self.session.play((target.thanks_prompt,), barge_in=False)
        else:
            self.story.set_outcome(CallOutcome.MESSAGE)

    async def _choose_number(self, target: TakeCallback) -> tuple[str | None, datetime]:
        """The caller's 1 (this number) or 2 (another), or None after the invitation was said
        twice with no key (each time followed by the rules' "no key" prompt)."""
        for _ in range(_CHOICE_PLAYS):
            key, at = await self.session.play((target.prompt_id,), barge_in=True, keys="12")
            if key is None:
                key, at = await self.session.wait_key(_NUMBER_TIMEOUT_S, keys="12")
            if key is not None:
                return key, at
            if self.rules.timeout_prompt:
                _, at = await self.session.play((self.rules.timeout_prompt,), barge_in=False)
        return None, at

"""The router: every call that enters the Stasis application, one task each.

It wires the event stream to the dispatcher (events of one call in order, to that call's task),
opens a :class:`CallFlow` for each inbound call with the rules version current at its arrival,
keeps the agents' state, and hands each finished call's story to the record writer. It never
lets a caller be stuck: a failing flow hands the channel back to the dialplan's fallback (a plain
ring group), and stopping drains: no new call is taken, calls in progress finish or go back to
the dialplan.

After a WebSocket reconnection it resynchronises with Asterisk: a call whose channel left our
application while we were not listening is ended (Asterisk never replays those events).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from routing_rules.compiled import CompiledRules
from routing_rules.routing import CallFacts, PhoneCode, owed_callback, phone_code
from telephony.ari.client import AriClient
from telephony.ari.dispatch import CallInbox, Dispatcher
from telephony.ari.errors import AriError, AriHttpError, AriTransportError, is_gone
from telephony.ari.models import Event, StasisEnd, StasisStart
from telephony.ari.stream import EventStream, StreamEnd
from telephony.clock import Clock, parse_ari_timestamp
from telephony.flow import codes
from telephony.flow.agents import AgentTracker
from telephony.flow.audit import AuditRecords, audit_mark
from telephony.flow.executor import CallFlow
from telephony.flow.link import Link
from telephony.flow.phones import PhonesReport, track_phones
from telephony.flow.queues import ServiceQueues
from telephony.flow.recovery import OrphanKeeper
from telephony.flow.session import CallCut, CallerHungUp, CallSession, DialplanTarget, StartFacts
from telephony.flow.story import CallStory
from telephony.flow.transfers import TransferLinks
from telephony.records.model import (
    CallbackRequest,
    CallOutcome,
    CallProgress,
    CallRecord,
    CallStart,
)

log = logging.getLogger(__name__)


class RulesSource(Protocol):
    """Where the current rules come from (``routing_rules.holder.RulesHolder``)."""

    @property
    def current(self) -> CompiledRules: ...


class RecordSink(Protocol):
    """Where the router hands each call's start, progress and finished record (the records'
    ``RecordWriter``); never blocks."""

    async def call_started(self, start: CallStart) -> None: ...
    async def call_finished(self, record: CallRecord) -> None: ...
    def touch(self, call_id: str, at: datetime) -> None: ...
    def call_progress(self, progress: CallProgress) -> None: ...


@dataclass(slots=True)
class RouterSettings:
    lang: str = "fr"
    sound_prefix: str = "sound:decroche/"
    # Where a call goes when decroche cannot handle it (asterisk/extensions.conf).
    fallback: DialplanTarget | None = field(
        default_factory=lambda: DialplanTarget("decroche-fallback", "s", 1)
    )
    drain_timeout_s: float = 30.0
    # Set on the channels that ring agents: where their phone's blind transfers go.
    transfer_context: str | None = "decroche-transfer"
    # Keep-alive of the event WebSocket (seconds of the loop's time; a simulation in virtual
    # time sets them long, as nothing can get lost on loopback).
    heartbeat_s: float = 5.0
    ping_interval_s: float = 10.0
    # Longest wait between two reconnection attempts (the first retry is immediate).
    reconnect_max_backoff_s: float = 1.0
    # Each call's progress is journaled as it happens (what a crash leaves in the records), and
    # every call in progress is noted alive this often (clock seconds): an interrupted call ends
    # at most this long before the crash. None: neither (what-if replays, which keep nothing).
    progress_every_s: float | None = 15.0
    # The phone decroche's audit calls ring instead of stopping where a service would ring
    # (configuration ``audit.test_phone``; None: they stop there).
    audit_test_phone: str | None = None


@dataclass(slots=True)
class RouterCounters:
    calls_started: int = 0
    calls_finished: int = 0
    calls_failed: int = 0
    calls_handed_back: int = 0
    calls_closed_by_resync: int = 0
    calls_cut: int = 0  # ended by the PBX or the link (Asterisk restarted, no answer)
    feature_codes: int = 0
    audit_calls: int = 0  # decroche's own audit calls, counted apart from the calls above


@dataclass(frozen=True, slots=True)
class LiveCall:
    call_id: str
    started_at: datetime
    phase: str  # ivr | waiting | talking
    service_id: str | None
    agent: str | None
    entered_at: datetime | None = None  # when it entered ``service_id``
    # Waiting in the service's queue: since when, and its place (1: the next one served).
    queued_since: datetime | None = None
    position: int | None = None


# The second Stasis argument of an agent's blind transfer ([decroche-transfer]).
TRANSFER_ARG = "transfer"
# How long, in real seconds, a transferred leg waits to learn which call it came from (the
# ;1 half's StasisStart comes right after its own).
ORIGIN_TIMEOUT_S = 1.0

# The Stasis arguments of the agents' phone codes (asterisk/extensions.conf, [agent-dial]).
PHONE_CODES = {code.value: code for code in PhoneCode}


def endpoint_of_channel_name(name: str) -> str:
    """``PJSIP/1101-0000001f`` -> ``PJSIP/1101``."""
    base, _, suffix = name.rpartition("-")
    return base if base and suffix else name


class Router:
    def __init__(
        self,
        *,
        client: AriClient,
        rules: RulesSource,
        records: RecordSink,
        clock: Clock,
        agents: AgentTracker | None = None,
        settings: RouterSettings | None = None,
    ) -> None:
        self.client = client
        self.rules = rules
        self.records = records
        self.clock = clock
        self.agents = agents or AgentTracker()
        self.settings = settings or RouterSettings()
        self.counters = RouterCounters()
        # The services' waiting queues: every call of this router shares them.
        self.queues = ServiceQueues(self.agents, clock)
        fallback = self.settings.fallback
        # What Asterisk holds that no call of ours does (after a crash, a lost link).
        self.orphans = OrphanKeeper(
            client,
            fallback=None
            if fallback is None
            else (fallback.context, fallback.extension, fallback.priority),
        )
        self.dispatcher = Dispatcher(
            self._open_call, on_global=self._on_global, on_unrouted=self.orphans.on_unrouted
        )
        self.stream = EventStream(
            client,
            self.dispatcher.dispatch,
            on_reconnect=self.resync,
            on_disconnect=self._link_lost,
            heartbeat=self.settings.heartbeat_s,
            ping_interval=self.settings.ping_interval_s,
            backoff_cap=self.settings.reconnect_max_backoff_s,
        )
        self._stories: dict[str, CallStory] = {}
        self._starts: dict[str, StasisStart] = {}
        self._sessions: dict[str, CallSession] = {}
        # Blind transfers: a leg's link to the call it came from, who finished each call.
        self._transfers = TransferLinks()
        # Calls that are decroche's own audit calls: recorded apart, never live, never counted.
        self._audits: set[str] = set()
        self._audit_records = AuditRecords()
        self._accepting = True
        self._stream_task: asyncio.Task[StreamEnd] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._progress_due: set[str] = set()  # calls whose progress is about to be journaled
        # The rules' phones as Asterisk knows them, from the last check (None: not yet).
        self.phones: PhonesReport | None = None
        # Whether we hear Asterisk now, and when it last started (a restart loses every call).
        self.link = Link()
        self._asterisk_started: datetime | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self, connect_timeout_s: float = 10.0) -> None:
        """Load the agents' phones, then listen to the application's events."""
        self._stream_task = stream = asyncio.create_task(self.stream.run(), name="ari-events")
        connected = asyncio.create_task(self.stream.wait_connected(connect_timeout_s))
        # A refusal (wrong password: 401) ends the stream at once: no need to wait the timeout.
        await asyncio.wait({connected, stream}, return_when=asyncio.FIRST_COMPLETED)
        if not self.stream.connected:
            connected.cancel()
            if stream.done() and not stream.cancelled() and stream.exception() is not None:
                raise stream.exception()  # type: ignore[misc]  # Unauthorized, BadRequest...
            raise AriError(f"no event WebSocket to {self.client!r} within {connect_timeout_s} s")
        # The application exists on Asterisk only while its WebSocket is connected.
        listening_since = await self._asterisk_now()
        self._asterisk_started = await self._startup_time()
        await self._load_agents()
        self.link.restored()
        await self._recover_orphans(listening_since)
        if self.settings.progress_every_s is not None:
            self._spawn(self._note_alive(self.settings.progress_every_s), "calls-alive")

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _load_agents(self) -> None:
        """Asterisk's view of the rules' phones, each one followed (see ``phones``)."""
        self.phones = await track_phones(
            self.client, self.agents, self.rules.current, self.clock.now()
        )

    def rules_changed(self) -> None:
        """New rules are in force (the composition root calls this after a reload): follow
        their phones, and report those Asterisk does not know."""
        if not self.stream.connected:
            return  # the next connection checks the rules in force then
        self._spawn(self._load_agents(), "phones-check")

    async def stop(self) -> None:
        """Drain: refuse new calls, let calls in progress end (up to the drain timeout), then hand
        the rest back to the dialplan; the stream closes last."""
        self._accepting = False
        finished = await self.dispatcher.join(self.settings.drain_timeout_s)
        if not finished:
            log.warning("drain timeout: handing %d call(s) back", len(self.dispatcher.active_calls))
        await self.close()

    async def close(self) -> None:
        """Stop at once, without draining: every call is cancelled (its cleanup still hands the
        caller back), then the background tasks and the stream."""
        self._accepting = False
        await self.dispatcher.aclose()
        for task in list(self._background):
            task.cancel()
        await self.orphans.aclose()
        self.stream.stop()
        if self._stream_task is not None:
            await asyncio.gather(self._stream_task, return_exceptions=True)

    @property
    def accepting(self) -> bool:
        return self._accepting

    # --- events ----------------------------------------------------------------------------------

    def _on_global(self, event: Event) -> None:
        self.agents.on_event(event)

    def _open_call(self, start: StasisStart, inbox: CallInbox) -> Coroutine[Any, Any, None] | None:
        args = start.args
        kind = args[0] if args else ""
        if kind == "agent":
            # An agent leg whose call is already over (its binding went with the call).
            return self._hang_up_stray(start.channel.id)
        if kind in PHONE_CODES:
            return self._phone_code(start, inbox, PHONE_CODES[kind], args[1:])
        if not self._accepting:
            return self._hand_back(start.channel.id)
        return self._run_call(start, inbox)

    async def _hang_up_stray(self, channel_id: str) -> None:
        try:
            await self.client.hangup(channel_id)
        except AriHttpError as exc:
            if not is_gone(exc):
                raise

    async def _hand_back(self, channel_id: str) -> None:
        self.counters.calls_handed_back += 1
        fallback = self.settings.fallback
        try:
            if fallback is None:
                await self.client.continue_in_dialplan(channel_id)
            else:
                await self.client.continue_in_dialplan(
                    channel_id,
                    context=fallback.context,
                    extension=fallback.extension,
                    priority=fallback.priority,
                )
        except AriHttpError as exc:
            if not is_gone(exc):
                raise

    async def _phone_code(
        self, start: StasisStart, inbox: CallInbox, code: PhoneCode, rest: list[str]
    ) -> None:
        """``*51``/``*52``/``*53`` from an agent's phone: sign in, out, or toggle the pause, then
        say so (``telephony.flow.codes``)."""
        self.counters.feature_codes += 1
        rules = self.rules.current
        endpoint = endpoint_of_channel_name(start.channel.name)
        answer = phone_code(rules, endpoint, code, rest[0] if rest else None, self.agents.view())
        log.info("phone code %s from %s: %s", code.value, endpoint, answer.why)
        session = self._session(start, inbox)
        try:
            await codes.carry_out(session, rules, self.agents, endpoint, answer)
        finally:
            await session.cleanup(failed=False, fallback=None)

    # --- calls -----------------------------------------------------------------------------------

    async def _run_call(self, start: StasisStart, inbox: CallInbox) -> None:
        rules = self.rules.current  # the call keeps this version to its end
        facts = StartFacts.of(start)
        key = inbox.key
        audit = await audit_mark(self.client, start.channel)
        records = self.records if audit is None else self._audit_records
        if audit is not None:
            self._audits.add(key)
            log.info("call %s is audit call %s", key, audit.value)
        # Stasis(decroche,<number>,transfer): an agent's blind transfer, not a new caller.
        transfer = facts.extra_args[:1] == [TRANSFER_ARG]
        story = CallStory(key, facts.at, facts.dialled, facts.caller_number, rules.version)
        session = self._session(
            start, inbox, on_transferred_into=lambda name: self._transferred_into(name, key)
        )
        self._stories[key] = story
        self._starts[key] = start
        self._sessions[key] = session
        if self.settings.progress_every_s is not None and audit is None:
            story.on_change = lambda: self._progress_changed(story)
        call_facts = CallFacts(facts.caller_number or None, start.channel.caller.name or None)
        pair = self._transfers.started(key, start.channel.name, call_facts)
        if audit is None:
            self.counters.calls_started += 1
        await records.call_started(CallStart(key, facts.at, facts.dialled, facts.caller_number))
        if pair is not None:
            # Its ;1 half reaches the origin's call a moment after this StasisStart.
            wait = ORIGIN_TIMEOUT_S if transfer else 0.0
            story.transfer_of = await self._transfers.origin(pair, wait)
            origin = self._transfers.facts(story.transfer_of) if story.transfer_of else None
            if origin is not None and transfer:
                call_facts = origin  # ;2 carries no caller id yet: the agents see the caller's
                self._transfers.caller_is(key, origin)
        flow = CallFlow(
            session=session,
            story=story,
            rules=rules,
            clock=self.clock,
            agents=self.agents,
            facts=call_facts,
            audit=audit,
            test_phone=self.settings.audit_test_phone,
            transfer=transfer,
            links=_FlowLinks(self._transfers, key),
            queues=self.queues,
        )
        failed = False
        cut = False  # by the PBX or the link: nobody hung up
        hung_up_at: datetime | None = None
        try:
            await flow.run()
        except CallerHungUp as exc:
            hung_up_at = exc.at
            cut = isinstance(exc, CallCut)
        except AriTransportError as exc:
            # Asterisk did not answer at all: the link, or Asterisk, failed under the call.
            cut = True
            hung_up_at = session.now()
            log.warning("call %s: cut, Asterisk did not answer: %s", key, exc)
        except asyncio.CancelledError:
            failed = True  # drained or stopped: the finally hands the caller back
            raise
        except Exception:
            failed = True
            self.counters.calls_failed += 1
            log.exception("call %s: the flow failed; handing it back to the dialplan", key)
        finally:
            # A caller still on Asterisk after a cut (the link failed, not Asterisk) is handed
            # back to the dialplan's fallback, as after a failure.
            hand_back = failed or (cut and session.hung_up_at is None)
            # An audit call is hung up instead: no fallback ring group for it.
            fallback = self.settings.fallback if audit is None else None
            await session.cleanup(failed=hand_back, fallback=fallback)
            self.queues.forget(key)
            if cut and hung_up_at is not None:
                self.counters.calls_cut += 1
                record = story.finish(hung_up_at, caller_hung_up=False, cut=True)
            else:
                # decroche ended it: now, which is after its last wait (for digits, say) ran
                # out, not at the last event, seconds older.
                end = hung_up_at or session.hung_up_at or session.now()
                record = story.finish(end, caller_hung_up=end == session.hung_up_at)
            if failed:
                record.outcome = CallOutcome.FAILED
            # A transferred leg's own caller id is empty (the Local channel's): it is owed
            # a callback at the caller's number, which the call it came from knows.
            number = record.caller_number or call_facts.caller_number or ""
            _owe_callbacks(record, number, after_cut=rules.callback_after_cut)
            del self._stories[key]
            del self._starts[key]
            del self._sessions[key]
            self._transfers.finished(key)
            if audit is None:
                self.counters.calls_finished += 1
            else:
                self.counters.audit_calls += 1
                self._audits.discard(key)
            await records.call_finished(record)

    def _session(
        self,
        start: StasisStart,
        inbox: CallInbox,
        on_transferred_into: Callable[[str], None] | None = None,
    ) -> CallSession:
        key = inbox.key
        return CallSession(
            call_id=key,
            channel=start.channel,
            started_at=start.timestamp,
            ari=self.client,
            events=inbox,
            clock=self.clock,
            bind=lambda channel_id: self.dispatcher.bind(channel_id, key),
            lang=self.settings.lang,
            sound_prefix=self.settings.sound_prefix,
            transfer_context=self.settings.transfer_context,
            on_transferred_into=on_transferred_into,
            link=self.link,
        )

    # --- progress: what a crash leaves in the records ----------------------------------------

    def _progress_changed(self, story: CallStory) -> None:
        """A new fact: journal the call's progress once the flow's current step is done (the
        facts of one event come together)."""
        if story.call_id in self._progress_due:
            return
        self._progress_due.add(story.call_id)
        asyncio.get_running_loop().call_soon(self._journal_progress, story)

    def _journal_progress(self, story: CallStory) -> None:
        self._progress_due.discard(story.call_id)
        if self._stories.get(story.call_id) is story:  # not finished meanwhile
            self.records.call_progress(story.snapshot())

    async def _note_alive(self, every_s: float) -> None:
        """Every call in progress is alive now: where it ends if decroche dies (a call talking
        for minutes has no event to date it)."""
        while True:
            await self.clock.sleep(every_s)
            now = self.clock.now()
            for key in list(self._stories):
                if key not in self._audits:
                    self.records.touch(key, now)

    def _transferred_into(self, local_name: str, key: str) -> None:
        leg = self._transfers.transferred_into(key, local_name)
        if leg is not None and leg in self._stories:
            self._stories[leg].transfer_of = key

    # --- resync ----------------------------------------------------------------------------------

    def _link_lost(self) -> None:
        """The WebSocket closed: from now on events may be lost, until the resync."""
        self.link.lost(self.clock.now())

    async def _asterisk_now(self) -> datetime:
        """Asterisk's own time now (a ping): every channel made since reached us by its
        StasisStart. Ours when Asterisk cannot say."""
        try:
            return parse_ari_timestamp((await self.client.ping()).timestamp)
        except (AriError, ValueError) as exc:
            log.warning("cannot read Asterisk's time: %s", exc)
            return self.clock.now()

    async def _recover_orphans(self, listening_since: datetime) -> None:
        """Take care of what Asterisk holds that no call of ours does (``recovery``)."""
        owned_bridges = {b for session in self._sessions.values() for b in session.bridge_ids}
        try:
            plan = await self.orphans.recover(
                owned_channels=self.dispatcher.bound_channels,
                owned_bridges=owned_bridges,
                listening_since=listening_since,
                still_unowned=lambda channel_id: self.dispatcher.call_of(channel_id) is None,
            )
        except AriError as exc:
            log.warning("cannot look for what a previous run left on Asterisk: %s", exc)
            return
        if not plan.empty:
            counts = self.orphans.counts
            log.warning(
                "left on Asterisk by a previous run or a lost link: %d channel(s), %d bridge(s);"
                " %d handed back, %d hung up, %d still talking (watched), %d bridge(s) destroyed"
                " so far",
                len(plan.channels),
                len(plan.bridges),
                counts.handed_back,
                counts.hung_up,
                counts.watched,
                counts.bridges_destroyed,
            )

    async def _startup_time(self) -> datetime | None:
        try:
            info = await self.client.asterisk_info(only=["status"])
        except AriError as exc:
            log.warning("cannot read Asterisk's start time: %s", exc)
            return None
        return info.status.startup_time if info.status is not None else None

    async def resync(self) -> None:
        """After a reconnection: end the calls whose channel left while we were not listening
        — cut, if Asterisk restarted meanwhile (its start time changed: it lost every call) —,
        refresh the agents' phones, then let the calls go on (see ``link``); last, take care of
        what no call holds any more (``recovery``)."""
        listening_since = await self._asterisk_now()
        try:
            started = await self._startup_time()
            restarted = (
                started is not None
                and self._asterisk_started is not None
                and started != self._asterisk_started
            )
            if started is not None:
                self._asterisk_started = started
            lost_at = self.link.lost_at or self.clock.now()
            if restarted:
                log.warning("Asterisk restarted while the link was down (started %s)", started)
            snapshot = await self.client.app_snapshot()
            alive = {channel.id for channel in snapshot.channels}
            for key in self.dispatcher.active_calls:
                if key in alive:
                    continue
                story = self._stories.get(key)
                start = self._start_of(key)
                if start is None:
                    continue
                self.counters.calls_closed_by_resync += 1
                at = story.last_seen if story is not None else start.timestamp
                if restarted:
                    # Lost with Asterisk, alive up to the moment we stopped hearing it.
                    log.info("call %s cut by the restart of Asterisk", key)
                    self.dispatcher.lose(key, max(at, lost_at))
                    continue
                log.info("call %s ended while the event stream was down", key)
                self.dispatcher.dispatch(
                    StasisEnd(application=start.application, timestamp=at, channel=start.channel)
                )
            await self._load_agents()
        finally:
            self.link.restored()
        await self._recover_orphans(listening_since)

    def _start_of(self, key: str) -> StasisStart | None:
        return self._starts.get(key)

    # --- live view -------------------------------------------------------------------------------

    def live_calls(self) -> list[LiveCall]:
        positions = {q.call_id: q.position for q in self.queues.waiting()}
        return [
            LiveCall(
                key,
                story.started_at,
                story.phase,
                story.current_service,
                story.answered_by,
                story.service_entered_at,
                story.queued_since,
                positions.get(key),
            )
            for key, story in self._stories.items()
            if key not in self._audits
        ]


@dataclass(frozen=True, slots=True)
class _FlowLinks:
    """One call's view of the transfer links (``telephony.flow.executor.CallLinks``)."""

    links: TransferLinks
    key: str

    def answered(self, service_id: str | None, endpoint: str) -> None:
        self.links.answered(self.key, service_id, endpoint)

    def finisher(self) -> tuple[str | None, str] | None:
        return self.links.finisher(self.key)


def _owe_callbacks(record: CallRecord, number: str, *, after_cut: bool) -> None:
    """Add the callback the finished call is owed at ``number``, if any
    (``routing.owed_callback`` decides)."""
    last = record.entries[-1] if record.entries else None
    kind = owed_callback(
        last.outcome if last is not None else None,
        has_number=bool(number),
        requested=bool(record.callbacks),
        after_cut=after_cut,
    )
    if kind is not None and last is not None:
        record.callbacks.append(CallbackRequest(last.ended_at, last.service_id, number, kind=kind))

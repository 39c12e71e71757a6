"""An oracle for decroche's call records, independent of the router: what each record should
say, worked out from what the simulated PBX lived (``telephony.simulator.history``: every
channel's INVITE, 180, answer, bridges, prompts, keys, REFER and hang-up, with who hung up) and
from the routing rules' text read here as plain YAML, with their documented meaning
(``docs/rules.md``, ``docs/records.md``, ``docs/asterisk.md``). Nothing of ``routing_rules`` nor
of ``telephony.flow`` is used: only the record's data classes, the contract both sides write to.

What it knows of the rules is what a reader of ``docs/rules.md`` knows: a menu plays its
greeting then its prompt, a key cuts it, ``timeout_s`` after the prompt ends without a key is a
timeout, ``retries`` failures are tolerated and one more takes the fallback, ``repeat_key``
replays the prompt; a service rings its free agents (all together for ``ring_all``, one at a
time for ``rings_per_agent`` x 5 s otherwise, round the list again until its ``rings`` are
spent), overflows by reason (``no_answer`` when a phone rang, ``busy`` when one was busy,
``nobody`` otherwise; ``closed`` outside its hours, after its closed prompt) to the reason's
target or ``otherwise``; a transfer to a colleague's extension rings the colleague first (their
service's rings per agent), then the service's plan without them.

What it cannot know without the router — whose phone a one-at-a-time strategy picks first, which
call the survey samples — it reads from the PBX (the stage's phones, the consent prompt heard)
and checks for consistency instead: every phone rung belongs to the service, could take the call
(signed in, registered, not on another call) and showed ``[TAG] number``, a service that
overflowed busy or nobody had no free agent, ``ring_all`` rang every free one, no phone was
called outside a ringing the rules explain.

Every field of each record is compared with the expectation (``differences``): outcome, IVR
steps, service entries (times, outcome, agent, overflow), legs (ring start at the phone's 180,
answer at its 200, end at its hang-up, outcome, cause), transfers, callbacks, survey answers and
whom they credit. Times agree to the millisecond (``SAME_MOMENT``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from ruamel.yaml import YAML

from telephony.clock import parse_ari_timestamp
from telephony.records.model import (
    AgentLeg,
    CallbackRequest,
    CallOutcome,
    CallRecord,
    EntryOutcome,
    IvrEvent,
    IvrEventKind,
    LegOutcome,
    ServiceEntry,
    SurveyAnswer,
    Transfer,
)
from telephony.simulator.history import ChannelLife, History

SOUND = "sound:decroche/"
ANY_KEY = "0123456789*#"
# How the caller's side of a call ended, as the simulator names it: the caller hung up.
CALLER_HUNG_UP = frozenset(
    {"talked", "abandoned", "hangup_after", "other_party_left", "max_duration",
     # a transferred leg: the caller (behind the Local pair's other half) hung up
     "local_peer_hung_up"}
)  # fmt: skip
# How an agent's phone ended a call by itself (the rest: decroche or the PBX hung it up).
PHONE_ENDED = frozenset({"busy", "decline", "unreachable", "dial_timeout", "agent_hung_up"})
# The callback's digits: "1" keeps the presented number, "2" keys another (docs/rules.md).
CALLBACK_KEYS = "12"
CALLBACK_WAIT_S = 8.0
CALLBACK_PLAYS = 2
# A survey question is played at most twice (a key out of its scale repeats it once).
SURVEY_PLAYS = 2
# A prompt starts as soon as the step before it ends (virtual time): a caller gone within this
# much of that moment left before it, while one still there later should have heard it.
PROMPT_SLACK = timedelta(seconds=1)
# ARI timestamps have the millisecond; the router's own timers (a menu's timeout) are read from
# its clock, to the microsecond. Times within this of each other are the same moment.
SAME_MOMENT = timedelta(milliseconds=1)
# What decroche does in answer to an event (create the next stage's channels, hang a leg up)
# reaches the PBX a round trip later: a few milliseconds, up to the create/StasisStart window.
ROUND_TRIP = timedelta(milliseconds=20)


def at(fact: dict[str, Any]) -> datetime:
    return parse_ari_timestamp(fact["at"])


# --------------------------------------------------------------------------- the rules, as text


@dataclass(frozen=True)
class Target:
    kind: str  # service | menu | message | callback
    name: str
    number: str = "presented"
    number_prompt: str | None = None
    thanks_prompt: str | None = None

    @property
    def described(self) -> str:
        """How the records' ``overflow_to`` names it."""
        if self.kind == "service":
            return self.name
        if self.kind == "message":
            return f"message:{self.name}"
        return "callback"


def _target(data: dict[str, Any]) -> Target:
    for kind in ("service", "menu", "message"):
        if kind in data:
            return Target(kind, data[kind])
    return Target(
        "callback",
        data["callback"],
        data.get("number", "presented"),
        data.get("number_prompt"),
        data.get("thanks_prompt"),
    )


@dataclass(frozen=True)
class Service:
    id: str
    agents: tuple[str, ...]
    strategy: str
    ring_s: float
    per_agent_s: float
    hours: str | None
    closed_prompt: str | None
    overflow: dict[str, Target]
    tag: str

    def target(self, reason: str) -> Target:
        return self.overflow.get(reason) or self.overflow["otherwise"]

    def stages(self, free: int) -> list[float]:
        """The seconds of each ring stage (with ``free`` agents for one-at-a-time ones)."""
        if self.strategy == "ring_all":
            return [self.ring_s]
        n = math.ceil(self.ring_s / self.per_agent_s - 1e-9)
        return [min(self.per_agent_s, self.ring_s - i * self.per_agent_s) for i in range(n)]


@dataclass(frozen=True)
class Menu:
    id: str
    greeting: str | None
    prompt: str
    timeout_s: float
    retries: int
    repeat_key: str | None
    invalid_prompt: str | None
    timeout_prompt: str | None
    keys: dict[str, Target]
    fallback: Target


@dataclass(frozen=True)
class Survey:
    consent_prompt: str
    timeout_s: float
    questions: tuple[tuple[str, str], ...]  # (prompt, scale)


class Rules:
    """The routing rules file, read as a person reads it."""

    def __init__(self, path: Path) -> None:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        settings = data["settings"]
        cycle = float(settings.get("ring_cycle_s", 5))
        self.zone = ZoneInfo(settings["timezone"])
        self.caller_id_format = str(settings.get("caller_id_format", "{number}"))
        self.anonymous_number = str(settings.get("anonymous_number", "anonymous"))
        self.holidays = holidays.country_holidays(settings.get("holidays_country", "FR"))
        self.schedules: dict[str, dict[str, Any]] = data.get("schedules", {})
        self.services: dict[str, Service] = {}
        for sid, s in data["services"].items():
            overflow = {reason: _target(t) for reason, t in (s.get("overflow") or {}).items()}
            self.services[sid] = Service(
                sid,
                tuple(s["agents"]),
                s.get("strategy", "ring_all"),
                s["rings"] * cycle,
                (s.get("rings_per_agent") or 3) * cycle,
                s.get("hours"),
                s.get("closed_prompt"),
                overflow,
                s.get("tag") or s.get("name") or sid,
            )
        self.menus: dict[str, Menu] = {}
        for mid, m in data["menus"].items():
            self.menus[mid] = Menu(
                mid,
                m.get("greeting"),
                m["prompt"],
                float(m.get("timeout_s", 6.0)),
                int(m.get("retries", 2)),
                m.get("repeat_key", "*"),
                m.get("invalid_prompt") or settings.get("invalid_prompt"),
                m.get("timeout_prompt") or settings.get("timeout_prompt"),
                {str(k): _target(t) for k, t in m["keys"].items()},
                _target(m["fallback"]),
            )
        self.entry: list[tuple[tuple[str, ...], Target]] = []
        for route in data["entry"]:
            numbers = tuple(n.replace(" ", "") for n in route.get("numbers", ()))
            self.entry.append((numbers, _target(route)))
        surveys = list((data.get("surveys") or {}).values())
        self.survey = (
            Survey(
                surveys[0]["consent_prompt"],
                float(surveys[0].get("timeout_s", 6.0)),
                tuple((q["prompt"], q["scale"]) for q in surveys[0]["questions"]),
            )
            if surveys
            else None
        )

    def entry_for(self, number: str) -> Target:
        for numbers, target in self.entry:
            if not numbers or number in numbers:
                return target
        raise AssertionError(f"no entry route for {number}")

    def shown(self, service: Service, number: str) -> str:
        """What an agent's phone shows for a call of ``service`` (its INVITE's From name)."""
        return self.caller_id_format.format(
            tag=service.tag, number=number or self.anonymous_number, name=""
        ).strip()

    def service_of_phone(self, endpoint: str) -> list[Service]:
        return [s for s in self.services.values() if endpoint in s.agents]

    def colleague(self, number: str) -> str | None:
        for service in self.services.values():
            for endpoint in service.agents:
                if endpoint.partition("/")[2] == number:
                    return endpoint
        return None

    def is_open(self, service: Service, moment: datetime) -> bool:
        if service.hours is None:
            return True
        local = moment.astimezone(self.zone)
        schedule = self.schedules[service.hours]
        day: date = local.date()
        slots: list[str] | None = None
        for exception in schedule.get("exceptions") or ():
            if str(exception["date"]) == day.isoformat():
                slots = list(exception.get("slots") or ())
        if slots is None:
            if day in self.holidays:
                return False
            slots = (schedule.get("weekly") or {}).get(local.strftime("%a").lower()[:3], [])
        now = local.strftime("%H:%M:%S.%f")
        return any(s.split("-")[0] <= now < s.split("-")[1] for s in slots)


# --------------------------------------------------------------------------- what was lived


@dataclass
class Leg:
    """An agent's channel as the phone and the PBX lived it."""

    life: ChannelLife
    created: datetime
    ringing: datetime | None
    up: datetime | None
    ended: datetime
    how: str
    cause: int | None
    refer: dict[str, Any] | None

    @classmethod
    def of(cls, life: ChannelLife) -> Leg:
        ringing = life.first("state", state="Ringing")
        up = life.first("state", state="Up")
        ended = life.ended
        assert ended is not None, f"{life.name} never ended"
        refer = life.first("refer")
        return cls(
            life,
            at(life.facts[0]),
            at(ringing) if ringing else None,
            at(up) if up else None,
            at(ended),
            ended["how"],
            ended.get("cause"),
            refer if refer is not None and refer.get("one") else None,
        )

    @property
    def endpoint(self) -> str:
        assert self.life.endpoint is not None
        return self.life.endpoint


@dataclass
class World:
    """What the oracle knows besides the history: who was signed in where, and from when."""

    rules: Rules
    history: History
    # (service, endpoint) -> presence ("signed_in", "paused", "signed_out"); default signed in.
    presence: dict[tuple[str, str], str] = field(default_factory=dict)
    registered: dict[str, bool] = field(default_factory=dict)

    def present(self, service: str, endpoint: str) -> bool:
        return self.presence.get(
            (service, endpoint), "signed_in"
        ) == "signed_in" and self.registered.get(endpoint, True)

    def phone_busy(
        self, endpoint: str, moment: datetime, *, call: str | None = None, but: str | None = None
    ) -> str:
        """ "free", "busy", or "edge" when a channel of the phone starts or ends at ``moment``
        exactly (the router may have seen either); the phone's channels for ``call`` (the ones
        its ringing makes at that very moment, say) and the channel ``but`` do not count."""
        verdict = "free"
        for life in self.history.channels.values():
            mine = life.id == but or (call is not None and life.originator == call)
            if life.endpoint != endpoint or mine or life.kind == "inbound":
                continue
            start = at(life.facts[0])
            end_fact = life.ended
            end = at(end_fact) if end_fact else datetime.max.replace(tzinfo=start.tzinfo)
            if start < moment < end:
                return "busy"
            if moment in (start, end):
                verdict = "edge"
        return verdict


# --------------------------------------------------------------------------- the expectation


class Unexpected(Exception):
    """Something the oracle cannot explain (reported as a mismatch)."""


@dataclass
class Expectation:
    record: CallRecord
    notes: list[str] = field(default_factory=list)  # consistency findings (each a mismatch)
    # Paths left unchecked, each with why (documented tolerances).
    loose: dict[str, str] = field(default_factory=dict)


class _Caller:
    """The caller's side of a call: its facts in order, walked forward."""

    def __init__(self, life: ChannelLife) -> None:
        self.life = life
        self.facts = life.facts
        end = life.ended
        assert end is not None, f"{life.name} never ended"
        self.end = at(end)
        self.how = end["how"]
        self.read: set[tuple[datetime, str]] = set()

    def dtmf_after(self, moment: datetime, keys: str = ANY_KEY) -> list[tuple[datetime, str]]:
        """The caller's keys (of ``keys``) pressed at or after ``moment`` and not read yet
        (the key that chose a menu's option starts the next prompt at the same instant, and
        is not an answer to it), in order."""
        return [
            (at(f), f["digit"])
            for f in self.facts
            if f["what"] == "dtmf"
            and at(f) >= moment
            and f["digit"] in keys
            and (at(f), f["digit"]) not in self.read
        ]

    def take(self, key: tuple[datetime, str]) -> tuple[datetime, str]:
        """``key`` was read by decroche (it chose, answered or was refused): no later step
        sees it."""
        self.read.add(key)
        return key

    def prompt(self, media: str, moment: datetime) -> tuple[datetime, datetime | None, str | None]:
        """The first play of ``media`` starting at or after ``moment``: start, end, state."""
        for i, f in enumerate(self.facts):
            if f["what"] == "prompt" and f["media"] == SOUND + media and at(f) >= moment:
                for g in self.facts[i + 1 :]:
                    if g["what"] == "prompt_end" and g["media"] == SOUND + media:
                        return at(f), at(g), g["state"]
                return at(f), None, None
        if self.how in CALLER_HUNG_UP and self.end <= moment + PROMPT_SLACK:
            raise _Left()  # gone before it could start
        raise Unexpected(f"the caller never heard {media} after {moment.time()}")

    def heard_whole(self, media: str, moment: datetime) -> datetime:
        """When ``media``, started at or after ``moment``, ended having played whole; the caller
        leaving before or during it ends the call (``_Left``)."""
        _, end, state = self.prompt(media, moment)
        if end is None or state != "done":
            raise _Left()
        return end

    def heard(self, media: str) -> bool:
        return any(f["what"] == "prompt" and f["media"] == SOUND + media for f in self.facts)


class Oracle:
    def __init__(self, world: World) -> None:
        self.world = world
        self.rules = world.rules
        self.history = world.history

    # -- calls -------------------------------------------------------------------------------

    def calls(self) -> list[str]:
        """The channels decroche should have recorded a call for: callers, and the legs that
        agents' blind transfers brought back (``Stasis(decroche,<n>,transfer)``)."""
        found = []
        for life in self.history.channels.values():
            start = life.first("stasis_start")
            if life.kind != "inbound" or start is None:
                continue
            args = start["args"]
            if args and args[0].startswith("agent-"):
                continue  # an agent's code (*51...): no call record
            found.append(life.id)
        return found

    def last_talk_end(self, endpoint: str, moment: datetime) -> datetime | None:
        """When ``endpoint`` last ended a conversation (or handed it on by a transfer) before
        ``moment``: what "longest idle" counts from."""
        ends = []
        for life in self.history.channels.values():
            if life.endpoint != endpoint or life.kind == "inbound":
                continue
            if life.first("state", state="Up") is None:
                continue
            refer = life.first("refer")
            ended = refer if refer is not None and refer.get("one") else life.ended
            if ended is not None and at(ended) < moment:
                ends.append(at(ended))
        return max(ends, default=None)

    def legs_of(self, call_id: str) -> list[Leg]:
        return [
            Leg.of(life)
            for life in self.history.channels.values()
            if life.originator == call_id and life.endpoint is not None
        ]

    def origin_of(self, two: str) -> tuple[str, Leg] | None:
        """The call whose agent's REFER made the Local ``;2`` channel ``two``, and that leg."""
        for life in self.history.channels.values():
            refer = life.first("refer")
            if refer is not None and refer.get("two") == two and life.originator:
                return life.originator, Leg.of(life)
        return None

    def expect(self, call_id: str) -> Expectation:
        life = self.history.of(call_id)
        start_fact = life.first("stasis_start")
        assert start_fact is not None
        caller = _Caller(life)
        args = start_fact["args"]
        transfer = args[1:2] == ["transfer"]
        record = CallRecord(
            call_id=call_id,
            started_at=at(start_fact),
            ended_at=caller.end,
            dialled=args[0],
            caller_number=start_fact["number"],
            outcome=CallOutcome.INTERRUPTED,
        )
        out = Expectation(record)
        walk = _Walk(self, caller, out, self.legs_of(call_id))
        origin = self.origin_of(call_id) if transfer else None
        if origin is not None:
            record.transfer_of = origin[0]
        walk.run(transfer=transfer)
        return out

    def presented_number(self, call_id: str) -> str:
        """The caller's number as decroche knows it: a transferred leg's Local channel has none
        of its own, the first call's is the caller's (what the agents' phones show, and the
        number a callback keeps)."""
        start = self.history.of(call_id).first("stasis_start")
        assert start is not None
        origin = self.origin_of(call_id) if start["args"][1:2] == ["transfer"] else None
        if start["number"] or origin is None:
            return str(start["number"])
        return self.presented_number(origin[0])


@dataclass
class _Unanswered:
    """A service that did not take the call: when, and why (no_answer, busy, nobody)."""

    end: datetime
    reason: str


class _Plan:
    """A one-at-a-time service's plan (docs/rules.md): its free agents at the decision in the
    strategy's order, round the list again until the rings are spent; ``first``: its stages
    start after a colleague's. ``order`` is None when the oracle cannot tell it beforehand (a
    colleague's round robin): the PBX shows it as it goes (``seen``)."""

    def __init__(self, order: list[str] | None, n: int, first: int) -> None:
        self.order = order
        self.n = max(1, n)
        self.first = first
        self.seen: dict[int, str] = dict(enumerate(order or ()))

    def agent(self, index: int) -> str | None:
        return self.seen.get((index - self.first) % self.n)

    def stage_of(self, endpoint: str, earliest: int, stages: int) -> int | None:
        """The first stage from ``earliest`` on that is ``endpoint``'s (the ones between were
        skipped); None when no stage of the plan is."""
        for index in range(earliest, stages):
            place = (index - self.first) % self.n
            seen = self.seen.get(place)
            if seen == endpoint or (seen is None and endpoint not in self.seen.values()):
                self.seen[place] = endpoint
                return index
        return None


class _Walk:
    """One call, followed from its first fact to its last."""

    def __init__(self, oracle: Oracle, caller: _Caller, out: Expectation, legs: list[Leg]):
        self.oracle = oracle
        self.rules = oracle.rules
        self.world = oracle.world
        self.caller = caller
        self.out = out
        self.record = out.record
        self.legs = sorted(legs, key=lambda leg: (leg.created, leg.life.id))
        self.used: set[str] = set()
        # The caller's number as decroche knows it (see Oracle.presented_number).
        self.presented = oracle.presented_number(caller.life.id)
        self.outcome: CallOutcome | None = None
        self.surveyed = False
        self.first_rung = False

    @property
    def left_at(self) -> datetime | None:
        """When the caller's side went, if the caller (not decroche) ended it."""
        how = self.caller.how
        if how in CALLER_HUNG_UP:
            return self.caller.end
        return None

    def gone_by(self, moment: datetime) -> bool:
        left = self.left_at
        return left is not None and left <= moment

    # -- the whole call ----------------------------------------------------------------------

    def run(self, *, transfer: bool) -> None:
        record = self.record
        start = record.started_at
        try:
            if transfer:
                self._transferred(record.dialled, start)
            else:
                self._route(self.rules.entry_for(record.dialled), start, greet=True)
        except _Left:
            pass
        record.outcome = self._outcome()
        self._owed_callback()
        unused = [leg for leg in self.legs if leg.life.id not in self.used]
        for leg in unused:
            self.out.notes.append(
                f"phone {leg.endpoint} ({leg.life.id}) was called for this call at "
                f"{leg.created.time()} outside any ringing the rules explain"
            )

    def _outcome(self) -> CallOutcome:
        if self.outcome is not None:
            return self.outcome
        entries = self.record.entries
        if not entries:
            return CallOutcome.IVR_HANGUP
        last = entries[-1].outcome
        mapping = {
            EntryOutcome.ANSWERED: CallOutcome.ANSWERED,
            EntryOutcome.ABANDONED: CallOutcome.ABANDONED,
        }
        if last in mapping:
            return mapping[last]
        return CallOutcome.MESSAGE if last.is_overflow else CallOutcome.INTERRUPTED

    def _owed_callback(self) -> None:
        record = self.record
        # At the caller's number as decroche knows it: a transferred leg's own is empty.
        number = self.presented
        if record.callbacks or not number or not record.entries:
            return
        last = record.entries[-1]
        kind = None
        if last.outcome is EntryOutcome.ABANDONED:
            kind = "abandoned"
        elif last.outcome.is_overflow or last.outcome is EntryOutcome.MESSAGE:
            kind = "overflowed"
        if kind is not None:
            record.callbacks.append(CallbackRequest(last.ended_at, last.service_id, number, kind))

    # -- where the call goes -----------------------------------------------------------------

    def _route(self, target: Target, moment: datetime, *, greet: bool, asked: bool = True) -> None:
        """Follow ``target`` from ``moment`` to the end of the call; ``asked``: its service is
        the one the caller asked for (not an overflow's)."""
        while True:
            if target.kind == "menu":
                target, moment = self._menu(target.name, moment, greet=greet)
                greet = False
                continue
            if target.kind == "message":
                self._message(target.name, moment)
                return
            if target.kind == "callback":
                self._callback(target, moment)
                return
            step = self._service(self.rules.services[target.name], moment, asked=asked)
            if step is None:
                return
            target, moment = step
            asked = False

    def _transferred(self, number: str, start: datetime) -> None:
        colleague = self.rules.colleague(number)
        if colleague is None:
            target = self.rules.entry_for(number)
            self._route(target, start, greet=False)
            return
        listing = self.rules.service_of_phone(colleague)
        service = next((s for s in listing if self.world.present(s.id, colleague)), listing[0])
        can = (
            self.world.present(service.id, colleague)
            and self.world.phone_busy(colleague, start, call=self.record.call_id) != "busy"
        )
        step = self._service(service, start, colleague=colleague if can else None)
        if step is not None:
            self._route(step[0], step[1], greet=False, asked=False)

    # -- menus -------------------------------------------------------------------------------

    def _menu(self, menu_id: str, moment: datetime, *, greet: bool) -> tuple[Target, datetime]:
        """Walk the menus from ``menu_id`` entered at ``moment``; returns where the caller is
        sent and when."""
        ivr = self.record.ivr
        menu = self.rules.menus[menu_id]
        ivr.append(IvrEvent(moment, menu.id, IvrEventKind.MENU))
        failures = 0
        last_prompt = menu.prompt
        playing_from = moment
        keys = self.caller.dtmf_after(moment)
        while True:
            # The menu's prompt plays (after the greeting or a failure prompt): a key cuts it.
            ends = self._prompt_end(last_prompt, playing_from)
            key = keys.pop(0) if keys else None
            timeout_at = ends + timedelta(seconds=menu.timeout_s) if ends is not None else None
            if key is None or (timeout_at is not None and key[0] >= timeout_at):
                if key is not None:
                    keys.insert(0, key)
                if timeout_at is None or self.gone_by(timeout_at):
                    raise _Left()
                note = IvrEvent(timeout_at, menu.id, IvrEventKind.TIMEOUT)
                failed_at = timeout_at
            else:
                when, digit = self.caller.take(key)
                if digit == menu.repeat_key:
                    ivr.append(IvrEvent(when, menu.id, IvrEventKind.MENU))
                    last_prompt, playing_from = menu.prompt, when
                    keys = [k for k in keys if k[0] > when]
                    continue
                chosen = menu.keys.get(digit)
                if chosen is not None:
                    ivr.append(IvrEvent(when, menu.id, IvrEventKind.KEY, digit))
                    if chosen.kind == "menu":
                        menu = self.rules.menus[chosen.name]
                        ivr.append(IvrEvent(when, menu.id, IvrEventKind.MENU))
                        failures, last_prompt, playing_from = 0, menu.prompt, when
                        continue
                    return chosen, when
                note = IvrEvent(when, menu.id, IvrEventKind.INVALID, digit)
                failed_at = when
            ivr.append(note)
            failures += 1
            if failures > menu.retries:
                ivr.append(IvrEvent(failed_at, menu.id, IvrEventKind.FALLBACK))
                return menu.fallback, failed_at
            # The invalid-key or no-key prompt, then the menu's prompt again: its end counts.
            last_prompt, playing_from = menu.prompt, failed_at

    def _prompt_end(self, media: str, moment: datetime) -> datetime | None:
        """When ``media``, started at or after ``moment``, finished playing in full (None: it
        was cut, or never played: a key during the prompt before it, or the caller leaving)."""
        try:
            _, end, state = self.caller.prompt(media, moment)
        except (Unexpected, _Left):
            return None
        return end if state == "done" else None

    # -- services ----------------------------------------------------------------------------

    def _service(
        self,
        service: Service,
        moment: datetime,
        *,
        colleague: str | None = None,
        asked: bool = True,
    ) -> tuple[Target, datetime] | None:
        """The caller enters ``service`` at ``moment``: where they go next (None: the call
        ends in it). Closed, it says so with its message when the caller asked for it (not
        when an overflow reached it), and the call goes on once the message was heard."""
        entries = self.record.entries
        if colleague is None and not self.rules.is_open(service, moment):
            target = service.target("closed")
            entries.append(
                ServiceEntry(service.id, moment, moment, EntryOutcome.OVERFLOW_CLOSED,
                             overflow_to=target.described, closed=True)
            )  # fmt: skip
            if service.closed_prompt and asked:
                moment = self.caller.heard_whole(service.closed_prompt, moment)
            return target, moment
        ringing = self._ring(service, moment, colleague)
        if ringing is None:
            return None
        target = service.target(ringing.reason)
        entry = entries[-1]
        entry.overflow_to = target.described
        return target, ringing.end

    def _ring(
        self, service: Service, moment: datetime, colleague: str | None
    ) -> _Unanswered | None:
        """Ring ``service`` from ``moment``, stage by stage as the PBX shows them; None when the
        call ends there (answered, or the caller left)."""
        present = [a for a in service.agents if self.world.present(service.id, a)]
        call = self.record.call_id
        states = {a: self.world.phone_busy(a, moment, call=call) for a in present}
        free = [a for a, state in states.items() if state == "free"]
        first_stage = self._stage_legs(service, moment, colleague)
        entry = ServiceEntry(service.id, moment, moment, EntryOutcome.INTERRUPTED)
        self.record.entries.append(entry)
        if not first_stage:
            return self._nobody_rung(service, entry, states)
        # A ringing: the caller hears the ring-back (or the survey's consent) from now.
        entry.ringing_at = moment
        self._survey_consent(service, moment)
        if service.strategy == "ring_all" and colleague is None:
            self._check_ring_all(service, moment, first_stage, states)
        # A colleague's phone rings first, on its own, then their service's plan.
        stages = service.stages(len(free))
        if colleague is not None:
            stages = [service.per_agent_s, *stages]
        plan = self._plan(service, moment, free, first_stage, colleague)
        stage_start, index = moment, 0
        while index < len(stages):
            stage = self._stage_legs(service, stage_start, colleague if index == 0 else None)
            if service.strategy != "ring_all" and index >= plan.first:
                # A stage whose phone can no longer take the call is skipped (no time passes):
                # which stage of the plan this phone is tells how long it rings.
                found = plan.stage_of(stage[0].endpoint, index, len(stages)) if stage else None
                self._check_skipped(service, plan, index, found, stage_start, stage, len(stages))
                if found is None:
                    break
                index = found
            elif not stage:
                break
            seconds = stages[index]
            index += 1
            for leg in stage:
                self.used.add(leg.life.id)
                self._check_phone(service, leg, colleague if index == 0 else None)
            why, end, answer = self._stage_end(stage, stage_start + timedelta(seconds=seconds))
            entry.legs += [self._leg(leg, why, end, answer) for leg in stage]
            if answer is not None:
                self._converse(entry, answer)
                return None
            if why == "left":
                entry.ended_at, entry.outcome = end, EntryOutcome.ABANDONED
                raise _Left()
            stage_start = end
        return self._unanswered(entry, stage_start)

    def _plan(
        self,
        service: Service,
        moment: datetime,
        free: list[str],
        first_stage: list[Leg],
        colleague: str | None,
    ) -> _Plan:
        """The order a one-at-a-time service rings its free agents in: as listed (in order),
        as listed from the agent it starts with (round robin: which one depends on the calls
        before), longest idle first (since the end of their last conversation, ties as
        listed). After a colleague (who takes their place in the plan) the PBX tells it."""
        if service.strategy == "ring_all" or colleague is not None:
            return _Plan(None, len(free), first=0 if colleague is None else 1)
        listed = [a for a in service.agents if a in free]
        if service.strategy == "longest_idle":
            never = datetime.min.replace(tzinfo=moment.tzinfo)
            listed.sort(key=lambda a: self.oracle.last_talk_end(a, moment) or never)
        elif service.strategy == "round_robin" and first_stage[0].endpoint in listed:
            start = listed.index(first_stage[0].endpoint)
            listed = listed[start:] + listed[:start]
        return _Plan(listed, len(listed), first=0)

    def _check_skipped(
        self,
        service: Service,
        plan: _Plan,
        index: int,
        found: int | None,
        start: datetime,
        stage: list[Leg],
        stages: int,
    ) -> None:
        """The stages of the plan passed over at ``start`` (up to the one found for the phone
        called then, or all those left) had a phone that could not take the call then."""
        if stage and found is None:
            self.out.notes.append(
                f"{service.id} rang {stage[0].endpoint} at {start.time()}: not in its plan "
                f"{list(plan.seen.values())}"
            )
            return
        call = self.record.call_id
        for skipped in range(index, stages if found is None else found):
            agent = plan.agent(skipped)
            if agent is None:
                continue  # a colleague's place, or an agent the PBX never showed
            if (
                self.world.present(service.id, agent)
                and self.world.phone_busy(agent, start, call=call) == "free"
                and not self._own_leg_ending(agent, start)
            ):
                self.out.notes.append(
                    f"{service.id} at {start.time()}: did not ring {agent} (stage "
                    f"{skipped + 1} of its plan), free then"
                )

    def _own_leg_ending(self, agent: str, moment: datetime) -> bool:
        """This call's own leg on ``agent`` ended within the round trip before ``moment``
        (Asterisk may not have told yet that the phone is free again)."""
        return any(
            leg.endpoint == agent and moment - ROUND_TRIP <= leg.ended <= moment
            for leg in self.legs
        )

    def _nobody_rung(
        self, service: Service, entry: ServiceEntry, states: dict[str, str]
    ) -> _Unanswered:
        """No phone of the service was called: it overflows at once, busy if a present agent
        was on a call, nobody otherwise; wrong if one of them was free."""
        free = [a for a, state in states.items() if state == "free"]
        if free:
            self.out.notes.append(
                f"{service.id} at {entry.entered_at.time()}: no phone rang although "
                f"{', '.join(free)} could take the call"
            )
        reason = "busy" if any(state != "free" for state in states.values()) else "nobody"
        if states and all(state == "edge" for state in states.values()):
            self.out.loose[f"entries[{len(self.record.entries) - 1}].outcome"] = (
                "every phone's call started or ended at the same instant"
            )
        entry.outcome = EntryOutcome(f"overflow_{reason}")
        return _Unanswered(entry.ended_at, reason)

    def _check_ring_all(
        self, service: Service, moment: datetime, stage: list[Leg], states: dict[str, str]
    ) -> None:
        """``ring_all`` rings every free agent (unless one's phone changed at that instant)."""
        rung = sorted(leg.endpoint for leg in stage)
        free = sorted(a for a, state in states.items() if state == "free")
        if rung != free and "edge" not in states.values():
            self.out.notes.append(
                f"{service.id} at {moment.time()}: rang {rung}, its free agents were {free}"
            )

    def _stage_end(self, stage: list[Leg], limit: datetime) -> tuple[str, datetime, Leg | None]:
        """Why and when a stage ended: its time ran out (``limit``), a phone answered, the
        caller left, or every phone refused by itself; first come, an answer first at a tie."""
        answers = [leg for leg in stage if leg.up is not None and leg.up <= limit]
        answer = min(answers, key=lambda leg: leg.up or limit) if answers else None
        refusals = [leg.ended for leg in stage if leg.how in PHONE_ENDED and leg.up is None]
        candidates = [("timeout", limit)]
        if answer is not None and answer.up is not None:
            candidates.append(("answer", answer.up))
        if self.left_at is not None:
            candidates.append(("left", self.left_at))
        if len(refusals) == len(stage):
            candidates.append(("ended", max(refusals)))
        why, end = min(candidates, key=lambda c: (c[1], c[0] != "answer"))
        return why, end, answer if why == "answer" else None

    def _unanswered(self, entry: ServiceEntry, end: datetime) -> _Unanswered:
        """Every stage ran out: the service overflows for no answer when a phone rang (or
        declined), busy when one was busy, nobody otherwise."""
        outcomes = {leg.outcome for leg in entry.legs}
        if outcomes & {LegOutcome.NO_ANSWER, LegOutcome.DECLINED}:
            reason, outcome = "no_answer", EntryOutcome.OVERFLOW_TIMEOUT
        elif LegOutcome.BUSY in outcomes:
            reason, outcome = "busy", EntryOutcome.OVERFLOW_BUSY
        else:
            reason, outcome = "nobody", EntryOutcome.OVERFLOW_NOBODY
        entry.ended_at, entry.outcome = end, outcome
        return _Unanswered(end, reason)

    def _stage_legs(self, service: Service, start: datetime, colleague: str | None) -> list[Leg]:
        """The phones called for a stage of ``service`` that starts at ``start``: the call's
        legs not accounted for yet, made at that moment, of the service's agents (or the
        colleague a transfer asked for)."""
        phones = (colleague,) if colleague is not None else service.agents
        found = [
            leg for leg in self.legs
            if leg.life.id not in self.used
            and start - SAME_MOMENT <= leg.created <= start + ROUND_TRIP
            and leg.endpoint in phones
        ]  # fmt: skip
        # One phone at a time: a stage whose phone refused at once is followed by the next
        # within the round trip, which belongs to the next stage.
        one_at_a_time = colleague is not None or service.strategy != "ring_all"
        return found[:1] if one_at_a_time else found

    def _check_phone(self, service: Service, leg: Leg, colleague: str | None) -> None:
        invite = leg.life.first("invite")
        wanted = self.rules.shown(service, self.presented)
        if invite is not None and invite["name"] != wanted:
            self.out.notes.append(
                f"{leg.endpoint}'s phone showed {invite['name']!r}, not {wanted!r}"
            )
        if colleague is not None:
            if leg.endpoint != colleague:
                self.out.notes.append(f"the transfer rang {leg.endpoint}, not {colleague}")
            return
        if leg.endpoint not in service.agents:
            self.out.notes.append(f"{service.id} rang {leg.endpoint}, not one of its agents")
        elif not self.world.present(service.id, leg.endpoint):
            self.out.notes.append(
                f"{service.id} rang {leg.endpoint}, which was not signed in or not registered"
            )
        elif self.world.phone_busy(leg.endpoint, leg.created, but=leg.life.id) == "busy":
            self.out.notes.append(
                f"{service.id} rang {leg.endpoint} at {leg.created.time()} while it was on "
                "another call"
            )

    def _leg(self, leg: Leg, why: str, end: datetime, answer: Leg | None) -> AgentLeg:
        """How one phone's leg is recorded when its stage ended for ``why`` at ``end``."""
        rang = leg.ringing is not None and leg.ringing <= end
        if leg is answer:
            outcome, cause, ended = LegOutcome.ANSWERED, None, leg.ended
        elif leg.how in PHONE_ENDED and leg.ended <= end and leg.up is None:
            cause = leg.cause
            outcome = {
                "busy": LegOutcome.BUSY,
                "decline": LegOutcome.DECLINED,
                "unreachable": LegOutcome.UNREACHABLE,
            }.get(leg.how, LegOutcome.NO_ANSWER if rang else LegOutcome.UNREACHABLE)
            ended = leg.ended
        else:
            # decroche hung it up: at the stage's timeout its own hang-up dates it (decroche's
            # timer has no timestamp of the PBX), otherwise the answer or the caller leaving.
            cause, ended = None, leg.ended if why == "timeout" else end
            if why == "answer":
                outcome = LegOutcome.CANCELLED
            elif why == "left":
                outcome = LegOutcome.NO_ANSWER if rang else LegOutcome.CANCELLED
            else:
                outcome = LegOutcome.NO_ANSWER if rang else LegOutcome.UNREACHABLE
            late = leg.ended - end
            if not timedelta(0) <= late <= ROUND_TRIP and not (
                leg.how == "agent_hung_up" and late >= timedelta(0)
            ):
                self.out.notes.append(
                    f"{leg.endpoint}'s leg was hung up at {leg.ended.time()}, its stage "
                    f"ended at {end.time()} ({why})"
                )
        return AgentLeg(
            endpoint=leg.endpoint,
            ring_started_at=leg.ringing if rang and leg.ringing else ended,
            ended_at=ended,
            outcome=outcome,
            answered_at=leg.up if leg is answer else None,
            hangup_cause=cause,
            channel_id=leg.life.id,
        )

    # -- talking -----------------------------------------------------------------------------

    def _converse(self, entry: ServiceEntry, agent: Leg) -> None:
        """The caller talks with ``agent`` until one side goes; a REFER before that hands the
        caller to the Local channel that took the agent's place. The caller still there when
        the other side went is asked the survey, if sampled."""
        assert agent.up is not None
        entry.outcome = EntryOutcome.ANSWERED
        entry.answered_at = agent.up
        entry.agent = agent.endpoint
        if self.surveyed:
            self.record.survey_service, self.record.survey_agent = entry.service_id, agent.endpoint
        leg = next(g for g in entry.legs if g.channel_id == agent.life.id)
        caller_end = self.left_at
        refer = agent.refer
        if refer is not None and (caller_end is None or at(refer) < caller_end):
            # The agent's leg ends with the REFER; the caller talks on through the Local pair.
            leg.ended_at = at(refer)
            partner_end = self._transferred_by(entry, agent, refer)
        else:
            partner_end = agent.ended
        end = min(partner_end, caller_end) if caller_end is not None else partner_end
        if refer is None or leg.ended_at != at(refer):
            leg.ended_at = end
        entry.ended_at = end
        if caller_end is not None and caller_end <= partner_end:
            return  # the caller hung up first: no survey
        if self.surveyed and self.rules.survey is not None:
            self._survey(end)

    def _transferred_by(self, entry: ServiceEntry, agent: Leg, refer: dict[str, Any]) -> datetime:
        """The agent's blind transfer: its record, the survey's credit (the agent who finished
        the call), and when the caller's other side (the Local pair's ``;1``) went."""
        moment, destination = at(refer), refer["destination"]
        self.record.transfers.append(
            Transfer(moment, entry.service_id, self._reaches(destination, moment),
                     destination, agent.endpoint)
        )  # fmt: skip
        finisher = self._finisher(refer["two"])
        if self.surveyed and finisher is not None:
            self.record.survey_service, self.record.survey_agent = finisher
        one_end = self.oracle.history.of(refer["one"]).ended
        return at(one_end) if one_end is not None else self.caller.end

    def _reaches(self, destination: str, moment: datetime) -> str | None:
        """The service of decroche a transfer to ``destination`` reaches (None: outside)."""
        colleague = self.rules.colleague(destination)
        if colleague is not None:
            listing = self.rules.service_of_phone(colleague)
            return next(
                (s.id for s in listing if self.world.present(s.id, colleague)), listing[0].id
            )
        target = self.rules.entry_for(destination)
        return target.name if target.kind == "service" else None

    def _finisher(self, two: str) -> tuple[str, str] | None:
        """The service and agent who answered the transferred leg (down its own transfers)."""
        legs = self.oracle.legs_of(two)
        answered = [leg for leg in legs if leg.up is not None]
        if not answered:
            return None
        last = max(answered, key=lambda leg: leg.up or leg.created)
        if last.refer is not None:
            deeper = self._finisher(last.refer["two"])
            if deeper is not None:
                return deeper
        services = self.rules.service_of_phone(last.endpoint)
        service = next(
            (s.id for s in services if self.world.present(s.id, last.endpoint)), services[0].id
        )
        return service, last.endpoint

    # -- the survey --------------------------------------------------------------------------

    def _survey_consent(self, service: Service, moment: datetime) -> None:
        survey = self.rules.survey
        if self.first_rung or survey is None:
            return
        self.first_rung = True
        if self.record.transfer_of is not None or self._is_transfer():
            return  # never asked again after a transfer (docs/rules.md)
        heard = any(
            f["what"] == "prompt" and f["media"] == SOUND + survey.consent_prompt
            for f in self.caller.facts
        )
        if heard:
            self.surveyed = True
            self.record.survey_offered = True
            self.record.survey_service = service.id

    def _is_transfer(self) -> bool:
        start = self.caller.life.first("stasis_start")
        return bool(start and start["args"][1:2] == ["transfer"])

    def _survey(self, after: datetime) -> None:
        """The questions, asked once the agent has hung up (docs/enquete.md): a key out of the
        scale repeats a question once, no key within ``timeout_s`` after it moves on with no
        score; the caller leaving keeps the answers given, the question left on has none."""
        survey = self.rules.survey
        assert survey is not None
        keys = self.caller.dtmf_after(after)
        moment = after
        for number, (prompt, scale) in enumerate(survey.questions, start=1):
            valid = "12345" if scale == "1-5" else "12"
            try:
                score, moment = self._question(prompt, valid, moment, keys, survey.timeout_s)
            except _Left:
                self.record.survey.append(SurveyAnswer(number, prompt, self.caller.end, None))
                raise
            self.record.survey.append(SurveyAnswer(number, prompt, max(moment, after), score))

    def _question(
        self,
        prompt: str,
        valid: str,
        moment: datetime,
        keys: list[tuple[datetime, str]],
        timeout_s: float,
    ) -> tuple[int | None, datetime]:
        """One question from ``moment``: its score (None: no answer) and when it was known.
        ``keys`` are the caller's keys not read yet (each key answers one play)."""
        for play in range(1, SURVEY_PLAYS + 1):
            start, end, _state = self.caller.prompt(prompt, moment)
            limit = end + timedelta(seconds=timeout_s) if end is not None else None
            while keys and keys[0][0] < start:
                keys.pop(0)
            if not keys or (limit is not None and keys[0][0] >= limit):
                if limit is None or self.gone_by(limit):
                    raise _Left()
                return None, limit
            when, digit = self.caller.take(keys.pop(0))
            if digit in valid:
                return int(digit), when
            if play == SURVEY_PLAYS:
                return None, when
            moment = when
        raise AssertionError("unreachable")

    # -- endings -----------------------------------------------------------------------------

    def _message(self, prompt: str, moment: datetime) -> None:
        self.caller.prompt(prompt, moment)
        self.outcome = CallOutcome.MESSAGE

    def _callback(self, target: Target, moment: datetime) -> None:
        """A callback offer (docs/rules.md): with ``number: choose`` and a presented number,
        only a key is a request (1: this number, 2: another, keyed after the number prompt);
        without a presented number the caller is asked to key one."""
        if target.number not in ("choose", "ask"):
            raise Unexpected(f"callback with number {target.number}: not modelled")
        presented = self.presented
        if target.number == "choose" and presented:
            key = self._callback_choice(target, moment)
            if key is None:
                self.outcome = CallOutcome.MESSAGE
                return
            when, digit = key
            if digit == "1":
                self._callback_taken(when, presented)
                return
            moment = when
        else:
            # The invitation plays whole (a 1 or 2 cuts it, and is not a number's digit).
            moment = self.caller.heard_whole(target.name, moment)
        self._keyed_number(target, moment)

    def _callback_choice(self, target: Target, moment: datetime) -> tuple[datetime, str] | None:
        """The caller's 1 or 2 to the invitation, said at most twice, each followed by a wait
        and then the rules' "no key" prompt; None when no key came."""
        for _play in range(CALLBACK_PLAYS):
            start, end, _state = self.caller.prompt(target.name, moment)
            keys = self.caller.dtmf_after(start, CALLBACK_KEYS)
            limit = end + timedelta(seconds=CALLBACK_WAIT_S) if end is not None else None
            if keys and (limit is None or keys[0][0] < limit):
                return self.caller.take(keys[0])
            if limit is None or self.gone_by(limit):
                raise _Left()
            said = self._timeout_prompt()
            moment = self.caller.heard_whole(said, limit) if said else limit
        return None

    def _keyed_number(self, target: Target, moment: datetime) -> None:
        """The caller keys a number after the number prompt (keys during the prompt are not
        heard), ended by # or CALLBACK_WAIT_S without a key; none keyed: no request. A caller
        gone before the end leaves no number (a part of one is none)."""
        if target.number_prompt:
            moment = self.caller.heard_whole(target.number_prompt, moment)
        wait = timedelta(seconds=CALLBACK_WAIT_S)
        digits, last, ended = "", moment, None
        for key in self.caller.dtmf_after(moment):
            when, digit = key
            if when >= last + wait:
                break
            self.caller.take(key)
            last = when
            if digit == "#":
                ended = when
                break
            digits += digit
        if self.gone_by(ended or last + wait):
            raise _Left()
        if digits:
            self._callback_taken(last, digits)
        else:
            self.outcome = CallOutcome.MESSAGE

    def _callback_taken(self, moment: datetime, number: str) -> None:
        service = self.record.entries[-1].service_id if self.record.entries else "accueil"
        self.record.callbacks.append(CallbackRequest(moment, service, number, "requested"))
        self.outcome = CallOutcome.CALLBACK

    def _timeout_prompt(self) -> str | None:
        return next(iter(self.rules.menus.values())).timeout_prompt


class _Left(Exception):
    """The caller (or the leg's caller) is gone: the call ends here."""


# --------------------------------------------------------------------------- comparison


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Every field where ``actual`` differs from ``expected``, by path."""
    if is_dataclass(expected) and is_dataclass(actual):
        found: list[str] = []
        for f in fields(expected):
            found += differences(
                getattr(expected, f.name), getattr(actual, f.name), f"{path}.{f.name}".lstrip(".")
            )
        return found
    if isinstance(expected, list) and isinstance(actual, list):
        found = []
        if len(expected) != len(actual):
            found.append(f"{path}: expected {len(expected)} items, got {len(actual)}")
        for i, (e, a) in enumerate(zip(expected, actual, strict=False)):
            found += differences(e, a, f"{path}[{i}]")
        return found
    if isinstance(expected, Enum):
        expected = expected.value
    if isinstance(actual, Enum):
        actual = actual.value
    if (
        isinstance(expected, datetime)
        and isinstance(actual, datetime)
        and abs(expected - actual) <= SAME_MOMENT
    ):
        return []
    if expected != actual:
        return [f"{path}: expected {_show(expected)}, got {_show(actual)}"]
    return []


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%H:%M:%S.%f")[:-3]
    return repr(value)


def _sorted_legs(record: CallRecord) -> CallRecord:
    for entry in record.entries:
        entry.legs.sort(key=lambda leg: (leg.channel_id or "", leg.ring_started_at))
    return record


def check_records(oracle: Oracle, records: Iterable[CallRecord]) -> list[str]:
    """Every mismatch between the records and what the PBX lived, one line each."""
    by_id = {r.call_id: r for r in records}
    problems: list[str] = []
    for call_id in oracle.calls():
        actual = by_id.pop(call_id, None)
        if actual is None:
            problems.append(f"call {call_id}: no record")
            continue
        try:
            expectation = oracle.expect(call_id)
        except Unexpected as exc:
            problems.append(f"call {call_id}: the oracle cannot explain it: {exc}")
            continue
        expected = _sorted_legs(expectation.record)
        got = _sorted_legs(actual)
        found = [
            d for d in differences(expected, got)
            if not any(d.startswith(p) for p in expectation.loose)
            and not d.startswith("rules_version")
        ]  # fmt: skip
        found += expectation.notes
        problems += [f"call {call_id} ({actual.caller_number}): {d}" for d in found]
    problems += [f"call {call_id}: recorded, but no caller made it" for call_id in by_id]
    return problems


def describe(oracle: Oracle, call_ids: Sequence[str]) -> str:
    """What the PBX lived for these calls (printed with a failure)."""
    lines: list[str] = []
    wanted = set(call_ids)
    for life in oracle.history.channels.values():
        if not ({life.id, life.originator} & wanted):
            continue
        lines.append(f"{life.id} {life.name} ({life.kind}, for {life.originator})")
        for fact in life.facts[1:]:
            rest = {k: v for k, v in fact.items() if k not in ("at", "what")}
            lines.append(f"    {fact['at'][11:23]} {fact['what']} {rest}")
    return "\n".join(lines)

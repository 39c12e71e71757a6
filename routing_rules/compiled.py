"""The runtime structure of the rules: immutable, consistent, built once from a checked file.

A :class:`CompiledRules` is a version: a call keeps the object it started with, a reload builds a
new one. Nothing here can fail on a file that passed :mod:`routing_rules.checks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

from routing_rules import model as m
from routing_rules.hours import DAYS, CompiledSchedule, Span, parse_slot
from routing_rules.model import NumberChoice, Scale, Strategy

# What agents' phones show: the caller's number and name (from the network) are cut to these
# lengths when the caller id is made, and a format must not be able to give more than
# CALLER_ID_MAX characters with them (checked at load).
CALLER_ID_MAX = 100
CALLER_ID_NUMBER_MAX = 32
CALLER_ID_NAME_MAX = 32

# How a caller's position in a queue is said: "you are next", or "your position:" followed by
# the number, said by Asterisk in the call's language (``number:`` media).
NEXT_IN_QUEUE_PROMPT = "file_prochain"
POSITION_PROMPT = "file_position"
POSITION_PROMPTS = (NEXT_IN_QUEUE_PROMPT, POSITION_PROMPT)


@dataclass(frozen=True, slots=True)
class ToService:
    service_id: str

    def describe(self) -> str:
        return f"service {self.service_id}"


@dataclass(frozen=True, slots=True)
class ToMenu:
    menu_id: str

    def describe(self) -> str:
        return f"menu {self.menu_id}"


@dataclass(frozen=True, slots=True)
class PlayMessage:
    """Play the prompt, then hang up."""

    prompt_id: str

    def describe(self) -> str:
        return f"message {self.prompt_id}"


@dataclass(frozen=True, slots=True)
class TakeCallback:
    prompt_id: str
    number: NumberChoice
    number_prompt: str | None
    thanks_prompt: str

    def describe(self) -> str:
        return f"callback request {self.prompt_id} (number: {self.number.value})"


Target = ToService | ToMenu | PlayMessage | TakeCallback
OverflowTarget = ToService | PlayMessage | TakeCallback


class OverflowReason(StrEnum):
    NO_ANSWER = "no_answer"  # rang the whole time, nobody picked up
    BUSY = "busy"  # agents present, every one of them busy
    NOBODY = "nobody"  # no agent present (signed out, paused, unregistered)
    CLOSED = "closed"  # outside the opening hours


@dataclass(frozen=True, slots=True)
class QueueRules:
    """A service's waiting queue: how long a caller may wait, and what they hear meanwhile."""

    max_wait_s: float
    prompt: str
    repeat_prompt: str
    announce_every_s: float | None  # None: announced once
    position: bool
    music: str | None  # a music on hold class; None: the ring tone

    def describe(self) -> str:
        """For the service's logs (``routing_rules.narration`` tells it in French)."""
        hears = "ring tone" if self.music is None else f"music on hold {self.music}"
        said = self.prompt + (" + position" if self.position else "")
        if self.announce_every_s is None:
            when = "once"
        else:
            when = f"then every {self.announce_every_s:g} s ({self.repeat_prompt})"
        return f"announces {said} {when}; {hears} between"


@dataclass(frozen=True, slots=True)
class ServiceRules:
    id: str
    name: str
    tag: str
    agents: tuple[str, ...]
    strategy: Strategy
    ring_s: float
    per_agent_s: float
    schedule: CompiledSchedule | None
    closed_prompt: str | None
    overflow: Mapping[OverflowReason, OverflowTarget]
    name_prompt: str | None = None  # the service's name, said to agents
    queue: QueueRules | None = None  # None: no waiting, a busy service overflows at once


@dataclass(frozen=True, slots=True)
class MenuRules:
    id: str
    greeting: str | None
    prompt: str
    keys: Mapping[str, Target]
    timeout_s: float
    retries: int
    invalid_prompt: str
    timeout_prompt: str | None
    repeat_key: str | None
    fallback: Target
    # The name a person reads (« Menu d'accueil »); None: the rules give none, the readers
    # make one from the id (routing_rules.narration.menu_name).
    name: str | None = None


@dataclass(frozen=True, slots=True)
class EntryRule:
    index: int  # 1-based position in the file, for traces
    numbers: frozenset[str] | None  # None: any number
    target: ToMenu | ToService
    schedule: CompiledSchedule | None
    closed_message: str | None


@dataclass(frozen=True, slots=True)
class QuestionRules:
    id: str
    prompt: str
    scale: Scale


@dataclass(frozen=True, slots=True)
class SurveyRules:
    id: str
    services: frozenset[str] | None  # None: every service
    one_in: int
    consent_prompt: str
    thanks_prompt: str
    timeout_s: float
    questions: tuple[QuestionRules, ...]


@dataclass(frozen=True, slots=True)
class CompiledRules:
    version: str  # hash of the file's bytes
    source: str
    tz: ZoneInfo
    ring_cycle_s: float
    caller_id_format: str
    anonymous_number: str
    services: Mapping[str, ServiceRules]
    menus: Mapping[str, MenuRules]
    entry: tuple[EntryRule, ...]
    surveys: Mapping[str, SurveyRules]
    schedules: Mapping[str, CompiledSchedule]
    # Said when a caller presses nothing where a key is expected (settings.timeout_prompt).
    timeout_prompt: str | None = None
    # Callers cut by the PBX while waiting for a service are owed a callback (settings).
    callback_after_cut: bool = False


DEFAULT_RINGS_PER_AGENT = 3


def normalise_number(number: str) -> str:
    """French numbers compare in national form: ``+33 2 32 ...`` and ``0232...`` are one."""
    digits = "".join(c for c in number if c.isdigit() or c == "+")
    if digits.startswith("+33"):
        return "0" + digits[3:]
    if digits.startswith("0033"):
        return "0" + digits[4:]
    return digits


def target_of(
    action: m.ServiceTarget | m.MenuTarget | m.MessageTarget | m.CallbackTarget,
) -> Target:
    if isinstance(action, m.ServiceTarget):
        return ToService(action.service)
    if isinstance(action, m.MenuTarget):
        return ToMenu(action.menu)
    if isinstance(action, m.MessageTarget):
        return PlayMessage(action.message)
    return TakeCallback(action.callback, action.number, action.number_prompt, action.thanks_prompt)


def _overflow_target(
    action: m.ServiceTarget | m.MessageTarget | m.CallbackTarget,
) -> OverflowTarget:
    target = target_of(action)
    assert not isinstance(target, ToMenu)
    return target


def _queue(queue: m.Queue | None) -> QueueRules | None:
    if queue is None:
        return None
    return QueueRules(
        max_wait_s=queue.max_wait_s,
        prompt=queue.prompt,
        repeat_prompt=queue.repeat_prompt or queue.prompt,
        announce_every_s=queue.announce_every_s,
        position=queue.position,
        music=None if queue.music == m.RING_TONE else queue.music,
    )


def _spans(slots: list[str]) -> tuple[Span, ...]:
    return tuple(sorted(parse_slot(s) for s in slots))


def compile_schedule(
    schedule_id: str, schedule: m.Schedule, settings: m.Settings
) -> CompiledSchedule:
    return CompiledSchedule(
        id=schedule_id,
        tz=ZoneInfo(settings.timezone),
        weekly=tuple(_spans(schedule.weekly.get(day, [])) for day in DAYS),  # type: ignore[call-overload]
        holidays_closed=schedule.public_holidays is m.PublicHolidays.CLOSED,
        country=settings.holidays_country,
        subdivision=settings.holidays_subdivision,
        exceptions=MappingProxyType(
            {date.fromisoformat(e.date): (_spans(e.slots), e.label) for e in schedule.exceptions}
        ),
    )


def compile_rules(rules: m.RulesFile, version: str, source: str) -> CompiledRules:
    """Build the runtime structure of a file that passed every check."""
    settings = rules.settings
    cycle = settings.ring_cycle_s
    schedules = {sid: compile_schedule(sid, s, settings) for sid, s in rules.schedules.items()}
    services: dict[str, ServiceRules] = {}
    for sid, s in rules.services.items():
        overflow = {
            reason: _overflow_target(getattr(s.overflow, reason.value) or s.overflow.otherwise)
            for reason in OverflowReason
        }
        services[sid] = ServiceRules(
            id=sid,
            name=s.name,
            tag=s.tag,
            agents=tuple(s.agents),
            strategy=s.strategy,
            ring_s=s.rings * cycle,
            per_agent_s=(s.rings_per_agent or DEFAULT_RINGS_PER_AGENT) * cycle,
            schedule=schedules[s.hours] if s.hours else None,
            closed_prompt=s.closed_prompt,
            overflow=MappingProxyType(overflow),
            name_prompt=s.name_prompt,
            queue=_queue(s.queue),
        )
    menus = {
        mid: MenuRules(
            id=mid,
            greeting=menu.greeting,
            prompt=menu.prompt,
            keys=MappingProxyType({k: target_of(a) for k, a in menu.keys.items()}),
            timeout_s=menu.timeout_s,
            retries=menu.retries,
            invalid_prompt=menu.invalid_prompt or settings.invalid_prompt,
            timeout_prompt=menu.timeout_prompt or settings.timeout_prompt,
            repeat_key=menu.repeat_key,
            fallback=target_of(menu.fallback),
            name=menu.name,
        )
        for mid, menu in rules.menus.items()
    }
    entry = tuple(
        EntryRule(
            index=i,
            numbers=frozenset(normalise_number(n) for n in route.numbers)
            if route.numbers is not None
            else None,
            target=ToMenu(route.menu) if route.menu else ToService(route.service or ""),
            schedule=schedules[route.hours] if route.hours else None,
            closed_message=route.closed_message,
        )
        for i, route in enumerate(rules.entry, start=1)
    )
    surveys = {
        sid: SurveyRules(
            id=sid,
            services=None if s.services == "all" else frozenset(s.services),
            one_in=s.one_in,
            consent_prompt=s.consent_prompt,
            thanks_prompt=s.thanks_prompt,
            timeout_s=s.timeout_s,
            questions=tuple(QuestionRules(q.id, q.prompt, q.scale) for q in s.questions),
        )
        for sid, s in rules.surveys.items()
    }
    return CompiledRules(
        version=version,
        source=source,
        tz=ZoneInfo(settings.timezone),
        ring_cycle_s=cycle,
        caller_id_format=settings.caller_id_format,
        anonymous_number=settings.anonymous_number,
        services=MappingProxyType(services),
        menus=MappingProxyType(menus),
        entry=entry,
        surveys=MappingProxyType(surveys),
        schedules=MappingProxyType(schedules),
        timeout_prompt=settings.timeout_prompt,
        callback_after_cut=settings.callback_after_cut,
    )

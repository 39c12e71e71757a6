"""Compiling a checked rules file (:mod:`routing_rules.model`) into :class:`CompiledRules`.

Nothing here can fail on a file that passed :mod:`routing_rules.checks`.
"""

from __future__ import annotations

from datetime import date
from types import MappingProxyType
from zoneinfo import ZoneInfo

from routing_rules import model as m
from routing_rules.compiled import (
    DEFAULT_RINGS_PER_AGENT,
    CompiledRules,
    EntryRule,
    MenuRules,
    OverflowReason,
    OverflowTarget,
    PlayMessage,
    QuestionRules,
    QueueRules,
    ServiceRules,
    SurveyRules,
    TakeCallback,
    Target,
    ToMenu,
    ToService,
    normalise_number,
)
from routing_rules.hours import DAYS, CompiledSchedule, Span, parse_slot


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

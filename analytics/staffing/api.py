"""The staffing API: what the command, the page and the annual review call.

:class:`Staffing` is built by the composition root (source of the records, the rules' opening
hours and service names, the objectives, the settings) and computes a :class:`StaffingPlan` for
a period: ``decroche staffing``'s table and JSON, the quality lead's page and the review's
"créneaux en sous-effectif" all read that one object.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from analytics.api import LoadedFrame
from analytics.definitions import Parameters
from analytics.objectives import ObjectivesConfig
from analytics.staffing.legs import LegFrame
from analytics.staffing.plan import QueueSetup, StaffingPlan, staffing_plan
from analytics.staffing.traffic import OpeningHours, Span, service_traffic
from routing_rules.compiled import CompiledRules


class StaffingSource(Protocol):
    """Entries and agent legs of a period (:class:`analytics.sources.DatabaseSource`,
    :class:`analytics.sources.QueueLogSource`)."""

    def load(self, start: date, end: date) -> LoadedFrame: ...

    def load_legs(self, start: date, end: date) -> LegFrame: ...


class RulesOpeningHours:
    """Opening hours from the rules: a service's schedule (weekly slots, public holidays,
    dated exceptions); a service without hours is open all day; a service the rules do not
    know (an old queue, a service since removed) is None: open all day but public holidays.
    ``rules`` may be a function giving the rules in force (a reload then applies at once)."""

    def __init__(self, rules: CompiledRules | Callable[[], CompiledRules]) -> None:
        self._rules = rules

    def spans(self, service: str, day: date) -> Sequence[Span] | None:
        rules = self._rules if isinstance(self._rules, CompiledRules) else self._rules()
        found = rules.services.get(service)
        if found is None:
            return None
        if found.schedule is None:
            return ((0, 86400),)
        spans, _, _ = found.schedule.day_rule(day)
        return spans


@dataclass(frozen=True, slots=True)
class StaffingSettings:
    """``staffing:`` in the configuration. ``queues``: the services whose callers wait for a
    free agent (:func:`rules_queues`: those with ``queue:`` in the rules, and ``--queue``)."""

    after_call_work_s: Mapping[str, float] = field(default_factory=dict)
    queues: Mapping[str, QueueSetup] = field(default_factory=dict)


def rules_queues(rules: CompiledRules) -> dict[str, QueueSetup]:
    """The services whose rules have a waiting queue, with its maximum wait: staffing models
    them as queues (Erlang A) rather than as callers who overflow when every agent is busy."""
    return {
        sid: QueueSetup(max_wait_s=service.queue.max_wait_s)
        for sid, service in rules.services.items()
        if service.queue is not None
    }


class Staffing:
    def __init__(
        self,
        source: StaffingSource,
        hours: OpeningHours,
        *,
        parameters: Parameters | None = None,
        objectives: ObjectivesConfig | None = None,
        names: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None,
        settings: StaffingSettings | Callable[[], StaffingSettings] | None = None,
        queue_log: bool = False,
    ) -> None:
        self._source = source
        self._hours = hours
        self.parameters = parameters or Parameters()
        self.objectives = objectives or ObjectivesConfig()
        # A function: the names of the rules in force at each plan (a reload renames).
        self._names = names or {}
        # A function: the settings as the rules in force make them at each plan (a reload may
        # add or remove a service's queue).
        self._settings = settings or StaffingSettings()
        self._queue_log = queue_log

    @property
    def settings(self) -> StaffingSettings:
        return self._settings() if callable(self._settings) else self._settings

    def plan(self, start: date, end: date, slot_minutes: int = 60) -> StaffingPlan:
        if end < start:
            raise ValueError(f"period ends ({end}) before it starts ({start})")
        # One day of margin each side: local dates differ from UTC dates by up to 14 hours.
        low, high = start - timedelta(days=1), end + timedelta(days=1)
        frame = self._source.load(low, high).frame
        legs = self._source.load_legs(low, high)
        settings = self.settings
        traffic = service_traffic(
            frame,
            legs,
            self._hours,
            start,
            end,
            slot_minutes=slot_minutes,
            params=self.parameters,
            after_call_work_s=settings.after_call_work_s,
        )
        return staffing_plan(
            traffic,
            start,
            end,
            slot_minutes=slot_minutes,
            objectives=self.objectives,
            params=self.parameters,
            names=self._names() if callable(self._names) else self._names,
            queues=settings.queues,
            queue_log=self._queue_log,
        )

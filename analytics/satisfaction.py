"""Satisfaction survey indicators, read from the call records: per service, agent and period.

A call *offered* the survey is one whose caller heard the consent prompt (``survey_offered``).
It is *reached* when an agent took it (the survey can only follow a conversation), and
*responded* when at least one question got a valid key. Indicators:

- ``response_rate`` = responded / reached;
- ``mean_score`` = mean of the answers on the 1–5 scale;
- ``share_satisfied`` = answers 4 or 5 (1–5 scale) or ``oui`` (oui–non scale) / all answers
  with a score.

The answers are read by :class:`analytics.sources.DatabaseSource` (``SurveySource``).
The records keep each answer's prompt id, not its scale (1 on a 1–5 scale is very unhappy, 1 on
oui–non is "oui"): the scale of each prompt comes from the routing rules (:func:`scales_of`).
An answer whose prompt the rules no longer know counts as an answer, not in the mean nor the
share, and is counted in ``unknown_scale`` so that nobody reads a wrong figure silently.

Each figure stands beside its objective (``analytics.objectives.Objective``; default: share
satisfied >= 80 %) and its trend against the previous period, like the phone indicators.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from analytics import glossary
from analytics.definitions import DEFAULT_TIMEZONE
from analytics.objectives import (
    Assessment,
    Comparison,
    Objective,
    ObjectivesConfig,
    Trend,
    trend,
)
from routing_rules.compiled import CompiledRules
from routing_rules.kinds import Scale

Granularity = Literal["day", "week", "month"]

INDICATORS = ("response_rate", "mean_score", "share_satisfied")
DEFAULT_OBJECTIVES: dict[str, Objective] = {
    "share_satisfied": Objective(target=0.80, kind="min"),
}

NO_SERVICE = "(sans service)"
NO_AGENT = "(non décroché)"


class SatisfactionError(ValueError):
    """The survey rules cannot be read into scales (a prompt used with two scales)."""


def scales_of(rules: CompiledRules) -> dict[str, Scale]:
    """The scale of each question prompt of the rules' surveys."""
    scales: dict[str, Scale] = {}
    for survey in rules.surveys.values():
        for question in survey.questions:
            known = scales.get(question.prompt)
            if known is not None and known is not question.scale:
                raise SatisfactionError(
                    f"prompt {question.prompt!r} is used with scales {known.value!r} and "
                    f"{question.scale.value!r} (surveys.{survey.id}.questions.{question.id}): "
                    "its answers cannot be read"
                )
            scales[question.prompt] = question.scale
    return scales


def is_satisfied(scale: Scale, score: int) -> bool:
    return score >= 4 if scale is Scale.ONE_TO_FIVE else score == 1


# --- reading the records ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    question: int
    prompt_id: str
    at: datetime
    score: int | None


@dataclass(slots=True)
class SurveyedCall:
    """A call offered the survey, with its answers (question order)."""

    call_id: str
    started_at: datetime
    service: str | None
    agent: str | None
    answers: list[Answer] = field(default_factory=list)

    @property
    def responded(self) -> bool:
        return any(a.score is not None for a in self.answers)


class SurveySource(Protocol):
    """The surveyed calls of the local days ``start``..``end``, oldest first
    (:class:`analytics.sources.DatabaseSource`)."""

    def surveyed_calls(self, start: date, end: date, timezone: str) -> list[SurveyedCall]: ...


def surveyed_calls(
    source: SurveySource, start: date, end: date, timezone: str = DEFAULT_TIMEZONE
) -> list[SurveyedCall]:
    """Calls offered the survey whose local start date is in ``start``..``end``, oldest first."""
    if end < start:
        raise ValueError(f"period ends ({end}) before it starts ({start})")
    return source.surveyed_calls(start, end, timezone)


# --- figures -----------------------------------------------------------------------------------


@dataclass(slots=True)
class SatisfactionFigures:
    offered: int = 0
    reached: int = 0
    responded: int = 0
    answers: int = 0  # answers with a score
    satisfied: int = 0
    scored: int = 0  # answers on the 1-5 scale
    score_sum: int = 0
    unknown_scale: int = 0  # answers whose prompt the rules do not know

    def add(self, call: SurveyedCall, scales: Mapping[str, Scale]) -> None:
        self.offered += 1
        if call.agent is not None:
            self.reached += 1
        if call.responded:
            self.responded += 1
        for answer in call.answers:
            if answer.score is None:
                continue
            self.answers += 1
            scale = scales.get(answer.prompt_id)
            if scale is None:
                self.unknown_scale += 1
                continue
            if scale is Scale.ONE_TO_FIVE:
                self.scored += 1
                self.score_sum += answer.score
            if is_satisfied(scale, answer.score):
                self.satisfied += 1

    @property
    def response_rate(self) -> float | None:
        return self.responded / self.reached if self.reached else None

    @property
    def mean_score(self) -> float | None:
        return self.score_sum / self.scored if self.scored else None

    @property
    def share_satisfied(self) -> float | None:
        known = self.answers - self.unknown_scale
        return self.satisfied / known if known else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "offered": self.offered,
            "reached": self.reached,
            "responded": self.responded,
            "answers": self.answers,
            "satisfied": self.satisfied,
            "unknown_scale": self.unknown_scale,
            "response_rate": self.response_rate,
            "mean_score": None if self.mean_score is None else round(self.mean_score, 3),
            "share_satisfied": self.share_satisfied,
        }


def assess_satisfaction(
    figures: SatisfactionFigures,
    objectives: Mapping[str, Objective],
    previous: SatisfactionFigures | None = None,
    *,
    compared: SatisfactionFigures | None = None,
    incomplete: bool = False,
) -> list[Assessment]:
    """Each satisfaction indicator beside its objective (if any) and its trend: ``compared``
    (the days compared of a running period; default ``figures``) against ``previous``."""
    result: list[Assessment] = []
    for name in INDICATORS:
        value: float | None = getattr(figures, name)
        now: float | None = getattr(compared if compared is not None else figures, name)
        before: float | None = getattr(previous, name) if previous is not None else None
        objective = objectives.get(name)
        key = f"satisfaction.{name}"
        result.append(
            Assessment(
                indicator=name,
                label=glossary.label(key),
                value=value,
                objective=objective,
                met=None if objective is None or value is None else objective.met(value),
                previous=before,
                trend=Trend.INCOMPLETE if incomplete else trend(key, now, before),
                term=key,
            )
        )
    return result


def objectives_for(config: ObjectivesConfig | None, service: str | None) -> dict[str, Objective]:
    """The satisfaction defaults, overridden by the configuration's ``objectives`` (default,
    then the service's own)."""
    merged = dict(DEFAULT_OBJECTIVES)
    if config is not None:
        merged.update(config.default)
        if service is not None:
            merged.update(config.services.get(service, {}))
    return merged


def period_key(moment: datetime, zone: ZoneInfo, by: Granularity) -> str:
    day = moment.astimezone(zone).date()
    if by == "day":
        return day.isoformat()
    if by == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


@dataclass(slots=True)
class Group:
    """One service, agent or period: its figures and their assessment."""

    figures: SatisfactionFigures
    assessments: list[Assessment]

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.figures.as_dict(),
            "objectives": [a.as_dict() for a in self.assessments],
        }


@dataclass(slots=True)
class SatisfactionReport:
    start: date
    end: date
    total: Group
    services: dict[str, Group]
    agents: dict[str, Group]
    periods: dict[str, Group]
    by: Granularity

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "total": self.total.as_dict(),
            "services": {k: g.as_dict() for k, g in self.services.items()},
            "agents": {k: g.as_dict() for k, g in self.agents.items()},
            "by": self.by,
            "periods": {k: g.as_dict() for k, g in self.periods.items()},
        }


def _group(
    surveyed: Iterable[SurveyedCall], key: Any, scales: Mapping[str, Scale]
) -> dict[str, SatisfactionFigures]:
    groups: dict[str, SatisfactionFigures] = {}
    for call in surveyed:
        groups.setdefault(key(call), SatisfactionFigures()).add(call, scales)
    return dict(sorted(groups.items()))


def satisfaction_report(
    source: SurveySource,
    start: date,
    end: date,
    scales: Mapping[str, Scale],
    *,
    objectives: ObjectivesConfig | None = None,
    by: Granularity = "month",
    timezone: str = DEFAULT_TIMEZONE,
    today: date | None = None,
) -> SatisfactionReport:
    """The survey figures of ``start``..``end`` (local dates) per service, agent and period, each
    beside its objective and its trend against the previous period of the same length (the
    same days of it while the period runs: ``today``, see :class:`Comparison`)."""
    zone = ZoneInfo(timezone)
    comparison = Comparison.of(start, end, today)
    current = surveyed_calls(source, start, end, timezone)
    earlier = surveyed_calls(source, *comparison.previous_compared, timezone)
    last_compared = comparison.compared[1]
    compared = [c for c in current if c.started_at.astimezone(zone).date() <= last_compared]
    incomplete = comparison.incomplete

    def service_of(call: SurveyedCall) -> str:
        return call.service or NO_SERVICE

    def agent_of(call: SurveyedCall) -> str:
        return call.agent or NO_AGENT

    def figures_of(calls: Iterable[SurveyedCall]) -> SatisfactionFigures:
        figures = SatisfactionFigures()
        for call in calls:
            figures.add(call, scales)
        return figures

    def groups(
        key: Callable[[SurveyedCall], str], objectives_of: Callable[[str], dict[str, Objective]]
    ) -> dict[str, Group]:
        now, then, before = (_group(calls, key, scales) for calls in (current, compared, earlier))
        return {
            name: Group(
                figures,
                assess_satisfaction(
                    figures,
                    objectives_of(name),
                    before.get(name),
                    compared=then.get(name, SatisfactionFigures()),
                    incomplete=incomplete,
                ),
            )
            for name, figures in now.items()
        }

    defaults = objectives_for(objectives, None)
    total = figures_of(current)
    return SatisfactionReport(
        start=start,
        end=end,
        total=Group(
            total,
            assess_satisfaction(
                total,
                defaults,
                figures_of(earlier),
                compared=figures_of(compared),
                incomplete=incomplete,
            ),
        ),
        services=groups(service_of, lambda name: objectives_for(objectives, name)),
        agents=groups(agent_of, lambda name: defaults),
        periods={
            name: Group(figures, assess_satisfaction(figures, defaults))
            for name, figures in _group(
                current, lambda call: period_key(call.started_at, zone, by), scales
            ).items()
        },
        by=by,
    )

"""Objectives beside each indicator: met or not, and the trend against the previous period.

This is the *tableau de bord* the Qualivilles auditor asked for (finding WSM-2): every figure is
shown with the promise it is measured against. Defaults follow the State's *Plan téléphone*
(85 % of calls taken by an agent); each town sets its own, per indicator and per service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from analytics.definitions import HIGHER_IS_BETTER, LABELS_FR, Counts


class Decision(BaseModel):
    """The decision that adopted an objective: which body, on which day, under which reference
    (a deliberation, the minutes of a management review). The annual review prints it beside
    the objective: an auditor asks who set each target."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    by: str = Field(min_length=1, description="Instance, p. ex. « Comité de direction ».")
    on: date
    reference: str | None = Field(default=None, description="P. ex. « délibération 2026-045 ».")

    @property
    def text_fr(self) -> str:
        """« Comité de direction, 12/03/2026 (CD-2026-04) »."""
        said = f"{self.by}, {self.on:%d/%m/%Y}"
        return f"{said} ({self.reference})" if self.reference else said


class Objective(BaseModel):
    """A threshold on one indicator: ``value >= target`` (min) or ``value <= target`` (max);
    ``adopted``: the decision that set it (None: not said in the configuration)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: float
    kind: Literal["min", "max"]
    adopted: Decision | None = None

    def met(self, value: float) -> bool:
        return value >= self.target if self.kind == "min" else value <= self.target


def _default_objectives() -> dict[str, Objective]:
    return {
        "answer_rate": Objective(target=0.85, kind="min"),
        "service_level": Objective(target=0.80, kind="min"),
        "abandonment_rate": Objective(target=0.10, kind="max"),
    }


class ObjectivesConfig(BaseModel):
    """``objectives:`` in the configuration: defaults, then per-service overrides."""

    model_config = ConfigDict(extra="forbid")

    default: dict[str, Objective] = Field(default_factory=_default_objectives)
    services: dict[str, dict[str, Objective]] = Field(default_factory=dict)

    def for_service(self, service: str | None) -> dict[str, Objective]:
        merged = dict(self.default)
        if service is not None:
            merged.update(self.services.get(service, {}))
        return merged


class Trend(StrEnum):
    BETTER = "better"
    WORSE = "worse"
    STABLE = "stable"
    UNKNOWN = "unknown"


TREND_FR = {
    Trend.BETTER: "en amélioration",
    Trend.WORSE: "en baisse",
    Trend.STABLE: "stable",
    Trend.UNKNOWN: "pas de comparaison",
}

# A change smaller than this (in rate points, or seconds for waits) is reported as stable.
_STABLE_RATE = 0.005
_STABLE_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class Assessment:
    indicator: str
    label: str
    value: float | None
    objective: Objective | None
    met: bool | None  # None: no objective, or no value (base 0)
    previous: float | None
    trend: Trend

    @property
    def status_fr(self) -> str:
        if self.met is None:
            return "sans objectif" if self.objective is None else "non mesurable"
        return "objectif atteint" if self.met else "objectif non atteint"

    def as_dict(self) -> dict[str, object]:
        return {
            "indicator": self.indicator,
            "value": self.value,
            "objective": None
            if self.objective is None
            else {"target": self.objective.target, "kind": self.objective.kind},
            "met": self.met,
            "previous": self.previous,
            "trend": self.trend.value,
        }


def _trend(indicator: str, value: float | None, previous: float | None) -> Trend:
    if value is None or previous is None:
        return Trend.UNKNOWN
    delta = value - previous
    stable = _STABLE_SECONDS if indicator.endswith("_s") else _STABLE_RATE
    if abs(delta) < stable:
        return Trend.STABLE
    better = delta > 0 if HIGHER_IS_BETTER.get(indicator, True) else delta < 0
    return Trend.BETTER if better else Trend.WORSE


ASSESSED = ("answer_rate", "service_level", "abandonment_rate", "mean_wait_answered_s")


def assess(
    counts: Counts,
    objectives: dict[str, Objective],
    previous: Counts | None = None,
    indicators: tuple[str, ...] = ASSESSED,
) -> list[Assessment]:
    """Each indicator of ``counts`` beside its objective and its trend against ``previous``."""
    result: list[Assessment] = []
    for name in indicators:
        value: float | None = getattr(counts, name)
        before: float | None = getattr(previous, name) if previous is not None else None
        objective = objectives.get(name)
        met = None if objective is None or value is None else objective.met(value)
        result.append(
            Assessment(
                indicator=name,
                label=LABELS_FR.get(name, name),
                value=value,
                objective=objective,
                met=met,
                previous=before,
                trend=_trend(name, value, before),
            )
        )
    return result


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period of the same length just before: a month before a month, else same length."""
    if start.day == 1 and (end + timedelta(days=1)).day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        year, month = divmod(start.year * 12 + start.month - 1 - months, 12)
        first = date(year, month + 1, 1)
        return first, start - timedelta(days=1)
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)

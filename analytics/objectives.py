"""Objectives beside each indicator: met or not, and the trend against the previous period.

This is the *tableau de bord* the Qualivilles auditor asked for (finding WSM-2): every figure is
shown with the promise it is measured against. Defaults follow the State's *Plan téléphone*
(85 % of calls taken by an agent); each town sets its own, per indicator and per service, and
words its ring commitment as its quality plan does (``commitment``: « en 5 sonneries », the
default, or « avant la 5e sonnerie »).

The trend says the quality's direction in words, the same for every indicator (a lower
abandonment rate or a shorter wait "s'améliore"), with the previous value, and "stable" below a
stated threshold (:data:`analytics.glossary.STABLE_BELOW`). A period still running is compared
with the same days of the previous period (its complete days: up to yesterday), or, before its
first day is over, the trend says "période incomplète" (:class:`Comparison`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from analytics import glossary
from analytics.definitions import Commitment, Counts


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
    # The service level only: the ring commitment in the quality plan's words, « en 5
    # sonneries » (wait <= 25 s, the default) or « avant la 5e sonnerie » (wait < 20 s).
    commitment: str | None = None

    @field_validator("commitment")
    @classmethod
    def _readable(cls, words: str | None) -> str | None:
        if words is None:
            return None
        return Commitment.parse(words).words  # a ValueError names what to write

    def met(self, value: float) -> bool:
        return value >= self.target if self.kind == "min" else value <= self.target

    @property
    def ring_commitment(self) -> Commitment | None:
        return None if self.commitment is None else Commitment.parse(self.commitment)


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

    @model_validator(mode="after")
    def _commitments_on_service_level(self) -> Self:
        groups = [("default", self.default)]
        groups += [(f"services.{name}", chosen) for name, chosen in self.services.items()]
        for where, chosen in groups:
            for indicator, objective in chosen.items():
                if objective.commitment is not None and indicator != "service_level":
                    raise ValueError(
                        f"objectives.{where}.{indicator}.commitment : l'engagement de sonneries "
                        "ne s'écrit que sur service_level (le niveau de service)"
                    )
        return self

    def for_service(self, service: str | None) -> dict[str, Objective]:
        merged = dict(self.default)
        if service is not None:
            merged.update(self.services.get(service, {}))
        return merged

    def commitment_for(self, service: str | None) -> Commitment | None:
        """The ring commitment the configuration words for ``service`` (None: the service's
        objective says none, the default one applies; for ``None``: the default's)."""
        own = self.services.get(service, {}) if service is not None else self.default
        objective = own.get("service_level")
        return None if objective is None else objective.ring_commitment

    def commitments(self) -> dict[str, Commitment]:
        """The services whose objective words their own ring commitment."""
        found: dict[str, Commitment] = {}
        for service in self.services:
            commitment = self.commitment_for(service)
            if commitment is not None:
                found[service] = commitment
        return found


class Trend(StrEnum):
    BETTER = "better"
    WORSE = "worse"
    STABLE = "stable"
    INCOMPLETE = "incomplete"  # the period's first day is not over: nothing to compare yet
    UNKNOWN = "unknown"  # no value on one side


TREND_FR = {trend: glossary.TREND_WORDS[trend.value] for trend in Trend}


@dataclass(frozen=True, slots=True)
class Assessment:
    """One figure beside its objective, and its trend. ``previous``: the previous period's
    value over the days compared (the same days while the period runs)."""

    indicator: str  # the glossary's key
    label: str
    value: float | None
    objective: Objective | None
    met: bool | None  # None: no objective, or no value (base 0)
    previous: float | None
    trend: Trend
    term: str | None = None  # the glossary's key, when not ``indicator`` (satisfaction.*)

    @property
    def key(self) -> str:
        return self.term or self.indicator

    @property
    def status_fr(self) -> str:
        if self.met is None:
            return "sans objectif" if self.objective is None else "non mesurable"
        return "objectif atteint" if self.met else "objectif non atteint"

    @property
    def trend_fr(self) -> str:
        """« s'améliore », « se dégrade », « stable », « période incomplète »..."""
        return TREND_FR[self.trend]

    @property
    def trend_sentence(self) -> str:
        """The trend with what it compares: « se dégrade (période précédente : 4,3 %) »,
        « stable (écart de moins de 0,5 point ; période précédente : 4,3 %) »."""
        before = glossary.value(self.key, self.previous)
        if self.trend is Trend.INCOMPLETE:
            return f"{self.trend_fr} (période précédente : {before})"
        if self.trend is Trend.UNKNOWN:
            return self.trend_fr
        threshold = glossary.stable_words(glossary.unit_of(self.key))
        if self.trend is Trend.STABLE and threshold:
            return f"{self.trend_fr} ({threshold} ; période précédente : {before})"
        return f"{self.trend_fr} (période précédente : {before})"

    def as_dict(self) -> dict[str, object]:
        return {
            "indicator": self.indicator,
            "value": self.value,
            "objective": None
            if self.objective is None
            else self.objective.model_dump(exclude_none=True),
            "met": self.met,
            "previous": self.previous,
            "trend": self.trend.value,
            "trend_fr": self.trend_fr,
        }


def trend(indicator: str, value: float | None, previous: float | None) -> Trend:
    """The quality's direction from ``previous`` to ``value`` (``indicator``: the glossary's
    key, which says which way is better and the threshold of "stable")."""
    if value is None or previous is None:
        return Trend.UNKNOWN
    delta = value - previous
    term = glossary.GLOSSARY.get(indicator)
    unit = glossary.unit_of(indicator)
    if term is None or term.better == 0:
        return Trend.UNKNOWN  # a volume has no better way
    if delta == 0 or abs(delta) < glossary.STABLE_BELOW.get(unit, 0.0) - 1e-12:
        return Trend.STABLE
    return Trend.BETTER if delta * term.better > 0 else Trend.WORSE


ASSESSED = ("answer_rate", "service_level", "abandonment_rate", "mean_wait_answered_s")


def assess(
    counts: Counts,
    objectives: dict[str, Objective],
    previous: Counts | None = None,
    indicators: tuple[str, ...] = ASSESSED,
    *,
    compared: Counts | None = None,
    incomplete: bool = False,
    engagement: str | None = None,
) -> list[Assessment]:
    """Each indicator of ``counts`` beside its objective and its trend: ``compared`` (the days
    compared of a running period; default ``counts``) against ``previous`` (the same days of the
    previous period); ``incomplete``: nothing to compare yet. ``engagement``: the service's ring
    commitment in words, for the labels."""
    result: list[Assessment] = []
    for name in indicators:
        value: float | None = getattr(counts, name)
        now: float | None = getattr(compared if compared is not None else counts, name)
        before: float | None = getattr(previous, name) if previous is not None else None
        objective = objectives.get(name)
        met = None if objective is None or value is None else objective.met(value)
        result.append(
            Assessment(
                indicator=name,
                label=glossary.label(name, engagement),
                value=value,
                objective=objective,
                met=met,
                previous=before,
                trend=Trend.INCOMPLETE if incomplete else trend(name, now, before),
            )
        )
    return result


@dataclass(frozen=True, slots=True)
class Comparison:
    """What a period's trend compares. A finished period: the whole of it with the whole
    previous period. A period still running: its complete days (``through``: yesterday) with
    the same days of the previous period; before its first day is over, nothing
    (``incomplete``)."""

    start: date
    end: date
    previous_start: date
    previous_end: date
    running: bool = False
    through: date | None = None  # running: the last day compared

    @classmethod
    def of(cls, start: date, end: date, today: date | None = None) -> Comparison:
        before_start, before_end = previous_period(start, end)
        if today is None or today > end:
            return cls(start, end, before_start, before_end)
        through = today - timedelta(days=1)
        return cls(
            start, end, before_start, before_end, True, through if through >= start else None
        )

    @property
    def incomplete(self) -> bool:
        return self.running and self.through is None

    @property
    def compared(self) -> tuple[date, date]:
        """The days of the period whose figures are compared."""
        return self.start, self.through or self.end

    @property
    def previous_compared(self) -> tuple[date, date]:
        """The days of the previous period they are compared with."""
        if not self.running or self.through is None:
            return self.previous_start, self.previous_end
        days = (self.through - self.start).days
        return self.previous_start, min(
            self.previous_end, self.previous_start + timedelta(days=days)
        )

    def words(self) -> str:
        """What the pages and reports say of it, in French."""
        if not self.running:
            return ""
        if self.through is None:
            return (
                "Période en cours : son premier jour n'est pas fini, la tendance n'est pas "
                "calculée (période incomplète)."
            )
        first, last = self.previous_compared
        return (
            "Période en cours, pas encore finie : les chiffres vont jusqu'à maintenant ; la "
            f"tendance compare ses jours finis (du {self.start:%d/%m/%Y} au "
            f"{self.through:%d/%m/%Y}) aux mêmes jours de la période précédente (du "
            f"{first:%d/%m/%Y} au {last:%d/%m/%Y})."
        )


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period of the same length just before: a month before a month, else same length."""
    if start.day == 1 and (end + timedelta(days=1)).day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        year, month = divmod(start.year * 12 + start.month - 1 - months, 12)
        first = date(year, month + 1, 1)
        return first, start - timedelta(days=1)
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)

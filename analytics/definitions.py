"""The definitions of the phone indicators: parameters and the counts an auditor can check.

Per service, for the entries into it whose local date (Europe/Paris) is in the period:

- ``offered``: entries into the service;
- ``answered``: entries connected to an agent of the service; wait = entering -> answer;
- ``answered_within_target``: answered with wait <= rings x ring cycle (5 x 5 s by default:
  "décroché en 5 sonneries", i.e. within 25 s);
- ``abandoned``: the caller hung up while waiting or ringing, whatever the wait;
  ``short_abandoned``: abandoned with wait < the short-abandon threshold (5 s);
- ``overflowed``: left the service unanswered without hanging up (timeout, busy, nobody, closed,
  or a key pressed to leave);
- an entry *cut* by the PBX or the link to it (Asterisk restarted, the link failed), or
  *interrupted* by decroche stopping, is offered and nothing else: not answered (unless it had
  been), not an abandon (nobody hung up), not an overflow; a cut one is also left out of the
  callers' patience and of the agents' pick-up in the staffing figures;
- base = offered - short_abandoned; answer_rate = answered / base ("taux de décroché"),
  service_level = answered_within_target / base, abandonment_rate = (abandoned -
  short_abandoned) / base; a rate with base 0 is null;
- ``mean_wait_answered_s``: mean wait of answered entries.

The total counts each call once (calls whose first entry is in the period): its outcome is that
of its last entry, its wait runs from its first entry to its answer, or to its end when
unanswered; the same thresholds apply to that wait.

Counts keep numerators and denominators, so any set of services or periods re-aggregates
exactly by adding :class:`Counts` together; rates are derived, never stored.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

DEFAULT_TIMEZONE = "Europe/Paris"


@dataclass(frozen=True, slots=True)
class Parameters:
    """The thresholds every indicator depends on; printed with every result."""

    rings: int = 5
    ring_seconds: float = 5.0
    short_abandon_s: float = 5.0
    timezone: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        if self.rings < 1:
            raise ValueError(f"rings must be at least 1, got {self.rings}")
        if self.ring_seconds <= 0:
            raise ValueError(f"ring_seconds must be positive, got {self.ring_seconds}")
        if self.short_abandon_s < 0:
            raise ValueError(f"short_abandon must not be negative, got {self.short_abandon_s}")

    @property
    def target_s(self) -> float:
        """Answered within target means wait <= this many seconds ("en N sonneries")."""
        return self.rings * self.ring_seconds

    def convention(self) -> str:
        """The ring convention in words, as the quality plan must state it."""
        return (
            f"décroché en {self.rings} sonneries = attente ≤ {self.target_s:g} s "
            f"(cycle de sonnerie de {self.ring_seconds:g} s) ; « avant la {self.rings}e "
            f"sonnerie » correspondrait à moins de {(self.rings - 1) * self.ring_seconds:g} s"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "rings": self.rings,
            "ring_seconds": self.ring_seconds,
            "short_abandon_s": self.short_abandon_s,
            "target_s": self.target_s,
            "timezone": self.timezone,
        }


def _rate(numerator: int, base: int) -> float | None:
    return numerator / base if base > 0 else None


@dataclass(frozen=True, slots=True)
class Counts:
    """Numerators and denominators of one service (or the total) over one period."""

    offered: int = 0
    answered: int = 0
    answered_within_target: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    overflowed: int = 0
    wait_answered_sum_s: float = 0.0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Counts)))

    @property
    def base(self) -> int:
        return self.offered - self.short_abandoned

    @property
    def answer_rate(self) -> float | None:
        return _rate(self.answered, self.base)

    @property
    def service_level(self) -> float | None:
        return _rate(self.answered_within_target, self.base)

    @property
    def abandonment_rate(self) -> float | None:
        return _rate(self.abandoned - self.short_abandoned, self.base)

    @property
    def mean_wait_answered_s(self) -> float | None:
        if self.answered == 0:
            return None
        return self.wait_answered_sum_s / self.answered

    def as_dict(self) -> dict[str, Any]:
        """The JSON form of ``decroche indicators --json`` (rates rounded for reading only)."""
        return {
            "offered": self.offered,
            "answered": self.answered,
            "answered_within_target": self.answered_within_target,
            "abandoned": self.abandoned,
            "short_abandoned": self.short_abandoned,
            "overflowed": self.overflowed,
            "answer_rate": _round(self.answer_rate),
            "service_level": _round(self.service_level),
            "abandonment_rate": _round(self.abandonment_rate),
            "mean_wait_answered_s": _round(self.mean_wait_answered_s, 3),
        }


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


# The rates that have an objective, and which way is better.
RATE_NAMES: tuple[str, ...] = ("answer_rate", "service_level", "abandonment_rate")
# A table of indicators, in reading order: the counts, then the rates and the mean wait.
COUNT_NAMES: tuple[str, ...] = (
    "offered",
    "answered",
    "answered_within_target",
    "abandoned",
    "short_abandoned",
    "overflowed",
)
TABLE_NAMES: tuple[str, ...] = (*COUNT_NAMES, *RATE_NAMES, "mean_wait_answered_s")
HIGHER_IS_BETTER: dict[str, bool] = {
    "answer_rate": True,
    "service_level": True,
    "abandonment_rate": False,
    "mean_wait_answered_s": False,
}

LABELS_FR: dict[str, str] = {
    "offered": "Appels présentés",
    "answered": "Appels décrochés",
    "answered_within_target": "Décrochés dans l'objectif",
    "abandoned": "Abandons",
    "short_abandoned": "Abandons courts",
    "overflowed": "Débordements",
    "answer_rate": "Taux de décroché",
    "service_level": "Niveau de service",
    "abandonment_rate": "Taux d'abandon",
    "mean_wait_answered_s": "Attente moyenne (s)",
    # Staffing (decroche staffing, its page, the annual review)
    "calls_per_hour": "Appels par heure",
    "mean_handle_s": "Durée de traitement moyenne",
    "mean_patience_s": "Patience moyenne",
    "agents_needed": "Agents nécessaires",
    "agents_needed_erlang_c": "Agents nécessaires selon Erlang C (file, appelants patients)",
    "agents_observed": "Agents présents",
    "expected_service_level": "Niveau de service attendu",
    "expected_answer_rate": "Taux de décroché attendu",
    "agents_missing": "Agents manquants",
}

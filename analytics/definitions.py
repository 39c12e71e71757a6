"""The definitions of the phone indicators: parameters and the counts an auditor can check.

Per service, for the entries into it whose local date (Europe/Paris) is in the period:

- ``closed``: entries while the service was closed (per the rules in force then, as the call
  flow recorded it): evidence for the opening hours, in no other count and no rate;
- ``offered``: the other entries (in opening hours). From a queue_log every entry is in
  opening hours: Asterisk queues a call only then;
- ``answered``: offered entries connected to an agent of the service; wait = entering ->
  answer;
- ``answered_within_target``: answered with a wait within the commitment (:class:`Commitment`):
  "décroché en N sonneries" = wait <= N x ring cycle (the default, 5 x 5 s = 25 s), "décroché
  avant la Ne sonnerie" = wait < (N - 1) x ring cycle;
- ``abandoned``: the caller hung up while waiting or ringing, whatever the wait;
  ``short_abandoned``: abandoned within the short-abandon threshold (5 s) of the call's arrival
  (a misdial), not of its entry into the service: a caller who went through a menu did not
  misdial;
- ``overflowed``: left the service unanswered without hanging up (timeout, busy, nobody, or a
  key pressed to leave);
- an entry *cut* by the PBX or the link to it (Asterisk restarted, the link failed), or
  *interrupted* by decroche stopping, is offered and nothing else: not answered (unless it had
  been), not an abandon (nobody hung up), not an overflow; a cut one is also left out of the
  callers' patience and of the agents' pick-up in the staffing figures;
- base = offered - short_abandoned; answer_rate = answered / base ("taux de décroché"),
  service_level = answered_within_target / base, abandonment_rate = (abandoned -
  short_abandoned) / base; a rate with base 0 is null;
- ``mean_wait_answered_s``: mean wait of answered entries.

The total counts each call once (calls that arrived in the period; legs of blind transfers
apart): a call with at least one entry in opening hours is ``offered``, its outcome that of its
last entry, its wait from its first entry in opening hours to its answer, or to its end when
unanswered (the same thresholds apply to that wait); a call whose entries were all while closed,
or that the entry route's closed message ended, is ``closed``. Beside it (:class:`CallsReceived`):
every call received, those that left in the voice menu, and the others (a message or a
callback request chosen in the menu, an incident), so that received = left in the menu +
closed + offered + other.

Counts keep numerators and denominators, so any set of services or periods re-aggregates
exactly by adding :class:`Counts` together; rates are derived, never stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from analytics import glossary
from routing_rules.messages import counted

DEFAULT_TIMEZONE = "Europe/Paris"

F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]

# Times come from millisecond timestamps held in float seconds since 1970: a wait of exactly
# 25 s can come out as 25.0000002. Thresholds are compared with this tolerance so that "exactly
# at the target" is within it, as the definition says.
EPSILON_S = 1e-4

_EN = re.compile(r"en (\d+) sonneries?")
_AVANT = re.compile(r"avant la (\d+) ?(?:e|ème|eme|re|ère|ere) sonnerie")


@dataclass(frozen=True, slots=True)
class Commitment:
    """A ring commitment in the town's own words. The French ring cycle is 5 s (1.5 s on,
    3.5 s off) and rings are heard once the phones ring, after the menu:

    - "décroché en N sonneries" (the default): wait <= N x cycle (5 sonneries: <= 25 s);
    - "décroché avant la Ne sonnerie" (``before``): the Nth ring never starts, wait <
      (N - 1) x cycle (5e sonnerie: < 20 s).
    """

    rings: int = 5
    before: bool = False

    def __post_init__(self) -> None:
        if self.rings < 1 or (self.before and self.rings < 2):
            least = 2 if self.before else 1
            raise ValueError(f"rings must be at least {least}, got {self.rings}")

    @classmethod
    def parse(cls, text: str) -> Commitment:
        """« en 5 sonneries » or « avant la 5e sonnerie » (what the quality plan says)."""
        words = " ".join(text.strip().lower().removeprefix("décroché ").split())
        if found := _EN.fullmatch(words):
            return cls(int(found.group(1)))
        if found := _AVANT.fullmatch(words):
            return cls(int(found.group(1)), before=True)
        raise ValueError(
            f"engagement {text!r} illisible : écrire « en N sonneries » ou « avant la Ne "
            "sonnerie » (par exemple « en 5 sonneries », « avant la 5e sonnerie »)"
        )

    def limit_s(self, ring_seconds: float) -> float:
        return (self.rings - 1 if self.before else self.rings) * ring_seconds

    def within(self, waits: F64, ring_seconds: float) -> Bool:
        """Which waits keep the commitment (exactly at the limit: within "en N sonneries",
        not "avant la Ne sonnerie")."""
        limit = self.limit_s(ring_seconds)
        kept: Bool = waits < limit - EPSILON_S if self.before else waits <= limit + EPSILON_S
        return kept

    @property
    def words(self) -> str:
        """« en 5 sonneries », « avant la 5e sonnerie »: the commitment as the town writes it."""
        if self.before:
            return f"avant la {self.rings}{'re' if self.rings == 1 else 'e'} sonnerie"
        return f"en {counted(self.rings, 'sonnerie')}"

    def wait_words(self, ring_seconds: float) -> str:
        """« attente ≤ 25 s », « attente < 20 s »."""
        sign = "<" if self.before else "≤"
        limit = glossary.decimal(self.limit_s(ring_seconds))
        return f"attente {sign}{glossary.NBSP}{limit}{glossary.NBSP}s"

    def as_dict(self, ring_seconds: float) -> dict[str, Any]:
        return {
            "words": f"décroché {self.words}",
            "rings": self.rings,
            "before": self.before,
            "limit_s": self.limit_s(ring_seconds),
            "strict": self.before,
        }


@dataclass(frozen=True, slots=True)
class Parameters:
    """The thresholds every indicator depends on; printed with every result.

    ``rings`` and ``before_ring`` make the default commitment (« en 5 sonneries »); a service's
    objective may word its own (``commitments``, filled from the objectives' configuration)."""

    rings: int = 5
    ring_seconds: float = 5.0
    short_abandon_s: float = 5.0
    timezone: str = DEFAULT_TIMEZONE
    before_ring: bool = False
    commitments: Mapping[str, Commitment] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rings < 1:
            raise ValueError(f"rings must be at least 1, got {self.rings}")
        if self.ring_seconds <= 0:
            raise ValueError(f"ring_seconds must be positive, got {self.ring_seconds}")
        if self.short_abandon_s < 0:
            raise ValueError(f"short_abandon must not be negative, got {self.short_abandon_s}")
        Commitment(self.rings, self.before_ring)  # refuses "avant la 1re sonnerie"

    @property
    def commitment(self) -> Commitment:
        """The default commitment, and the total's."""
        return Commitment(self.rings, self.before_ring)

    def commitment_for(self, service: str | None) -> Commitment:
        if service is None:
            return self.commitment
        return self.commitments.get(service, self.commitment)

    @property
    def target_s(self) -> float:
        """The default commitment's limit in seconds (within: <= it, or < it "avant la")."""
        return self.commitment.limit_s(self.ring_seconds)

    def convention(self, service: str | None = None) -> str:
        """The commitment in words, as the quality plan states it."""
        commitment = self.commitment_for(service)
        return (
            f"décroché {commitment.words} = {commitment.wait_words(self.ring_seconds)} "
            f"(cycle de sonnerie de {glossary.decimal(self.ring_seconds)}{glossary.NBSP}s)"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "rings": self.rings,
            "ring_seconds": self.ring_seconds,
            "short_abandon_s": self.short_abandon_s,
            "target_s": self.target_s,
            "commitment": self.commitment.as_dict(self.ring_seconds),
            "service_commitments": {
                name: commitment.as_dict(self.ring_seconds)
                for name, commitment in sorted(self.commitments.items())
            },
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
    closed: int = 0  # entries (the total: calls) while closed, apart from everything above
    # Overflowed entries whose call an agent took at a later entry (where the service's
    # unanswered calls ended up); the total has none.
    answered_later: int = 0
    # The total only: calls that entered no service, hung up in the voice menu, or for another
    # reason (a message or a callback request chosen in the menu, an incident).
    left_in_menu: int = 0
    other_calls: int = 0

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
            "closed": self.closed,
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


# A table of indicators, in reading order: the counts, then the rates and the mean wait (their
# words are the glossary's, analytics.glossary).
RATE_NAMES: tuple[str, ...] = ("answer_rate", "service_level", "abandonment_rate")
TABLE_COUNT_NAMES: tuple[str, ...] = (
    "closed",
    "offered",
    "answered",
    "answered_within_target",
    "abandoned",
    "short_abandoned",
    "overflowed",
)
TABLE_NAMES: tuple[str, ...] = (*TABLE_COUNT_NAMES, *RATE_NAMES, "mean_wait_answered_s")


@dataclass(frozen=True, slots=True)
class CallsReceived:
    """Every call received in the period, each once (legs of blind transfers apart): those
    that left in the voice menu, those received while closed (``Counts.closed`` of the total),
    those offered to a service in opening hours (``Counts.offered`` of the total), and the
    others (a message or a callback request chosen in the menu, an incident)."""

    received: int = 0
    left_in_menu: int = 0
    closed: int = 0
    offered: int = 0
    other: int = 0

    @classmethod
    def of(cls, total: Counts) -> CallsReceived:
        """The calls received, from the total's counts."""
        return cls(
            received=total.left_in_menu + total.closed + total.offered + total.other_calls,
            left_in_menu=total.left_in_menu,
            closed=total.closed,
            offered=total.offered,
            other=total.other_calls,
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "received": self.received,
            "left_in_menu": self.left_in_menu,
            "closed": self.closed,
            "offered": self.offered,
            "other": self.other,
        }

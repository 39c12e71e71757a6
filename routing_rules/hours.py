"""Opening hours: weekly slots in local time, public holidays, dated exceptions.

Slots are wall-clock times in the rules' time zone (Europe/Paris): ``now`` (any aware datetime)
is converted with zoneinfo, so summer and winter time need nothing special. A dated exception
replaces the whole day (including a public holiday: it is how IT opens on a holiday).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise
from types import MappingProxyType
from zoneinfo import ZoneInfo

from routing_rules.errors import RoutingInputError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# (start, end) in seconds since local midnight; end is exclusive, 24:00 allowed.
Span = tuple[int, int]


def parse_slot(text: str) -> Span:
    """``"08:30-12:00"`` -> seconds; ValueError with a message naming the problem."""
    start_text, _, end_text = text.partition("-")
    start, end = _parse_time(start_text, text), _parse_time(end_text, text)
    if end <= start:
        raise ValueError(f"la plage {text!r} finit avant de commencer")
    return start, end


def _parse_time(text: str, slot: str) -> int:
    hours_text, _, minutes_text = text.partition(":")
    hours, minutes = int(hours_text), int(minutes_text)
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"plage {slot!r} : {text!r} n'est pas une heure de la journée")
    return hours * 3600 + minutes * 60


def format_span(span: Span) -> str:
    def hhmm(seconds: int) -> str:
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"

    return f"{hhmm(span[0])}-{hhmm(span[1])}"


def format_spans(spans: tuple[Span, ...]) -> str:
    return ", ".join(format_span(s) for s in spans) if spans else "closed all day"


def overlaps(spans: list[Span]) -> list[tuple[Span, Span]]:
    """Pairs of slots of one day that overlap (touching ends are fine)."""
    ordered = sorted(spans)
    return [(a, b) for a, b in pairwise(ordered) if b[0] < a[1]]


@lru_cache(maxsize=256)
def public_holidays(country: str, subdivision: str | None, year: int) -> Mapping[date, str]:
    """Public holidays of one year (memoised: a pure function of its arguments)."""
    # Imported here: ``holidays`` takes a tenth of a second to import, which a command that
    # reads kept figures (and never asks whether a day is a holiday) should not pay.
    import holidays

    # French names: the trace is read by the town hall's IT.
    days = holidays.country_holidays(country, subdiv=subdivision, years=year, language="fr")
    return MappingProxyType({day: str(name) for day, name in days.items()})


class DayKind(StrEnum):
    WEEKLY = "weekly"
    HOLIDAY = "public holiday"
    EXCEPTION = "exception"


@dataclass(frozen=True, slots=True)
class OpeningState:
    """Whether a schedule is open at a moment, and why (the day's rule and its slots)."""

    is_open: bool
    schedule_id: str
    local: datetime
    kind: DayKind
    spans: tuple[Span, ...]
    label: str | None = None

    @property
    def why(self) -> str:
        when = f"{DAYS[self.local.weekday()]} {self.local:%Y-%m-%d %H:%M} {self.local:%Z}"
        state = "open" if self.is_open else "closed"
        label = f" ({self.label})" if self.label else ""
        return (
            f"{state} at {when}: schedule {self.schedule_id}, {self.kind.value}{label}:"
            f" {format_spans(self.spans)}"
        )


@dataclass(frozen=True, slots=True)
class CompiledSchedule:
    id: str
    tz: ZoneInfo
    weekly: tuple[tuple[Span, ...], ...]  # index 0 = Monday
    holidays_closed: bool
    country: str
    subdivision: str | None
    exceptions: Mapping[date, tuple[tuple[Span, ...], str | None]]

    def day_rule(self, day: date) -> tuple[tuple[Span, ...], DayKind, str | None]:
        """The spans of one local day, which rule gave them, and its label."""
        exception = self.exceptions.get(day)
        if exception is not None:
            spans, label = exception
            return spans, DayKind.EXCEPTION, label
        holiday = (
            public_holidays(self.country, self.subdivision, day.year).get(day)
            if self.holidays_closed
            else None
        )
        if holiday is not None:
            return (), DayKind.HOLIDAY, holiday
        return self.weekly[day.weekday()], DayKind.WEEKLY, None

    def state_at(self, now: datetime) -> OpeningState:
        if now.tzinfo is None:
            raise RoutingInputError(f"opening hours need an aware datetime, got {now!r}")
        local = now.astimezone(self.tz)
        spans, kind, label = self.day_rule(local.date())
        second = local.hour * 3600 + local.minute * 60 + local.second
        is_open = any(start <= second < end for start, end in spans)
        return OpeningState(is_open, self.id, local, kind, spans, label)

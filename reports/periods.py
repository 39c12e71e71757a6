"""Periods the pages and reports speak of: a month, a year, or any range of local dates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from reports.errors import InputError
from routing_rules.calendar_fr import MONTHS_FR

# The usual French abbreviations (« nov. », never « nove. »): chart axes and narrow columns.
MONTHS_SHORT_FR = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True, slots=True)
class Period:
    """Local dates ``start``..``end`` inclusive, with how to call it in French."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InputError(
                f"la période finit ({self.end:%d/%m/%Y}) avant de commencer ({self.start:%d/%m/%Y})"
            )

    @property
    def is_month(self) -> bool:
        return self.start.day == 1 and self.end == month_end(self.start)

    @property
    def label_fr(self) -> str:
        if self.is_month:
            return f"{MONTHS_FR[self.start.month - 1]} {self.start.year}"
        if self.start == date(self.start.year, 1, 1) and self.end == date(self.start.year, 12, 31):
            return f"année {self.start.year}"
        return f"du {self.start:%d/%m/%Y} au {self.end:%d/%m/%Y}"

    @property
    def month_key(self) -> str:
        return f"{self.start:%Y-%m}"


def month_end(first: date) -> date:
    year, month = (first.year + 1, 1) if first.month == 12 else (first.year, first.month + 1)
    return date(year, month, 1) - timedelta(days=1)


def month_period(value: str, where: str = "month") -> Period:
    """``2026-10`` -> 1st..31st October 2026."""
    match = _MONTH.match(value.strip())
    if match is None:
        raise InputError(f"{where} : « {value} » n'est pas un mois AAAA-MM")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12 or year < 1970:
        raise InputError(f"{where} : « {value} » n'est pas un mois valide")
    first = date(year, month, 1)
    return Period(first, month_end(first))


def year_period(value: str | int, where: str = "year") -> Period:
    match = _YEAR.match(str(value).strip())
    if match is None or int(match[1]) < 1970:
        raise InputError(f"{where} : « {value} » n'est pas une année AAAA")
    year = int(match[1])
    return Period(date(year, 1, 1), date(year, 12, 31))


def parse_day(value: str, where: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InputError(f"{where} : « {value} » n'est pas une date AAAA-MM-JJ") from exc


def current_month(today: date) -> Period:
    first = today.replace(day=1)
    return Period(first, month_end(first))


def previous_month(today: date) -> Period:
    first = today.replace(day=1) - timedelta(days=1)
    return current_month(first)


def months_between(first: Period, last: Period) -> list[Period]:
    """Every month from ``first`` to ``last`` inclusive (both months)."""
    result: list[Period] = []
    cursor = first.start.replace(day=1)
    while cursor <= last.start:
        result.append(current_month(cursor))
        cursor = month_end(cursor) + timedelta(days=1)
    return result


def period_from_query(query: dict[str, str], today: date) -> Period:
    """The period picked in a page's form: ``mois=YYYY-MM``, or ``du``/``au`` dates, or the
    current month."""
    if query.get("du") or query.get("au"):
        start = parse_day(query.get("du", ""), "du")
        end = parse_day(query.get("au", ""), "au")
        if (end - start).days > 400:
            raise InputError("au : une période de plus de 400 jours est trop longue pour une page")
        return Period(start, end)
    if query.get("mois"):
        return month_period(query["mois"], "mois")
    return current_month(today)

"""The moments of the coming months at which the rules answer differently (pure).

Opening hours change with the day (weekday slots, Saturdays, public holidays, dated exceptions
such as Christmas Eve) and the time of day (lunch breaks). Every day of the period is reduced to
what each schedule of the rules says of it; days that every schedule sees alike form one kind of
day, and within a kind of day, the slots' starts and ends cut the day into spans in which
nothing changes. One moment per span and kind of day stands for all of them: a path's outcome
at that moment is its outcome at every moment it stands for.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from routing_rules.calendar_fr import WEEKDAYS_FR
from routing_rules.compiled import CompiledRules
from routing_rules.hours import DayKind, Span

# What every schedule says of one day: its spans, which rule gave them, its label.
DayRules = tuple[tuple[tuple[Span, ...], DayKind, str | None], ...]
DAY = 24 * 3600


@dataclass(frozen=True, slots=True)
class Moment:
    """A span of the day, on a set of days every schedule sees alike."""

    at: datetime  # the middle of the span on the first of the days (aware, rules' time zone)
    days: tuple[date, ...]
    start: int  # seconds since local midnight
    end: int
    kinds: tuple[str, ...]  # the days' special rules, in French ("jour férié : Noël")

    @property
    def span_fr(self) -> str:
        return f"{_hhmm(self.start)}–{_hhmm(self.end)}"


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}" if seconds < DAY else "24:00"


def moments(rules: CompiledRules, start: date, days: int) -> list[Moment]:
    """The moments standing for every moment of ``days`` days from ``start``, in time order of
    their first day."""
    groups: dict[tuple[DayRules, bool], list[date]] = {}
    for offset in range(days):
        day = start + timedelta(days=offset)
        rules_of_day = tuple(s.day_rule(day) for s in rules.schedules.values())
        # Sundays stay apart from closed holidays: people read them apart.
        groups.setdefault((rules_of_day, day.weekday() == 6), []).append(day)
    found: list[Moment] = []
    for (rules_of_day, _), group in groups.items():
        cuts = sorted({0, DAY, *(b for spans, _, _ in rules_of_day for b in _bounds(spans))})
        kinds = tuple(
            dict.fromkeys(
                f"{'jour férié' if kind is DayKind.HOLIDAY else 'exception'} : {label}"
                for _, kind, label in rules_of_day
                if kind is not DayKind.WEEKLY and label
            )
        )
        for low, high in itertools.pairwise(cuts):
            middle = (low + high) // 2
            local = datetime.combine(group[0], time(middle // 3600, middle % 3600 // 60), rules.tz)
            found.append(Moment(local, tuple(group), low, high, kinds))
    return sorted(found, key=lambda m: (m.days[0], m.start))


def _bounds(spans: Sequence[Span]) -> list[int]:
    return [bound for span in spans for bound in span]


def when_fr(chosen: Sequence[Moment]) -> list[str]:
    """``chosen`` moments said in French, shortly: ordinary weekdays with the same hours on one
    line (« les lundis, mardis et jeudis : 08:30–12:00, 13:30–17:30 »), then the special days
    (public holidays, exceptions) with the same hours on one line, each by name and date."""
    by_days: dict[tuple[date, ...], list[Moment]] = {}
    for moment in chosen:
        by_days.setdefault(moment.days, []).append(moment)
    weekly: dict[str, set[int]] = {}
    special: dict[tuple[str, str], list[tuple[date, str]]] = {}
    for group in by_days.values():
        hours = _hours(group)
        first = group[0]
        if first.kinds:
            kinds = {kind.partition(" : ")[0] for kind in first.kinds}
            what = "jours fériés" if kinds == {"jour férié"} else "jours particuliers"
            if kinds == {"exception"}:
                what = "horaires exceptionnels"
            named = " ; ".join(kind.partition(" : ")[2] for kind in first.kinds)
            special.setdefault((what, hours), []).extend((d, named) for d in first.days)
        else:
            weekly.setdefault(hours, set()).update(d.weekday() for d in first.days)
    lines = []
    for hours, weekdays in sorted(weekly.items(), key=lambda item: min(item[1])):
        names = [WEEKDAYS_FR[w] + "s" for w in sorted(weekdays)]
        said = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " et " + names[-1]
        lines.append(f"les {said} : {hours}")
    for (what, hours), days in sorted(special.items(), key=lambda item: min(item[1])):
        listed = ", ".join(f"{name} ({day:%d/%m/%Y})" for day, name in sorted(days))
        lines.append(f"{what} ({hours}) : {listed}")
    return lines


def _hours(group: Sequence[Moment]) -> str:
    spans: list[list[int]] = []
    for moment in sorted(group, key=lambda m: m.start):
        if spans and spans[-1][1] == moment.start:
            spans[-1][1] = moment.end
        else:
            spans.append([moment.start, moment.end])
    if spans == [[0, DAY]]:
        return "toute la journée"
    return ", ".join(f"{_hhmm(a)}–{_hhmm(b)}" for a, b in spans)

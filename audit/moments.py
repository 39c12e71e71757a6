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

from routing_rules.compiled import CompiledRules
from routing_rules.hours import DayKind, Span

# What every schedule says of one day: its spans, which rule gave them, its label.
DayRules = tuple[tuple[tuple[Span, ...], DayKind, str | None], ...]
WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
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

    @property
    def days_fr(self) -> str:
        """The days in a few words: the special ones by date, the others by weekday."""
        if self.kinds:
            listed = ", ".join(f"{WEEKDAYS_FR[d.weekday()]} {d:%d/%m/%Y}" for d in self.days[:4])
            more = f" et {len(self.days) - 4} autre(s)" if len(self.days) > 4 else ""
            return f"{' ; '.join(self.kinds)} ({listed}{more})"
        weekdays = sorted({d.weekday() for d in self.days})
        names = [WEEKDAYS_FR[w] + "s" for w in weekdays]
        said = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " et " + names[-1]
        return f"les {said} ({len(self.days)} jour{'s' if len(self.days) > 1 else ''})"


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
    """``chosen`` moments said in French, one line per kind of day, touching spans merged:
    « les samedis (52 jours) : 12:00–24:00 »."""
    by_days: dict[tuple[date, ...], list[Moment]] = {}
    for moment in chosen:
        by_days.setdefault(moment.days, []).append(moment)
    lines = []
    # Ordinary days Monday to Sunday, then the special ones by date.
    ordered = sorted(
        by_days.values(),
        key=lambda g: (
            bool(g[0].kinds),
            g[0].days[0].toordinal() if g[0].kinds else g[0].days[0].weekday(),
        ),
    )
    for group in ordered:
        spans: list[list[int]] = []
        for moment in sorted(group, key=lambda m: m.start):
            if spans and spans[-1][1] == moment.start:
                spans[-1][1] = moment.end
            else:
                spans.append([moment.start, moment.end])
        said = ", ".join(f"{_hhmm(a)}–{_hhmm(b)}" for a, b in spans)
        lines.append(f"{group[0].days_fr} : {'toute la journée' if spans == [[0, DAY]] else said}")
    return lines

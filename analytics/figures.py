"""Where the figures of a period come from: each day's figures read from the store when they are
there and still true, computed from the entries otherwise.

:class:`PeriodFigures` answers "the figures of these days" for :class:`analytics.api.Indicators`:

- a day over (before today, in the indicators' time zone) whose figures the store keeps under
  the same :func:`~analytics.aggregates.fingerprint`, and that the store has not written to
  since, is read from the store (only the parts the question needs);
- any other day is computed from its entries by the engine (:func:`analytics.aggregates.
  day_figures`), a month of entries at a time so that memory stays bounded whatever the period;
  a day over is then handed back to the store, with the marks of the writes it took in
  (:mod:`telephony.records.touched`), so that the next question reads it;
- today and later are always computed from the entries: they still change.

Without a store (a queue_log, the entries of a what-if replay, other thresholds than the
configured ones), every day is computed. Whatever the source, a period's figures are the sum of
its days': one computation, the same figures.

Days are kept in memory for the life of the object (one page, one command, one report): the
questions of a page about the same days read them once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Protocol

from analytics.aggregates import (
    DayFigures,
    PackedDay,
    covered,
    day_figures,
    days_between,
    fingerprint,
    merge_parts,
    pack,
    unpack,
)
from analytics.definitions import Parameters

if TYPE_CHECKING:
    from analytics.api import FrameSource

log = logging.getLogger(__name__)

CHUNK_DAYS = 31  # days of entries in memory at once when computing from a database


@dataclass(frozen=True, slots=True)
class TouchedSpan:
    """Local days the store wrote to since their figures were computed (``token``: what the
    store needs to forget the mark once they are computed again)."""

    first: date
    last: date
    token: object


class DailyStore(Protocol):
    """Where the figures of past days are kept (:class:`analytics.sources.DatabaseSource`)."""

    def stored_days(
        self, first: date, last: date, fingerprint: str, parts: frozenset[str]
    ) -> list[PackedDay]:
        """The stored rows of ``first``..``last`` under ``fingerprint``, with ``parts``."""
        ...

    def touched_days(self, timezone: str) -> list[TouchedSpan]:
        """The local days written to since their figures were kept."""
        ...

    def keep_days(
        self,
        rows: Sequence[PackedDay],
        days: Sequence[date],
        fingerprint: str,
        done: Sequence[TouchedSpan],
    ) -> None:
        """Keep ``rows`` as the figures of ``days`` (replacing any), and forget the marks
        ``done`` unless written to since. Never fails: figures not kept are computed again."""
        ...


class PeriodFigures:
    """The figures of the days asked, from the store or from the entries (see the module).

    ``today``: the local date now; ``span``: the widest period the questions will ask (its
    days are read at once); ``chunk_days``: how many days of entries to load at once (None:
    the whole span, for sources already in memory)."""

    def __init__(
        self,
        source: FrameSource,
        params: Parameters,
        store: DailyStore | None,
        today: Callable[[], date],
        *,
        span: tuple[date, date] | None = None,
        chunk_days: int | None = None,
    ) -> None:
        self._source = source
        self._params = params
        self._store = store
        self._today = today
        self._span = span
        self._chunk_days = chunk_days
        self._days: dict[date, DayFigures] = {}
        self.skipped_lines = 0  # the source's unreadable lines (a queue_log's)
        self.waits_from_timestamps = 0  # a queue_log's entries whose wait came from timestamps
        self.queue_log = False  # the source is a queue_log: no menu, no closed service

    def days(self, start: date, end: date, parts: Iterable[str]) -> list[DayFigures]:
        """The figures of every day ``start``..``end``, each with at least ``parts``."""
        if end < start:
            raise ValueError(f"period ends ({end}) before it starts ({start})")
        wanted = frozenset(parts)
        low, high = start, end
        if self._span is not None and self._span[0] <= start and end <= self._span[1]:
            low, high = self._span
        missing = [
            day
            for day in days_between(low, high)
            if day not in self._days or not covered(self._days[day], wanted)
        ]
        if missing:
            self._fill(missing, wanted)
        return [self._days[day] for day in days_between(start, end)]

    def _fill(self, missing: list[date], parts: frozenset[str]) -> None:
        today = self._today()
        over = [day for day in missing if day < today]
        if self._store is None or not over:
            self._add(self._compute(missing))
            return
        store = self._store
        key = fingerprint(self._params)
        # Marks first: a write after this reading keeps its mark (see telephony.records.touched).
        spans = store.touched_days(self._params.timezone)
        stale = {day for span in spans for day in days_between(span.first, span.last)}
        stored = unpack(store.stored_days(over[0], over[-1], key, parts), parts)
        wanted = set(missing)
        fresh = {day: figures for day, figures in stored.items() if day in wanted}
        to_compute = {day for day in missing if day not in fresh or day in stale}
        recomputed_over = {day for day in to_compute if day < today}
        # The marks touching a day computed again are done with once all their past days are:
        # compute those too (a mark covers one or two local days).
        done = [
            span
            for span in spans
            if any(day in recomputed_over for day in days_between(span.first, span.last))
        ]
        for span in done:
            extra = {day for day in days_between(span.first, span.last) if day < today}
            recomputed_over |= extra
            to_compute |= extra
        for day, figures in fresh.items():
            if day not in to_compute:
                self._add({day: figures})
        computed = self._compute(sorted(to_compute))
        self._add(computed)
        if recomputed_over:
            kept = sorted(recomputed_over)
            rows = [pack(computed[day]) for day in kept]
            store.keep_days(rows, kept, key, done)

    def _add(self, days: dict[date, DayFigures]) -> None:
        for day, figures in days.items():
            known = self._days.get(day)
            if known is None:
                self._days[day] = figures
            else:
                merge_parts(known, figures)

    def _compute(self, days: Sequence[date]) -> dict[date, DayFigures]:
        """The figures of ``days`` from their entries, by runs of consecutive days."""
        result: dict[date, DayFigures] = {}
        for first, last in _chunks(sorted(days), self._chunk_days):
            # One day of margin each side: local dates differ from UTC dates by up to 14 hours.
            loaded = self._source.load(first - timedelta(days=1), last + timedelta(days=1))
            self.skipped_lines = max(self.skipped_lines, loaded.skipped_lines)
            self.waits_from_timestamps = max(
                self.waits_from_timestamps, loaded.waits_from_timestamps
            )
            self.queue_log = self.queue_log or loaded.queue_log
            result.update(day_figures(loaded.frame, first, last, self._params))
        return result


def _chunks(days: Sequence[date], size: int | None) -> list[tuple[date, date]]:
    """Runs of consecutive ``days``, cut every ``size`` days (None: never cut)."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and day == runs[-1][1] + timedelta(days=1):
            first, _ = runs[-1]
            if size is None or (day - first).days < size:
                runs[-1] = (first, day)
                continue
        runs.append((day, day))
    return runs

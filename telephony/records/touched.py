"""The days the store wrote to: analytics computes their figures again.

Analytics keeps the figures of each past day (``daily_figures``) so that a year is not
recomputed from millions of entries; a day's figures go stale when the store writes a call that
counts in it after they were computed — a record journaled during a database outage and
replayed, a call that ended after midnight, a queue_log import, a call rewritten. Every write
path of :class:`telephony.records.store.RecordStore` calls :func:`mark` with the instants it
wrote or deleted (each call's start, each entry's entry into its service), in the same
transaction as the write.

A mark is per UTC date, with the first and last instant written that date (so the reader knows
exactly which local days of its time zone they fall on: this package knows no time zone), and a
``generation`` that each write increments. A reader that recomputed the days of a mark clears it
with :func:`clear` only if its generation is still the one it read: a write that came in while
it computed keeps its mark.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Executable, and_, bindparam, delete, func, select

from telephony.records import schema as t
from telephony.records.engine import Database


@dataclass(frozen=True, slots=True)
class Mark:
    """Calls or entries written on the UTC date ``utc_day``, between ``first_at`` and
    ``last_at``."""

    utc_day: date
    first_at: datetime
    last_at: datetime
    generation: int


def spans(instants: Iterable[datetime]) -> dict[date, tuple[datetime, datetime]]:
    """Per UTC date, the first and last of ``instants`` (aware datetimes)."""
    found: dict[date, tuple[datetime, datetime]] = {}
    for moment in instants:
        moment = moment.astimezone(UTC)
        day = moment.date()
        seen = found.get(day)
        if seen is None:
            found[day] = (moment, moment)
        else:
            found[day] = (min(seen[0], moment), max(seen[1], moment))
    return found


def mark(conn: Connection, instants: Iterable[datetime]) -> None:
    """Record, in the caller's transaction, that calls or entries were written at
    ``instants``."""
    rows = [
        {"utc_day": day, "first_at": first, "last_at": last, "generation": 1}
        for day, (first, last) in sorted(spans(instants).items())  # one lock order: no deadlock
    ]
    if not rows:
        return
    table = t.touched_days
    statement: Executable
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        pg = pg_insert(table)
        statement = pg.on_conflict_do_update(
            index_elements=[table.c.utc_day],
            set_={
                "first_at": func.least(table.c.first_at, pg.excluded.first_at),
                "last_at": func.greatest(table.c.last_at, pg.excluded.last_at),
                "generation": table.c.generation + 1,
            },
        )
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        lite = sqlite_insert(table)
        # SQLite keeps these times as UTC text that sorts as time does: min/max compare them.
        statement = lite.on_conflict_do_update(
            index_elements=[table.c.utc_day],
            set_={
                "first_at": func.min(table.c.first_at, lite.excluded.first_at),
                "last_at": func.max(table.c.last_at, lite.excluded.last_at),
                "generation": table.c.generation + 1,
            },
        )
    conn.execute(statement, rows)


def marks(database: Database) -> list[Mark]:
    """Every mark, by UTC date."""
    c = t.touched_days.c
    with database.engine.connect() as conn:
        return [
            Mark(*row)
            for row in conn.execute(
                select(c.utc_day, c.first_at, c.last_at, c.generation).order_by(c.utc_day)
            )
        ]


def clear(conn: Connection, done: Sequence[Mark]) -> None:
    """Forget, in the caller's transaction, the marks whose days were computed again, unless
    written to since."""
    if not done:
        return
    table = t.touched_days
    statement = delete(table).where(
        and_(
            table.c.utc_day == bindparam("b_day"),
            table.c.generation == bindparam("b_generation"),
        )
    )
    conn.execute(statement, [{"b_day": m.utc_day, "b_generation": m.generation} for m in done])

"""French text of the commands: numbers as a French reader writes them, aligned tables, dates.

One place, so that ``indicators``, ``survey``, ``whatif`` and the demo write a rate, a wait or a
table the same way.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime

import click

from analytics.definitions import LABELS_FR, TABLE_NAMES, Counts
from analytics.indicators import IndicatorReport

TOTAL_LABEL = "Tous services (chaque appel une fois)"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %".replace(".", ",")


def seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s".replace(".", ",")


def decimal(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}".replace(".", ",")


def reading_order(text: str) -> str:
    """A sort key in French reading order: accents and case do not move a name."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def name_of(service: str | None, names: Mapping[str, str]) -> str:
    """A service's name for a person to read (its id if the rules no longer know it)."""
    if not service:
        return "—"
    return names.get(service, service)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> list[str]:
    """Columns aligned: the first ``left`` columns to the left (names), the others to the right
    (figures)."""
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row[:left], widths[:left], strict=True)]
        cells += [c.rjust(w) for c, w in zip(row[left:], widths[left:], strict=True)]
        lines.append("  ".join(cells).rstrip())
    return lines


COLUMNS = TABLE_NAMES


def figure(column: str, value: float | int | None) -> str:
    """One indicator as a French reader writes it."""
    if column.endswith("_rate") or column == "service_level":
        return percent(value)
    if column.endswith("_s"):
        return seconds(value)
    return "—" if value is None else str(value)


def counts_cells(counts: Counts) -> list[str]:
    return [figure(column, getattr(counts, column)) for column in COLUMNS]


def indicators_table(report: IndicatorReport, names: Mapping[str, str]) -> str:
    """The table of ``decroche indicators``: one line per service, by name, then the total."""
    headers = ["Service", *(LABELS_FR[c] for c in COLUMNS)]
    rows = [
        [name_of(service, names), *counts_cells(counts)]
        for service, counts in sorted(
            report.services.items(), key=lambda item: reading_order(name_of(item[0], names))
        )
    ]
    rows.append([TOTAL_LABEL, *counts_cells(report.total)])
    lines = [
        f"Indicateurs téléphoniques du {report.start:%d/%m/%Y} au {report.end:%d/%m/%Y}",
        report.parameters.convention(),
        f"Abandons courts : attente < {report.parameters.short_abandon_s:g} s, exclus de la base.",
        "",
        *table(headers, rows),
    ]
    if report.skipped_lines:
        lines.append("")
        lines.append(f"{report.skipped_lines} ligne(s) du queue_log ignorée(s) car mal formée(s).")
    return "\n".join(lines)


def parse_day(value: str, option: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise click.BadParameter(
            f"« {value} » n'est pas une date AAAA-MM-JJ", param_hint=option
        ) from exc


def parse_period(start: str, end: str) -> tuple[date, date]:
    """``--from`` and ``--to`` as dates, in order."""
    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    if last < first:
        raise click.BadParameter(f"{end} est avant --from {start}", param_hint="--to")
    return first, last

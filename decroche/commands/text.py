"""French text of the commands: numbers as a French reader writes them, aligned tables, dates.

One place, so that ``indicators``, ``survey``, ``whatif`` and the demo write a rate, a wait or a
table the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

import click

from analytics import glossary
from analytics.definitions import TABLE_NAMES, Counts
from analytics.indicators import IndicatorReport
from reports import words
from routing_rules.messages import counted

TOTAL_LABEL = "Tous services (chaque appel une fois)"

percent = glossary.percent
seconds = glossary.seconds


def decimal(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}".replace(".", ",")


by_name = glossary.by_name


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
    """One indicator as a French reader writes it (the glossary's units)."""
    return glossary.value(column, value)


def counts_cells(counts: Counts) -> list[str]:
    return [figure(column, getattr(counts, column)) for column in COLUMNS]


def indicators_table(report: IndicatorReport, names: Mapping[str, str]) -> str:
    """The table of ``decroche indicators``: the calls received, then one line per service,
    by name, then the total."""
    from reports.views import engagement_of

    parameters = report.parameters
    headers = ["Service", *glossary.labels(COLUMNS, engagement_of(parameters))]
    order = by_name(names)
    rows = [
        [name_of(service, names), *counts_cells(counts)]
        for service, counts in sorted(report.services.items(), key=lambda item: order(item[0]))
    ]
    rows.append([TOTAL_LABEL, *counts_cells(report.total)])
    lines = [
        f"Indicateurs téléphoniques du {report.start:%d/%m/%Y} au {report.end:%d/%m/%Y}",
        words.received(report.received, report.total, queue_log=report.queue_log),
        words.engagements(parameters, names),
        words.short_abandons(parameters),
        "",
        *table(headers, rows),
    ]
    if report.skipped_lines:
        lines.append("")
        lines.append(
            counted(
                report.skipped_lines,
                "ligne du queue_log ignorée car mal formée.",
                "lignes du queue_log ignorées car mal formées.",
            )
        )
    if report.waits_from_timestamps:
        lines.append(
            counted(
                report.waits_from_timestamps,
                "attente calculée sur les horodatages des lignes du queue_log : le holdtime ou "
                "le waittime d'Asterisk manquait.",
                "attentes calculées sur les horodatages des lignes du queue_log : le holdtime "
                "ou le waittime d'Asterisk manquait.",
            )
        )
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

"""French text of the commands: numbers as a French reader writes them, aligned tables, dates.

One place, so that ``indicators``, ``survey``, ``whatif`` and the demo write a rate, a wait or a
table the same way.
"""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
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


def terminal_width() -> int | None:
    """The terminal's width when the output goes to one, else None (a file, a pipe, a script:
    one line per row, however long)."""
    if not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size().columns


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    left: int = 1,
    width: int | None = None,
) -> list[str]:
    """Columns aligned: the first ``left`` columns to the left (names), the others to the right
    (figures). ``width``: the terminal's; a table wider than it has its headings on several
    lines (each column as wide as its figures or its heading's longest word), then its names
    too, then its figures in several blocks one under the other, each with the names — rather
    than every line folded by the terminal into a mess."""
    count = len(headers)
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(count)]
    if width is None or _line_width(widths) <= width:
        return _laid(headers, rows, left, widths)
    natural = widths
    widths = _narrowed(headers, rows, left, width)
    blocks = _blocks(widths, left, width)
    if len(blocks) > 1 and left:
        # Split, the figures leave the names room again: as wide as the widest block allows.
        spare = width - max(_line_width([*widths[:left], *(widths[i] for i in b)]) for b in blocks)
        for i in range(left):
            grow = min(spare, natural[i] - widths[i])
            if grow > 0:
                widths[i] += grow
                spare -= grow
    lines: list[str] = []
    for block in blocks:
        chosen = [*range(left), *block]
        if lines:
            lines.append("")
        lines += _laid(
            [headers[i] for i in chosen],
            [[row[i] for i in chosen] for row in rows],
            left,
            [widths[i] for i in chosen],
        )
    return lines


def _laid(
    headers: Sequence[str], rows: Sequence[Sequence[str]], left: int, widths: Sequence[int]
) -> list[str]:
    heads = [_wrapped(h, w) for h, w in zip(headers, widths, strict=True)]
    depth = max(len(h) for h in heads)
    heads = [[""] * (depth - len(h)) + h for h in heads]  # headings sit on the dashes
    lines = [
        "  ".join(h[k].ljust(w) for h, w in zip(heads, widths, strict=True)).rstrip()
        for k in range(depth)
    ]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        names = [_wrapped(c, w) for c, w in zip(row[:left], widths[:left], strict=True)]
        for k in range(max((len(n) for n in names), default=1)):
            cells = [
                (n[k] if k < len(n) else "").ljust(w)
                for n, w in zip(names, widths[:left], strict=True)
            ]
            if k == 0:
                cells += [c.rjust(w) for c, w in zip(row[left:], widths[left:], strict=True)]
            lines.append("  ".join(cells).rstrip())
    return lines


def _blocks(widths: Sequence[int], left: int, width: int) -> list[list[int]]:
    """The figures' columns in as few blocks as fit ``width`` beside the names, as even as
    they can be (not eight columns, then one)."""
    figures = list(range(left, len(widths)))
    names = _line_width(widths[:left]) + 2 if left else 0
    for count in range(1, len(figures) + 1):
        size = -(-len(figures) // count)  # ceiling
        blocks = [figures[k : k + size] for k in range(0, len(figures), size)]
        if all(names + _line_width([widths[i] for i in b]) <= width for b in blocks):
            return blocks
    return [[i] for i in figures]


def paragraphs(texts: Sequence[str], width: int | None) -> list[str]:
    """Sentences as lines, each folded at the terminal's ``width`` between words (None: one
    line each)."""
    if width is None:
        return list(texts)
    return [line for text in texts for line in _wrapped(text, width)]


def _line_width(widths: Sequence[int]) -> int:
    return sum(widths) + 2 * (len(widths) - 1)


def _longest_word(text: str) -> int:
    # Words as textwrap cuts them: at ASCII spaces only (« 5 sonneries » written with a
    # no-break space stays whole).
    return max((len(word) for word in re.split(r"[ \t\n]+", text)), default=0)


def _narrowed(
    headers: Sequence[str], rows: Sequence[Sequence[str]], left: int, width: int
) -> list[int]:
    """Each column's width in a table that must fit ``width``: headings wrapped first, then the
    names, never below their longest word nor :data:`NAME_MIN` characters."""
    widths = [
        max([_longest_word(headers[i]), *(len(row[i]) for row in rows)])
        if i >= left
        else max(len(row[i]) for row in [headers, *rows])
        for i in range(len(headers))
    ]
    over = _line_width(widths) - width
    for i in range(left):
        if over <= 0:
            break
        floor = max([NAME_MIN, _longest_word(headers[i]), *(_longest_word(row[i]) for row in rows)])
        cut = min(over, widths[i] - floor)
        if cut > 0:
            widths[i] -= cut
            over -= cut
    return widths


NAME_MIN = 16  # a service's name is not wrapped narrower than this


def _wrapped(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


COLUMNS = TABLE_NAMES


def figure(column: str, value: float | int | None) -> str:
    """One indicator as a French reader writes it (the glossary's units)."""
    return glossary.value(column, value)


def counts_cells(counts: Counts) -> list[str]:
    return [figure(column, getattr(counts, column)) for column in COLUMNS]


def indicators_table(
    report: IndicatorReport, names: Mapping[str, str], width: int | None = None
) -> str:
    """The table of ``decroche indicators``: the calls received, then one line per service,
    by name, then the total; ``width``: the terminal's (:func:`table`)."""
    from reports.views import engagement_of

    parameters = report.parameters
    headers = ["Service", *glossary.labels(COLUMNS, engagement_of(parameters))]
    order = by_name(names)
    rows = [
        [name_of(service, names), *counts_cells(counts)]
        for service, counts in sorted(report.services.items(), key=lambda item: order(item[0]))
    ]
    rows.append([TOTAL_LABEL, *counts_cells(report.total)])
    said = [
        f"Indicateurs téléphoniques du {report.start:%d/%m/%Y} au {report.end:%d/%m/%Y}",
        words.received(report.received, report.total, queue_log=report.queue_log),
        words.engagements(parameters, names),
        words.short_abandons(parameters),
    ]
    lines = [*paragraphs(said, width), "", *table(headers, rows, width=width)]
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

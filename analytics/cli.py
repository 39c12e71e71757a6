"""``decroche indicators``: the phone indicators of a period, as a French table or JSON."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from analytics.api import FrameSource, Indicators
from analytics.definitions import LABELS_FR, Counts, Parameters
from analytics.indicators import IndicatorReport


def _parse_day(value: str, option: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint=option) from exc


def _percent(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.1f} %".replace(".", ",")


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s".replace(".", ",")


_COLUMNS = (
    "offered",
    "answered",
    "answered_within_target",
    "abandoned",
    "short_abandoned",
    "overflowed",
    "answer_rate",
    "service_level",
    "abandonment_rate",
    "mean_wait_answered_s",
)


def _cells(counts: Counts) -> list[str]:
    cells: list[str] = []
    for column in _COLUMNS:
        value = getattr(counts, column)
        if column.endswith("_rate") or column == "service_level":
            cells.append(_percent(value))
        elif column.endswith("_s"):
            cells.append(_seconds(value))
        else:
            cells.append(str(value))
    return cells


def format_table(report: IndicatorReport) -> str:
    """The readable French table of ``decroche indicators``."""
    headers = ["Service", *(LABELS_FR[c] for c in _COLUMNS)]
    rows = [[name, *_cells(counts)] for name, counts in report.services.items()]
    rows.append(["TOTAL (chaque appel une fois)", *_cells(report.total)])
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    lines = [
        f"Indicateurs téléphoniques du {report.start:%d/%m/%Y} au {report.end:%d/%m/%Y}",
        report.parameters.convention(),
        f"Abandons courts : attente < {report.parameters.short_abandon_s:g} s, exclus de la base.",
        "",
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells))
    if report.skipped_lines:
        lines.append("")
        lines.append(f"{report.skipped_lines} ligne(s) du queue_log ignorée(s) car mal formée(s).")
    return "\n".join(lines)


def _source(db: str | None, queue_log: Path | None, config_path: Path | None) -> FrameSource:
    if queue_log is not None:
        from analytics.sources import QueueLogSource

        return QueueLogSource(queue_log)
    from analytics.sources import DatabaseSource

    if db is None:
        from decroche.config import load_config

        db = load_config(config_path).database_url()
    return DatabaseSource(db)


def _add_satisfaction(
    document: dict[str, Any], db: str | None, config_path: Path | None, first: date, last: date
) -> None:
    """``services[<id>]["satisfaction"]``: the survey figures of each service of the report
    (only the services offered the survey in the period: a database of imported queue_logs
    gives the same document as the queue_log itself)."""
    from analytics.satisfaction import satisfaction_report
    from analytics.survey_cli import database_url, load_context, opened

    try:
        context = load_context(config_path, None)
    except click.ClickException as exc:
        # The phone indicators do not depend on the rules: they are printed without the survey.
        click.echo(f"satisfaction left out: {exc.message}", err=True)
        return
    with opened(database_url(db, config_path)) as database:
        satisfaction = satisfaction_report(
            database, first, last, context.scales, objectives=context.objectives
        )
    for name, counts in document["services"].items():
        group = satisfaction.services.get(name)
        if group is not None:
            counts["satisfaction"] = group.as_dict()


@click.command("indicators")
@click.option("--db", "db", metavar="URL", help="Call records database (default: configuration).")
@click.option(
    "--queue-log",
    "queue_log",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Compute from an Asterisk queue_log file instead of the database.",
)
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None)
@click.option("--from", "start", required=True, metavar="YYYY-MM-DD")
@click.option("--to", "end", required=True, metavar="YYYY-MM-DD")
@click.option("--rings", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--ring-seconds", type=click.FloatRange(min=0.1), default=5.0, show_default=True)
@click.option("--short-abandon", type=click.FloatRange(min=0), default=5.0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object.")
def indicators(
    db: str | None,
    queue_log: Path | None,
    config_path: Path | None,
    start: str,
    end: str,
    rings: int,
    ring_seconds: float,
    short_abandon: float,
    as_json: bool,
) -> None:
    """Indicateurs téléphoniques par service, du --from au --to inclus (dates locales)."""
    if db is not None and queue_log is not None:
        raise click.UsageError("--db and --queue-log are exclusive: choose one source")
    first, last = _parse_day(start, "--from"), _parse_day(end, "--to")
    if last < first:
        raise click.BadParameter(f"{end} is before --from {start}", param_hint="--to")
    parameters = Parameters(rings=rings, ring_seconds=ring_seconds, short_abandon_s=short_abandon)
    engine = Indicators(_source(db, queue_log, config_path), parameters)
    report = engine.report(first, last)
    if as_json:
        document = report.to_json()
        if queue_log is None:
            # The survey is in the call records only (a queue_log knows nothing of it).
            _add_satisfaction(document, db, config_path, first, last)
        json.dump(document, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        click.echo(format_table(report))

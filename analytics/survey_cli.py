"""``decroche survey``: the satisfaction survey's answers and indicators, from the call records.

``survey list`` prints the surveyed calls and the figures per service, agent and period, each
beside its objective; ``survey export`` writes one CSV line per answer (and one per surveyed call
without answers), for a spreadsheet. The scale of each question comes from the routing rules
(the configuration's file, or ``--rules``), the objectives from the configuration.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo

import click

from analytics.definitions import DEFAULT_TIMEZONE
from analytics.objectives import ObjectivesConfig
from analytics.satisfaction import (
    LABELS_FR,
    Granularity,
    Group,
    SatisfactionError,
    SatisfactionReport,
    SurveyedCall,
    is_satisfied,
    satisfaction_report,
    scales_of,
    surveyed_calls,
)
from routing_rules.model import Scale
from telephony.records.engine import Database


@dataclass(frozen=True, slots=True)
class SurveyContext:
    """What reading the answers needs besides the records."""

    scales: Mapping[str, Scale]
    objectives: ObjectivesConfig


def load_context(config_path: Path | None, rules_path: Path | None) -> SurveyContext:
    """Scales from the rules (``rules_path``, else the configuration's, else Bernay's) and the
    objectives from the configuration. Raises :class:`click.ClickException` naming the file."""
    from decroche.config import ConfigError, load_config
    from routing_rules.errors import RulesError
    from routing_rules.holder import RulesHolder
    from routing_rules.loader import default_rules_path

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    path = rules_path or config.rules.file or default_rules_path()
    try:
        rules = RulesHolder(path).current
        scales = scales_of(rules)
    except (RulesError, SatisfactionError) as exc:
        raise click.ClickException(f"cannot read the survey scales from {path}: {exc}") from exc
    return SurveyContext(scales, config.objectives)


def database_url(db: str | None, config_path: Path | None) -> str:
    if db is not None:
        return db
    from decroche.config import ConfigError, load_config

    try:
        return load_config(config_path).database_url()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@contextmanager
def opened(url: str) -> Iterator[Database]:
    from sqlalchemy.exc import SQLAlchemyError

    from telephony.records.engine import open_store
    from telephony.records.errors import RecordsError

    try:
        database = open_store(url)
    except (RecordsError, SQLAlchemyError, ValueError) as exc:
        raise click.ClickException(f"cannot open the call records database: {exc}") from exc
    try:
        yield database
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot read the call records database: {exc}") from exc
    finally:
        database.dispose()


def _parse_day(value: str, option: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint=option) from exc


def _period(start: str, end: str) -> tuple[date, date]:
    first, last = _parse_day(start, "--from"), _parse_day(end, "--to")
    if last < first:
        raise click.BadParameter(f"{end} is before --from {start}", param_hint="--to")
    return first, last


# --- French text -------------------------------------------------------------------------------


def answer_fr(scale: Scale | None, score: int | None) -> str:
    if score is None:
        return "sans réponse"
    if scale is Scale.YES_NO:
        return {1: "oui", 2: "non"}.get(score, str(score))
    return str(score)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %".replace(".", ",")


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}".replace(".", ",")


def _status(group: Group) -> str:
    share = next(a for a in group.assessments if a.indicator == "share_satisfied")
    return share.status_fr


_HEADERS = [
    "",
    LABELS_FR["offered"],
    LABELS_FR["reached"],
    LABELS_FR["responded"],
    LABELS_FR["response_rate"],
    LABELS_FR["mean_score"],
    LABELS_FR["share_satisfied"],
    "Objectif satisfaction",
]


def _table(title: str, groups: Mapping[str, Group]) -> list[str]:
    rows = [
        [
            name,
            str(g.figures.offered),
            str(g.figures.reached),
            str(g.figures.responded),
            _percent(g.figures.response_rate),
            _score(g.figures.mean_score),
            _percent(g.figures.share_satisfied),
            _status(g),
        ]
        for name, g in groups.items()
    ]
    headers = [title, *_HEADERS[1:]]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(row[1:-1], widths[1:-1], strict=True)]
        cells.append(row[-1])
        lines.append("  ".join(cells))
    return lines


def format_calls(calls: list[SurveyedCall], scales: Mapping[str, Scale], zone: ZoneInfo) -> str:
    lines = []
    for call in calls:
        when = call.started_at.astimezone(zone)
        if call.answers:
            answers = "  ".join(
                f"Q{a.question} {answer_fr(scales.get(a.prompt_id), a.score)}" for a in call.answers
            )
        elif call.agent is None:
            answers = "non décroché"
        else:
            answers = "raccroché avant les questions"
        lines.append(
            f"{when:%d/%m/%Y %H:%M}  {call.call_id}  {call.service or '—'}  "
            f"{call.agent or '—'}  {answers}"
        )
    return "\n".join(lines)


def format_report(report: SatisfactionReport) -> str:
    total_title = "TOTAL"
    lines = [
        f"Enquête de satisfaction du {report.start:%d/%m/%Y} au {report.end:%d/%m/%Y}",
        "Satisfaits : note 4 ou 5 sur 5, ou « oui ». Taux de réponse : enquêtes répondues sur "
        "appels décrochés après proposition.",
        "",
        *_table("Service", {**report.services, total_title: report.total}),
        "",
        *_table("Agent", report.agents),
        "",
        *_table("Période", report.periods),
    ]
    return "\n".join(lines)


# --- the commands ------------------------------------------------------------------------------

_common = [
    click.option("--from", "start", required=True, metavar="YYYY-MM-DD"),
    click.option("--to", "end", required=True, metavar="YYYY-MM-DD"),
    click.option("--db", "db", metavar="URL", help="Call records database (default: config)."),
    click.option("--config", "config_path", type=click.Path(path_type=Path), default=None),
    click.option(
        "--rules",
        "rules_path",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="Routing rules giving each question's scale (default: the configuration's).",
    ),
]


def _with_common(command: Any) -> Any:
    for option in reversed(_common):
        command = option(command)
    return command


@click.group("survey")
def survey() -> None:
    """Enquête de satisfaction : réponses des appelants et indicateurs."""


@survey.command("list")
@_with_common
@click.option(
    "--by",
    type=click.Choice(get_args(Granularity)),
    default="month",
    show_default=True,
    help="Periods of the figures.",
)
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object.")
def list_command(
    start: str,
    end: str,
    db: str | None,
    config_path: Path | None,
    rules_path: Path | None,
    by: Granularity,
    as_json: bool,
) -> None:
    """Les appels enquêtés et les indicateurs par service, agent et période."""
    first, last = _period(start, end)
    context = load_context(config_path, rules_path)
    zone = ZoneInfo(DEFAULT_TIMEZONE)
    with opened(database_url(db, config_path)) as database:
        calls = surveyed_calls(database, first, last)
        report = satisfaction_report(
            database, first, last, context.scales, objectives=context.objectives, by=by
        )
    if as_json:
        document = report.as_dict()
        document["calls"] = [
            {
                "call_id": c.call_id,
                "started_at": c.started_at.isoformat(),
                "service": c.service,
                "agent": c.agent,
                "answers": [[a.question, a.prompt_id, a.score] for a in c.answers],
            }
            for c in calls
        ]
        json.dump(document, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    if not calls:
        click.echo(f"Aucune enquête proposée du {first:%d/%m/%Y} au {last:%d/%m/%Y}.")
        return
    click.echo(format_calls(calls, context.scales, zone))
    click.echo("")
    click.echo(format_report(report))


EXPORT_COLUMNS = (
    "appel",
    "date",
    "heure",
    "service",
    "agent",
    "question",
    "invite",
    "échelle",
    "note",
    "réponse",
    "satisfait",
    "heure de réponse",
)


def export_rows(
    calls: list[SurveyedCall], scales: Mapping[str, Scale], zone: ZoneInfo
) -> Iterator[list[str]]:
    """One row per answer; a surveyed call without answers still has one row (no question)."""
    for call in calls:
        when = call.started_at.astimezone(zone)
        head = [
            call.call_id,
            f"{when:%Y-%m-%d}",
            f"{when:%H:%M:%S}",
            call.service or "",
            call.agent or "",
        ]
        if not call.answers:
            yield [*head, "", "", "", "", "", "", ""]
            continue
        for a in call.answers:
            scale = scales.get(a.prompt_id)
            satisfied = (
                ""
                if a.score is None or scale is None
                else ("oui" if is_satisfied(scale, a.score) else "non")
            )
            yield [
                *head,
                str(a.question),
                a.prompt_id,
                scale.value if scale is not None else "inconnue",
                "" if a.score is None else str(a.score),
                answer_fr(scale, a.score),
                satisfied,
                f"{a.at.astimezone(zone):%H:%M:%S}",
            ]


def to_csv(rows: Iterator[list[str]]) -> tuple[bytes, int]:
    """UTF-8 with BOM and ';' separators: what French Excel opens directly."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return ("\ufeff" + out.getvalue()).encode("utf-8"), count


@survey.command("export")
@_with_common
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="CSV file to write (';' separated, UTF-8).",
)
def export_command(
    start: str,
    end: str,
    db: str | None,
    config_path: Path | None,
    rules_path: Path | None,
    out: Path,
) -> None:
    """Les réponses à l'enquête dans un fichier CSV, une ligne par réponse."""
    first, last = _period(start, end)
    context = load_context(config_path, rules_path)
    zone = ZoneInfo(DEFAULT_TIMEZONE)
    with opened(database_url(db, config_path)) as database:
        calls = surveyed_calls(database, first, last)
    data, count = to_csv(export_rows(calls, context.scales, zone))
    # Written beside, then renamed: a failed write never leaves half a file under the name.
    partial = out.with_name(out.name + ".partial")
    try:
        partial.write_bytes(data)
        partial.replace(out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise click.ClickException(f"cannot write {out}: {exc}") from exc
    click.echo(f"{count} ligne(s) écrite(s) dans {out} ({len(calls)} appel(s) enquêté(s)).")

"""``decroche survey``: the satisfaction survey's answers and indicators, from the call records.

``survey list`` prints the surveyed calls and the figures per service, agent and period, each
beside its objective; ``survey export`` writes one CSV line per answer (and one per surveyed call
without answers), for a spreadsheet. The scale of each question comes from the routing rules
(the configuration's file, or ``--rules``), the objectives from the configuration.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo

import click

from analytics import glossary
from analytics.satisfaction import (
    Granularity,
    Group,
    SatisfactionReport,
    SurveyedCall,
    is_satisfied,
)
from decroche.app import App, AppError
from decroche.commands import context
from decroche.commands.text import name_of, parse_period, percent, table
from reports.errors import InputError
from reports.periods import month_period
from reports.tables import csv_bytes
from routing_rules.messages import counted
from routing_rules.model import Scale


def _scales(app: App, rules_path: Path | None) -> Mapping[str, Scale]:
    """The scales of the rules in force, or of ``--rules``."""
    if rules_path is None:
        return app.survey_scales()
    from analytics.satisfaction import SatisfactionError, scales_of
    from routing_rules.errors import RulesError
    from routing_rules.holder import RulesHolder

    try:
        return scales_of(RulesHolder(rules_path).current)
    except (RulesError, SatisfactionError) as exc:
        raise AppError(f"échelles de l'enquête illisibles dans {rules_path} :\n{exc}") from exc


# --- French text -------------------------------------------------------------------------------


def answer_fr(scale: Scale | None, score: int | None) -> str:
    if score is None:
        return "sans réponse"
    if scale is Scale.YES_NO:
        return {1: "oui", 2: "non"}.get(score, str(score))
    return str(score)


def _status(group: Group) -> str:
    share = next(a for a in group.assessments if a.indicator == "share_satisfied")
    return share.status_fr


def _table(title: str, groups: Mapping[str, Group], label: Callable[[str], str]) -> list[str]:
    headers = [
        title,
        *(
            glossary.label(f"satisfaction.{key}")
            for key in ("offered", "reached", "responded", "response_rate", "mean_score")
        ),
        glossary.label("satisfaction.share_satisfied"),
        "Résultat",
    ]
    rows = [
        [
            label(name),
            str(g.figures.offered),
            str(g.figures.reached),
            str(g.figures.responded),
            percent(g.figures.response_rate),
            glossary.value("satisfaction.mean_score", g.figures.mean_score),
            percent(g.figures.share_satisfied),
            _status(g),
        ]
        for name, g in groups.items()
    ]
    return table(headers, rows)


def format_calls(
    calls: list[SurveyedCall], scales: Mapping[str, Scale], zone: ZoneInfo, names: Mapping[str, str]
) -> str:
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
            f"{when:%d/%m/%Y %H:%M}  {call.call_id}  {name_of(call.service, names)}  "
            f"{call.agent or '—'}  {answers}"
        )
    return "\n".join(lines)


def _by_name(groups: Mapping[str, Group], names: Mapping[str, str]) -> dict[str, Group]:
    order = glossary.by_name(names)
    return {s: groups[s] for s in sorted(groups, key=order)}


def _month(key: str) -> str:
    """« novembre 2026 » for the report's month key « 2026-11 »."""
    try:
        return month_period(key).label_fr
    except InputError:
        return key


def format_report(report: SatisfactionReport, names: Mapping[str, str]) -> str:
    total = "Tous services"

    def service(key: str) -> str:
        return key if key == total else name_of(key, names)

    lines = [
        f"Enquête de satisfaction du {report.start:%d/%m/%Y} au {report.end:%d/%m/%Y}",
        "Satisfaits : note 4 ou 5 sur 5, ou « oui ». Taux de réponse : enquêtes répondues sur "
        "appels décrochés après proposition.",
        "",
        *_table("Service", {**_by_name(report.services, names), total: report.total}, service),
        "",
        *_table("Agent", report.agents, str),
        "",
        *_table("Période", report.periods, _month),
    ]
    return "\n".join(lines)


# --- the commands ------------------------------------------------------------------------------

_common = [
    context.with_app,
    context.with_period,
    click.option(
        "--rules",
        "rules_path",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        metavar="FICHIER",
        help="Règles donnant l'échelle de chaque question (défaut : celles en vigueur).",
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
    help="Périodes des indicateurs (jour, semaine, mois).",
)
@context.json_option
def list_command(
    start: str, end: str, rules_path: Path | None, by: Granularity, as_json: bool
) -> None:
    """Les appels enquêtés et les indicateurs par service, agent et période."""
    first, last = parse_period(start, end)
    app = context.app()
    scales = _scales(app, rules_path)
    indicators = app.indicators().using(scales=scales)
    calls = indicators.surveyed_calls(first, last)
    report = indicators.satisfaction(first, last, by)
    names = app.names()
    assert report is not None  # the database gives the details
    if as_json:
        document = report.as_dict()
        document["names"] = {s: name_of(s, names) for s in report.services}
        document["calls"] = [
            {
                "call_id": c.call_id,
                "started_at": c.started_at.isoformat(),
                "service": c.service,
                "service_name": name_of(c.service, names) if c.service else None,
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
    click.echo(format_calls(calls, scales, ZoneInfo(indicators.timezone), names))
    click.echo("")
    click.echo(format_report(report, names))


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
    """One row per answer; a surveyed call without answers still has one row (no question).
    Services by id: a spreadsheet groups and joins on them."""
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


@survey.command("export")
@_with_common
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    metavar="FICHIER",
    help="Fichier CSV à écrire (séparateur « ; », UTF-8).",
)
def export_command(start: str, end: str, rules_path: Path | None, out: Path) -> None:
    """Les réponses à l'enquête dans un fichier CSV, une ligne par réponse."""
    first, last = parse_period(start, end)
    app = context.app()
    scales = _scales(app, rules_path)
    indicators = app.indicators()
    calls = indicators.surveyed_calls(first, last)
    data, count = csv_bytes(
        EXPORT_COLUMNS, export_rows(calls, scales, ZoneInfo(indicators.timezone))
    )
    # Written beside, then renamed: a failed write never leaves half a file under the name.
    partial = out.with_name(out.name + ".partial")
    try:
        partial.write_bytes(data)
        partial.replace(out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise click.ClickException(f"impossible d'écrire {out} : {exc}") from exc
    written = counted(count, "ligne écrite", "lignes écrites")
    click.echo(f"{written} dans {out} ({counted(len(calls), 'appel enquêté', 'appels enquêtés')}).")

"""``decroche survey``: the satisfaction survey's answers and indicators, from the call records.

``survey list`` prints the surveyed calls and the figures per service, agent and period, each
beside its objective; ``survey export`` writes one CSV line per answer (and one per surveyed call
without answers), for a spreadsheet. The scale of each question comes from the routing rules
(the configuration's file, or ``--rules``), the objectives from the configuration.

An agent is shown as the service's page shows them (:class:`SurveyAgents`): « Agent 1 » of that
service over the same period unless the town decided to name agents
(``docs/chiffres-par-agent.md``); never by their phone otherwise, in the text, the JSON or the CSV.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args
from zoneinfo import ZoneInfo

import click

from analytics import glossary
from analytics.satisfaction import (
    NO_AGENT,
    Granularity,
    Group,
    SatisfactionReport,
    SurveyedCall,
    is_satisfied,
)
from decroche.app import App, AppError
from decroche.commands import context
from decroche.commands.text import name_of, parse_period, percent, table, terminal_width
from reports.errors import InputError
from reports.periods import month_period
from reports.tables import csv_bytes
from routing_rules.messages import counted
from routing_rules.model import Scale

if TYPE_CHECKING:
    from analytics.api import Indicators


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


# --- the agents, as the pages show them ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SurveyAgents:
    """Each agent of the surveyed calls under the label the page of the call's service gives
    them for the same period (:meth:`~reports.agent_tables.AgentNaming.labels`): a quality lead
    reads « Agent 2 » of a service here and on its page as the same person."""

    named: bool
    labels: Mapping[tuple[str | None, str], str]  # (service, phone) -> label, in the pages' order

    @classmethod
    def of(
        cls,
        app: App,
        indicators: Indicators,
        calls: Sequence[SurveyedCall],
        first: date,
        last: date,
    ) -> SurveyAgents:
        naming = app.agent_naming()
        figures = indicators.agents(first, last)
        answered: dict[str | None, set[str]] = {}
        for call in calls:
            if call.agent is not None:
                answered.setdefault(call.service, set()).add(call.agent)
        names = app.names()
        order = glossary.by_name(names)
        labels: dict[tuple[str | None, str], str] = {}
        for service in sorted(answered, key=lambda s: order(s or "")):
            phones = answered[service]
            for phone, label in naming.labels(figures, service or "", phones).items():
                if phone in phones:
                    labels[service, phone] = label
        return cls(naming.named, labels)

    def of_call(self, call: SurveyedCall) -> str | None:
        """The agent who took ``call``, as its service's page labels them; None: nobody."""
        return None if call.agent is None else self.labels[call.service, call.agent]

    def of_phone(self, phone: str) -> list[tuple[str | None, str]]:
        """The services ``phone`` took surveyed calls for, with its label in each."""
        return [(s, label) for (s, p), label in self.labels.items() if p == phone]

    def title(self, phone: str, names: Mapping[str, str]) -> str:
        """The agent of the figures of ``phone``: their name when the town names agents, else
        their label in each service (« Agent 1 (Accueil de loisirs) »)."""
        labels = self.of_phone(phone)
        if not labels:  # the calls nobody took (or one recorded since the calls were read)
            return NO_AGENT if phone == NO_AGENT else "agent non identifié"
        if self.named:
            return labels[0][1]
        return ", ".join(f"{label} ({_service_name(s, names)})" for s, label in labels)

    def note(self) -> list[str]:
        """What the labels mean, above the agents' table."""
        if self.named:
            return []
        note = [
            "Agents pseudonymisés comme sur la page de leur service pour la même période "
            "(« Agent 1 » : le poste qui a le plus sonné)."
        ]
        if any(label.startswith("Autre agent") for label in self.labels.values()):
            note.append(
                "« Autre agent » : un poste qui n'est pas de ce service dans les règles en vigueur."
            )
        return note

    def rows(self, groups: Mapping[str, Group]) -> list[str]:
        """The phones of ``groups`` in the pages' order (by service, then as each page ranks
        them); the calls nobody took last."""
        ranked = list(dict.fromkeys(phone for _, phone in self.labels))
        return [p for p in ranked if p in groups] + [p for p in groups if p not in ranked]


def _service_name(service: str | None, names: Mapping[str, str]) -> str:
    return "sans service" if service is None else name_of(service, names)


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


def _table(title: str, groups: Sequence[tuple[str, Group]]) -> list[str]:
    """One line per labelled group."""
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
            label,
            str(g.figures.offered),
            str(g.figures.reached),
            str(g.figures.responded),
            percent(g.figures.response_rate),
            glossary.value("satisfaction.mean_score", g.figures.mean_score),
            percent(g.figures.share_satisfied),
            _status(g),
        ]
        for label, g in groups
    ]
    return table(headers, rows, width=terminal_width())


def format_calls(
    calls: list[SurveyedCall],
    scales: Mapping[str, Scale],
    zone: ZoneInfo,
    names: Mapping[str, str],
    agents: SurveyAgents,
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
            f"{agents.of_call(call) or '—'}  {answers}"
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


def format_report(
    report: SatisfactionReport, names: Mapping[str, str], agents: SurveyAgents
) -> str:
    services = _by_name(report.services, names)
    lines = [
        f"Enquête de satisfaction du {report.start:%d/%m/%Y} au {report.end:%d/%m/%Y}",
        "Satisfaits : note 4 ou 5 sur 5, ou « oui ». Taux de réponse : enquêtes répondues sur "
        "appels décrochés après proposition.",
        "",
        *_table(
            "Service",
            [
                *((name_of(s, names), g) for s, g in services.items()),
                ("Tous services", report.total),
            ],
        ),
        "",
        *agents.note(),
        *_table(
            "Agent",
            [(agents.title(p, names), report.agents[p]) for p in agents.rows(report.agents)],
        ),
        "",
        *_table("Période", [(_month(key), g) for key, g in report.periods.items()]),
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
    report = indicators.satisfaction(first, last, by)
    # Read after the report: every agent of its figures is among the calls' (records are only
    # added while the service runs), so each has its label.
    calls = indicators.surveyed_calls(first, last)
    names = app.names()
    agents = SurveyAgents.of(app, indicators, calls, first, last)
    assert report is not None  # the database gives the details
    if as_json:
        document = report.as_dict()
        document["names"] = {s: name_of(s, names) for s in report.services}
        document["agents"] = [
            {
                "agent": agents.title(phone, names),
                "labels": [
                    {"service": service, "agent": label}
                    for service, label in agents.of_phone(phone)
                ],
                **report.agents[phone].as_dict(),
            }
            for phone in agents.rows(report.agents)
        ]
        document["calls"] = [
            {
                "call_id": c.call_id,
                "started_at": c.started_at.isoformat(),
                "service": c.service,
                "service_name": name_of(c.service, names) if c.service else None,
                "agent": agents.of_call(c),
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
    click.echo(format_calls(calls, scales, ZoneInfo(indicators.timezone), names, agents))
    click.echo("")
    click.echo(format_report(report, names, agents))


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
    calls: list[SurveyedCall], scales: Mapping[str, Scale], zone: ZoneInfo, agents: SurveyAgents
) -> Iterator[list[str]]:
    """One row per answer; a surveyed call without answers still has one row (no question).
    Services by id: a spreadsheet groups and joins on them; agents as the pages label them."""
    for call in calls:
        when = call.started_at.astimezone(zone)
        head = [
            call.call_id,
            f"{when:%Y-%m-%d}",
            f"{when:%H:%M:%S}",
            call.service or "",
            agents.of_call(call) or "",
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
    agents = SurveyAgents.of(app, indicators, calls, first, last)
    data, count = csv_bytes(
        EXPORT_COLUMNS, export_rows(calls, scales, ZoneInfo(indicators.timezone), agents)
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

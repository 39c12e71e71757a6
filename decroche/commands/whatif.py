"""``decroche whatif``: replay a period's calls through other rules, compare the indicators.

Reads the records (database or queue_log), replays them through the rules in force and through
``--rules``, and prints recorded / current / new side by side per service (French table), or one
JSON object with ``--json``. See ``docs/whatif.md``.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Mapping
from pathlib import Path

import click

from analytics import glossary
from analytics.definitions import Counts
from decroche.commands import context
from decroche.commands.text import (
    TOTAL_LABEL,
    by_name,
    figure,
    name_of,
    parse_period,
    table,
    terminal_width,
)
from reports.whatif_view import FIGURES, difference
from routing_rules.compiled import CompiledRules
from routing_rules.errors import RulesInvalid
from routing_rules.messages import counted
from whatif.compare import WhatIfResult
from whatif.errors import WhatIfError


def _rules(path: Path, option: str) -> CompiledRules:
    from ivr_prompts.catalogue import load_catalogue
    from routing_rules.loader import load_rules

    try:
        return load_rules(path, load_catalogue().keys())
    except RulesInvalid as exc:
        raise click.BadParameter(f"{path} : règles invalides :\n{exc}", param_hint=option) from exc


def _cell(counts: Counts | None, key: str) -> str:
    return "—" if counts is None else figure(key, getattr(counts, key))


def format_comparison(result: WhatIfResult, names: Mapping[str, str]) -> str:
    """Recorded, replayed current rules, new rules and the difference, per service (by name)."""
    services = sorted(
        set(result.recorded.services) | set(result.current.services) | set(result.new.services),
        key=by_name(names),
    )
    headers = ["Service", "Indicateur", "Enregistré", "Règles actuelles", "Nouvelles", "Écart"]
    rows: list[list[str]] = []
    changes, gap = result.difference, result.gap
    for service in [*services, "total"]:
        label = TOTAL_LABEL if service == "total" else name_of(service, names)
        reports: tuple[Counts | None, ...]
        if service == "total":
            reports = (result.recorded.total, result.current.total, result.new.total)
            delta = changes["total"]
        else:
            reports = (
                result.recorded.services.get(service),
                result.current.services.get(service),
                result.new.services.get(service),
            )
            delta = changes["services"][service]
        for i, key in enumerate(FIGURES):
            rows.append(
                [label if i == 0 else "", glossary.label(key), *(_cell(r, key) for r in reports),
                 difference(key, delta[key])]
            )  # fmt: skip
    total_gap = gap["total"]
    lines = [
        f"Simulation « et si » du {result.start:%d/%m/%Y} au {result.end:%d/%m/%Y} : "
        f"{counted(result.calls, 'appel rejoué', 'appels rejoués')}",
        result.recorded.parameters.convention(),
        "Écart = nouvelles règles − règles actuelles rejouées.",
        "Fidélité du rejeu (règles actuelles − enregistré, total) : "
        + ", ".join(
            f"{glossary.label(key).lower()} {difference(key, total_gap[key])}"
            for key in ("answered", "answer_rate", "service_level")
        )
        + ".",
        "",
        *table(headers, rows, left=2, width=terminal_width()),
    ]
    if result.notes:
        lines += ["", "Règles changées sans effet sur ces appels :"]
        lines += [f"- {note}" for note in result.notes]
    return "\n".join(lines)


def _progress_bar(label: str, done: int, total: int) -> None:
    width = 30
    filled = width * done // max(1, total)
    bar = "█" * filled + "·" * (width - filled)
    sys.stderr.write(f"\r  {label:<18} [{bar}] {done}/{total} appels")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _progress_json(label: str, done: int, total: int) -> None:
    # One JSON object a line, for a program following the run (the dashboard's IT page).
    sys.stderr.write(json.dumps({"step": label, "done": done, "total": total}) + "\n")
    sys.stderr.flush()


_PROGRESS = {"bar": _progress_bar, "json": _progress_json, "none": None}


def _queue_map(values: tuple[str, ...]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value in values:
        queue, sep, service = value.partition("=")
        if not sep or not queue or not service:
            raise click.BadParameter(
                f"« {value} » n'est pas de la forme FILE=SERVICE", param_hint="--queue-map"
            )
        mapping[queue] = service
    return mapping


@click.command("whatif")
@click.option(
    "--rules",
    "new_rules",
    required=True,
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    metavar="FICHIER",
    help="Les règles à essayer (YAML).",
)
@click.option(
    "--current",
    "current_rules",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    metavar="FICHIER",
    help="Les règles en vigueur pendant la période (défaut : celles de la configuration).",
)
@context.with_period
@context.with_app
@context.queue_log_option
@click.option(
    "--queue-map",
    multiple=True,
    metavar="FILE=SERVICE",
    help="File du queue_log -> identifiant de service des règles (répétable).",
)
@context.rings_option
@click.option("--seed", type=int, default=2026, show_default=True, metavar="N", help="Graine.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Processus de rejeu (défaut : un par cœur).",
)
@click.option(
    "--progress",
    type=click.Choice(sorted(_PROGRESS)),
    default="bar",
    show_default=True,
    help="Avancement sur stderr : une barre, des lignes JSON, ou rien.",
)
@context.json_option
def whatif(
    new_rules: Path,
    current_rules: Path | None,
    start: str,
    end: str,
    queue_log: Path | None,
    queue_map: tuple[str, ...],
    rings: int | None,
    seed: int,
    workers: int | None,
    progress: str,
    as_json: bool,
) -> None:
    """Et si… : rejoue les appels d’une période avec d’autres règles et compare les indicateurs."""
    from whatif.run import what_if

    first, last = parse_period(start, end)
    if context.database_given() and queue_log is not None:
        raise click.UsageError("--db et --queue-log s'excluent : une seule source d'appels")
    app = context.app()
    current = _rules(current_rules or app.rules_path, "--current")
    new = _rules(new_rules, "--rules")
    if queue_log is not None:
        from telephony.records.queue_log import parse_queue_log

        with queue_log.open("rb") as lines:  # UTF-8, else Windows-1252, line by line
            records, _report = parse_queue_log(lines)
    else:
        records = app.recorded_calls(first, last)
    try:
        result = what_if(
            records,
            current,
            new,
            first,
            last,
            direct=queue_log is not None,
            queue_map=_queue_map(queue_map),
            params=dataclasses.replace(app.parameters(rings=rings), timezone=str(current.tz)),
            progress=_PROGRESS[progress],
            seed=seed,
            workers=workers,
        )
    except WhatIfError as exc:
        raise click.ClickException(str(exc)) from exc
    # Names of both rules sets: a service the new rules add is named too.
    names = {s.id: s.name for r in (current, new) for s in r.services.values()}
    if as_json:
        document = result.to_json()
        services = set(result.recorded.services) | set(result.current.services)
        services |= set(result.new.services)
        document["names"] = {s: name_of(s, names) for s in sorted(services)}
        click.echo(json.dumps(document, ensure_ascii=False))
    else:
        click.echo(format_comparison(result, names))

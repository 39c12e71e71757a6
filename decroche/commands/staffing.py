"""``decroche staffing``: the agents each service needs, slot by slot, beside those present.

Reads the records (database or queue_log), computes the traffic of each service per weekday and
hour (or half hour), the agents needed to meet its objectives (Erlang A with a queue, the loss
model without, Erlang C beside), and prints a French table per service or one JSON object
(``--json``). ``--verify`` replays the period on the simulated PBX with the recommended agents
present and prints what the replay reached beside the model. See ``docs/effectifs.md``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from analytics.staffing.plan import QueueSetup, StaffingPlan
from analytics.staffing.text import format_plan
from decroche.app import App
from decroche.commands import context
from decroche.commands.text import percent, table, terminal_width
from routing_rules.messages import counted
from whatif.staffing import Verification


def _queues(values: tuple[str, ...], known: set[str]) -> dict[str, QueueSetup]:
    """``--queue SERVICE`` or ``--queue SERVICE=MAX_WAIT_S``."""
    queues: dict[str, QueueSetup] = {}
    for value in values:
        service, _, limit = value.partition("=")
        if service not in known:
            raise click.BadParameter(
                f"{service!r} n'est pas un service des règles ({', '.join(sorted(known))})",
                param_hint="--queue",
            )
        try:
            max_wait = float(limit) if limit else None
        except ValueError:
            max_wait = -1.0
        if max_wait is not None and not 0 <= max_wait <= 3600:
            raise click.BadParameter(
                f"{value!r} : l'attente maximale est un nombre de secondes entre 0 et 3600",
                param_hint="--queue",
            )
        queues[service] = QueueSetup(max_wait_s=max_wait)
    return queues


def format_verification(verification: Verification) -> str:
    """Model, replay and records side by side, per service and in total."""
    headers = [
        "Service",
        "Appels",
        "Niv. serv. modèle",
        "simulé",
        "enregistré",
        "Décroché modèle",
        "simulé",
        "enregistré",
    ]
    rows = []
    checks = list(verification.services.values())
    for check in checks:
        rows.append(
            [
                check.name,
                str(check.recorded.calls),
                percent(check.model.service_level),
                percent(check.replayed.service_level),
                percent(check.recorded.service_level),
                percent(check.model.answer_rate),
                percent(check.replayed.answer_rate),
                percent(check.recorded.answer_rate),
            ]
        )
    model, replayed, recorded = verification.total()
    rows.append(
        [
            "Tous services",
            str(recorded.calls),
            percent(model.service_level),
            percent(replayed.service_level),
            percent(recorded.service_level),
            percent(model.answer_rate),
            percent(replayed.answer_rate),
            percent(recorded.answer_rate),
        ]
    )
    return "\n".join(
        [
            "Vérification par simulation : "
            f"{counted(verification.calls, 'appel rejoué', 'appels rejoués')} sur le PBX "
            "simulé, avec dans chaque créneau le nombre d'agents recommandé.",
            "Modèle : ce que le modèle attend avec ces agents ; simulé : ce que la simulation a "
            "obtenu ; enregistré : ce qui s'est passé avec les agents qui étaient là.",
            "",
            *table(headers, rows, width=terminal_width()),
        ]
    )


def _verify(
    app: App, plan: StaffingPlan, queue_log: Path | None, workers: int | None
) -> Verification:
    from telephony.records.queue_log import parse_queue_log
    from whatif.errors import WhatIfError
    from whatif.staffing import verify

    if queue_log is not None:
        with queue_log.open("rb") as lines:  # UTF-8, else Windows-1252, line by line
            records, _ = parse_queue_log(lines)
    else:
        records = app.recorded_calls(plan.start, plan.end)

    def progress(done: int, total: int) -> None:
        sys.stderr.write(f"\r  simulation : {done}/{total} appels")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    try:
        return verify(
            records,
            app.rules.current,
            plan,
            direct=queue_log is not None,
            progress=progress,
            workers=workers,
        )
    except WhatIfError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("staffing")
@context.with_app
@context.with_period
@context.queue_log_option
@click.option(
    "--slot",
    "slot_minutes",
    type=click.Choice(["60", "30", "15"]),
    default="60",
    show_default=True,
    help="Durée d'un créneau, en minutes.",
)
@click.option(
    "--queue",
    "queues",
    multiple=True,
    metavar="SERVICE[=S]",
    help="Calculer ce service avec une file d'attente (attente maximale S secondes, sinon sans "
    "limite) : « et si le service faisait patienter ». Répétable.",
)
@click.option(
    "--verify",
    is_flag=True,
    help="Rejouer la période sur le PBX simulé avec les agents recommandés, et comparer.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Processus de simulation pour --verify (défaut : un par cœur).",
)
@context.json_option
def staffing(
    start: str,
    end: str,
    queue_log: Path | None,
    slot_minutes: str,
    queues: tuple[str, ...],
    verify: bool,
    workers: int | None,
    as_json: bool,
) -> None:
    """Agents nécessaires au téléphone par service, jour et heure, à côté des agents présents."""
    from decroche.commands.text import parse_period

    first, last = parse_period(start, end)
    if queue_log is not None and context.database_given():
        raise click.UsageError("--db et --queue-log s'excluent : une seule source d'appels")
    app = context.app()
    engine = app.staffing(
        queue_log=queue_log, queues=_queues(queues, set(app.names()) | _queue_names(queue_log))
    )
    plan = engine.plan(first, last, int(slot_minutes))
    checked = _verify(app, plan, queue_log, workers) if verify else None
    if as_json:
        document = plan.to_json()
        if checked is not None:
            document["verification"] = checked.to_json()
        json.dump(document, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    click.echo(format_plan(plan))
    if checked is not None:
        click.echo("")
        click.echo(format_verification(checked))


def _queue_names(queue_log: Path | None) -> set[str]:
    """The queues of a queue_log are services too (for ``--queue``)."""
    if queue_log is None:
        return set()
    names: set[str] = set()
    with queue_log.open("rb") as lines:
        for line in lines:
            fields = line.split(b"|", 4)
            if len(fields) > 3 and fields[2] not in (b"NONE", b""):
                names.add(fields[2].decode("utf-8", "replace"))
    return names

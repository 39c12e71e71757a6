"""``decroche indicators``: the phone indicators of a period, as a French table or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from analytics.indicators import Unanswered
from decroche.commands import context
from decroche.commands.text import indicators_table, parse_period, terminal_width


def _add_satisfaction(document: dict[str, Any], report: Any) -> None:
    """``services[<id>]["satisfaction"]``: the survey figures of each service of the report
    (only the services offered the survey in the period: a database of imported queue_logs
    gives the same document as the queue_log itself)."""
    for service, counts in document["services"].items():
        group = report.services.get(service)
        if group is not None:
            counts["satisfaction"] = group.as_dict()


@click.command("indicators")
@context.with_app
@context.queue_log_option
@context.with_period
@context.rings_option
@click.option(
    "--ring-seconds",
    type=click.FloatRange(min=0.1),
    default=None,
    metavar="S",
    help="Durée d'un cycle de sonnerie, en secondes (par défaut celle des règles : 5).",
)
@click.option(
    "--short-abandon",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    metavar="S",
    help="Un abandon après moins de S secondes est un abandon court (exclu de la base).",
)
@context.json_option
def indicators(
    queue_log: Path | None,
    start: str,
    end: str,
    rings: int | None,
    ring_seconds: float | None,
    short_abandon: float,
    as_json: bool,
) -> None:
    """Indicateurs téléphoniques par service, du --from au --to inclus (dates locales)."""
    first, last = parse_period(start, end)
    app = context.app()
    if queue_log is not None and context.database_given():
        raise click.UsageError("--db et --queue-log s'excluent : une seule source d'appels")
    parameters = app.parameters(
        rings=rings, ring_seconds=ring_seconds, short_abandon_s=short_abandon
    )
    if queue_log is not None:
        from analytics.api import Indicators
        from analytics.sources import QueueLogSource

        engine = Indicators(
            QueueLogSource(queue_log),
            parameters,
            app.config.objectives,
            ring_limits=app.ring_limits(),
        )
    else:
        engine = app.indicators(parameters)
    report = engine.report(first, last)
    names = app.names()
    if not as_json:
        click.echo(indicators_table(report, names, terminal_width()))
        return
    document = report.to_json()
    fates = engine.unanswered(first, last)
    for service, counts in document["services"].items():
        counts["name"] = names.get(service, service)
        # Where the calls it did not answer went, and how many an agent took later.
        fate = fates.get(service)
        counts["unanswered"] = (fate or Unanswered()).as_dict()
    # The survey is in the call records only (a queue_log knows nothing of it).
    survey = engine.satisfaction(first, last)
    if survey is not None:
        _add_satisfaction(document, survey)
    json.dump(document, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")

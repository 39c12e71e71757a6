"""``decroche whatif``: replay a period's calls through other rules, compare the indicators.

Reads the records (database or queue_log), replays them through the rules in force and through
``--rules``, and prints recorded / current / new side by side per service (French table), or one
JSON object with ``--json``. See ``docs/whatif.md``.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import click

from analytics.definitions import Counts, Parameters
from decroche.whatif import WhatIfError, WhatIfResult
from decroche.whatif_replay import what_if
from routing_rules.compiled import CompiledRules
from routing_rules.errors import RulesInvalid
from telephony.records.model import CallRecord


def _day(value: str, option: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint=option) from exc


def _rules(path: Path, option: str) -> CompiledRules:
    from ivr_prompts.catalogue import load_catalogue
    from routing_rules.loader import load_rules

    try:
        return load_rules(path, load_catalogue().keys())
    except RulesInvalid as exc:
        raise click.BadParameter(f"{path}: invalid rules:\n{exc}", param_hint=option) from exc


def records_from_database(url: str, start: date, end: date) -> list[CallRecord]:
    """The stored calls that started between the local dates (one day of margin each side)."""
    from sqlalchemy import select

    from telephony.records.engine import open_store
    from telephony.records.pseudonym import Pseudonymiser
    from telephony.records.schema import calls
    from telephony.records.store import RecordStore

    database = open_store(url, upgrade=False)
    try:
        # Reading never pseudonymises (stored numbers are pseudonyms already): any key will do.
        store = RecordStore(database, Pseudonymiser(os.urandom(32)))
        low = datetime.combine(start - timedelta(days=1), time.min, UTC)
        high = datetime.combine(end + timedelta(days=2), time.min, UTC)
        query = select(calls.c.call_id).where(calls.c.started_at >= low, calls.c.started_at < high)
        with database.engine.connect() as connection:
            ids = [row[0] for row in connection.execute(query)]
        return [record for i in ids if (record := store.load_call(i)) is not None]
    finally:
        database.dispose()


def make_url_safe(url: str) -> str:
    """The database URL without its password, fit for an error message."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(invalid database URL)"


def _cell(counts: Counts | None, key: str) -> str:
    if counts is None:
        return "—"
    value = counts.as_dict()[key]
    if value is None:
        return "—"
    if key.endswith("rate") or key == "service_level":
        return f"{value * 100:.1f} %".replace(".", ",")
    if key.endswith("_s"):
        return f"{value:.1f} s".replace(".", ",")
    return str(value)


def _delta(value: float | None, key: str) -> str:
    if value is None:
        return "—"
    if key.endswith("rate") or key == "service_level":
        return f"{value * 100:+.1f} pt".replace(".", ",")
    if key.endswith("_s"):
        return f"{value:+.1f} s".replace(".", ",")
    return f"{value:+g}"


_FIGURES = {
    "offered": "Présentés",
    "answered": "Répondus",
    "abandoned": "Abandons",
    "overflowed": "Débordés",
    "answer_rate": "Taux de réponse",
    "service_level": "Décrochés à temps",
    "abandonment_rate": "Taux d’abandon",
    "mean_wait_answered_s": "Attente moyenne (répondus)",
}


def format_comparison(result: WhatIfResult) -> str:
    """Recorded, replayed current rules, new rules and the difference, per service."""
    names = sorted(
        set(result.recorded.services) | set(result.current.services) | set(result.new.services)
    )
    headers = ["Service", "Indicateur", "Enregistré", "Règles actuelles", "Nouvelles", "Écart"]
    rows: list[list[str]] = []
    difference, gap = result.difference, result.gap
    for name in [*names, "total"]:
        label = "TOTAL (chaque appel une fois)" if name == "total" else name
        reports: tuple[Counts | None, ...]
        if name == "total":
            reports = (result.recorded.total, result.current.total, result.new.total)
            delta = difference["total"]
        else:
            reports = (
                result.recorded.services.get(name),
                result.current.services.get(name),
                result.new.services.get(name),
            )
            delta = difference["services"][name]
        for i, (key, french) in enumerate(_FIGURES.items()):
            rows.append(
                [label if i == 0 else "", french, *(_cell(r, key) for r in reports),
                 _delta(delta[key], key)]
            )  # fmt: skip
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    total_gap = gap["total"]
    lines = [
        f"Simulation « et si » du {result.start:%d/%m/%Y} au {result.end:%d/%m/%Y} : "
        f"{result.calls} appels rejoués",
        result.recorded.parameters.convention(),
        "Écart = nouvelles règles − règles actuelles rejouées.",
        f"Fidélité du rejeu (règles actuelles − enregistré, total) : répondus "
        f"{_delta(total_gap['answered'], 'answered')}, taux de réponse "
        f"{_delta(total_gap['answer_rate'], 'answer_rate')}, décrochés à temps "
        f"{_delta(total_gap['service_level'], 'service_level')}.",
        "",
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    for row in rows:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
        cells += [cell.rjust(w) for cell, w in zip(row[2:], widths[2:], strict=True)]
        lines.append("  ".join(cells).rstrip())
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
            raise click.BadParameter(f"{value!r} is not QUEUE=SERVICE", param_hint="--queue-map")
        mapping[queue] = service
    return mapping


@click.command("whatif")
@click.option(
    "--rules",
    "new_rules",
    required=True,
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="The rules to try (YAML).",
)
@click.option(
    "--current",
    "current_rules",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="The rules in force during the period (default: the configuration's).",
)
@click.option("--from", "start", required=True, metavar="YYYY-MM-DD")
@click.option("--to", "end", required=True, metavar="YYYY-MM-DD")
@click.option(
    "--db",
    "db",
    metavar="URL",
    envvar="DECROCHE_WHATIF_DB",
    help="Call records database (default: configuration; or DECROCHE_WHATIF_DB, which keeps a "
    "password out of the process list).",
)
@click.option(
    "--queue-log",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="Read an Asterisk queue_log instead (callers go straight to their queue's service).",
)
@click.option(
    "--queue-map",
    multiple=True,
    metavar="QUEUE=SERVICE",
    help="queue_log queue name -> service id of the rules (repeatable).",
)
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None)
@click.option("--rings", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--seed", type=int, default=2026, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes to replay in [default: one a core].",
)
@click.option(
    "--progress",
    type=click.Choice(sorted(_PROGRESS)),
    default="bar",
    show_default=True,
    help="Progress on stderr: a bar, JSON lines, or nothing.",
)
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object.")
def whatif(
    new_rules: Path,
    current_rules: Path | None,
    start: str,
    end: str,
    db: str | None,
    queue_log: Path | None,
    queue_map: tuple[str, ...],
    config_path: Path | None,
    rings: int,
    seed: int,
    workers: int | None,
    progress: str,
    as_json: bool,
) -> None:
    """Et si… : rejoue les appels d’une période avec d’autres règles et compare les indicateurs."""
    first, last = _day(start, "--from"), _day(end, "--to")
    if db is not None and queue_log is not None:
        raise click.UsageError("--db and --queue-log are exclusive: one source of records")
    if current_rules is None or (db is None and queue_log is None):
        from decroche.config import load_config
        from routing_rules.loader import default_rules_path

        config = load_config(config_path)
        current_rules = current_rules or config.rules.file or default_rules_path()
        if db is None and queue_log is None:
            db = config.database_url()
    current = _rules(current_rules, "--current")
    new = _rules(new_rules, "--rules")
    if queue_log is not None:
        from telephony.records.queue_log import parse_queue_log

        with queue_log.open(encoding="utf-8", errors="replace") as lines:
            records, _report = parse_queue_log(lines)
    else:
        assert db is not None  # set above from the configuration when absent
        from sqlalchemy.exc import SQLAlchemyError

        try:
            records = records_from_database(db, first, last)
        except SQLAlchemyError as exc:
            where = make_url_safe(db)
            # The driver's own words when there are some: SQLAlchemy's add a long SQL dump.
            reason = str(getattr(exc, "orig", None) or exc)
            message = f"cannot read the call records at {where}: {reason}"
            raise click.ClickException(message) from exc
    try:
        result = what_if(
            records,
            current,
            new,
            first,
            last,
            direct=queue_log is not None,
            queue_map=_queue_map(queue_map),
            params=Parameters(rings=rings, timezone=str(current.tz)),
            progress=_PROGRESS[progress],
            seed=seed,
            workers=workers,
        )
    except WhatIfError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        click.echo(format_comparison(result))

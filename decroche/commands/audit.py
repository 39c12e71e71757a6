"""``decroche audit``: decroche calls the town hall's phone reception along every path of the
rules in force, through Asterisk, and checks each one (``docs/audit.md``).

- ``audit run [--paths …] [--json]``: one audit call per path (exit code 1 if a path fails or
  no call could be placed), the run stored and its report written (HTML and PDF);
- ``audit paths``: the paths of the rules in force and where each ends now;
- ``audit runs``: the last runs;
- ``audit report --run ID | --month AAAA-MM``: the report of a run, or of a month.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import click

from audit.checks import describe
from audit.expect import expect
from audit.paths import audit_paths
from audit.results import (
    RUN_STATUS_FR,
    TRIGGER_FR,
    VERDICT_FR,
    AuditRun,
    PathResult,
    Trigger,
)
from audit.run import AuditBusy
from decroche.app import App
from decroche.commands import context
from reports.errors import ReportGenerationError
from routing_rules.messages import agreeing


@click.group("audit", cls=context.CommandGroup, subcommand_metavar="COMMANDE [ARGS]...")
def audit() -> None:
    """Audit interne : decroche appelle l'accueil téléphonique et vérifie chaque parcours."""


def _wanted(paths: Sequence[str]) -> list[str]:
    """``--paths a b`` or ``--paths a,b`` or the option repeated."""
    return [p for chunk in paths for p in chunk.replace(",", " ").split() if p]


@audit.command("run")
@click.option(
    "--paths",
    "paths",
    multiple=True,
    metavar="PARCOURS",
    help="Parcours à appeler (identifiants de « decroche audit paths », séparés par des "
    "virgules ou des espaces ; « standard.2* » : tous ceux qui commencent par la touche 2). "
    "Défaut : tous.",
)
@click.option("--json", "as_json", is_flag=True, help="Le résultat en un objet JSON.")
@click.option("--sans-rapport", "no_report", is_flag=True, help="Ne pas écrire le rapport.")
@context.with_app
def run(paths: tuple[str, ...], as_json: bool, no_report: bool) -> None:
    """Appeler chaque parcours et le vérifier (code 1 si un parcours échoue)."""
    app = context.app()
    runner = app.audit_runner()
    wanted = _wanted(paths)
    try:
        runner.paths(wanted)
    except ValueError as exc:
        unknown = agreeing(str(exc).count(", ") + 1, "parcours inconnu", "parcours inconnus")
        raise click.BadParameter(
            f"{unknown} : {exc} (voir « decroche audit paths »)", param_hint="--paths"
        ) from None
    total = len(runner.paths(wanted))
    if not as_json:
        click.echo(
            f"Audit de {total} parcours, règles {app.rules.version[:12]}, "
            f"par l'application {app.audit_app} vers {app.config.audit.context}…",
            err=True,
        )

    def said(result: PathResult) -> None:
        if not as_json:
            click.echo(_line(result, app.names()), err=True)

    async def audit_now() -> AuditRun:
        try:
            return await runner.run(Trigger.COMMAND, wanted=wanted, progress=said)
        finally:
            await runner.client.close()

    try:
        result = asyncio.run(audit_now())
    except AuditBusy as exc:
        raise click.ClickException(str(exc)) from None
    files = [] if no_report else _write_run_report(app, result)
    if as_json:
        document = result.model_dump(mode="json")
        document["ok"] = result.ok
        document["reports"] = [str(f) for f in files]
        click.echo(json.dumps(document, ensure_ascii=False, indent=1))
    else:
        click.echo(_summary(result))
        for file in files:
            click.echo(f"Rapport : {file}")
    sys.exit(0 if result.ok else 1)


def _line(result: PathResult, names: dict[str, str]) -> str:
    mark = "✔" if not result.failures else "✘"
    where = describe(result.expected, names)
    line = f"{mark} {VERDICT_FR[result.verdict]:<9} {result.label} → {where}"
    for check in result.failures:
        line += f"\n      {check.name} : {check.detail}"
    return line


def _summary(result: AuditRun) -> str:
    if result.message and not result.results:
        return f"Audit {result.id} {RUN_STATUS_FR[result.status]} : {result.message}"
    text = f"Audit {result.id} : {result.tally}."
    if result.message:
        text += f"\nNote : {result.message}."
    return text


def _write_run_report(app: App, result: AuditRun) -> list[Path]:
    try:
        return app.audit_report_writer().run_report(result)
    except ReportGenerationError as exc:
        click.echo(f"Rapport non écrit : {exc}", err=True)
        return []


@audit.command("paths")
@click.option("--json", "as_json", is_flag=True, help="Les parcours en JSON.")
@context.with_config
def paths_command(as_json: bool) -> None:
    """Les parcours des règles en vigueur, et où chacun aboutit maintenant."""
    app = context.app()
    rules = app.rules.current
    now = datetime.now(UTC)
    names = app.names()
    found = audit_paths(rules, app.config.audit.main_number)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "id": p.id,
                        "label": p.label,
                        "dialled": p.dialled,
                        "keys": list(p.keys),
                        "kind": p.kind.value,
                        "now": expect(rules, p, now).reached.value,
                    }
                    for p in found
                ],
                ensure_ascii=False,
                indent=1,
            )
        )
        return
    width = max(len(p.id) for p in found)
    local = now.astimezone(rules.tz)
    click.echo(f"{len(found)} parcours ; destination maintenant ({local:%d/%m/%Y %H:%M}) :")
    for p in found:
        click.echo(
            f"  {p.id:<{width}}  {p.label} → {describe(expect(rules, p, now).reached, names)}"
        )


@audit.command("runs")
@click.option("--nombre", "limit", type=click.IntRange(1, 500), default=20, show_default=True)
@context.with_app
def runs(limit: int) -> None:
    """Les derniers audits."""
    app = context.app()
    store = app.audit_store()
    zone = app.rules.current.tz
    found = store.runs(limit=limit)
    if not found:
        click.echo("Aucun audit enregistré.")
        return
    for item in found:
        when = item.started_at.astimezone(zone).strftime("%d/%m/%Y %H:%M")
        counts = f"{len(item.results)} parcours, {len(item.failed)} en échec"
        click.echo(
            f"{item.id}  {when}  {TRIGGER_FR[item.trigger]:<30} "
            f"{RUN_STATUS_FR[item.status]:<10} {counts}"
        )


@audit.command("report")
@click.option("--run", "run_id", metavar="ID", help="Le rapport d'un audit (voir « audit runs »).")
@click.option("--month", metavar="AAAA-MM", help="Le rapport d'un mois.")
@click.option("--sans-pdf", "no_pdf", is_flag=True, help="HTML seulement.")
@context.with_app
def report(run_id: str | None, month: str | None, no_pdf: bool) -> None:
    """Rapport « audit interne de l'accueil téléphonique » (HTML et PDF)."""
    app = context.app()
    if (run_id is None) == (month is None):
        raise click.UsageError("donnez --run ID ou --month AAAA-MM")
    writer = app.audit_report_writer(pdf=not no_pdf)
    if run_id is not None:
        found = app.audit_store().run(run_id)
        if found is None:
            raise click.ClickException(f"aucun audit « {run_id} » (voir « decroche audit runs »)")
        files = writer.run_report(found)
    else:
        assert month is not None
        try:
            year, number = (int(part) for part in month.split("-"))
            datetime(year, number, 1)
        except ValueError:
            raise click.BadParameter(
                f"« {month} » n'est pas un mois (AAAA-MM)", param_hint="--month"
            ) from None
        files = writer.month_report(year, number)
    for file in files:
        click.echo(f"Rapport : {file}")

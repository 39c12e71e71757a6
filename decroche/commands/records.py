"""``decroche import queue-log``, ``decroche purge`` and ``decroche db``: what IT runs on the call
records database (the configuration's, or ``--db``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import click

from decroche.app import AppError
from decroche.commands import context
from routing_rules.messages import agreeing, counted
from telephony.records.errors import RecordsError


@click.group("import")
def import_group() -> None:
    """Importer des appels d'un autre système."""


@import_group.command("queue-log")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@context.with_app
def import_queue_log(file: Path) -> None:
    """Importer FILE, un queue_log d'Asterisk (réimporter le même fichier ne duplique rien)."""
    from telephony.records.queue_log import QueueLogParser

    store = context.app().store(create=True)
    parser = QueueLogParser()
    try:
        with file.open("rb") as lines:  # decoded line by line: UTF-8, else Windows-1252
            result = store.import_records(parser.parse(lines))
    except RecordsError as exc:
        raise AppError(f"import de {file} interrompu : {exc}") from exc
    report = parser.report
    read = counted(report.lines, "ligne lue", "lignes lues")
    click.echo(f"{file} : {read}, {counted(report.calls, 'appel trouvé', 'appels trouvés')}.")
    imported = counted(result.inserted, "appel importé", "appels importés")
    click.echo(f"{imported}, {counted(result.already_present, 'déjà présent', 'déjà présents')}.")
    if report.unfinished_calls:
        click.echo(
            counted(
                report.unfinished_calls,
                "appel inachevé enregistré « interrompu ».",
                "appels inachevés enregistrés « interrompu ».",
            )
        )
    if report.waits_from_timestamps:
        click.echo(
            counted(report.waits_from_timestamps, "attente calculée", "attentes calculées")
            + " sur les horodatages des lignes : le holdtime ou le waittime d'Asterisk manquait."
        )
    if report.rebuilt_entries:
        click.echo(
            counted(
                report.rebuilt_entries,
                "entrée reconstituée sans son ENTERQUEUE.",
                "entrées reconstituées sans leur ENTERQUEUE.",
            )
        )
    if report.recoded_lines:
        n, first = report.recoded_lines, report.first_recoded_line
        where = f"ligne {first}" if n < 2 else f"la première : ligne {first}"
        click.echo(
            f"{counted(n, 'ligne hors UTF-8', 'lignes hors UTF-8')} ({where})"
            f" {agreeing(n, 'lue', 'lues')} en Windows-1252 (latin-1), l'encodage"
            " qu'écrit Asterisk sur un système qui n'est pas en UTF-8."
        )
    for call_id, why in result.rejected:
        click.echo(f"Appel {call_id} refusé par la base, non importé : {why}")
    if report.malformed_count:
        ignored = counted(
            report.malformed_count, "ligne mal formée ignorée", "lignes mal formées ignorées"
        )
        click.echo(f"{ignored} :")
        for bad in report.malformed[:50]:
            click.echo(f"  ligne {bad.line} : {bad.reason}")
        if report.malformed_count > 50:
            click.echo(f"  … et {counted(report.malformed_count - 50, 'autre')}.")


@click.command("purge")
@click.option(
    "--before",
    "before",
    metavar="AAAA-MM-JJ",
    help="Supprimer le détail des appels antérieurs à ce jour (défaut : durée de conservation).",
)
@context.with_app
def purge(before: str | None) -> None:
    """Supprimer le détail des appels anciens en gardant les indicateurs (agrégats par jour)."""
    maintenance = context.app().maintenance()
    now = datetime.now(UTC)
    if before is None:
        cutoff = maintenance.retention_cutoff(now)
    else:
        try:
            cutoff = date.fromisoformat(before)
        except ValueError as exc:
            raise click.BadParameter(
                f"date attendue AAAA-MM-JJ, reçu « {before} »", param_hint="--before"
            ) from exc
    try:
        result = maintenance.purge(cutoff, now)
    except RecordsError as exc:
        raise AppError(f"purge interrompue : {exc}") from exc
    day = f"{cutoff:%d/%m/%Y}"  # as a French reader writes a date
    deleted = counted(
        result.calls_deleted,
        f"appel antérieur au {day} supprimé",
        f"appels antérieurs au {day} supprimés",
    )
    kept = counted(
        result.aggregate_rows,
        "ligne d'indicateurs journaliers conservée",
        "lignes d'indicateurs journaliers conservées",
    )
    click.echo(f"{deleted} ; {kept}.")


@click.group("db")
def db() -> None:
    """Base des appels : schéma et état."""


@db.command("upgrade")
@context.with_app
def upgrade() -> None:
    """Créer la base ou mettre son schéma à jour (migrations)."""
    from telephony.records.engine import current_revision

    database = context.app().database(create=True)
    try:
        revision = current_revision(database.engine)
    except RecordsError as exc:
        raise AppError(str(exc)) from exc
    click.echo(f"Schéma à jour (révision {revision}).")


@db.command("status")
@context.with_app
def status() -> None:
    """Afficher la révision du schéma et le nombre d'appels enregistrés."""
    app = context.app()
    missing = app.database_missing()
    if missing is not None:
        click.echo(f"La base {missing} n'existe pas : « decroche db upgrade » la crée.")
        return
    revision, count = app.schema_status()
    if revision is None:
        click.echo("Base vide : lancer « decroche db upgrade ».")
    else:
        recorded = counted(count or 0, "appel enregistré", "appels enregistrés")
        click.echo(f"Révision {revision} ; {recorded}.")

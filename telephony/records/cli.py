"""``decroche import queue-log``, ``decroche purge`` and ``decroche db``: what IT runs.

Messages are in French (read by the town's IT); the database defaults to the configuration's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import click

from telephony.records.errors import RecordsError


def _database_url(db: str | None, config_path: Path | None) -> tuple[str, Path, str, int]:
    from decroche.config import ConfigError, load_config

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    return (
        db or config.database_url(),
        config.data_dir,
        config.storage.pseudonym_secret.get_secret_value(),
        config.storage.retention_months,
    )


_DB = click.option("--db", "db", metavar="URL", help="Base des appels (défaut : configuration).")
_CONFIG = click.option(
    "--config", "config_path", type=click.Path(path_type=Path), default=None, help="Fichier YAML."
)


@click.group("import")
def import_group() -> None:
    """Importer des appels d'un autre système."""


@import_group.command("queue-log")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_DB
@_CONFIG
def import_queue_log(file: Path, db: str | None, config_path: Path | None) -> None:
    """Importer un fichier queue_log d'Asterisk (réimporter le même fichier ne duplique rien)."""
    from telephony.records.engine import open_store
    from telephony.records.pseudonym import pseudonymiser_from_config
    from telephony.records.queue_log import QueueLogParser
    from telephony.records.store import RecordStore

    url, data_dir, secret, _ = _database_url(db, config_path)
    try:
        database = open_store(url)
        store = RecordStore(database, pseudonymiser_from_config(secret, data_dir))
        parser = QueueLogParser()
        with file.open("rb") as lines:  # decoded line by line: UTF-8, else Windows-1252
            result = store.import_records(parser.parse(lines))
        database.dispose()
    except RecordsError as exc:
        raise click.ClickException(str(exc)) from exc
    report = parser.report
    click.echo(f"{file} : {report.lines} ligne(s) lue(s), {report.calls} appel(s) trouvé(s).")
    click.echo(f"{result.inserted} appel(s) importé(s), {result.already_present} déjà présent(s).")
    if report.unfinished_calls:
        click.echo(f"{report.unfinished_calls} appel(s) inachevé(s) enregistré(s) « interrompu ».")
    if report.rebuilt_entries:
        click.echo(f"{report.rebuilt_entries} entrée(s) reconstituée(s) sans leur ENTERQUEUE.")
    if report.recoded_lines:
        click.echo(
            f"{report.recoded_lines} ligne(s) hors UTF-8 (la première : ligne"
            f" {report.first_recoded_line}) lue(s) en Windows-1252 (latin-1), l'encodage"
            " qu'écrit Asterisk sur un système qui n'est pas en UTF-8."
        )
    for call_id, why in result.rejected:
        click.echo(f"Appel {call_id} refusé par la base, non importé : {why}")
    if report.malformed_count:
        click.echo(f"{report.malformed_count} ligne(s) mal formée(s) ignorée(s) :")
        for bad in report.malformed[:50]:
            click.echo(f"  ligne {bad.line} : {bad.reason}")
        if report.malformed_count > 50:
            click.echo(f"  … et {report.malformed_count - 50} autre(s).")


@click.command("purge")
@click.option(
    "--before",
    "before",
    metavar="AAAA-MM-JJ",
    help="Supprimer le détail des appels antérieurs à cette date (défaut : durée de conservation).",
)
@_DB
@_CONFIG
def purge(before: str | None, db: str | None, config_path: Path | None) -> None:
    """Supprimer le détail des appels anciens en gardant les indicateurs (agrégats par jour)."""
    from telephony.records.engine import open_store
    from telephony.records.retention import purge as run_purge
    from telephony.records.retention import retention_cutoff

    url, _data_dir, _secret, months = _database_url(db, config_path)
    now = datetime.now(UTC)
    if before is None:
        cutoff = retention_cutoff(now.date(), months)
    else:
        try:
            cutoff = date.fromisoformat(before)
        except ValueError as exc:
            raise click.BadParameter(f"date attendue AAAA-MM-JJ, reçu {before!r}") from exc
    try:
        database = open_store(url)
        result = run_purge(database, cutoff, now=now)
        database.dispose()
    except RecordsError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{result.calls_deleted} appel(s) antérieur(s) au {cutoff.isoformat()} supprimé(s) ; "
        f"{result.aggregate_rows} ligne(s) d'indicateurs journaliers conservée(s)."
    )


@click.group("db")
def db() -> None:
    """Base des appels : schéma et état."""


@db.command("upgrade")
@_DB
@_CONFIG
def upgrade(db: str | None, config_path: Path | None) -> None:
    """Mettre le schéma de la base à jour (migrations)."""
    from telephony.records.engine import current_revision, open_store

    url, *_ = _database_url(db, config_path)
    try:
        database = open_store(url)
        revision = current_revision(database.engine)
        database.dispose()
    except RecordsError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Schéma à jour (révision {revision}).")


@db.command("status")
@_DB
@_CONFIG
def status(db: str | None, config_path: Path | None) -> None:
    """Afficher la révision du schéma et le nombre d'appels enregistrés."""
    from sqlalchemy import func, select

    from telephony.records import schema as t
    from telephony.records.engine import current_revision, open_store

    url, *_ = _database_url(db, config_path)
    try:
        database = open_store(url, upgrade=False)
        try:
            revision = current_revision(database.engine)
            count = None
            if revision is not None:
                with database.engine.connect() as conn:
                    count = conn.execute(select(func.count()).select_from(t.calls)).scalar_one()
        finally:
            database.dispose()
    except RecordsError as exc:
        raise click.ClickException(str(exc)) from exc
    if revision is None:
        click.echo("Base vide : lancer « decroche db upgrade ».")
    else:
        click.echo(f"Révision {revision} ; {count} appel(s) enregistré(s).")

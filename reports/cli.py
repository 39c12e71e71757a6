"""``decroche report``, ``decroche users`` and ``decroche web``.

``web`` is a small composition root of its own (database, indicators, in-memory live feed and
presence) for running the pages without the router; ``decroche serve`` builds the same app with
the router's live feed and presence.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from reports.errors import ReportsError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from telephony.records.engine import Database

PARIS = ZoneInfo("Europe/Paris")

db_option = click.option(
    "--db", "db", metavar="URL", help="Call records database (default: configuration)."
)
config_option = click.option(
    "--config", "config_path", type=click.Path(path_type=Path), default=None
)


@dataclass(slots=True)
class _Settings:
    url: str
    data_dir: Path
    pseudonym_secret: str


def _settings(db: str | None, config_path: Path | None) -> _Settings:
    from decroche.config import ConfigError, load_config

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    return _Settings(
        db or config.database_url(),
        config.data_dir,
        config.storage.pseudonym_secret.get_secret_value(),
    )


@contextmanager
def _database(url: str) -> Iterator[Database]:
    from reports.accounts import upgrade_web_schema
    from telephony.records.engine import open_store
    from telephony.records.errors import RecordsError

    try:
        database = open_store(url)
    except RecordsError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:  # e.g. the SQLite file's folder cannot be created
        raise click.ClickException(f"cannot open the database {url}: {exc}") from exc
    try:
        upgrade_web_schema(database.engine)
        yield database
    except ReportsError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        database.dispose()


def _progress(total: int) -> Callable[[str], None]:
    """A long report shows each step on the terminal (stderr: stdout lists the files)."""
    done = [0]

    def step(label: str) -> None:
        done[0] += 1
        click.echo(f"[{done[0]}/{total}] {label}…", err=True)

    return step


# --- report ------------------------------------------------------------------------------


@click.group("report")
def report() -> None:
    """Bilan mensuel et bilan annuel (HTML et PDF)."""


def _generate(
    database: Database,
    kind: str,
    period_text: str | None,
    out: Path,
    pdf: bool,
    force: bool,
    town: str,
) -> None:
    from analytics.api import Indicators
    from analytics.sources import DatabaseSource
    from reports.documents import ReportSettings, build_report, write_report
    from reports.periods import month_period, previous_month, year_period
    from reports.schedule import ReportLedger

    now = datetime.now(UTC)
    today = now.astimezone(PARIS).date()
    if kind == "monthly":
        period = month_period(period_text, "--month") if period_text else previous_month(today)
        key = period.month_key
    else:
        period = year_period(period_text or today.year - 1, "--year")
        key = str(period.start.year)
    ledger = ReportLedger(database.engine)
    claimed = ledger.claim(kind, key, now=now)
    if not claimed and not force:
        raise click.ClickException(
            f"the {kind} report {key} was already generated (or is being generated); "
            "--force to write it again"
        )
    step = _progress(7 if pdf else 6)
    try:
        document = build_report(
            Indicators(DatabaseSource(database)),
            period,
            kind,
            database=database,
            settings=ReportSettings(town=town),
            generated_at=now,
            progress=step,
        )
        files = write_report(document, out, pdf=pdf, progress=step)
    except BaseException:
        if claimed:
            ledger.release(kind, key)
        raise
    ledger.done(kind, key, files, now=now)
    for path in files:
        click.echo(str(path))


_out = click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("rapports"),
    show_default=True,
)
_pdf = click.option("--pdf/--no-pdf", default=True, show_default=True)
_force = click.option("--force", is_flag=True, help="Write it again even if already generated.")
_town = click.option("--town", default="Ville de Bernay", show_default=True)


def _write_report(
    kind: str,
    when: str | None,
    db: str | None,
    config_path: Path | None,
    out: Path,
    pdf: bool,
    force: bool,
    town: str,
) -> None:
    settings = _settings(db, config_path)
    try:
        with _database(settings.url) as database:
            _generate(database, kind, when, out, pdf, force, town)
    except ReportsError as exc:
        raise click.ClickException(str(exc)) from exc


@report.command("monthly")
@click.option("--month", metavar="YYYY-MM", help="Default: last month.")
@db_option
@config_option
@_out
@_pdf
@_force
@_town
def monthly(
    month: str | None,
    db: str | None,
    config_path: Path | None,
    out: Path,
    pdf: bool,
    force: bool,
    town: str,
) -> None:
    """Écrit le bilan mensuel d'un mois (HTML et PDF)."""
    _write_report("monthly", month, db, config_path, out, pdf, force, town)


@report.command("annual")
@click.option("--year", metavar="YYYY", help="Default: last year.")
@db_option
@config_option
@_out
@_pdf
@_force
@_town
def annual(
    year: str | None,
    db: str | None,
    config_path: Path | None,
    out: Path,
    pdf: bool,
    force: bool,
    town: str,
) -> None:
    """Écrit le bilan annuel d'une année (HTML et PDF)."""
    _write_report("annual", year, db, config_path, out, pdf, force, town)


@report.command("due")
@db_option
@config_option
@_out
@_town
def due(db: str | None, config_path: Path | None, out: Path, town: str) -> None:
    """Produit les bilans mensuels dus (ce que fait le planificateur le 1er à 6 h)."""
    from reports.jobs import MonthlyReportJob

    settings = _settings(db, config_path)
    with _database(settings.url) as database:
        job = MonthlyReportJob(database, out, town=town)
        for month in job():
            click.echo(f"bilan mensuel {month.month_key} produit")


# --- users -------------------------------------------------------------------------------


@click.group("users")
def users() -> None:
    """Comptes du tableau de bord (qualité, informatique, agents)."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise click.ClickException("no password on standard input")
        return line
    value: str = click.prompt("Mot de passe", hide_input=True, confirmation_prompt=True)
    return value


@users.command("add")
@click.argument("login")
@click.option("--role", required=True, type=click.Choice(["quality", "it", "agent"]))
@click.option(
    "--services", default=None, help="Agents: services answered for, e.g. ccas,etat_civil"
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@db_option
@config_option
def users_add(
    login: str,
    role: str,
    services: str | None,
    password_stdin: bool,
    db: str | None,
    config_path: Path | None,
) -> None:
    """Crée un compte (mot de passe demandé, ou lu sur l'entrée standard)."""
    from reports.accounts import AccountStore, parse_services

    settings = _settings(db, config_path)
    try:
        parsed = parse_services(services)
        password = _read_password(password_stdin)
        with _database(settings.url) as database:
            user = AccountStore(database.engine).add_user(
                login, password, role, parsed, now=datetime.now(UTC)
            )
    except ReportsError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"compte {user.login} créé ({user.role.value})")


@users.command("list")
@db_option
@config_option
def users_list(db: str | None, config_path: Path | None) -> None:
    """Liste les comptes."""
    from reports.accounts import AccountStore

    settings = _settings(db, config_path)
    with _database(settings.url) as database:
        for user in AccountStore(database.engine).users():
            click.echo(f"{user.login}\t{user.role.value}\t{','.join(user.services)}")


@users.command("remove")
@click.argument("login")
@db_option
@config_option
def users_remove(login: str, db: str | None, config_path: Path | None) -> None:
    """Supprime un compte (et ferme ses sessions)."""
    from reports.accounts import AccountStore

    settings = _settings(db, config_path)
    try:
        with _database(settings.url) as database:
            AccountStore(database.engine).remove_user(login)
    except ReportsError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"compte {login} supprimé")


@users.command("passwd")
@click.argument("login")
@click.option("--password-stdin", is_flag=True)
@db_option
@config_option
def users_passwd(
    login: str, password_stdin: bool, db: str | None, config_path: Path | None
) -> None:
    """Change le mot de passe d'un compte (ses sessions sont fermées)."""
    from reports.accounts import AccountStore

    settings = _settings(db, config_path)
    try:
        password = _read_password(password_stdin)
        with _database(settings.url) as database:
            AccountStore(database.engine).set_password(login, password)
    except ReportsError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"mot de passe de {login} changé")


# --- web ---------------------------------------------------------------------------------


@click.command("web")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--reports-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("rapports"),
    show_default=True,
)
@db_option
@config_option
def web(host: str, port: int, reports_dir: Path, db: str | None, config_path: Path | None) -> None:
    """Sert le tableau de bord (sans le routeur : la vue en direct reste vide)."""
    from aiohttp import web as aioweb

    from analytics.api import Indicators
    from analytics.sources import DatabaseSource
    from reports.accounts import AccountStore
    from reports.live import InMemoryLiveFeed
    from reports.presence import InMemoryAgentPresence
    from reports.web import WebDeps, create_app
    from telephony.records.pseudonym import pseudonymiser_from_config
    from telephony.records.store import RecordStore

    settings = _settings(db, config_path)
    with _database(settings.url) as database:
        source = DatabaseSource(database)
        deps = WebDeps(
            database=database,
            indicators=Indicators(source),
            source=source,
            accounts=AccountStore(database.engine),
            live=InMemoryLiveFeed(),
            presence=InMemoryAgentPresence(),
            callbacks=RecordStore(
                database,
                pseudonymiser_from_config(settings.pseudonym_secret, settings.data_dir),
            ),
            reports_dir=reports_dir,
        )
        aioweb.run_app(create_app(deps), host=host, port=port, print=None)

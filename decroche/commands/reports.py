"""``decroche report``, ``decroche users`` and ``decroche web``.

Reports are made by the composition root's parts (:meth:`decroche.app.App.report_sources`): the
configured town and objectives, the services' names and time zone of the rules in force — the
same as the dashboard and the monthly job of ``decroche serve``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from decroche.app import App, AppError
from decroche.commands import context
from reports.errors import ReportsError

if TYPE_CHECKING:
    from reports.accounts import AccountStore


def _web_tables(app: App) -> App:
    """The app, its web tables (accounts, sessions, report ledger) created or upgraded."""
    from reports.accounts import upgrade_web_schema

    upgrade_web_schema(app.database().engine)
    return app


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


def _write_report(kind: str, when: str | None, out: Path | None, pdf: bool, force: bool) -> None:
    from decroche.app import ReportAlreadyMade
    from reports.documents import BUILD_STEPS
    from reports.periods import month_period, previous_month, year_period

    app = context.app()
    today = datetime.now(UTC).astimezone(app.report_settings().zone).date()
    if kind == "monthly":
        period = month_period(when, "--month") if when else previous_month(today)
    else:
        period = year_period(when or today.year - 1, "--year")
    step = _progress(BUILD_STEPS + (1 if pdf else 0))
    try:
        files = app.make_report(kind, period, force=force, pdf=pdf, out=out, progress=step)
    except ReportAlreadyMade as exc:
        raise click.ClickException(f"{exc} : --force pour le refaire") from exc
    for path in files:
        click.echo(str(path))


_out = click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DOSSIER",
    help="Dossier des rapports (défaut : <data_dir>/rapports, celui que liste le tableau de bord).",
)
_pdf = click.option("--pdf/--no-pdf", default=True, show_default=True, help="Écrire aussi le PDF.")
_force = click.option("--force", is_flag=True, help="Refaire le bilan même s'il est déjà produit.")


def _reports_errors(write: Callable[[], None]) -> None:
    try:
        write()
    except ReportsError as exc:
        raise AppError(str(exc)) from exc


@report.command("monthly")
@click.option("--month", metavar="AAAA-MM", help="Le mois (défaut : le mois dernier).")
@context.with_app
@_out
@_pdf
@_force
def monthly(month: str | None, out: Path | None, pdf: bool, force: bool) -> None:
    """Écrit le bilan mensuel d'un mois (HTML et PDF)."""
    _reports_errors(lambda: _write_report("monthly", month, out, pdf, force))


@report.command("annual")
@click.option("--year", metavar="AAAA", help="L'année (défaut : l'année dernière).")
@context.with_app
@_out
@_pdf
@_force
def annual(year: str | None, out: Path | None, pdf: bool, force: bool) -> None:
    """Écrit le bilan annuel d'une année (HTML et PDF)."""
    _reports_errors(lambda: _write_report("annual", year, out, pdf, force))


@report.command("due")
@context.with_app
@_out
def due(out: Path | None) -> None:
    """Produit les bilans mensuels dus (ce que fait le planificateur le 1er à 6 h)."""
    from reports.errors import ReportsOwed, of

    try:
        months = [m.label_fr for m in context.app().monthly_report_job(out)()]
    except ReportsOwed as exc:
        months = exc.generated
        for month in months:
            click.echo(f"bilan mensuel {of(month)} produit")
        raise click.ClickException(str(exc)) from exc
    for month in months:
        click.echo(f"bilan mensuel {of(month)} produit")


# --- users -------------------------------------------------------------------------------


@click.group("users")
def users() -> None:
    """Comptes du tableau de bord (qualité, informatique, agents)."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise click.ClickException("aucun mot de passe sur l'entrée standard")
        return line
    value: str = click.prompt("Mot de passe", hide_input=True, confirmation_prompt=True)
    return value


def _accounts(create: bool = False) -> AccountStore:
    from reports.accounts import AccountStore, upgrade_web_schema

    database = context.app().database(create=create)
    upgrade_web_schema(database.engine)
    return AccountStore(database.engine)


@users.command("add")
@click.argument("login")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["quality", "it", "agent"]),
    help="quality : responsable qualité ; it : informatique ; agent : agent d'accueil.",
)
@click.option(
    "--services",
    default=None,
    metavar="ID,ID…",
    help="Agents : les services auxquels ils répondent, p. ex. ccas,etat_civil.",
)
@click.option("--password-stdin", is_flag=True, help="Lire le mot de passe sur l'entrée standard.")
@context.with_app
def users_add(login: str, role: str, services: str | None, password_stdin: bool) -> None:
    """Crée le compte LOGIN (mot de passe demandé, ou lu sur l'entrée standard)."""
    from reports.accounts import parse_services

    def add() -> None:
        parsed = parse_services(services)
        password = _read_password(password_stdin)
        user = _accounts(create=True).add_user(login, password, role, parsed, now=datetime.now(UTC))
        click.echo(f"compte {user.login} créé ({user.role.value})")

    _reports_errors(add)


@users.command("list")
@context.with_app
def users_list() -> None:
    """Liste les comptes (identifiant, rôle, services)."""
    for user in _accounts().users():
        click.echo(f"{user.login}\t{user.role.value}\t{','.join(user.services)}")


@users.command("remove")
@click.argument("login")
@context.with_app
def users_remove(login: str) -> None:
    """Supprime le compte LOGIN (et ferme ses sessions)."""
    _reports_errors(lambda: _accounts().remove_user(login))
    click.echo(f"compte {login} supprimé")


@users.command("passwd")
@click.argument("login")
@click.option("--password-stdin", is_flag=True, help="Lire le mot de passe sur l'entrée standard.")
@context.with_app
def users_passwd(login: str, password_stdin: bool) -> None:
    """Change le mot de passe du compte LOGIN (ses sessions sont fermées)."""

    def change() -> None:
        password = _read_password(password_stdin)
        _accounts().set_password(login, password)

    _reports_errors(change)
    click.echo(f"mot de passe de {login} changé")


# --- web ---------------------------------------------------------------------------------


@click.command("web")
@click.option("--host", default=None, help="Adresse d'écoute (défaut : web.host).")
@click.option(
    "--port", default=None, type=click.IntRange(1, 65535), metavar="PORT", help="défaut : web.port"
)
@context.with_app
def web(host: str | None, port: int | None) -> None:
    """Sert le tableau de bord (sans le routeur : la vue en direct reste vide)."""
    from aiohttp import web as aioweb

    from decroche.web import port_refusal
    from reports.live import InMemoryLiveFeed
    from reports.web import create_app

    app = _web_tables(context.app())
    deps = app.web_deps(None, InMemoryLiveFeed())
    config = app.config.web
    host, port = host or config.host, port or config.port
    try:
        aioweb.run_app(create_app(deps), host=host, port=port, print=None)
    except OSError as exc:  # the port: any other I/O failure is raised by the app itself
        raise AppError(port_refusal(host, port, exc)) from exc

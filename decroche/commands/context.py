"""What every command shares: ``--config`` and ``--db`` (defined here, once), and the built
:class:`~decroche.app.App` passed through the click context.

Both options are accepted before the command (``decroche --config F report monthly``) or after
it (``decroche report monthly --config F``). They only record what was given; the app is built
on first use by :func:`app`, so a command that needs no database never opens one, and it is
closed when the command ends. :class:`~decroche.app.AppError` and
:class:`~decroche.config.ConfigError` become one French error line and exit code 1 (see
:class:`CommandGroup`), never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from decroche.errors import AppError, ConfigError

if TYPE_CHECKING:
    from decroche.app import App

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(slots=True)
class Choices:
    """The command line's ``--config`` and ``--db``, and the app once built."""

    config_path: Path | None = None
    database_url: str | None = None
    built: App | None = None


def _remember(attribute: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is not None:
            setattr(ctx.ensure_object(Choices), attribute, value)

    return callback


config_option = click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FICHIER",
    expose_value=False,
    callback=_remember("config_path"),
    help="Fichier de configuration (YAML) ; les secrets viennent de l'environnement.",
)
db_option = click.option(
    "--db",
    metavar="URL",
    expose_value=False,
    callback=_remember("database_url"),
    help="Base des appels, à la place de celle de la configuration.",
)


def with_period(command: F) -> F:
    """``--from`` and ``--to`` (local dates, both included), as ``start`` and ``end``."""
    command = click.option(
        "--to", "end", required=True, metavar="AAAA-MM-JJ", help="Dernier jour (inclus)."
    )(command)
    return click.option(
        "--from", "start", required=True, metavar="AAAA-MM-JJ", help="Premier jour."
    )(command)


queue_log_option = click.option(
    "--queue-log",
    "queue_log",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FICHIER",
    help="Calculer depuis un fichier queue_log d'Asterisk au lieu de la base des appels.",
)
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Un seul objet JSON (services par identifiant)."
)
rings_option = click.option(
    "--rings",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Engagement en N sonneries (par défaut celui des objectifs de la configuration : « en "
    "5 sonneries », ou sa formulation « avant la Ne sonnerie »).",
)


def with_config(command: F) -> F:
    """``--config`` (the command reads no database)."""
    return config_option(command)


def with_app(command: F) -> F:
    """``--config`` and ``--db``."""
    return config_option(db_option(command))


def app() -> App:
    """The app of the running command, built once from its ``--config`` and ``--db``."""
    ctx = click.get_current_context()
    choices = ctx.ensure_object(Choices)
    if choices.built is None:
        if choices.config_path is not None and not choices.config_path.is_file():
            raise AppError(f"le fichier de configuration {choices.config_path} n'existe pas")
        from decroche.app import App  # here: --help and the rules' commands need no App

        built = App.load(choices.config_path, database_url=choices.database_url)
        choices.built = built
        ctx.find_root().call_on_close(built.close)
    return choices.built


def database_given() -> bool:
    """Whether ``--db`` was given (for the options it excludes)."""
    return click.get_current_context().ensure_object(Choices).database_url is not None


class CommandGroup(click.Group):
    """A group whose commands' :class:`AppError` and :class:`ConfigError` are one French error
    line and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (AppError, ConfigError) as exc:
            raise click.ClickException(str(exc)) from exc

"""The ``decroche`` command: the group, its shared options, and the lazy loading of its
subcommands (:mod:`decroche.commands`)."""

from __future__ import annotations

import importlib
from typing import Any

import click

from decroche import startup
from decroche.commands import COMMANDS, SUMMARIES, context, french

french.install()


class _LazyGroup(context.CommandGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target
        command: Any = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        # The command's code is loaded: what it makes from here is its work (decroche/startup.py).
        startup.resume_collection()
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The summaries are written here, so that --help imports no command's module.
        rows = [(name, SUMMARIES.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commandes"):
            formatter.write_dl(rows)


@click.group(cls=_LazyGroup, subcommand_metavar="COMMANDE [ARGS]...")
@click.version_option(package_name="decroche")
@context.with_app
def main() -> None:
    """decroche — la téléphonie de l'accueil de la mairie (Asterisk ARI).

    --config et --db se donnent avant ou après la commande.
    """


def run() -> None:
    """The ``decroche`` program (its console script and ``python -m decroche``): the command
    group, the garbage collector paused while the command starts (decroche/startup.py)."""
    startup.pause_collection()
    main()

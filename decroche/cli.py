"""The ``decroche`` command.

Subcommands live next to the code they drive and are loaded lazily, so ``decroche --help`` does
not import the web stack, SQLAlchemy or the simulator.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

# name -> (module, attribute): each is a click command or group owned by its package.
_COMMANDS: dict[str, tuple[str, str]] = {
    "sim": ("telephony.simulator.cli", "sim"),
    "demo": ("decroche.demo", "demo"),
    "whatif": ("decroche.whatif_cli", "whatif"),
    "serve": ("decroche.serve", "serve"),
    "rules": ("routing_rules.cli", "rules"),
    "prompts": ("ivr_prompts.cli", "prompts"),
    "import": ("telephony.records.cli", "import_group"),
    "purge": ("telephony.records.cli", "purge"),
    "db": ("telephony.records.cli", "db"),
    "indicators": ("analytics.cli", "indicators"),
    "survey": ("analytics.survey_cli", "survey"),
    "report": ("reports.cli", "report"),
    "users": ("reports.cli", "users"),
    "web": ("reports.cli", "web"),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in _COMMANDS if self._load(name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = _COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # A subcommand whose module is not part of this build is simply not offered; any
            # other import error is a bug and must surface.
            if exc.name is not None and module_name.startswith(exc.name):
                return None
            raise
        command: Any = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_LazyGroup)
@click.version_option(package_name="decroche")
def main() -> None:
    """decroche — la téléphonie de l'accueil de la mairie (Asterisk ARI)."""

"""``decroche rules``: check a rules file, simulate a call, publish the JSON Schema."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from routing_rules.errors import RoutingInputError, RulesInvalid
from routing_rules.loader import default_rules_path, load_rules
from routing_rules.routing import CallFacts

_FILE = click.Path(dir_okay=False, path_type=Path)


def _catalogue(path: Path | None) -> dict[str, str]:
    from ivr_prompts.catalogue import CatalogueError, load_catalogue

    try:
        return load_catalogue(path)
    except (OSError, CatalogueError) as exc:
        raise click.ClickException(f"prompt catalogue: {exc}") from exc


@click.group()
def rules() -> None:
    """Règles de routage : vérifier, simuler un appel, schéma JSON."""


@rules.command()
@click.argument("file", type=_FILE, required=False)
@click.option("--catalogue", type=_FILE, default=None, help="Prompt catalogue (default: fr.yaml).")
def check(file: Path | None, catalogue: Path | None) -> None:
    """Vérifie FILE (par défaut les règles de Bernay) ; chaque erreur en FICHIER:LIGNE:COL."""
    path = file or default_rules_path()
    try:
        compiled = load_rules(path, _catalogue(catalogue))
    except RulesInvalid as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{path}: {len(exc.problems)} error(s), rules refused", err=True)
        sys.exit(1)
    click.echo(
        f"{path}: OK (version {compiled.version}): {len(compiled.services)} services,"
        f" {len(compiled.menus)} menus, {len(compiled.entry)} entry routes,"
        f" {len(compiled.schedules)} schedules, {len(compiled.surveys)} surveys"
    )


@rules.command(context_settings={"show_default": True})
@click.argument("file", type=_FILE)
@click.argument("more_keys", nargs=-1, metavar="[KEY]...")
@click.option("--at", "at", default=None, help="Local time of the call, e.g. 2026-12-24T17:45.")
@click.option("--keys", "keys", multiple=True, help="Keys pressed, in order: --keys 2 1.")
@click.option("--number", "dialled", default="", help="Dialled number (default: any).")
@click.option("--caller", "caller", default="0612345678", help="Caller's number.")
@click.option(
    "--agents-state",
    "agents_state",
    multiple=True,
    help="ENDPOINT=STATE[,...]: a device state (INUSE, UNAVAILABLE...) or paused[@service],"
    " signed_out[@service]. Others are idle and signed in.",
)
@click.option("--catalogue", type=_FILE, default=None, help="Prompt catalogue (default: fr.yaml).")
def simulate(
    file: Path,
    more_keys: tuple[str, ...],
    at: str | None,
    keys: tuple[str, ...],
    dialled: str,
    caller: str,
    agents_state: tuple[str, ...],
    catalogue: Path | None,
) -> None:
    """Trace le parcours d'un appel : menus, service, qui sonne, débordements et pourquoi."""
    from routing_rules.simulate import parse_agents_state
    from routing_rules.simulate import simulate as run

    try:
        compiled = load_rules(file, _catalogue(catalogue))
    except RulesInvalid as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    if at is None:
        moment = datetime.now(compiled.tz)
    else:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            raise click.BadParameter(f"{at!r} is not a date and time", param_hint="--at") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=compiled.tz)
    pressed = [k for group in (*keys, *more_keys) for k in group.split()]
    try:
        view = parse_agents_state(compiled, agents_state)
        lines = run(
            compiled,
            at=moment,
            dialled=dialled,
            keys=pressed,
            agents=view,
            facts=CallFacts(caller_number=caller or None),
        )
    except RoutingInputError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in lines:
        click.echo(line)


@rules.command()
@click.option("--write", is_flag=True, help="Write routing_rules/schema.json instead of printing.")
def schema(write: bool) -> None:
    """Le schéma JSON des règles (pour les éditeurs)."""
    from routing_rules.model import json_schema

    text = json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"
    if write:
        target = Path(__file__).with_name("schema.json")
        target.write_text(text, encoding="utf-8")
        click.echo(f"wrote {target}")
    else:
        click.echo(text, nl=False)

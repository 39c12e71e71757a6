"""``decroche rules``: check a rules file, trace a call through it, publish the JSON Schema.

No database: checking and tracing rules needs only the rules (and the prompt catalogue).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from analytics.glossary import number
from decroche.commands import context
from routing_rules.compiled import CompiledRules
from routing_rules.errors import RoutingInputError, RulesInvalid
from routing_rules.loader import load_rules
from routing_rules.messages import agreeing, counted
from routing_rules.routing import CallFacts
from routing_rules.simulate import ALL_ENDINGS, RingEnding

_FILE = click.Path(dir_okay=False, path_type=Path)
_CATALOGUE = click.option(
    "--catalogue",
    type=_FILE,
    default=None,
    metavar="FICHIER",
    help="Catalogue des messages (défaut : ivr_prompts/fr.yaml).",
)


def _catalogue(path: Path | None) -> dict[str, str]:
    from ivr_prompts.catalogue import CatalogueError, load_catalogue

    try:
        return load_catalogue(path)
    except (OSError, CatalogueError) as exc:
        raise click.ClickException(f"catalogue des messages : {exc}") from exc


def _load(path: Path, catalogue: Path | None) -> CompiledRules:
    """The rules of ``path``, or every problem on stderr (file:line:col) and exit code 1."""
    try:
        return load_rules(path, _catalogue(catalogue))
    except RulesInvalid as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{path} : {counted(len(exc.problems), 'erreur')}, règles refusées", err=True)
        sys.exit(1)


@click.group()
def rules() -> None:
    """Règles de routage : vérifier, simuler un appel, schéma JSON."""


@rules.command()
@click.argument("file", type=_FILE, required=False)
@_CATALOGUE
@click.option(
    "--ari",
    "ari_url",
    default=None,
    metavar="URL",
    help="Vérifier aussi auprès d'Asterisk (http://hôte:8088/ari ; utilisateur et mot de passe"
    " de la configuration) que chaque poste des règles existe dans pjsip.conf.",
)
@context.with_config
def check(file: Path | None, catalogue: Path | None, ari_url: str | None) -> None:
    """Vérifie FILE (défaut : les règles de la configuration) ; chaque erreur en
    FICHIER:LIGNE:COLONNE."""
    path = file or context.app().rules_path
    compiled = _load(path, catalogue)
    click.echo(
        f"{path} : règles valides (version {compiled.version}) : "
        f"{counted(len(compiled.services), 'service')}, {counted(len(compiled.menus), 'menu')}, "
        f"{counted(len(compiled.entry), 'route', 'routes')} d'entrée, "
        f"{counted(len(compiled.schedules), 'horaire')}, "
        f"{counted(len(compiled.surveys), 'enquête')}"
    )
    if ari_url is not None:
        _check_phones(compiled, ari_url)


def _check_phones(compiled: CompiledRules, url: str) -> None:
    """The rules' phones against Asterisk's endpoints; exit code 1 if one is unknown."""
    import asyncio

    from telephony.ari.client import AriClient
    from telephony.ari.errors import AriError
    from telephony.flow.phones import endpoint_name, phone_label, phones_of, unknown_phones

    ari = context.app().config.ari

    async def endpoints() -> list[str]:
        async with AriClient(
            url, ari.username, ari.password.get_secret_value(), ari.app, timeout=10.0
        ) as client:
            return [endpoint_name(e) for e in await client.list_endpoints()]

    try:
        known = asyncio.run(endpoints())
    except (AriError, ValueError) as exc:
        raise click.ClickException(f"Asterisk ({url}) injoignable : {exc}") from exc
    named = phones_of(compiled)
    unknown = unknown_phones(compiled, known)
    names = {s.id: s.name for s in compiled.services.values()}
    if not unknown:
        all_known = (
            "le poste des règles est connu"
            if len(named) == 1
            else f"les {number(len(named))} postes des règles sont connus"
        )
        click.echo(f"{url} : {all_known} d'Asterisk")
        return
    for phone in unknown:
        label = phone_label(phone, named[phone], names)
        click.echo(f"{label} : inconnu d'Asterisk (absent de pjsip.conf)", err=True)
    click.echo(
        f"{url} : {counted(len(unknown), 'poste')} des règles sur {number(len(named))} "
        + agreeing(
            len(unknown),
            "inconnu d'Asterisk : il ne sera jamais appelé",
            "inconnus d'Asterisk : ils ne seront jamais appelés",
        ),
        err=True,
    )
    sys.exit(1)


@rules.command(context_settings={"show_default": True})
@click.argument("file", type=_FILE)
@click.argument("more_keys", nargs=-1, metavar="[TOUCHE]...")
@click.option(
    "--at", "at", default=None, metavar="DATE", help="Heure locale de l'appel : 2026-12-24T17:45."
)
@click.option(
    "--keys", "keys", multiple=True, metavar="TOUCHE", help="Touches, dans l'ordre : --keys 2 1."
)
@click.option(
    "--number", "dialled", default="", metavar="NUMÉRO", help="Numéro composé (défaut : tous)."
)
@click.option(
    "--caller", "caller", default="0612345678", metavar="NUMÉRO", help="Numéro de l'appelant."
)
@click.option(
    "--agents-state",
    "agents_state",
    multiple=True,
    metavar="POSTE=ÉTAT[,…]",
    help="Un état de poste (INUSE, UNAVAILABLE…) ou paused[@service], signed_out[@service]."
    " Les autres postes sont libres et connectés.",
)
@click.option(
    "--ring-end",
    "ring_ends",
    multiple=True,
    type=click.Choice([e.value for e in RingEnding]),
    help="Fins de sonnerie sans réponse à suivre (défaut : toutes) : no_answer (personne ne"
    " répond), busy (tous occupés), unreachable (aucun poste joignable).",
)
@_CATALOGUE
def simulate(
    file: Path,
    more_keys: tuple[str, ...],
    at: str | None,
    keys: tuple[str, ...],
    dialled: str,
    caller: str,
    agents_state: tuple[str, ...],
    ring_ends: tuple[str, ...],
    catalogue: Path | None,
) -> None:
    """Trace le parcours d'un appel : menus, service, qui sonne, et chaque suite possible de la
    sonnerie (raccroché, sans réponse, occupé, injoignable), débordements et pourquoi."""
    from routing_rules.simulate import parse_agents_state
    from routing_rules.simulate import simulate as run

    compiled = _load(file, catalogue)
    if at is None:
        moment = datetime.now(compiled.tz)
    else:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            raise click.BadParameter(
                f"« {at} » n'est pas une date et heure (2026-12-24T17:45)", param_hint="--at"
            ) from None
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
            endings=[RingEnding(e) for e in ring_ends] or ALL_ENDINGS,
        )
    except RoutingInputError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in lines:
        click.echo(line)


@rules.command()
@click.option("--write", is_flag=True, help="Écrire routing_rules/schema.json au lieu d'afficher.")
def schema(write: bool) -> None:
    """Le schéma JSON des règles (pour les éditeurs)."""
    from routing_rules.loader import default_rules_path
    from routing_rules.model import json_schema

    text = json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"
    if write:
        target = default_rules_path().with_name("schema.json")
        target.write_text(text, encoding="utf-8")
        click.echo(f"{target} écrit")
    else:
        click.echo(text, nl=False)

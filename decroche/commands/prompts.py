"""``decroche prompts``: build the prompt audio Asterisk plays, and list each prompt's duration."""

from __future__ import annotations

import json
from pathlib import Path

import click

from analytics.glossary import number
from decroche.commands import context
from ivr_prompts.build import (
    MEDIA_PREFIX,
    PromptBuildError,
    build_prompts,
    default_sounds_dir,
    media_durations,
    prompt_durations,
)
from ivr_prompts.catalogue import CatalogueError, load_catalogue
from routing_rules.messages import counted

_CATALOGUE = click.option(
    "--catalogue",
    "catalogue_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    metavar="FICHIER",
    help="Catalogue YAML (défaut : ivr_prompts/fr.yaml).",
)
_OUT = click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DOSSIER",
    help="Dossier des sons (défaut : <data_dir>/sounds/fr/decroche).",
)


def _catalogue(path: Path | None) -> dict[str, str]:
    try:
        return load_catalogue(path)
    except (CatalogueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc


def _sounds_dir(out_dir: Path | None) -> Path:
    return out_dir if out_dir is not None else default_sounds_dir(context.app().config.data_dir)


@click.group("prompts")
def prompts() -> None:
    """Messages vocaux : fabriquer les fichiers audio, connaître leur durée."""


@prompts.command("build")
@_CATALOGUE
@_OUT
@click.option(
    "--recorded",
    "recorded_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    metavar="DOSSIER",
    help="Dossier d'enregistrements <id>.wav qui remplacent la synthèse vocale.",
)
@click.option("--force", is_flag=True, help="Tout refaire, même ce qui est à jour.")
@context.with_config
def build(
    catalogue_path: Path | None, out_dir: Path | None, recorded_dir: Path | None, force: bool
) -> None:
    """Fabriquer les sons manquants ou périmés (WAV 8 kHz et sln16) pour Asterisk."""
    catalogue = _catalogue(catalogue_path)
    sounds_dir = _sounds_dir(out_dir)
    try:
        result = build_prompts(catalogue, sounds_dir, recorded_dir, force=force)
    except PromptBuildError as exc:
        raise click.ClickException(str(exc)) from exc
    plan, report = result.plan, result.report
    for job in report.rendered:
        origin = "enregistrement" if job.source == "recorded" else "synthèse"
        click.echo(f"  {job.prompt_id} ({origin}) : {job.reason}")
    for path in result.ignored:
        click.echo(f"ignoré : {path} (seuls les fichiers .wav sont lus ; convertissez-le)")
    for path in plan.unmatched_recordings:
        click.echo(f"attention : {path.name} ne correspond à aucun message du catalogue")
    for prompt_id in plan.orphans:
        click.echo(f"attention : {prompt_id} n'est plus au catalogue (fichiers conservés)")
    made = counted(len(report.rendered), "message fabriqué", "messages fabriqués")
    click.echo(f"{sounds_dir} : {made}, {number(len(plan.up_to_date))} à jour.")
    if report.failed:
        for job, message in report.failed:
            click.echo(f"échec : {job.prompt_id} : {message}", err=True)
        raise click.ClickException(
            counted(
                len(report.failed),
                "message n'a pas pu être fabriqué",
                "messages n'ont pas pu être fabriqués",
            )
        )


@prompts.command("durations")
@_CATALOGUE
@_OUT
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON {média: secondes}.")
@context.with_config
def durations(catalogue_path: Path | None, out_dir: Path | None, as_json: bool) -> None:
    """Durée de chaque message (mesurée sur le son fabriqué, sinon estimée d'après le texte)."""
    catalogue = _catalogue(catalogue_path)
    seconds = prompt_durations(catalogue, _sounds_dir(out_dir))
    if as_json:
        click.echo(json.dumps(media_durations(seconds), indent=1, ensure_ascii=False))
        return
    width = max((len(pid) for pid in seconds), default=0)
    for pid, value in seconds.items():
        click.echo(f"{MEDIA_PREFIX}{pid:<{width}}  {value:6.2f} s".replace(".", ","))

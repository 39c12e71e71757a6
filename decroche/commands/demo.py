"""``decroche demo``: the whole system on embedded defaults (see :mod:`decroche.demo`)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click


@click.command("demo")
@click.option(
    "--days",
    type=click.IntRange(1, 60),
    default=6,
    show_default=True,
    metavar="N",
    help="Jours de trafic joués (les derniers jours ouvrés, jusqu'à hier).",
)
@click.option(
    "--speed",
    type=click.FloatRange(0, 5000),
    default=0.0,
    show_default=True,
    metavar="X",
    help="0 : temps virtuel (aussi vite que la machine, durées exactes) ; sinon combien de fois "
    "plus vite que le temps réel avance l'horloge simulée (pour regarder la vue en direct).",
)
@click.option(
    "--calls-per-day",
    type=click.IntRange(1, 5000),
    default=120,
    show_default=True,
    metavar="N",
    help="Appels d'un jour de semaine.",
)
@click.option("--seed", type=int, default=2026, show_default=True, metavar="N", help="Graine.")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=Path("data/demo"),
    show_default=True,
    metavar="DOSSIER",
    help="Dossier des données de la démonstration (vidé au départ).",
)
@click.option(
    "--exit",
    "exit_after",
    is_flag=True,
    help="S'arrêter après le tableau (code non nul si un appel manque aux enregistrements).",
)
def demo(
    days: int, speed: float, calls_per_day: int, seed: int, data_dir: Path, exit_after: bool
) -> None:
    """Démonstration : PBX simulé, trafic de la mairie de Bernay, indicateurs, tableau de bord."""
    from decroche.config import load_config
    from decroche.demo import run_demo

    if data_dir.exists():
        shutil.rmtree(data_dir)  # a demo always starts from empty records
    config = load_config(None).model_copy(update={"data_dir": data_dir})
    sys.exit(run_demo(config, days, speed, calls_per_day, seed, not exit_after))

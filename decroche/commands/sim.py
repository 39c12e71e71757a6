"""``decroche sim serve``: the simulated PBX alone, speaking Asterisk's ARI over HTTP and
WebSocket (to try rules, or run ``decroche serve`` against it). Its ARI user, password and
application default to the configuration's, so a service with the same configuration connects.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import click

from decroche.commands import context
from telephony.clock import ScaledClock
from telephony.simulator.latency import StasisWindow
from telephony.simulator.pbx import SimulatedPbx
from telephony.simulator.scripts import AgentScript

log = logging.getLogger(__name__)


@click.group()
def sim() -> None:
    """PBX simulé (ARI en HTTP et WebSocket, appelants et agents scriptés)."""


@sim.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d'écoute.")
@click.option(
    "--port", default=8088, show_default=True, type=click.IntRange(0, 65535), metavar="PORT"
)
@click.option(
    "--speed",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.001),
    metavar="X",
    help="Vitesse de l'horloge : 200 joue une journée en 7 minutes environ.",
)
@click.option("--app", default=None, help="Application Stasis (défaut : ari.app).")
@click.option("--username", default=None, help="Utilisateur ARI (défaut : ari.username).")
@click.option(
    "--password",
    default=None,
    help="Mot de passe ARI (défaut : ari.password, DECROCHE_ARI__PASSWORD, sinon « decroche »).",
)
@click.option(
    "--agent",
    "agents",
    multiple=True,
    metavar="POSTE",
    help="Un poste d'agent enregistré qui décroche après 3 s, p. ex. PJSIP/1042.",
)
@click.option(
    "--stasis-window-ms",
    default="0.5-3",
    show_default=True,
    metavar="MS|MIN-MAX",
    help="Délai avant qu'un canal créé par channels/create entre dans l'application (un dial "
    "avant est refusé par 409, comme sur Asterisk) ; 0 : juste après la réponse 200.",
)
@click.option(
    "--seed", type=int, default=None, metavar="N", help="Graine des délais (rejeux identiques)."
)
@click.option(
    "--sounds",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    metavar="DOSSIER",
    help="Dossier des sons, comme celui d'Asterisk (fr/decroche/<id>.wav) : un son absent ne "
    "se joue pas (PlaybackFinished failed). Sans lui, tous les sons sont réputés présents.",
)
@context.with_config
def serve(
    host: str,
    port: int,
    speed: float,
    app: str | None,
    username: str | None,
    password: str | None,
    agents: tuple[str, ...],
    stasis_window_ms: str,
    seed: int | None,
    sounds: Path | None,
) -> None:
    """Sert l'ARI sur http://HOST:PORT/ari et l'API de pilotage sur /sim."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    ari = context.app().config.ari
    try:
        window = StasisWindow.parse_ms(stasis_window_ms, seed=seed)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--stasis-window-ms") from exc
    scripts = []
    for endpoint in agents:
        try:
            scripts.append(AgentScript(endpoint=endpoint))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--agent") from exc
    stasis_app = app or ari.app
    pbx = SimulatedPbx(
        clock=ScaledClock(speed),
        app=stasis_app,
        username=username or ari.username,
        password=password or ari.password.get_secret_value() or "decroche",
        stasis_window=window,
        sounds=sounds,
    )
    for script in scripts:
        pbx.add_agent(script)
    heard = f"sons de {sounds}" if sounds else "sans dossier de sons : tout son est joué"
    what = f"application {stasis_app}, vitesse {speed:g}, {heard}"
    asyncio.run(_serve(pbx, host, port, what, window))


async def _serve(pbx: SimulatedPbx, host: str, port: int, what: str, window: StasisWindow) -> None:
    try:
        bound = await pbx.start(host, port)
    except OSError as exc:
        raise click.ClickException(f"impossible d'écouter sur {host}:{port} : {exc}") from exc
    click.echo(
        f"PBX simulé sur http://{host}:{bound}/ari ({what}, "
        f"channels/create -> StasisStart {window!r})"
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await pbx.stop()

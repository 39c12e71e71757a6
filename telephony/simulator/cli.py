"""``decroche sim ...``: run the simulated PBX."""

from __future__ import annotations

import asyncio
import logging
import signal

import click

from telephony.clock import ScaledClock

from .latency import StasisWindow
from .pbx import SimulatedPbx
from .scripts import AgentScript

log = logging.getLogger(__name__)


@click.group()
def sim() -> None:
    """Simulated Asterisk PBX (ARI over HTTP/WebSocket, scripted callers and agents)."""


@sim.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8088, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--speed",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.001),
    help="Clock speed: 200 runs a day in about 7 minutes.",
)
@click.option("--app", default="decroche", show_default=True, help="Default Stasis app.")
@click.option("--username", default="decroche", show_default=True)
@click.option(
    "--password",
    envvar="DECROCHE_ARI__PASSWORD",
    default="decroche",
    show_default=False,
    help="ARI password (env DECROCHE_ARI__PASSWORD).",
)
@click.option(
    "--agent",
    "agents",
    multiple=True,
    metavar="ENDPOINT",
    help="Declare a registered agent phone that answers after 3 s, e.g. PJSIP/1042.",
)
@click.option(
    "--stasis-window-ms",
    default="0.5-3",
    show_default=True,
    metavar="MS|MIN-MAX",
    help="How long a channel made by channels/create takes to enter the app (a dial before "
    "is refused with 409, as on Asterisk); 0 enters right after the 200.",
)
@click.option("--seed", type=int, default=None, help="Seed of the random delays (repeatable runs).")
def serve(
    host: str,
    port: int,
    speed: float,
    app: str,
    username: str,
    password: str,
    agents: tuple[str, ...],
    stasis_window_ms: str,
    seed: int | None,
) -> None:
    """Serve the ARI on http://HOST:PORT/ari and the control API on /sim."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
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
    asyncio.run(_serve(host, port, speed, app, username, password, scripts, window))


async def _serve(
    host: str,
    port: int,
    speed: float,
    app: str,
    username: str,
    password: str,
    agents: list[AgentScript],
    window: StasisWindow,
) -> None:
    pbx = SimulatedPbx(
        clock=ScaledClock(speed),
        app=app,
        username=username,
        password=password,
        stasis_window=window,
    )
    for agent in agents:
        pbx.add_agent(agent)
    try:
        bound = await pbx.start(host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from exc
    click.echo(
        f"simulated PBX on http://{host}:{bound}/ari (app {app}, speed {speed}, "
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

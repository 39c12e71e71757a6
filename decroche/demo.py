"""``decroche demo``: the whole system on embedded defaults, with simulated Bernay traffic.

It starts the simulated PBX, the router with the default Bernay rules and SQLite storage (in a
demo data directory), plays town-hall traffic on an accelerated clock (quiet nights are skipped),
audits every path of the rules through the PBX, then prints the indicators table, checks that
every simulated call is in the records, and keeps serving the dashboard until Ctrl-C (or exits
with ``--exit``).

The PBX plays the prompts built by ``decroche prompts build`` (espeak-ng and sox) from its sounds
folder, as Asterisk would. Without those tools the demo still runs: its PBX has no sounds folder
and takes every sound as present (durations estimated from the texts), and says so.
"""

from __future__ import annotations

import asyncio
import random
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from pydantic import SecretStr

from audit.results import Trigger
from audit.store import upgrade_audit_schema
from decroche.app import App
from decroche.commands.text import indicators_table
from decroche.config import Config
from decroche.traffic import PlannedCall, agents_for, plan_day
from ivr_prompts.build import (
    PromptBuildError,
    build_prompts,
    default_sounds_dir,
    media_durations,
    prompt_durations,
)
from ivr_prompts.catalogue import load_catalogue
from reports.errors import ReportGenerationError
from telephony.clock import Clock, ScaledClock
from telephony.flow.router import RouterSettings
from telephony.records.engine import upgrade_schema
from telephony.simulator.latency import StasisWindow
from telephony.simulator.pbx import SimulatedPbx
from telephony.virtual_time import LoopClock, VirtualTimeLoop


def _progress(done: int, total: int, now: datetime) -> None:
    width = 30
    filled = width * done // max(1, total)
    bar = "█" * filled + "·" * (width - filled)
    stamp = now.astimezone().strftime("%a %d/%m %H:%M")
    sys.stderr.write(f"\r  [{bar}] {done}/{total} appels — horloge simulée {stamp}")
    sys.stderr.flush()


async def _play(pbx: SimulatedPbx, clock: Clock, calls: list[PlannedCall]) -> int:
    handles = []
    for i, call in enumerate(calls, start=1):
        gap = (call.at - clock.now()).total_seconds()
        if isinstance(clock, ScaledClock) and gap > 10 and not pbx.engine.channels:
            clock.advance(gap - 2)  # nobody on the line: skip the quiet time
            gap = (call.at - clock.now()).total_seconds()
        if gap > 0:
            await clock.sleep(gap)
        handles.append(pbx.place_call(call.script))
        _progress(i, len(calls), clock.now())
    for handle in handles:
        await handle.wait()
    await pbx.wait_idle()
    sys.stderr.write("\n")
    return len(handles)


@dataclass(slots=True)
class _Played:
    config: Config
    placed: int
    first: date
    last: date
    seconds: float


async def _simulate(
    config: Config, days: int, speed: float, calls_per_day: int, seed: int
) -> _Played:
    rng = random.Random(seed)
    rules_tz = ZoneInfo("Europe/Paris")
    today = datetime.now(UTC).astimezone(rules_tz).date()
    # The last ``days`` days with traffic (town halls are closed on Sundays), ending yesterday.
    open_days: list[date] = []
    candidate = today
    while len(open_days) < days:
        candidate -= timedelta(days=1)
        if candidate.weekday() != 6:
            open_days.insert(0, candidate)
    origin = datetime.combine(open_days[0], dtime(0, 0), tzinfo=rules_tz).astimezone(UTC)
    clock: Clock = ScaledClock(speed=speed, origin=origin) if speed else LoopClock(origin)
    password = config.ari.password.get_secret_value() or "decroche"
    sounds = _built_sounds(config.data_dir)
    pbx = SimulatedPbx(
        clock=clock,
        app=config.ari.app,
        username=config.ari.username,
        password=password,
        # Asterisk's create/StasisStart window, drawn from the demo's seed: a run is repeatable.
        stasis_window=StasisWindow(seed=seed),
        sounds=sounds,
    )
    port = await pbx.start(port=0)
    ari = config.ari.model_copy(
        update={"url": f"http://127.0.0.1:{port}/ari", "password": SecretStr(password)}
    )
    config = config.model_copy(update={"ari": ari})
    app = App(config)
    # In virtual time nothing can get lost on loopback: keep-alives would only cost time.
    settings = None if speed else RouterSettings(heartbeat_s=3600, ping_interval_s=3600)
    system = app.service(clock=clock, router=settings)
    upgrade_schema(system.database.engine)
    upgrade_audit_schema(system.database.engine)
    rules = system.rules.current
    for agent in agents_for(rules, rng):
        pbx.add_agent(agent)
    if sounds is None:  # the files' own durations otherwise
        pbx.set_media_durations(media_durations(prompt_durations(load_catalogue(), None)))
    calls: list[PlannedCall] = []
    for day in open_days:
        midnight = datetime.combine(day, dtime(0, 0), tzinfo=rules.tz)
        calls += plan_day(rules, midnight, calls_per_day, rng)
    calls = [c for c in calls if c.at > clock.now()]
    how = f"horloge ×{speed:g}" if speed else "temps virtuel"
    click.echo(
        f"decroche demo: {len(calls)} appels simulés sur {days} jour(s) ({how}), "
        f"PBX simulé sur le port {port}, enregistrements dans {config.database_url()}"
    )
    await system.start()
    started = time.monotonic()
    try:
        placed = await _play(pbx, clock, calls)
        await _audit(app, clock, settings)
    finally:
        await system.stop()
    await pbx.stop()
    first = min((c.at for c in calls), default=clock.now()).astimezone(rules.tz).date()
    last = max((c.at for c in calls), default=clock.now()).astimezone(rules.tz).date()
    return _Played(config, placed, first, last, time.monotonic() - started)


def _built_sounds(data_dir: Path) -> Path | None:
    """The prompts built into the demo's sounds folder (shaped like Asterisk's); None when
    espeak-ng or sox is missing (the PBX then takes every sound as present)."""
    folder = data_dir / "sounds"
    try:
        build_prompts(load_catalogue(), default_sounds_dir(data_dir))
    except PromptBuildError as exc:
        click.echo(
            f"Messages vocaux non fabriqués ({exc}) : le PBX simulé joue tous les sons sans "
            "fichier (durées estimées d'après les textes)."
        )
        return None
    click.echo(f"PBX simulé : messages vocaux fabriqués dans {folder} (espeak-ng et sox).")
    return folder


async def _audit(app: App, clock: Clock, settings: RouterSettings | None) -> None:
    """Every path of the rules called through the simulated PBX, as ``decroche audit run``."""
    beat = settings.heartbeat_s if settings is not None else None
    runner = app.audit_runner(clock=clock, store=app.audit_store(upgrade=False), heartbeat_s=beat)
    try:
        run = await runner.run(Trigger.COMMAND)
    finally:
        await runner.client.close()
    failed = len(run.failed)
    said = f"{len(run.results)} parcours, {len(run.results) - failed} conforme(s)"
    note = f" ; {run.message}" if run.message else ""
    click.echo(f"Audit interne des parcours : {said}, {failed} en échec{note}.")
    try:
        for file in app.audit_report_writer(pdf=False).run_report(run):
            click.echo(f"Rapport d'audit : {file} (PDF : decroche audit report --run {run.id})")
    except ReportGenerationError as exc:
        click.echo(f"Rapport d'audit non écrit : {exc}")


def run_demo(
    config: Config, days: int, speed: float, calls_per_day: int, seed: int, keep_serving: bool
) -> int:
    factory = asyncio.new_event_loop if speed else VirtualTimeLoop
    dashboard = _Dashboard(config) if keep_serving else None
    if dashboard is not None:
        click.echo(f"Tableau de bord : {dashboard.start()} (les chiffres arrivent pendant la démo)")
    with asyncio.Runner(loop_factory=factory) as runner:
        played = runner.run(_simulate(config, days, speed, calls_per_day, seed))
    config = played.config
    click.echo(f"{played.placed} appels joués en {played.seconds:.0f} s.")
    app = App(config)
    try:
        report = app.indicators().report(played.first, played.last)
        click.echo("")
        click.echo(indicators_table(report, app.names()))
        recorded = app.store().count_calls()
    finally:
        app.close()
    click.echo("")
    if recorded < played.placed:
        click.echo(
            f"ERREUR : {played.placed - recorded} appel(s) simulé(s) absent(s) des enregistrements."
        )
        return 1
    click.echo(f"Les {played.placed} appels simulés sont tous enregistrés.")
    if dashboard is not None:
        click.echo(f"Tableau de bord : {dashboard.url} (Ctrl-C pour arrêter)")
        dashboard.wait_for_interrupt()
    return 0


class _Dashboard:
    """The dashboard on the demo's records, served from its own thread in real time while the
    simulation runs in virtual time (and afterwards, until Ctrl-C)."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self.ready = threading.Event()
        self.url: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="dashboard", daemon=True)

    def start(self) -> str:
        self._thread.start()
        if not self.ready.wait(30.0) or self.url is None:
            raise click.ClickException(
                "le tableau de bord n'a pas démarré (voir les messages ci-dessus)"
            )
        return self.url

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        from decroche.web import demo_dashboard

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with demo_dashboard(App(self._config)) as url:
            self.url = url
            self.ready.set()
            await self._stop.wait()

    def wait_for_interrupt(self) -> None:
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5.0)

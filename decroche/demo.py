"""``decroche demo``: the whole system on embedded defaults, with simulated Bernay traffic.

It starts the simulated PBX, the router with the default Bernay rules and SQLite storage (in a
demo data directory), plays town-hall traffic — in virtual time (as fast as the machine goes,
every timing exact) or on a wall clock ``speed`` times faster, quiet nights skipped — audits every
path of the rules through the PBX, prints the indicators table, checks that every simulated call
is in the records, and keeps serving the dashboard until Ctrl-C (or exits with ``--exit``).

Two threads: the simulation (PBX, router, records, the agents' callback rounds) on its own event
loop, the dashboard on another, in real time. The dashboard sees the router's live state and
drives the agents' sign-in and pause through :class:`decroche.bridge.ServiceBridge`.

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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from pydantic import SecretStr

from analytics import glossary
from audit.results import Trigger
from audit.store import upgrade_audit_schema
from decroche.app import App
from decroche.bridge import ServiceBridge
from decroche.commands.text import (
    by_name,
    indicators_table,
    name_of,
    percent,
    seconds,
    table,
    terminal_width,
)
from decroche.config import Config
from decroche.demo_agents import CallbackRound, callback_rounds, demo_login
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
from routing_rules.compiled import CompiledRules
from routing_rules.messages import agreeing, counted
from telephony.clock import Clock, ScaledClock
from telephony.flow.router import RouterSettings
from telephony.records.engine import upgrade_schema
from telephony.simulator.latency import StasisWindow
from telephony.simulator.pbx import SimulatedPbx
from telephony.simulator.scripts import AgentScript
from telephony.virtual_time import LoopClock, VirtualTimeLoop

WEEKDAYS_FR = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
# The demo's agent account answers for this service, at its first phone that answers.
DEMO_AGENT = ("agent-ccas", "ccas")


@dataclass(slots=True)
class DemoPlan:
    """What the demo plays, drawn from its seed before anything runs: the same seed, the same
    agents, calls and callback rounds."""

    rules: CompiledRules
    days: list[date]
    agents: list[AgentScript]
    calls: list[PlannedCall]
    rounds: list[datetime]
    seed: int
    phones: dict[str, str] = field(default_factory=dict)  # the demo's agent login -> phone


def plan_demo(rules: CompiledRules, days: int, calls_per_day: int, seed: int) -> DemoPlan:
    rng = random.Random(seed)
    today = datetime.now(UTC).astimezone(rules.tz).date()
    # The last ``days`` days with traffic (town halls are closed on Sundays), ending yesterday.
    open_days: list[date] = []
    candidate = today
    while len(open_days) < days:
        candidate -= timedelta(days=1)
        if candidate.weekday() != 6:
            open_days.insert(0, candidate)
    agents = agents_for(rules, rng)
    calls: list[PlannedCall] = []
    for day in open_days:
        midnight = datetime.combine(day, dtime(0, 0), tzinfo=rules.tz)
        calls += plan_day(rules, midnight, calls_per_day, rng)
    login, service_id = DEMO_AGENT
    answering = {a.endpoint for a in agents if a.registered and a.response == "answer"}
    service = rules.services.get(service_id)
    phone = next((e for e in service.agents if e in answering), None) if service else None
    return DemoPlan(
        rules=rules,
        days=open_days,
        agents=agents,
        calls=calls,
        rounds=[r.astimezone(UTC) for r in callback_rounds(open_days, rules.tz)],
        seed=seed,
        phones={login: phone} if phone else {},
    )


def _day_fr(moment: datetime) -> str:
    return f"{WEEKDAYS_FR[moment.weekday()]} {moment:%d/%m}"


class _Progress:
    """The calls played, on the terminal: a bar redrawn in place, or a line a simulated day
    when the output is not a terminal (a log, a pipe)."""

    def __init__(self, total: int, tz: ZoneInfo) -> None:
        self._total = total
        self._tz = tz
        self._tty = sys.stderr.isatty()
        self._day: date | None = None
        self._played_on_day = 0

    def call(self, done: int, now: datetime) -> None:
        local = now.astimezone(self._tz)
        if self._tty:
            width = 30
            filled = width * done // max(1, self._total)
            bar = "█" * filled + "·" * (width - filled)
            sys.stderr.write(
                f"\r  [{bar}] {done}/{self._total} appels — horloge simulée "
                f"{_day_fr(local)} {local:%H:%M}"
            )
            sys.stderr.flush()
            return
        if self._day is not None and local.date() != self._day:
            self._day_done()
        self._day = local.date()
        self._played_on_day += 1

    def _day_done(self) -> None:
        if self._day is not None and self._played_on_day:
            when = datetime.combine(self._day, dtime(0, 0))
            played = counted(self._played_on_day, "appel joué", "appels joués")
            sys.stderr.write(f"  {_day_fr(when)} : {played}\n")
            sys.stderr.flush()
        self._played_on_day = 0

    def finish(self) -> None:
        if self._tty:
            sys.stderr.write("\n")
        else:
            self._day_done()


# What the simulation does, and when: a caller calls, or the agents go through their callbacks.
Step = tuple[datetime, PlannedCall | CallbackRound]


async def _play(pbx: SimulatedPbx, clock: Clock, steps: list[Step], progress: _Progress) -> int:
    """Carry out each step at its time; the number of calls placed."""
    handles = []
    rounds: list[asyncio.Task[int]] = []
    for at, step in steps:
        gap = (at - clock.now()).total_seconds()
        if isinstance(clock, ScaledClock) and gap > 10 and not pbx.engine.channels:
            clock.advance(gap - 2)  # nobody on the line: skip the quiet time
            gap = (at - clock.now()).total_seconds()
        if gap > 0:
            await clock.sleep(gap)
        if isinstance(step, PlannedCall):
            handles.append(pbx.place_call(step.script))
            progress.call(len(handles), clock.now())
        else:
            rounds.append(asyncio.create_task(step.run(), name="callback-round"))
    for handle in handles:
        await handle.wait()
    await asyncio.gather(*rounds)
    await pbx.wait_idle()
    progress.finish()
    return len(handles)


@dataclass(slots=True)
class _Played:
    config: Config
    placed: int
    first: date
    last: date
    seconds: float


async def _simulate(
    config: Config, plan: DemoPlan, speed: float, bridge: ServiceBridge | None
) -> _Played:
    rules = plan.rules
    origin = datetime.combine(plan.days[0], dtime(0, 0), tzinfo=rules.tz).astimezone(UTC)
    clock: Clock = ScaledClock(speed=speed, origin=origin) if speed else LoopClock(origin)
    password = config.ari.password.get_secret_value() or "decroche"
    sounds = _built_sounds(config.data_dir)
    pbx = SimulatedPbx(
        clock=clock,
        app=config.ari.app,
        username=config.ari.username,
        password=password,
        # Asterisk's create/StasisStart window, drawn from the demo's seed: a run is repeatable.
        stasis_window=StasisWindow(seed=plan.seed),
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
    for agent in plan.agents:
        pbx.add_agent(agent)
    if sounds is None:  # the files' own durations otherwise
        pbx.set_media_durations(media_durations(prompt_durations(load_catalogue(), None)))
    calls = [c for c in plan.calls if c.at > clock.now()]
    how = f"horloge ×{glossary.decimal(speed, 2)}" if speed else "temps virtuel"
    click.echo(
        f"decroche demo : {counted(len(calls), 'appel simulé', 'appels simulés')} sur "
        f"{counted(len(plan.days), 'jour')} ({how}), "
        f"PBX simulé sur le port {port}, enregistrements dans {config.database_url()}"
    )
    from decroche.web import CallbackDesk

    callback_round = CallbackRound(
        desk=CallbackDesk(system.store),
        writer=system.writer,
        clock=clock,
        logins={s.id: demo_login(s.tag) for s in rules.services.values()},
        rng=random.Random(f"{plan.seed}-rappels"),
    )
    steps: list[Step] = [(c.at, c) for c in calls]
    steps += [(at, callback_round) for at in plan.rounds if at > clock.now()]
    steps.sort(key=lambda step: step[0])  # stable: a call before a round at the same instant
    await system.start()
    if bridge is not None:
        bridge.attach(system)
    started = time.monotonic()
    try:
        placed = await _play(pbx, clock, steps, _Progress(len(calls), rules.tz))
        await _audit(app, clock, settings)
    finally:
        await system.stop()
        if bridge is not None:
            await bridge.detach()
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
    note = f" ; {run.message}" if run.message else ""
    click.echo(f"Audit interne des parcours : {run.tally}{note}.")
    try:
        for file in app.audit_report_writer(pdf=False).run_report(run):
            click.echo(f"Rapport d'audit : {file} (PDF : decroche audit report --run {run.id})")
    except ReportGenerationError as exc:
        click.echo(f"Rapport d'audit non écrit : {exc}")


def _notes(speed: float) -> tuple[str, str]:
    """What the live view says of the simulated clock, while it runs and once it is over."""
    if speed:
        running = (
            f"Démonstration : appels simulés sur une horloge {glossary.decimal(speed, 2)} fois "
            f"plus rapide que le temps réel ({_per_second(speed)} de simulation par seconde), "
            "journées calmes sautées. L'état affiché est celui de l'horloge simulée."
        )
    else:
        running = (
            "Démonstration : simulation en temps accéléré (temps virtuel : l'horloge simulée "
            "avance aussi vite que la machine le permet, plusieurs heures par seconde). L'état "
            "affiché est celui de l'horloge simulée à cet instant ; pour regarder les appels "
            "passer, relancez avec « decroche demo --speed 60 »."
        )
    finished = (
        "Démonstration terminée : toutes les journées simulées ont été jouées, plus aucun "
        "appel n'est en cours. Les indicateurs sont dans le tableau de bord."
    )
    return running, finished


def _per_second(speed: float) -> str:
    if speed >= 60:
        minutes = speed / 60
        return f"{glossary.decimal(minutes, 2)} {agreeing(minutes, 'minute')}"
    return f"{glossary.decimal(speed, 2)} {agreeing(speed, 'seconde')}"


def run_demo(
    config: Config, days: int, speed: float, calls_per_day: int, seed: int, keep_serving: bool
) -> int:
    rules = App(config).rules.current
    plan = plan_demo(rules, days, calls_per_day, seed)
    web = config.web.model_copy(update={"agent_phones": {**config.web.agent_phones, **plan.phones}})
    config = config.model_copy(update={"web": web})
    factory = asyncio.new_event_loop if speed else VirtualTimeLoop
    bridge = ServiceBridge(config.web.agent_phones, *_notes(speed)) if keep_serving else None
    dashboard = _Dashboard(config, bridge) if bridge is not None else None
    if dashboard is not None:
        click.echo(f"Tableau de bord : {dashboard.start()} (les chiffres arrivent pendant la démo)")
        for login, phone in plan.phones.items():
            click.echo(f"L'agent « {login} » répond au poste {phone} : sa pause compte vraiment.")
    with asyncio.Runner(loop_factory=factory) as runner:
        played = runner.run(_simulate(config, plan, speed, bridge))
    config = played.config
    click.echo(
        f"{counted(played.placed, 'appel joué', 'appels joués')} en {played.seconds:.0f}\u00a0s."
    )
    app = App(config)
    try:
        click.echo("")
        click.echo(_figures(app, played.first, played.last))
        recorded = app.store().count_calls()
    finally:
        app.close()
    click.echo("")
    if recorded < played.placed:
        click.echo(
            "ERREUR : "
            + counted(
                played.placed - recorded,
                "appel simulé absent des enregistrements.",
                "appels simulés absents des enregistrements.",
            )
        )
        return 1
    click.echo(
        "L'appel simulé est enregistré."
        if played.placed == 1
        else f"Les {glossary.number(played.placed)} appels simulés sont tous enregistrés."
    )
    if dashboard is not None:
        click.echo(f"Tableau de bord : {dashboard.url} (Ctrl-C pour arrêter)")
        dashboard.wait_for_interrupt()
    return 0


def _figures(app: App, first: date, last: date) -> str:
    """The indicators table, then what else the demo shows: waits' spread per service, the
    survey and the callbacks."""
    indicators = app.indicators()
    names = app.names()
    report = indicators.report(first, last)
    width = terminal_width()
    lines = [indicators_table(report, names, width), ""]
    spread = indicators.wait_percentiles(first, last)
    rows = []
    order = by_name(names)
    for service_id, counts in sorted(report.services.items(), key=lambda i: order(i[0])):
        quantiles = spread.get(service_id, {})
        if counts.answered:
            rows.append(
                [
                    name_of(service_id, names),
                    str(counts.answered),
                    seconds(counts.mean_wait_answered_s),
                    seconds(quantiles.get("p50")),
                    seconds(quantiles.get("p90")),
                ]
            )
    lines.append("Attente des appels décrochés")
    lines += table(["Service", "Décrochés", "Moyenne", "Médiane", "90e centile"], rows, width=width)
    satisfaction = indicators.satisfaction(first, last)
    if satisfaction is not None:
        survey = satisfaction.total.figures
        lines += [
            "",
            f"Enquête de satisfaction : {survey.offered} appelants invités, {survey.reached} "
            f"mis en relation, {survey.responded} ont répondu "
            f"(taux de réponse {percent(survey.response_rate)}, note moyenne "
            f"{glossary.value('satisfaction.mean_score', survey.mean_score)}"
            " sur 5).",
        ]
    callbacks = indicators.callbacks(first, last)
    lines.append(
        f"Rappels : {callbacks.owed} dus, {callbacks.done} faits par les agents, "
        f"{callbacks.pending} encore à faire"
        + (
            f" (délai médian {glossary.delay(callbacks.median_delay_s)})."
            if callbacks.median_delay_s is not None
            else "."
        )
    )
    return "\n".join(lines)


class _Dashboard:
    """The dashboard on the demo's records, served from its own thread in real time while the
    simulation runs on its loop (and afterwards, until Ctrl-C)."""

    def __init__(self, config: Config, bridge: ServiceBridge) -> None:
        self._config = config
        self._bridge = bridge
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
        async with demo_dashboard(App(self._config), self._bridge) as url:
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

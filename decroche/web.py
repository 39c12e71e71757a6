"""The web app wired to the running service: live view fed by the router, IT page fed by the
rules holder and the record writer, /metrics and /healthz."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from audit.jobs import AuditJobs
from audit.results import AuditRun, Trigger
from audit.store import AuditStore
from decroche.app import App, AppError
from decroche.config import ENV_PREFIX, secret_variables
from decroche.faults import database_reason, records_problems
from decroche.presence import RouterPresence
from decroche.service import Service
from reports.accounts import ROLE_FR, AccountStore, AuthSettings, Role, upgrade_web_schema
from reports.actions import ActionBook
from reports.audit_view import Wording
from reports.generation import Progress, ReportJobs
from reports.live import (
    AgentLive,
    AgentState,
    InMemoryLiveFeed,
    LiveSnapshot,
    QueuedLive,
    ServiceLive,
)
from reports.periods import Period
from reports.presence import AgentPresence, InMemoryAgentPresence
from reports.reviews import ReviewBook
from reports.web import WebDeps, create_app
from reports.web.status import HealthCheck, ReloadEvent, RulesStatus
from routing_rules.agents import ABSENT_STATES, DeviceState, Presence
from routing_rules.holder import RulesHolder
from telephony.flow.phones import describe_unknown
from telephony.records.engine import Database
from telephony.records.errors import CallbackNotFound
from telephony.records.model import PendingCallback
from telephony.records.store import RecordStore
from whatif.jobs import WhatIfJobs

if TYPE_CHECKING:
    from decroche.bridge import ServiceBridge

log = logging.getLogger(__name__)

DEMO_USERS = (
    ("qualite", Role.QUALITY, ()),
    ("informatique", Role.IT, ()),
    ("agent-ccas", Role.AGENT, ("ccas",)),
)
DEMO_PASSWORD = "bernay-demo"


class ServiceStatus:
    """What the IT page shows (``reports.web.status.SystemStatus``): the database, the rules in
    force and their reloads, and, when the service runs in this process, its health."""

    def __init__(
        self,
        database: Database,
        rules: RulesHolder | None,
        service: Service | None = None,
        *,
        service_checks: Callable[[], list[HealthCheck]] | None = None,
    ) -> None:
        """``service``: the service running in this thread; ``service_checks`` instead: its
        checks as another thread last saw them (the demo's simulation)."""
        self._database = database
        self._rules = rules
        if service_checks is None and service is not None:
            running = service

            def service_checks() -> list[HealthCheck]:
                return self.service_checks(running)

        self._service_checks = service_checks

    def rules(self) -> RulesStatus | None:
        holder = self._rules
        if holder is None:
            return None
        history = holder.history
        reloads = tuple(
            ReloadEvent(
                at=o.at,
                ok=o.ok,
                rules_hash=o.version,
                message=f"{TRIGGER_FR.get(o.trigger.value, o.trigger.value)} : "
                + ("ok" if o.ok else "; ".join(str(p) for p in o.problems)),
            )
            for o in history
        )
        loaded = next((o.at for o in reversed(history) if o.ok), None)
        return RulesStatus(holder.version, loaded, str(holder.path), reloads)

    def health(self) -> list[HealthCheck]:
        checks = [self._database_check()]
        if self._service_checks is None:
            return checks
        return [*checks, *self._service_checks()]

    @classmethod
    def service_checks(cls, service: Service) -> list[HealthCheck]:
        """The running service's checks: the link to Asterisk, the calls, the records, the
        phones (on the service's own event loop)."""
        h = service.health()
        return [
            HealthCheck(
                "Connexion à Asterisk (ARI)",
                bool(h["ari_connected"]),
                "connecté" if h["ari_connected"] else "déconnecté",
            ),
            HealthCheck(
                "Prise d'appels",
                bool(h["accepting_calls"]),
                "active" if h["accepting_calls"] else "arrêt en cours",
            ),
            cls._records(service),
            cls._phones(service),
        ]

    @staticmethod
    def _records(service: Service) -> HealthCheck:
        problems = records_problems(service.writer.status())
        if problems:
            return HealthCheck("Enregistrement des appels", False, " ; ".join(problems))
        return HealthCheck(
            "Enregistrement des appels", True, "écrits dans la base au fil des appels"
        )

    @staticmethod
    def _phones(service: Service) -> HealthCheck:
        """The rules' phones as Asterisk knows them (checked at start, reconnection, reload)."""
        name = "Postes des règles connus d'Asterisk"
        report = service.router.phones
        if report is None:
            return HealthCheck(name, False, "pas encore vérifiés (Asterisk pas encore joint)")
        if report.error is not None:
            return HealthCheck(name, False, f"vérification impossible : {report.error}")
        if report.unknown:
            names = {s.id: s.name for s in service.rules.current.services.values()}
            return HealthCheck(name, False, describe_unknown(report, names))
        tracked = len(report.tracked)
        if tracked == 0:
            return HealthCheck(name, True, "aucun poste dans les règles")
        if tracked == 1:
            return HealthCheck(name, True, "le poste des règles est connu et suivi")
        return HealthCheck(name, True, f"les {tracked} postes des règles sont connus et suivis")

    def _database_check(self) -> HealthCheck:
        from sqlalchemy import text

        try:
            with self._database.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # any failure is what this page must show, not raise
            return HealthCheck("Base de données", False, f"injoignable : {database_reason(exc)}")
        return HealthCheck("Base de données", True, f"joignable ({self._database.dialect})")


TRIGGER_FR = {
    "startup": "démarrage",
    "file change": "fichier modifié",
    "SIGHUP": "SIGHUP",
    "api": "demande",
}


class CallbackDesk:
    """The record store as the agents' page uses it (``reports.web.callbacks.CallbackBook``)."""

    def __init__(self, store: RecordStore) -> None:
        self._store = store

    def pending_callbacks(self, service_id: str | None = None) -> Sequence[PendingCallback]:
        return self._store.pending_callbacks(service_id)

    def mark_callback_done(self, call_id: str, position: int, *, by: str, at: datetime) -> bool:
        try:
            self._store.mark_callback_done(call_id, position, by=by, at=at)
        except CallbackNotFound:
            return False
        return True


def live_snapshot(
    service: Service, note: str | None = None, phones: Mapping[str, str] | None = None
) -> LiveSnapshot:
    """What is happening now, on the service's own event loop. ``note``: how to read the time
    (the demo's simulated clock); ``phones``: the agents' logins by phone (``web.agent_phones``),
    shown beside their phone."""
    router = service.router
    calls = router.live_calls()
    now = service.clock.now()
    rules = service.rules.current
    services = []
    for service_id, config in rules.services.items():
        waiting = [c for c in calls if c.service_id == service_id and c.phase == "waiting"]
        talking = sum(1 for c in calls if c.service_id == service_id and c.phase == "talking")
        free = sum(
            1
            for a in config.agents
            if router.agents.device(a) is DeviceState.NOT_INUSE
            and router.agents.presence(service_id, a) is Presence.SIGNED_IN
        )
        # Waiting counts from entering the service, as in the records: not the menus before.
        longest = max(
            ((now - c.entered_at).total_seconds() for c in waiting if c.entered_at is not None),
            default=None,
        )
        queued = tuple(
            QueuedLive(
                c.position,
                c.queued_since,
                (now - (c.entered_at or c.queued_since)).total_seconds(),
            )
            for c in sorted(waiting, key=lambda c: c.position or 0)
            if c.queued_since is not None and c.position is not None
        )
        services.append(ServiceLive(service_id, len(waiting), talking, longest, free, queued))
    logins = {endpoint: login for login, endpoint in (phones or {}).items()}
    agents = []
    for snap in router.agents.snapshot():
        mine = tuple(s for s, svc in rules.services.items() if snap.endpoint in svc.agents)
        presence = [router.agents.presence(s, snap.endpoint) for s in mine]
        state = _agent_state(snap.state, presence)
        agents.append(AgentLive(snap.endpoint, state, mine, login=logins.get(snap.endpoint)))
    return LiveSnapshot(
        at=now,
        in_ivr=sum(1 for c in calls if c.phase == "ivr"),
        services=tuple(services),
        agents=tuple(agents),
        note=note,
    )


def _agent_state(device: DeviceState, presence: Sequence[Presence]) -> AgentState:
    """One word for an agent: their phone first (a call in progress or ringing shows, even
    paused: the pause stops the next calls, not this one), then their sign-in."""
    if device in ABSENT_STATES:
        return AgentState.UNREACHABLE
    if device is DeviceState.RINGING:
        return AgentState.RINGING
    if device is not DeviceState.NOT_INUSE:
        return AgentState.IN_CALL
    signed = [p for p in presence if p is not Presence.SIGNED_OUT]
    if presence and not signed:
        return AgentState.SIGNED_OUT
    if signed and all(p is Presence.PAUSED for p in signed):
        return AgentState.PAUSED
    return AgentState.AVAILABLE


class AuditDeskOfApp:
    """The audit as the IT page sees it (``reports.web.audit_desk.AuditDesk``): the runs
    stored, and the service's audits when it runs them (``jobs``)."""

    def __init__(self, app: App, store: AuditStore, jobs: AuditJobs | None) -> None:
        self._app = app
        self._store = store
        self._jobs = jobs

    def latest(self) -> AuditRun | None:
        return self._store.latest()

    def runs(self, limit: int) -> Sequence[AuditRun]:
        return self._store.runs(limit=limit)

    def run(self, run_id: str) -> AuditRun | None:
        return self._store.run(run_id)

    def running(self) -> AuditRun | None:
        return self._jobs.running if self._jobs is not None else None

    def fixed_at(self, path_id: str, after: datetime) -> datetime | None:
        return self._store.fixed_at(path_id, after)

    def wording(self) -> Wording:
        return self._app.audit_wording()

    @property
    def can_launch(self) -> bool:
        return self._jobs is not None

    def launch(self, by: str) -> bool:
        return self._jobs is not None and self._jobs.launch(Trigger.PAGE, by=by)


def build_web_deps(
    app: App,
    service: Service | None,
    live: InMemoryLiveFeed,
    audit: AuditJobs | None = None,
    *,
    bridge: ServiceBridge | None = None,
) -> WebDeps:
    """The web app's dependencies: with the running ``service`` (live view, agents' presence,
    service health, /metrics, /healthz, its ``audit``s), or without (``decroche web``: the
    audits stored, read only), or with a service running on another thread's loop, seen and
    driven through its ``bridge`` (the demo's simulation). Indicators and names are asked of
    the app at each page: a rules reload shows at once."""
    database = app.database() if service is None else service.database
    config = app.config
    # With the service, its audits (None: their tables could not be made at start-up); without,
    # the audits stored, read only.
    desk = None
    if audit is not None:
        desk = AuditDeskOfApp(app, audit.store, audit)
    elif service is None:
        desk = AuditDeskOfApp(app, app.audit_store(), None)
    healthz: Callable[[], dict[str, object]] | None = None
    metrics: Callable[[], str] | None = None
    if service is not None:
        healthz, metrics = service.health, service.metrics
        if audit is not None:

            def healthz() -> dict[str, object]:
                return {**service.health(), "audit": audit.health()}

            def metrics() -> str:
                return service.metrics() + "\n".join(audit.metrics()) + "\n"

    elif bridge is not None:
        healthz, metrics = bridge.health, bridge.metrics
    presence: AgentPresence = InMemoryAgentPresence()
    if service is not None:
        presence = RouterPresence(
            service.router.agents, lambda: service.rules.current, config.web.agent_phones
        )
    elif bridge is not None:
        presence = bridge.presence
    return WebDeps(
        indicators=app.indicators,
        names=app.names,
        menus=app.menu_choices,
        accounts=AccountStore(
            database.engine, AuthSettings(cookie_secure=config.web.secure_cookies)
        ),
        live=live,
        presence=presence,
        callbacks=CallbackDesk(app.store()),
        system=ServiceStatus(
            database,
            app.rules,
            service,
            service_checks=bridge.checks if bridge is not None else None,
        ),
        town=config.web.town,
        reports_dir=app.reports_dir,
        agent_phones=dict(config.web.agent_phones),
        service_agents=app.service_agents,
        name_agents=config.web.name_agents_in_figures,
        metrics=metrics,
        healthz=healthz,
        timezone=app.timezone,
        whatif=whatif_jobs(app),
        staffing=app.staffing(database=database),
        audit=desk,
        reports=report_jobs(app),
        actions=ActionBook(database.engine),
        reviews=ReviewBook(database.engine),
    )


def report_jobs(app: App) -> ReportJobs:
    """The Rapports page's reports: made by :meth:`App.make_report`, as ``decroche report``
    makes them (the configured database, folder, town, objectives and names)."""
    from decroche.app import ReportAlreadyMade
    from reports.documents import BUILD_STEPS
    from reports.errors import ReportGenerationError

    def generate(kind: str, period: Period, force: bool, progress: Progress) -> list[Path]:
        try:
            return app.make_report(kind, period, force=force, progress=progress)
        except ReportAlreadyMade as exc:
            raise ReportGenerationError(
                f"{exc.said} : cochez « Le refaire s'il est déjà produit » pour en faire une "
                "nouvelle version"
            ) from exc
        except AppError as exc:
            raise ReportGenerationError(str(exc)) from exc

    return ReportJobs(generate, steps=BUILD_STEPS + 1, now=lambda: datetime.now(UTC))


def whatif_jobs(app: App, current_rules: Path | None = None) -> WhatIfJobs:
    """The IT page's simulations: ``decroche whatif`` run by this Python on this database,
    against the rules in force; proposed rules are checked like a reload would check them."""
    from ivr_prompts.catalogue import load_catalogue
    from routing_rules.loader import validate_text

    catalogue = frozenset(load_catalogue().keys())

    def check(text: str, name: str) -> None:
        validate_text(text, name, catalogue)

    command = whatif_command()
    if app.config_path is not None:
        command += ["--config", str(app.config_path)]
    return WhatIfJobs(
        app.config.data_dir / "et-si",
        command,
        current_rules or app.rules_path,
        check,
        # The child builds its own App from the same configuration; the database travels in
        # the environment (as a configuration override), out of the process list.
        env=whatif_environment(os.environ, app.database_url),
        inherit_env=False,
    )


# What a what-if simulation's process is given of the service's environment besides decroche's
# settings: where programs, libraries and the locale are, and libpq's PG* for the database.
_SYSTEM_VARIABLES = frozenset(
    ("PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
)


def whatif_environment(environ: Mapping[str, str], database_url: str) -> dict[str, str]:
    """The environment of a what-if simulation: it replays proposed rules against past calls,
    reading the database and nothing else — no secret (ARI password, pseudonym key), nothing of
    Asterisk, which it never calls, nor anything else the service was given."""
    secrets = secret_variables()
    kept = {
        name: value
        for name, value in environ.items()
        if name in _SYSTEM_VARIABLES
        or name.startswith(("LC_", "PG"))
        or (
            name.startswith(ENV_PREFIX)
            and name not in secrets
            and not name.startswith(f"{ENV_PREFIX}ARI__")
        )
    }
    return kept | {f"{ENV_PREFIX}STORAGE__URL": database_url}


def whatif_command(cores: int | None = None) -> list[str]:
    """``decroche whatif`` as the service runs it: niced, and leaving one core to the service,
    so that a simulation never slows down the calls in progress."""
    import shutil

    available = cores if cores is not None else len(os.sched_getaffinity(0))
    command = [sys.executable, "-m", "decroche", "whatif", "--workers", str(max(1, available - 1))]
    nice = shutil.which("nice")
    return [nice, "-n", "10", *command] if nice else command


async def publish_live(service: Service, live: InMemoryLiveFeed, every_s: float = 1.0) -> None:
    """Publish a live snapshot every ``every_s`` real seconds (the live view's push)."""
    while True:
        try:
            live.publish(live_snapshot(service, phones=service.config.web.agent_phones))
        except Exception:
            log.exception("live snapshot failed")
        await asyncio.sleep(every_s)


class PortTaken(AppError):
    """The web port cannot be listened on (taken by another program, or not allowed)."""


@asynccontextmanager
async def running_web(
    app: web.Application, host: str, port: int, *, elsewhere: bool = False
) -> AsyncIterator[str]:
    """Serve ``app`` on ``host:port`` until the block ends; the URL is the block's value.

    A port that cannot be listened on is :class:`PortTaken` (French), never silently another
    one: the town's bookmarks, proxy and monitoring point at the configured port.
    ``elsewhere`` (the demo): take a free port instead, and say so loudly on stderr.
    """
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
        except OSError as exc:
            if not elsewhere:
                raise PortTaken(port_refusal(host, port, exc)) from exc
            site = web.TCPSite(runner, host, 0)
            await site.start()
            print(
                f"ATTENTION : {port_refusal(host, port, exc)}. Le tableau de bord prend un "
                f"autre port : {site_port(site, port)}.",
                file=sys.stderr,
            )
        yield f"http://{host}:{site_port(site, port)}/"
    finally:
        await runner.cleanup()


def port_refusal(host: str, port: int, exc: OSError) -> str:
    """Why the web port cannot be listened on, in French."""
    import errno

    if exc.errno == errno.EADDRINUSE:
        why = "déjà pris par un autre programme (un autre decroche ?)"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        why = "interdit à cet utilisateur (ports sous 1024 réservés)"
    elif exc.errno == errno.EADDRNOTAVAIL:
        why = f"adresse {host} inconnue de cette machine"
    else:
        why = f"inutilisable ({exc.strerror or exc})"
    return f"port {port} de {host} {why} : changez web.port (ou web.host) dans la configuration"


def site_port(site: web.TCPSite, asked: int) -> int:
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    return int(sockets[0].getsockname()[1]) if sockets else asked


@asynccontextmanager
async def demo_dashboard(app: App, bridge: ServiceBridge) -> AsyncIterator[str]:
    """The dashboard over the demo's records, with demo accounts; the live view, the agents'
    presence, /metrics and /healthz of the simulation's service through ``bridge``."""
    database = app.database(create=True)
    upgrade_web_schema(database.engine)
    accounts = AccountStore(database.engine)
    existing = {user.login for user in accounts.users()}
    for login, role, services in DEMO_USERS:
        if login not in existing:
            accounts.add_user(login, DEMO_PASSWORD, role, services, now=now_utc())
    live = InMemoryLiveFeed()
    deps = build_web_deps(app, None, live, bridge=bridge)
    web_config = app.config.web
    follower = asyncio.create_task(bridge.follow(live), name="live-feed")
    try:
        site = create_app(deps)
        async with running_web(site, web_config.host, web_config.port, elsewhere=True) as url:
            logins = ", ".join(f"{u} ({ROLE_FR[r]})" for u, r, _ in DEMO_USERS)
            print(f"Comptes de démonstration (mot de passe « {DEMO_PASSWORD} ») : {logins}")
            print("Simulation « et si » des règles : informatique, page Système (/systeme/et-si)")
            yield url
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        app.close()


def now_utc() -> datetime:
    return datetime.now(UTC)

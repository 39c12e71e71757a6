"""The composition root: everything decroche runs is built here, from one :class:`Config`, once.

An :class:`App` is made per process (``decroche serve``, ``decroche demo``, each command, the
what-if child process) and hands out the parts, each built on first use and kept:

- the call records database, its :class:`RecordStore` and pseudonymiser;
- the routing rules in force (:class:`RulesHolder`), hence the services' names and the time zone;
- the indicators (:class:`analytics.api.Indicators`) with the configured objectives;
- the reports' settings (town, time zone), the scheduled jobs, the web app's dependencies;
- the audit calls' runner (its own ARI application) and their tables, apart from the records;
- the running service (:class:`decroche.service.Service`: ARI client, router, record writer).

Nothing else in the code base reads the configuration or opens the database: a command that
built its own ``Indicators`` with defaults would print figures the dashboard contradicts.
Heavy modules (SQLAlchemy, the web stack, WeasyPrint) are imported by the part that needs them,
so that ``decroche rules check`` starts without them.

Errors a person must act on are :class:`AppError`, in French.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from decroche.config import Config, load_config
from decroche.errors import AppError, ConfigError
from decroche.faults import database_reason

if TYPE_CHECKING:
    from analytics.api import Indicators
    from analytics.definitions import Parameters
    from analytics.staffing.api import Staffing
    from analytics.staffing.plan import QueueSetup
    from audit.jobs import AuditJobs
    from audit.run import AuditRunner
    from audit.store import AuditStore
    from decroche.jobs import Maintenance
    from decroche.service import Service
    from reports.agent_tables import AgentNaming
    from reports.annual_review import QualityRecords
    from reports.audit_report import AuditReportWriter
    from reports.audit_view import Wording
    from reports.documents import ReportInputs, ReportSettings
    from reports.jobs import MonthlyReportJob
    from reports.live import InMemoryLiveFeed
    from reports.periods import Period
    from reports.schedule import MadeReport, ReportLedger
    from reports.web import WebDeps
    from routing_rules.cache import RulesCache
    from routing_rules.holder import RulesHolder
    from routing_rules.kinds import Scale
    from routing_rules.narration import MenuWords
    from telephony.clock import Clock
    from telephony.flow.router import RouterSettings
    from telephony.records.engine import Database
    from telephony.records.model import CallRecord
    from telephony.records.pseudonym import Pseudonymiser
    from telephony.records.store import RecordStore
    from whatif.jobs import WhatIfJobs

log = logging.getLogger(__name__)


def safe_url(url: str) -> str:
    """The database URL without its password, fit for a message."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(adresse de base de données invalide)"


# The databases decroche writes to, and how their URLs are written (the drivers it ships).
SUPPORTED_DATABASES = (
    "SQLite (sqlite:///chemin/decroche.db) ou PostgreSQL "
    "(postgresql+psycopg://utilisateur:mot-de-passe@hôte/base)"
)


def check_database_url(url: str, where: str) -> None:
    """Refuse, in one French line naming ``where`` it was given, a database URL decroche cannot
    use: unreadable, another database than SQLite or PostgreSQL, or a driver it does not ship."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise AppError(
            f"{where} : adresse de base de données illisible ; il faut {SUPPORTED_DATABASES}"
        ) from exc
    backend, driver = parsed.get_backend_name(), parsed.drivername.partition("+")[2]
    if backend not in ("sqlite", "postgresql"):
        raise AppError(
            f"{where} : base de données « {backend} » non prise en charge ; "
            f"decroche enregistre dans {SUPPORTED_DATABASES}"
        )
    if driver not in ("", "pysqlite" if backend == "sqlite" else "psycopg"):
        raise AppError(
            f"{where} : pilote « {driver} » non fourni avec decroche ; écrivez "
            + ("sqlite:///…" if backend == "sqlite" else "postgresql+psycopg://…")
        )


class ReportAlreadyMade(AppError):
    """A report already made (or being made), asked for again without « refaire ». ``made``:
    what the ledger says of it, so that the person is told which version is where (local
    time: ``zone``). ``said``: the same without the file's place on the server, for a page
    (which lists the files itself)."""

    def __init__(self, kind: str, key: str, made: MadeReport | None, zone: ZoneInfo) -> None:
        what = f"le bilan {'mensuel' if kind == 'monthly' else 'annuel'} {key}"
        if made is None:  # released between the claim and this reading
            self.said = full = f"{what} est déjà produit ou en cours"
        elif not made.done:
            at = made.at.astimezone(zone)
            started = f"commencé le {at:%d/%m/%Y} à {at:%H:%M}"
            self.said = full = f"{what} est en cours de production ({started})"
        else:
            at = made.at.astimezone(zone)
            version = f"version {made.version} du {at:%d/%m/%Y} à {at:%H:%M}"
            place = next((f for f in made.files if f.suffix == ".pdf"), None)
            place = place or (made.files[0] if made.files else None)
            self.said = f"{what} est déjà produit ({version})"
            full = self.said if place is None else f"{what} est déjà produit ({version} : {place})"
        super().__init__(full)


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database or an in-memory one)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


class App:
    """Every part of decroche, built from ``config`` (see the module's text).

    ``database_url`` replaces the configuration's database (the commands' ``--db``);
    ``database``: one already open (tests on a PostgreSQL schema of their own).
    """

    def __init__(
        self,
        config: Config,
        *,
        config_path: Path | None = None,
        database_url: str | None = None,
        database: Database | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path
        self._database_url = database_url or (database.url if database is not None else None)
        self._database: Database | None = database
        self._pseudonymiser: Pseudonymiser | None = None
        self._store: RecordStore | None = None
        self._rules: RulesHolder | None = None
        self._url_checked = database is not None

    @classmethod
    def load(cls, config_path: Path | None = None, *, database_url: str | None = None) -> App:
        """The app of a configuration file (or of the defaults and the environment alone)."""
        return cls(load_config(config_path), config_path=config_path, database_url=database_url)

    # --- call records -----------------------------------------------------------------------

    @property
    def database_url(self) -> str:
        """The records' database URL, checked: one French line if decroche cannot use it."""
        url = self._database_url or self.config.database_url()
        if not self._url_checked:
            check_database_url(url, "--db" if self._database_url else "storage.url")
            self._url_checked = True
        return url

    def data_dir(self) -> Path:
        """The data directory (SQLite database, journal, reports), created if need be."""
        path = self.config.data_dir
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            from routing_rules.messages import os_reason

            raise AppError(
                f"dossier de données {path} impossible à créer ({os_reason(exc)}) : "
                "corrigez data_dir dans la configuration"
            ) from exc
        return path

    def database(self, *, create: bool = False) -> Database:
        """The call records database, its schema brought up to date.

        ``create=False`` (every command that reads records): a SQLite file that does not exist is
        refused with a clear message instead of being created empty — "0 appels" from a wrong
        path would look like a real figure.
        """
        if self._database is not None:
            return self._database
        from telephony.records.engine import open_store
        from telephony.records.errors import RecordsError

        url = self.database_url
        if url == self.config.database_url() and not self.config.storage.url:
            self.data_dir()  # the database is in it: its own error names the setting to fix
        file = self.database_missing()
        if not create and file is not None:
            raise AppError(
                f"la base des appels {file} n'existe pas : vérifiez --db, ou storage.url et "
                "data_dir dans la configuration (« decroche db upgrade » crée une base vide)"
            )
        try:
            self._database = open_store(url)
        except RecordsError as exc:
            raise AppError(
                f"base des appels {safe_url(url)} inutilisable : {database_reason(exc)}"
            ) from exc
        return self._database

    def database_missing(self) -> Path | None:
        """The SQLite file of the records when it does not exist (None: it exists, or the
        database is a server's)."""
        file = _sqlite_file(self.database_url)
        return file if file is not None and not file.is_file() else None

    def schema_status(self) -> tuple[str | None, int | None]:
        """The database's schema revision and its number of calls, read without upgrading
        anything (None, None: an empty database)."""
        from telephony.records.engine import current_revision, open_store
        from telephony.records.errors import RecordsError

        try:
            database = open_store(self.database_url, upgrade=False)
            try:
                revision = current_revision(database.engine)
                if revision is None:
                    return None, None
                from sqlalchemy import func, select

                from telephony.records.schema import calls

                with database.engine.connect() as connection:
                    count = connection.execute(select(func.count()).select_from(calls))
                    return revision, int(count.scalar_one())
            finally:
                database.dispose()
        except RecordsError as exc:
            raise AppError(
                f"base des appels {safe_url(self.database_url)} : {database_reason(exc)}"
            ) from exc

    def recorded_calls(self, start: date, end: date) -> list[CallRecord]:
        """The stored calls of the local days ``start``..``end`` (one day of margin each side:
        the caller keeps the exact local dates)."""
        from telephony.records.errors import RecordsError
        from telephony.records.store import calls_started_between

        low = datetime.combine(start - timedelta(days=1), time.min, UTC)
        high = datetime.combine(end + timedelta(days=2), time.min, UTC)
        try:
            return calls_started_between(self.database(), low, high)
        except RecordsError as exc:
            raise AppError(
                f"lecture des appels de {safe_url(self.database_url)} impossible : "
                f"{database_reason(exc)}"
            ) from exc

    def service_database(self) -> Database:
        """The database as the service opens it: nothing connects yet, so the service starts
        with the database down (the record writer journals until it is back)."""
        if self._database is None:
            from telephony.records.engine import open_store

            self.data_dir()  # the journal's home: refused at once if it cannot be made
            self._database = open_store(self.database_url, upgrade=False)
        return self._database

    @property
    def pseudonymiser(self) -> Pseudonymiser:
        if self._pseudonymiser is None:
            from telephony.records.errors import PseudonymError
            from telephony.records.pseudonym import pseudonymiser_from_config

            storage = self.config.storage
            try:
                secret = storage.pseudonym_secret.get_secret_value()
                self._pseudonymiser = pseudonymiser_from_config(
                    secret, self.config.data_dir if secret else self.data_dir()
                )
            except PseudonymError as exc:
                raise AppError(f"clé de pseudonymisation inutilisable : {exc}") from exc
        return self._pseudonymiser

    def store(self, *, create: bool = False) -> RecordStore:
        """The record store over :meth:`database` (the service's when it runs)."""
        if self._store is None:
            from telephony.records.store import RecordStore

            database = self._database or self.database(create=create)
            self._store = RecordStore(database, self.pseudonymiser)
        return self._store

    # --- routing rules ----------------------------------------------------------------------

    @property
    def rules_path(self) -> Path:
        from routing_rules.source import default_rules_path

        return self.config.rules.file or default_rules_path()

    @property
    def rules(self) -> RulesHolder:
        """The rules in force (reloaded by the service on change or SIGHUP)."""
        if self._rules is None:
            from routing_rules.errors import RulesInvalid
            from routing_rules.holder import RulesHolder

            try:
                self._rules = RulesHolder(self.rules_path, cache=self._rules_cache())
            except RulesInvalid as exc:
                from routing_rules.messages import counted

                if len(exc.problems) == 1:  # one line: "FILE:LINE:COL: what"
                    raise AppError(f"règles de routage refusées : {exc.problems[0]}") from exc
                problems = "\n".join(str(p) for p in exc.problems)
                raise AppError(
                    f"règles de routage {self.rules_path} refusées "
                    f"({counted(len(exc.problems), 'erreur')}) :\n{problems}"
                ) from exc
        return self._rules

    def _rules_cache(self) -> RulesCache | None:
        """Checked rules kept between commands (``cache_dir``), keyed by the catalogue too."""
        if self.config.cache_dir is None:
            return None
        from ivr_prompts.catalogue import default_catalogue_path
        from routing_rules.cache import RulesCache

        return RulesCache(self.config.cache_dir / "rules", inputs=[default_catalogue_path()])

    def names(self) -> dict[str, str]:
        """Each service's name by id, from the rules in force now (a reload renames)."""
        return {s.id: s.name for s in self.rules.current.services.values()}

    def service_agents(self) -> dict[str, tuple[str, ...]]:
        """Each service's agents' phones by id, from the rules in force now."""
        return {s.id: tuple(s.agents) for s in self.rules.current.services.values()}

    def agent_naming(self) -> AgentNaming:
        """How per-agent figures designate an agent, as the services' pages do: « Agent 1 »…
        unless the town decided to name them (``web.name_agents_in_figures``: their account in
        ``web.agent_phones``, else their phone); docs/chiffres-par-agent.md says why."""
        from reports.agent_tables import AgentNaming

        web = self.config.web
        return AgentNaming(
            named=web.name_agents_in_figures,
            logins={phone: login for login, phone in web.agent_phones.items()},
            service_phones=self.service_agents(),
        )

    @property
    def timezone(self) -> str:
        return str(self.rules.current.tz)

    # --- indicators -------------------------------------------------------------------------

    def parameters(
        self,
        *,
        rings: int | None = None,
        ring_seconds: float | None = None,
        short_abandon_s: float | None = None,
    ) -> Parameters:
        """The thresholds of the indicators: the ring commitments the objectives word (« en 5
        sonneries » by default), the rules' ring cycle and time zone; a command's ``--rings``
        and the like change them."""
        from analytics.definitions import Commitment, Parameters

        objectives = self.config.objectives
        default = objectives.commitment_for(None) or Commitment()
        rules = self.rules.current
        return Parameters(
            rings=rings or default.rings,
            before_ring=default.before,
            ring_seconds=ring_seconds or rules.ring_cycle_s,
            short_abandon_s=5.0 if short_abandon_s is None else short_abandon_s,
            timezone=self.timezone,
            commitments=objectives.commitments(),
        )

    def ring_limits(self) -> dict[str, float]:
        """How long each service rings before it overflows, by the rules in force."""
        return {s.id: s.ring_s for s in self.rules.current.services.values()}

    def indicators(self, parameters: Parameters | None = None) -> Indicators:
        """The indicators over the call records — and the figures beside them (agents, voice
        menus, callbacks, satisfaction) — with the configured objectives, in the rules' time
        zone, the survey read with the scales of the rules in force. Built afresh at each call
        (cheap: nothing is read yet), so that a rules reload is taken into account. Past days'
        figures are kept in the database under the configured thresholds only: other
        thresholds (a command's --rings) are computed from the entries."""
        from analytics.api import Indicators
        from analytics.figures import CHUNK_DAYS
        from analytics.sources import DatabaseSource

        source = DatabaseSource(self.database())
        configured = self.parameters()
        chosen = parameters or configured
        return Indicators(
            source,
            chosen,
            self.config.objectives,
            details=source,
            scales=self.survey_scales(),
            daily=source if chosen == configured else None,
            chunk_days=CHUNK_DAYS,
            ring_limits=self.ring_limits(),
        )

    def staffing(
        self,
        parameters: Parameters | None = None,
        *,
        queue_log: Path | None = None,
        queues: Mapping[str, QueueSetup] | None = None,
        database: Database | None = None,
    ) -> Staffing:
        """The agents needed per slot, over the call records (or a queue_log file): opening
        hours and names from the rules in force at each plan, the configured objectives and
        after-call work. Services with a queue in the rules in force are modelled as queues;
        ``queues``: more of them, or another maximum wait (``--queue``); ``database``: the
        running service's (the web app's)."""
        from analytics.sources import DatabaseSource, QueueLogSource
        from analytics.staffing.api import (
            RulesOpeningHours,
            Staffing,
            StaffingSettings,
            rules_queues,
        )

        source: DatabaseSource | QueueLogSource = (
            DatabaseSource(database or self.database())
            if queue_log is None
            else QueueLogSource(queue_log)
        )
        return Staffing(
            source,
            RulesOpeningHours(lambda: self.rules.current),
            parameters=parameters or self.parameters(),
            objectives=self.config.objectives,
            names=self.names,
            settings=lambda: StaffingSettings(
                after_call_work_s=dict(self.config.staffing.after_call_work_s),
                queues=rules_queues(self.rules.current) | dict(queues or {}),
            ),
            queue_log=queue_log is not None,
        )

    def survey_scales(self) -> dict[str, Scale]:
        """The scale of each survey question of the rules in force."""
        from analytics.satisfaction import SatisfactionError, scales_of

        try:
            return scales_of(self.rules.current)
        except SatisfactionError as exc:
            raise AppError(f"enquête des règles {self.rules_path} illisible : {exc}") from exc

    # --- reports and jobs -------------------------------------------------------------------

    @property
    def reports_dir(self) -> Path:
        """Where reports are written and where the dashboard lists them."""
        return self.config.data_dir / "rapports"

    def report_settings(self) -> ReportSettings:
        from reports.documents import ReportSettings

        return ReportSettings(town=self.config.web.town, timezone=self.timezone)

    def report_inputs(self) -> ReportInputs:
        """What a report is made from: the indicators, the names of the rules in force, the
        configured town — the same parts as the dashboard's."""
        from reports.documents import ReportInputs

        return ReportInputs(
            self.indicators(),
            self.names(),
            self.report_settings(),
            self.quality_records(),
            self.menu_choices(),
        )

    def menu_choices(self) -> dict[str, MenuWords]:
        """Each voice menu's name and what each key does, from the rules in force now."""
        from routing_rules.narration import menu_choices

        return menu_choices(self.rules.current)

    def quality_records(self) -> QualityRecords:
        """What the quality lead and the service recorded beside the calls (the web app's and
        the audit's tables, created by the service or by ``report_ledger``/``audit_store``):
        the action plan, the management reviews, the rules' versions, the internal audits, and
        the rules in force (their survey and opening hours)."""
        from audit.store import AuditStore
        from reports.actions import ActionBook
        from reports.annual_review import QualityRecords
        from reports.reviews import ReviewBook
        from reports.rules_history import RulesVersionBook

        engine = self.database().engine
        return QualityRecords(
            actions=ActionBook(engine),
            reviews=ReviewBook(engine),
            rules_history=RulesVersionBook(engine),
            audits=AuditStore(engine),
            rules_now=lambda: self.rules.current,
        )

    def report_ledger(self, *, upgrade: bool = True) -> ReportLedger:
        """The ledger of generated reports; ``upgrade``: its tables created or upgraded first
        (the service's web app does it when it starts: Alembic runs one at a time)."""
        from reports.accounts import upgrade_web_schema
        from reports.schedule import ReportLedger

        engine = self.database().engine
        if upgrade:
            upgrade_web_schema(engine)
        return ReportLedger(engine)

    def make_report(
        self,
        kind: str,
        period: Period,
        *,
        force: bool = False,
        pdf: bool = True,
        out: Path | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> list[Path]:
        """Make the monthly report (``kind="monthly"``) or annual review (``"annual"``) of
        ``period`` into ``out`` (default: the folder the dashboard lists), as ``decroche
        report`` and the Rapports page ask: claimed in the ledger (another process making the
        same report is refused, :class:`ReportAlreadyMade`, unless ``force``), given its next
        version, released if it fails."""
        from reports.documents import build_report, write_report

        inputs = self.report_inputs()
        now = datetime.now(UTC)
        key = period.month_key if kind == "monthly" else str(period.start.year)
        ledger = self.report_ledger()
        claimed = ledger.claim(kind, key, now=now)
        if not claimed and not force:
            raise ReportAlreadyMade(kind, key, ledger.made(kind, key), ZoneInfo(self.timezone))
        step = progress or (lambda _: None)
        version = ledger.next_version(kind, key)
        try:
            staffing = None
            if kind == "annual":
                from audit.store import upgrade_audit_schema

                # The review reads the internal audits' runs, and says "créneaux en
                # sous-effectif" from the year's staffing plan.
                upgrade_audit_schema(self.database().engine)
                staffing = self.staffing().plan(period.start, period.end)
            document = build_report(
                inputs,
                period,
                kind,
                generated_at=now,
                progress=step,
                staffing=staffing,
                version=version,
            )
            files = write_report(document, out or self.reports_dir, pdf=pdf, progress=step)
        except BaseException:
            if claimed:
                ledger.release(kind, key)
            raise
        ledger.done(kind, key, files, now=now, version=version)
        return files

    def monthly_report_job(
        self,
        out_dir: Path | None = None,
        *,
        now: Callable[[], datetime] | None = None,
        pdf: bool = True,
        upgrade: bool = True,
    ) -> MonthlyReportJob:
        """The monthly report job: each run asks for the indicators, names, town and time zone
        of that day (a rules reload renames services in the next report). ``upgrade=False``:
        the web tables are made by someone else (the service's web app)."""
        from reports.jobs import MonthlyReportJob

        return MonthlyReportJob(
            lambda: self.report_ledger(upgrade=upgrade),
            out_dir or self.reports_dir,
            self.report_inputs,
            now=now or (lambda: datetime.now(UTC)),
            pdf=pdf,
        )

    def maintenance(self, parameters: Parameters | None = None) -> Maintenance:
        """The daily maintenance (and ``decroche purge``); ``parameters``: other thresholds for
        the aggregates kept than the indicators' (tests)."""
        from decroche.jobs import Maintenance

        return Maintenance(self, parameters=parameters)

    # --- audit calls ------------------------------------------------------------------------

    @property
    def audit_app(self) -> str:
        """The robot's ARI application: never decroche's own."""
        return self.config.audit.app or f"{self.config.ari.app}-audit"

    def audit_store(self, *, upgrade: bool = True) -> AuditStore:
        """The audit runs' tables; ``upgrade``: created or upgraded first (the service does it
        at start-up, one migration at a time)."""
        from audit.store import AuditStore, AuditStoreError, upgrade_audit_schema

        engine = self.database(create=True).engine if upgrade else self.database().engine
        if upgrade:
            try:
                upgrade_audit_schema(engine)
            except AuditStoreError as exc:
                raise AppError(str(exc)) from exc
        return AuditStore(engine)

    def audit_runner(
        self,
        *,
        clock: Clock | None = None,
        store: AuditStore | None = None,
        heartbeat_s: float | None = None,
    ) -> AuditRunner:
        """The audit: its robot on ``audit_app`` (its own ARI connection), the rules in force,
        the prompts' texts, and ``store`` (None: the audit's tables of this database)."""
        from audit.checks import CheckSettings
        from audit.robot import RobotSettings
        from audit.run import AuditRunner, AuditSettings
        from ivr_prompts.catalogue import load_catalogue
        from telephony.ari.client import AriClient
        from telephony.clock import RealClock

        config = self.config
        audit = config.audit
        client = AriClient(
            config.ari.url,
            config.ari.username,
            config.ari.password.get_secret_value(),
            self.audit_app,
            timeout=config.ari.request_timeout_s,
        )
        settings = AuditSettings(
            decroche_app=config.ari.app,
            main_number=audit.main_number,
            concurrency=audit.concurrency,
            robot=RobotSettings(context=audit.context, call_timeout_s=audit.call_timeout_s),
            checks=CheckSettings(max_first_prompt_s=audit.max_first_prompt_s),
        )
        catalogue = load_catalogue()
        beat = heartbeat_s or config.ari.ping_interval_s
        return AuditRunner(
            client=client,
            clock=clock or RealClock(),
            rules=lambda: self.rules.current,
            names=self.names,
            texts=lambda: catalogue,
            store=store if store is not None else self.audit_store(),
            settings=settings,
            heartbeat_s=beat,
            ping_interval_s=2 * beat,
        )

    def audit_jobs(
        self, *, clock: Clock | None = None, store: AuditStore | None = None
    ) -> AuditJobs:
        """The service's audits (button, nightly, after a reload), each run's report written
        per the configuration."""
        from audit.jobs import AuditJobs

        store = store if store is not None else self.audit_store()
        writer = self.audit_report_writer(store=store)
        return AuditJobs(
            self.audit_runner(clock=clock, store=store),
            store,
            writer.run_report,
            after_reload=self.config.audit.after_reload,
        )

    def audit_report_writer(
        self, *, pdf: bool | None = None, store: AuditStore | None = None
    ) -> AuditReportWriter:
        """The audit's reports (per run, per month) into the reports folder, in the rules' words
        and time zone (``pdf``: None, the configuration's ``audit.report_pdf``)."""
        from reports.audit_report import AuditReportWriter

        return AuditReportWriter(
            store if store is not None else self.audit_store(),
            self.reports_dir,
            self.audit_wording,
            self.report_settings,
            pdf=self.config.audit.report_pdf if pdf is None else pdf,
        )

    def audit_wording(self) -> Wording:
        """Ids into words for the audit's pages and reports: the services' names of the rules
        in force, the prompts' texts, the rules' time zone."""

        from ivr_prompts.catalogue import load_catalogue
        from reports.audit_view import Wording

        return Wording(self.names(), load_catalogue(), ZoneInfo(self.timezone))

    # --- the web app ------------------------------------------------------------------------

    def web_deps(
        self, service: Service | None, live: InMemoryLiveFeed, audit: AuditJobs | None = None
    ) -> WebDeps:
        from decroche.web import build_web_deps

        return build_web_deps(self, service, live, audit)

    def whatif_jobs(self) -> WhatIfJobs:
        from decroche.web import whatif_jobs

        return whatif_jobs(self)

    # --- the running service ----------------------------------------------------------------

    def service(
        self,
        *,
        clock: Clock | None = None,
        router: RouterSettings | None = None,
        web_tables: bool = False,
    ) -> Service:
        """The running service's parts (``web_tables``: its writer makes the web app's tables
        too, as ``decroche serve`` needs)."""
        from decroche.service import Service

        return Service.build(self, clock=clock, router=router, web_tables=web_tables)

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()
            self._database = None
            self._store = None


__all__ = ["App", "AppError", "ConfigError", "check_database_url", "safe_url"]

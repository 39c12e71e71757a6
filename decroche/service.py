"""The running service: ARI client, router, record writer and rules watcher, started and
stopped together.

:class:`Service` is built by the composition root (:meth:`decroche.app.App.service`) from the
parts it holds (database, store, rules); ``decroche serve`` and ``decroche demo`` run one.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from audit.store import AuditStoreError, upgrade_audit_schema
from decroche.app import AppError
from decroche.config import Config
from decroche.faults import database_reason, service_problems
from reports.accounts import upgrade_web_schema
from reports.errors import ReportsError
from routing_rules.holder import RulesHolder, RulesWatcher
from telephony.ari.client import AriClient
from telephony.ari.errors import AriError, Unauthorized
from telephony.clock import Clock, RealClock
from telephony.flow.router import Router, RouterSettings
from telephony.records.codec import WriteItem
from telephony.records.engine import Database
from telephony.records.errors import JournalError, StoreUnavailable
from telephony.records.journal import Journal
from telephony.records.store import ApplyResult, RecordStore
from telephony.records.writer import RecordWriter, WriterState

if TYPE_CHECKING:
    from decroche.app import App

log = logging.getLogger(__name__)


def router_settings(config: Config, given: RouterSettings | None = None) -> RouterSettings:
    """The router's settings from the ``ari`` section (the WebSocket's ping, the longest wait
    between two reconnection attempts) and the ``audit`` section (the test phone); ``given``:
    settings of the caller's (the demo's, in virtual time), with the configuration's test phone
    if they name none."""
    if given is None:
        return RouterSettings(
            heartbeat_s=config.ari.ping_interval_s,
            reconnect_max_backoff_s=config.ari.reconnect_max_backoff_s,
            audit_test_phone=config.audit.test_phone,
        )
    if given.audit_test_phone is None and config.audit.test_phone is not None:
        return dataclasses.replace(given, audit_test_phone=config.audit.test_phone)
    return given


def journal(path: Path) -> Journal:
    """The records' journal; one French line if the one left by the last run cannot be read
    (its calls would be lost: nothing starts until someone looks)."""
    try:
        return Journal(path)
    except JournalError as exc:
        raise AppError(
            f"journal des appels {path} illisible ({database_reason(exc)}) : il contient peut-"
            "être des appels pas encore écrits dans la base ; vérifiez ses droits"
        ) from exc


def asterisk_refusal(exc: AriError, config: Config) -> str:
    """Why the service could not start listening to Asterisk, in one French line."""
    ari = config.ari
    if isinstance(exc, Unauthorized):
        return (
            f"Asterisk refuse l'utilisateur ARI « {ari.username} » (erreur 401) : vérifiez "
            "ari.username et le mot de passe (DECROCHE_ARI__PASSWORD, celui de "
            f"[{ari.username}] dans ari.conf)"
        )
    if getattr(exc, "status", None) == 400:
        return (
            f"Asterisk refuse l'application ARI « {ari.app} » (erreur 400) : vérifiez ari.app "
            "et que le module res_ari est chargé"
        )
    return (
        f"Asterisk injoignable à {ari.url} : pas de connexion ARI (WebSocket) ; vérifiez "
        "ari.url et qu'Asterisk est démarré avec ARI activé (http.conf, ari.conf)"
    )


class SchemaFirst:
    """The record store as the service's writer uses it (a ``BatchStore``).

    The writer calls :meth:`ensure_schema` from its thread until the database answers, with its
    own growing delay, before writing anything: the service starts with the database down, and
    its tables are made the moment it is back. The web app's tables (accounts, reports' ledger)
    and the audit's are made there too — in that one thread, after the records', as Alembic
    runs one at a time — then ``on_ready`` is called (from the writer's thread).
    """

    def __init__(self, store: RecordStore, then: Sequence[Callable[[], None]] = ()) -> None:
        self._store = store
        self._then = tuple(then)
        self.ready = False
        self.on_ready: Callable[[], None] = lambda: None

    def ensure_schema(self) -> None:
        self._store.ensure_schema()
        for step in self._then:
            try:
                step()
            except (ReportsError, AuditStoreError) as exc:  # the database went away: tried again
                raise StoreUnavailable(str(exc)) from exc
        self.ready = True
        self.on_ready()

    def apply(self, items: Sequence[WriteItem]) -> ApplyResult:
        return self._store.apply(items)

    def close_interrupted(self, before_seq: int, seq: int) -> int:
        return self._store.close_interrupted(before_seq, seq)


@dataclass
class Service:
    config: Config
    clock: Clock
    database: Database
    store: RecordStore
    schema: SchemaFirst
    writer: RecordWriter
    rules: RulesHolder
    client: AriClient
    router: Router
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _reloads: set[asyncio.Task[None]] = field(default_factory=set)
    # Set once the database's tables exist (the writer made them): the jobs wait for it.
    schema_ready: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def build(
        cls,
        app: App,
        *,
        clock: Clock | None = None,
        router: RouterSettings | None = None,
        web_tables: bool = False,
    ) -> Service:
        """The service of ``app``; ``router``: settings replacing the configuration's (the demo
        and the what-if replays run in virtual time); ``web_tables``: the writer makes the web
        app's tables too, with the records' (``decroche serve``: see :class:`SchemaFirst`)."""
        config = app.config
        clock = clock or RealClock()
        # The service starts even with the database down: the writer journals until it is back.
        database = app.service_database()
        store = app.store()
        schema = SchemaFirst(
            store,
            [
                lambda: upgrade_web_schema(database.engine),
                lambda: upgrade_audit_schema(database.engine),
            ]
            if web_tables
            else [],
        )
        writer = RecordWriter(schema, journal(config.data_dir / "records.journal"))
        rules = app.rules
        client = AriClient(
            config.ari.url,
            config.ari.username,
            config.ari.password.get_secret_value(),
            config.ari.app,
            timeout=config.ari.request_timeout_s,
        )
        return cls(
            config=config,
            clock=clock,
            database=database,
            store=store,
            schema=schema,
            writer=writer,
            rules=rules,
            client=client,
            router=Router(
                client=client,
                rules=rules,
                records=writer,
                clock=clock,
                settings=router_settings(config, router),
            ),
        )

    async def start(self) -> None:
        """Start writing records and listening to Asterisk; :class:`AppError` (French) if
        Asterisk refuses decroche or cannot be reached, with nothing left running."""
        loop = asyncio.get_running_loop()

        def ready() -> None:
            loop.call_soon_threadsafe(self.schema_ready.set)

        self.schema.on_ready = ready
        self.writer.start()
        try:
            await self.router.start()
        except BaseException as exc:
            await self.router.close()
            await self.writer.aclose()
            await self.client.close()
            if isinstance(exc, AriError):
                raise AppError(asterisk_refusal(exc, self.config)) from exc
            raise
        # Every reload (file change, SIGHUP): the new rules' phones are checked with Asterisk.
        self.rules.add_listener(lambda _rules: self.router.rules_changed())
        watcher = RulesWatcher(self.rules)
        self._tasks.append(asyncio.create_task(watcher.run(), name="rules-watcher"))
        log.info(
            "decroche started: ARI %s app %s, rules %s, records %s",
            self.config.ari.url,
            self.config.ari.app,
            self.rules.version[:12],
            self.database.dialect,
        )

    async def stop(self) -> None:
        """Drain calls, then flush the records; safe to call once after start()."""
        await self.router.stop()
        tasks = [*self._tasks, *self._reloads]  # a reload under way is dropped: rules unchanged
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.writer.aclose()
        await self.client.close()
        self.database.dispose()

    def reload_rules(self) -> None:
        """SIGHUP: reload the rules in the background (read and checked off the event loop)."""
        task = asyncio.get_running_loop().create_task(self._reload_rules(), name="rules-reload")
        self._reloads.add(task)  # kept until done: the loop holds tasks weakly
        task.add_done_callback(self._reloads.discard)

    async def _reload_rules(self) -> None:
        from routing_rules.holder import Trigger

        outcome = await self.rules.reload_async(Trigger.SIGHUP)
        if outcome.ok:
            log.info("rules reloaded (SIGHUP): %s", outcome.version)
        else:
            for problem in outcome.problems:
                log.error("rules refused (SIGHUP): %s", problem)

    # --- health and metrics --------------------------------------------------------------------

    def health(self) -> dict[str, object]:
        """/healthz: ``status`` ok or degraded, and ``problems``, one French sentence each."""
        status = self.writer.status()
        phones = self.router.phones
        problems = service_problems(
            ari_connected=self.router.stream.connected,
            accepting_calls=self.router.accepting,
            records=status,
        )
        return {
            "status": "degraded" if problems else "ok",
            "problems": problems,
            "ari_connected": self.router.stream.connected,
            "accepting_calls": self.router.accepting,
            "rules_version": self.rules.version,
            "records": status.state.value,
            "journal_backlog": status.journal_backlog,
            # Calls whose records neither the database nor the journal holds (disk full).
            "calls_in_memory": status.calls_in_memory,
            "records_error": status.journal_error or status.last_error,
            # The rules' phones Asterisk does not know (never rung): a configuration to fix,
            # not an outage, so they do not change the status.
            "phones": phones.as_dict() if phones is not None else None,
        }

    def metrics(self) -> str:
        """Prometheus text exposition."""
        live = self.router.live_calls()
        status = self.writer.status()
        stream = self.router.stream.counters
        lines = [
            "# HELP decroche_calls_in_progress Calls in the application now, by phase.",
            "# TYPE decroche_calls_in_progress gauge",
        ]
        for phase in ("ivr", "waiting", "talking"):
            count = sum(1 for c in live if c.phase == phase)
            lines.append(f'decroche_calls_in_progress{{phase="{phase}"}} {count}')
        lines += [
            "# HELP decroche_waiting_calls Calls waiting for a service now.",
            "# TYPE decroche_waiting_calls gauge",
        ]
        waiting: dict[str, int] = {}
        for call in live:
            if call.phase == "waiting" and call.service_id:
                waiting[call.service_id] = waiting.get(call.service_id, 0) + 1
        for service, count in sorted(waiting.items()):
            lines.append(f'decroche_waiting_calls{{service="{service}"}} {count}')
        counters = self.router.counters
        orphans = self.router.orphans.counts
        lines += [
            "# TYPE decroche_calls_total counter",
            f"decroche_calls_total {counters.calls_finished}",
            "# TYPE decroche_calls_failed_total counter",
            f"decroche_calls_failed_total {counters.calls_failed}",
            "# HELP decroche_audit_calls_total decroche's own audit calls (in no other figure).",
            "# TYPE decroche_audit_calls_total counter",
            f"decroche_audit_calls_total {counters.audit_calls}",
            "# TYPE decroche_ari_reconnects_total counter",
            f"decroche_ari_reconnects_total {stream.reconnects}",
            "# HELP decroche_calls_cut_total Calls ended by the PBX or the link (not hung up).",
            "# TYPE decroche_calls_cut_total counter",
            f"decroche_calls_cut_total {counters.calls_cut}",
            "# HELP decroche_orphans_total Channels left on Asterisk that no call held, by fate.",
            "# TYPE decroche_orphans_total counter",
            f'decroche_orphans_total{{fate="handed_back"}} {orphans.handed_back}',
            f'decroche_orphans_total{{fate="hung_up"}} {orphans.hung_up}',
            f'decroche_orphans_total{{fate="watched"}} {orphans.watched}',
            "# TYPE decroche_orphan_bridges_destroyed_total counter",
            f"decroche_orphan_bridges_destroyed_total {orphans.bridges_destroyed}",
            "# TYPE decroche_ari_malformed_frames_total counter",
            f"decroche_ari_malformed_frames_total {stream.malformed}",
            "# TYPE decroche_journal_backlog gauge",
            f"decroche_journal_backlog {status.journal_backlog}",
            "# HELP decroche_records_in_memory Record items neither in the database nor in the "
            "journal (journal unwritable): lost if the process ends.",
            "# TYPE decroche_records_in_memory gauge",
            f"decroche_records_in_memory {status.held_in_memory}",
            "# HELP decroche_calls_in_memory Calls with records held in memory only.",
            "# TYPE decroche_calls_in_memory gauge",
            f"decroche_calls_in_memory {status.calls_in_memory}",
            "# HELP decroche_records_database_up Whether records are written to the database.",
            "# TYPE decroche_records_database_up gauge",
            f"decroche_records_database_up {int(status.state is WriterState.OK)}",
            "# TYPE decroche_rules_info gauge",
            f'decroche_rules_info{{version="{self.rules.version}"}} 1',
        ]
        return "\n".join(lines) + "\n"

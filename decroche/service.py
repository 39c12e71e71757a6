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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from decroche.config import Config
from routing_rules.holder import RulesHolder, RulesWatcher
from telephony.ari.client import AriClient
from telephony.clock import Clock, RealClock
from telephony.flow.router import Router, RouterSettings
from telephony.records.engine import Database
from telephony.records.journal import Journal
from telephony.records.store import RecordStore
from telephony.records.writer import RecordWriter

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


@dataclass
class Service:
    config: Config
    clock: Clock
    database: Database
    store: RecordStore
    writer: RecordWriter
    rules: RulesHolder
    client: AriClient
    router: Router
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def build(
        cls, app: App, *, clock: Clock | None = None, router: RouterSettings | None = None
    ) -> Service:
        """The service of ``app``; ``router``: settings replacing the configuration's (the demo
        and the what-if replays run in virtual time)."""
        config = app.config
        clock = clock or RealClock()
        # The service starts even with the database down: the writer journals until it is back.
        database = app.service_database()
        store = app.store()
        writer = RecordWriter(store, Journal(config.data_dir / "records.journal"))
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
        self.writer.start()
        await self.router.start()
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
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.writer.aclose()
        await self.client.close()
        self.database.dispose()

    def reload_rules(self) -> None:
        from routing_rules.holder import Trigger

        outcome = self.rules.reload(Trigger.SIGHUP)
        if outcome.ok:
            log.info("rules reloaded (SIGHUP): %s", outcome.version)
        else:
            for problem in outcome.problems:
                log.error("rules refused (SIGHUP): %s", problem)

    # --- health and metrics --------------------------------------------------------------------

    def health(self) -> dict[str, object]:
        status = self.writer.status()
        phones = self.router.phones
        return {
            "ari_connected": self.router.stream.connected,
            "accepting_calls": self.router.accepting,
            "rules_version": self.rules.version,
            "records": status.state.value,
            "journal_backlog": status.journal_backlog,
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
            "# TYPE decroche_rules_info gauge",
            f'decroche_rules_info{{version="{self.rules.version}"}} 1',
        ]
        return "\n".join(lines) + "\n"

"""``decroche serve``: the service for real: router, record writer, scheduler and web app in one
process, against Asterisk (or the simulated PBX) as configured.

Signals: SIGHUP reloads the routing rules (a bad file is refused and logged, the previous rules
stay); SIGTERM or SIGINT drains (no new call, calls in progress finish or go back to the
dialplan, records flushed) and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audit.jobs import AuditJobs
    from decroche.app import App
    from decroche.service import Service
    from routing_rules.compiled import CompiledRules

log = logging.getLogger(__name__)


class JsonFormatter(logging.Formatter):
    """Structured logs: one JSON object a line (journald and log collectors read them)."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False)


def configure_logging(level: str, json_logs: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_logs:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)


async def _record_rules_versions(service: Service, loop: asyncio.AbstractEventLoop) -> None:
    """Each version of the rules put in force is recorded with what a management review reads
    of it (services, opening hours, agents, rings: :mod:`reports.rules_history`), off the event
    loop; a failure is logged and never stops a reload."""
    from reports.rules_history import RulesVersionBook

    book = RulesVersionBook(service.database.engine)

    def record(rules: CompiledRules, trigger: str) -> None:
        try:
            book.record(rules, trigger=trigger, by=None, now=datetime.now(UTC))
        except Exception as exc:  # the database may be down: the calls go on
            log.error("rules version %s not recorded for the annual review: %s", rules.version, exc)

    await loop.run_in_executor(None, record, service.rules.current, "startup")

    def changed(rules: CompiledRules) -> None:  # in the thread that reloaded
        loop.call_soon_threadsafe(loop.run_in_executor, None, record, rules, "reload")

    service.rules.add_listener(changed)


async def run_service(app: App) -> None:
    """Run until SIGTERM or SIGINT. The web port is taken first (a port in use stops the start
    before any call is taken); the service then starts even with the database down — calls are
    journaled, its tables made as soon as it answers (the writer's thread, see
    :class:`decroche.service.SchemaFirst`) — and the scheduled jobs and the audits begin once
    they exist."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from decroche.web import publish_live, running_web
    from reports.live import InMemoryLiveFeed
    from reports.web import create_app

    service = app.service(web_tables=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, service.reload_rules)
    # Built now (the web app shows it), started once its tables exist (start_jobs).
    audit = app.audit_jobs(store=app.audit_store(upgrade=False))
    live = InMemoryLiveFeed()
    web = app.config.web
    site = create_app(app.web_deps(service, live, audit), make_tables=False)
    try:
        async with running_web(site, web.host, web.port) as url:
            await service.start()
            publisher = asyncio.create_task(publish_live(service, live), name="live-feed")
            scheduler = AsyncIOScheduler(timezone=app.timezone)
            scheduler.start()
            jobs = asyncio.create_task(start_jobs(app, service, scheduler, audit), name="jobs")
            try:
                log.info("decroche is serving: tableau de bord %s, metrics %smetrics", url, url)
                await stop.wait()
                log.info("stopping: draining calls")
            finally:
                scheduler.shutdown(wait=False)
                for task in (jobs, publisher):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                await audit.close()
                await service.stop()
    finally:
        app.close()
    log.info("stopped")


async def start_jobs(app: App, service: Service, scheduler: Any, audit: AuditJobs) -> None:
    """Schedule the jobs and start the audits once the database's tables exist: the monthly
    report's catch-up reads the reports' ledger, the audits write their runs, and a database
    down at start has neither yet."""
    from decroche.jobs import schedule_jobs

    if not service.schema_ready.is_set():
        log.warning("scheduled jobs and audits wait for the call records database")
    await service.schema_ready.wait()
    await _record_rules_versions(service, asyncio.get_running_loop())
    audit.start()
    # After each reload, the paths the change touched are audited.
    service.rules.add_listener(audit.rules_changed)
    schedule_jobs(app, scheduler, audit)
    log.info("scheduled jobs started (monthly report, maintenance, audits)")

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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from decroche.app import App

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


async def run_service(app: App) -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from audit.store import upgrade_audit_schema
    from decroche.jobs import schedule_jobs
    from decroche.web import publish_live, running_web
    from reports.accounts import upgrade_web_schema
    from reports.live import InMemoryLiveFeed
    from reports.web import create_app
    from telephony.records.engine import upgrade_schema

    service = app.service()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, service.reload_rules)
    # One schema upgrade at a time (Alembic's state is global to the process): the records',
    # the web app's tables, the audit's, then the writer's own check as the service starts.
    try:
        await loop.run_in_executor(None, upgrade_schema, service.database.engine)
        await loop.run_in_executor(None, upgrade_web_schema, service.database.engine)
    except Exception as exc:  # the writer journals until the database is back
        log.error("call records database unavailable at start: %s", exc)
    audit = None
    try:
        await loop.run_in_executor(None, upgrade_audit_schema, service.database.engine)
        audit = app.audit_jobs(store=app.audit_store(upgrade=False))
    except Exception as exc:  # the calls go on; the audits wait for the next start
        log.error("audit tables unavailable at start, no audit this time: %s", exc)
    await service.start()
    if audit is not None:
        audit.start()
        # After each reload, the paths the change touched are audited.
        service.rules.add_listener(audit.rules_changed)
    live = InMemoryLiveFeed()
    publisher = asyncio.create_task(publish_live(service, live), name="live-feed")
    scheduler = AsyncIOScheduler(timezone=app.timezone)
    schedule_jobs(app, scheduler, audit)
    scheduler.start()
    web = app.config.web
    site = create_app(app.web_deps(service, live, audit), make_tables=False)
    try:
        async with running_web(site, web.host, web.port) as url:
            log.info("decroche is serving: tableau de bord %s, metrics %smetrics", url, url)
            await stop.wait()
            log.info("stopping: draining calls")
    finally:
        scheduler.shutdown(wait=False)
        if audit is not None:
            await audit.close()
        publisher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await publisher
        await service.stop()
        app.close()
        log.info("stopped")

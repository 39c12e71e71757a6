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
from pathlib import Path
from typing import Any

import click

from decroche.app import Decroche
from decroche.config import Config, ConfigError, load_config

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


async def run_service(config: Config) -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from decroche.web import publish_live, running_web, web_deps
    from reports.jobs import MonthlyReportJob
    from reports.live import InMemoryLiveFeed
    from reports.schedule import schedule_monthly_reports
    from reports.web import create_app
    from telephony.records.engine import upgrade_schema
    from telephony.records.retention import daily_maintenance

    system = Decroche.build(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, system.reload_rules)
    try:
        await loop.run_in_executor(None, upgrade_schema, system.database.engine)
    except Exception as exc:  # the writer journals until the database is back
        log.error("call records database unavailable at start: %s", exc)
    await system.start()
    live = InMemoryLiveFeed()
    publisher = asyncio.create_task(publish_live(system, live), name="live-feed")
    scheduler = AsyncIOScheduler(timezone="Europe/Paris")
    schedule_monthly_reports(
        scheduler, MonthlyReportJob(system.database, config.data_dir / "rapports")
    )

    def maintenance() -> None:
        from datetime import UTC, datetime

        daily_maintenance(
            system.database,
            now=datetime.now(UTC),
            retention_months=config.storage.retention_months,
        )

    scheduler.add_job(maintenance, "cron", hour=3, minute=30, id="retention", replace_existing=True)
    scheduler.start()
    app = create_app(web_deps(config, system.database, system, live))
    try:
        async with running_web(app, config.web.host, config.web.port) as url:
            log.info("decroche is serving: tableau de bord %s, metrics %smetrics", url, url)
            await stop.wait()
            log.info("stopping: draining calls")
    finally:
        scheduler.shutdown(wait=False)
        publisher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await publisher
        await system.stop()
        log.info("stopped")


@click.command("serve")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Configuration file (YAML); secrets from the environment.",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
@click.option("--json-logs/--text-logs", default=True, show_default=True)
def serve(config_path: Path | None, log_level: str, json_logs: bool) -> None:
    """Le service : routeur ARI, enregistrements, rapports planifiés et tableau de bord."""
    configure_logging(log_level, json_logs)
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    asyncio.run(run_service(config))

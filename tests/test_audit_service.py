"""The audit in the service as the composition root builds it (the parts ``decroche serve``
runs): callers and audit calls on the same simulated PBX, the audit on demand and after a rules
reload, and every figure — indicators, exports, the monthly report, ``/metrics`` — counting the
callers only. Virtual time.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from audit.jobs import AuditJobs
from audit.results import RunStatus, Trigger
from audit.store import upgrade_audit_schema
from decroche.app import App
from decroche.config import RulesConfig, load_config
from decroche.service import Service
from decroche.web import build_web_deps, live_snapshot
from reports.documents import build_report
from reports.live import InMemoryLiveFeed
from reports.periods import Period
from reports.tables import to_csv
from reports.web.figures import find_table
from routing_rules.loader import default_rules_path
from telephony.flow.router import RouterSettings
from telephony.records.engine import upgrade_schema
from telephony.simulator import AgentScript, CallerScript, KeyPress, SimulatedPbx
from telephony.virtual_time import LoopClock
from tests.audit_support import sounds_folder
from tests.flow_support import OPEN_HOURS, bernay_agents

pytestmark = pytest.mark.virtual_time

CALLERS = 4


@dataclass
class Running:
    app: App
    service: Service
    audit: AuditJobs
    pbx: SimulatedPbx
    clock: LoopClock
    rules: Path


@asynccontextmanager
async def running_service(tmp_path: Path) -> AsyncIterator[Running]:
    clock = LoopClock(OPEN_HOURS)
    pbx = SimulatedPbx(clock=clock, sounds=sounds_folder(tmp_path / "sons"))
    port = await pbx.start(port=0)
    for endpoint in bernay_agents():
        pbx.add_agent(AgentScript(endpoint=endpoint, ring_time=3.0, talk_time=20.0))
    rules = tmp_path / "regles.yaml"
    shutil.copyfile(default_rules_path(), rules)
    config = load_config(None, environ={})
    config = config.model_copy(
        update={
            "data_dir": tmp_path / "data",
            "ari": config.ari.model_copy(
                update={"url": f"http://127.0.0.1:{port}/ari", "password": SecretStr("decroche")}
            ),
            "rules": RulesConfig(file=rules),
            "audit": config.audit.model_copy(update={"report_pdf": False}),
        }
    )
    app = App(config)
    service = app.service(
        clock=clock, router=RouterSettings(heartbeat_s=3600, ping_interval_s=3600)
    )
    upgrade_schema(service.database.engine)
    upgrade_audit_schema(service.database.engine)
    audit = app.audit_jobs(clock=clock, store=app.audit_store(upgrade=False))
    await service.start()
    audit.start()
    service.rules.add_listener(audit.rules_changed)
    try:
        yield Running(app, service, audit, pbx, clock, rules)
    finally:
        await audit.close()
        await service.stop()
        await pbx.stop()
        app.close()


async def callers(pbx: SimulatedPbx) -> None:
    """``CALLERS`` people asking for the CCAS (keys 2 then 1), talking 20 s with an agent."""
    handles = [
        pbx.place_call(
            CallerScript(
                caller_number=f"061234567{n}",
                endpoint=f"PJSIP/caller{n}",
                keys=(KeyPress(digits="2", after=1.0), KeyPress(digits="1", after=1.0)),
                talk_time=60.0,
            )
        )
        for n in range(CALLERS)
    ]
    for handle in handles:
        await handle.wait()


async def watch_live(running: Running) -> tuple[int, int]:
    """Until cancelled: the most audit calls seen on the PBX at once, and the most calls in
    the live view (callers in the menus, waiting or talking) at once."""
    most_audit = most_live = 0
    try:
        while True:
            channels = running.pbx.engine.channels.values()
            most_audit = max(most_audit, sum(1 for c in channels if c.local_peer is not None))
            snapshot = live_snapshot(running.service)
            live = snapshot.in_ivr + sum(s.waiting + s.in_conversation for s in snapshot.services)
            most_live = max(most_live, live)
            await asyncio.sleep(0.5)
    except asyncio.CancelledError:
        return most_audit, most_live


async def stop_watching(task: asyncio.Task[tuple[int, int]]) -> tuple[int, int]:
    task.cancel()
    return await task


async def test_audit_calls_are_in_no_figure_and_a_wrong_key_is_caught_after_reload(
    tmp_path: Path,
) -> None:
    async with running_service(tmp_path) as running:
        app, audit = running.app, running.audit
        assert audit.launch(Trigger.PAGE, by="informatique")
        assert not audit.launch(Trigger.PAGE, by="informatique")  # one at a time
        # Callers while the audit calls: both at once on the PBX, the live view seeing only
        # the callers.
        watching = asyncio.create_task(watch_live(running))
        await callers(running.pbx)
        audit_channels, most_live = await stop_watching(watching)
        assert audit_channels > 0 and 0 < most_live <= CALLERS
        first = await audit.wait()
        assert first is not None and first.ok and len(first.results) == 27
        # A rules change sends key 1 of the espace du droit et de la famille elsewhere.
        text = running.rules.read_text(encoding="utf-8")
        running.rules.write_text(
            text.replace('"1": {service: ccas}', '"1": {service: guichet_famille}'),
            encoding="utf-8",
        )
        assert running.service.rules.reload().changed
        for _ in range(200):  # the touched paths are worked out, then audited
            await asyncio.sleep(1)
            latest = audit.latest()
            if latest is not None and latest.trigger is Trigger.RELOAD:
                break
        reload_run = audit.latest()
        assert reload_run is not None and reload_run.trigger is Trigger.RELOAD
        assert reload_run.status is RunStatus.DONE
        assert [r.path_id for r in reload_run.results] == ["standard.2.1"]
        assert [c.code for c in reload_run.failed[0].failures] == ["annonce"]
        # The service says so: /healthz detail, /metrics.
        deps = build_web_deps(app, running.service, InMemoryLiveFeed(), audit)
        assert deps.healthz is not None and deps.metrics is not None
        health = deps.healthz()
        assert health["audit"]["failed_paths"] == [  # type: ignore[index]
            {"path": "standard.2.1", "checks": ["annonce"]}
        ]
        metrics = deps.metrics()
        assert 'decroche_audit_paths{result="failed"} 1' in metrics
        assert "decroche_audit_ok 0" in metrics
        assert f"decroche_calls_total {CALLERS}" in metrics
        assert "decroche_audit_calls_total 28" in metrics
        await running.pbx.wait_idle()
        # The runs' reports are in the reports folder (HTML here: PDF off in this test).
        assert (app.reports_dir / f"audit-interne-{first.id}.html").is_file()

    # Every figure counts the callers only.
    app = App(app.config)
    try:
        day = OPEN_HOURS.astimezone(app.rules.current.tz).date()
        assert app.store().count_calls() == CALLERS
        report = app.indicators().report(day, day)
        assert report.total.offered == CALLERS
        assert {s: c.offered for s, c in report.services.items()} == {"ccas": CALLERS}
        deps = build_web_deps(app, None, InMemoryLiveFeed())
        period = Period(day, day)
        board = to_csv(find_table(deps, "tableau-de-bord", period)).decode("utf-8")
        header, *_, total_line = board.strip().splitlines()
        offered = header.split(";").index("Appels présentés")
        assert total_line.split(";")[offered] == str(CALLERS), board
        menus = to_csv(find_table(deps, "choix-menu", period)).decode("utf-8")
        assert f";{CALLERS}" in menus, menus
        from reports.accounts import upgrade_web_schema

        upgrade_web_schema(app.database().engine)  # the action plan's tables (the web app's)
        document = build_report(
            app.report_inputs(), period, "monthly", generated_at=datetime.now(UTC)
        )
        assert f"<strong>{CALLERS}</strong> appels" in document.html
        # The audits are stored apart: 27 paths, then the one the reload touched.
        assert [len(r.results) for r in app.audit_store().runs()] == [1, 27]
    finally:
        app.close()

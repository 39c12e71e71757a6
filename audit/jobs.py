"""The service's audits: on demand (the IT page's button), every night, and after each rules
reload (only the paths the change touched), one at a time, each run's report written when it
ends. What the IT page, ``/healthz`` and ``/metrics`` say of the audit comes from here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from audit.results import AuditRun, RunStatus, Trigger, Verdict
from audit.run import AuditRunner, touched_paths
from audit.store import AuditStore, AuditStoreError
from routing_rules.compiled import CompiledRules

log = logging.getLogger(__name__)

ReportWriter = Callable[[AuditRun], list[Path]]
# A nightly run this soon after the last one is the same night's (see ``AuditJobs.nightly``).
NIGHTLY_AGAIN = timedelta(hours=12)
# How often the service re-reads the last run (one written by ``decroche audit run`` shows
# within this time on /healthz and /metrics; the service's own runs show at once).
LATEST_EVERY_S = 30.0


class AuditJobs:
    """``report``: writes a finished run's report (None: no report); ``after_reload``: audit
    the touched paths after each reload."""

    def __init__(
        self,
        runner: AuditRunner,
        store: AuditStore,
        report: ReportWriter | None = None,
        *,
        after_reload: bool = True,
    ) -> None:
        self.runner = runner
        self.store = store
        self.report = report
        self.after_reload = after_reload
        self._rules: CompiledRules | None = None
        self._task: asyncio.Task[AuditRun | None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: set[asyncio.Task[None]] = set()  # touched paths being worked out
        self._last_nightly: datetime | None = None  # when the last nightly run started
        # The last run as /healthz and /metrics say it, read off the loop: a database slow or
        # down must not hold the calls' loop while a scrape waits for it.
        self._known: tuple[AuditRun | None, str | None] = (None, None)
        self._reader: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Remember the rules in force (reloads compare with them) and the service's loop."""
        self._rules = self.runner.rules()
        self._loop = asyncio.get_running_loop()
        if self._reader is None or self._reader.done():
            self._reader = self._loop.create_task(self._read_latest(), name="audit-latest")

    async def _read_latest(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(LATEST_EVERY_S)

    async def refresh(self) -> None:
        """Read the last run again, in a thread."""
        self._known = await asyncio.to_thread(self._latest_or_why)

    async def close(self) -> None:
        tasks = [
            t for t in (self._task, self._reader, *self._pending) if t is not None and not t.done()
        ]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.runner.client.close()

    # --- launching ---------------------------------------------------------------------------

    @property
    def running(self) -> AuditRun | None:
        """The run in progress, with the paths done so far (None: no run)."""
        return self.runner.current if self.runner.running else None

    def launch(
        self, trigger: Trigger, *, by: str | None = None, wanted: Sequence[str] = ()
    ) -> bool:
        """Start a run in the background; False if one is running (nothing started)."""
        if self.runner.running or (self._task is not None and not self._task.done()):
            return False
        self._task = asyncio.get_running_loop().create_task(
            self._run(trigger, by, tuple(wanted)), name=f"audit-{trigger.value}"
        )
        return True

    async def _run(
        self, trigger: Trigger, by: str | None, wanted: tuple[str, ...]
    ) -> AuditRun | None:
        try:
            run = await self.runner.run(trigger, by=by, wanted=wanted)
        except Exception:
            log.exception("audit (%s) failed", trigger.value)
            return None
        if self.report is not None and run.results:
            report = self.report
            try:
                await asyncio.to_thread(report, run)
            except Exception:
                log.exception("audit %s: report not written", run.id)
        if self._loop is not None:  # a service: /healthz and /metrics say this run at once
            await self.refresh()
        return run

    async def wait(self) -> AuditRun | None:
        """The run launched last, once over (tests, the demo)."""
        return await self._task if self._task is not None else None

    async def nightly(self) -> None:
        """The nightly audit (an APScheduler job): every path, once a night. The night the
        clocks go back, a time between 02:00 and 03:00 comes twice and the scheduler fires
        twice, an hour apart: the second is skipped."""
        now = self.runner.clock.now()
        if self._last_nightly is not None and now - self._last_nightly < NIGHTLY_AGAIN:
            log.info("nightly audit skipped: one started at %s", self._last_nightly.isoformat())
            return
        if not self.launch(Trigger.NIGHTLY):
            log.warning("nightly audit skipped: an audit is already running")
            return
        self._last_nightly = now

    def rules_changed(self, rules: CompiledRules) -> None:
        """A reload put ``rules`` in force (a RulesHolder listener): audit the paths it
        touched."""
        before, self._rules = self._rules, rules
        if not self.after_reload or before is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._after_reload, before, rules)

    def _after_reload(self, before: CompiledRules, after: CompiledRules) -> None:
        async def touched_then_run() -> None:
            runner = self.runner
            main = runner.settings.main_number
            chosen = runner.moments(before) + runner.moments(after)
            paths = await asyncio.to_thread(touched_paths, before, after, main, chosen)
            if not paths:
                log.info("rules %s: no path changed, nothing to audit", after.version)
                return
            if not self.launch(Trigger.RELOAD, wanted=paths):
                log.warning("audit after reload skipped: an audit is already running")

        task = asyncio.get_running_loop().create_task(touched_then_run())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    # --- what the service says of it ---------------------------------------------------------

    def latest(self) -> AuditRun | None:
        return self.store.latest()

    def _latest_or_why(self) -> tuple[AuditRun | None, str | None]:
        """The last run, or why it cannot be read (the database down: /healthz and /metrics
        must still answer, the service's own health says the database is down)."""
        try:
            return self.store.latest(), None
        except AuditStoreError as exc:
            return None, str(exc).split("\n")[0]

    def _last(self) -> tuple[AuditRun | None, str | None]:
        """The last run as read off the loop; outside a service (never started: a command, a
        test), read now."""
        return self._known if self._loop is not None else self._latest_or_why()

    def health(self) -> dict[str, object]:
        """The ``audit`` detail of ``/healthz``: the last run and its failing paths."""
        last, why = self._last()
        if last is None:
            unread = {"unreadable": why} if why else {}
            return {"last_run": None, "running": self.running is not None, **unread}
        return {
            "last_run": last.id,
            "at": last.started_at.isoformat(),
            "status": last.status.value,
            "ok": last.ok,
            "paths": len(last.results),
            "failed_paths": [
                {"path": r.path_id, "checks": [c.code for c in r.failures]} for r in last.failed
            ],
            "message": last.message,
            "running": self.running is not None,
        }

    def metrics(self) -> list[str]:
        """Prometheus lines: the last run's paths by result, whether it passed, and when."""
        last = self._last()[0]
        lines = [
            "# HELP decroche_audit_paths Paths of the last audit run, by result.",
            "# TYPE decroche_audit_paths gauge",
        ]
        passed = sum(1 for r in last.results if r.verdict is Verdict.PASSED) if last else 0
        started = _epoch(last.started_at if last else None)
        failed = len(last.failed) if last else 0
        lines += [
            f'decroche_audit_paths{{result="passed"}} {passed}',
            f'decroche_audit_paths{{result="failed"}} {failed}',
            "# HELP decroche_audit_ok 1 if the last audit run called every path and all passed.",
            "# TYPE decroche_audit_ok gauge",
            f"decroche_audit_ok {1 if last is not None and last.ok else 0}",
            "# HELP decroche_audit_last_run_timestamp_seconds When the last audit run started.",
            "# TYPE decroche_audit_last_run_timestamp_seconds gauge",
            f"decroche_audit_last_run_timestamp_seconds {started}",
        ]
        impossible = last is not None and last.status is RunStatus.IMPOSSIBLE
        lines += [
            "# HELP decroche_audit_impossible 1 if the last audit run could place no call.",
            "# TYPE decroche_audit_impossible gauge",
            f"decroche_audit_impossible {1 if impossible else 0}",
        ]
        return lines


def _epoch(moment: datetime | None) -> str:
    return f"{moment.timestamp():.0f}" if moment is not None else "0"

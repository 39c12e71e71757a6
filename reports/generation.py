"""Reports made from the web: the quality lead asks for the monthly report or the annual review
of a period on the Rapports page, and follows its progress there.

The report is made in a worker thread (never on the event loop: the live view and the other
pages keep answering), one at a time, by the same function as ``decroche report`` — given by
the composition root, which knows the configured database, folder, town and objectives. Each
step of the making is shown; a failure is kept with its French message.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from reports.errors import ReportsError
from reports.periods import Period

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
# (kind, period, force, progress) -> the files written. Raises ReportsError (French message).
Generate = Callable[[str, Period, bool, Progress], list[Path]]
KEPT = 20  # the jobs remembered (the files stay in the reports' folder)


class JobState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


STATE_FR = {JobState.RUNNING: "en cours", JobState.DONE: "produit", JobState.FAILED: "échec"}


class ReportRefused(ReportsError):
    """A report asked for while another is being made."""


def report_title(kind: str, period: Period) -> str:
    if kind == "monthly":
        return f"Bilan mensuel — {period.label_fr}"
    return f"Bilan annuel — {period.start.year}"


@dataclass(slots=True)
class ReportJob:
    id: str
    kind: str  # monthly | annual
    period: Period
    by: str
    started_at: datetime
    total: int
    state: JobState = JobState.RUNNING
    step: str = "préparation"
    done: int = 0
    files: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def title(self) -> str:
        return report_title(self.kind, self.period)

    @property
    def state_fr(self) -> str:
        return STATE_FR[self.state]

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / max(1, self.total)))


class ReportJobs:
    """The reports being made, and the last ones made, in this process."""

    def __init__(self, generate: Generate, *, steps: int, now: Callable[[], datetime]) -> None:
        self._generate = generate
        self._steps = steps
        self._now = now
        self._jobs: dict[str, ReportJob] = {}
        self._tasks: set[asyncio.Future[None]] = set()

    @property
    def running(self) -> ReportJob | None:
        return next((j for j in self._jobs.values() if j.state is JobState.RUNNING), None)

    def jobs(self) -> list[ReportJob]:
        """The jobs remembered, the latest first."""
        return sorted(self._jobs.values(), key=lambda j: j.started_at, reverse=True)

    def job(self, job_id: str) -> ReportJob | None:
        return self._jobs.get(job_id)

    def launch(self, kind: str, period: Period, by: str, *, force: bool = False) -> ReportJob:
        """Start making the report in a worker thread; refused while another is being made."""
        busy = self.running
        if busy is not None:
            raise ReportRefused(
                f"un rapport est déjà en cours de production ({busy.title}, demandé par "
                f"{busy.by}) : attendez qu'il soit fini"
            )
        now = self._now()
        job = ReportJob(
            id=f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}",
            kind=kind,
            period=period,
            by=by,
            started_at=now,
            total=self._steps,
        )
        self._jobs[job.id] = job
        for old in self.jobs()[KEPT:]:
            del self._jobs[old.id]
        future = asyncio.get_running_loop().run_in_executor(None, self._run, job, force)
        self._tasks.add(future)
        future.add_done_callback(self._tasks.discard)
        return job

    async def wait(self) -> None:
        """Until every job launched is over (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _run(self, job: ReportJob, force: bool) -> None:
        def progress(label: str) -> None:
            job.done += 1
            job.step = label

        try:
            files = self._generate(job.kind, job.period, force, progress)
        except ReportsError as exc:
            job.error = str(exc)
            job.state = JobState.FAILED
        except Exception as exc:  # the page must say it failed, whatever the cause
            log.exception("report %s of %s failed", job.kind, job.period)
            job.error = f"erreur inattendue : {exc}"
            job.state = JobState.FAILED
        else:
            job.files = [path.name for path in files]
            job.done = job.total
            job.step = "terminé"
            job.state = JobState.DONE

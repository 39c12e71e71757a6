"""What-if simulations launched from the IT page: one ``decroche whatif`` process at a time.

A simulation replays a period's calls twice on the simulated PBX: minutes of CPU on every core.
It runs as a child process, never inside the web server: the pages stay responsive, a crash or
a kill costs the simulation only, and its memory goes back when it ends. The process reports its
progress as JSON lines on stderr (``--progress json``) and prints its result as one JSON object.

Each simulation is a folder of ``directory``, so the list survives restarts::

    <id>/request.json   who asked what, when (written first)
    <id>/rules.yaml     the rules tried, exactly as given
    <id>/result.json    the comparison (``decroche whatif --json``), when it succeeded
    <id>/error.txt      what went wrong, when it failed

A folder with neither result nor error whose process is not ours was cut short by a restart:
it shows as interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAX_DAYS = 92  # a quarter: longer periods belong to the command line
MAX_RULES_BYTES = 512 * 1024
TIME_LIMIT_S = 1800.0
KEPT = 50  # simulations kept on disk; older ones are removed when a new one starts


class WhatIfRefused(Exception):
    """A simulation cannot be started; the message (French) says why."""


class JobState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


STATE_FR = {
    JobState.RUNNING: "en cours",
    JobState.DONE: "terminée",
    JobState.FAILED: "échouée",
    JobState.INTERRUPTED: "interrompue",
}


@dataclass(frozen=True, slots=True)
class JobRequest:
    start: date
    end: date
    rules_name: str  # the file name given, or "texte saisi"
    by: str
    at: datetime

    def to_json(self) -> dict[str, str]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "rules_name": self.rules_name,
            "by": self.by,
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JobRequest:
        return cls(
            date.fromisoformat(data["from"]),
            date.fromisoformat(data["to"]),
            str(data["rules_name"]),
            str(data["by"]),
            datetime.fromisoformat(data["at"]),
        )


@dataclass(slots=True)
class Progress:
    step: str = "préparation"
    done: int = 0
    total: int = 0

    @property
    def percent(self) -> int:
        return 100 * self.done // self.total if self.total else 0


@dataclass(slots=True)
class Job:
    id: str
    request: JobRequest
    state: JobState
    progress: Progress = field(default_factory=Progress)
    result: dict[str, Any] | None = None
    error: str | None = None

    @property
    def state_fr(self) -> str:
        return STATE_FR[self.state]


RulesCheck = Callable[[str, str], None]  # (text, file name) -> raises with every problem


class WhatIfJobs:
    """Starts, follows and lists the simulations.

    ``command``: the ``decroche whatif`` to run (``[python, -m, decroche, whatif]``), to which
    the period, the rules and ``--json --progress json`` are added; ``env``: extra environment
    (the database URL travels there, out of the process list), or with ``inherit_env=False``
    the child's whole environment (the service gives it no secret); ``check``: validates rules text
    before anything starts, raising an exception whose text lists every problem.
    """

    def __init__(
        self,
        directory: Path,
        command: Sequence[str],
        current_rules: Path,
        check: RulesCheck,
        *,
        env: Mapping[str, str] | None = None,
        inherit_env: bool = True,
        time_limit_s: float = TIME_LIMIT_S,
    ) -> None:
        self.directory = directory
        self.command = list(command)
        self.current_rules = current_rules
        self.check = check
        self.env = dict(env or {})
        self.inherit_env = inherit_env
        self.time_limit_s = time_limit_s
        self._running: Job | None = None
        self._task: asyncio.Task[None] | None = None
        self._process: asyncio.subprocess.Process | None = None

    # -- starting -------------------------------------------------------------------------
    def validate(self, start: date, end: date, text: str, name: str) -> None:
        """Raise :class:`WhatIfRefused` (French) if these inputs cannot make a simulation."""
        if end < start:
            raise WhatIfRefused(f"La fin ({end:%d/%m/%Y}) précède le début ({start:%d/%m/%Y}).")
        if (end - start).days + 1 > MAX_DAYS:
            raise WhatIfRefused(
                f"La période compte {(end - start).days + 1} jours : {MAX_DAYS} au plus ici "
                "(au-delà, utilisez la commande decroche whatif)."
            )
        if not text.strip():
            raise WhatIfRefused("Donnez les règles à essayer : un fichier YAML ou son texte.")
        if len(text.encode("utf-8")) > MAX_RULES_BYTES:
            raise WhatIfRefused(f"Le fichier de règles dépasse {MAX_RULES_BYTES // 1024} Ko.")
        try:
            self.check(text, name)
        except Exception as exc:  # the checker's own error type: its text lists the problems
            raise WhatIfRefused(f"Les règles proposées ne sont pas valides :\n{exc}") from exc

    async def launch(
        self, start: date, end: date, text: str, name: str, by: str, now: datetime
    ) -> Job:
        """Check the inputs, then start the simulation; refused while another one runs."""
        if self._running is not None:
            running = self._running.request
            raise WhatIfRefused(
                f"Une simulation est déjà en cours (lancée par {running.by}) : "
                "attendez qu'elle se termine."
            )
        # Checking a rules file parses YAML with positions: tens of milliseconds, off the loop.
        await asyncio.to_thread(self.validate, start, end, text, name)
        if self._running is not None:  # another request started one meanwhile
            raise WhatIfRefused("Une simulation vient d'être lancée : attendez qu'elle se termine.")
        self._prune()
        job_id = f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
        folder = self.directory / job_id
        folder.mkdir(parents=True)
        request = JobRequest(start, end, name, by, now)
        (folder / "rules.yaml").write_text(text, encoding="utf-8")
        (folder / "request.json").write_text(json.dumps(request.to_json()), encoding="utf-8")
        job = Job(job_id, request, JobState.RUNNING)
        self._running = job
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.command,
                "--rules", str(folder / "rules.yaml"),
                "--current", str(self.current_rules),
                "--from", start.isoformat(),
                "--to", end.isoformat(),
                "--json", "--progress", "json",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env={**os.environ, **self.env} if self.inherit_env else self.env,
            )  # fmt: skip
        except OSError as exc:
            self._finish(job, None, f"impossible de lancer la simulation : {exc}")
            raise WhatIfRefused(f"Impossible de lancer la simulation : {exc}") from exc
        self._task = asyncio.create_task(self._follow(job, self._process))
        return job

    async def _follow(self, job: Job, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None and process.stderr is not None
        complaints: list[str] = []

        async def read_progress(stream: asyncio.StreamReader) -> None:
            async for raw in stream:
                line = raw.decode("utf-8", "replace").rstrip()
                try:
                    item = json.loads(line)
                    job.progress = Progress(
                        str(item["step"]), int(item["done"]), int(item["total"])
                    )
                except (ValueError, KeyError, TypeError):
                    if line:
                        complaints.append(line)  # not progress: an error message, kept

        try:
            async with asyncio.timeout(self.time_limit_s):
                output, _ = await asyncio.gather(
                    process.stdout.read(), read_progress(process.stderr)
                )
                code = await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
            self._finish(job, None, f"arrêtée après {self.time_limit_s / 60:.0f} minutes")
            return
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            self._finish(job, None, "arrêtée avec le service")
            raise
        if code != 0:
            detail = "\n".join(complaints[-20:]) or f"code de sortie {code}"
            self._finish(job, None, detail)
            return
        try:
            result = json.loads(output)
        except ValueError:
            self._finish(job, None, "résultat illisible (la simulation n'a pas écrit de JSON)")
            return
        self._finish(job, result, None)

    def _finish(self, job: Job, result: dict[str, Any] | None, error: str | None) -> None:
        folder = self.directory / job.id
        if result is not None:
            (folder / "result.json").write_text(json.dumps(result, ensure_ascii=False), "utf-8")
            job.state, job.result = JobState.DONE, result
        else:
            (folder / "error.txt").write_text(error or "échec", encoding="utf-8")
            job.state, job.error = JobState.FAILED, error
            log.warning("what-if %s failed: %s", job.id, error)
        self._running = None
        self._process = None

    def _prune(self) -> None:
        for old in self.jobs()[KEPT - 1 :]:
            shutil.rmtree(self.directory / old.id, ignore_errors=True)

    async def close(self) -> None:
        """Stop a running simulation (the service is stopping)."""
        job, process, task = self._running, self._process, self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if job is not None and job.state is JobState.RUNNING:  # cancelled before it began
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
            self._finish(job, None, "arrêtée avec le service")

    # -- reading --------------------------------------------------------------------------
    def job(self, job_id: str) -> Job | None:
        if self._running is not None and self._running.id == job_id:
            return self._running
        folder = self.directory / job_id
        if not job_id or "/" in job_id or job_id.startswith(".") or not folder.is_dir():
            return None
        return self._read(folder)

    def jobs(self) -> list[Job]:
        """Every simulation kept, newest first."""
        if not self.directory.is_dir():
            return []
        found = [self.job(p.name) for p in self.directory.iterdir() if p.is_dir()]
        return sorted((j for j in found if j is not None), key=lambda j: j.id, reverse=True)

    @property
    def running(self) -> Job | None:
        return self._running

    def _read(self, folder: Path) -> Job | None:
        try:
            request = JobRequest.from_json(json.loads((folder / "request.json").read_text("utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # not one of ours, or written half-way by a crash: not listed
        result_file, error_file = folder / "result.json", folder / "error.txt"
        if result_file.is_file():
            try:
                result = json.loads(result_file.read_text("utf-8"))
            except ValueError:
                return Job(folder.name, request, JobState.FAILED, error="résultat illisible")
            return Job(folder.name, request, JobState.DONE, result=result)
        if error_file.is_file():
            error = error_file.read_text("utf-8")
            return Job(folder.name, request, JobState.FAILED, error=error)
        return Job(folder.name, request, JobState.INTERRUPTED, error="interrompue par un arrêt")

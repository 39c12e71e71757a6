"""A run of the audit: every path of the rules in force (or some), one audit call each, judged
against the rules for the same moment, then every other moment of the coming months by
simulation; the run stored apart from the call records.

The same runner serves ``decroche audit run`` (its own process), the IT page's button, the
nightly job and the check after a rules reload (in the service's process): it talks to Asterisk
through its own ARI application (``audit.app``), never through the router's.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from audit.checks import (
    CheckSettings,
    judge_announcements,
    judge_call,
    judge_variants,
    path_result,
)
from audit.expect import Variant, expect, variants
from audit.moments import Moment, moments
from audit.paths import AuditPath, audit_paths, select
from audit.results import (
    AuditRun,
    CallObservation,
    Check,
    PathResult,
    RunStatus,
    Trigger,
)
from audit.robot import Robot, RobotSettings, RobotUnavailable
from audit.store import AuditStore
from routing_rules.compiled import CompiledRules
from routing_rules.routing import AuditMark
from telephony.ari.client import AriClient
from telephony.ari.errors import AriError, NotFound
from telephony.clock import Clock

log = logging.getLogger(__name__)

SOUNDS_FOLDER = "decroche/"  # the prompts' sound ids on Asterisk: decroche/<prompt id>


@dataclass(frozen=True, slots=True)
class AuditSettings:
    decroche_app: str = "decroche"  # the application decroche's router listens on
    main_number: str = "standard"
    concurrency: int = 4
    days_ahead: int = 365
    language: str = "fr"
    robot: RobotSettings = field(default_factory=RobotSettings)
    checks: CheckSettings = field(default_factory=CheckSettings)


class AuditBusy(Exception):
    """An audit is already running in this process (the message is French)."""


def new_run_id(at: datetime) -> str:
    return f"{at:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def touched_paths(
    old: CompiledRules, new: CompiledRules, main_number: str, chosen: Sequence[Moment]
) -> list[str]:
    """The paths of ``new`` a rules change touched: new paths, and paths whose outcome differs
    at some moment of ``chosen`` (the moments of both rules' schedules)."""
    before = {p.id: p for p in audit_paths(old, main_number)}
    touched = []
    for path in audit_paths(new, main_number):
        previous = before.get(path.id)
        if previous is None or any(
            expect(old, previous, m.at) != expect(new, path, m.at) for m in chosen
        ):
            touched.append(path.id)
    return touched


class AuditRunner:
    def __init__(
        self,
        *,
        client: AriClient,
        clock: Clock,
        rules: Callable[[], CompiledRules],
        names: Callable[[], Mapping[str, str]],
        texts: Callable[[], Mapping[str, str]],
        store: AuditStore | None,
        settings: AuditSettings | None = None,
        heartbeat_s: float = 5.0,
        ping_interval_s: float = 10.0,
    ) -> None:
        self.client = client
        self.clock = clock
        self.rules = rules
        self.names = names
        self.texts = texts  # each prompt's text (the catalogue): what the menus announce
        self.store = store
        self.settings = settings or AuditSettings()
        self._heartbeat_s = heartbeat_s
        self._ping_interval_s = ping_interval_s
        self._lock = asyncio.Lock()
        self.current: AuditRun | None = None  # the run in progress, if any

    @property
    def running(self) -> bool:
        return self._lock.locked()

    def paths(self, wanted: Sequence[str] = ()) -> list[AuditPath]:
        """The paths of the rules in force (``wanted``: ids or their beginnings; ValueError
        naming the unknown ones)."""
        every = audit_paths(self.rules(), self.settings.main_number)
        return select(every, wanted) if wanted else every

    def moments(self, rules: CompiledRules) -> list[Moment]:
        today = self.clock.now().astimezone(rules.tz).date()
        return moments(rules, today, self.settings.days_ahead)

    async def run(
        self,
        trigger: Trigger,
        *,
        by: str | None = None,
        wanted: Sequence[str] = (),
        progress: Callable[[PathResult], None] | None = None,
    ) -> AuditRun:
        """One run (``wanted``: path ids or beginnings; all paths when empty). Raises
        :class:`AuditBusy` if one is running, ValueError for an unknown path."""
        if self._lock.locked():
            raise AuditBusy("un audit est déjà en cours")
        async with self._lock:
            return await self._run(trigger, by, wanted, progress)

    async def _run(
        self,
        trigger: Trigger,
        by: str | None,
        wanted: Sequence[str],
        progress: Callable[[PathResult], None] | None,
    ) -> AuditRun:
        rules = self.rules()
        chosen = self.paths(wanted)
        started = self.clock.now()
        run = AuditRun(
            id=new_run_id(started),
            started_at=started,
            trigger=trigger,
            by=by,
            rules_version=rules.version,
            rules_source=rules.source,
            status=RunStatus.RUNNING,
        )
        self._save(run)
        self.current = run
        try:
            run = await self._calls(run, rules, chosen, progress)
        except (RobotUnavailable, AriError) as exc:
            run = run.model_copy(
                update={"status": RunStatus.IMPOSSIBLE, "message": f"Asterisk injoignable : {exc}"}
            )
        finally:
            self.current = None
        run = run.model_copy(update={"finished_at": self.clock.now()})
        self._save(run)
        log.info(
            "audit %s (%s): %s, %d path(s), %d failed",
            run.id,
            trigger.value,
            run.status.value,
            len(run.results),
            len(run.failed),
        )
        return run

    def _save(self, run: AuditRun) -> None:
        if self.store is not None:
            self.store.save(run)

    async def _calls(
        self,
        run: AuditRun,
        rules: CompiledRules,
        chosen: Sequence[AuditPath],
        progress: Callable[[PathResult], None] | None,
    ) -> AuditRun:
        settings = self.settings
        try:
            await self.client.get_application(settings.decroche_app)
        except NotFound:
            return run.model_copy(
                update={
                    "status": RunStatus.IMPOSSIBLE,
                    "message": f"decroche n'est pas connecté à Asterisk (application "
                    f"« {settings.decroche_app} » absente) : aucun appel d'audit passé",
                }
            )
        sounds = await self._sounds()
        # The other moments of the coming months: pure work, out of the event loop.
        year = self.moments(rules)
        outcomes = await asyncio.to_thread(
            lambda: {path.id: variants(rules, path, year) for path in chosen}
        )
        names = dict(self.names())
        texts = dict(self.texts())
        gate = asyncio.Semaphore(settings.concurrency)
        results: dict[str, PathResult] = {}

        async with Robot(
            self.client,
            self.clock,
            settings.robot,
            heartbeat_s=self._heartbeat_s,
            ping_interval_s=self._ping_interval_s,
        ) as robot:

            async def one(number: int, path: AuditPath) -> None:
                async with gate:
                    mark = AuditMark(run.id, path.id)
                    call = await robot.call(mark, number, path.dialled, path.keys)
                result = self._judge(rules, path, call, outcomes[path.id], sounds, names, texts)
                results[path.id] = result
                if progress is not None:
                    progress(result)
                if self.current is not None:
                    done = tuple(results[p.id] for p in chosen if p.id in results)
                    self.current = self.current.model_copy(update={"results": done})

            await asyncio.gather(*(one(n, path) for n, path in enumerate(chosen, start=1)))
        return run.model_copy(
            update={
                "status": RunStatus.DONE,
                "results": tuple(results[p.id] for p in chosen),
                "sounds_checked": sounds is not None,
                "message": None
                if sounds is not None
                else "le PBX ne liste aucun son : les sons des autres jours et heures n'ont pas "
                "été vérifiés",
            }
        )

    async def _sounds(self) -> frozenset[str] | None:
        """The prompts Asterisk has in the callers' language (None: it lists no sound at all)."""
        listed = await self.client.list_sounds(lang=self.settings.language)
        if not listed:
            return None
        return frozenset(
            s.id.removeprefix(SOUNDS_FOLDER) for s in listed if s.id.startswith(SOUNDS_FOLDER)
        )

    def _judge(
        self,
        rules: CompiledRules,
        path: AuditPath,
        call: CallObservation,
        outcomes: Sequence[Variant],
        sounds: frozenset[str] | None,
        names: Mapping[str, str],
        texts: Mapping[str, str],
    ) -> PathResult:
        # The rules at the moment decroche decided: when it said where the call ended (else
        # when it answered, or when the call was placed).
        moment = call.reached_at or call.answered_at or call.dialled_at or self.clock.now()
        real = expect(rules, path, moment)
        checks: list[Check] = [
            judge_announcements(rules, path, texts, names),
            *judge_call(real, call, self.settings.checks, names),
        ]
        # A change of hours between the year's moments and the call's gives an outcome of its
        # own: shown with the others.
        every = list(outcomes)
        if real not in {v.expected for v in every}:
            every.insert(0, Variant(real, ()))
        failed = frozenset(h.prompt for h in call.heard if h.state == "failed")
        simulation, found = judge_variants(every, real, sounds, names, failed)
        return path_result(path, real, [*checks, simulation], call, found)

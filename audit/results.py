"""What an audit run found: plain, serialisable values (pydantic), stored as they are and read
by the IT page, the report and ``decroche audit run --json``.

A run tests paths; each path's result holds its checks (the audit call's, and the simulated
moments'), what the robot heard, and the outcomes of the path over the coming months.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from routing_rules.messages import counted


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"


VERDICT_FR = {Verdict.PASSED: "conforme", Verdict.FAILED: "en échec"}


class RunStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    IMPOSSIBLE = "impossible"  # no call could be placed (decroche or Asterisk unreachable)


RUN_STATUS_FR = {
    RunStatus.RUNNING: "en cours",
    RunStatus.DONE: "terminé",
    RunStatus.IMPOSSIBLE: "impossible",
}


class Trigger(StrEnum):
    COMMAND = "command"  # decroche audit run
    PAGE = "page"  # the IT page's button
    NIGHTLY = "nightly"
    RELOAD = "reload"  # after a rules reload, the paths the change touched


TRIGGER_FR = {
    Trigger.COMMAND: "commande",
    Trigger.PAGE: "page Système",
    Trigger.NIGHTLY: "audit de nuit",
    Trigger.RELOAD: "après rechargement des règles",
}


class Check(_Value):
    code: str  # destination, messages, lecture, delai, liberation, simulation
    name: str  # French
    ok: bool
    detail: str  # French


class HeardPrompt(_Value):
    """One media the robot heard on the caller's half, and how it ended."""

    media: str
    prompt: str  # the prompt id (the media without ``sound:decroche/``)
    state: str  # done, failed, or unfinished (the call ended first)
    started_at: datetime


class CallObservation(_Value):
    """What the robot saw of one audit call, from the PBX's events."""

    robot_channel: str
    caller_channel: str
    dialled_at: datetime | None = None
    answered_at: datetime | None = None
    first_prompt_at: datetime | None = None
    reached: str | None = None  # what decroche said (DECROCHE_AUDIT_REACHED)
    reached_at: datetime | None = None
    ended_at: datetime | None = None
    heard: tuple[HeardPrompt, ...] = ()
    keys_sent: tuple[str, ...] = ()
    keys_received: tuple[str, ...] = ()  # DTMF the caller's half received
    leftovers: tuple[str, ...] = ()  # channels or bridges of the call still on the PBX
    problem: str | None = None  # French: why the call went wrong, when it did

    @property
    def first_prompt_s(self) -> float | None:
        if self.first_prompt_at is None or self.dialled_at is None:
            return None
        return (self.first_prompt_at - self.dialled_at).total_seconds()


class VariantResult(_Value):
    """One outcome of the path over the coming months."""

    reached: str  # a Reached value
    prompts: tuple[str, ...]
    unanswered: tuple[str, ...]  # Reached values: if nobody answers, hop by hop
    when: tuple[str, ...]  # French lines: the days and hours it holds
    real: bool  # the outcome the audit call lived
    missing_sounds: tuple[str, ...] = ()


class PathResult(_Value):
    path_id: str
    label: str
    dialled: str
    keys: tuple[str, ...]
    kind: str
    verdict: Verdict
    expected: str  # the Reached value the rules give at the moment of the call
    checks: tuple[Check, ...]
    call: CallObservation | None = None
    variants: tuple[VariantResult, ...] = ()

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)


class AuditRun(_Value):
    id: str
    started_at: datetime
    finished_at: datetime | None = None
    trigger: Trigger
    by: str | None = None
    rules_version: str
    rules_source: str
    status: RunStatus
    message: str | None = None  # French: why the run could not be done, or a note
    sounds_checked: bool = True  # the PBX listed its sounds (else the simulated moments' sounds
    # could not be checked)
    results: tuple[PathResult, ...] = ()

    @property
    def failed(self) -> tuple[PathResult, ...]:
        return tuple(r for r in self.results if r.verdict is Verdict.FAILED)

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.DONE and not self.failed

    @property
    def tally(self) -> str:
        """« 27 parcours, 27 conformes, 0 en échec », « 1 parcours, 1 conforme, 0 en échec »."""
        failed = len(self.failed)
        passed = counted(len(self.results) - failed, "conforme")
        return f"{len(self.results)} parcours, {passed}, {failed} en échec"

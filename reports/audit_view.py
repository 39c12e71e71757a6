"""Audit runs as the IT page and the « audit interne de l'accueil téléphonique » report show
them (pure: runs in, rows of French text out).

A destination is said as people say it: a service by its name (« Accueil général – état civil :
sonnerait »), a message by the start of what it says, with its id (« « La mairie de Bernay est
actuellement fermée… » (mairie_fermee) »). Each failure carries the date a later audit found the
path right again (« corrigé le »), when there was one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from audit.results import (
    RUN_STATUS_FR,
    TRIGGER_FR,
    VERDICT_FR,
    AuditRun,
    PathResult,
    VariantResult,
    Verdict,
)
from routing_rules.messages import agreeing, counted
from routing_rules.routing import Reached, ReachedKind

FixedAt = Callable[[str, datetime], datetime | None]
EXCERPT = 60  # characters of a message's text shown


@dataclass(frozen=True, slots=True)
class Wording:
    """What turns ids into words: services' names, prompts' texts, the time zone."""

    names: Mapping[str, str]
    texts: Mapping[str, str]
    zone: ZoneInfo

    def when(self, moment: datetime | None, pattern: str = "%d/%m/%Y à %H:%M") -> str:
        return moment.astimezone(self.zone).strftime(pattern) if moment is not None else "—"

    def prompt(self, prompt_id: str) -> str:
        text = " ".join(self.texts.get(prompt_id, "").split())
        if not text:
            return f"« {prompt_id} »"
        short = text if len(text) <= EXCERPT else text[: EXCERPT - 1].rsplit(" ", 1)[0] + "…"
        return f"« {short} » ({prompt_id})"

    def reached(self, value: str | None, *, now: bool = False) -> str:
        reached = Reached.parse(value)
        if reached is None:
            return "aucune destination annoncée" if value is None else value
        if reached.kind is ReachedKind.SERVICE:
            name = self.names.get(reached.target, reached.target)
            return f"{name} : sonnerait" if now else name
        if reached.kind is ReachedKind.MESSAGE:
            return "message " + self.prompt(reached.target)
        return "demande de rappel " + self.prompt(reached.target)


@dataclass(frozen=True, slots=True)
class PathRow:
    path_id: str
    label: str
    destination: str
    verdict: str  # French
    ok: bool
    first_prompt: str  # "0,4 s" or "—"
    checked: str  # how: « en appel réel le … » and the simulated outcomes
    failures: tuple[tuple[str, str], ...]  # (check, what was found)


@dataclass(frozen=True, slots=True)
class FailureRow:
    path_id: str
    label: str
    check: str
    found: str
    seen: str  # when the audit found it
    fixed: str  # « corrigé le … » or « non corrigé à ce jour »
    is_fixed: bool


@dataclass(frozen=True, slots=True)
class VariantRow:
    destination: str
    unanswered: str
    when: tuple[str, ...]
    missing: str
    real: bool
    checked: str  # « vérifié en appel réel » / « vérifié par simulation », and the finding
    ok: bool


@dataclass(frozen=True, slots=True)
class PathDetail:
    path_id: str
    label: str
    variants: tuple[VariantRow, ...]
    heard: tuple[str, ...]  # prompts heard in the audit call, with how each ended
    same_as: str | None = None  # an earlier path with the very same outcomes (then not repeated)


@dataclass(frozen=True, slots=True)
class RunView:
    run_id: str
    started: str
    finished: str
    trigger: str
    by: str | None
    status: str
    ok: bool
    rules_version: str
    rules_source: str
    message: str | None
    total: int
    passed: int
    failed: int
    paths: tuple[PathRow, ...]
    failures: tuple[FailureRow, ...]
    details: tuple[PathDetail, ...]


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s".replace(".", ",")


_STATES_FR = {"done": "joué en entier", "failed": "échec de lecture", "unfinished": "interrompu"}


def _unanswered(chain: Sequence[str], wording: Wording) -> str:
    if not chain:
        return "—"
    return ", puis ".join(wording.reached(step) for step in chain)


def path_row(result: PathResult, wording: Wording, at: datetime) -> PathRow:
    call = result.call
    others = sum(1 for v in result.variants if not v.real)
    how = f"en appel réel le {wording.when(call.dialled_at or at)}" if call else "sans appel"
    if others:
        how += f" ; {counted(others, 'autre issue', 'autres issues')} par simulation"
    return PathRow(
        path_id=result.path_id,
        label=result.label,
        destination=wording.reached(result.expected, now=True),
        verdict=VERDICT_FR[result.verdict],
        ok=result.verdict is Verdict.PASSED,
        first_prompt=_seconds(call.first_prompt_s) if call else "—",
        checked=how,
        failures=tuple((c.name, c.detail) for c in result.failures),
    )


def _checked(variant: VariantResult, call_ok: bool) -> tuple[str, bool]:
    said = "vérifié en appel réel" if variant.real else "vérifié par simulation"
    ok = not variant.missing_sounds and (call_ok or not variant.real)
    if variant.real and not call_ok:
        said += " : écarts constatés"
    if variant.missing_sounds:
        sounds = ", ".join(f"« {p} »" for p in variant.missing_sounds)
        missing = agreeing(len(variant.missing_sounds), "son absent", "sons absents")
        said += f" ; {missing} du standard : {sounds}"
    return said, ok


def path_detail(result: PathResult, wording: Wording) -> PathDetail:
    # The outcome the call lived is as right as the call's own checks.
    call_ok = all(c.ok for c in result.checks if c.code not in ("simulation", "annonce"))
    rows = []
    for v in result.variants:
        checked, ok = _checked(v, call_ok)
        rows.append(
            VariantRow(
                destination=wording.reached(v.reached, now=True),
                unanswered=_unanswered(v.unanswered, wording),
                when=v.when,
                missing=", ".join(f"« {p} »" for p in v.missing_sounds),
                real=v.real,
                checked=checked,
                ok=ok,
            )
        )
    variants = tuple(rows)
    heard = tuple(
        f"{h.prompt} : {_STATES_FR.get(h.state, h.state)}"
        for h in (result.call.heard if result.call else ())
    )
    return PathDetail(result.path_id, result.label, variants, heard)


def run_view(run: AuditRun, wording: Wording, fixed_at: FixedAt | None = None) -> RunView:
    failures = []
    for result in run.failed:
        fixed = fixed_at(result.path_id, run.started_at) if fixed_at is not None else None
        for check in result.failures:
            failures.append(
                FailureRow(
                    path_id=result.path_id,
                    label=result.label,
                    check=check.name,
                    found=check.detail,
                    seen=wording.when(run.started_at),
                    fixed=f"corrigé le {wording.when(fixed, '%d/%m/%Y')}"
                    if fixed
                    else "non corrigé à ce jour",
                    is_fixed=fixed is not None,
                )
            )
    passed = sum(1 for r in run.results if r.verdict is Verdict.PASSED)
    return RunView(
        run_id=run.id,
        started=wording.when(run.started_at),
        finished=wording.when(run.finished_at),
        trigger=TRIGGER_FR[run.trigger],
        by=run.by,
        status=RUN_STATUS_FR[run.status],
        ok=run.ok,
        rules_version=run.rules_version[:12],
        rules_source=run.rules_source,
        message=run.message,
        total=len(run.results),
        passed=passed,
        failed=len(run.results) - passed,
        paths=tuple(path_row(r, wording, run.started_at) for r in run.results),
        failures=tuple(failures),
        details=_details(run.results, wording),
    )


def _details(results: Sequence[PathResult], wording: Wording) -> tuple[PathDetail, ...]:
    """Each path's outcomes; a path whose outcomes are an earlier one's refers to it."""
    seen: dict[tuple[VariantRow, ...], str] = {}
    details = []
    for result in results:
        detail = path_detail(result, wording)
        first = seen.setdefault(detail.variants, detail.label)
        if first != detail.label:
            detail = PathDetail(detail.path_id, detail.label, (), detail.heard, first)
        details.append(detail)
    return tuple(details)


@dataclass(frozen=True, slots=True)
class MonthPathRow:
    path_id: str
    label: str
    runs: int
    failed: int
    last: str  # French verdict of the month's last run that tested it


@dataclass(frozen=True, slots=True)
class MonthView:
    runs: tuple[RunView, ...]
    paths: tuple[MonthPathRow, ...]
    failures: tuple[FailureRow, ...]
    total_calls: int


def month_view(
    runs: Sequence[AuditRun], wording: Wording, fixed_at: FixedAt | None = None
) -> MonthView:
    """The month's runs, oldest first: each path's record over the month, and every failure
    found with the date it was fixed."""
    ordered = sorted(runs, key=lambda r: r.started_at)
    views = tuple(run_view(r, wording, fixed_at) for r in ordered)
    per_path: dict[str, list[PathResult]] = {}
    labels: dict[str, str] = {}
    for run in ordered:
        for result in run.results:
            per_path.setdefault(result.path_id, []).append(result)
            labels[result.path_id] = result.label
    paths = tuple(
        MonthPathRow(
            path_id=path_id,
            label=labels[path_id],
            runs=len(results),
            failed=sum(1 for r in results if r.verdict is Verdict.FAILED),
            last=VERDICT_FR[results[-1].verdict],
        )
        for path_id, results in per_path.items()
    )
    failures = tuple(f for view in views for f in view.failures)
    return MonthView(views, paths, failures, sum(len(r.results) for r in ordered))

"""The action plan: what the quality lead decided to do, about which service and indicator, by
whom and when, and what it gave (ISO 9001 §9.3 outputs, and the Qualivilles "suivi renforcé
des actions correctives").

An action is recorded and changed in the web app (the « Plan d'actions » page); the monthly
report lists the actions open at the end of its month, the management review those of its year
with their status and the decisions taken at it — so the next review starts from the last.

Each change adds one to the action's ``revision``: a form sent from a page opened before
someone else's change is refused with what happened, never written over it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy import Engine, RowMapping, and_, insert, or_, select, update

from reports.errors import InputError
from reports.quality_terms import INDICATOR_TERMS, parse_date
from reports.schema import quality_actions


class ActionStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


STATUS_FR = {
    ActionStatus.PLANNED: "à faire",
    ActionStatus.IN_PROGRESS: "en cours",
    ActionStatus.DONE: "faite",
    ActionStatus.CANCELLED: "abandonnée",
}
OPEN_STATUSES = frozenset({ActionStatus.PLANNED, ActionStatus.IN_PROGRESS})


class Origin(StrEnum):
    REVIEW = "review"
    MONTHLY = "monthly"
    AUDIT = "audit"
    COMPLAINT = "complaint"
    OTHER = "other"


ORIGIN_FR = {
    Origin.REVIEW: "revue de direction",
    Origin.MONTHLY: "suivi des indicateurs",
    Origin.AUDIT: "audit interne",
    Origin.COMPLAINT: "réclamation d'usager",
    Origin.OTHER: "autre",
}

TITLE_MAX = 500
OWNER_MAX = 200


class FormProblems(InputError):
    """What is wrong with a form, field by field (French); the page shows the form again with
    what was typed and these messages."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__(" ; ".join(self.problems.values()))


class StaleEdit(InputError):
    """The record changed since the form was opened; nothing was written."""


@dataclass(frozen=True, slots=True)
class ActionDraft:
    """An action as the form gives it, checked."""

    title: str
    service: str | None
    indicator: str | None
    owner: str
    due: date
    status: ActionStatus
    result: str
    origin: Origin
    review_year: int | None


@dataclass(frozen=True, slots=True)
class Action:
    id: int
    draft: ActionDraft
    opened_on: date
    closed_on: date | None
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    revision: int

    @property
    def status(self) -> ActionStatus:
        return self.draft.status

    @property
    def status_fr(self) -> str:
        return STATUS_FR[self.draft.status]

    @property
    def origin_fr(self) -> str:
        if self.draft.origin is Origin.REVIEW and self.draft.review_year is not None:
            return f"revue de direction {self.draft.review_year}"
        return ORIGIN_FR[self.draft.origin]

    @property
    def is_open(self) -> bool:
        return self.draft.status in OPEN_STATUSES

    def open_on(self, day: date) -> bool:
        """Was it open at the end of ``day`` (recorded by then, not yet closed)?"""
        return self.opened_on <= day and (self.closed_on is None or self.closed_on > day)

    def open_during(self, start: date, end: date) -> bool:
        return self.opened_on <= end and (self.closed_on is None or self.closed_on >= start)

    def late_on(self, day: date) -> bool:
        return self.open_on(day) and self.draft.due < day


class ActionPlan(Protocol):
    """The action plan as the reports read it (:class:`ActionBook`)."""

    def open_on(self, day: date) -> list[Action]: ...

    def closed_between(self, start: date, end: date) -> list[Action]: ...

    def of_year(self, year: int) -> list[Action]: ...


def _text(form: Mapping[str, str], name: str) -> str:
    return " ".join(form.get(name, "").split()) if name != "result" else form.get(name, "").strip()


def parse_action(
    form: Mapping[str, str],
    *,
    services: Mapping[str, str],
    keep: ActionDraft | None = None,
) -> ActionDraft:
    """The action a form describes. ``services``: the services' names of the rules in force;
    ``keep``: the action being changed (a service no longer in the rules stays allowed)."""
    problems: dict[str, str] = {}
    title = _text(form, "title")
    if not title:
        problems["title"] = "Action : dites ce qui sera fait."
    elif len(title) > TITLE_MAX:
        problems["title"] = f"Action : {len(title)} caractères, {TITLE_MAX} au plus."
    service = form.get("service", "").strip() or None
    known = set(services) | ({keep.service} if keep is not None and keep.service else set())
    if service is not None and service not in known:
        problems["service"] = f"Service : « {service} » n'est pas un service des règles en vigueur."
    indicator = form.get("indicator", "").strip() or None
    if indicator is not None and indicator not in INDICATOR_TERMS:
        problems["indicator"] = f"Indicateur : « {indicator} » n'est pas un indicateur connu."
    owner = _text(form, "owner")
    if not owner:
        problems["owner"] = "Responsable : dites qui mène l'action (nom ou fonction)."
    elif len(owner) > OWNER_MAX:
        problems["owner"] = f"Responsable : {len(owner)} caractères, {OWNER_MAX} au plus."
    due: date | None = None
    if not form.get("due", "").strip():
        problems["due"] = "Échéance : donnez la date à laquelle l'action doit être faite."
    else:
        try:
            due = parse_date(form["due"], "Échéance")
        except InputError as exc:
            problems["due"] = str(exc)
    status = ActionStatus.PLANNED
    try:
        status = ActionStatus(form.get("status", "planned") or "planned")
    except ValueError:
        problems["status"] = f"État : « {form.get('status')} » n'est pas un état d'action."
    result = _text(form, "result")
    if status not in OPEN_STATUSES and not result:
        problems["result"] = (
            f"Résultat : dites ce que l'action a donné (obligatoire pour une action "
            f"{STATUS_FR[status]})."
        )
    origin = Origin.OTHER
    try:
        origin = Origin(form.get("origin", "other") or "other")
    except ValueError:
        problems["origin"] = f"Origine : « {form.get('origin')} » n'est pas une origine d'action."
    review_year: int | None = None
    if origin is Origin.REVIEW:
        year_text = form.get("review_year", "").strip()
        if not year_text.isdigit() or not 2000 <= int(year_text) <= 2100:
            problems["review_year"] = (
                f"Revue : « {year_text} » n'est pas une année (la revue de direction qui a "
                "décidé l'action)."
            )
        else:
            review_year = int(year_text)
    if problems:
        raise FormProblems(problems)
    assert due is not None
    return ActionDraft(title, service, indicator, owner, due, status, result, origin, review_year)


def _action(row: RowMapping) -> Action:
    draft = ActionDraft(
        title=row["title"],
        service=row["service"],
        indicator=row["indicator"],
        owner=row["owner"],
        due=row["due"],
        status=ActionStatus(row["status"]),
        result=row["result"],
        origin=Origin(row["origin"]),
        review_year=row["review_year"],
    )
    return Action(
        id=row["id"],
        draft=draft,
        opened_on=row["opened_on"],
        closed_on=row["closed_on"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
        revision=row["revision"],
    )


def _values(draft: ActionDraft) -> dict[str, object]:
    return {
        "title": draft.title,
        "service": draft.service,
        "indicator": draft.indicator,
        "owner": draft.owner,
        "due": draft.due,
        "status": draft.status.value,
        "result": draft.result,
        "origin": draft.origin.value,
        "review_year": draft.review_year,
    }


class ActionBook:
    """The action plan in the web app's tables (``upgrade_web_schema`` first)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, draft: ActionDraft, *, by: str, now: datetime, today: date) -> Action:
        closed = None if draft.status in OPEN_STATUSES else today
        with self._engine.begin() as conn:
            result = conn.execute(
                insert(quality_actions).values(
                    **_values(draft),
                    opened_on=today,
                    closed_on=closed,
                    created_at=now,
                    created_by=by,
                    updated_at=now,
                    updated_by=by,
                    revision=1,
                )
            )
            key = result.inserted_primary_key
        assert key is not None
        found = self.get(int(key[0]))
        assert found is not None
        return found

    def change(
        self,
        action_id: int,
        draft: ActionDraft,
        *,
        revision: int,
        by: str,
        now: datetime,
        today: date,
    ) -> Action:
        """Write ``draft`` over the action if it is still at ``revision``; a closing action is
        dated today, a reopened one is open again."""
        current = self.get(action_id)
        if current is None:
            raise InputError(f"l'action n° {action_id} n'existe pas (ou plus)")
        closed_on = current.closed_on
        if draft.status in OPEN_STATUSES:
            closed_on = None
        elif current.is_open or draft.status is not current.status:
            closed_on = today
        c = quality_actions.c
        with self._engine.begin() as conn:
            done = conn.execute(
                update(quality_actions)
                .where(and_(c.id == action_id, c.revision == revision))
                .values(
                    **_values(draft),
                    closed_on=closed_on,
                    updated_at=now,
                    updated_by=by,
                    revision=revision + 1,
                )
            )
        if done.rowcount != 1:
            latest = self.get(action_id) or current
            raise StaleEdit(
                f"l'action n° {action_id} a été modifiée par {latest.updated_by} depuis que "
                "vous avez ouvert la page : vos changements ne sont pas enregistrés. Ils sont "
                "toujours dans le formulaire ; relisez la version actuelle avant de les refaire."
            )
        changed = self.get(action_id)
        assert changed is not None
        return changed

    def get(self, action_id: int) -> Action | None:
        with self._engine.connect() as conn:
            row = (
                conn.execute(select(quality_actions).where(quality_actions.c.id == action_id))
                .mappings()
                .first()
            )
        return None if row is None else _action(row)

    def all(self) -> list[Action]:
        """Every action, the earliest due first."""
        c = quality_actions.c
        with self._engine.connect() as conn:
            rows = conn.execute(select(quality_actions).order_by(c.due, c.id)).mappings().all()
        return [_action(row) for row in rows]

    def open_on(self, day: date) -> list[Action]:
        """The actions open at the end of ``day``, the earliest due first."""
        c = quality_actions.c
        with self._engine.connect() as conn:
            rows = (
                conn.execute(
                    select(quality_actions)
                    .where(and_(c.opened_on <= day, or_(c.closed_on.is_(None), c.closed_on > day)))
                    .order_by(c.due, c.id)
                )
                .mappings()
                .all()
            )
        return [_action(row) for row in rows]

    def closed_between(self, start: date, end: date) -> list[Action]:
        """The actions done or given up from ``start`` to ``end``, in the order closed."""
        c = quality_actions.c
        with self._engine.connect() as conn:
            rows = (
                conn.execute(
                    select(quality_actions)
                    .where(and_(c.closed_on >= start, c.closed_on <= end))
                    .order_by(c.closed_on, c.id)
                )
                .mappings()
                .all()
            )
        return [_action(row) for row in rows]

    def of_year(self, year: int) -> list[Action]:
        """The actions open at some time during ``year`` or decided at its review or the one
        before (the management review's follow-up), the earliest due first."""
        start, end = date(year, 1, 1), date(year, 12, 31)
        c = quality_actions.c
        with self._engine.connect() as conn:
            rows = (
                conn.execute(
                    select(quality_actions)
                    .where(
                        or_(
                            and_(
                                c.opened_on <= end,
                                or_(c.closed_on.is_(None), c.closed_on >= start),
                            ),
                            c.review_year.in_((year - 1, year)),
                        )
                    )
                    .order_by(c.due, c.id)
                )
                .mappings()
                .all()
            )
        return [_action(row) for row in rows]

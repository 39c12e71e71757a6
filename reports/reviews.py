"""The management reviews (*revues de direction*) as the quality lead records them: when the
review was held, who took part, the scope, the conclusions, who approved it and when, and the
objectives it revised. The annual review document prints them on its cover and in its outputs;
the next year's review shows whether each revised objective is now the configuration's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, RowMapping, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from reports.actions import FormProblems, StaleEdit
from reports.errors import InputError
from reports.quality_terms import INDICATOR_TERMS, indicator_label, parse_date, parse_target
from reports.schema import management_reviews, revised_objectives

TEXT_MAX = 20_000
NAME_MAX = 200


@dataclass(frozen=True, slots=True)
class ReviewDraft:
    held_on: date | None
    scope: str
    participants: tuple[str, ...]  # « name — role », one each
    conclusions: str
    approved_by: str | None
    approved_on: date | None


@dataclass(frozen=True, slots=True)
class Review:
    year: int
    draft: ReviewDraft
    updated_at: datetime
    updated_by: str
    revision: int

    @property
    def approved(self) -> bool:
        return self.draft.approved_by is not None and self.draft.approved_on is not None


@dataclass(frozen=True, slots=True)
class RevisedObjective:
    id: int
    review_year: int
    service: str | None  # None: every service
    indicator: str
    target: float
    kind: str
    applies_from: date | None
    reason: str

    @property
    def label(self) -> str:
        return indicator_label(self.indicator)

    @property
    def objective_text(self) -> str:
        term = INDICATOR_TERMS.get(self.indicator)
        if term is None:
            sign = "≥" if self.kind == "min" else "≤"
            return f"{sign} {self.target:g}"
        return term.objective(self.target, self.kind)


def _optional_date(
    form: Mapping[str, str], name: str, label: str, problems: dict[str, str]
) -> date | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        return parse_date(text, label)
    except InputError as exc:
        problems[name] = str(exc)
        return None


def parse_review(form: Mapping[str, str]) -> ReviewDraft:
    problems: dict[str, str] = {}
    held_on = _optional_date(form, "held_on", "Date de la revue", problems)
    approved_on = _optional_date(form, "approved_on", "Date d'approbation", problems)
    approved_by = " ".join(form.get("approved_by", "").split()) or None
    participants = tuple(
        " ".join(line.split()) for line in form.get("participants", "").splitlines() if line.strip()
    )
    for name in ("scope", "conclusions", "participants"):
        if len(form.get(name, "")) > TEXT_MAX:
            problems[name] = f"{name} : plus de {TEXT_MAX} caractères."
    if approved_by is not None and len(approved_by) > NAME_MAX:
        problems["approved_by"] = f"Approuvée par : {NAME_MAX} caractères au plus."
    if (approved_by is None) != (approved_on is None) and "approved_on" not in problems:
        missing = "approved_on" if approved_on is None else "approved_by"
        problems[missing] = (
            "Approbation : donnez à la fois qui a approuvé la revue et la date de l'approbation."
        )
    if approved_on is not None and held_on is None and "held_on" not in problems:
        problems["held_on"] = "Date de la revue : une revue approuvée a une date de tenue."
    if approved_on is not None and held_on is not None and approved_on < held_on:
        problems["approved_on"] = (
            f"Date d'approbation : le {approved_on:%d/%m/%Y} est avant la revue elle-même "
            f"({held_on:%d/%m/%Y})."
        )
    if approved_on is not None and not participants:
        problems["participants"] = "Participants : une revue approuvée dit qui y a participé."
    if problems:
        raise FormProblems(problems)
    return ReviewDraft(
        held_on=held_on,
        scope=form.get("scope", "").strip(),
        participants=participants,
        conclusions=form.get("conclusions", "").strip(),
        approved_by=approved_by,
        approved_on=approved_on,
    )


@dataclass(frozen=True, slots=True)
class ObjectiveDraft:
    service: str | None
    indicator: str
    target: float
    kind: str
    applies_from: date | None
    reason: str


def parse_revised_objective(
    form: Mapping[str, str], *, services: Mapping[str, str]
) -> ObjectiveDraft:
    problems: dict[str, str] = {}
    service = form.get("service", "").strip() or None
    if service is not None and service not in services:
        problems["service"] = f"Service : « {service} » n'est pas un service des règles en vigueur."
    indicator = form.get("indicator", "").strip()
    term = INDICATOR_TERMS.get(indicator)
    if term is None:
        problems["indicator"] = "Indicateur : choisissez l'indicateur dont l'objectif change."
    target = 0.0
    if not form.get("target", "").strip():
        problems["target"] = "Nouvel objectif : donnez la valeur visée."
    elif term is not None:
        try:
            target = parse_target(form["target"], term, "Nouvel objectif")
        except InputError as exc:
            problems["target"] = str(exc)
    applies_from = _optional_date(form, "applies_from", "À partir du", problems)
    if problems:
        raise FormProblems(problems)
    assert term is not None
    return ObjectiveDraft(
        service, indicator, target, term.kind, applies_from, form.get("reason", "").strip()
    )


def _review(row: RowMapping) -> Review:
    participants = tuple(line for line in row["participants"].splitlines() if line.strip())
    return Review(
        year=row["year"],
        draft=ReviewDraft(
            held_on=row["held_on"],
            scope=row["scope"],
            participants=participants,
            conclusions=row["conclusions"],
            approved_by=row["approved_by"],
            approved_on=row["approved_on"],
        ),
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
        revision=row["revision"],
    )


def _objective(row: RowMapping) -> RevisedObjective:
    return RevisedObjective(
        id=row["id"],
        review_year=row["review_year"],
        service=row["service"],
        indicator=row["indicator"],
        target=row["target"],
        kind=row["kind"],
        applies_from=row["applies_from"],
        reason=row["reason"],
    )


class ReviewBook:
    """The management reviews in the web app's tables (``upgrade_web_schema`` first)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, year: int) -> Review | None:
        with self._engine.connect() as conn:
            row = (
                conn.execute(select(management_reviews).where(management_reviews.c.year == year))
                .mappings()
                .first()
            )
        return None if row is None else _review(row)

    def years(self) -> list[int]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(management_reviews.c.year).order_by(management_reviews.c.year.desc())
            ).all()
        return [row[0] for row in rows]

    def save(
        self, year: int, draft: ReviewDraft, *, revision: int, by: str, now: datetime
    ) -> Review:
        """Write the review of ``year`` if still at ``revision`` (0: not recorded yet)."""
        values = {
            "held_on": draft.held_on,
            "scope": draft.scope,
            "participants": "\n".join(draft.participants),
            "conclusions": draft.conclusions,
            "approved_by": draft.approved_by,
            "approved_on": draft.approved_on,
            "updated_at": now,
            "updated_by": by,
            "revision": revision + 1,
        }
        c = management_reviews.c
        written = 0
        if revision == 0:
            try:
                with self._engine.begin() as conn:
                    conn.execute(insert(management_reviews).values(year=year, **values))
                written = 1
            except IntegrityError:  # recorded meanwhile by someone else
                written = 0
        else:
            with self._engine.begin() as conn:
                written = conn.execute(
                    update(management_reviews)
                    .where(and_(c.year == year, c.revision == revision))
                    .values(**values)
                ).rowcount
        if written != 1:
            latest = self.get(year)
            who = latest.updated_by if latest is not None else "quelqu'un d'autre"
            raise StaleEdit(
                f"la revue {year} a été modifiée par {who} depuis que vous avez ouvert la page : "
                "vos changements ne sont pas enregistrés. Ils sont toujours dans le formulaire ; "
                "relisez la version actuelle avant de les refaire."
            )
        saved = self.get(year)
        assert saved is not None
        return saved

    def ensure(self, year: int, *, by: str, now: datetime) -> Review:
        """The review of ``year``, recorded empty when it is not yet (objectives hang on it)."""
        found = self.get(year)
        if found is not None:
            return found
        empty = ReviewDraft(None, "", (), "", None, None)
        return self.save(year, empty, revision=0, by=by, now=now)

    def add_objective(self, year: int, draft: ObjectiveDraft, *, by: str, now: datetime) -> None:
        self.ensure(year, by=by, now=now)
        with self._engine.begin() as conn:
            conn.execute(
                insert(revised_objectives).values(
                    review_year=year,
                    service=draft.service,
                    indicator=draft.indicator,
                    target=draft.target,
                    kind=draft.kind,
                    applies_from=draft.applies_from,
                    reason=draft.reason,
                )
            )

    def remove_objective(self, year: int, objective_id: int) -> bool:
        c = revised_objectives.c
        with self._engine.begin() as conn:
            gone = conn.execute(
                delete(revised_objectives).where(and_(c.id == objective_id, c.review_year == year))
            ).rowcount
        return gone == 1

    def objectives(self, year: int) -> list[RevisedObjective]:
        c = revised_objectives.c
        with self._engine.connect() as conn:
            rows = (
                conn.execute(
                    select(revised_objectives)
                    .where(c.review_year == year)
                    .order_by(c.service.is_not(None), c.service, c.indicator, c.id)
                )
                .mappings()
                .all()
            )
        return [_objective(row) for row in rows]

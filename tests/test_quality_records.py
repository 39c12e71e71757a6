"""The quality lead's records on SQLite and PostgreSQL: the action plan (recorded, changed,
closed and reopened, never overwritten from an outdated page), the management reviews and the
objectives they revise, the forms' French problems, and the web tables' migration matching the
models."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from reports.accounts import upgrade_web_schema
from reports.actions import (
    ActionBook,
    ActionStatus,
    FormProblems,
    Origin,
    StaleEdit,
    parse_action,
)
from reports.quality_tables import actions_export, actions_table, objectives_revised_table
from reports.reviews import ReviewBook, parse_review, parse_revised_objective
from reports.tables import to_csv
from telephony.records.testing import temporary_database
from tests.conftest import BACKENDS, pg_url

NOW = datetime(2026, 10, 20, 8, 0, tzinfo=UTC)
TODAY = date(2026, 10, 20)
NAMES = {"ccas": "CCAS", "urbanisme": "Urbanisme"}


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path: Path):
    with temporary_database(request.param, tmp_path, pg_url()) as database:
        upgrade_web_schema(database.engine)
        yield database.engine


def form(**changes: str) -> dict[str, str]:
    base = {
        "title": "Renfort du CCAS le lundi matin",
        "service": "ccas",
        "indicator": "answer_rate",
        "owner": "Mme Martin, directrice du CCAS",
        "due": "2026-11-30",
        "status": "planned",
        "origin": "monthly",
    }
    return {**base, **changes}


def test_the_web_tables_match_their_models(engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from reports.schema import metadata

    ours = {t.name for t in metadata.sorted_tables}
    assert ours >= {"quality_actions", "management_reviews", "revised_objectives"}

    def web_tables_only(obj, name, type_, reflected, compare_to) -> bool:
        # The records' and the audit's tables share the database and have their own tests.
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return table is None or table.name in ours

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": web_tables_only})
        assert compare_metadata(context, metadata) == []


def test_an_action_is_recorded_changed_closed_and_reopened(engine) -> None:
    book = ActionBook(engine)
    action = book.add(parse_action(form(), services=NAMES), by="qualite", now=NOW, today=TODAY)
    assert action.is_open and action.opened_on == TODAY and action.revision == 1
    assert [a.id for a in book.open_on(TODAY)] == [action.id]
    assert book.open_on(TODAY - timedelta(days=1)) == []  # not yet recorded then

    done = parse_action(
        form(status="done", result="Taux de décroché du CCAS à 88 % en décembre"), services=NAMES
    )
    later = TODAY + timedelta(days=30)
    closed = book.change(action.id, done, revision=1, by="qualite", now=NOW, today=later)
    assert closed.status is ActionStatus.DONE and closed.closed_on == later
    assert book.open_on(later) == []
    assert [a.id for a in book.open_on(later - timedelta(days=1))] == [action.id]
    assert [a.id for a in book.of_year(2026)] == [action.id]
    assert book.of_year(2028) == []

    reopened = book.change(
        action.id, parse_action(form(status="in_progress"), services=NAMES), revision=2,
        by="qualite", now=NOW, today=later,
    )  # fmt: skip
    assert reopened.is_open and reopened.closed_on is None and reopened.revision == 3


def test_a_form_from_an_outdated_page_changes_nothing(engine) -> None:
    book = ActionBook(engine)
    action = book.add(parse_action(form(), services=NAMES), by="qualite", now=NOW, today=TODAY)
    book.change(
        action.id, parse_action(form(owner="M. Durand"), services=NAMES), revision=1,
        by="marie", now=NOW, today=TODAY,
    )  # fmt: skip
    with pytest.raises(StaleEdit, match="modifiée par marie depuis que vous avez ouvert la page"):
        book.change(
            action.id, parse_action(form(owner="Mme Leroy"), services=NAMES), revision=1,
            by="paul", now=NOW, today=TODAY,
        )  # fmt: skip
    assert book.get(action.id).draft.owner == "M. Durand"


def test_the_form_says_each_problem_in_french() -> None:
    with pytest.raises(FormProblems) as caught:
        parse_action(
            {"title": " ", "service": "piscine", "due": "31/02/2026", "status": "done"},
            services=NAMES,
        )
    problems = caught.value.problems
    assert problems["title"] == "Action : dites ce qui sera fait."
    assert problems["service"].startswith("Service : « piscine » n'est pas un service")
    assert problems["owner"].startswith("Responsable : dites qui mène l'action")
    assert problems["due"] == "Échéance : « 31/02/2026 » n'est pas une date (JJ/MM/AAAA)"
    assert "obligatoire pour une action faite" in problems["result"]
    draft = parse_action(
        form(due="05/01/2027", origin="review", review_year="2026"), services=NAMES
    )
    assert draft.due == date(2027, 1, 5) and draft.review_year == 2026
    assert draft.origin is Origin.REVIEW
    with pytest.raises(FormProblems) as caught:
        parse_action(form(origin="review", review_year="26"), services=NAMES)
    assert caught.value.problems["review_year"].startswith("Revue : « 26 » n'est pas une année")


def test_a_service_gone_from_the_rules_stays_on_its_action() -> None:
    kept = parse_action(form(), services=NAMES)
    again = parse_action(form(), services={"urbanisme": "Urbanisme"}, keep=kept)
    assert again.service == "ccas"
    with pytest.raises(FormProblems):
        parse_action(form(), services={"urbanisme": "Urbanisme"})


def test_a_review_and_its_revised_objectives(engine) -> None:
    book = ReviewBook(engine)
    draft = parse_review(
        {
            "held_on": "2027-01-15",
            "participants": "Mme Lefèvre — directrice générale des services\n\nM. Roy — élu\n",
            "scope": "Ville de Bernay et CCAS",
            "conclusions": "Renforcer l'urbanisme le mardi.",
            "approved_by": "Mme Lefèvre",
            "approved_on": "2027-01-20",
        }
    )
    review = book.save(2026, draft, revision=0, by="qualite", now=NOW)
    assert review.approved and review.draft.participants == (
        "Mme Lefèvre — directrice générale des services",
        "M. Roy — élu",
    )
    with pytest.raises(StaleEdit, match="la revue 2026 a été modifiée par qualite"):
        book.save(2026, draft, revision=0, by="paul", now=NOW)
    objective = parse_revised_objective(
        {"service": "urbanisme", "indicator": "answer_rate", "target": "90 %",
         "applies_from": "2027-02-01", "reason": "objectif atteint deux ans de suite"},
        services=NAMES,
    )  # fmt: skip
    assert objective.target == 0.9 and objective.kind == "min"
    book.add_objective(2026, objective, by="qualite", now=NOW)
    wait = parse_revised_objective({"indicator": "abandonment_rate", "target": "8"}, services=NAMES)
    book.add_objective(2026, wait, by="qualite", now=NOW)
    stored = book.objectives(2026)
    assert [(o.service, o.objective_text) for o in stored] == [
        (None, "≤ 8,0\u00a0%"),
        ("urbanisme", "≥ 90,0\u00a0%"),
    ]
    table = objectives_revised_table(
        stored,
        NAMES,
        name="o",
        caption="c",
        current={("urbanisme", "answer_rate"): "≥ 90,0\u00a0%"},
    )
    assert table.rows[1][0] == "Urbanisme"
    assert table.rows[1][-1] == "≥ 90,0\u00a0% (appliqué)"
    assert table.rows[0][-1] == "aucun (pas encore appliqué)"
    assert book.remove_objective(2026, stored[0].id)
    assert len(book.objectives(2026)) == 1
    assert book.years() == [2026]


def test_a_review_form_refuses_half_an_approval() -> None:
    with pytest.raises(FormProblems) as caught:
        parse_review({"approved_by": "Mme Lefèvre", "held_on": "2027-01-15"})
    assert "qui a approuvé la revue et la date" in caught.value.problems["approved_on"]
    with pytest.raises(FormProblems) as caught:
        parse_review({"approved_by": "X", "approved_on": "2027-01-10", "held_on": "2027-01-15"})
    assert "est avant la revue elle-même" in caught.value.problems["approved_on"]
    with pytest.raises(FormProblems) as caught:
        parse_revised_objective({"indicator": "answer_rate", "target": "120"}, services=NAMES)
    assert caught.value.problems["target"] == "Nouvel objectif : « 120 » — un taux va de 0 à 100 %"


def test_the_tables_name_services_and_neutralise_formulas(engine) -> None:
    book = ActionBook(engine)
    book.add(
        parse_action(form(title="=HYPERLINK(\"x\")", service=""), services=NAMES),
        by="qualite", now=NOW, today=TODAY,
    )  # fmt: skip
    late = book.add(
        parse_action(form(due="2026-10-01"), services=NAMES), by="qualite", now=NOW, today=TODAY
    )
    table = actions_table(book.all(), NAMES, name="a", caption="c", on=TODAY)
    rows = {row[0]: row for row in table.rows}
    assert rows[late.id][2] == "CCAS" and rows[late.id][3] == "Taux de décroché"
    assert rows[late.id][6] == "à faire — en retard"
    assert table.display(rows[late.id], 5) == "01/10/2026"
    csv = to_csv(actions_export(book.all(), NAMES, TODAY)).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv and "tous services" in csv and "01/10/2026" in csv

"""The action plan in Chromium, as the quality lead lives it: an action recorded in October
appears among the open actions of October's monthly report; marked done in December, it is in
the annual review with its status and result. French locale, at each width the pages are read."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from decroche.testing import indicators_of, web_deps
from reports.annual_review import QualityRecords
from reports.documents import ReportInputs, ReportSettings, build_report
from reports.periods import month_period, year_period
from telephony.records.engine import open_store
from telephony.records.testing import fill, town_calls
from tests.browser_support import Server, fits_at_every_width, shot, sign_in
from tests.test_web_app import Clock

pytestmark = pytest.mark.browser

NAMES = {
    "etat_civil": "État civil",
    "ccas": "CCAS",
    "urbanisme": "Urbanisme",
    "accueil": "Accueil général",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Server, Clock, object]]:
    tmp = tmp_path_factory.mktemp("quality-browser")
    database = open_store(f"sqlite:///{(tmp / 'records.db').as_posix()}")
    store = fill(database, town_calls(date(2026, 9, 1), 61, 4))
    clock = Clock(datetime(2026, 10, 12, 8, 30, tzinfo=UTC))
    deps = web_deps(database, store, now=clock.now, names=NAMES)
    deps.now = clock
    server = Server(deps)
    try:
        yield server.start(), server, clock, database
    finally:
        server.stop()
        database.dispose()


def _document_text(markup: str, table: str) -> str:
    part = markup.split(f'data-table="{table}"')[1].split("</table>")[0]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", part)))


def _inputs(server: Server, database) -> ReportInputs:  # type: ignore[no-untyped-def]
    """The documents' inputs over the web app's database and records."""
    deps = server.deps
    assert deps.actions is not None and deps.reviews is not None
    return ReportInputs(
        indicators_of(database), NAMES, ReportSettings(), QualityRecords(deps.actions, deps.reviews)
    )


@pytest.mark.parametrize("width", [1280])
def test_an_action_goes_from_the_form_to_the_monthly_report_then_the_review(
    browser, site, width: int, tmp_path: Path
) -> None:
    base, server, clock, database = site
    context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, base, "qualite")
        page.goto(f"{base}/actions")
        page.get_by_label("Action (ce qui sera fait)").fill("Renfort du CCAS le lundi matin")
        page.get_by_label("Service").select_option(label="CCAS")
        page.get_by_label("Indicateur visé").select_option(value="answer_rate")
        page.get_by_label("Responsable").fill("Mme Martin")
        page.get_by_label("Échéance").fill("2026-11-30")
        page.get_by_role("button", name="Enregistrer l'action").click()
        page.wait_for_load_state("load")
        assert "Renfort du CCAS le lundi matin" in page.content()
        shot(page, f"actions-enregistree-{width}")

        inputs = _inputs(server, database)
        october = build_report(
            inputs,
            month_period("2026-10"),
            "monthly",
            generated_at=datetime(2026, 11, 1, 5, tzinfo=UTC),
        )
        still = _document_text(october.html, "actions-ouvertes")
        assert "Renfort du CCAS le lundi matin" in still
        assert "CCAS" in still and "Mme Martin" in still and "30/11/2026" in still
        assert "à faire" in still

        clock.now = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
        sign_in(page, base, "qualite")  # weeks later: a new session
        page.goto(f"{base}/actions")
        page.get_by_role("link", name=re.compile("modifier « Renfort du CCAS")).click()
        page.wait_for_load_state("load")
        page.get_by_label("État").select_option(label="faite")
        page.get_by_label("Résultat").fill("Taux de décroché du CCAS remonté à 91 %")
        page.get_by_role("button", name="Enregistrer les modifications").click()
        page.wait_for_load_state("load")
        shot(page, f"actions-faite-{width}")
        assert "faite" in page.content()

        review = build_report(
            inputs,
            year_period(2026),
            "annual",
            generated_at=datetime(2027, 1, 15, 9, tzinfo=UTC),
        )
        follow = _document_text(review.html, "suivi-actions")
        assert "Renfort du CCAS le lundi matin" in follow
        assert "faite le 04/12/2026" in follow
        assert "Taux de décroché du CCAS remonté à 91 %" in follow
        november = build_report(
            inputs,
            month_period("2026-11"),
            "monthly",
            generated_at=datetime(2026, 12, 1, 5, tzinfo=UTC),
        )
        assert "Renfort du CCAS le lundi matin" in _document_text(
            november.html, "actions-ouvertes"
        )  # still open at the end of November: done on 4 December
        december = build_report(
            inputs,
            month_period("2026-12"),
            "monthly",
            generated_at=datetime(2027, 1, 1, 5, tzinfo=UTC),
        )
        assert "Renfort du CCAS" in _document_text(december.html, "actions-closes")
        assert 'data-table="actions-ouvertes"' not in december.html
        assert "Au 31/12/2026 : aucune action ouverte, 1 action close pendant le mois." in (
            html.unescape(december.html)
        )
    finally:
        context.close()


def test_the_review_recorded_in_the_form_is_on_the_documents_cover(browser, site) -> None:
    base, server, clock, database = site
    clock.now = datetime(2027, 1, 28, 14, 0, tzinfo=UTC)
    context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, base, "qualite")
        page.goto(f"{base}/revue/2026")
        page.get_by_label("Date de la revue").fill("2027-01-26")
        page.get_by_role("textbox", name="Participants").fill(
            "M. le Maire — président\nMme Martin — responsable qualité\nM. Roux — DGS"
        )
        page.get_by_label("Analyse et conclusions").fill("Le CCAS reste sous son objectif.")
        page.get_by_label("Approuvée par").fill("M. le Maire")
        page.get_by_label("Approuvée le").fill("2027-01-27")
        page.get_by_role("button", name="Enregistrer la revue").click()
        page.wait_for_load_state("load")
        page.locator("#f-indicator").select_option(value="answer_rate")
        page.locator("#f-service").last.select_option(label="CCAS")
        page.get_by_label("Nouvel objectif").fill("92")
        page.get_by_label("Motif").fill("Renfort pérennisé")
        page.get_by_role("button", name="Ajouter l'objectif révisé").click()
        page.wait_for_load_state("load")
        for path, name in (
            ("/actions", "plan-actions"),
            ("/actions/1", "action"),
            ("/revue", "revues"),
            ("/revue/2026", "revue-2026"),
        ):
            page.goto(f"{base}{path}")
            fits_at_every_width(page, name, reload=True)
    finally:
        context.close()
    document = build_report(
        _inputs(server, database),
        year_period(2026),
        "annual",
        generated_at=datetime(2027, 1, 28, 15, tzinfo=UTC),
    )
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", document.html)))
    assert "Revue tenue le 26/01/2027" in text
    assert "M. le Maire — président" in text and "M. Roux — DGS" in text
    assert "Approuvée par M. le Maire le 27/01/2027." in text
    assert "Le CCAS reste sous son objectif." in text
    revised = _document_text(document.html, "objectifs-revises")
    assert "CCAS" in revised and "≥ 92,0 %" in revised and "Renfort pérennisé" in revised

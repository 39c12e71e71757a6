"""The service page shows the callers' satisfaction beside its objectives, and exports it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from reports.testing import fill, web_deps
from reports.web.app import create_app
from routing_rules.model import Scale
from telephony.records.testing import sample_record, temporary_database
from tests.test_web_app import NOW, sign_in


async def test_service_page_shows_satisfaction(aiohttp_client, tmp_path: Path) -> None:
    record = sample_record("call-sat", start=NOW.replace(day=6, hour=8))
    with temporary_database("sqlite", tmp_path) as database:
        store = fill(database, iter([record]))
        deps = web_deps(database, store, now=NOW)
        deps.survey_scales = {"survey.q1": Scale.ONE_TO_FIVE, "survey.q2": Scale.YES_NO}
        client = await aiohttp_client(create_app(deps))
        await sign_in(client, "qualite")
        page = await client.get("/service/accueil-general?mois=2026-10")
        html = await page.text()
        assert page.status == 200, html
        assert "Satisfaction des appelants" in html
        assert "1 appelants sollicités, 1 ont répondu" in html
        assert "objectif" in html
        export = await client.get("/export/satisfaction-accueil-general.csv?mois=2026-10")
        assert export.status == 200
        rows = list(
            csv.reader(io.StringIO((await export.read()).decode("utf-8-sig")), delimiter=";")
        )
        assert rows[0] == ["Indicateur", "Valeur", "Objectif", "Résultat"]
        assert any(row[1] == "100,0 %" for row in rows[1:])  # share satisfied: 4 on 1-5
        other = await client.get("/service/accueil-general?mois=2026-09")
        assert "Satisfaction des appelants" not in await other.text()


async def test_dashboard_cards_show_satisfaction_beside_its_objective(
    aiohttp_client, tmp_path: Path
) -> None:
    record = sample_record("call-sat", start=NOW.replace(day=6, hour=8))
    with temporary_database("sqlite", tmp_path) as database:
        store = fill(database, iter([record]))
        deps = web_deps(database, store, now=NOW)
        deps.survey_scales = {"survey.q1": Scale.ONE_TO_FIVE, "survey.q2": Scale.YES_NO}
        client = await aiohttp_client(create_app(deps))
        await sign_in(client, "qualite")
        html = await (await client.get("/tableau-de-bord?mois=2026-10")).text()
        card = html[html.index('data-service="accueil-general"') :]
        card = card[: card.index("</section>")]
        assert "Satisfaction (part de satisfaits)" in card
        assert 'data-indicator="share_satisfied" data-value="1.0">100,0 %' in card
        assert "≥ 80,0 %" in card
        export = await client.get("/export/objectifs.csv?mois=2026-10")
        rows = list(
            csv.reader(io.StringIO((await export.read()).decode("utf-8-sig")), delimiter=";")
        )
        surveyed = [r for r in rows if r[1] == "Satisfaction (part de satisfaits)"]
        assert {r[0] for r in surveyed} >= {"accueil-general"}
        assert all(r[2] == "100,0 %" for r in surveyed)
        # A month without surveyed callers shows no satisfaction row rather than a blank one.
        before = await (await client.get("/tableau-de-bord?mois=2026-09")).text()
        assert "Satisfaction (part de satisfaits)" not in before


@pytest.mark.browser
def test_dashboard_satisfaction_in_chromium(browser, tmp_path: Path) -> None:
    from telephony.records.engine import open_store
    from tests.browser_support import Server, shot
    from tests.browser_support import sign_in as sign_in_browser

    database = open_store(f"sqlite:///{(tmp_path / 'records.db').as_posix()}")
    store = fill(database, iter([sample_record("call-sat", start=NOW.replace(day=6, hour=8))]))
    deps = web_deps(database, store, now=NOW)
    deps.survey_scales = {"survey.q1": Scale.ONE_TO_FIVE, "survey.q2": Scale.YES_NO}
    server = Server(deps)
    base = server.start()
    context = browser.new_context(locale="fr-FR")
    try:
        page = context.new_page()
        sign_in_browser(page, base, "qualite")
        page.goto(f"{base}/tableau-de-bord?mois=2026-10")
        card = page.locator('section.card[data-service="accueil-general"]')
        row = card.get_by_role("row").filter(
            has=page.get_by_role("rowheader", name="Satisfaction (part de satisfaits)")
        )
        cells = [c.strip() for c in row.get_by_role("cell").all_inner_texts()]
        assert cells[0] == "100,0 %" and cells[1] == "≥ 80,0 %"
        assert "atteint" in cells[2]
        shot(page, "qualite-tableau-de-bord-satisfaction")
    finally:
        context.close()
        server.stop()
        database.dispose()

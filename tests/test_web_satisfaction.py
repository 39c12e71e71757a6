"""Callers' satisfaction on the service page and the dashboard's cards, beside its objectives,
and exported."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from decroche.testing import web_deps
from reports.web.app import WebDeps, create_app
from routing_rules.model import Scale
from telephony.records.engine import Database
from telephony.records.testing import fill, sample_record, temporary_database
from tests.test_web_app import NOW, sign_in

SCALES = {"survey.q1": Scale.ONE_TO_FIVE, "survey.q2": Scale.YES_NO}


def _surveyed_deps(database: Database) -> WebDeps:
    """One call of October surveyed (4 on 1–5, oui), the survey's scales known."""
    record = sample_record("call-sat", start=NOW.replace(day=6, hour=8))
    return web_deps(database, fill(database, iter([record])), now=NOW, scales=SCALES)


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path) -> AsyncIterator[TestClient]:
    with temporary_database("sqlite", tmp_path) as database:
        client = await aiohttp_client(create_app(_surveyed_deps(database)))
        await sign_in(client, "qualite")
        yield client


async def test_service_page_shows_satisfaction(client: TestClient) -> None:
    page = await client.get("/service/accueil-general?mois=2026-10")
    html = await page.text()
    assert page.status == 200, html
    assert "Satisfaction des appelants" in html
    assert "1 enquête proposée, 1 enquête répondue" in html
    assert "objectif" in html
    export = await client.get("/export/satisfaction-accueil-general.csv?mois=2026-10")
    assert export.status == 200
    rows = list(csv.reader(io.StringIO((await export.read()).decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Indicateur", "Valeur", "Objectif", "Résultat"]
    assert any(row[1] == "100,0\u00a0%" for row in rows[1:])  # share satisfied: 4 on 1-5
    other = await client.get("/service/accueil-general?mois=2026-09")
    assert "Satisfaction des appelants" not in await other.text()


async def test_dashboard_shows_satisfaction_beside_its_objective(client: TestClient) -> None:
    html = await (await client.get("/tableau-de-bord?mois=2026-10")).text()
    assert '<th scope="col" data-indicator="share_satisfied">Part de satisfaits' in html
    row = html[html.index('<tr data-service="accueil-general"') :]
    row = row[: row.index("</tr>")]
    assert 'data-indicator="share_satisfied" data-value="1.0">' in row
    assert '<span class="value">100,0\u00a0%</span>' in row
    assert "objectif ≥\u00a080,0\u00a0%" in row
    export = await client.get("/export/objectifs.csv?mois=2026-10")
    rows = list(csv.reader(io.StringIO((await export.read()).decode("utf-8-sig")), delimiter=";"))
    surveyed = [r for r in rows if r[1] == "Part de satisfaits"]
    assert {r[0] for r in surveyed} >= {"accueil-general"}
    assert all(r[2] == "100,0\u00a0%" for r in surveyed)
    # A month without surveyed callers shows no satisfaction row rather than a blank one.
    before = await (await client.get("/tableau-de-bord?mois=2026-09")).text()
    assert "Part de satisfaits" not in before


@pytest.mark.browser
def test_dashboard_satisfaction_in_chromium(browser, tmp_path: Path) -> None:
    from telephony.records.engine import open_store
    from tests.browser_support import Server, shot
    from tests.browser_support import sign_in as sign_in_browser

    database = open_store(f"sqlite:///{(tmp_path / 'records.db').as_posix()}")
    server = Server(_surveyed_deps(database))
    base = server.start()
    context = browser.new_context(locale="fr-FR")
    try:
        page = context.new_page()
        sign_in_browser(page, base, "qualite")
        page.goto(f"{base}/tableau-de-bord?mois=2026-10")
        row = page.locator('table[data-table=apercu] tr[data-service="accueil-general"]')
        cell = row.locator("td[data-indicator=share_satisfied]").inner_text().split("\n")
        assert cell[:3] == ["100,0\u00a0%", "objectif ≥\u00a080,0\u00a0%", "✔ atteint"]
        shot(page, "qualite-tableau-de-bord-satisfaction")
    finally:
        context.close()
        server.stop()
        database.dispose()

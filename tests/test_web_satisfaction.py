"""The service page shows the callers' satisfaction beside its objectives, and exports it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

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

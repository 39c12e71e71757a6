"""The quality lead's action plan and management reviews through the web app (aiohttp's test
client): recorded, refused with the typed values kept, changed, exported, for the quality lead
only."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from decroche.testing import web_deps
from reports.web.app import WebDeps, create_app
from telephony.records.testing import temporary_database
from tests.test_web_app import csrf_of, sign_in

NOW = datetime(2026, 10, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def deps(tmp_path: Path) -> WebDeps:
    with temporary_database("sqlite", tmp_path) as database:
        yield web_deps(database, None, now=NOW)  # type: ignore[arg-type]


@pytest.fixture
async def client(aiohttp_client, deps: WebDeps) -> TestClient:
    return await aiohttp_client(create_app(deps))


ACTION = {
    "title": "Renfort du CCAS le lundi matin",
    "service": "ccas",
    "indicator": "answer_rate",
    "owner": "Mme Martin",
    "due": "2026-11-30",
    "status": "planned",
    "origin": "monthly",
}


async def test_an_action_is_recorded_then_closed(client: TestClient) -> None:
    await sign_in(client, "qualite")
    page = await client.get("/actions")
    assert page.status == 200
    html = await page.text()
    assert "Aucune action ouverte." in html
    token = csrf_of(html)
    sent = await client.post("/actions", data={**ACTION, "csrf": token}, allow_redirects=False)
    assert sent.status == 303 and sent.headers["Location"] == "/actions?ok=1#action-1"
    html = await (await client.get("/actions")).text()
    assert "Renfort du CCAS le lundi matin" in html and "<td" in html and "CCAS" in html
    assert "Taux de décroché" in html and "30/11/2026" in html and "à faire" in html

    edit = await (await client.get("/actions/1")).text()
    assert 'name="revision" value="1"' in edit
    closed = await client.post(
        "/actions/1",
        data={**ACTION, "status": "done", "result": "88 % en novembre", "revision": "1",
              "csrf": token},
        allow_redirects=False,
    )  # fmt: skip
    assert closed.status == 303
    assert "Aucune action ouverte." in await (await client.get("/actions")).text()
    everything = await (await client.get("/actions?etat=toutes")).text()
    assert "faite le 20/10/2026" in everything and "88 % en novembre" in everything


async def test_a_wrong_form_comes_back_with_what_was_typed(client: TestClient) -> None:
    await sign_in(client, "qualite")
    token = csrf_of(await (await client.get("/actions")).text())
    sent = await client.post(
        "/actions", data={**ACTION, "due": "31/02/2026", "owner": "", "csrf": token}
    )
    assert sent.status == 400
    html = await sent.text()
    assert "Le formulaire n&#39;est pas enregistré" in html
    assert "Échéance : « 31/02/2026 » n&#39;est pas une date (JJ/MM/AAAA)" in html
    assert 'value="Renfort du CCAS le lundi matin"' in html  # nothing typed is lost
    assert 'aria-invalid="true" aria-describedby="pb-due"' in html


async def test_an_outdated_page_changes_nothing(client: TestClient) -> None:
    await sign_in(client, "qualite")
    token = csrf_of(await (await client.get("/actions")).text())
    await client.post("/actions", data={**ACTION, "csrf": token})
    first = {**ACTION, "owner": "M. Durand", "revision": "1", "csrf": token}
    assert (await client.post("/actions/1", data=first, allow_redirects=False)).status == 303
    stale = await client.post("/actions/1", data={**first, "owner": "Mme Leroy"})
    assert stale.status == 409
    html = await stale.text()
    assert "Rien n&#39;a été enregistré" in html and 'value="Mme Leroy"' in html
    assert 'name="revision" value="2"' in html  # sending it again now overwrites knowingly


async def test_a_review_is_recorded_with_its_revised_objectives(client: TestClient) -> None:
    await sign_in(client, "qualite")
    redirect = await client.get("/revue?annee=2026", allow_redirects=False)
    assert redirect.headers["Location"] == "/revue/2026"
    html = await (await client.get("/revue/2026")).text()
    assert "Pas encore enregistrée." in html
    token = csrf_of(html)
    form = {
        "held_on": "2027-01-15",
        "participants": "Mme Lefèvre — DGS\nM. Roy — élu",
        "scope": "Ville de Bernay et CCAS",
        "conclusions": "Renforcer l'urbanisme.",
        "approved_by": "Mme Lefèvre",
        "approved_on": "2027-01-20",
        "revision": "0",
        "csrf": token,
    }
    assert (await client.post("/revue/2026", data=form, allow_redirects=False)).status == 303
    html = await (await client.get("/revue/2026")).text()
    assert "Approuvée le 20/01/2027 par Mme Lefèvre." in html
    added = await client.post(
        "/revue/2026/objectifs",
        data={"service": "ccas", "indicator": "answer_rate", "target": "90", "csrf": token},
        allow_redirects=False,
    )
    assert added.status == 303
    html = await (await client.get("/revue/2026")).text()
    assert "≥ 90,0\u00a0%" in html
    listing = await (await client.get("/revue")).text()
    assert "approuvée le 20/01/2027 par Mme Lefèvre" in listing
    export = await client.get("/revue/2026/objectifs.xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(await export.read())).active
    assert [c.value for c in sheet[2]][:3] == ["CCAS", "Taux de décroché", "≥ 90,0\u00a0%"]
    csv = (await (await client.get("/revue/export.csv")).read()).decode("utf-8-sig")
    assert "Mme Lefèvre — DGS ; M. Roy — élu" in csv and "20/01/2027" in csv


async def test_only_the_quality_lead_opens_them(client: TestClient) -> None:
    await sign_in(client, "informatique")
    for path in ("/actions", "/revue", "/revue/2026", "/actions/export.csv"):
        assert (await client.get(path)).status == 403, path

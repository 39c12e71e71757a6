"""Reports made from the Rapports page: the quality lead picks the report and its period, the
report is made off the event loop (the pages keep answering), its progress is shown step by
step, then its files are listed; bad input and a second report at the same time are refused in
French, a failure is said with its message."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from datetime import date
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from decroche.testing import indicators_of, web_deps
from reports.documents import (
    BUILD_STEPS,
    ReportInputs,
    ReportSettings,
    build_report,
    write_report,
)
from reports.errors import ReportGenerationError
from reports.generation import Progress, ReportJobs
from reports.periods import Period
from reports.web.app import DEPS, WebDeps, create_app
from telephony.records.engine import Database
from telephony.records.testing import fill, temporary_database, town_calls
from tests.test_web_app import NOW, csrf_of, sign_in

TOWN = "Ville de Lisieux-Essai"


def real_reports(database: Database, folder: Path) -> Callable[..., list[Path]]:
    """Reports made as the root makes them (here without PDF, the PDF has its own tests)."""

    def generate(kind: str, period: Period, force: bool, progress: Progress) -> list[Path]:
        inputs = ReportInputs(indicators_of(database), {"ccas": "CCAS"}, ReportSettings(TOWN))
        document = build_report(inputs, period, kind, generated_at=NOW, progress=progress)
        return write_report(document, folder, pdf=False, progress=progress)

    return generate


@pytest.fixture
def database(tmp_path: Path) -> Database:
    with temporary_database("sqlite", tmp_path) as database:
        yield database


def _deps(database: Database, folder: Path, generate: Callable[..., list[Path]]) -> WebDeps:
    deps = web_deps(database, fill(database, town_calls(date(2026, 9, 1), 40, 4)), now=NOW)
    deps.reports_dir = folder
    deps.reports = ReportJobs(generate, steps=BUILD_STEPS, now=lambda: NOW)
    return deps


@pytest.fixture
async def made(aiohttp_client, database: Database, tmp_path: Path) -> AsyncIterator[TestClient]:
    folder = tmp_path / "rapports"
    client = await aiohttp_client(
        create_app(_deps(database, folder, real_reports(database, folder)))
    )
    await sign_in(client, "qualite")
    yield client


async def _ask(client: TestClient, **fields: str):
    page = await client.get("/rapports")
    form = {"csrf": csrf_of(await page.text()), **fields}
    return await client.post("/rapports/produire", data=form, allow_redirects=False)


async def test_the_quality_lead_makes_a_monthly_report_from_the_web(made: TestClient) -> None:
    page = await (await made.get("/rapports")).text()
    # The form proposes last month and last year, the reports usually made.
    assert 'name="mois" value="2026-09"' in page and 'name="annee"' in page
    assert 'value="2025"' in page
    response = await _ask(made, kind="monthly", mois="2026-09")
    assert response.status == 303
    job_page = response.headers["Location"]
    assert job_page.startswith("/rapports/production/")
    deps = made.app[DEPS]
    assert deps.reports is not None
    await deps.reports.wait()
    html = await (await made.get(job_page)).text()
    assert "Bilan mensuel — septembre 2026" in html
    assert 'data-state="done">produit' in html
    assert '<a href="/rapports/bilan-mensuel-2026-09.html">' in html
    listing = await (await made.get("/rapports")).text()
    assert "bilan-mensuel-2026-09.html" in listing  # among the reports made
    assert "produit</td>" in listing
    report = await made.get("/rapports/bilan-mensuel-2026-09.html")
    assert report.status == 200
    assert TOWN in await report.text()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "monthly", "mois": "2026-13"}, "Mois : « 2026-13 » n&#39;est pas un mois valide"),
        ({"kind": "annual", "annee": "vingt"}, "Année : « vingt » n&#39;est pas une année AAAA"),
        ({"kind": "weekly"}, "Rapport : choisissez le bilan mensuel ou le bilan annuel"),
        ({"kind": "monthly", "mois": "2027-01"}, "janvier 2027 n&#39;a pas commencé"),
    ],
)
async def test_bad_requests_are_refused_in_french(
    made: TestClient, fields: dict[str, str], message: str
) -> None:
    response = await _ask(made, **fields)
    assert response.status == 400
    html = await response.text()
    assert message in html
    if "mois" in fields:
        assert f'name="mois" value="{fields["mois"]}"' in html  # what was typed comes back


async def test_an_agent_cannot_make_a_report(made: TestClient) -> None:
    await made.post("/deconnexion", data={"csrf": csrf_of(await (await made.get("/")).text())})
    await sign_in(made, "agent1")
    token = csrf_of(await (await made.get("/agent")).text())
    response = await made.post(
        "/rapports/produire",
        data={"csrf": token, "kind": "monthly", "mois": "2026-09"},
        allow_redirects=False,
    )
    assert response.status == 403
    assert "Accès refusé" in await response.text()


async def test_progress_is_shown_the_pages_keep_answering_and_one_at_a_time(
    aiohttp_client, database: Database, tmp_path: Path
) -> None:
    release = threading.Event()
    started = threading.Event()

    def slow(kind: str, period: Period, force: bool, progress: Progress) -> list[Path]:
        progress("indicateurs et objectifs")
        progress("répartition dans le temps")
        started.set()
        assert release.wait(30)
        raise ReportGenerationError("bilan-mensuel-2026-09 : échec du rendu PDF : disque plein")

    deps = _deps(database, tmp_path / "rapports", slow)
    client = await aiohttp_client(create_app(deps))
    await sign_in(client, "qualite")
    response = await _ask(client, kind="monthly", mois="2026-09")
    job_page = response.headers["Location"]
    assert started.wait(30)
    try:
        # Made in a worker thread: the dashboard answers while the report is being made.
        assert (await client.get("/tableau-de-bord?mois=2026-09")).status == 200
        html = await (await client.get(job_page)).text()
        assert '<meta http-equiv="refresh" content="2">' in html
        assert f"Étape 2 sur {BUILD_STEPS} : répartition dans le temps" in html
        again = await _ask(client, kind="annual", annee="2025")
        assert again.status == 400
        assert "un rapport est déjà en cours de production (Bilan mensuel — septembre 2026" in (
            await again.text()
        )
    finally:
        release.set()
        assert deps.reports is not None
        await deps.reports.wait()
    html = await (await client.get(job_page)).text()
    assert 'data-state="failed">échec' in html
    assert "échec du rendu PDF : disque plein" in html
    assert "refresh" not in html

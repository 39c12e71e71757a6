"""The audit's pages and reports as their readers see them: IT's page (headless Chromium,
French locale, the four widths, no horizontal overflow), the button, and the quality lead's
« audit interne » report as HTML and PDF pages turned to images. Screenshots and page images go
to ``test-artifacts/``.

The runs shown are real: the robot called the Bernay paths on the simulated PBX (in virtual
time) — all right, then with the menu of the espace du droit et de la famille missing from the
sounds folder, then once the sound was back.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from audit.jobs import AuditJobs
from audit.results import AuditRun, Trigger
from decroche.app import App
from decroche.config import load_config
from decroche.testing import web_deps
from decroche.web import AuditDeskOfApp
from telephony.virtual_time import VirtualTimeLoop
from tests.audit_support import remove_sound, runner_for, sounds_folder
from tests.browser_support import (
    ARTIFACTS,
    Server,
    fits_at_every_width,
    french_page,
    sign_in,
)
from tests.flow_support import running_system
from tests.pdf_support import font_families

NOW = datetime(2026, 10, 20, 10, 0, tzinfo=UTC)
PDF_IMAGES = ARTIFACTS.parent / "pdf"


def audits(app: App, tmp: Path) -> list[AuditRun]:
    """Three runs stored in ``app``'s database: all right, a sound missing, fixed."""

    async def run_them() -> list[AuditRun]:
        store = app.audit_store()
        sounds = sounds_folder(tmp / "sons")
        done = []
        async with running_system(sounds=sounds) as system:
            runner = runner_for(system, store)
            done.append(await runner.run(Trigger.NIGHTLY))
            remove_sound(sounds, "menu_droit_famille")
            done.append(await runner.run(Trigger.PAGE, by="informatique"))
            sounds_folder(sounds)
            done.append(await runner.run(Trigger.RELOAD, wanted=["standard.2*"]))
            await runner.client.close()
        return done

    # In a thread of its own: Playwright keeps an event loop running in the main thread.
    done: list[list[AuditRun]] = []

    def in_thread() -> None:
        with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
            done.append(runner.run(run_them()))

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join(300)
    (runs,) = done
    return runs


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[App, list[AuditRun]]]:
    tmp = tmp_path_factory.mktemp("audit-web")
    config = load_config(None, environ={})
    # No PBX answers there: a run launched from the page says so.
    ari = config.ari.model_copy(
        update={"url": "http://127.0.0.1:1/ari", "password": SecretStr("x")}
    )
    app = App(config.model_copy(update={"data_dir": tmp, "ari": ari}))
    try:
        yield app, audits(app, tmp)
    finally:
        app.close()


@pytest.fixture(scope="module")
def site(stored: tuple[App, list[AuditRun]]) -> Iterator[str]:
    app, _ = stored
    database = app.database()
    deps = web_deps(database, app.store(), now=NOW)
    store = app.audit_store()
    deps.audit = AuditDeskOfApp(app, store, AuditJobs(app.audit_runner(store=store), store))
    deps.reports_dir = app.reports_dir
    server = Server(deps)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def page(browser, site):
    with french_page(browser) as page:
        yield page


@pytest.mark.browser
def test_it_reads_the_last_audit_and_each_run(page, site, stored) -> None:
    _, (first, failed, fixed) = stored
    sign_in(page, site, "informatique")
    page.goto(f"{site}/systeme")
    section = page.locator("section[aria-labelledby=t-audit]")
    assert "Audit des parcours" in section.inner_text()
    # The last run is the one that found the menu back.
    assert "8 parcours conformes" in section.inner_text()
    fits_at_every_width(page, "informatique-systeme-audit", reload=True)
    page.get_by_role("link", name="Audits : lancer un audit, historique").click()
    rows = page.locator("table[data-table=audits] tbody tr")
    assert rows.count() == 3
    assert rows.nth(1).locator("td").nth(0).inner_text() == "page Système (informatique)"
    assert rows.nth(1).locator("td").nth(4).inner_text() == "8"
    fits_at_every_width(page, "informatique-audits", reload=True)
    page.goto(f"{site}/systeme/audit/{failed.id}")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Audit du ")
    gaps = page.locator("table[data-table=ecarts] tbody tr")
    assert gaps.count() == 8  # each path once, its playback
    assert "« menu_droit_famille » n'a pas été joué" in gaps.first.inner_text()
    assert "corrigé le" in gaps.first.inner_text()
    paths = page.locator("table[data-table=parcours] tbody tr")
    assert paths.count() == 27
    ccas = paths.filter(has_text="standard.2.1")
    assert "CCAS – centre communal d’action sociale : sonnerait" in ccas.inner_text()
    assert "en échec" in ccas.inner_text()
    page.locator("summary", has_text="standard.2.1").click()
    detail = page.locator("table[data-table='issues-standard.2.1']")
    assert "vérifié par simulation" in detail.inner_text()
    assert "les samedis" in detail.inner_text()
    fits_at_every_width(page, "informatique-audit-run", reload=True)
    assert first.ok and not failed.ok and fixed.ok


@pytest.mark.browser
def test_the_button_runs_an_audit_and_says_what_happened(page, site) -> None:
    sign_in(page, site, "informatique")
    page.goto(f"{site}/systeme/audit")
    page.get_by_role("button", name="Lancer un audit maintenant").click()
    assert "Audit lancé" in page.get_by_role("status").first.inner_text()
    for _ in range(50):  # no PBX answers: the run ends at once, impossible
        page.goto(f"{site}/systeme/audit")
        first = page.locator("table[data-table=audits] tbody tr").first
        if "impossible" in first.inner_text():
            break
        page.wait_for_timeout(200)
    assert "page Système (informatique)" in first.inner_text()
    first.get_by_role("link").click()
    assert "Asterisk injoignable" in page.get_by_role("status").inner_text()


@pytest.mark.browser
def test_the_audit_is_its_pages_and_not_the_quality_leads(page, site) -> None:
    sign_in(page, site, "qualite")
    response = page.goto(f"{site}/systeme/audit")
    assert response is not None and response.status == 403


@pytest.mark.pdf
@pytest.mark.pdf_images
def test_the_quality_leads_reports_per_run_and_per_month(stored) -> None:
    app, (_, failed, fixed) = stored
    writer = app.audit_report_writer(pdf=True)
    files = writer.run_report(failed) + writer.month_report(2026, 10)
    names = sorted(f.name for f in files)
    assert names == sorted(
        [
            f"audit-interne-{failed.id}.html",
            f"audit-interne-{failed.id}.pdf",
            "audit-interne-mensuel-2026-10.html",
            "audit-interne-mensuel-2026-10.pdf",
        ]
    )
    run_html = (app.reports_dir / f"audit-interne-{failed.id}.html").read_text(encoding="utf-8")
    assert "Audit interne de l’accueil téléphonique" in run_html
    assert f"corrigé le {fixed.started_at.astimezone(app.rules.current.tz):%d/%m/%Y}" in run_html
    month_html = (app.reports_dir / "audit-interne-mensuel-2026-10.html").read_text("utf-8")
    assert "octobre 2026" in month_html and "<strong>3</strong> audits" in month_html
    assert f"Référence TEL-AI-{failed.id} — version du " in run_html
    assert "Référence TEL-AI-2026-10 — version du " in month_html
    PDF_IMAGES.mkdir(parents=True, exist_ok=True)
    for pdf in (f for f in files if f.suffix == ".pdf"):
        target = PDF_IMAGES / pdf.stem
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(target / "page")], check=True)
        pages = sorted(target.glob("page*.png"))
        assert pages, pdf
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True
        ).stdout.decode("utf-8")
        assert "Écarts constatés" in text and "menu_droit_famille" in text
        # One type, the footer's included (and its monospaced form for the rules' ids).
        assert font_families(pdf) <= {"DejaVu-Sans", "DejaVu-Sans-Mono"}, pdf.name
        # Every table fits the page: no line of the text runs past the page's width.
        assert max(len(line) for line in text.splitlines()) < 200
    # Each path's result is read whole, never cut into « conform » and « e ».
    text = subprocess.run(
        ["pdftotext", str(app.reports_dir / f"audit-interne-{failed.id}.pdf"), "-"],
        check=True,
        capture_output=True,
    ).stdout.decode("utf-8")
    passed = len(failed.results) - len(failed.failed)
    assert passed > 0 and len(re.findall(r"\bconforme\b", text)) >= passed, text
    assert len(re.findall(r"en échec", text)) >= len(failed.failed)

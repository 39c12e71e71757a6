"""The web app in headless Chromium (Debian's): each role signs in, the dashboard's figures equal
``decroche indicators --json``, roles are kept apart even by URL, exports download and open, the
live view updates by server push. Screenshots go to ``test-artifacts/browser/``."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from decroche.testing import NAMES, web_deps
from reports.live import AgentLive, AgentState, LiveSnapshot, ServiceLive
from telephony.records.engine import open_store
from telephony.records.testing import fill, town_calls
from tests.browser_support import Server, fits_at_every_width, shot, sign_in
from tests.test_web_live_agents import queue_snapshot

pytestmark = pytest.mark.browser

NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Server]]:
    tmp = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{(tmp / 'records.db').as_posix()}"
    database = open_store(url)
    store = fill(database, town_calls(date(2026, 9, 1), 61, 8))
    server = Server(web_deps(database, store, now=NOW))
    base = server.start()
    try:
        yield base, url, server
    finally:
        server.stop()
        database.dispose()


@pytest.fixture
def page(browser, site):
    context = browser.new_context(accept_downloads=True, locale="fr-FR")
    try:
        yield context.new_page()
    finally:
        context.close()


def test_dashboard_figures_equal_the_indicators_command(page, site) -> None:
    base, url, _ = site
    sign_in(page, base, "qualite")
    assert page.url == f"{base}/tableau-de-bord"
    page.goto(f"{base}/tableau-de-bord?mois=2026-10")
    shot(page, "qualite-tableau-de-bord")
    result = CliRunner().invoke(
        __import__("decroche.cli", fromlist=["main"]).main,
        ["indicators", "--db", url, "--from", "2026-10-01", "--to", "2026-10-31", "--json"],
    )
    assert result.exit_code == 0, result.output
    expected = json.loads(result.output)
    shown = page.eval_on_selector_all(
        "td[data-indicator]",
        "cells => cells.map(c =>"
        " [c.dataset.service, c.dataset.indicator, c.dataset.value ?? null])",
    )
    assert shown, "no indicator on the dashboard"
    groups = {**expected["services"], "total": expected["total"]}
    assert {service for service, _, _ in shown} == set(groups)
    for service, indicator, value in shown:
        want = groups[service][indicator]
        got = None if value is None else round(float(value), 3 if indicator.endswith("_s") else 6)
        assert got == want, (service, indicator)
    offered = page.eval_on_selector_all(
        '[data-table="tableau-de-bord"] tbody tr',
        "rows => rows.map(r => [r.querySelector('th').textContent,"
        " r.querySelector('td[data-key=offered]').dataset.value])",
    )
    # Rows by name, as a person reads them (the site's names: decroche.testing.NAMES).
    label = {**NAMES, "total": "Tous services (chaque appel une fois)"}
    assert {name: int(v) for name, v in offered} == {
        label.get(service, service): counts["offered"] for service, counts in groups.items()
    }
    # Met or not is said in words, not only by colour.
    assert page.locator(".status.met, .status.missed").first.inner_text().strip() in (
        "✔ atteint",
        "✘ non atteint",
    )
    page.get_by_role("link", name="CCAS").first.click()
    page.wait_for_load_state("load")
    assert "/service/ccas?mois=2026-10" in page.url
    assert page.locator("h1").inner_text() == "CCAS — octobre 2026"
    shot(page, "qualite-service-ccas")


def test_exports_download_and_open(page, site) -> None:
    from openpyxl import load_workbook

    base, _, _ = site
    sign_in(page, base, "qualite")
    page.goto(f"{base}/tableau-de-bord?mois=2026-10")
    block = page.locator('[data-table="tableau-de-bord"]').locator("xpath=..")
    with page.expect_download() as info:
        block.get_by_role("link", name="CSV").click()
    rows = list(
        csv.reader(io.StringIO(Path(info.value.path()).read_text("utf-8-sig")), delimiter=";")
    )
    assert rows[0][0] == "Service" and len(rows) >= 3
    with page.expect_download() as info:
        block.get_by_role("link", name="Excel (XLSX)").click()
    assert info.value.suggested_filename == "tableau-de-bord-2026-10.xlsx"
    sheet = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes())).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Service"
    assert [row[1] for row in values[1:]] == [int(row[1]) for row in rows[1:]]


@pytest.mark.parametrize(
    ("login", "home", "refused"),
    [
        ("informatique", "/systeme", ["/tableau-de-bord", "/agent", "/export/objectifs.csv"]),
        ("agent1", "/agent", ["/tableau-de-bord", "/systeme", "/direct", "/rapports"]),
    ],
)
def test_roles_cannot_open_each_others_pages(page, site, login, home, refused) -> None:
    base, _, _ = site
    sign_in(page, base, login)
    assert page.url == f"{base}{home}"
    shot(page, f"{login}-accueil")
    labels = page.get_by_role("navigation").inner_text()
    assert "Tableau de bord" not in labels
    for path in refused:
        response = page.goto(f"{base}{path}")
        assert response.status == 403, path
        assert page.locator("h1").inner_text() == "Accès refusé"
    shot(page, f"{login}-refus")


def test_live_view_updates_by_server_push(page, site) -> None:
    base, _, server = site
    sign_in(page, base, "informatique")
    page.goto(f"{base}/direct")
    # A selector, not wait_for_function: the page's CSP forbids evaluating a string as code.
    page.wait_for_selector("#live-status:has-text('active')")
    server.publish(
        LiveSnapshot(
            at=NOW,
            in_ivr=2,
            services=(ServiceLive("ccas", waiting=5, in_conversation=1, longest_wait_s=33.0),),
            agents=(AgentLive("agent1", AgentState.PAUSED, ("ccas",)),),
        )
    )
    page.wait_for_selector('[data-service="ccas"] [data-live="waiting"]:text("5")')
    assert "en pause" in page.locator('[data-table="live-agents"]').inner_text()
    shot(page, "informatique-direct")


def test_agent_signs_in_to_a_service(page, site) -> None:
    base, _, _ = site
    sign_in(page, base, "agent1")
    page.get_by_role("button", name="Me connecter — CCAS").click()
    page.wait_for_load_state("load")
    assert page.locator('[data-presence="ccas"]').inner_text() == "connecté"
    shot(page, "agent1-poste")


def test_the_queues_on_the_live_view_and_the_agents_page_at_every_width(page, site) -> None:
    base, _, server = site
    sign_in(page, base, "informatique")
    page.goto(f"{base}/direct")
    page.wait_for_selector("#live-status:has-text('active')")
    server.publish(queue_snapshot())
    page.wait_for_selector('[data-table="live-queues"] [data-queued="ccas"]')
    text = page.locator('[data-table="live-queues"]').inner_text()
    assert "Appelants dans les files d'attente" in text
    assert NAMES["ccas"] in text and NAMES["accueil"] in text
    assert "09:59:20" in text  # local time
    assert "47,0\u00a0s" in text
    fits_at_every_width(page, "informatique-direct-files", reload=False)
    sign_in(page, base, "agent1")
    page.goto(f"{base}/agent")
    table = page.locator('[data-table="live-queues"]')
    assert "Appelants en file d'attente pour mes services" in table.inner_text()
    assert table.locator('[data-queued="ccas"]').count() == 2
    assert table.locator('[data-queued="accueil"]').count() == 0  # not one of agent1's
    fits_at_every_width(page, "agent1-files", reload=False)

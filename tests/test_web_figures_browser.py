"""The dashboard and the service pages over the demo's records, in headless Chromium (French
locale) at the four widths: what the quality lead reads of the calls received while closed, of
a month not over, of a service that stops ringing within its commitment; no horizontal overflow.
Screenshots go to ``test-artifacts/browser/``."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from decroche.app import App
from decroche.config import Config
from decroche.testing import PASSWORD
from decroche.web import build_web_deps
from reports.accounts import AccountStore, Role, upgrade_web_schema
from reports.live import InMemoryLiveFeed
from tests.browser_support import Server, fits_at_every_width, french_page, sign_in


@pytest.fixture(scope="module")
def site(demo_data: Path) -> Iterator[tuple[str, str]]:
    app = App(Config(data_dir=demo_data))
    database = app.database()
    upgrade_web_schema(database.engine)
    accounts = AccountStore(database.engine)
    if "qualite" not in {user.login for user in accounts.users()}:
        accounts.add_user("qualite", PASSWORD, Role.QUALITY, now=datetime.now(UTC))
    with sqlite3.connect(demo_data / "decroche.db") as connection:
        low, high = connection.execute(
            "SELECT min(started_at), max(started_at) FROM calls"
        ).fetchone()
    server = Server(build_web_deps(app, None, InMemoryLiveFeed()))
    base = server.start()
    zone = app.rules.current.tz

    def day(text: str) -> date:
        return datetime.fromisoformat(text).replace(tzinfo=UTC).astimezone(zone).date()

    try:
        yield base, f"du={day(low)}&au={day(high)}"
    finally:
        server.stop()
        app.close()


@pytest.fixture
def page(browser, site):
    with french_page(browser) as found:
        yield found


@pytest.mark.browser
def test_the_dashboard_says_the_calls_received_and_who_misses_an_objective(page, site) -> None:
    base, period = site
    sign_in(page, base, "qualite")
    page.goto(f"{base}/tableau-de-bord?{period}")
    summary = page.locator("[data-summary]").inner_text()
    assert "appels reçus :" in summary and "appels reçus hors horaires" in summary
    assert "raccroché" in summary and "appels décrochés, soit un taux de décroché de" in summary
    ados = page.locator('table[data-table=apercu] tr[data-service="pole_ados"]')
    # Every call to the youth centre came while it was closed: no rate, never "0 %".
    assert "hors horaires" in ados.locator(".volume").inner_text()
    assert "non atteint" not in ados.inner_text()
    # The CCAS rings only as long as its commitment: said below the table, with its name.
    within = page.locator("[data-ring-limits]").inner_text()
    assert "sonnent au plus la durée de leur engagement" in within and "CCAS" in within
    notes = page.locator("[data-notes] li").all_inner_texts()
    assert notes and all("Non décrochés" in note for note in notes)
    trends = page.locator("table[data-table=apercu] span.trend").all_inner_texts()
    words = ("s'améliore", "se dégrade", "stable", "pas de comparaison", "période incomplète")
    assert trends and all(t.startswith(words) for t in trends)
    fits_at_every_width(page, "qualite-tableau-de-bord-demo", reload=True)


@pytest.mark.browser
def test_a_month_not_over_says_so(page, site) -> None:
    base, _ = site
    sign_in(page, base, "qualite")
    page.goto(f"{base}/tableau-de-bord")
    assert "Période en cours" in page.locator("[data-running]").inner_text()
    fits_at_every_width(page, "qualite-tableau-de-bord-mois-en-cours", reload=True)


@pytest.mark.browser
@pytest.mark.parametrize("service", ["pole_ados", "accueil_general", "ccas", "total"])
def test_a_service_page_shows_its_calls_while_closed_by_hour(page, site, service) -> None:
    base, period = site
    sign_in(page, base, "qualite")
    page.goto(f"{base}/service/{service}?{period}")
    hours = page.locator(f'table[data-table="heures-{service}"]')
    headings = hours.locator("thead th").all_inner_texts()
    assert headings[:3] == ["Heure", "Appels reçus hors horaires", "Appels présentés"]
    closed = [int(v) for v in hours.locator('td[data-key="closed"]').all_inner_texts()]
    if service in ("pole_ados", "total"):
        assert sum(closed) > 0
    if service == "ccas":
        # The CCAS rings 5 rings, its commitment: the page says so and where the others went.
        notes = " ".join(page.locator("[data-note]").all_inner_texts())
        assert "pas plus que son engagement" in notes
    fits_at_every_width(page, f"qualite-service-{service}-demo", reload=True)

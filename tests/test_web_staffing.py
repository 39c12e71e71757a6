"""The quality lead's staffing page in headless Chromium (French locale) at the four widths:
the grid of agents needed / present per service, the slots short of agents marked in words and
symbol, no horizontal overflow of the page. Screenshots go to ``test-artifacts/browser/``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from analytics.sources import DatabaseSource
from analytics.staffing.api import Staffing
from analytics.staffing.traffic import AlwaysOpen
from decroche.testing import web_deps
from reports.staffing_view import staffing_view
from telephony.records.engine import open_store
from telephony.records.queue_log import iter_queue_log
from telephony.records.testing import fill
from tests.browser_support import Server, fits_at_every_width, sign_in
from tests.staffing_support import stationary_queue_log

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
WEEK = "du=2025-02-03&au=2025-02-09"


def _log() -> list[str]:
    # Mornings of one week on the general reception, two agents where three are needed.
    return stationary_queue_log(date(2025, 2, 3), weeks=1, agents=2).splitlines()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Server]]:
    tmp = tmp_path_factory.mktemp("staffing")
    database = open_store(f"sqlite:///{(tmp / 'records.db').as_posix()}")
    store = fill(database, iter_queue_log(_log()))
    deps = web_deps(database, store, now=NOW)
    deps.staffing = Staffing(
        DatabaseSource(database), AlwaysOpen(), names=deps.names, queue_log=True
    )
    server = Server(deps)
    base = server.start()
    try:
        yield base, server
    finally:
        server.stop()
        database.dispose()


@pytest.fixture
def page(browser, site):
    context = browser.new_context(locale="fr-FR")
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.mark.browser
def test_staffing_page_grid_and_short_slots_at_every_width(page, site) -> None:
    base, _ = site
    sign_in(page, base, "qualite")
    page.goto(f"{base}/effectifs?{WEEK}")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Effectifs au téléphone")
    assert page.get_by_role("link", name="Effectifs").get_attribute("aria-current") == "page"
    grid = page.locator("table[data-table=effectifs-accueil]")
    assert "Accueil général" in grid.locator("caption").inner_text()
    headers = grid.locator("thead th").all_inner_texts()
    assert headers == ["Créneau", "lundi", "mardi", "mercredi", "jeudi", "vendredi"]
    monday_nine = grid.locator("tbody tr").first.locator("td").first
    # Three needed, two present: in words and symbol, not by colour alone.
    assert monday_nine.inner_text().replace("\n", " ").startswith("3 / 2 ▲ manque 1")
    assert "il manque 1 agent" in monday_nine.get_attribute("title")
    short = page.locator("table[data-table=sous-effectif] tbody tr")
    assert short.count() == 15
    assert short.first.locator("th").inner_text() == "Accueil général"
    fits_at_every_width(page, "qualite-effectifs", reload=True)  # still at /effectifs?{WEEK}


@pytest.mark.browser
def test_staffing_page_is_the_quality_leads(page, site) -> None:
    base, _ = site
    sign_in(page, base, "agent1")
    response = page.goto(f"{base}/effectifs?{WEEK}")
    assert response is not None and response.status == 403
    assert page.get_by_role("link", name="Effectifs").count() == 0


def test_view_lists_the_short_slots_the_review_reads(tmp_path) -> None:
    log = tmp_path / "queue_log"
    log.write_text("\n".join(_log()) + "\n")
    from analytics.sources import QueueLogSource

    plan = Staffing(
        QueueLogSource(log), AlwaysOpen(), names={"accueil": "Accueil général"}, queue_log=True
    ).plan(date(2025, 2, 3), date(2025, 2, 9))
    view = staffing_view(plan)
    assert len(view.short) == 15 and view.short_services == 1
    first = view.short[0]
    assert (first.service, first.when, first.needed, first.present, first.missing) == (
        "Accueil général",
        "lundi 09:00-10:00",
        3,
        "2",
        "1",
    )
    (grid,) = view.grids
    assert grid.model == "file d'attente (Erlang A)"
    assert [label for label, _ in grid.rows] == ["09:00-10:00", "10:00-11:00", "11:00-12:00"]
    assert all(cell is not None and cell.css == "short" for _, cells in grid.rows for cell in cells)
    assert datetime(2025, 2, 3, tzinfo=UTC) < NOW

"""The quality lead's pages read at a glance, measured in headless Chromium (French locale) at
1280, 1366, 1536 and 1920 px: the page never scrolls sideways and no box (section, table,
cell, figure, chart) is wider than what holds it. The dashboard is one table of services ×
indicators, the total first, each cell with its value, objective, result in words and symbol,
and trend; a service's name opens its page, whose charts are large enough to read, with axes in
whole calls and French numbers. Screenshots go to ``test-artifacts/browser/``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from decroche.testing import indicators_of, web_deps
from reports.documents import (
    BUILD_STEPS,
    ReportInputs,
    ReportSettings,
    build_report,
    write_report,
)
from reports.generation import Generate, Progress, ReportJobs
from reports.periods import Period
from routing_rules.model import Scale
from routing_rules.narration import MenuWords
from telephony.records.engine import Database, open_store
from telephony.records.testing import fill, sample_record, town_calls
from tests.browser_support import Server, fits_at_every_width, sign_in

pytestmark = pytest.mark.browser

NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
# Names as long as a town's real ones: a layout must hold them.
NAMES = {
    "accueil": "Accueil général de l'hôtel de ville",
    "ccas": "Centre communal d'action sociale (CCAS)",
    "etat_civil": "État civil et affaires générales",
    "urbanisme": "Urbanisme et droit des sols",
    "accueil-general": "Accueil général (standard)",
    "etat-civil": "État civil (ancien menu)",
}
SCALES = {"survey.q1": Scale.ONE_TO_FIVE, "survey.q2": Scale.YES_NO}
# The voice menu named by the rules, as long as a town's real ones; each key with what it does.
MENU_NAME = "Espace du droit et de la famille (CCAS, guichet famille)"
MENUS = {
    "accueil": MenuWords(
        MENU_NAME,
        {
            **{key: NAMES[s] for key, s in (("1", "etat_civil"), ("2", "ccas"), ("0", "accueil"))},
            "3": "menu « Urbanisme, eau et assainissement, droit des sols »",
        },
    )
}


def made_in(database: Database, folder: Path) -> Generate:
    """Reports made as the root makes them (the HTML: the PDF has its own tests)."""

    def generate(kind: str, period: Period, force: bool, progress: Progress) -> list[Path]:
        inputs = ReportInputs(indicators_of(database), NAMES, ReportSettings())
        document = build_report(inputs, period, kind, generated_at=NOW, progress=progress)
        return write_report(document, folder, pdf=False, progress=progress)

    return generate


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("layout")
    database = open_store(f"sqlite:///{(tmp / 'records.db').as_posix()}")
    surveyed = (
        sample_record(f"sat-{day}", start=datetime(2026, 10, day, 8, tzinfo=UTC))
        for day in range(5, 10)
    )
    store = fill(database, [*town_calls(date(2026, 9, 1), 61, 12), *surveyed])
    deps = web_deps(database, store, now=NOW, names=NAMES, scales=SCALES)
    deps.menus = lambda: MENUS
    deps.reports_dir = tmp / "rapports"
    deps.reports = ReportJobs(made_in(database, deps.reports_dir), steps=BUILD_STEPS, now=deps.now)
    server = Server(deps)
    base = server.start()
    try:
        yield base
    finally:
        server.stop()
        database.dispose()


@pytest.fixture
def page(browser, site):
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    try:
        page = context.new_page()
        sign_in(page, site, "qualite")
        yield page
    finally:
        context.close()


def test_dashboard_overview_fits_and_reads_at_a_glance(page, site) -> None:
    page.goto(f"{site}/tableau-de-bord?mois=2026-10")
    fits_at_every_width(page, "qualite-tableau-de-bord", reload=True)
    overview = page.locator("table[data-table=apercu]")
    headers = overview.locator("thead th").all_inner_texts()
    assert headers[:3] == ["Service", "Appels", "Taux de décroché"]
    assert "Part de satisfaits" in headers  # callers were surveyed
    rows = overview.locator("tbody tr")
    assert rows.first.get_attribute("data-service") == "total"  # the total on top
    assert {rows.nth(i).get_attribute("data-service") for i in range(1, rows.count())} == {
        "accueil",
        "ccas",
        "etat_civil",
        "urbanisme",
        "accueil-general",
        "etat-civil",
    }
    ccas = overview.locator("tr[data-service=ccas]")
    assert ccas.locator("th").inner_text() == NAMES["ccas"]
    cell = ccas.locator("td[data-indicator=answer_rate]").inner_text()
    # Value, objective, result in words (the symbol beside it), trend in words.
    assert re.fullmatch(
        r"\d+,\d\u00a0%\nobjectif ≥\u00a085,0\u00a0%\n[✔✘] (non )?atteint\n"
        r"(s'améliore|se dégrade|stable|pas de comparaison|période incomplète)"
        r".*\(période précédente : [^)]+\)",  # the trend in the quality's words (glossary)
        cell.strip(),
    ), cell
    wait = ccas.locator("td[data-indicator=mean_wait_answered_s]").inner_text()
    assert "sans objectif" in wait and re.match(r"\d+,\d\u00a0s", wait)
    ccas.get_by_role("link", name=NAMES["ccas"]).click()
    page.wait_for_load_state("load")
    assert page.url == f"{site}/service/ccas?mois=2026-10"
    assert page.get_by_role("heading", level=1).inner_text() == f"{NAMES['ccas']} — octobre 2026"


def _axis(page, title: str) -> list[str]:
    """The value axis' labels of the chart titled ``title`` (right-aligned texts)."""
    return page.locator(
        f'svg:has(> title:text-is("{title}")) text[text-anchor=end]'
    ).all_text_contents()


def test_service_page_charts_are_large_whole_and_french(page, site) -> None:
    page.goto(f"{site}/service/ccas?mois=2026-10")
    fits_at_every_width(page, "qualite-service-ccas", reload=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    volume = f"Appels présentés et appels décrochés par jour — {NAMES['ccas']}"
    chart = page.locator(f'svg:has(> title:text-is("{volume}"))')
    assert chart.bounding_box()["width"] >= 900  # as wide as the text, not a thumbnail
    levels = _axis(page, volume)
    assert levels[0] == "0" and all(re.fullmatch(r"\d+", text) for text in levels), levels
    rates = _axis(page, f"Taux de décroché par jour — {NAMES['ccas']}")
    assert rates == [f"{n}\u00a0%" for n in (0, 25, 50, 75, 100)]
    # Each chart keeps its table (RGAA): the days in French, beside the charts.
    days = page.locator("table[data-table=jours-ccas] tbody th").all_inner_texts()
    assert days[0] == "jeu. 01/10"
    assert not any(
        "." in t for t in page.locator("svg.chart text").all_text_contents() if t[:1].isdigit()
    )
    page.goto(f"{site}/service/total?mois=2026-10")
    fits_at_every_width(page, "qualite-service-total", reload=True)
    # The voice menu named as the rules name it, each key with what it does.
    menu = page.locator("table[data-table=choix-menu] tbody")
    assert set(menu.locator("th").all_inner_texts()) == {MENU_NAME}
    assert "touche 3 : menu « Urbanisme, eau et assainissement, droit des sols »" in (
        menu.locator("td").all_inner_texts()
    )


def test_a_report_is_made_from_the_rapports_page(page, site) -> None:
    page.goto(f"{site}/rapports")
    fits_at_every_width(page, "qualite-rapports", reload=True)
    assert page.get_by_label("Mois du bilan mensuel (AAAA-MM)").input_value() == "2026-10"
    page.get_by_label("Bilan mensuel du mois").check()
    page.get_by_role("button", name="Produire le bilan").click()
    page.wait_for_load_state("load")
    assert "/rapports/production/" in page.url
    assert page.get_by_role("heading", level=1).inner_text() == "Bilan mensuel — octobre 2026"
    page.wait_for_selector("[data-state=done]", timeout=60_000)  # the page refreshes itself
    fits_at_every_width(page, "qualite-rapport-produit", reload=True)
    page.get_by_role("link", name="bilan-mensuel-2026-10.html").click()
    page.wait_for_load_state("load")
    assert "Bilan mensuel de l’accueil téléphonique — octobre 2026" in page.title()

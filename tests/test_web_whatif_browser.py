"""The IT page's what-if simulation in headless Chromium: edit the rules in the form, launch,
watch the page follow the run, read the comparison."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from decroche.testing import web_deps
from decroche.web import whatif_jobs
from telephony.records.engine import open_store
from telephony.records.testing import fill
from tests.browser_support import Server, fits_at_every_width, shot, sign_in
from tests.whatif_support import CCAS_MARKER, ccas_rules, ccas_traffic, database_with, rules_of
from whatif.replay import replay

pytestmark = pytest.mark.browser

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from decroche.app import App
    from decroche.config import Config

    tmp = tmp_path_factory.mktemp("whatif-browser")
    current = ccas_rules(tmp, 6)
    rules = rules_of(current)
    # In a thread: Playwright's synchronous API keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as thread:
        records = thread.submit(replay, ccas_traffic(rules, 3), rules).result()
    url = database_with(records, tmp)
    database = open_store(url)
    deps = web_deps(database, fill(database, iter(())), now=NOW)
    # The composition root's own wiring: this Python, this database, these rules.
    config = Config.model_validate({"data_dir": str(tmp / "data"), "storage": {"url": url}})
    deps.whatif = whatif_jobs(App(config), current)
    deps.names = lambda: {"ccas": "CCAS", "accueil_general": "Accueil général"}
    server = Server(deps)
    try:
        yield server.start()
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


def test_it_tries_fewer_ccas_rings_and_reads_what_it_would_change(page, site) -> None:
    sign_in(page, site, "informatique")
    page.get_by_role("link", name="Système").click()
    page.get_by_role("link", name="Simulation « et si »").click()
    page.get_by_label("Du").fill("2026-10-14")
    page.get_by_label("au", exact=True).fill("2026-10-14")
    rules = page.get_by_label("… ou texte des règles")
    text = rules.input_value()
    ccas_block = CCAS_MARKER.replace("rings: 5", "rings: 6")
    assert ccas_block in text  # the rules in force, ready to edit
    rules.fill(text.replace(ccas_block, CCAS_MARKER))  # the CCAS rung 5 times instead of 6
    shot(page, "whatif-form")
    page.get_by_role("button", name="Lancer la simulation").click()
    page.wait_for_selector('[data-state="done"]', timeout=120_000)  # the page refreshes itself
    shot(page, "whatif-result")
    ccas = page.locator('table[data-service="ccas"]')
    answered = ccas.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name="Appels décrochés")
    )
    cells = answered.get_by_role("cell").all_inner_texts()
    assert [c.strip() for c in cells[:3]] == ["3", "3", "0"]
    assert cells[3].startswith("-3")
    assert answered.locator('[data-effect="worse"]').count() == 1
    general = page.locator('table[data-service="accueil_general"]')
    heading = page.get_by_role("rowheader", name="Appels présentés")
    offered = general.get_by_role("row").filter(has=heading)
    assert [c.strip() for c in offered.get_by_role("cell").all_inner_texts()[:3]] == ["0", "0", "3"]
    page.get_by_role("link", name="Toutes les simulations").click()
    assert page.locator('table[data-table="simulations"] tbody tr').count() == 1
    assert "terminée" in page.locator('table[data-table="simulations"]').inner_text()


def test_a_change_with_no_effect_says_why_at_every_width(page, site) -> None:
    # The CCAS's agents pick up after 28 s, within its 6 rings (30 s): 7 rings gain nothing.
    sign_in(page, site, "informatique")
    page.goto(f"{site}/systeme/et-si")
    page.get_by_label("Du").fill("2026-10-14")
    page.get_by_label("au", exact=True).fill("2026-10-14")
    rules = page.get_by_label("… ou texte des règles")
    ccas_block = CCAS_MARKER.replace("rings: 5", "rings: 6")
    rules.fill(rules.input_value().replace(ccas_block, CCAS_MARKER.replace("5", "7")))
    page.get_by_role("button", name="Lancer la simulation").click()
    page.wait_for_selector('[data-state="done"]', timeout=120_000)
    assert "Aucun service ne change." in page.inner_text("main")
    notes = page.locator("[data-notes]")
    said = " ".join(notes.inner_text().split())
    assert "Règles changées sans effet sur ces appels" in said
    assert "sonnerie 30 s (6 sonneries) → 35 s (7 sonneries)" in said
    assert "sonner plus longtemps ne change rien" in said
    fits_at_every_width(page, "whatif-sans-effet", reload=False)


def _fields_of(page) -> list[str]:
    """The parts of the page's date fields as Chromium draws and names them (its accessibility
    tree: a date field's day, month and year are spin buttons inside the field)."""
    session = page.context.new_cdp_session(page)
    try:
        nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        session.detach()
    return [
        " ".join(node["name"]["value"].split()[:1])
        for node in nodes
        if node.get("role", {}).get("value") == "spinbutton" and "name" in node
    ]


def test_the_date_fields_are_french(page, site) -> None:
    """Chromium's own language is French, not only the page's locale: the period's fields read
    « jj/mm/aaaa » (day, month, year), the way the town hall's staff write a date."""
    sign_in(page, site, "informatique")
    page.goto(f"{site}/systeme/et-si")
    page.get_by_label("Du").fill("2026-10-14")
    assert page.evaluate("navigator.language") == "fr-FR"
    fields = _fields_of(page)
    assert fields[:3] == ["Jour", "Mois", "Année"], fields  # « Month Day Year » in English
    shot(page, "whatif-dates-fr")

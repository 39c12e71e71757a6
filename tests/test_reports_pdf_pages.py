"""The monthly report's PDF as its reader sees it: every page turned to an image has nothing in
its right margin (no table cut at the paper's edge), and its text holds the configured town
and services' names, in French, with no raw id, no code and no queue_log name. The page images
go to ``test-artifacts/reports/bilan-mensuel/``."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PIL import Image

from decroche.testing import indicators_of
from reports.documents import ReportInputs, ReportSettings, build_report, render_pdf
from reports.periods import month_period
from routing_rules.narration import MenuWords
from telephony.records.testing import fill, sample_record, temporary_database, town_calls
from tests.pdf_support import layout_text, units_alone

pytestmark = pytest.mark.pdf_images

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "reports" / "bilan-mensuel"
TOWN = "Ville de Pont-Audemer-sur-Risle"
# As long as a town's real names: the tables and the charts must hold them.
NAMES = {
    "accueil": "Accueil général de l'hôtel de ville",
    "ccas": "Centre communal d'action sociale (CCAS)",
    "etat_civil": "État civil et affaires générales",
    "urbanisme": "Urbanisme et droit des sols",
    "accueil-general": "Accueil général (standard)",
    "etat-civil": "État civil (ancien menu)",
}
# The voice menu's name and what each key does (the root reads them from the rules in force).
MENU_NAME = "Menu d’accueil"
MENUS = {
    "accueil": MenuWords(
        MENU_NAME,
        {
            key: NAMES[service]
            for key, service in {
                "1": "etat_civil",
                "2": "ccas",
                "3": "urbanisme",
                "0": "accueil",
            }.items()
        },
    )
}
DPI = 50
A4_WIDTH_MM = 210
RIGHT_MARGIN_MM = 12  # the report's @page margin
LIGHT = 245  # a pixel darker than this on any channel is ink


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("bilan")
    surveyed = (sample_record(f"s{d}", start=datetime(2026, 10, d, 8, tzinfo=UTC)) for d in (5, 6))
    with temporary_database("sqlite", tmp) as database:
        fill(database, [*town_calls(date(2026, 9, 1), 61, 10), *surveyed])
        document = build_report(
            ReportInputs(indicators_of(database), NAMES, ReportSettings(town=TOWN), menus=MENUS),
            month_period("2026-10"),
            "monthly",
            generated_at=datetime(2026, 11, 1, 5, tzinfo=UTC),
        )
    path = tmp / "bilan-mensuel-2026-10.pdf"
    path.write_bytes(render_pdf(document))
    return path


def test_no_page_has_ink_in_its_right_margin(pdf: Path) -> None:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-png", str(pdf), str(ARTIFACTS / "page")], check=True
    )
    pages = sorted(ARTIFACTS.glob("page-*.png"))
    assert len(pages) >= 4
    for page in pages:
        image = Image.open(page).convert("L")
        width, height = image.size
        # The right margin, less a little: anything drawn there ran past the text's width.
        margin = round(width * (RIGHT_MARGIN_MM - 2) / A4_WIDTH_MM)
        band = image.crop((width - margin, 0, width, height))
        darkest = band.getextrema()[0]
        assert darkest >= LIGHT, f"{page.name}: something runs into the right margin"
        # The page has content at all (the check above would pass on a blank page).
        assert image.getextrema()[0] < 100, page.name


def test_no_figure_loses_its_unit_to_the_next_line(pdf: Path) -> None:
    text = layout_text(pdf)
    assert "%" in text and " s" in text  # the report has rates and waits to check
    assert not units_alone(text), units_alone(text)


def _text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_text_holds_the_town_and_names_in_french(pdf: Path) -> None:
    text = _text(pdf)
    flat = " ".join(text.split())
    pages = text.split("\f")[:-1]
    assert all(f"{TOWN} — accueil téléphonique — octobre 2026" in page for page in pages)
    for name in NAMES.values():
        assert name in flat, name
    for raw in ("etat_civil", "accueil-general", "etat-civil", "accueil_general"):
        assert raw not in text, raw
    assert not re.search(r"\b(ccas|urbanisme)\b", text)  # ids; the names are capitalised
    # French only: no English sentence, no names from the code or the queue_log.
    for word in ("English", "answer_rate", "offered", "ENTERQUEUE", "CONNECT", "EXITEMPTY"):
        assert word not in text, word
    # French numbers: no decimal point in a figure, « jeu. 01/10 » for a day.
    assert not re.search(r"\d\.\d", flat)
    assert "jeu. 01/10" in flat
    # Each key of the voice menu with what it does, in the menu named as the rules name it
    # (not « menu accueil », made from its id).
    assert f"touche 2 : {NAMES['ccas']}" in flat
    assert flat.count(MENU_NAME) >= 4 and "menu accueil" not in flat
    assert not re.search(r"touche \d(?! :)", flat)
    assert "Engagement de sonneries : décroché en 5 sonneries" in flat  # the quality plan's words

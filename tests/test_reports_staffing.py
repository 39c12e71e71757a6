"""The annual review's section "créneaux en sous-effectif": a sentence, the slots short of agents
with the agents missing, the method; in the HTML and on the PDF's page images."""

from __future__ import annotations

import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from analytics.api import Indicators, InMemorySource
from analytics.frame import frame_from_records
from analytics.sources import QueueLogSource
from analytics.staffing.api import Staffing
from analytics.staffing.traffic import AlwaysOpen
from reports.documents import ReportInputs, ReportSettings, build_report, render_pdf
from reports.periods import year_period
from reports.staffing_view import review_section
from telephony.records.queue_log import parse_queue_log
from tests.staffing_support import stationary_queue_log

GENERATED = datetime(2026, 1, 5, 5, 0, tzinfo=UTC)
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "reports"
NAMES = {"accueil": "Accueil général"}


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("review")
    log = tmp / "queue_log"
    # February 2025: mornings on the general reception with two agents where three are needed.
    log.write_text(stationary_queue_log(date(2025, 2, 3), weeks=4, agents=2))
    year = year_period(2025)
    # Planned over the four weeks that have calls (the generated year has no other traffic).
    plan = Staffing(QueueLogSource(log), AlwaysOpen(), names=NAMES, queue_log=True).plan(
        date(2025, 2, 3), date(2025, 3, 2)
    )
    with log.open("rb") as lines:
        records, _ = parse_queue_log(lines)
    indicators = Indicators(InMemorySource(frame_from_records(records)))
    document = build_report(
        ReportInputs(indicators, NAMES, ReportSettings()),
        year,
        "annual",
        generated_at=GENERATED,
        staffing=plan,
    )
    return plan, document


def test_section_lists_each_short_slot_with_the_agents_missing(review) -> None:
    plan, document = review
    section = review_section(plan)
    assert section.summary.startswith("15 créneaux de la semaine sur 15 comptaient moins")
    assert "il manquait en tout 15,0 heures-agent par semaine" in section.summary
    assert section.table.rows[0] == ["Accueil général", "lundi 09:00-10:00", "29,8", 3, "2", "▲ 1"]
    html = document.html
    assert '<section class="staffing" id="sous-effectif">' in html
    assert "Créneaux en sous-effectif</h" in html
    assert html.count("▲ 1") == 15
    assert html.index("Créneaux en sous-effectif") < html.index("Annexe — définitions")


def test_monthly_report_has_no_staffing_section(review) -> None:
    plan, _ = review
    indicators = Indicators(InMemorySource(frame_from_records([])))
    month = build_report(
        ReportInputs(indicators, {}, ReportSettings()),
        year_period(2025),
        "monthly",
        generated_at=GENERATED,
        staffing=plan,
    )
    assert "sous-effectif" not in month.html


def test_no_short_slot_is_said_so() -> None:
    from analytics.definitions import Parameters
    from analytics.staffing.plan import StaffingPlan

    empty = StaffingPlan(date(2025, 1, 1), date(2025, 12, 31), 60, Parameters())
    section = review_section(empty)
    assert section.summary.startswith("Aucun des 0 créneaux")
    assert section.table.rows == []


@pytest.mark.pdf_images
def test_section_on_the_pdf_pages(review, tmp_path: Path) -> None:
    _, document = review
    pdf = tmp_path / "bilan.pdf"
    pdf.write_bytes(render_pdf(document))
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    (ARTIFACTS / "bilan-annuel-sous-effectif.txt").parent.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "bilan-annuel-sous-effectif.txt").write_text(text)
    assert "Créneaux en sous-effectif" in text
    assert "09:00-10:00" in text
    pages = text.split("\f")
    page = next(i for i, p in enumerate(pages, start=1) if "Créneaux en sous-effectif" in p)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "60",
            "-png",
            "-f",
            str(page),
            "-l",
            str(page),
            str(pdf),
            str(ARTIFACTS / "bilan-annuel-sous-effectif"),
        ],
        check=True,
    )
    assert list(ARTIFACTS.glob("bilan-annuel-sous-effectif*.png"))

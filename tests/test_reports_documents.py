"""Monthly report and annual review: figures, objectives, charts, appendix; the PDF renders."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from decroche.testing import indicators_of
from reports.documents import (
    ReportDocument,
    ReportInputs,
    ReportSettings,
    build_report,
    definitions_html,
    write_report,
)
from reports.errors import ReportGenerationError
from reports.periods import month_period, year_period
from telephony.records.testing import fill, temporary_database, town_calls

GENERATED = datetime(2026, 11, 1, 5, 0, tzinfo=UTC)
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "reports"


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("reports")
    with temporary_database("sqlite", tmp) as database:
        fill(database, town_calls(date(2026, 8, 20), 75, 5))
        indicators = indicators_of(database)
        steps: list[str] = []
        monthly = build_report(
            ReportInputs(indicators, {"ccas": "CCAS"}, ReportSettings()),
            month_period("2026-10"),
            "monthly",
            generated_at=GENERATED,
            progress=steps.append,
        )
        annual = build_report(
            ReportInputs(indicators, {}, ReportSettings()),
            year_period(2026),
            "annual",
            generated_at=GENERATED,
        )
        report = indicators.report(date(2026, 10, 1), date(2026, 10, 31))
    return {"monthly": monthly, "annual": annual, "report": report, "steps": steps, "tmp": tmp}


def test_monthly_report_has_objectives_figures_charts_and_appendix(documents) -> None:
    html = documents["monthly"].html
    report = documents["report"]
    assert "Bilan mensuel de l’accueil téléphonique — octobre 2026" in html
    assert "comparée à : septembre 2026" in html
    assert 'data-table="objectifs"' in html
    # One row per service, each indicator's result in words (and symbol).
    assert len(re.findall(r"[✔✘] (non )?atteint<", html)) >= 3 * (len(report.services) + 1)
    offered = f"<strong>{report.total.offered}</strong> appels"
    assert offered in html
    assert html.count("<svg") == 4
    assert '<th scope="row">CCAS</th>' in html
    assert "Annexe — définitions des indicateurs" in html
    assert "<h2>Les indicateurs téléphoniques — définitions</h2>" in html
    assert "abandons courts" in html
    assert 'data-table="choix-menu"' in html  # voice menu choices, present in these calls


def test_progress_reports_each_step(documents) -> None:
    assert documents["steps"][0] == "indicateurs et objectifs"
    assert "menu vocal et rappels" in documents["steps"]


def test_annual_review_is_by_month_against_the_previous_year(documents) -> None:
    html = documents["annual"].html
    assert "Revue de direction de l’accueil téléphonique — 2026" in html
    assert "Résultats 2026 au regard des objectifs et de 2025" in html
    months = html.split('data-table="mois-tous"')[1].split("</table>")[0]
    for month in ("août", "sept.", "oct."):
        assert f'<th scope="col">{month}</th>' in months
    assert documents["annual"].stem == "bilan-annuel-2026"


def test_missing_definitions_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReportGenerationError, match=r"nope\.md : définitions des indicateurs"):
        definitions_html(tmp_path / "nope.md")


def test_unknown_kind_is_refused(documents) -> None:
    with pytest.raises(ReportGenerationError, match="type de rapport inconnu « weekly »"):
        build_report(
            None,  # type: ignore[arg-type]
            month_period("2026-10"),
            "weekly",
            generated_at=GENERATED,
        )


@pytest.mark.pdf
@pytest.mark.pdf_images
def test_pdf_renders_with_its_charts(documents, tmp_path: Path) -> None:
    document: ReportDocument = documents["monthly"]
    files = write_report(document, tmp_path)
    assert [f.name for f in files] == ["bilan-mensuel-2026-10.html", "bilan-mensuel-2026-10.pdf"]
    pdf = files[1]
    assert pdf.read_bytes().startswith(b"%PDF")
    assert not list(tmp_path.glob("*.part"))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))
    assert pages >= 3
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "4", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == 4
    # The charts follow the summary and the objectives: bars in the palette's blue (#0b5cad) are
    # drawn on one of pages 2 to 4.
    from PIL import Image

    def blue_pixels(image: Path) -> int:
        with Image.open(image) as page:
            data = page.convert("RGB").tobytes()
        return sum(
            1
            for i in range(0, len(data), 3)
            if abs(data[i] - 0x0B) < 30
            and abs(data[i + 1] - 0x5C) < 30
            and abs(data[i + 2] - 0xAD) < 30
        )

    assert max(blue_pixels(image) for image in images[1:]) > 500, "no chart bars found"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for image in images:
        shutil.copy(image, ARTIFACTS / f"monthly-{image.name}")


def test_write_report_names_an_unwritable_folder(documents, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ReportGenerationError, match="impossible de créer le dossier des rapports"):
        write_report(documents["monthly"], blocker / "sub", pdf=False)


def test_the_appendix_keeps_what_the_document_says_for_it_out() -> None:
    # An auditor read « (`services[id].unanswered` du JSON) », « table `touched_days` »,
    # « `--rings` change… » in the report's appendix: asides holding code go whole, an
    # explanation after a name stays, and no sentence is left with an empty bracket.
    from reports.appendix import appendix_html

    text = """Un taux n'est pas calculé, « non mesurable » (`null` du JSON) : rien.

Les chiffres sont gardés (table `daily_figures`) ; l'appel **coupé**
(`cut` : Asterisk a redémarré) compte. Chaque rapport l'écrit (« 5 sonneries »)
(pour l'informatique : le JSON le donne dans `parameters.commitment` ; `--rings` le change).
"""
    html = appendix_html(text)
    for leftover in ("null", "daily_figures", "parameters", "--rings", "JSON", "()", " ."):
        assert leftover not in html, leftover
    assert "« non mesurable » : rien." in html
    assert "Les chiffres sont gardés ;" in html
    assert "Asterisk a redémarré) compte" in html and "(« 5 sonneries »)." in html

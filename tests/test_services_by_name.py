"""Services are listed by their names in French reading order wherever a person reads a list
of them (« État civil » among the E, accents and case ignored), never by their ids: the
dashboard, the monthly report's tables and chart, the CLI's table; the total stays first where
it is first."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from analytics import glossary
from analytics.api import Indicators, InMemorySource
from analytics.frame import frame_from_records
from analytics.satisfaction import (
    DEFAULT_OBJECTIVES,
    Group,
    SatisfactionFigures,
    SatisfactionReport,
    assess_satisfaction,
)
from decroche.commands.survey import SurveyAgents, format_report
from decroche.commands.text import indicators_table
from reports.documents import ReportInputs, ReportSettings, build_report
from reports.periods import month_period
from reports.views import dashboard_view
from telephony.records.model import EntryOutcome
from tests.test_analytics_indicators import DAY, call, entry

# The ids' order (accueil, ccas, etat_civil, pole_ados, urbanisme) is not the names' order.
NAMES = {
    "accueil": "Standard",
    "ccas": "CCAS",
    "etat_civil": "État civil",
    "pole_ados": "pôle ados",
    "urbanisme": "Accueil urbanisme",
}
BY_NAME = ["Accueil urbanisme", "CCAS", "État civil", "pôle ados", "Standard"]


def indicators() -> Indicators:
    records = [
        call(entry(service, 100 * i, EntryOutcome.ANSWERED, answer=100 * i + 5), caller=service)
        for i, service in enumerate(NAMES)
    ]
    return Indicators(InMemorySource(frame_from_records(records)))


def test_the_sort_key_reads_names_as_a_french_reader_does() -> None:
    order = glossary.by_name(NAMES)
    assert [NAMES[s] for s in sorted(NAMES, key=order)] == BY_NAME
    # A service the rules no longer name sorts by its id; two of one name by id.
    assert sorted(["zeta", "ccas", "beta"], key=order) == ["beta", "ccas", "zeta"]
    twins = {"b": "Mairie", "a": "Mairie"}
    assert sorted(twins, key=glossary.by_name(twins)) == ["a", "b"]


def test_the_dashboard_lists_services_by_name_the_total_first() -> None:
    view = dashboard_view(indicators(), month_period("2026-10"), NAMES)
    assert [card.label for card in view.cards] == BY_NAME
    assert [row.label for row in view.overview.rows][1:] == BY_NAME
    assert view.overview.rows[0].service == view.total.service
    assert [row[0] for row in view.table.rows][1:] == BY_NAME
    objectives = list(dict.fromkeys(row[0] for row in view.objectives.rows))
    assert objectives[: len(BY_NAME)] == BY_NAME  # then the total, as before


def test_the_monthly_report_lists_services_by_name_in_tables_and_chart() -> None:
    document = build_report(
        ReportInputs(indicators(), NAMES, ReportSettings()),
        month_period("2026-10"),
        "monthly",
        generated_at=datetime(2026, 11, 1, 5, tzinfo=UTC),
    )
    table = re.search(r'<table data-table="services".*?</table>', document.html, re.S)
    assert table is not None
    rows = re.findall(r'<th scope="row"[^>]*>([^<]*)</th>', table[0])
    assert rows[1:] == BY_NAME and rows[0].startswith("Tous services")
    chart = re.search(r"<svg[^>]*><title>[^<]* par service</title>.*?</svg>", document.html, re.S)
    assert chart is not None, "the chart of the answer rate by service"
    shown = [t for t in re.findall(r"<text[^>]*>([^<]*)</text>", chart[0]) if t in BY_NAME]
    assert shown == BY_NAME


def test_the_cli_table_lists_services_by_name_then_the_total() -> None:
    report = indicators().report(DAY, DAY)
    lines = indicators_table(report, NAMES).splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("---")) + 1
    listed = [line.split("  ")[0] for line in lines[first : first + len(BY_NAME) + 1]]
    assert listed == [*BY_NAME, "Tous services (chaque appel une fois)"]


def test_the_survey_cli_lists_services_by_name_then_the_total() -> None:
    figures = SatisfactionFigures(offered=2, reached=2, responded=1, answers=1, satisfied=1)
    group = Group(figures, assess_satisfaction(figures, DEFAULT_OBJECTIVES))
    report = SatisfactionReport(
        DAY, DAY, group, {s: group for s in NAMES}, agents={}, periods={}, by="day"
    )
    lines = format_report(report, NAMES, SurveyAgents(named=False, labels={})).splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("---")) + 1
    listed = [line.split("  ")[0] for line in lines[first : first + len(BY_NAME) + 1]]
    assert listed == [*BY_NAME, "Tous services"]

"""Small pure pieces: charts, tables and exports, French formats, the per-page memo."""

from __future__ import annotations

import csv
import io
from datetime import date
from xml.etree import ElementTree

from analytics.api import Indicators, LoadedFrame
from analytics.frame import EntryFrame
from reports import format as fmt
from reports import svg
from reports.tables import Column, DataTable, to_csv, to_xlsx

NS = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ElementTree.Element:
    return ElementTree.fromstring(str(markup))


def test_bar_chart_is_accessible_and_draws_one_bar_per_value() -> None:
    chart = svg.bar_chart(
        ["01", "02", "03"],
        [("présentés", [10.0, None, 4.0]), ("décrochés", [8.0, 0.0, 4.0])],
        title="Appels <par> jour",
        desc="d",
        target=9.0,
    )
    root = parse(chart)
    assert root.get("role") == "img"
    assert root.find(f"{NS}title").text == "Appels <par> jour"  # escaped, then parsed back
    bars = [r for r in root.iter(f"{NS}rect") if r.find(f"{NS}title") is not None]
    assert len(bars) == 5  # None draws nothing
    assert any("présentés : 10" in r.find(f"{NS}title").text for r in bars)
    assert any(line.get("stroke-dasharray") == "6 4" for line in root.iter(f"{NS}line"))


def test_heatmap_shades_by_row_maximum() -> None:
    root = parse(svg.heatmap(["a"], ["08", "09", "10"], [[0.0, 5.0, None]], title="t", desc="d"))
    fills = [r.get("fill") for r in root.iter(f"{NS}rect")]
    assert fills == ["#ffffff", "#0b5cad", "#f2f2f2"]


def test_french_formats() -> None:
    assert fmt.percent(0.8534) == "85,3\u00a0%"
    assert fmt.percent(None) == "—"
    assert fmt.seconds(24.96) == "25,0\u00a0s"
    assert fmt.number(12345) == "12\u202f345"
    assert fmt.objective("answer_rate", 0.85, "min") == "≥\u00a085,0\u00a0%"
    assert fmt.objective("abandonment_rate", 0.1, "max") == "≤\u00a010,0\u00a0%"


def table() -> DataTable:
    return DataTable(
        "essai",
        "Essai",
        [Column("s", "Service"), Column("n", "Appels", "count"), Column("r", "Taux", "rate")],
        [["ccas", 1200, 0.853211], ["état civil", 0, None]],
    )


def test_csv_export_keeps_raw_values_for_french_spreadsheets() -> None:
    body = to_csv(table())
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows == [
        ["Service", "Appels", "Taux"],
        ["ccas", "1200", "0,853211"],
        ["état civil", "0", ""],
    ]


def test_xlsx_export_formats_rates_as_percentages() -> None:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(to_xlsx(table(), date(2026, 11, 1)))).active
    assert sheet.title == "essai"
    assert sheet["C2"].value == 0.853211 and sheet["C2"].number_format == "0.0%"
    assert sheet["A3"].value == "état civil" and sheet["C3"].value is None


HOSTILE = [
    '=HYPERLINK("http://evil.example")',
    "+33 6 12 34 56 78",
    "-2+3",
    "@SUM(A1)",
    "\tcmd",
    "\rcmd",
    "accueil",
]


def hostile_table() -> DataTable:
    """Texts a spreadsheet would run as formulas, beside negative numbers that must stay."""
    return DataTable(
        "essai",
        "Essai",
        [Column("s", "Service"), Column("n", "Écart", "count"), Column("r", "Évolution", "rate")],
        [[text, -3, -0.25] for text in HOSTILE],
    )


def test_csv_export_never_hands_a_spreadsheet_a_formula() -> None:
    body = to_csv(hostile_table())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert [row[0] for row in rows[1:]] == [
        '\'=HYPERLINK("http://evil.example")',
        "'+33 6 12 34 56 78",
        "'-2+3",
        "'@SUM(A1)",
        "'\tcmd",
        "'\rcmd",
        "accueil",
    ]
    assert {(row[1], row[2]) for row in rows[1:]} == {("-3", "-0,25")}


def test_xlsx_export_keeps_formula_like_texts_as_text_and_numbers_as_numbers() -> None:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(to_xlsx(hostile_table()))).active
    for row, text in enumerate(HOSTILE, start=2):
        cell = sheet.cell(row=row, column=1)
        # (XML reads a lone carriage return back as a line feed: the file is the same.)
        assert (cell.value, cell.data_type) == (text.replace("\r", "\n"), "s")
        assert cell.quotePrefix is (text != "accueil")
        assert (sheet.cell(row=row, column=2).value, sheet.cell(row=row, column=3).value) == (
            -3,
            -0.25,
        )
        assert sheet.cell(row=row, column=3).data_type == "n"


def test_display_formats_by_kind() -> None:
    t = table()
    assert [t.display(t.rows[0], i) for i in range(3)] == ["ccas", "1\u202f200", "85,3\u00a0%"]
    assert t.display(t.rows[1], 2) == "—"


class CountingSource:
    def __init__(self) -> None:
        self.calls: list[tuple[date, date]] = []

    def load(self, start: date, end: date, *, callers: bool = False) -> LoadedFrame:
        self.calls.append((start, end))
        return LoadedFrame(frame=EntryFrame.empty())


def test_a_pages_questions_read_the_entries_of_its_span_once() -> None:
    source = CountingSource()
    page = Indicators(source).memoised(date(2026, 9, 1), date(2026, 10, 31))
    page.dashboard(date(2026, 10, 1), date(2026, 10, 31))  # with September, its previous month
    page.breakdown(date(2026, 10, 1), date(2026, 10, 31), "day")
    page.breakdown(date(2026, 10, 1), date(2026, 10, 31), "hour")
    page.overflow_flows(date(2026, 10, 1), date(2026, 10, 31))
    # One day of margin each side of the span: local dates are not UTC dates.
    assert source.calls == [(date(2026, 8, 31), date(2026, 11, 1))]
    page.report(date(2026, 8, 1), date(2026, 8, 31))
    assert source.calls[-1] == (date(2026, 7, 31), date(2026, 9, 1))


def test_menu_choices_say_what_each_key_does() -> None:
    from routing_rules.narration import menu_choices
    from tests.test_rules_routing import R

    main = menu_choices(R)["main"]
    assert main.keys["1"] == R.services["social"].name  # the service's name, not its id
    assert main.keys["*"] == "répéter le menu"
    assert set(main.keys) == {"1", "2", "3", "*"}
    assert main.name == "menu main"  # no name in these rules: one made from the id


def test_voice_menu_table_says_each_keys_meaning() -> None:
    import tempfile
    from pathlib import Path

    from decroche.testing import indicators_of
    from reports.detail_tables import detail_tables
    from reports.periods import Period
    from routing_rules.narration import MenuWords
    from telephony.records.testing import fill, temporary_database, town_calls

    with tempfile.TemporaryDirectory() as tmp, temporary_database("sqlite", Path(tmp)) as db:
        fill(db, town_calls(date(2026, 10, 1), 5, 6))
        indicators = indicators_of(db)
        period = Period(date(2026, 10, 1), date(2026, 10, 5))
        ivr, _ = detail_tables(
            indicators, period, {"accueil": MenuWords("Menu d’accueil", {"2": "CCAS"})}
        )
        gone, _ = detail_tables(indicators, period, {})
    assert ivr is not None and gone is not None
    said = {row[1] for row in ivr.rows}
    assert "touche 2 : CCAS" in said
    assert "touche 1" in said  # a key the rules no longer have stays, without a meaning
    # The menu as the rules name it; a menu the rules no longer have, named from its id.
    assert {row[0] for row in ivr.rows} == {"Menu d’accueil"}
    assert {row[0] for row in gone.rows} == {"menu accueil"}

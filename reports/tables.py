"""Tables of figures as the pages show them and as they are exported (CSV, XLSX).

A :class:`DataTable` keeps raw values (numbers, rates as fractions) and formats them only for
display: the exports carry the raw values, so a spreadsheet can recompute anything.

A text a spreadsheet would take for a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab
or a line break: a service name, a login, a caller's answer could) never becomes one: in CSV it
is prefixed with ``'``, as OWASP advises; in XLSX it is stored as text with Excel's own "quote
prefix" (the cell shows the text unchanged and stays text when edited). Numbers stay numbers,
negative ones included.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from reports import format as fmt

Cell = str | int | float | date | None


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text | count | rate | seconds | date | day (ISO date: "jeu. 01/10")


@dataclass(slots=True)
class DataTable:
    name: str  # the export's file name stem
    caption: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)

    def widths(self) -> list[float]:
        """Each column's share of a printed table's width, in percent: a text column (and the
        first, which names the row) three parts, a figure one and a half — equal widths, the
        fixed layout's default, wrapped the names in three lines beside a half-empty column of
        counts."""
        weights = [
            3.0 if index == 0 or column.kind == "text" else 1.5
            for index, column in enumerate(self.columns)
        ]
        total = sum(weights)
        return [round(100 * weight / total, 1) for weight in weights]

    def display(self, row: Sequence[Cell], index: int) -> str:
        value = row[index]
        kind = self.columns[index].kind
        if value is None:
            return "—"
        if kind == "rate" and isinstance(value, int | float):
            return fmt.percent(float(value))
        if kind == "seconds" and isinstance(value, int | float):
            return fmt.seconds(float(value))
        if kind == "count" and isinstance(value, int | float):
            return fmt.number(value)
        if kind == "day" and isinstance(value, str):
            return fmt.day(value)
        if isinstance(value, date):
            return f"{value:%d/%m/%Y}"
        return str(value)


_FORMULA_STARTS = frozenset("=+-@\t\r\n")


def formula_like(text: str) -> bool:
    """Would a spreadsheet read this text as a formula (or run it through one)?"""
    return text[:1] in _FORMULA_STARTS


def neutralise(text: str) -> str:
    """The text as a CSV cell no spreadsheet evaluates."""
    return "'" + text if formula_like(text) else text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> tuple[bytes, int]:
    """UTF-8 with BOM and ';' separators (what French Excel opens directly), and the row count.

    Numbers are written with a decimal comma; texts are neutralised (see the module docstring).
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(label) for label in header])
    count = 0
    for row in rows:
        writer.writerow(["" if v is None else _plain(v) for v in row])
        count += 1
    return ("\ufeff" + out.getvalue()).encode("utf-8"), count


def to_csv(table: DataTable) -> bytes:
    return csv_bytes([c.label for c in table.columns], table.rows)[0]


def _plain(value: Cell) -> str:
    if isinstance(value, float):
        return repr(round(value, 6)).replace(".", ",")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return neutralise(str(value))


def to_xlsx(table: DataTable, generated: datetime | date | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.name[:31]
    sheet.append([c.label for c in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append(list(row))
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and formula_like(cell.value):
                cell.data_type = "s"  # openpyxl made "=..." a formula
                cell.quotePrefix = True
    for index, column in enumerate(table.columns, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        if column.kind in ("rate", "date"):
            shown = "0.0%" if column.kind == "rate" else "DD/MM/YYYY"
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = shown
        sheet.column_dimensions[letter].width = max(10, min(40, len(column.label) + 2))
    sheet.freeze_panes = "A2"
    if generated is not None:
        workbook.properties.created = (
            generated
            if isinstance(generated, datetime)
            else datetime(generated.year, generated.month, generated.day)
        ).replace(tzinfo=None)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

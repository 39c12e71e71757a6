"""Helpers of the PDF tests: reading a PDF's text as laid out on its pages."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

_UNIT = re.compile(r"(?:^|(?<=\s))(%|s|pt)(?=\s|$)")


def layout_text(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    """``pdftotext -layout``: each page's lines as drawn, table columns side by side."""
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    return subprocess.run(
        ["pdftotext", "-layout", *pages, str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


def units_alone(layout: str) -> list[str]:
    """The lines of a layout text where a unit (« % », « s », « pt ») stands without its
    figure before it: a table cell wrapped « 100,0 » / « % »."""
    return [
        line.strip()
        for line in layout.splitlines()
        if any(not re.search(r"\d$", line[: m.start()].rstrip()) for m in _UNIT.finditer(line))
    ]


def font_families(pdf: Path) -> set[str]:
    """The families of the fonts a PDF embeds (``pdffonts``), subset prefix and style left out:
    ``{"DejaVu-Sans"}`` — a header in another type (a margin box inherits nothing) shows here."""
    listing = subprocess.run(
        ["pdffonts", str(pdf)], check=True, capture_output=True, text=True
    ).stdout.splitlines()[2:]
    names = (line.split()[0].split("+")[-1] for line in listing if line.strip())
    return {re.sub(r"-(Bold|Oblique|Italic|BoldOblique|BoldItalic)$", "", name) for name in names}

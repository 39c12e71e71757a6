"""French formatting of figures for the pages, the reports and the exports: the glossary's
(:mod:`analytics.glossary`), under the names the templates use."""

from __future__ import annotations

from datetime import date

from analytics import glossary

WEEKDAYS_FR = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")

number = glossary.number
percent = glossary.percent
seconds = glossary.seconds
delay = glossary.delay  # a delay of hours or minutes: « 2 h 05 min »
indicator = glossary.value  # a figure of a glossary key, with its unit once


def objective(name: str, target: float, kind: str) -> str:
    sign = "≥" if kind == "min" else "≤"
    return f"{sign}{glossary.NBSP}{glossary.value(name, target)}"


def day(iso: str) -> str:
    """``2026-10-01`` -> ``jeu. 01/10`` (a row of a month's table; the year is the period's)."""
    try:
        when = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{WEEKDAYS_FR[when.weekday()]} {when:%d/%m}"

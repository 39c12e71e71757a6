"""French formatting of figures, shared by the pages, the reports and the exports."""

from __future__ import annotations

from datetime import date

WEEKDAYS_FR = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")

# Fractions shown as percentages (the survey's response rate and share of satisfied callers too).
RATES = frozenset(
    {"answer_rate", "service_level", "abandonment_rate", "callback_rate", "share_satisfied"}
)


def percent(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f} %".replace(".", ",")


def seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s".replace(".", ",")


def number(value: int | float | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}".replace(".", ",")
    # Narrow no-break space as the thousands separator, as French typography wants.
    return f"{int(value):,}".replace(",", "\u202f")


def indicator(name: str, value: float | None) -> str:
    if name in RATES:
        return percent(value)
    if name.endswith("_s"):
        return seconds(value)
    return number(value)


def objective(name: str, target: float, kind: str) -> str:
    sign = "≥" if kind == "min" else "≤"
    return f"{sign} {indicator(name, target)}"


def day(iso: str) -> str:
    """``2026-10-01`` -> ``jeu. 01/10`` (a row of a month's table; the year is the period's)."""
    try:
        when = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{WEEKDAYS_FR[when.weekday()]} {when:%d/%m}"

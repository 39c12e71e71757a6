"""The indicators an action or an objective can be about, in the glossary's words, and the
French dates and values the quality lead types in the forms.

One list for the action plan, the revised objectives and the management review, so that a form,
a page and the PDF name an indicator the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from analytics import glossary
from analytics.objectives import ASSESSED
from reports import format as fmt
from reports.errors import InputError


@dataclass(frozen=True, slots=True)
class IndicatorTerm:
    key: str
    label: str
    unit: str  # rate | seconds | score
    higher_is_better: bool

    @property
    def kind(self) -> str:
        """The objective's kind for this indicator: ``min`` (at least) or ``max`` (at most)."""
        return "min" if self.higher_is_better else "max"

    def value(self, value: float | None) -> str:
        if self.unit == "rate":
            return fmt.percent(value)
        if self.unit == "seconds":
            return fmt.seconds(value)
        if self.unit == "delay":
            return fmt.delay(value)
        return fmt.number(value)

    def objective(self, target: float, kind: str | None = None) -> str:
        sign = "≥" if (kind or self.kind) == "min" else "≤"
        return f"{sign} {self.value(target)}"


def _terms() -> dict[str, IndicatorTerm]:
    """The assessed indicators, the satisfaction's and the callbacks' (an action's key, then
    the glossary's where it names it under an object: ``satisfaction.share_satisfied``)."""
    found = [(key, key) for key in ASSESSED]
    found += [
        ("share_satisfied", "satisfaction.share_satisfied"),
        ("response_rate", "satisfaction.response_rate"),
        ("mean_score", "satisfaction.mean_score"),
        ("callback_rate", "callbacks.callback_rate"),
    ]
    terms = []
    for key, term in found:
        unit = "seconds" if key.endswith("_s") else "score" if key == "mean_score" else "rate"
        better = glossary.GLOSSARY[term].better > 0
        terms.append(IndicatorTerm(key, glossary.label(term), unit, better))
    return {term.key: term for term in terms}


INDICATOR_TERMS: dict[str, IndicatorTerm] = _terms()


def indicator_label(key: str | None) -> str:
    if key is None:
        return "—"
    term = INDICATOR_TERMS.get(key)
    return term.label if term is not None else key


_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_date(value: str, field: str) -> date:
    """A date typed in a form: ``2026-10-31`` (what a date field sends) or ``31/10/2026``."""
    text = value.strip()
    try:
        found = _FRENCH_DATE.match(text)
        if found:
            return date(int(found[3]), int(found[2]), int(found[1]))
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InputError(f"{field} : « {value} » n'est pas une date (JJ/MM/AAAA)") from exc


def parse_target(value: str, term: IndicatorTerm, field: str) -> float:
    """An objective as typed: « 90 » or « 90,5 % » for a rate (stored 0.9), seconds for a wait,
    a score out of 5."""
    text = value.strip().replace("\u202f", "").replace(" ", "").removesuffix("%").removesuffix("s")
    try:
        number = float(text.replace(",", "."))
    except ValueError as exc:
        raise InputError(f"{field} : « {value} » n'est pas un nombre") from exc
    if term.unit == "rate":
        if not 0 <= number <= 100:
            raise InputError(f"{field} : « {value} » — un taux va de 0 à 100 %")
        return round(number / 100, 6)
    if term.unit == "score" and not 1 <= number <= 5:
        raise InputError(f"{field} : « {value} » — une note va de 1 à 5")
    if number < 0:
        raise InputError(f"{field} : « {value} » — une durée n'est pas négative")
    return number

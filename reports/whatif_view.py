"""The what-if comparison as the IT page shows it: rows per service from ``decroche whatif --json``.

Pure: a result document in, rows of French text out. The document is the command's, read back
from disk; a figure missing from it (an older version, a service absent from one side) shows as
"—" rather than failing the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analytics import glossary
from analytics.definitions import Commitment, Parameters
from whatif.compare import COMPARED

# The figures compared (whatif.compare's), by their key in the indicators' JSON; their words
# and which way is better are the glossary's.
FIGURES: tuple[str, ...] = COMPARED
TOTAL_KEY = "total"


@dataclass(frozen=True, slots=True)
class FigureRow:
    label: str
    recorded: str
    current: str
    new: str
    difference: str
    effect: str  # "better", "worse", "same", or "" (no direction)


@dataclass(frozen=True, slots=True)
class ServiceComparison:
    service_id: str
    name: str
    rows: tuple[FigureRow, ...]
    changed: bool  # the new rules change at least one figure of this service


@dataclass(frozen=True, slots=True)
class ComparisonView:
    calls: int
    services: tuple[ServiceComparison, ...]
    total: ServiceComparison
    fidelity: tuple[FigureRow, ...]  # replay of the current rules against what was recorded
    convention: str
    # Why services the new rules change show no difference (whatif.explain).
    notes: tuple[str, ...] = ()


COUNTS = frozenset({"closed", "offered", "answered", "abandoned", "overflowed"})


def _value(report: Mapping[str, Any], service: str, key: str) -> Any:
    if not report:
        return None
    services = report.get("services", {})
    side = report.get(TOTAL_KEY) if service == TOTAL_KEY else services.get(service)
    if side is None:
        # A service with no call on this side: none offered, none answered; rates undefined.
        return 0 if key in COUNTS else None
    return side.get(key)


def difference(key: str, value: float | None) -> str:
    """A difference of a figure, signed, with its unit: « +1,5 pt », « -3 », « +2,1 s »."""
    if value is None:
        return "—"
    unit = glossary.unit_of(key)
    if unit == "rate":
        return glossary.points(value)
    if unit == "seconds":
        return f"{value:+.1f} s".replace(".", ",")
    if unit == "delay":
        return ("+" if value >= 0 else "-") + glossary.delay(abs(value))
    return f"{value:+g}".replace(".", ",")


def _effect(direction: int, value: float | None) -> str:
    if direction == 0 or value is None:
        return ""
    if abs(value) < 1e-9:
        return "same"
    return "better" if value * direction > 0 else "worse"


def _delta(a: Any, b: Any) -> float | None:
    return None if a is None or b is None else float(b) - float(a)


def _comparison(result: Mapping[str, Any], service: str, name: str) -> ServiceComparison:
    rows = []
    changed = False
    for key in FIGURES:
        label, direction = glossary.label(key), glossary.GLOSSARY[key].better
        recorded = _value(result.get("recorded", {}), service, key)
        current = _value(result.get("current", {}), service, key)
        new = _value(result.get("new", {}), service, key)
        delta = _delta(current, new)
        changed |= delta is not None and abs(delta) > 1e-9
        rows.append(
            FigureRow(
                label,
                glossary.value(key, recorded),
                glossary.value(key, current),
                glossary.value(key, new),
                difference(key, delta),
                _effect(direction, delta),
            )
        )
    return ServiceComparison(service, name, tuple(rows), changed)


def comparison_view(result: Mapping[str, Any], names: Mapping[str, str]) -> ComparisonView:
    """Rows for every service present in any of the three reports, by name, then the total."""
    ids: set[str] = set()
    for side in ("recorded", "current", "new"):
        ids |= set(result.get(side, {}).get("services", {}))
    services = [
        _comparison(result, s, names.get(s, s)) for s in sorted(ids, key=glossary.by_name(names))
    ]
    fidelity = []
    for key in FIGURES:
        label = glossary.label(key)
        recorded = _value(result.get("recorded", {}), TOTAL_KEY, key)
        current = _value(result.get("current", {}), TOTAL_KEY, key)
        fidelity.append(
            FigureRow(
                label,
                glossary.value(key, recorded),
                glossary.value(key, current),
                "",
                difference(key, _delta(recorded, current)),
                "",
            )
        )
    return ComparisonView(
        int(result.get("calls", 0)),
        tuple(services),
        _comparison(result, TOTAL_KEY, "Tous services (chaque appel une fois)"),
        tuple(fidelity),
        _convention(result.get("recorded", {}).get("parameters", {})),
        tuple(str(note) for note in result.get("notes", ())),
    )


def _convention(parameters: Mapping[str, Any]) -> str:
    try:
        commitment = parameters.get("commitment") or {}
        return Parameters(
            rings=int(parameters["rings"]),
            ring_seconds=float(parameters["ring_seconds"]),
            before_ring=bool(commitment.get("before", False)),
            commitments={
                service: Commitment(int(c["rings"]), bool(c["before"]))
                for service, c in (parameters.get("service_commitments") or {}).items()
            },
        ).convention()
    except (KeyError, TypeError, ValueError):
        return ""

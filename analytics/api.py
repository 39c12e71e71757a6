"""The indicators' Python API: what the CLI, the dashboard and the reports call.

A :class:`FrameSource` loads the entries of a period (from the call records database, or from an
Asterisk queue_log); :class:`Indicators` computes every figure of a period from it, each beside
its objective and its trend against the previous period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from analytics.definitions import Counts, Parameters
from analytics.frame import EntryFrame
from analytics.indicators import (
    Granularity,
    IndicatorReport,
    breakdown,
    compute_indicators,
    overflow_flows,
    repeat_callers,
    wait_percentiles,
)
from analytics.objectives import Assessment, ObjectivesConfig, assess, previous_period


@dataclass(slots=True)
class LoadedFrame:
    frame: EntryFrame
    skipped_lines: int = 0


class FrameSource(Protocol):
    """Where entries come from. ``load`` returns at least every entry whose call started between
    ``start`` and ``end`` (UTC, inclusive bounds widened as the source likes): the engine keeps
    the exact local dates itself."""

    def load(self, start: date, end: date) -> LoadedFrame: ...


class InMemorySource:
    """A frame already built (queue_log imports, tests, what-if replays)."""

    def __init__(self, frame: EntryFrame, skipped_lines: int = 0) -> None:
        self._loaded = LoadedFrame(frame, skipped_lines)

    def load(self, start: date, end: date) -> LoadedFrame:
        return self._loaded


@dataclass(slots=True)
class ServiceAssessment:
    service: str
    counts: Counts
    previous: Counts | None
    assessments: list[Assessment]


@dataclass(slots=True)
class Dashboard:
    """The *tableau de bord* of one period: every service and the total, each figure beside its
    objective, met or not, with its trend."""

    report: IndicatorReport
    previous: IndicatorReport
    services: list[ServiceAssessment]
    total: ServiceAssessment
    percentiles: dict[str, dict[str, float | None]] = field(default_factory=dict)


class Indicators:
    def __init__(
        self,
        source: FrameSource,
        parameters: Parameters | None = None,
        objectives: ObjectivesConfig | None = None,
    ) -> None:
        self._source = source
        self.parameters = parameters or Parameters()
        self.objectives = objectives or ObjectivesConfig()

    def _load(self, start: date, end: date) -> LoadedFrame:
        # One day of margin each side: local dates differ from UTC dates by up to 14 hours.
        return self._source.load(start - timedelta(days=1), end + timedelta(days=1))

    def report(self, start: date, end: date) -> IndicatorReport:
        loaded = self._load(start, end)
        return compute_indicators(loaded.frame, start, end, self.parameters, loaded.skipped_lines)

    def breakdown(self, start: date, end: date, by: Granularity) -> dict[str, dict[str, Counts]]:
        return breakdown(self._load(start, end).frame, start, end, by, self.parameters)

    def wait_percentiles(self, start: date, end: date) -> dict[str, dict[str, float | None]]:
        return wait_percentiles(self._load(start, end).frame, start, end, self.parameters)

    def overflow_flows(self, start: date, end: date) -> dict[tuple[str, str], int]:
        return overflow_flows(self._load(start, end).frame, start, end)

    def repeat_callers(self, start: date, end: date) -> dict[str, int]:
        # Repeats look back 7 days before the period's first call.
        loaded = self._source.load(start - timedelta(days=8), end + timedelta(days=1))
        return repeat_callers(loaded.frame, start, end)

    def dashboard(self, start: date, end: date) -> Dashboard:
        before_start, before_end = previous_period(start, end)
        loaded = self._source.load(before_start - timedelta(days=1), end + timedelta(days=1))
        frame = loaded.frame
        current = compute_indicators(frame, start, end, self.parameters, loaded.skipped_lines)
        previous = compute_indicators(frame, before_start, before_end, self.parameters)
        services = [
            ServiceAssessment(
                service=name,
                counts=counts,
                previous=previous.services.get(name),
                assessments=assess(
                    counts, self.objectives.for_service(name), previous.services.get(name)
                ),
            )
            for name, counts in current.services.items()
        ]
        total = ServiceAssessment(
            service="total",
            counts=current.total,
            previous=previous.total,
            assessments=assess(current.total, self.objectives.for_service(None), previous.total),
        )
        return Dashboard(
            report=current,
            previous=previous,
            services=services,
            total=total,
            percentiles=wait_percentiles(frame, start, end, self.parameters),
        )

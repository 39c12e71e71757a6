"""The indicators' Python API: what the commands, the dashboard, the reports and the jobs call.

A :class:`FrameSource` loads the entries of a period (from the call records database, or from an
Asterisk queue_log); :class:`Indicators` computes every figure of a period from it, each beside
its objective and its trend against the previous period. With a ``details`` source (the
database: :class:`analytics.sources.DatabaseSource`) it also gives the figures beside them —
agents' phones, voice menus, callbacks, the callers' satisfaction — and the daily aggregates the
retention purge keeps. Nothing else computes a figure: pages, reports and commands read them
here, so they agree to the last call.

To add a figure: a pure function over a frame (or the details) in its own module, and one method
here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from analytics.aggregates import (
    DayFigures,
    period_breakdown,
    period_overflows,
    period_percentiles,
    period_report,
)
from analytics.definitions import Counts, Parameters
from analytics.frame import EntryFrame
from analytics.indicators import Granularity, IndicatorReport, repeat_callers
from analytics.objectives import Assessment, ObjectivesConfig, assess, previous_period

if TYPE_CHECKING:
    from analytics.aggregates import DailyAggregate
    from analytics.details import (
        AgentFigures,
        CallbackFigures,
        CallbackItem,
        DetailSource,
        IvrFigures,
    )
    from analytics.figures import DailyStore
    from analytics.satisfaction import (
        Granularity as SurveyGranularity,
    )
    from analytics.satisfaction import (
        SatisfactionReport,
        SurveyedCall,
        SurveySource,
    )
    from routing_rules.model import Scale

    class RecordsDetails(DetailSource, SurveySource, Protocol):
        """Everything besides the entries: what :class:`analytics.sources.DatabaseSource`
        reads."""


@dataclass(slots=True)
class LoadedFrame:
    frame: EntryFrame
    skipped_lines: int = 0


class FrameSource(Protocol):
    """Where entries come from. ``load`` returns at least every entry whose call started between
    ``start`` and ``end`` (UTC, inclusive bounds widened as the source likes): the engine keeps
    the exact local dates itself. ``callers``: the frame must know each call's caller (repeat
    callers); otherwise it may not."""

    def load(self, start: date, end: date, *, callers: bool = False) -> LoadedFrame: ...


class InMemorySource:
    """A frame already built (queue_log imports, tests, what-if replays)."""

    def __init__(self, frame: EntryFrame, skipped_lines: int = 0) -> None:
        self._loaded = LoadedFrame(frame, skipped_lines)

    def load(self, start: date, end: date, *, callers: bool = False) -> LoadedFrame:
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
    """Every figure of a period. ``parameters``: the thresholds and the time zone; ``objectives``:
    the configured objectives; ``details``: where agents' legs, voice-menu events, callbacks and
    survey answers are read (none: those figures are empty, as for a queue_log); ``scales``: the
    scale of each survey question of the rules in force (none: no satisfaction figures).

    The figures of a period add up from its days' (:mod:`analytics.figures`): ``daily`` is where
    the figures of past days are kept under these parameters (the database; none: every day is
    computed from its entries), ``today`` the local date now (past days are kept, today is read
    from its entries), ``chunk_days`` how many days of entries to hold at once (None: the source
    is in memory already)."""

    def __init__(
        self,
        source: FrameSource,
        parameters: Parameters | None = None,
        objectives: ObjectivesConfig | None = None,
        *,
        details: RecordsDetails | None = None,
        scales: Mapping[str, Scale] | None = None,
        daily: DailyStore | None = None,
        today: Callable[[], date] | None = None,
        chunk_days: int | None = None,
        span: tuple[date, date] | None = None,
    ) -> None:
        from analytics.figures import PeriodFigures

        self._source = source
        self.parameters = parameters or Parameters()
        self.objectives = objectives or ObjectivesConfig()
        self._details = details
        self.scales: Mapping[str, Scale] = dict(scales or {})
        self._daily = daily
        self._today = today or self._local_today
        self._chunk_days = chunk_days
        self._figures = PeriodFigures(
            source, self.parameters, daily, self._today, span=span, chunk_days=chunk_days
        )

    def _local_today(self) -> date:
        return datetime.now(ZoneInfo(self.timezone)).date()

    @property
    def timezone(self) -> str:
        return self.parameters.timezone

    def _with(
        self,
        *,
        parameters: Parameters | None = None,
        scales: Mapping[str, Scale] | None = None,
        span: tuple[date, date] | None = None,
    ) -> Indicators:
        changed = parameters is not None and parameters != self.parameters
        return Indicators(
            self._source,
            parameters or self.parameters,
            self.objectives,
            details=self._details,
            scales=self.scales if scales is None else scales,
            # Days are kept under the configured thresholds only: others are computed.
            daily=None if changed else self._daily,
            today=self._today,
            chunk_days=self._chunk_days,
            span=span,
        )

    def memoised(self, start: date, end: date) -> Indicators:
        """The same indicators, the days of ``start``..``end`` read once for all the questions
        about them (one page: the period, its previous one, by day, by hour)."""
        return self._with(span=(start, end))

    def using(
        self, *, parameters: Parameters | None = None, scales: Mapping[str, Scale] | None = None
    ) -> Indicators:
        """The same indicators with other thresholds (a command's ``--rings``) or other survey
        scales (another rules file)."""
        return self._with(parameters=parameters, scales=scales)

    def _load(self, start: date, end: date) -> LoadedFrame:
        # One day of margin each side: local dates differ from UTC dates by up to 14 hours.
        return self._source.load(start - timedelta(days=1), end + timedelta(days=1))

    def _days(self, start: date, end: date, *parts: str) -> list[DayFigures]:
        return self._figures.days(start, end, ("counts", *parts))

    def report(self, start: date, end: date) -> IndicatorReport:
        days = self._days(start, end)
        return period_report(days, start, end, self.parameters, self._figures.skipped_lines)

    def breakdown(self, start: date, end: date, by: Granularity) -> dict[str, dict[str, Counts]]:
        days = self._days(start, end, *(("hours",) if by in ("hour", "dayhour") else ()))
        return period_breakdown(days, start, end, by)

    def wait_percentiles(self, start: date, end: date) -> dict[str, dict[str, float | None]]:
        return period_percentiles(self._days(start, end, "waits"), start, end)

    def overflow_flows(self, start: date, end: date) -> dict[tuple[str, str], int]:
        return period_overflows(self._days(start, end, "flows"), start, end)

    def prepare(self, start: date, end: date) -> None:
        """Have the figures of the past days of ``start``..``end`` kept (the nightly
        maintenance: the first page of the morning reads them)."""
        self._days(start, end)

    def repeat_callers(self, start: date, end: date) -> dict[str, int]:
        # Repeats look back 7 days before the period's first call.
        loaded = self._source.load(start - timedelta(days=8), end + timedelta(days=1), callers=True)
        return repeat_callers(loaded.frame, start, end)

    def dashboard(self, start: date, end: date) -> Dashboard:
        before_start, before_end = previous_period(start, end)
        self._days(before_start, end)  # one reading for both periods
        current = self.report(start, end)
        previous = self.report(before_start, before_end)
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
            percentiles=self.wait_percentiles(start, end),
        )

    # --- beside the indicators: the detailed records ------------------------------------------

    def agents(self, start: date, end: date) -> dict[str, AgentFigures]:
        """Each agent's phone: how often it rang, was answered, missed, busy, unreachable."""
        from analytics.details import agent_figures

        if self._details is None:
            return {}
        return agent_figures(self._details, start, end, self.timezone)

    def ivr(self, start: date, end: date) -> IvrFigures:
        """The voice menus: choices, timeouts, invalid keys, hang-ups in the menus."""
        from analytics.details import IvrFigures, ivr_figures

        if self._details is None:
            return IvrFigures()
        return ivr_figures(self._details, start, end, self.timezone)

    def callbacks(self, start: date, end: date, service: str | None = None) -> CallbackFigures:
        """The callbacks owed in the period and how they were honoured."""
        from analytics.details import CallbackFigures, callback_figures

        if self._details is None:
            return CallbackFigures()
        return callback_figures(self._details, start, end, service, self.timezone)

    def callbacks_of_day(self, day: date) -> list[CallbackItem]:
        from analytics.details import callbacks_of_day

        if self._details is None:
            return []
        return callbacks_of_day(self._details, day, self.timezone)

    def surveyed_calls(self, start: date, end: date) -> list[SurveyedCall]:
        from analytics.satisfaction import surveyed_calls

        if self._details is None:
            return []
        return surveyed_calls(self._details, start, end, self.timezone)

    def satisfaction(
        self, start: date, end: date, by: SurveyGranularity = "month"
    ) -> SatisfactionReport | None:
        """The callers' satisfaction per service, agent and period, each figure beside its
        objective; None without detailed records (a queue_log). Answers to a question whose
        scale the rules do not give are counted apart (``unknown_scale``)."""
        from analytics.satisfaction import satisfaction_report

        if self._details is None:
            return None
        return satisfaction_report(
            self._details,
            start,
            end,
            self.scales,
            objectives=self.objectives,
            by=by,
            timezone=self.timezone,
        )

    # --- what the retention purge keeps ------------------------------------------------------

    def daily_aggregates(self, start: date, end: date) -> list[DailyAggregate]:
        """Per local day and service of ``start``..``end``: the indicators' counts, for the
        records of calls about to be purged (see :mod:`analytics.aggregates`)."""
        from analytics.aggregates import daily_aggregates

        return daily_aggregates(self._load(start, end).frame, start, end, self.parameters)

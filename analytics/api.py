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
from analytics.definitions import EPSILON_S, CallsReceived, Commitment, Counts, Parameters
from analytics.frame import EntryFrame
from analytics.indicators import (
    Granularity,
    IndicatorReport,
    Unanswered,
    repeat_callers,
    unanswered_of,
)
from analytics.objectives import Assessment, Comparison, ObjectivesConfig, assess

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
    from routing_rules.kinds import Scale

    class RecordsDetails(DetailSource, SurveySource, Protocol):
        """Everything besides the entries: what :class:`analytics.sources.DatabaseSource`
        reads."""


@dataclass(slots=True)
class LoadedFrame:
    frame: EntryFrame
    skipped_lines: int = 0
    # queue_log: entries whose wait came from the lines' timestamps (holdtime/waittime missing)
    waits_from_timestamps: int = 0
    # From a queue_log: no voice menu, no closed service (Asterisk queues calls in hours only).
    queue_log: bool = False


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
    previous: Counts | None  # the previous period's, over the days compared
    assessments: list[Assessment]
    commitment: Commitment = field(default_factory=Commitment)
    # The service stops ringing within its commitment (rings x cycle <= the commitment's
    # limit): every call it answers is answered in time by construction; what tells is where
    # the others went (``unanswered``).
    rings_within_commitment: bool = False
    ring_limit_s: float | None = None
    unanswered: Unanswered = field(default_factory=Unanswered)

    def assessment(self, indicator: str) -> Assessment | None:
        return next((a for a in self.assessments if a.indicator == indicator), None)


@dataclass(frozen=True, slots=True)
class Shortfall:
    """An objective the total meets while some services miss it."""

    indicator: str
    total: Assessment
    services: list[tuple[str, Assessment]]  # (service id, its assessment), worst first


@dataclass(slots=True)
class Dashboard:
    """The *tableau de bord* of one period: every service and the total, each figure beside its
    objective, met or not, with its trend against the same days of the previous period."""

    report: IndicatorReport
    previous: IndicatorReport
    services: list[ServiceAssessment]
    total: ServiceAssessment
    percentiles: dict[str, dict[str, float | None]] = field(default_factory=dict)
    comparison: Comparison | None = None

    @property
    def received(self) -> CallsReceived:
        return self.report.received

    def shortfalls(self) -> list[Shortfall]:
        """Each objective the total meets that some services miss, with those services (the
        total must not hide a weak service)."""
        found: list[Shortfall] = []
        for total in self.total.assessments:
            if total.met is not True:
                continue
            missed = [
                (s.service, a)
                for s in self.services
                if (a := s.assessment(total.indicator)) is not None and a.met is False
            ]
            if missed:
                worst_first = total.objective is not None and total.objective.kind == "min"
                missed.sort(key=lambda item: (item[1].value or 0.0) * (1 if worst_first else -1))
                found.append(Shortfall(total.indicator, total, missed))
        return found


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
        ring_limits: Mapping[str, float] | None = None,
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
        # How long each service rings before it overflows (the rules in force), in seconds.
        self.ring_limits: Mapping[str, float] = dict(ring_limits or {})
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
            ring_limits=self.ring_limits,
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
        report = period_report(days, start, end, self.parameters, self._figures.skipped_lines)
        report.waits_from_timestamps = self._figures.waits_from_timestamps
        report.queue_log = self._figures.queue_log
        return report

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

    def unanswered(self, start: date, end: date) -> dict[str, Unanswered]:
        """Per service: where the calls it did not answer went, how many a person then took."""
        return unanswered_of(self.report(start, end), self.overflow_flows(start, end))

    def dashboard(self, start: date, end: date, today: date | None = None) -> Dashboard:
        """Every service and the total beside their objectives. ``today``: a period not over
        yet is compared with the same days of the previous period (:class:`Comparison`)."""
        comparison = Comparison.of(start, end, today)
        self._days(comparison.previous_start, end, "flows")  # one reading for both periods
        params = self.parameters
        current = self.report(start, end)
        previous = self.report(comparison.previous_start, comparison.previous_end)
        if comparison.running and not comparison.incomplete:
            compared = self.report(*comparison.compared)
            before = self.report(*comparison.previous_compared)
        else:
            compared, before = current, previous
        fates = unanswered_of(current, self.overflow_flows(start, end))

        def assessed(name: str | None, counts: Counts) -> ServiceAssessment:
            commitment = params.commitment_for(name)
            earlier = before.total if name is None else before.services.get(name)
            now = compared.total if name is None else compared.services.get(name, Counts())
            limit = self.ring_limits.get(name) if name is not None else None
            target = commitment.limit_s(params.ring_seconds)
            return ServiceAssessment(
                service=name or "total",
                counts=counts,
                previous=earlier,
                assessments=assess(
                    counts,
                    self.objectives.for_service(name),
                    earlier,
                    compared=now,
                    incomplete=comparison.incomplete,
                    engagement=commitment.words,
                ),
                commitment=commitment,
                rings_within_commitment=limit is not None and limit <= target + EPSILON_S,
                ring_limit_s=limit,
                unanswered=fates.get(name or "total", Unanswered()),
            )

        return Dashboard(
            report=current,
            previous=previous,
            services=[assessed(name, counts) for name, counts in current.services.items()],
            total=assessed(None, current.total),
            percentiles=self.wait_percentiles(start, end),
            comparison=comparison,
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
        self,
        start: date,
        end: date,
        by: SurveyGranularity = "month",
        today: date | None = None,
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
            today=today,
        )

    # --- what the retention purge keeps ------------------------------------------------------

    def daily_aggregates(self, start: date, end: date) -> list[DailyAggregate]:
        """Per local day and service of ``start``..``end``: the indicators' counts, for the
        records of calls about to be purged (see :mod:`analytics.aggregates`)."""
        from analytics.aggregates import daily_aggregates

        return daily_aggregates(self._load(start, end).frame, start, end, self.parameters)

"""The dashboard's figures beside the rates: where unanswered calls went, services that ring
only as long as their commitment, the objectives the total meets while services miss them, a
period not over compared with the same days, the commitment each service words."""

from __future__ import annotations

from datetime import UTC, date, datetime

from analytics.api import Indicators, InMemorySource
from analytics.definitions import Commitment, Parameters
from analytics.frame import frame_from_records
from telephony.records.model import EntryOutcome
from tests.test_analytics_indicators import DAY, call, entry


def closed_entry(service: str, start: float):
    found = entry(service, start, EntryOutcome.OVERFLOW_CLOSED, end=start, overflow_to="accueil")
    found.closed = True
    return found


def records():
    return [
        # The CCAS rings 25 s, then sends the caller to the general desk, who answers.
        call(
            entry("ccas", 0, EntryOutcome.OVERFLOW_TIMEOUT, end=25.0, overflow_to="accueil"),
            entry("accueil", 25.0, EntryOutcome.ANSWERED, answer=30.0),
            caller="a",
        ),
        # ... or to a message: nobody takes it.
        call(
            entry("ccas", 100, EntryOutcome.OVERFLOW_TIMEOUT, end=125.0, overflow_to="message:x"),
            caller="b",
        ),
        call(entry("ccas", 200, EntryOutcome.ABANDONED, end=215.0), caller="c"),
        call(entry("ccas", 300, EntryOutcome.ANSWERED, answer=310.0), caller="d"),
        # The general desk answers everything else; the youth centre was closed.
        *(
            call(
                entry("accueil", 400 + 60 * i, EntryOutcome.ANSWERED, answer=405 + 60 * i),
                caller=f"e{i}",
            )
            for i in range(10)
        ),
        call(
            closed_entry("pole_ados", 1000),
            entry("accueil", 1000.0, EntryOutcome.ANSWERED, answer=1004.0),
            caller="f",
        ),
    ]


def test_where_the_unanswered_calls_went_and_who_took_them_later() -> None:
    fates = Indicators(InMemorySource(frame_from_records(records()))).unanswered(DAY, DAY)
    ccas = fates["ccas"]
    assert (ccas.abandoned, ccas.overflowed) == (1, 2)
    assert ccas.destinations == {"accueil": 1, "message": 1}
    assert ccas.answered_later == 1  # the general desk took the first one
    assert "pole_ados" not in fates  # a closed service's callers are no unanswered calls


def test_a_service_that_rings_only_its_commitment_and_the_weak_services() -> None:
    indicators = Indicators(
        InMemorySource(frame_from_records(records())),
        ring_limits={"ccas": 25.0, "accueil": 30.0},
    )
    board = indicators.dashboard(DAY, DAY)
    by_id = {s.service: s for s in board.services}
    assert by_id["ccas"].rings_within_commitment  # 25 s: "en 5 sonneries"
    assert not by_id["accueil"].rings_within_commitment  # 30 s: beyond it
    assert by_id["ccas"].unanswered.answered_later == 1
    # The total answers 13 of 15 calls (86,7 %): met; the CCAS answers 1 of 4: missed.
    (shortfall, *_) = board.shortfalls()
    assert shortfall.indicator == "answer_rate"
    assert shortfall.total.met
    assert [service for service, _ in shortfall.services] == ["ccas"]
    received = board.received
    assert (received.received, received.closed, received.offered) == (15, 0, 15)
    assert by_id["pole_ados"].counts.closed == 1


def test_the_total_of_a_strict_commitment_counts_waits_below_the_limit_only() -> None:
    strict = Parameters(before_ring=True, commitments={"ccas": Commitment(4)})
    report = Indicators(InMemorySource(frame_from_records(records())), strict).report(DAY, DAY)
    # "avant la 5e sonnerie": < 20 s. The first caller waited 30 s in all: not within.
    assert report.total.answered_within_target == 12
    # The CCAS words its own: "en 4 sonneries" (<= 20 s): its answer in 10 s is within.
    assert report.services["ccas"].answered_within_target == 1
    document = report.to_json()["parameters"]
    assert document["commitment"]["words"] == "décroché avant la 5e sonnerie"
    assert document["service_commitments"]["ccas"]["words"] == "décroché en 4 sonneries"


def test_a_running_month_is_compared_with_the_same_days() -> None:
    def on(day: date, answered: bool, caller: str):
        at = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
        outcome = EntryOutcome.ANSWERED if answered else EntryOutcome.ABANDONED
        kept = entry("ccas", 0, outcome, answer=5.0 if answered else None, end=30.0, at=at)
        return call(kept, caller=caller)

    november = [on(date(2026, 11, 1), True, "n1"), on(date(2026, 11, 1), False, "n2")]
    november += [on(date(2026, 11, 20), True, f"n{i}") for i in range(3, 12)]
    december = [on(date(2026, 12, 1), True, "d1"), on(date(2026, 12, 1), True, "d2")]
    december.append(on(date(2026, 12, 2), False, "d3"))  # today, so far
    indicators = Indicators(InMemorySource(frame_from_records([*november, *december])))
    board = indicators.dashboard(date(2026, 12, 1), date(2026, 12, 31), today=date(2026, 12, 2))
    answer = board.total.assessment("answer_rate")
    assert answer is not None
    assert answer.value == 2 / 3  # the month so far
    assert answer.previous == 0.5  # 1 November only: the same day, not all of November
    assert answer.trend.value == "better"  # 1 December (100 %) against 1 November (50 %)
    assert board.comparison is not None and board.comparison.running
    first_day = indicators.dashboard(date(2026, 12, 1), date(2026, 12, 31), date(2026, 12, 1))
    assert {a.trend.value for a in first_day.total.assessments} == {"incomplete"}

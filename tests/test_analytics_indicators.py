"""Every definition of the indicators, on hand-built calls (edges included)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from analytics.definitions import Counts, Parameters
from analytics.frame import frame_from_records, local_days
from analytics.indicators import (
    breakdown,
    compute_indicators,
    overflow_flows,
    repeat_callers,
    wait_percentiles,
)
from telephony.records.model import CallOutcome, CallRecord, EntryOutcome, ServiceEntry

T0 = datetime(2026, 10, 14, 8, 0, 0, tzinfo=UTC)  # 10:00 in Paris (CEST)
DAY = date(2026, 10, 14)


def entry(
    service: str,
    start: float,
    outcome: EntryOutcome,
    *,
    answer: float | None = None,
    end: float | None = None,
    overflow_to: str | None = None,
    at: datetime = T0,
) -> ServiceEntry:
    entered = at + timedelta(seconds=start)
    answered = at + timedelta(seconds=answer) if answer is not None else None
    ended = at + timedelta(seconds=end if end is not None else (answer or start) + 60)
    return ServiceEntry(
        service_id=service,
        entered_at=entered,
        ended_at=ended,
        outcome=outcome,
        answered_at=answered,
        agent="PJSIP/1001" if answered else None,
        overflow_to=overflow_to,
    )


def call(*entries: ServiceEntry, caller: str = "c1", ivr_start: float = -10) -> CallRecord:
    first = entries[0].entered_at if entries else T0
    return CallRecord(
        call_id=f"{caller}-{first.timestamp()}",
        started_at=first + timedelta(seconds=ivr_start),
        ended_at=max((e.ended_at for e in entries), default=T0),
        dialled="0232464646",
        caller_number=caller,
        outcome=CallOutcome.ANSWERED,
        entries=list(entries),
    )


def report(*records: CallRecord, params: Parameters | None = None, start=DAY, end=DAY):
    return compute_indicators(frame_from_records(records), start, end, params)


def test_answered_exactly_at_target_is_within() -> None:
    result = report(
        call(entry("ccas", 0, EntryOutcome.ANSWERED, answer=25.0)),
        call(entry("ccas", 100, EntryOutcome.ANSWERED, answer=125.001)),
        call(entry("ccas", 200, EntryOutcome.ANSWERED, answer=224.999)),
    )
    counts = result.services["ccas"]
    assert (counts.offered, counts.answered, counts.answered_within_target) == (3, 3, 2)
    assert counts.service_level == pytest.approx(2 / 3)
    assert counts.mean_wait_answered_s == pytest.approx((25.0 + 25.001 + 24.999) / 3, abs=1e-3)


def test_rings_and_cycle_set_the_target() -> None:
    record = call(entry("ccas", 0, EntryOutcome.ANSWERED, answer=22.0))
    assert report(record, params=Parameters(rings=4)).services["ccas"].answered_within_target == 0
    params = Parameters(rings=4, ring_seconds=6.0)
    assert report(record, params=params).services["ccas"].answered_within_target == 1


def test_short_abandon_threshold_is_strict() -> None:
    # Direct calls (no menu): the caller arrives as the call enters the service.
    result = report(
        call(entry("etat_civil", 0, EntryOutcome.ABANDONED, end=4.999), ivr_start=0),
        # exactly 5 s: not short
        call(entry("etat_civil", 10, EntryOutcome.ABANDONED, end=15.0), ivr_start=0),
        call(entry("etat_civil", 20, EntryOutcome.ABANDONED, end=200.0), ivr_start=0),
        call(entry("etat_civil", 300, EntryOutcome.ANSWERED, answer=310.0), ivr_start=0),
    )
    counts = result.services["etat_civil"]
    assert counts.abandoned == 3
    assert counts.short_abandoned == 1
    assert counts.base == 3
    assert counts.answer_rate == pytest.approx(1 / 3)
    assert counts.abandonment_rate == pytest.approx(2 / 3)


def test_rates_are_null_when_base_is_zero() -> None:
    abandoned = call(entry("police", 0, EntryOutcome.ABANDONED, end=1.0), ivr_start=0)
    counts = report(abandoned).services["police"]
    assert counts.base == 0
    assert counts.as_dict()["answer_rate"] is None
    assert counts.as_dict()["service_level"] is None
    assert counts.as_dict()["abandonment_rate"] is None
    assert counts.as_dict()["mean_wait_answered_s"] is None


def test_overflow_chain_counts_each_entry_and_the_call_once() -> None:
    record = call(
        entry("ccas", 0, EntryOutcome.OVERFLOW_TIMEOUT, end=30.0, overflow_to="accueil"),
        entry("accueil", 30.0, EntryOutcome.OVERFLOW_BUSY, end=31.0, overflow_to="message:plein"),
    )
    answered = call(
        entry("ccas", 0, EntryOutcome.OVERFLOW_NOBODY, end=1.0, overflow_to="accueil"),
        entry("accueil", 1.0, EntryOutcome.ANSWERED, answer=21.0),
        caller="c2",
    )
    result = report(record, answered)
    assert result.services["ccas"].overflowed == 2
    assert result.services["ccas"].answered == 0
    assert result.services["accueil"].offered == 2
    assert result.services["accueil"].answered == 1
    assert result.services["accueil"].overflowed == 1
    total = result.total
    assert total.offered == 2  # each call once
    assert total.answered == 1
    assert total.overflowed == 1
    # The total's wait runs from the first entry (ccas, t=0) to the answer (t=21).
    assert total.wait_answered_sum_s == pytest.approx(21.0)
    assert total.answered_within_target == 1
    flows = overflow_flows(frame_from_records([record, answered]), DAY, DAY)
    assert flows == {("ccas", "accueil"): 2, ("accueil", "message"): 1}


def test_a_blind_transfer_counts_for_both_services_and_the_caller_once() -> None:
    # The general desk answers in 10 s, then the agent transfers the caller to the police; the
    # transferred leg comes back into decroche as a call of its own, linked to the first.
    first = call(entry("accueil", 0, EntryOutcome.ANSWERED, answer=10.0, end=70.0))
    leg = call(entry("police", 72.0, EntryOutcome.ABANDONED, end=140.0))
    leg.transfer_of = first.call_id
    result = report(first, leg)
    assert result.services["accueil"].answered == 1
    assert result.services["police"].offered == 1  # the police was offered the call
    assert result.services["police"].abandoned == 1
    total = result.total
    assert (total.offered, total.answered, total.abandoned) == (1, 1, 0)  # one caller, answered
    assert total.answered_within_target == 1
    day = breakdown(frame_from_records([first, leg]), DAY, DAY, "day")
    assert day[DAY.isoformat()]["total"].offered == 1
    assert day[DAY.isoformat()]["police"].offered == 1
    # The leg carries the same caller a minute later: not a repeat call.
    assert repeat_callers(frame_from_records([first, leg]), DAY, DAY)["repeat_calls"] == 0


def test_total_wait_spans_the_chain_against_the_target() -> None:
    record = call(
        entry("ccas", 0, EntryOutcome.OVERFLOW_TIMEOUT, end=20.0, overflow_to="accueil"),
        entry("accueil", 20.0, EntryOutcome.ANSWERED, answer=30.0),
    )
    result = report(record)
    assert result.services["accueil"].answered_within_target == 1  # 10 s in accueil
    assert result.total.answered_within_target == 0  # 30 s for the caller


def test_short_abandons_count_from_the_call_s_arrival() -> None:
    # A direct call: the caller hangs up 3 s after entering the second service, 6 s after
    # arriving: no misdial, for the service nor for the total.
    record = call(
        entry("ccas", 0, EntryOutcome.OVERFLOW_NOBODY, end=3.0, overflow_to="accueil"),
        entry("accueil", 3.0, EntryOutcome.ABANDONED, end=6.0),
        ivr_start=0,
    )
    result = report(record)
    assert result.services["accueil"].abandoned == 1
    assert result.services["accueil"].short_abandoned == 0  # 6 s after arriving
    assert result.total.abandoned == 1
    assert result.total.short_abandoned == 0
    # Hung up 2 s after arriving: a misdial, excluded from the base of the service and the total.
    misdial = call(entry("police", 0, EntryOutcome.ABANDONED, end=2.0), ivr_start=0)
    result = report(misdial)
    assert result.services["police"].short_abandoned == 1
    assert result.total.short_abandoned == 1


def test_a_caller_who_went_through_a_menu_did_not_misdial() -> None:
    # 12 s in the menu, then 2 s in the service: an abandon like any other.
    record = call(entry("ccas", 0, EntryOutcome.ABANDONED, end=2.0), ivr_start=-12)
    result = report(record)
    assert result.services["ccas"].abandoned == 1
    assert result.services["ccas"].short_abandoned == 0
    assert result.services["ccas"].base == 1
    assert result.services["ccas"].abandonment_rate == 1.0
    assert result.total.short_abandoned == 0


def closed_entry(service: str, start: float, overflow_to: str | None = None) -> ServiceEntry:
    """An entry into a service the rules said was closed: the flow sends the call on at once."""
    found = entry(service, start, EntryOutcome.OVERFLOW_CLOSED, end=start, overflow_to=overflow_to)
    found.closed = True
    return found


def test_entries_while_closed_are_counted_apart_from_every_rate() -> None:
    result = report(
        call(closed_entry("pole_ados", 0, "message:horaires"), caller="a"),
        call(closed_entry("pole_ados", 100, "message:horaires"), caller="b"),
        call(entry("pole_ados", 200, EntryOutcome.ANSWERED, answer=210.0), caller="c"),
    )
    ados = result.services["pole_ados"]
    assert (ados.closed, ados.offered, ados.answered, ados.overflowed) == (2, 1, 1, 0)
    assert ados.answer_rate == 1.0
    assert ados.as_dict()["closed"] == 2
    assert (result.total.closed, result.total.offered) == (2, 1)
    assert result.received.as_dict() == {
        "received": 3,
        "left_in_menu": 0,
        "closed": 2,
        "offered": 1,
        "other": 0,
    }
    # Where a closed service sent its callers is no overflow.
    frame = frame_from_records([call(closed_entry("pole_ados", 0, "accueil"))])
    assert overflow_flows(frame, DAY, DAY) == {}


def test_a_service_only_ever_closed_shows_its_closed_calls_and_no_rate() -> None:
    result = report(call(closed_entry("pole_ados", 0, "message:horaires")))
    ados = result.services["pole_ados"]
    assert (ados.closed, ados.offered, ados.base) == (1, 0, 0)
    assert ados.answer_rate is None  # "non mesurable", never 0 %


def test_a_call_counts_once_offered_if_one_entry_was_in_opening_hours() -> None:
    # Closed youth centre, then the open general desk that answers 18 s later.
    record = call(
        closed_entry("pole_ados", 0, "accueil"),
        entry("accueil", 4.0, EntryOutcome.ANSWERED, answer=22.0),
    )
    result = report(record)
    assert result.services["pole_ados"].closed == 1
    assert result.services["pole_ados"].offered == 0
    assert result.services["accueil"].offered == 1
    total = result.total
    assert (total.offered, total.closed, total.answered) == (1, 0, 1)
    # The wait runs from the first entry in opening hours (the closed message is no wait).
    assert total.wait_answered_sum_s == pytest.approx(18.0)
    # Every entry closed: the call counts in the total's closed, never in its offered.
    only_closed = call(closed_entry("mediatheque", 0, "message:au_revoir"), caller="z")
    assert (report(only_closed).total.closed, report(only_closed).total.offered) == (1, 0)


def test_calls_received_include_the_menu_and_the_closed_line() -> None:
    lost = call(ivr_start=0)
    lost.outcome = CallOutcome.IVR_HANGUP
    closed_line = call(caller="n")
    closed_line.outcome = CallOutcome.CLOSED
    menu_message = call(caller="m")
    menu_message.outcome = CallOutcome.MESSAGE
    answered = call(entry("ccas", 0, EntryOutcome.ANSWERED, answer=8.0), caller="x")
    result = report(lost, closed_line, menu_message, answered)
    assert result.received.as_dict() == {
        "received": 4,
        "left_in_menu": 1,
        "closed": 1,
        "offered": 1,
        "other": 1,
    }
    assert result.total.closed == 1
    document = result.to_json()["total"]
    assert (document["received"], document["left_in_menu"], document["closed"]) == (4, 1, 1)
    by_hour = breakdown(frame_from_records([lost, closed_line, answered]), DAY, DAY, "hour")
    assert sum(counts["total"].closed for counts in by_hour.values()) == 1


def test_local_midnight_decides_the_day() -> None:
    # 21:59:59.9 UTC on 14 Oct is 23:59:59.9 in Paris (CEST): the 14th. 22:00 UTC is the 15th.
    late = datetime(2026, 10, 14, 21, 59, 59, 900000, tzinfo=UTC)
    midnight = datetime(2026, 10, 14, 22, 0, 0, tzinfo=UTC)
    records = [
        call(entry("accueil", 0, EntryOutcome.ANSWERED, answer=5, at=late), ivr_start=0),
        call(
            entry("accueil", 0, EntryOutcome.ANSWERED, answer=5, at=midnight),
            caller="c2",
            ivr_start=0,
        ),
    ]
    frame = frame_from_records(records)
    assert compute_indicators(frame, DAY, DAY).total.offered == 1
    assert compute_indicators(frame, date(2026, 10, 15), date(2026, 10, 15)).total.offered == 1
    assert compute_indicators(frame, DAY, date(2026, 10, 15)).total.offered == 2


def test_dst_change_day() -> None:
    # 25 Oct 2026: clocks go back at 03:00 CEST -> 02:00 CET (01:00 UTC). 23:30 UTC on the 25th
    # is 00:30 on the 26th in CET; 21:30 UTC on the 25th is still the 25th (22:30 CET).
    on_25 = datetime(2026, 10, 25, 21, 30, tzinfo=UTC)
    on_26 = datetime(2026, 10, 25, 23, 30, tzinfo=UTC)
    before_change = datetime(2026, 10, 24, 22, 30, tzinfo=UTC)  # 00:30 CEST on the 25th
    frame = frame_from_records(
        [
            call(entry("accueil", 0, EntryOutcome.ANSWERED, answer=5, at=on_25)),
            call(entry("accueil", 0, EntryOutcome.ANSWERED, answer=5, at=on_26), caller="c2"),
            call(entry("accueil", 0, EntryOutcome.ANSWERED, answer=5, at=before_change)),
        ]
    )
    d25 = date(2026, 10, 25)
    assert compute_indicators(frame, d25, d25).total.offered == 2
    assert list(local_days(frame.entered, "Europe/Paris")) == [20751, 20752, 20751]


def test_counts_reaggregate_exactly() -> None:
    a = Counts(10, 8, 6, 2, 1, 0, 80.0)
    b = Counts(5, 5, 5, 0, 0, 0, 20.0)
    total = a + b
    assert total == Counts(15, 13, 11, 2, 1, 0, 100.0)
    assert total.answer_rate == pytest.approx(13 / 14)
    assert total.mean_wait_answered_s == pytest.approx(100 / 13)


def test_breakdowns_by_day_hour_week_month() -> None:
    records = [
        call(entry("ccas", 0, EntryOutcome.ANSWERED, answer=5)),
        call(entry("ccas", 86400, EntryOutcome.ABANDONED, end=86460), caller="c2"),
        call(entry("accueil", 3600, EntryOutcome.ANSWERED, answer=3630), caller="c3"),
    ]
    frame = frame_from_records(records)
    days = breakdown(frame, DAY, date(2026, 10, 15), "day")
    assert set(days) == {"2026-10-14", "2026-10-15"}
    assert days["2026-10-14"]["total"].offered == 2
    assert days["2026-10-15"]["ccas"].abandoned == 1
    hours = breakdown(frame, DAY, date(2026, 10, 15), "hour")
    assert hours["10h"]["ccas"].offered == 2
    assert hours["11h"]["accueil"].answered == 1
    weeks = breakdown(frame, DAY, date(2026, 10, 15), "week")
    assert list(weeks) == ["2026-W42"]
    months = breakdown(frame, DAY, date(2026, 10, 15), "month")
    assert months["2026-10"]["total"].offered == 3


def test_percentiles_and_repeat_callers() -> None:
    records = [
        call(entry("ccas", 0, EntryOutcome.ANSWERED, answer=w), caller="same")
        for w in (10.0, 20.0, 30.0)
    ]
    records = [
        call(entry("ccas", i * 3600, EntryOutcome.ANSWERED, answer=i * 3600 + w), caller="same")
        for i, w in enumerate((10.0, 20.0, 30.0))
    ]
    records.append(call(entry("ccas", 50, EntryOutcome.ABANDONED, end=90), caller="other"))
    frame = frame_from_records(records)
    pct = wait_percentiles(frame, DAY, DAY)
    # Read from half-second classes (analytics.waits): each wait at the middle of its class,
    # within half a second of the exact percentile (20 and 28).
    assert pct["ccas"]["p50"] == pytest.approx(20.25)
    assert pct["ccas"]["p90"] == pytest.approx(28.25)
    assert repeat_callers(frame, DAY, DAY) == {
        "calls": 4,
        "repeat_calls": 2,
        "distinct_callers": 2,
    }


def test_json_shape() -> None:
    result = report(call(entry("ccas", 0, EntryOutcome.ANSWERED, answer=5)))
    document = result.to_json()
    assert set(document) == {
        "from",
        "to",
        "parameters",
        "services",
        "total",
        "skipped_lines",
        "waits_from_timestamps",
    }
    assert set(document["services"]["ccas"]) == {
        "closed",
        "offered",
        "answered",
        "answered_within_target",
        "abandoned",
        "short_abandoned",
        "overflowed",
        "answer_rate",
        "service_level",
        "abandonment_rate",
        "mean_wait_answered_s",
    }
    assert document["parameters"]["target_s"] == 25.0


def test_empty_frame() -> None:
    result = compute_indicators(frame_from_records([]), DAY, DAY)
    assert result.services == {}
    assert result.total == Counts()


def test_a_call_cut_by_the_pbx_is_offered_and_nothing_else() -> None:
    records = [
        call(entry("ccas", 0, EntryOutcome.CUT, end=40), caller="cut-waiting"),
        # Answered before the cut: it was taken, and stays answered.
        call(entry("ccas", 100, EntryOutcome.ANSWERED, answer=110, end=300), caller="cut-talking"),
        call(entry("ccas", 200, EntryOutcome.ABANDONED, end=230), caller="gave-up"),
    ]
    result = compute_indicators(frame_from_records(records), DAY, DAY)
    ccas = result.services["ccas"]
    assert (ccas.offered, ccas.answered, ccas.abandoned, ccas.overflowed) == (3, 1, 1, 0)
    assert ccas.answer_rate == pytest.approx(1 / 3)  # not taken: still in the base
    assert ccas.abandonment_rate == pytest.approx(1 / 3)  # not an abandon
    assert (result.total.offered, result.total.abandoned) == (3, 1)


@pytest.mark.parametrize(
    "zone", ["Europe/Paris", "America/Cayenne", "Australia/Lord_Howe", "Asia/Kathmandu"]
)
def test_local_offsets_are_each_instants_own(zone: str) -> None:
    # Probed once a day where the offset does not change, per quarter hour where it does
    # (Lord Howe moves by half an hour, Kathmandu sits at +5:45).
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    import numpy as np

    from analytics.frame import local_offsets

    instants = np.random.default_rng(7).uniform(1_735_000_000, 1_767_000_000, 4000)
    expected = [
        datetime.fromtimestamp(t, UTC).astimezone(ZoneInfo(zone)).utcoffset().total_seconds()
        for t in instants
    ]
    assert local_offsets(instants, zone).tolist() == expected

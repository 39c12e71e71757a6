"""Staffing from records: the traffic model per service and slot, the agents needed, the JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from analytics.definitions import Parameters
from analytics.frame import frame_from_records
from analytics.objectives import Objective, ObjectivesConfig
from analytics.sources import DatabaseSource, QueueLogSource
from analytics.staffing.api import RulesOpeningHours, Staffing, StaffingSettings
from analytics.staffing.erlang import erlang_b
from analytics.staffing.legs import legs_from_records
from analytics.staffing.plan import QueueSetup, Targets, staffing_plan
from analytics.staffing.text import format_plan
from analytics.staffing.traffic import AlwaysOpen, service_traffic
from routing_rules.loader import validate_text
from telephony.records.model import (
    AgentLeg,
    CallOutcome,
    CallRecord,
    EntryOutcome,
    LegOutcome,
    ServiceEntry,
)
from telephony.records.pseudonym import Pseudonymiser
from telephony.records.queue_log import iter_queue_log
from telephony.records.store import RecordStore
from telephony.records.testing import temporary_database
from tests.conftest import BACKENDS, pg_url
from tests.staffing_support import PARIS, erlang_c_agents_by_hand, stationary_queue_log

FEB = date(2025, 2, 3)  # a Monday; no public holiday in France until Easter


# --- the done-when check: a queue_log of stationary mornings -------------------------------------


def test_stationary_queue_log_needs_the_hand_computed_erlang_c(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_text(stationary_queue_log(FEB, weeks=4, calls_per_hour=30, talk_s=180.0))
    staffing = Staffing(QueueLogSource(log), AlwaysOpen(), queue_log=True)
    plan = staffing.plan(FEB, FEB + timedelta(days=27))
    service = plan.services["accueil"]
    assert service.model == "erlang_a"
    # Mornings 9-12, Monday to Friday: 15 slots, nothing else (only slots that had calls).
    assert {(s.traffic.weekday, s.traffic.start_s // 3600) for s in service.slots} == {
        (day, hour) for day in range(1, 6) for hour in (9, 10, 11)
    }
    by_hand = erlang_c_agents_by_hand(30, 180.0, 25.0, 0.80)
    assert by_hand == 3
    for slot in service.slots:
        # 30 a hour, less the odd misdial (a short abandon is not a call to staff for).
        assert 29.0 <= slot.traffic.calls_per_hour <= 30.0
        assert slot.traffic.mean_handle_s == pytest.approx(180.0)
        assert slot.agents_needed_erlang_c == by_hand
        assert abs(slot.agents_needed - by_hand) <= 1
        assert slot.expected.service_level >= 0.80
        assert slot.traffic.agents_observed == pytest.approx(3.0)
    # The generated callers' patience is exponential with a mean of 120 s: the censored MLE
    # finds it within the noise of ~90 abandons.
    assert service.traffic.mean_patience_s == pytest.approx(120.0, rel=0.3)


def test_json_has_exactly_the_documented_shape(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_text(stationary_queue_log(FEB, weeks=1))
    plan = Staffing(
        QueueLogSource(log), AlwaysOpen(), names={"accueil": "Accueil général"}, queue_log=True
    ).plan(FEB, FEB + timedelta(days=6), slot_minutes=30)
    document = plan.to_json()
    assert set(document) == {"from", "to", "slot_minutes", "services"}
    assert (document["from"], document["to"], document["slot_minutes"]) == (
        "2025-02-03",
        "2025-02-09",
        30,
    )
    service = document["services"]["accueil"]
    assert set(service) == {"name", "model", "slots"}
    assert service["name"] == "Accueil général"
    assert len(service["slots"]) == 5 * 6  # half hours of 9-12, Monday to Friday
    first = service["slots"][0]
    assert set(first) == {
        "weekday",
        "start",
        "end",
        "calls_per_hour",
        "mean_handle_s",
        "mean_patience_s",
        "agents_needed",
        "agents_needed_erlang_c",
        "agents_observed",
        "expected",
    }
    assert (first["weekday"], first["start"], first["end"]) == (1, "09:00", "09:30")
    assert set(first["expected"]) == {"service_level", "answer_rate"}


# --- the traffic model, on records written by hand ---------------------------------------------


def _at(day: date, hour: int, minute: int = 0, second: float = 0) -> datetime:
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)
    return (moment + timedelta(seconds=second)).astimezone(UTC)


def _entry(
    service: str,
    entered: datetime,
    outcome: EntryOutcome,
    wait: float,
    talk: float = 0.0,
    agent: str | None = "PJSIP/1",
    ring: float = 4.0,
    overflow_to: str | None = None,
    legs: list[AgentLeg] | None = None,
) -> ServiceEntry:
    answered = entered + timedelta(seconds=wait) if outcome is EntryOutcome.ANSWERED else None
    ended = entered + timedelta(seconds=wait + talk)
    if legs is None:
        legs = []
        if agent is not None and outcome is not EntryOutcome.OVERFLOW_NOBODY:
            start = entered + timedelta(seconds=max(0.0, wait - ring))
            legs.append(
                AgentLeg(
                    endpoint=agent,
                    ring_started_at=start if answered else entered,
                    ended_at=ended,
                    outcome=LegOutcome.ANSWERED if answered else LegOutcome.CANCELLED,
                    answered_at=answered,
                )
            )
    return ServiceEntry(
        service_id=service,
        entered_at=entered,
        ended_at=ended,
        outcome=outcome,
        answered_at=answered,
        agent=agent if answered else None,
        overflow_to=overflow_to,
        legs=legs,
    )


def _call(*entries: ServiceEntry) -> CallRecord:
    first = entries[0].entered_at
    return CallRecord(
        call_id=f"c{first.timestamp()}-{entries[0].service_id}",
        started_at=first - timedelta(seconds=10),
        ended_at=entries[-1].ended_at,
        dialled="0232000000",
        caller_number="0600000000",
        outcome=CallOutcome.ANSWERED,
        entries=list(entries),
    )


RULES = """\
version: 1
settings: {invalid_prompt: invalid_key}
schedules:
  mornings:
    weekly:
      mon: ["08:30-12:00"]
      tue: ["08:30-12:00"]
services:
  ccas:
    name: CCAS
    tag: CCAS
    agents: [PJSIP/1, PJSIP/2]
    rings: 5
    hours: mornings
    overflow: {otherwise: {message: closed_hours}}
  accueil:
    name: Accueil général
    tag: ACC
    agents: [PJSIP/3]
    rings: 5
    overflow: {otherwise: {message: closed_hours}}
entry:
  - service: ccas
"""


def _traffic(records: list[CallRecord], start: date, end: date, **kwargs):
    rules = validate_text(RULES, "rules.yaml", {"invalid_key", "closed_hours"})
    return service_traffic(
        frame_from_records(records),
        legs_from_records(records),
        RulesOpeningHours(rules),
        start,
        end,
        **kwargs,
    )


def test_arrival_rate_is_over_the_open_hours_of_the_slot() -> None:
    # The four Mondays of May 2025 (the holidays of May fall on Thursdays).
    mondays = [date(2025, 5, 5), date(2025, 5, 12), date(2025, 5, 19), date(2025, 5, 26)]
    records = []
    for day in mondays:
        for minute in (40, 50):  # 8:40 and 8:50: the 8-9 slot is open 8:30-9:00 only
            records.append(
                _call(_entry("ccas", _at(day, 8, minute), EntryOutcome.ANSWERED, 6, 120))
            )
        records.append(_call(_entry("ccas", _at(day, 8, 10), EntryOutcome.OVERFLOW_CLOSED, 0)))
        records.append(_call(_entry("ccas", _at(day, 13, 0), EntryOutcome.OVERFLOW_CLOSED, 0)))
    traffic = _traffic(records, date(2025, 5, 1), date(2025, 5, 31))["ccas"]
    (slot,) = traffic.slots  # the closed calls (8:10, 13:00) are no traffic to staff for
    assert (slot.weekday, slot.start_s, slot.end_s) == (1, 8 * 3600, 9 * 3600)
    assert slot.calls == 8
    assert slot.open_hours == pytest.approx(4 * 0.5)  # four Mondays, half an hour each
    assert slot.calls_per_hour == pytest.approx(4.0)


def test_public_holidays_are_not_open_weeks() -> None:
    # Monday 21 April 2025 is Easter Monday: the mornings schedule is closed that day.
    mondays = [date(2025, 4, 14), date(2025, 4, 28)]
    records = [
        _call(_entry("ccas", _at(day, 10, 5 * i), EntryOutcome.ANSWERED, 5, 100))
        for day in mondays
        for i in range(6)
    ]
    (slot,) = _traffic(records, date(2025, 4, 14), date(2025, 4, 28))["ccas"].slots
    assert slot.open_hours == pytest.approx(2.0)  # 14 and 28 April, not the 21st
    assert slot.calls_per_hour == pytest.approx(6.0)


def test_overflow_arrivals_and_misdials_are_not_arrivals() -> None:
    day = date(2025, 5, 5)
    records = [
        _call(
            _entry(
                "ccas",
                _at(day, 10, 0),
                EntryOutcome.OVERFLOW_BUSY,
                0,
                agent=None,
                overflow_to="accueil",
            ),
            _entry("accueil", _at(day, 10, 0, 1), EntryOutcome.ANSWERED, 5, 200, agent="PJSIP/3"),
        ),
        _call(_entry("accueil", _at(day, 10, 20), EntryOutcome.ANSWERED, 5, 100, agent="PJSIP/3")),
        _call(_entry("accueil", _at(day, 10, 30), EntryOutcome.ABANDONED, 2, agent="PJSIP/3")),
    ]
    traffic = _traffic(records, day, day)
    (accueil,) = traffic["accueil"].slots
    assert accueil.calls == 1  # the overflowed caller is CCAS's; the 2-second one a misdial
    # ... but the overflowed caller's talk still tells how long the accueil's calls last.
    assert accueil.mean_handle_s == pytest.approx(150.0)
    assert traffic["ccas"].slots[0].calls == 1


def test_patience_is_the_censored_exponential_mle() -> None:
    day = date(2025, 5, 5)
    records = [
        _call(_entry("accueil", _at(day, 9, 0), EntryOutcome.ANSWERED, 20, 100, agent="PJSIP/3")),
        _call(_entry("accueil", _at(day, 9, 10), EntryOutcome.ABANDONED, 30, agent="PJSIP/3")),
        _call(_entry("accueil", _at(day, 9, 20), EntryOutcome.ABANDONED, 10, agent="PJSIP/3")),
        _call(
            _entry("accueil", _at(day, 9, 30), EntryOutcome.OVERFLOW_TIMEOUT, 25, agent="PJSIP/3")
        ),
        _call(_entry("accueil", _at(day, 9, 40), EntryOutcome.ABANDONED, 3, agent="PJSIP/3")),
    ]
    traffic = _traffic(records, day, day)["accueil"]
    # Waits 20 (answered: at least), 30, 10 (gave up), 25 (overflowed: at least); the 3-second
    # abandon is a misdial, left out. 2 abandons over 85 s waited.
    assert traffic.abandons == 2
    assert traffic.mean_patience_s == pytest.approx(85 / 2)
    nobody_left = _traffic(records[:1], day, day)["accueil"]
    assert nobody_left.mean_patience_s is None


def test_calls_cut_by_the_pbx_say_nothing_of_patience_or_pick_up() -> None:
    day = date(2025, 5, 5)
    records = [
        _call(_entry("accueil", _at(day, 9, 0), EntryOutcome.ANSWERED, 20, 100, agent="PJSIP/3")),
        _call(_entry("accueil", _at(day, 9, 10), EntryOutcome.ABANDONED, 30, agent="PJSIP/3")),
    ]
    # Asterisk restarted under two callers ringing for 200 s and 40 s: not waits anyone gave up
    # or sat through, not phones left unanswered.
    cut = [
        _call(_entry("accueil", _at(day, 9, 20), EntryOutcome.CUT, 200, agent="PJSIP/3")),
        _call(_entry("accueil", _at(day, 9, 30), EntryOutcome.CUT, 40, agent="PJSIP/3")),
    ]
    alone = _traffic(records, day, day)["accueil"]
    with_cut = _traffic(records + cut, day, day)["accueil"]
    assert (with_cut.abandons, with_cut.waited_s) == (alone.abandons, alone.waited_s) == (1, 50)
    assert with_cut.mean_patience_s == alone.mean_patience_s == pytest.approx(50.0)
    assert (with_cut.pickup.rung, with_cut.pickup.answered) == (alone.pickup.rung, 1) == (2, 1)
    # They did arrive, though: the service was offered them.
    assert sum(s.calls for s in with_cut.slots) == 4


def test_handle_time_of_a_quiet_slot_is_the_services_and_adds_after_call_work() -> None:
    day = date(2025, 5, 5)
    records = [
        _call(
            _entry(
                "accueil",
                _at(day, 9, 4 * i),
                EntryOutcome.ANSWERED,
                5,
                100 + 10 * i,
                agent="PJSIP/3",
            )
        )
        for i in range(12)
    ]
    records.append(
        _call(_entry("accueil", _at(day, 15, 0), EntryOutcome.ANSWERED, 5, 400, agent="PJSIP/3"))
    )
    traffic = _traffic(records, day, day, after_call_work_s={"accueil": 30.0})["accueil"]
    busy, quiet = traffic.slots
    assert busy.mean_handle_s == pytest.approx(155.0 + 30.0)  # its own 12 calls
    service_mean = (sum(100 + 10 * i for i in range(12)) + 400) / 13
    assert quiet.mean_handle_s == pytest.approx(service_mean + 30.0)  # one call: the service's


def test_agents_observed_from_ring_legs() -> None:
    mondays = [date(2025, 5, 5), date(2025, 5, 12)]
    records = []
    both = [
        AgentLeg("PJSIP/1", _at(mondays[0], 9, 0), _at(mondays[0], 9, 1), LegOutcome.NO_ANSWER),
        AgentLeg("PJSIP/2", _at(mondays[0], 9, 0), _at(mondays[0], 9, 1), LegOutcome.BUSY),
        AgentLeg("PJSIP/3", _at(mondays[0], 9, 0), _at(mondays[0], 9, 1), LegOutcome.UNREACHABLE),
    ]
    records.append(
        _call(_entry("ccas", _at(mondays[0], 9, 0), EntryOutcome.OVERFLOW_TIMEOUT, 25, legs=both))
    )
    # The next Monday nobody was there: the caller overflowed at once, no leg.
    records.append(
        _call(_entry("ccas", _at(mondays[1], 9, 0), EntryOutcome.OVERFLOW_NOBODY, 0, agent=None))
    )
    (slot,) = _traffic(records, mondays[0], mondays[1])["ccas"].slots
    assert slot.agents_observed == pytest.approx(1.0)  # (2 + 0) / 2 days with callers


def test_pickup_shares_of_callers_put_through() -> None:
    day = date(2025, 5, 5)
    records = [
        _call(
            _entry("accueil", _at(day, 9, 0), EntryOutcome.ANSWERED, 8, 60, agent="PJSIP/3", ring=8)
        ),
        _call(
            _entry(
                "accueil", _at(day, 9, 5), EntryOutcome.ANSWERED, 30, 60, agent="PJSIP/3", ring=30
            )
        ),
        _call(_entry("accueil", _at(day, 9, 10), EntryOutcome.ABANDONED, 12, agent="PJSIP/3")),
        _call(_entry("accueil", _at(day, 9, 15), EntryOutcome.OVERFLOW_BUSY, 0, agent=None)),
    ]
    pickup = _traffic(records, day, day)["accueil"].pickup
    assert (pickup.rung, pickup.answered, pickup.answered_within) == (3, 2, 1)
    assert pickup.mean_delay_s == pytest.approx(19.0)
    assert (min(pickup.delay_deciles), max(pickup.delay_deciles)) == pytest.approx((9.1, 28.9))


# --- the agents needed --------------------------------------------------------------------------


def test_loss_model_expects_erlang_b_times_the_pickup() -> None:
    day = date(2025, 5, 5)
    records = [
        _call(
            _entry(
                "accueil",
                _at(day, 9, 2 * i),
                EntryOutcome.ANSWERED,
                6,
                180,
                agent="PJSIP/3",
                ring=6,
            )
        )
        for i in range(25)
    ] + [
        _call(
            _entry("accueil", _at(day, 9, 2 * i + 1), EntryOutcome.ABANDONED, 20, agent="PJSIP/3")
        )
        for i in range(5)
    ]
    traffic = _traffic(records, day, day)
    plan = staffing_plan(
        traffic, day, day, slot_minutes=60, objectives=ObjectivesConfig(), params=Parameters()
    )
    service = plan.services["accueil"]
    assert service.model == "loss"
    (slot,) = service.slots
    erlangs = 30 * (180 + 6) / 3600
    put_through = 1 - erlang_b(slot.agents_needed, erlangs)
    assert slot.expected.answer_rate == pytest.approx(put_through * 25 / 30)
    # 25 of 30 callers put through are answered (83 %): below the 85 % answer rate, whatever
    # the number of agents: staffing alone cannot meet it, and the plan says so.
    assert not slot.reachable
    assert 1 - erlang_b(slot.agents_needed, erlangs) > 0.9999


def test_a_queue_setting_switches_a_service_to_erlang_a() -> None:
    day = date(2025, 5, 5)
    records = [
        _call(_entry("accueil", _at(day, 9, 2 * i), EntryOutcome.ANSWERED, 6, 180, agent="PJSIP/3"))
        for i in range(30)
    ]
    traffic = _traffic(records, day, day)
    objectives = ObjectivesConfig(
        default={
            "service_level": Objective(target=0.8, kind="min"),
            "answer_rate": Objective(target=0.9, kind="min"),
        }
    )
    plan = staffing_plan(
        traffic,
        day,
        day,
        slot_minutes=60,
        objectives=objectives,
        params=Parameters(),
        queues={"accueil": QueueSetup(max_wait_s=60.0)},
    )
    service = plan.services["accueil"]
    assert service.model == "erlang_a"
    assert "60 s" in service.why
    assert service.targets == Targets(0.8, 0.9, 25.0)
    (slot,) = service.slots
    assert slot.reachable
    assert slot.expected.service_level >= 0.8
    assert slot.agents_needed <= slot.agents_needed_erlang_c + 1


def test_staffing_settings_reach_the_plan(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_text(stationary_queue_log(FEB, weeks=1))
    plain = Staffing(QueueLogSource(log), AlwaysOpen(), queue_log=True)
    slower = Staffing(
        QueueLogSource(log),
        AlwaysOpen(),
        queue_log=True,
        settings=StaffingSettings(after_call_work_s={"accueil": 120.0}),
    )
    end = FEB + timedelta(days=6)
    before = plain.plan(FEB, end).services["accueil"].slots[0]
    after = slower.plan(FEB, end).services["accueil"].slots[0]
    assert after.traffic.mean_handle_s == pytest.approx(before.traffic.mean_handle_s + 120.0)
    assert after.agents_needed > before.agents_needed
    assert np.isfinite(after.expected.service_level)


# --- the same plan from the database as from the queue_log it was imported from ---------------


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    with temporary_database(request.param, tmp_path, pg_url()) as database:
        yield RecordStore(database, Pseudonymiser(b"0123456789abcdef-secret"))


def test_database_legs_and_plan_equal_the_queue_logs(store, tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_text(stationary_queue_log(FEB, weeks=1))
    store.import_records(iter_queue_log(log.read_text().splitlines()))
    end = FEB + timedelta(days=6)
    from_file = QueueLogSource(log)
    from_db = DatabaseSource(store.database)
    a = from_file.load_legs(FEB, end)
    b = from_db.load_legs(FEB, end)
    assert len(a) == len(b) > 0
    order_a = np.lexsort((a.ring_started, a.entered))
    order_b = np.lexsort((b.ring_started, b.entered))
    np.testing.assert_allclose(a.ring_started[order_a], b.ring_started[order_b], atol=1e-3)
    np.testing.assert_allclose(a.answered[order_a], b.answered[order_b], atol=1e-3)
    assert [a.endpoints[i] for i in a.endpoint[order_a]] == [
        b.endpoints[i] for i in b.endpoint[order_b]
    ]
    assert a.present.all() and b.present.all()
    plans = [
        Staffing(source, AlwaysOpen(), queue_log=True).plan(FEB, end).to_json()
        for source in (from_file, from_db)
    ]
    assert plans[0] == plans[1]


def test_french_table_names_services_and_marks_short_slots_in_words(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_text(stationary_queue_log(FEB, weeks=1, agents=2))
    plan = Staffing(
        QueueLogSource(log), AlwaysOpen(), names={"accueil": "Accueil général"}, queue_log=True
    ).plan(FEB, FEB + timedelta(days=6))
    text = format_plan(plan)
    assert "Accueil général — modèle : journal queue_log" in text
    assert "Erlang A (M/M/n+M)" in text
    assert "lundi     09:00-10:00" in text
    # Two agents seen where three are needed: said in words beside the symbol.
    assert "▲ sous-effectif : 1 agent manquant" in text
    assert "Créneaux en sous-effectif : 15 sur 15" in text
    assert "accueil " not in text.replace("Accueil", "")  # the id never shows, the name does
    assert all(len(line) <= 140 for line in text.splitlines() if line.startswith("  "))

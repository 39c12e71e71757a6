"""``--verify``: the recommended agents present slot by slot, and the period replayed with them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from analytics.definitions import Parameters
from analytics.frame import frame_from_records
from analytics.objectives import ObjectivesConfig
from analytics.staffing.api import RulesOpeningHours
from analytics.staffing.legs import legs_from_records
from analytics.staffing.plan import staffing_plan
from analytics.staffing.traffic import service_traffic
from ivr_prompts.catalogue import load_catalogue
from routing_rules.loader import default_rules_path, load_rules
from telephony.records.model import (
    AgentLeg,
    CallOutcome,
    CallRecord,
    EntryOutcome,
    LegOutcome,
    ServiceEntry,
)
from tests.staffing_support import PARIS
from whatif.staffing import staffed_agents, staffed_rules, verify, virtual_agent

MONDAY = date(2025, 5, 5)
RULES = load_rules(default_rules_path(), load_catalogue().keys())


def _answered(service: str, at: datetime, index: int, ring: float = 5.0, talk: float = 240.0):
    answered = at + timedelta(seconds=ring)
    ended = answered + timedelta(seconds=talk)
    leg = AgentLeg("PJSIP/1101", at, ended, LegOutcome.ANSWERED, answered)
    entry = ServiceEntry(
        service, at, ended, EntryOutcome.ANSWERED, at, answered, "PJSIP/1101", None, [leg]
    )
    return CallRecord(
        call_id=f"v{index}",
        started_at=at,
        ended_at=ended,
        dialled="0232000000",
        caller_number=f"06{index:08d}",
        outcome=CallOutcome.ANSWERED,
        entries=[entry],
    )


def _records() -> list[CallRecord]:
    # CCAS on a Monday: 9:00-10:00 busy (12 calls of 4 minutes), 10:00-11:00 quiet (3).
    nine = datetime(2025, 5, 5, 9, tzinfo=PARIS).astimezone(UTC)
    times = [nine + timedelta(minutes=5 * i) for i in range(12)]
    times += [nine + timedelta(minutes=60 + 20 * i) for i in range(3)]
    return [_answered("ccas", at, i) for i, at in enumerate(times)]


def _plan(records: list[CallRecord]):
    traffic = service_traffic(
        frame_from_records(records),
        legs_from_records(records),
        RulesOpeningHours(RULES),
        MONDAY,
        MONDAY,
    )
    return staffing_plan(
        traffic,
        MONDAY,
        MONDAY,
        slot_minutes=60,
        objectives=ObjectivesConfig(),
        params=Parameters(),
        names={"ccas": "CCAS"},
    )


def test_virtual_agents_are_present_exactly_in_their_slots() -> None:
    plan = _plan(_records())
    busy, quiet = plan.services["ccas"].slots
    assert busy.agents_needed > quiet.agents_needed >= 1
    changes = staffed_agents(plan, RULES, MONDAY, MONDAY)
    first = virtual_agent("ccas", 1)
    last = virtual_agent("ccas", busy.agents_needed)

    def presence(endpoint: str, at: datetime) -> bool:
        state = False
        for change in changes:
            if change.script.endpoint == endpoint and change.at <= at:
                state = change.script.registered
        return state

    nine = datetime(2025, 5, 5, 9, tzinfo=PARIS)
    assert not presence(first, nine - timedelta(minutes=1))
    assert presence(first, nine) and presence(last, nine + timedelta(minutes=59))
    assert presence(first, nine + timedelta(hours=1))
    assert not presence(last, nine + timedelta(hours=1))  # the quiet hour needs fewer
    assert not presence(first, nine + timedelta(hours=2))
    ring = {c.script.ring_time for c in changes if c.script.registered}
    assert ring == {5.0}  # the service's observed ring-to-answer time
    rules = staffed_rules(RULES, plan)
    assert rules.services["ccas"].agents == tuple(
        virtual_agent("ccas", i) for i in range(1, busy.agents_needed + 1)
    )
    assert rules.services["police_municipale"].agents == RULES.services["police_municipale"].agents


def test_the_replay_with_the_recommended_agents_reaches_the_models_figures() -> None:
    records = _records()
    plan = _plan(records)
    check = verify(records, RULES, plan, direct=True, workers=1).services["ccas"]
    assert check.replayed.calls == check.recorded.calls == 15
    assert check.recorded.answer_rate == 1.0
    assert check.replayed.answer_rate is not None and check.replayed.service_level is not None
    # 15 calls: the replay's figures are the model's within a few calls.
    assert abs(check.replayed.answer_rate - check.model.answer_rate) <= 0.15
    assert abs(check.replayed.service_level - check.model.service_level) <= 0.2
    assert check.to_json()["name"] == "CCAS"

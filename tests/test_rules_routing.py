"""Routing decisions as tables of cases over inline rules (Alertmanager's route_test.go style)."""

from __future__ import annotations

import dataclasses
import textwrap
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest

from routing_rules.agents import AgentsView, DeviceState, Presence
from routing_rules.compiled import OverflowReason, PlayMessage, TakeCallback, ToService
from routing_rules.errors import RoutingInputError, UnknownTarget
from routing_rules.loader import validate_text
from routing_rules.model import Strategy
from routing_rules.outcomes import EntryOutcome, LegOutcome
from routing_rules.routing import (
    CallFacts,
    Closed,
    GoService,
    IvrStart,
    Overflow,
    Ring,
    RungLeg,
    after_ringing,
    entry_point,
    leg_outcome_of_cause,
    overflow_target,
    owed_callback,
    route_service,
    service_decision,
    survey_for,
    unanswered_reason,
)

PARIS = ZoneInfo("Europe/Paris")
PROMPTS = {"menu", "invalid", "closed", "night", "cb", "cb_num", "cb_thanks", "hours", "q", "ok"}

RULES = textwrap.dedent(
    """\
    settings:
      invalid_prompt: invalid
      caller_id_format: "[{tag}] {number}"
      anonymous_number: anonyme
    schedules:
      office:
        weekly:
          mon: ["08:30-12:00", "13:30-17:30"]
          tue: ["08:30-12:00", "13:30-17:30"]
          wed: ["08:30-12:00", "13:30-17:30"]
          thu: ["08:30-12:00", "13:30-17:30"]
          fri: ["08:30-12:00", "13:30-17:30"]
          sat: ["09:00-12:00"]
        exceptions:
          - {date: "2026-12-24", slots: ["08:30-12:00"], label: veille de Noël}
          - {date: "2026-05-14", slots: ["09:00-11:00"], label: Ascension ouverte}
      late:
        weekly:
          mon: ["08:00-20:00"]
        public_holidays: open
    services:
      front:
        name: Accueil
        tag: ACCUEIL
        agents: [PJSIP/1001, PJSIP/1002, PJSIP/1003]
        strategy: ring_all
        rings: 4
        hours: office
        closed_prompt: hours
        overflow:
          closed: {message: closed}
          otherwise: {callback: cb, number_prompt: cb_num, thanks_prompt: cb_thanks}
      social:
        name: CCAS
        tag: CCAS
        agents: [PJSIP/1101, PJSIP/1102, PJSIP/1103]
        strategy: in_order
        rings: 5
        rings_per_agent: 2
        hours: office
        closed_prompt: hours
        overflow:
          busy: {service: front}
          nobody: {service: front}
          no_answer: {service: front}
          otherwise: {message: night}
      family:
        name: Famille
        tag: FAM
        agents: [PJSIP/1111, PJSIP/1112, PJSIP/1113]
        strategy: round_robin
        rings: 2
        rings_per_agent: 1
        overflow:
          otherwise: {service: social}
      youth:
        name: Jeunesse
        tag: ADOS
        agents: [PJSIP/1121, PJSIP/1122, PJSIP/1123]
        strategy: longest_idle
        rings: 6
        rings_per_agent: 3
        hours: late
        overflow:
          otherwise: {message: night}
    menus:
      main:
        prompt: menu
        keys:
          "1": {service: social}
          "2": {service: family}
          "3": {service: youth}
        fallback: {service: front}
    entry:
      - numbers: ["0232464317"]
        service: family
      - numbers: ["0232460000"]
        menu: main
        hours: office
        closed_message: closed
      - menu: main
    surveys:
      all_calls:
        services: [social]
        one_in: 1
        consent_prompt: q
        thanks_prompt: ok
        questions: [{id: q1, prompt: q, scale: "1-5"}]
      sampled:
        one_in: 3
        consent_prompt: q
        thanks_prompt: ok
        questions: [{id: q1, prompt: q, scale: oui-non}]
    """
)

R = validate_text(RULES, "inline.yaml", PROMPTS)
ALL = [a for s in R.services.values() for a in s.agents]
FACTS = CallFacts(caller_number="0612345678")


def at(text: str) -> datetime:
    """Local Paris time -> aware datetime (UTC, as the flow passes it)."""
    return datetime.fromisoformat(text).replace(tzinfo=PARIS).astimezone(UTC)


def view(
    devices: dict[str, str] | None = None,
    presence: dict[tuple[str, str], Presence] | None = None,
    last_end: dict[str, datetime] | None = None,
    rr_last: dict[str, str] | None = None,
) -> AgentsView:
    states = dict.fromkeys(ALL, DeviceState.NOT_INUSE)
    states.update({k: DeviceState(v) for k, v in (devices or {}).items()})
    return AgentsView(
        devices=MappingProxyType(states),
        presence=MappingProxyType(presence or {}),
        last_call_end=MappingProxyType(last_end or {}),
        round_robin_last=MappingProxyType(rr_last or {}),
    )


MONDAY_10 = "2026-03-02T10:00"

# --- entry --------------------------------------------------------------------------------------

ENTRY_CASES = [
    ("0232464317", MONDAY_10, GoService, "family"),
    ("+33 2 32 46 43 17", MONDAY_10, GoService, "family"),
    ("0033232464317", MONDAY_10, GoService, "family"),
    ("0232460000", MONDAY_10, IvrStart, "main"),
    ("0232460000", "2026-03-02T19:00", Closed, "closed"),
    ("0232460000", "2026-12-25T10:00", Closed, "closed"),  # Christmas: public holiday
    ("0299999999", "2026-03-02T19:00", IvrStart, "main"),  # the catch-all has no hours
    ("", MONDAY_10, IvrStart, "main"),
]


@pytest.mark.parametrize(("dialled", "when", "kind", "where"), ENTRY_CASES)
def test_entry_point(dialled, when, kind, where):
    decision = entry_point(R, dialled, at(when))
    assert type(decision) is kind
    got = {IvrStart: "menu_id", GoService: "service_id", Closed: "prompt_id"}[kind]
    assert getattr(decision, got) == where
    assert f"entry route #{decision.rule.index}" in decision.why


# --- hours ---------------------------------------------------------------------------------------

HOURS_CASES = [
    # (local time, open?, why contains)
    ("2026-03-02T08:29:59", False, "weekly"),
    ("2026-03-02T08:30", True, "weekly"),
    ("2026-03-02T11:59:59", True, "weekly"),
    ("2026-03-02T12:00", False, "weekly"),
    ("2026-03-02T17:29", True, "weekly"),
    ("2026-03-07T10:00", True, "weekly"),  # Saturday morning
    ("2026-03-08T10:00", False, "weekly"),  # Sunday
    ("2026-12-24T11:00", True, "exception (veille de Noël)"),
    ("2026-12-24T14:00", False, "exception (veille de Noël)"),
    ("2026-12-25T10:00", False, "public holiday (Noël)"),
    ("2026-07-14T10:00", False, "public holiday"),
    ("2026-05-14T10:00", True, "exception (Ascension ouverte)"),  # holiday opened by exception
    ("2026-05-01T10:00", False, "public holiday"),
    ("2026-03-30T09:00", True, "CEST"),  # Monday after the switch to summer time
    ("2026-10-26T17:00", True, "CET"),  # Monday after the switch back
]


@pytest.mark.parametrize(("when", "is_open", "why"), HOURS_CASES)
def test_opening_hours(when, is_open, why):
    state = R.services["front"].schedule.state_at(at(when))
    assert state.is_open is is_open
    assert why in state.why


def test_summer_time_uses_local_wall_clock():
    # 06:45 UTC is 08:45 in Paris in summer (open), 07:45 in winter (closed).
    schedule = R.services["front"].schedule
    assert schedule.state_at(datetime(2026, 6, 1, 6, 45, tzinfo=UTC)).is_open
    assert not schedule.state_at(datetime(2026, 1, 5, 6, 45, tzinfo=UTC)).is_open


def test_public_holidays_open_when_the_schedule_says_so():
    easter_monday = at("2026-04-06T10:00")
    assert R.services["youth"].schedule.state_at(easter_monday).is_open


def test_naive_datetime_is_refused():
    with pytest.raises(RoutingInputError, match="aware"):
        service_decision(R, "front", datetime(2026, 3, 2, 10), view(), FACTS)


# --- one service ---------------------------------------------------------------------------------

SERVICE_CASES = [
    # id, service, local time, agents, expected steps [(endpoints, seconds)] or overflow reason
    ("ring_all", "front", MONDAY_10, view(), [(("PJSIP/1001", "PJSIP/1002", "PJSIP/1003"), 20)]),
    (
        "ring_all_skips_busy_and_absent",
        "front",
        MONDAY_10,
        view({"PJSIP/1001": "INUSE", "PJSIP/1003": "UNAVAILABLE"}),
        [(("PJSIP/1002",), 20)],
    ),
    (
        "in_order_wraps_until_the_rings_are_spent",
        "social",
        MONDAY_10,
        view(),
        [(("PJSIP/1101",), 10), (("PJSIP/1102",), 10), (("PJSIP/1103",), 5)],
    ),
    (
        "in_order_wraps_round",
        "social",
        MONDAY_10,
        view({"PJSIP/1102": "RINGING", "PJSIP/1103": "ONHOLD"}),
        [(("PJSIP/1101",), 10), (("PJSIP/1101",), 10), (("PJSIP/1101",), 5)],
    ),
    (
        "round_robin_starts_after_the_last",
        "family",
        MONDAY_10,
        view(rr_last={"family": "PJSIP/1112"}),
        [(("PJSIP/1113",), 5), (("PJSIP/1111",), 5)],
    ),
    (
        "round_robin_skips_busy",
        "family",
        MONDAY_10,
        view({"PJSIP/1113": "BUSY"}, rr_last={"family": "PJSIP/1112"}),
        [(("PJSIP/1111",), 5), (("PJSIP/1112",), 5)],
    ),
    (
        "round_robin_first_call",
        "family",
        MONDAY_10,
        view(),
        [(("PJSIP/1111",), 5), (("PJSIP/1112",), 5)],
    ),
    (
        "longest_idle_first",
        "youth",
        MONDAY_10,
        view(
            last_end={
                "PJSIP/1121": at("2026-03-02T09:50"),
                "PJSIP/1122": at("2026-03-02T09:10"),
            }
        ),
        [(("PJSIP/1123",), 15), (("PJSIP/1122",), 15)],
    ),
    ("closed", "front", "2026-03-02T19:00", view(), OverflowReason.CLOSED),
    ("holiday_closed", "social", "2026-11-11T10:00", view(), OverflowReason.CLOSED),
    (
        "busy",
        "front",
        MONDAY_10,
        view({"PJSIP/1001": "INUSE", "PJSIP/1002": "RINGINUSE", "PJSIP/1003": "UNAVAILABLE"}),
        OverflowReason.BUSY,
    ),
    (
        "nobody_unregistered",
        "front",
        MONDAY_10,
        view({a: "UNAVAILABLE" for a in ("PJSIP/1001", "PJSIP/1002", "PJSIP/1003")}),
        OverflowReason.NOBODY,
    ),
    (
        "nobody_signed_in",
        "social",
        MONDAY_10,
        view(
            presence={
                ("social", "PJSIP/1101"): Presence.SIGNED_OUT,
                ("social", "PJSIP/1102"): Presence.PAUSED,
                ("social", "PJSIP/1103"): Presence.SIGNED_OUT,
            }
        ),
        OverflowReason.NOBODY,
    ),
    (
        "paused_in_one_service_only",
        "social",
        MONDAY_10,
        view(presence={("front", "PJSIP/1101"): Presence.PAUSED}),
        [(("PJSIP/1101",), 10), (("PJSIP/1102",), 10), (("PJSIP/1103",), 5)],
    ),
    (
        "unknown_device_is_absent",
        "front",
        MONDAY_10,
        AgentsView(devices=MappingProxyType({"PJSIP/1002": DeviceState.NOT_INUSE})),
        [(("PJSIP/1002",), 20)],
    ),
]


@pytest.mark.parametrize(
    ("service", "when", "agents", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in SERVICE_CASES],
)
def test_service_decision(service, when, agents, expected):
    decision = service_decision(R, service, at(when), agents, FACTS)
    if isinstance(expected, OverflowReason):
        assert isinstance(decision, Overflow), decision
        assert decision.reason is expected
        assert decision.target == R.services[service].overflow[expected]
        assert expected.value in decision.why
    else:
        assert isinstance(decision, Ring), decision
        plan = decision.plan
        assert [(s.endpoints, s.seconds) for s in plan.steps] == expected
        assert plan.timeout_s == sum(s for _, s in expected)
        assert plan.caller_id == f"[{R.services[service].tag}] 0612345678"


def test_plan_says_who_is_skipped_and_why():
    agents = view({"PJSIP/1001": "INUSE"}, presence={("front", "PJSIP/1003"): Presence.PAUSED})
    decision = service_decision(R, "front", at(MONDAY_10), agents, FACTS)
    assert isinstance(decision, Ring)
    assert decision.plan.skipped == (("PJSIP/1001", "device INUSE"), ("PJSIP/1003", "paused"))
    assert decision.plan.strategy is Strategy.RING_ALL
    assert decision.plan.first_endpoint == "PJSIP/1002"


def test_hidden_number_is_tagged_too():
    decision = service_decision(R, "front", at(MONDAY_10), view(), CallFacts(None))
    assert isinstance(decision, Ring)
    assert decision.plan.caller_id == "[ACCUEIL] anonyme"


def test_caller_number_and_name_from_the_network_are_cut_in_the_caller_id():
    facts = CallFacts("06" * 100, "N" * 500)
    rules = dataclasses.replace(R, caller_id_format="[{tag}] {name} {number}")
    decision = service_decision(rules, "front", at(MONDAY_10), view(), facts)
    assert isinstance(decision, Ring)
    assert decision.plan.caller_id == f"[ACCUEIL] {'N' * 32} {'06' * 16}"


def test_unknown_service_is_a_clear_error():
    with pytest.raises(UnknownTarget, match="'nowhere'"):
        service_decision(R, "nowhere", at(MONDAY_10), view(), FACTS)


# --- chains --------------------------------------------------------------------------------------

NOBODY_SOCIAL = {("social", a): Presence.SIGNED_OUT for a in R.services["social"].agents}
FRONT_BUSY = {a: "INUSE" for a in R.services["front"].agents}

CHAIN_CASES = [
    # id, start, local time, agents, [(service, reason)...], final
    ("rings_directly", "social", MONDAY_10, view(), [], Ring),
    (
        "nobody_then_front_rings",
        "social",
        MONDAY_10,
        view(presence=NOBODY_SOCIAL),
        [("social", OverflowReason.NOBODY)],
        Ring,
    ),
    (
        "nobody_then_front_busy_then_callback",
        "social",
        MONDAY_10,
        view(FRONT_BUSY, presence=NOBODY_SOCIAL),
        [("social", OverflowReason.NOBODY), ("front", OverflowReason.BUSY)],
        TakeCallback,
    ),
    (
        "closed_ends_on_message",
        "social",
        "2026-03-02T20:00",
        view(),
        [("social", OverflowReason.CLOSED)],
        PlayMessage,
    ),
    (
        "two_hops_family_social_front",
        "family",
        MONDAY_10,
        view(
            {a: "UNAVAILABLE" for a in R.services["family"].agents},
            presence=NOBODY_SOCIAL,
        ),
        [("family", OverflowReason.NOBODY), ("social", OverflowReason.NOBODY)],
        Ring,
    ),
]


@pytest.mark.parametrize(
    ("start", "when", "agents", "hops", "final"),
    [pytest.param(*case[1:], id=case[0]) for case in CHAIN_CASES],
)
def test_route_service_follows_the_chain(start, when, agents, hops, final):
    routed = route_service(R, start, at(when), agents, FACTS)
    assert [(h.service_id, h.reason) for h in routed.hops] == hops
    assert isinstance(routed.final, final)
    assert len(routed.why) == len(hops) + 1


def test_closed_service_announces_its_hours_first():
    routed = route_service(R, "social", at("2026-03-02T20:00"), view(), FACTS)
    assert routed.announcements == ("hours",)
    assert routed.final == PlayMessage("night")
    assert route_service(R, "social", at(MONDAY_10), view(), FACTS).announcements == ()


# --- after ringing -------------------------------------------------------------------------------

CAUSE_CASES = [
    # Q.850 cause of a ringing leg's hang-up -> how the leg ended
    (17, LegOutcome.BUSY),  # user busy (SIP 486)
    (18, LegOutcome.NO_ANSWER),  # no user responding
    (19, LegOutcome.NO_ANSWER),  # no answer (480: Asterisk's dial timeout)
    (16, LegOutcome.NO_ANSWER),  # normal clearing while it rang
    (21, LegOutcome.DECLINED),  # call rejected (603)
    (1, LegOutcome.UNREACHABLE),  # unallocated number
    (3, LegOutcome.UNREACHABLE),  # no route to destination
    (20, LegOutcome.UNREACHABLE),  # subscriber absent
    (27, LegOutcome.UNREACHABLE),  # destination out of order
    (34, LegOutcome.UNREACHABLE),  # no circuit available
    (38, LegOutcome.UNREACHABLE),  # network out of order
    (41, LegOutcome.FAILED),  # temporary failure: not a fact about the agent
    (127, LegOutcome.FAILED),  # interworking, unspecified
    (None, LegOutcome.FAILED),  # no cause given
]


@pytest.mark.parametrize(("cause", "outcome"), CAUSE_CASES)
def test_leg_outcome_of_cause(cause, outcome):
    assert leg_outcome_of_cause(cause) is outcome


NEVER_RANG_CASES = [
    # The phone never sent 180: a "no answer" cause means nobody could be reached.
    (18, LegOutcome.UNREACHABLE),  # SIP timer B (408), or Asterisk's dial timeout before 180
    (19, LegOutcome.UNREACHABLE),
    (16, LegOutcome.UNREACHABLE),  # hung up before it rang
    (17, LegOutcome.BUSY),  # busy needs no ringing
    (21, LegOutcome.DECLINED),
    (27, LegOutcome.UNREACHABLE),
    (None, LegOutcome.FAILED),
]


@pytest.mark.parametrize(("cause", "outcome"), NEVER_RANG_CASES)
def test_leg_outcome_of_a_phone_that_never_rang(cause, outcome):
    assert leg_outcome_of_cause(cause, rang=False) is outcome


def legs(*outcomes: str) -> list[RungLeg]:
    return [RungLeg(f"PJSIP/10{i:02d}", LegOutcome(o)) for i, o in enumerate(outcomes, 1)]


REASON_CASES = [
    # how each leg rung ended -> why nobody answered
    ("rang", legs("no_answer"), OverflowReason.NO_ANSWER),
    ("declined_counts_as_rung", legs("declined", "busy"), OverflowReason.NO_ANSWER),
    ("one_rang_among_busy", legs("busy", "no_answer", "unreachable"), OverflowReason.NO_ANSWER),
    ("all_busy", legs("busy", "busy"), OverflowReason.BUSY),
    ("busy_and_unreachable", legs("unreachable", "busy"), OverflowReason.BUSY),
    ("all_unreachable", legs("unreachable", "unreachable"), OverflowReason.NOBODY),
    ("failed_dial", legs("failed"), OverflowReason.NOBODY),
    ("no_leg_at_all", [], OverflowReason.NOBODY),
]


@pytest.mark.parametrize(
    ("rung", "reason"), [pytest.param(*case[1:], id=case[0]) for case in REASON_CASES]
)
def test_unanswered_reason(rung, reason):
    assert unanswered_reason(rung) is reason


SOCIAL_RUNG = [RungLeg(a, LegOutcome.NO_ANSWER) for a in R.services["social"].agents]
SOCIAL_BUSY = [RungLeg(a, LegOutcome.BUSY) for a in R.services["social"].agents]
SOCIAL_GONE = [RungLeg(a, LegOutcome.UNREACHABLE) for a in R.services["social"].agents]
FAMILY_BUSY = [RungLeg(a, LegOutcome.BUSY) for a in R.services["family"].agents]

AFTER_RINGING_CASES = [
    # id, service rung, its legs, agents after, [(service, reason)...], final, first hop says
    (
        "no_answer_then_next_service_rings",
        "social",
        SOCIAL_RUNG,
        view(),
        [("social", OverflowReason.NO_ANSWER)],
        Ring,
        "no answer within 25 s",
    ),
    (
        "busy_then_next_service_rings",
        "social",
        SOCIAL_BUSY,
        view(),
        [("social", OverflowReason.BUSY)],
        Ring,
        "PJSIP/1101 busy, PJSIP/1102 busy, PJSIP/1103 busy",
    ),
    (
        "unreachable_then_next_service_rings",
        "social",
        SOCIAL_GONE,
        view(),
        [("social", OverflowReason.NOBODY)],
        Ring,
        "PJSIP/1101 unreachable",
    ),
    (
        "busy_then_next_service_busy_too_then_callback",
        "social",
        SOCIAL_BUSY,
        view(FRONT_BUSY),
        [("social", OverflowReason.BUSY), ("front", OverflowReason.BUSY)],
        TakeCallback,
        "busy",
    ),
    (
        "no_answer_at_the_end_of_the_chain",
        "front",
        [RungLeg("PJSIP/1001", LegOutcome.DECLINED)],
        view(),
        [("front", OverflowReason.NO_ANSWER)],
        TakeCallback,
        "no answer within 20 s",
    ),
    (
        "otherwise_target_for_busy",
        "family",
        FAMILY_BUSY,
        view(),
        [("family", OverflowReason.BUSY)],
        Ring,
        "busy",
    ),
    (
        "one_phone_rung_twice_in_turn_is_told_once",
        "social",
        [RungLeg("PJSIP/1101", LegOutcome.BUSY)] * 3,
        view(),
        [("social", OverflowReason.BUSY)],
        Ring,
        "(busy: PJSIP/1101 busy) ->",
    ),
]


@pytest.mark.parametrize(
    ("service", "rung", "agents", "hops", "final", "says"),
    [pytest.param(*case[1:], id=case[0]) for case in AFTER_RINGING_CASES],
)
def test_after_ringing(service, rung, agents, hops, final, says):
    routed = after_ringing(R, service, rung, at(MONDAY_10), agents, FACTS)
    assert [(h.service_id, h.reason) for h in routed.hops] == hops
    assert isinstance(routed.final, final)
    assert says in routed.why[0]
    first = routed.hops[0]
    assert first.target == R.services[service].overflow[first.reason]


def test_after_ringing_in_vain_the_next_service_rings_its_own_plan():
    routed = after_ringing(R, "social", SOCIAL_RUNG, at(MONDAY_10), view(), FACTS)
    assert isinstance(routed.final, Ring)
    assert routed.final.plan.service_id == "front"
    assert routed.hops[0].entry_outcome is EntryOutcome.OVERFLOW_TIMEOUT


def test_after_ringing_at_the_end_of_the_chain_asks_for_a_number():
    routed = after_ringing(R, "front", legs("no_answer"), at(MONDAY_10), view(), FACTS)
    assert isinstance(routed.final, TakeCallback)
    assert routed.final.number_prompt == "cb_num"


@pytest.mark.parametrize(
    ("reason", "outcome"),
    [
        (OverflowReason.NO_ANSWER, EntryOutcome.OVERFLOW_TIMEOUT),
        (OverflowReason.BUSY, EntryOutcome.OVERFLOW_BUSY),
        (OverflowReason.NOBODY, EntryOutcome.OVERFLOW_NOBODY),
        (OverflowReason.CLOSED, EntryOutcome.OVERFLOW_CLOSED),
    ],
)
def test_an_overflow_leaves_the_service_with_its_entry_outcome(reason, outcome):
    hop = Overflow("front", reason, PlayMessage("closed"))
    assert hop.entry_outcome is outcome
    assert outcome.is_overflow


# --- callbacks owed ------------------------------------------------------------------------------

OWED_CASES = [
    # how the call left its last service, number known?, callback requested? -> owed
    # (rules without callback_after_cut)
    (EntryOutcome.ABANDONED, True, False, "abandoned"),
    (EntryOutcome.OVERFLOW_TIMEOUT, True, False, "overflowed"),
    (EntryOutcome.OVERFLOW_BUSY, True, False, "overflowed"),
    (EntryOutcome.OVERFLOW_NOBODY, True, False, "overflowed"),
    (EntryOutcome.OVERFLOW_CLOSED, True, False, "overflowed"),
    (EntryOutcome.MESSAGE, True, False, "overflowed"),
    (EntryOutcome.ANSWERED, True, False, None),
    (EntryOutcome.CALLBACK, True, False, None),
    (EntryOutcome.TRANSFERRED, True, False, None),
    (EntryOutcome.INTERRUPTED, True, False, None),
    (EntryOutcome.ABANDONED, False, False, None),  # number withheld: nobody to call back
    (EntryOutcome.OVERFLOW_BUSY, True, True, None),  # the caller already left a request
    (None, True, False, None),  # hung up in the voice menu: no service owes anything
    (EntryOutcome.CUT, True, False, None),  # the PBX cut the wait: the caller did not give up
]


@pytest.mark.parametrize(("left", "has_number", "requested", "owed"), OWED_CASES)
def test_owed_callback(left, has_number, requested, owed):
    assert owed_callback(left, has_number=has_number, requested=requested) == owed


AFTER_CUT_CASES = [
    # rules with callback_after_cut: the callers cut while waiting are called back...
    (EntryOutcome.CUT, True, False, "cut"),
    # ...when their number is known and they left no request of their own
    (EntryOutcome.CUT, False, False, None),
    (EntryOutcome.CUT, True, True, None),
    # ...and nothing else changes
    (EntryOutcome.ABANDONED, True, False, "abandoned"),
    (EntryOutcome.OVERFLOW_BUSY, True, False, "overflowed"),
    (EntryOutcome.ANSWERED, True, False, None),  # cut while talking: the call was taken
    (EntryOutcome.INTERRUPTED, True, False, None),
    (None, True, False, None),  # cut in the voice menu: no service owes anything
]


@pytest.mark.parametrize(("left", "has_number", "requested", "owed"), AFTER_CUT_CASES)
def test_owed_callback_when_the_rules_call_back_cut_calls(left, has_number, requested, owed):
    assert owed_callback(left, has_number=has_number, requested=requested, after_cut=True) == owed


@pytest.mark.parametrize(
    ("service", "reason", "target"),
    [
        ("social", OverflowReason.BUSY, ToService("front")),
        ("social", OverflowReason.CLOSED, PlayMessage("night")),  # otherwise
        ("front", OverflowReason.CLOSED, PlayMessage("closed")),
        ("family", OverflowReason.NO_ANSWER, ToService("social")),
    ],
)
def test_overflow_target(service, reason, target):
    assert overflow_target(R, service, reason) == target


# --- surveys -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "call_number", "survey"),
    [
        ("social", 7, "all_calls"),
        ("front", 0, "sampled"),
        ("front", 1, None),
        ("front", 3, "sampled"),
        ("youth", 4, None),
    ],
)
def test_survey_for(service, call_number, survey):
    found = survey_for(R, service, call_number)
    assert (found.id if found else None) == survey


def test_decisions_do_not_depend_on_the_offset_of_now():
    moment = at(MONDAY_10)
    other = moment.astimezone(ZoneInfo("America/New_York"))
    a = service_decision(R, "front", moment, view(), FACTS)
    b = service_decision(R, "front", other + timedelta(0), view(), FACTS)
    assert isinstance(a, Ring) and isinstance(b, Ring)
    assert a.plan == b.plan

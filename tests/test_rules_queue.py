"""A service's waiting queue in the rules (issue 16): its checks (FILE:LINE:COL), the pure
decisions as tables of cases (wait or ring or overflow, whose turn, leaving the queue), and
``decroche rules simulate``'s trace of it."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import pytest
from click.testing import CliRunner

from decroche.cli import main
from routing_rules.agents import AgentsView, DeviceState, Presence
from routing_rules.compiled import OverflowReason
from routing_rules.errors import RulesInvalid
from routing_rules.loader import validate_text
from routing_rules.outcomes import LegOutcome
from routing_rules.routing import (
    CallFacts,
    Overflow,
    Queued,
    Ring,
    RungLeg,
    Wait,
    after_ringing,
    left_queue,
    position_prompts,
    queue_round,
    route_service,
    service_decision,
)

PROMPTS = {"invalid", "bye", "wait", "again", "file_prochain", "file_position", "cb", "thanks"}

RULES = textwrap.dedent(
    """\
    settings:
      invalid_prompt: invalid
    services:
      social:
        name: CCAS
        tag: CCAS
        agents: [PJSIP/1101, PJSIP/1102, PJSIP/1103]
        strategy: in_order
        rings: 4
        queue:
          max_wait_s: 60
          prompt: wait
          repeat_prompt: again
          announce_every_s: 20
          position: true
        overflow:
          busy: {service: front}
          otherwise: {message: bye}
      front:
        name: Accueil
        tag: ACCUEIL
        agents: [PJSIP/1001]
        rings: 4
        overflow:
          otherwise: {callback: cb, number: presented, thanks_prompt: thanks}
    entry:
      - service: social
    """
)

R = validate_text(RULES, "rules.yaml", PROMPTS)
FACTS = CallFacts(caller_number="0612345678")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
A, B, C = "PJSIP/1101", "PJSIP/1102", "PJSIP/1103"


def view(
    devices: dict[str, str] | None = None,
    *,
    absent: tuple[str, ...] = (),
    queued: int = 0,
) -> AgentsView:
    states = dict.fromkeys((A, B, C, "PJSIP/1001"), DeviceState.NOT_INUSE)
    states.update({k: DeviceState(v) for k, v in (devices or {}).items()})
    return AgentsView(
        devices=MappingProxyType(states),
        presence=MappingProxyType({("social", e): Presence.SIGNED_OUT for e in absent}),
        queued=MappingProxyType({"social": queued} if queued else {}),
    )


ALL_BUSY = {A: "INUSE", B: "INUSE", C: "RINGING"}

# --- checks --------------------------------------------------------------------------------------


def problems_of(text: str, prompts: set[str] = PROMPTS) -> list[str]:
    with pytest.raises(RulesInvalid) as caught:
        validate_text(text, "rules.yaml", prompts)
    return [str(p) for p in caught.value.problems]


CHECK_CASES = [
    pytest.param(
        ("max_wait_s: 60", "max_wait_s: 0"),
        PROMPTS,
        "rules.yaml:11:19: services.social.queue.max_wait_s : doit être supérieur à 0 (écrit : 0)",
        id="no-wait",
    ),
    pytest.param(
        ("max_wait_s: 60", "max_wait_s: soixante"),
        PROMPTS,
        "rules.yaml:11:19: services.social.queue.max_wait_s : nombre attendu (écrit : 'soixante')",
        id="not-a-number",
    ),
    pytest.param(
        ("prompt: wait", "prompt: patientez"),
        PROMPTS,
        "rules.yaml:12:15: message vocal inconnu 'patientez' (absent du catalogue des messages)",
        id="unknown-prompt",
    ),
    pytest.param(
        ("announce_every_s: 20", "announce_every_s: 90"),
        PROMPTS,
        "rules.yaml:14:25: announce_every_s (90 s) dépasse max_wait_s (60 s) : l'annonce ne"
        " serait jamais répétée",
        id="announce-after-the-end",
    ),
    pytest.param(
        ("      announce_every_s: 20\n", ""),
        PROMPTS,
        "rules.yaml:13:22: repeat_prompt sans announce_every_s ne sera jamais joué (l'annonce"
        " n'est faite qu'une fois)",
        id="repeat-never-said",
    ),
    pytest.param(
        ("position: true", "position: true"),
        PROMPTS - {"file_position"},
        "rules.yaml:15:17: position: true demande le message vocal 'file_position', absent du"
        " catalogue des messages",
        id="position-prompt-missing",
    ),
    pytest.param(
        ("position: true", "position: true\n      colour: blue"),
        PROMPTS,
        "rules.yaml:16:7: services.social.queue : clé inconnue 'colour' (faute de frappe ?)",
        id="unknown-key",
    ),
    pytest.param(
        ("position: true", "position: true\n      music: 'la musique'"),
        PROMPTS,
        "rules.yaml:16:14: services.social.queue.music : il faut une classe de musique d’attente",
        id="bad-music-class",
    ),
]


@pytest.mark.parametrize(("edit", "prompts", "expected"), CHECK_CASES)
def test_a_bad_queue_is_named_at_its_place(
    edit: tuple[str, str], prompts: set[str], expected: str
) -> None:
    before, after = edit
    assert before in RULES
    found = problems_of(RULES.replace(before, after, 1), prompts)
    assert any(p.startswith(expected) for p in found), found


def test_the_queue_compiles_with_its_defaults() -> None:
    queue = R.services["social"].queue
    assert queue is not None
    assert (queue.max_wait_s, queue.prompt, queue.repeat_prompt) == (60, "wait", "again")
    assert queue.music == "default" and queue.position
    assert R.services["front"].queue is None
    ring_tone = validate_text(RULES.replace("position: true", "music: ring"), "r.yaml", PROMPTS)
    assert ring_tone.services["social"].queue.music is None  # type: ignore[union-attr]


# --- a caller arriving ---------------------------------------------------------------------------

# (id, agents, expected: "ring <endpoints>", "wait <position>" or "overflow <reason> -> <target>")
ARRIVAL_CASES = [
    ("a_free_agent_rings", view({A: "INUSE"}), "ring PJSIP/1102"),
    ("all_busy_waits_first", view(ALL_BUSY), "wait 1"),
    ("busy_and_absent_waits", view({A: "INUSE"}, absent=(B, C)), "wait 1"),
    ("callers_ahead_wait_first_even_with_a_free_agent", view(queued=2), "wait 3"),
    ("nobody_present_does_not_wait", view(absent=(A, B, C)), "overflow nobody"),
    (
        "unreachable_phones_do_not_wait",
        view(dict.fromkeys((A, B, C), "UNAVAILABLE")),
        "overflow nobody",
    ),
]


def _said(decision: Ring | Wait | Overflow) -> str:
    if isinstance(decision, Ring):
        return "ring " + " ".join(decision.plan.steps[0].endpoints)
    if isinstance(decision, Wait):
        return f"wait {decision.position}"
    return f"overflow {decision.reason.value}"


@pytest.mark.parametrize(
    ("agents", "expected"),
    [pytest.param(v, e, id=i) for i, v, e in ARRIVAL_CASES],
)
def test_a_caller_arriving(agents: AgentsView, expected: str) -> None:
    decision = service_decision(R, "social", NOW, agents, FACTS)
    # An unreachable phone counts as an absent agent: nobody would come to take the call.
    assert _said(decision) == expected


def test_a_wait_says_how_long_and_what_next() -> None:
    wait = service_decision(R, "social", NOW, view(ALL_BUSY), FACTS)
    assert isinstance(wait, Wait)
    assert wait.remaining_s == 60 and wait.then.describe() == "service front"
    assert "waits in the queue (position 1, 60 s at most, then busy -> service front)" in wait.why
    # A chain reaching a service with a queue stops there: the caller waits.
    routed = route_service(R, "social", NOW, view(ALL_BUSY), FACTS)
    assert routed.hops == () and isinstance(routed.final, Wait)


# --- whose turn ----------------------------------------------------------------------------------


def queued(*names: str) -> list[Queued]:
    """Callers who joined a second apart, in this order."""
    return [Queued(n, NOW + timedelta(seconds=i), R, FACTS) for i, n in enumerate(names)]


# (id, agents now, callers in the order they joined (shuffled when given), expected turns)
ROUND_CASES = [
    ("nobody_free_nobody_moves", view(ALL_BUSY), ["x", "y"], []),
    (
        "one_free_the_longest_waiting_rings_it",
        view({A: "INUSE", C: "INUSE"}),
        ["x", "y"],
        [("x", "ring PJSIP/1102")],
    ),
    (
        "two_free_each_in_turn",
        view({A: "INUSE"}),
        ["x", "y", "z"],
        [("x", "ring PJSIP/1102"), ("y", "ring PJSIP/1103")],
    ),
    (
        "order_is_by_time_joined_not_by_list",
        view({A: "INUSE", C: "INUSE"}),
        ["y", "x"],
        [("y", "ring PJSIP/1102")],
    ),
    (
        "nobody_present_every_caller_leaves",
        view(absent=(A, B, C)),
        ["x", "y"],
        [("x", "overflow nobody"), ("y", "overflow nobody")],
    ),
]


@pytest.mark.parametrize(
    ("agents", "names", "expected"),
    [pytest.param(v, n, e, id=i) for i, v, n, e in ROUND_CASES],
)
def test_whose_turn(agents: AgentsView, names: list[str], expected: list[tuple[str, str]]) -> None:
    turns = queue_round("social", queued(*names), NOW, agents)
    assert [(t.call_id, _said(t.decision)) for t in turns] == expected
    for turn in turns:
        assert turn.why.startswith(("its turn in the queue", "leaves the queue"))


def test_a_turn_rings_in_the_services_strategy() -> None:
    # in_order over the free agents, wrapping until the rings run out, as for any caller.
    (turn,) = queue_round("social", queued("x"), NOW, view({A: "INUSE"}))
    assert isinstance(turn.decision, Ring)
    assert [s.endpoints for s in turn.decision.plan.steps] == [(B,), (C,)]


# --- leaving the queue ---------------------------------------------------------------------------

# (id, agents when the maximum wait ran out, expected reason, the hop's end)
LEAVE_CASES = [
    ("busy_then_the_next_service_rings", view(ALL_BUSY), OverflowReason.BUSY, Ring),
    ("nobody_left", view(absent=(A, B, C)), OverflowReason.NOBODY, object),
]


@pytest.mark.parametrize(
    ("agents", "reason", "final"),
    [pytest.param(v, r, f, id=i) for i, v, r, f in LEAVE_CASES],
)
def test_the_maximum_wait_runs_out(agents: AgentsView, reason: OverflowReason, final: type) -> None:
    routed = left_queue(R, "social", 60.0, NOW, agents, FACTS)
    (hop,) = routed.hops
    assert hop.reason is reason and hop.queued_s == 60.0
    assert "after 60 s in the queue" in hop.why
    assert isinstance(routed.final, final)


# (id, legs, already waited in the queue, expected)
AFTER_RINGING_CASES = [
    # An agent took another call while its phone was about to ring: back in the queue, ahead.
    ("busy_back_in_the_queue", [LegOutcome.BUSY], 12.0, "wait 1 48"),
    ("busy_first_ringing_waits_behind", [LegOutcome.BUSY], None, "wait 1 60"),
    ("busy_no_time_left_overflows", [LegOutcome.BUSY], 60.0, "overflow busy"),
    # No answer is no queue's business: the service's no_answer overflow, as before.
    ("no_answer_overflows", [LegOutcome.NO_ANSWER], 12.0, "overflow no_answer"),
    ("unreachable_overflows", [LegOutcome.UNREACHABLE], 12.0, "overflow nobody"),
]


@pytest.mark.parametrize(
    ("legs", "waited", "expected"),
    [pytest.param(legs, w, e, id=i) for i, legs, w, e in AFTER_RINGING_CASES],
)
def test_after_a_turns_ringing(legs: list[LegOutcome], waited: float | None, expected: str) -> None:
    rung = [RungLeg(B, outcome) for outcome in legs]
    routed = after_ringing(R, "social", rung, NOW, view(ALL_BUSY), FACTS, queued_s=waited)
    final = routed.final
    if isinstance(final, Wait):
        assert f"wait {final.position} {final.remaining_s:g}" == expected
    else:
        assert f"overflow {routed.hops[0].reason.value}" == expected


POSITION_CASES = [
    (1, ("file_prochain",)),
    (2, ("file_position", "number:2")),
    (12, ("file_position", "number:12")),
]


@pytest.mark.parametrize(("position", "prompts"), POSITION_CASES)
def test_a_position_is_said(position: int, prompts: tuple[str, ...]) -> None:
    assert position_prompts(position) == prompts


# --- decroche rules simulate ---------------------------------------------------------------------


def test_simulate_traces_the_queue_and_each_of_its_ends(tmp_path: Path) -> None:
    path = tmp_path / "regles.yaml"
    path.write_text(RULES, encoding="utf-8")
    catalogue = tmp_path / "fr.yaml"
    catalogue.write_text("".join(f"{p}: texte\n" for p in PROMPTS), encoding="utf-8")
    busy = "PJSIP/1101=INUSE,PJSIP/1102=INUSE,PJSIP/1103=INUSE,PJSIP/1001=INUSE"
    result = CliRunner().invoke(
        main,
        [
            "rules",
            "simulate",
            str(path),
            "--at",
            "2026-03-02T10:00",
            "--catalogue",
            str(catalogue),
            "--agents-state",
            busy,
        ],
    )
    assert result.exit_code == 0, result.output
    text = result.output
    assert "l'appelant attend dans la file (position 1, 60 s au plus, puis débordement" in text
    assert "il entend le message wait et sa position, puis toutes les 20 s (again)" in text
    assert "si l'appelant raccroche pendant l'attente : abandon, rappel dû" in text
    # The first busy agent freeing up rings in the service's strategy...
    assert "si PJSIP/1101 se libère :" in text
    # ... and if it turns out busy again, the caller is back in the queue (told once).
    assert "puis comme dans la file plus haut" in text
    assert "si l'attente maximale (60 s) est atteinte :" in text
    assert "service « CCAS » déborde (tous occupés : après 60 s d'attente dans la file" in text
    assert text.rstrip().endswith("puis raccroche")


def test_phones_found_busy_leave_the_other_free_agents_to_ring_at_once() -> None:
    # C was not reached in time (or freed meanwhile): it rings now, without the queue; B, who
    # just answered busy, is not rung again straight away.
    rung = [RungLeg(A, LegOutcome.BUSY), RungLeg(B, LegOutcome.BUSY)]
    agents = view({A: "INUSE"})
    routed = after_ringing(R, "social", rung, NOW, agents, FACTS)
    assert isinstance(routed.final, Ring)
    assert routed.final.plan.steps[0].endpoints == (C,)
    # With callers already waiting, the free agent is theirs: this caller waits behind them.
    routed = after_ringing(R, "social", rung, NOW, view({A: "INUSE"}, queued=1), FACTS)
    assert isinstance(routed.final, Wait) and routed.final.position == 2

"""``decroche rules simulate`` and ``schema`` on the Bernay rules: the trace a call would follow."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from decroche.cli import main
from routing_rules.loader import default_rules_path
from routing_rules.model import json_schema

BERNAY = str(default_rules_path())


def simulate(*args: str) -> list[str]:
    result = CliRunner().invoke(main, ["rules", "simulate", BERNAY, *args])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_christmas_eve_evening_ccas_is_closed():
    lines = simulate("--at", "2026-12-24T17:45", "--keys", "2", "1")
    text = "\n".join(lines)
    assert lines[0].startswith("call to (any number) on Thursday 2026-12-24 17:45 CET")
    assert "entry route #2 (any number) -> menu principal" in text
    assert "menu principal: key 2 -> menu droit_famille" in text
    assert "menu droit_famille: key 1 -> service ccas" in text
    assert "service ccas overflows (closed:" in text and "veille de Noël" in text
    assert "-> service accueil_general" in text
    assert "service accueil_general overflows (closed:" in text
    assert "plays horaires_espace_droit_famille" in text
    assert lines[-2].strip() == "ends: plays mairie_fermee, hangs up"
    # Left on a message after overflowing: the caller goes on the callback list.
    assert lines[-1].strip().startswith("callback owed (overflowed)")


def test_open_service_rings_and_says_what_next():
    lines = simulate(
        "--at",
        "2026-12-22T10:45",
        "--keys",
        "2",
        "1",
        "--agents-state",
        "PJSIP/1101=INUSE,PJSIP/1102=paused@ccas",
    )
    text = "\n".join(lines)
    assert "rings (ring_all, 25 s): PJSIP/1103 for 25 s" in text
    assert "caller id '[CCAS] 0612345678'" in text
    assert "not rung: PJSIP/1101 (device INUSE)" in text
    assert "not rung: PJSIP/1102 (paused)" in text
    assert "if nobody answers:" in text
    assert (
        "service ccas overflows (no_answer: no answer within 25 s) -> service accueil_general"
        in text
    )


def test_keys_as_repeated_options_and_silence_until_fallback():
    lines = simulate("--at", "2026-03-03T10:00")  # no key at all
    text = "\n".join(lines)
    assert text.count("menu principal: no key") == 3
    assert "fallback service accueil_general" in text
    assert "service accueil_general open" in text


def test_direct_line_and_everyone_busy_ends_on_callback():
    busy = ",".join(f"PJSIP/{n}=INUSE" for n in (1201, 1202, 1203, 1001, 1002, 1003, 1004))
    lines = simulate(
        "--at", "2026-03-03T10:00", "--number", "02 32 46 43 17", "--agents-state", busy
    )
    text = "\n".join(lines)
    assert "entry route #1 (number 0232464317) -> service police_municipale" in text
    assert "service police_municipale overflows (busy:" in text
    assert "service accueil_general overflows (busy:" in text
    assert lines[-1].strip().startswith("ends: callback request rappel_invitation")


def test_police_closed_on_sunday_gives_its_own_message():
    lines = simulate("--at", "2026-03-08T10:00", "--keys", "1")
    assert lines[-2].strip() == "ends: plays police_fermee, hangs up"


def indented(lines: list[str]) -> list[tuple[int, str]]:
    return [(len(line) - len(line.lstrip()), line.strip()) for line in lines]


def test_every_way_the_ringing_can_end_is_traced_to_its_end():
    lines = simulate("--at", "2026-03-03T10:00", "--number", "02 32 46 43 17")
    tree = indented(lines)
    police = [text for depth, text in tree if depth == 2]
    assert police[0].startswith("service police_municipale open")
    assert police[1:] == [
        "if answered: survey satisfaction (1 call in 5)",
        "if the caller hangs up while it rings: abandoned, callback owed (abandoned):"
        " the number goes to the callback list",
        "if nobody answers:",
        "if every phone rung is busy:",
        "if no phone rung can be reached:",
    ]
    text = "\n".join(lines)
    for says in (
        "service police_municipale overflows (no_answer: no answer within 30 s)",
        "service police_municipale overflows (busy: PJSIP/1201 busy, PJSIP/1202 busy,"
        " PJSIP/1203 busy) -> service accueil_general",
        "service police_municipale overflows (nobody: PJSIP/1201 unreachable,",
        "service accueil_general overflows (busy: PJSIP/1001 busy, PJSIP/1002 busy)"
        " -> callback request rappel_invitation",
        "service accueil_general overflows (nobody: PJSIP/1001 unreachable,",
    ):
        assert says in text, says
    # The nobody-answers path is told to its end once; the others, the same from their second
    # line on, refer to it.
    assert text.count("ends: callback request rappel_invitation") == 1
    assert text.count("then as if nobody answers") == 4


def test_one_ending_followed_alone():
    lines = simulate("--at", "2026-03-03T10:00", "--number", "02 32 46 43 17", "--ring-end", "busy")
    text = "\n".join(lines)
    assert "if nobody answers" not in text and "if no phone rung" not in text
    assert text.count("if every phone rung is busy:") == 2  # police, then the general desk
    assert lines[-1].strip().startswith("ends: callback request rappel_invitation")


def test_a_hidden_number_is_owed_no_callback():
    lines = simulate("--at", "2026-03-08T10:00", "--keys", "1", "--caller", "")
    assert lines[-1].strip() == "no callback: the number is withheld"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agents-state", "PJSIP/1001=SLEEPY"], "unknown state 'SLEEPY'"),
        (["--agents-state", "PJSIP/1001"], "expected ENDPOINT=STATE"),
        (["--agents-state", "PJSIP/1001=paused@mars"], "unknown service 'mars'"),
        (["--at", "Noël"], "« Noël » n'est pas une date et heure"),
        (["--keys", "x"], "not a DTMF key: 'x'"),
    ],
)
def test_bad_simulate_input_is_a_clear_error(args, message):
    result = CliRunner().invoke(
        main, ["rules", "simulate", BERNAY, "--at", "2026-03-03T10:00", *args]
    )
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_schema_command_prints_the_schema():
    result = CliRunner().invoke(main, ["rules", "schema"])
    assert result.exit_code == 0
    assert json.loads(result.output) == json_schema()

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


CCAS = "service « CCAS – centre communal d’action sociale »"
ACCUEIL = "service « Accueil général – état civil »"
POLICE = "service « Police municipale »"
CALLBACK = "demande de rappel rappel_invitation"
# The menus as the rules name them (a name saying « Menu » needs no « menu » before it).
MAIN = "Menu d’accueil"
DROIT = "menu « Espace du droit et de la famille »"


def test_christmas_eve_evening_ccas_is_closed():
    lines = simulate("--at", "2026-12-24T17:45", "--keys", "2", "1")
    text = "\n".join(lines)
    assert lines[0].startswith("appel vers (tout numéro) le jeudi 24 décembre 2026 à 17:45 (CET)")
    assert f"route d'entrée n° 2 (tout numéro) → {MAIN}" in text
    assert f"{MAIN} : touche 2 → {DROIT}" in text
    assert f"{DROIT} : touche 1 → {CCAS}" in text
    assert f"{CCAS} déborde (fermé : le jeudi" in text and "exception (veille de Noël)" in text
    assert f"→ {ACCUEIL}" in text
    assert f"{ACCUEIL} déborde (fermé :" in text
    assert "joue horaires_espace_droit_famille" in text
    assert lines[-2].strip() == "fin : joue mairie_fermee, puis raccroche"
    # Left on a message after overflowing: the caller goes on the callback list.
    assert lines[-1].strip().startswith("rappel dû (appel débordé)")


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
    assert "fait sonner (tous ensemble, 25 s en tout) : PJSIP/1103 pendant 25 s" in text
    assert "les postes affichent « [CCAS] 0612345678 »" in text
    assert "ne sonne pas : PJSIP/1101, en communication (INUSE)" in text
    assert "ne sonne pas : PJSIP/1102, en pause" in text
    assert "si personne ne répond :" in text
    assert f"{CCAS} déborde (sans réponse : personne n'a répondu en 25 s) → {ACCUEIL}" in text


def test_keys_as_repeated_options_and_silence_until_fallback():
    lines = simulate("--at", "2026-03-03T10:00")  # no key at all
    text = "\n".join(lines)
    assert text.count(f"{MAIN} : aucune touche") == 3
    assert f"{MAIN} : aucune touche (essai 2 sur 2) → joue pas_de_saisie" in text
    assert f"repli vers {ACCUEIL}" in text
    assert f"{ACCUEIL} ouvert le mardi 3 mars 2026" in text


def test_invalid_and_repeat_keys_are_told():
    text = "\n".join(simulate("--at", "2026-03-03T10:00", "--keys", "9 * 0"))
    assert f"{MAIN} : touche 9 invalide (essai 1 sur 2) → joue touche_invalide" in text
    assert f"{MAIN} : touche * (répéter) → joue menu_principal" in text
    assert f"{MAIN} : touche 0 → {ACCUEIL}" in text


def test_direct_line_and_everyone_busy_ends_on_callback():
    busy = ",".join(f"PJSIP/{n}=INUSE" for n in (1201, 1202, 1203, 1001, 1002, 1003, 1004))
    lines = simulate(
        "--at", "2026-03-03T10:00", "--number", "02 32 46 43 17", "--agents-state", busy
    )
    text = "\n".join(lines)
    assert f"route d'entrée n° 1 (numéro 0232464317) → {POLICE}" in text
    assert f"{POLICE} déborde (tous occupés :" in text
    assert f"{ACCUEIL} déborde (tous occupés :" in text
    assert lines[-1].strip().startswith(f"fin : {CALLBACK}")


def test_police_closed_on_sunday_gives_its_own_message():
    lines = simulate("--at", "2026-03-08T10:00", "--keys", "1")
    assert lines[-2].strip() == "fin : joue police_fermee, puis raccroche"
    assert "semaine type : fermé toute la journée" in lines[-3]


def indented(lines: list[str]) -> list[tuple[int, str]]:
    return [(len(line) - len(line.lstrip()), line.strip()) for line in lines]


def test_every_way_the_ringing_can_end_is_traced_to_its_end():
    lines = simulate("--at", "2026-03-03T10:00", "--number", "02 32 46 43 17")
    tree = indented(lines)
    police = [text for depth, text in tree if depth == 2]
    assert police[0].startswith(f"{POLICE} ouvert")
    assert police[1:] == [
        "si l'appel est décroché : enquête « satisfaction » (1 appel sur 5)",
        "si l'appelant raccroche pendant la sonnerie : abandon, rappel dû (appel abandonné) :"
        " le numéro va dans la liste des rappels",
        "si personne ne répond :",
        "si tous les postes sonnés sont occupés :",
        "si aucun poste sonné n'est joignable :",
    ]
    text = "\n".join(lines)
    for says in (
        f"{POLICE} déborde (sans réponse : personne n'a répondu en 30 s)",
        f"{POLICE} déborde (tous occupés : PJSIP/1201 occupé, PJSIP/1202 occupé,"
        f" PJSIP/1203 occupé) → {ACCUEIL}",
        f"{POLICE} déborde (personne de disponible : PJSIP/1201 injoignable,",
        f"{ACCUEIL} déborde (personne de disponible : PJSIP/1001 injoignable,",
        # The general desk's phones found busy: its other agents ring at once, then, those
        # busy too, the caller waits in its queue (90 s at most), then the callback request.
        "PJSIP/1003 pendant 15 s ; PJSIP/1004 pendant 15 s",
        f"{ACCUEIL} : tous les agents présents sont occupés (PJSIP/1003 occupé, PJSIP/1004"
        " occupé) → l'appelant attend dans la file (position 1, 90 s au plus",
        "si l'attente maximale (90 s) est atteinte :",
        f"{ACCUEIL} déborde (tous occupés : après 90 s d'attente dans la file ;",
    ):
        assert says in text, says
    # The nobody-answers path of each ringing is told to its end once; the others, the same
    # from their second line on, refer to it.
    assert text.count(f"fin : {CALLBACK}") == 4
    assert text.count("puis comme « si personne ne répond »") == 5


def test_one_ending_followed_alone():
    lines = simulate("--at", "2026-03-03T10:00", "--number", "02 32 46 43 17", "--ring-end", "busy")
    text = "\n".join(lines)
    assert "si personne ne répond" not in text and "si aucun poste" not in text
    # Police, the general desk's first phones, its others, the one freed in its queue.
    assert text.count("si tous les postes sonnés sont occupés :") == 4
    assert lines[-1].strip().startswith(f"fin : {CALLBACK}")


def test_a_hidden_number_is_owed_no_callback():
    lines = simulate("--at", "2026-03-08T10:00", "--keys", "1", "--caller", "")
    assert lines[-1].strip() == "pas de rappel : le numéro est masqué"


def test_the_trace_is_french_and_names_the_services():
    """What IT reads: no English word of the old trace, no service id where a name belongs."""
    text = "\n".join(
        simulate(
            "--at", "2026-12-22T10:45", "--keys", "2", "1", "--agents-state", "PJSIP/1101=INUSE"
        )
    )
    for english in ("service ccas", "accueil_general", "overflows", "rings", "ends:", "then as"):
        assert english not in text, english


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agents-state", "PJSIP/1001=SLEEPY"], "état « SLEEPY » inconnu"),
        (["--agents-state", "PJSIP/1001"], "attendu POSTE=ÉTAT"),
        (["--agents-state", "PJSIP/1001=paused@mars"], "service « mars » inconnu"),
        (["--at", "Noël"], "« Noël » n'est pas une date et heure"),
        (["--keys", "x"], "« x » n'est pas une touche du clavier"),
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

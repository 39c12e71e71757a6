"""Loading rules: every problem reported as FILE:LINE:COL naming the bad value."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from decroche.cli import main
from ivr_prompts.catalogue import load_catalogue
from routing_rules.errors import RulesInvalid
from routing_rules.loader import default_rules_path, load_rules, validate_text
from routing_rules.model import json_schema

PROMPTS = {"menu", "sub", "invalid", "closed", "cb", "cb_number", "cb_thanks", "hours_a"}

VALID = textwrap.dedent(
    """\
    settings:
      invalid_prompt: invalid
    schedules:
      office:
        weekly:
          mon: ["08:30-12:00", "13:30-17:30"]
    services:
      a:
        name: Service A
        tag: A
        agents: [PJSIP/1001, PJSIP/1002]
        rings: 4
        hours: office
        closed_prompt: hours_a
        overflow:
          otherwise: {service: b}
      b:
        name: Service B
        tag: B
        agents: [PJSIP/2001]
        rings: 3
        overflow:
          closed: {message: closed}
          otherwise: {callback: cb, number_prompt: cb_number, thanks_prompt: cb_thanks}
    menus:
      main:
        prompt: menu
        keys:
          "1": {service: a}
          "2": {menu: second}
        fallback: {service: b}
      second:
        prompt: sub
        keys:
          "1": {service: b}
        fallback: {menu: main}
    entry:
      - menu: main
    """
)


def problems_of(text: str) -> list[str]:
    with pytest.raises(RulesInvalid) as caught:
        validate_text(text, "rules.yaml", PROMPTS)
    return [str(p) for p in caught.value.problems]


def test_valid_rules_compile():
    rules = validate_text(VALID, "rules.yaml", PROMPTS)
    assert set(rules.services) == {"a", "b"}
    assert rules.services["a"].ring_s == 20.0
    assert rules.menus["main"].invalid_prompt == "invalid"
    assert len(rules.version) == 16


# The first menu of VALID: its name goes on the line after.
_MENU = "  main:\n"

# (replace this, by that) -> the exact problem expected
CASES = [
    pytest.param(
        ("    prompt: menu\n", "    prompt: menu\n    colour: red\n"),
        "rules.yaml:28:5: menus.main : clé inconnue 'colour' (faute de frappe ?)",
        id="unknown-key",
    ),
    pytest.param(
        ('"1": {service: a}', '"1": {service: nowhere}'),
        "rules.yaml:29:22: service inconnu 'nowhere'",
        id="unknown-service",
    ),
    pytest.param(
        ("prompt: sub", "prompt: nothing_like_it"),
        "rules.yaml:33:13: message vocal inconnu 'nothing_like_it' (absent du catalogue des"
        " messages)",
        id="unknown-prompt",
    ),
    pytest.param(
        ("    rings: 3\n", "    rings: 3\n    rings: 5\n"),
        "rules.yaml:22:5: services.b : la clé 'rings' figure deux fois (d'abord ligne 21)",
        id="duplicate-key",
    ),
    pytest.param(
        ('"08:30-12:00", "13:30-17:30"', '"08:30-12:00", "11:30-17:30"'),
        "rules.yaml:6:12: les plages 08:30-12:00 et 11:30-17:30 se chevauchent",
        id="overlapping-hours",
    ),
    pytest.param(
        ('"13:30-17:30"]', '"17:30-13:30"]'),
        "rules.yaml:6:28: horaire impossible : la plage '17:30-13:30' finit avant de commencer",
        id="impossible-hours",
    ),
    pytest.param(
        ('"13:30-17:30"]', '"13:30-25:00"]'),
        "rules.yaml:6:28: horaire impossible : plage '13:30-25:00' : '25:00' n'est pas une heure"
        " de la journée",
        id="impossible-time",
    ),
    pytest.param(
        ('"2": {menu: second}', '"2": {service: a}'),
        "rules.yaml:32:3: le menu 'second' n'est atteint par aucune route d'entrée",
        id="unreachable-menu",
    ),
    pytest.param(
        ("      closed: {message: closed}\n", "      busy: {service: a}\n"),
        "rules.yaml:23:13: débordement en boucle : a → b → a",
        id="overflow-loop",
    ),
    pytest.param(
        ("    rings: 4\n", "    rings: 4\n    strategy: random\n"),
        "rules.yaml:13:15: services.a.strategy : valeur attendue : 'ring_all', 'in_order',"
        " 'round_robin' ou 'longest_idle' (écrit : 'random')",
        id="bad-enum-value",
    ),
    pytest.param(
        ('"1": {service: b}', '"12": {service: b}'),
        "rules.yaml:35:7: menus.second.keys.12 : valeur attendue : '0', '1', '2', '3', '4', '5',"
        " '6', '7', '8', '9', '*' ou '#' (écrit : '12')",
        id="bad-dtmf-key",
    ),
    pytest.param(
        ('"1": {service: a}', '"1": {service: a, menu: second}'),
        "rules.yaml:29:12: menus.main.keys.1 : il faut une seule de ces clés : service, menu,"
        " message, callback",
        id="ambiguous-action",
    ),
    pytest.param(
        ("  - menu: main\n", "  - menu: main\n    service: a\n"),
        "rules.yaml:38:5: une route d'entrée demande soit menu, soit service (un des deux)",
        id="entry-two-targets",
    ),
    pytest.param(
        ("    hours: office\n", "    hours: weekend\n"),
        "rules.yaml:13:12: horaire inconnu 'weekend'",
        id="unknown-schedule",
    ),
    pytest.param(
        ("    tag: B\n", ""),
        "rules.yaml:18:5: services.b : clé 'tag' manquante",
        id="missing-key",
    ),
    pytest.param(
        ("  - menu: main\n", "  - numbers: ['0232']\n    menu: main\n"),
        "rules.yaml:38:3: aucune route pour les autres numéros : ajoutez en dernier une route"
        " sans numbers",
        id="no-catch-all",
    ),
    pytest.param(
        ("rings: 3", "rings: 0"),
        "rules.yaml:21:12: services.b.rings : doit être au moins 1 (écrit : 0)",
        id="out-of-range",
    ),
    pytest.param(
        ("agents: [PJSIP/2001]", "agents: [PJSIP/2001, PJSIP/2001]"),
        "rules.yaml:20:26: le poste PJSIP/2001 figure deux fois",
        id="agent-twice",
    ),
    pytest.param(
        ("otherwise: {callback: cb, number_prompt: cb_number,", "otherwise: {callback: cb,"),
        "rules.yaml:24:18: un rappel avec number: choose demande un number_prompt",
        id="callback-without-number-prompt",
    ),
    # A menu's name (read on pages and reports), checked as a service's is.
    pytest.param(
        (_MENU, _MENU + '    name: ""\n'),
        "rules.yaml:27:11: menus.main.name : ne peut pas être vide",
        id="menu-name-empty",
    ),
    pytest.param(
        (_MENU, _MENU + "    name:\n"),
        "rules.yaml:27:5: menus.main.name : ne peut pas être vide",
        id="menu-name-left-blank",
    ),
    pytest.param(
        (_MENU, _MENU + '    name: "   "\n'),
        "rules.yaml:27:11: menus.main.name : ne peut pas être vide",
        id="menu-name-spaces-only",
    ),
    pytest.param(
        (_MENU, _MENU + f"    name: {'Menu ' * 17}\n"),
        "rules.yaml:27:11: menus.main.name : 80 caractères au plus (écrit : 'Menu Menu Menu Menu"
        " Menu Menu Menu Menu Menu Menu Menu Menu Menu Menu Menu Menu Menu')",
        id="menu-name-too-long",
    ),
    pytest.param(
        (_MENU, _MENU + "    name: 12\n"),
        "rules.yaml:27:11: menus.main.name : texte attendu (écrit : 12 ; entre guillemets si c’est"
        " un texte)",
        id="menu-name-number",
    ),
    pytest.param(
        (_MENU, _MENU + "    name: [Accueil, Social]\n"),
        "rules.yaml:27:11: menus.main.name : texte attendu",
        id="menu-name-list",
    ),
    pytest.param(
        (_MENU, _MENU + '    name: "Menu\\nd’accueil"\n'),
        "rules.yaml:27:11: menus.main.name : il faut un texte sur une seule ligne, sans caractère"
        " de contrôle (écrit : 'Menu\\nd’accueil')",
        id="menu-name-two-lines",
    ),
    pytest.param(
        ("    name: Service B\n", "    name: ''\n"),
        "rules.yaml:18:11: services.b.name : ne peut pas être vide",
        id="service-name-empty",
    ),
    pytest.param(
        ("    name: Service B\n", f"    name: {'B' * 81}\n"),
        f"rules.yaml:18:11: services.b.name : 80 caractères au plus (écrit : '{'B' * 81}')",
        id="service-name-too-long",
    ),
]


def _format(text: str) -> tuple[str, str]:
    """The edit setting caller_id_format (line 3, its value at column 21)."""
    return (
        "  invalid_prompt: invalid\n",
        f"  invalid_prompt: invalid\n  caller_id_format: {text}\n",
    )


# A caller id format is filled for every routed call: it is checked completely at load.
CASES += [
    pytest.param(
        _format('"[{tag}] {number:d}"'),
        "rules.yaml:3:21: caller_id_format : {number:d} doit s'écrire {number}, sans conversion"
        " ni format",
        id="caller-id-format-spec",
    ),
    pytest.param(
        _format('"{tag:>99999999}"'),
        "rules.yaml:3:21: caller_id_format : {tag:>99999999} doit s'écrire {tag}, sans"
        " conversion ni format",
        id="caller-id-huge-width",
    ),
    pytest.param(
        _format('"{number!r}"'),
        "rules.yaml:3:21: caller_id_format : {number!r} doit s'écrire {number}, sans conversion"
        " ni format",
        id="caller-id-conversion",
    ),
    pytest.param(
        _format('"[{}] {number}"'),
        "rules.yaml:3:21: caller_id_format : champ {} inconnu (permis : {tag}, {number}, {name})",
        id="caller-id-positional",
    ),
    pytest.param(
        _format('"{tag.upper}"'),
        "rules.yaml:3:21: caller_id_format : champ {tag.upper} inconnu (permis : {tag},"
        " {number}, {name})",
        id="caller-id-attribute",
    ),
    pytest.param(
        _format('"[{tag] {number}"'),
        "rules.yaml:3:21: caller_id_format : accolade seule ou non fermée (pour afficher une"
        " accolade, doublez-la : {{ ou }})",
        id="caller-id-unclosed",
    ),
    pytest.param(
        _format(f'"{"x" * 69}{{tag}}{{number}}"'),
        "rules.yaml:3:21: caller_id_format : l'affichage peut atteindre 102 caractères (étiquette"
        " la plus longue, numéro et nom de l'appelant au plus long) : 100 au plus",
        id="caller-id-too-long",
    ),
]


def test_a_plain_caller_id_format_with_braces_shown_is_accepted():
    old, new = _format('"{{{tag}}} {name} {number}"')
    rules = validate_text(VALID.replace(old, new, 1), "rules.yaml", PROMPTS)
    assert rules.caller_id_format == "{{{tag}}} {name} {number}"


def test_a_menus_name_is_carried_into_the_rules():
    text = VALID.replace(_MENU, _MENU + "    name: '  Menu d’accueil (« standard »)  '\n", 1)
    rules = validate_text(text, "rules.yaml", PROMPTS)
    assert rules.menus["main"].name == "Menu d’accueil (« standard »)"  # trimmed, else as written
    assert rules.menus["second"].name is None  # no name: the readers make one from the id


@pytest.mark.parametrize(("edit", "expected"), CASES)
def test_each_problem_is_located_and_named(edit, expected):
    old, new = edit
    assert old in VALID
    assert problems_of(VALID.replace(old, new, 1)) == [expected]


def test_every_problem_is_reported_in_one_run():
    text = (
        VALID.replace('"1": {service: a}', '"1": {service: nowhere}')
        .replace("prompt: sub", "prompt: nothing_like_it")
        .replace("    rings: 3\n", "    rings: 3\n    rings: 5\n")
    )
    # The duplicate key is found while reading; the whole-file checks still run on the rest.
    assert problems_of(text) == [
        "rules.yaml:22:5: services.b : la clé 'rings' figure deux fois (d'abord ligne 21)",
        "rules.yaml:30:22: service inconnu 'nowhere'",
        "rules.yaml:34:13: message vocal inconnu 'nothing_like_it' (absent du catalogue des"
        " messages)",
    ]


def test_yaml_syntax_error_is_located():
    found = problems_of("settings:\n  invalid_prompt: [invalid\nservices: {}\n")
    assert len(found) == 1
    assert found[0].startswith("rules.yaml:3:")
    assert "syntaxe YAML" in found[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "rules.yaml:1:1: le fichier est vide"),
        (
            "- a\n- b\n",
            "rules.yaml:1:1: les règles doivent être une suite de sections (clé: valeur)",
        ),
    ],
)
def test_empty_or_not_a_mapping(text, expected):
    assert problems_of(text) == [expected]


def test_phone_numbers_and_dates_stay_text():
    text = VALID.replace(
        "  - menu: main\n",
        "  - numbers: [0232464300, +33232464301]\n    service: a\n  - menu: main\n",
    ).replace(
        '      mon: ["08:30-12:00", "13:30-17:30"]\n',
        '      mon: ["08:30-12:00", "13:30-17:30"]\n'
        "    exceptions:\n      - {date: 2026-12-24, slots: []}\n",
    )
    rules = validate_text(text, "rules.yaml", PROMPTS)
    assert rules.entry[0].numbers == frozenset({"0232464300", "0232464301"})
    assert len(rules.schedules["office"].exceptions) == 1


def test_duplicate_number_across_routes_is_refused():
    text = VALID.replace(
        "  - menu: main\n",
        "  - numbers: ['0232464300']\n    service: a\n  - numbers: ['+33 2 32 46 43 00']\n"
        "    service: b\n  - menu: main\n",
    )
    assert problems_of(text) == [
        "rules.yaml:40:15: le numéro +33 2 32 46 43 00 est déjà routé par l'élément 1"
    ]


def test_unreadable_file(tmp_path: Path):
    with pytest.raises(RulesInvalid) as caught:
        load_rules(tmp_path / "missing.yaml", PROMPTS)
    assert "fichier illisible : fichier introuvable" in str(caught.value)


def test_bernay_rules_are_valid_and_complete():
    rules = load_rules(default_rules_path(), load_catalogue())
    assert len(rules.services) == 13
    top = rules.menus["principal"]
    assert len(top.keys) <= 9
    assert top.keys["0"].describe() == "service accueil_general"
    for service in rules.services.values():
        assert 2 <= len(service.agents) <= 4, service.id
        assert all(a.startswith("PJSIP/1") for a in service.agents)


def test_schema_json_is_up_to_date():
    published = json.loads(default_rules_path().with_name("schema.json").read_text("utf-8"))
    assert published == json_schema(), "run: decroche rules schema --write"


def test_bernay_rules_satisfy_the_published_schema():
    data = YAML(typ="safe").load(default_rules_path().read_text("utf-8"))
    jsonschema.validate(data, json_schema())


def test_cli_check_ok_and_errors(tmp_path: Path):
    runner = CliRunner()
    ok = runner.invoke(main, ["rules", "check", str(default_rules_path())])
    assert ok.exit_code == 0, ok.output
    assert "règles valides (version" in ok.output and "13 services" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(VALID.replace("prompt: menu", "prompt: menu\n    colour: red"), "utf-8")
    catalogue = tmp_path / "fr.yaml"
    catalogue.write_text("\n".join(f"{p}: texte" for p in PROMPTS) + "\n", "utf-8")
    refused = runner.invoke(main, ["rules", "check", str(bad), "--catalogue", str(catalogue)])
    assert refused.exit_code == 1
    assert f"{bad}:28:5: menus.main : clé inconnue 'colour' (faute de frappe ?)" in refused.output
    assert f"{bad} : 1 erreur, règles refusées" in refused.output


def test_unknown_yaml_tag_is_a_located_problem():
    found = problems_of(VALID.replace("rings: 3", "rings: !weird 3"))
    assert len(found) == 1
    assert found[0].startswith("rules.yaml:21:12: services.b.rings:")
    assert "weird" in found[0]

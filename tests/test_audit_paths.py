"""What the audit calls and what it expects, from the rules alone (pure): the paths, the
moments of the coming year, what the menus announce."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime

import pytest

from audit.checks import announced_keys, judge_announcements, same_thing
from audit.expect import expect, variants
from audit.moments import moments, when_fr
from audit.paths import PathKind, audit_paths, select
from routing_rules.holder import RulesHolder
from routing_rules.loader import default_rules_path, validate_text
from routing_rules.routing import Reached, ReachedKind

BERNAY = RulesHolder(default_rules_path()).current
PROMPTS = {"menu", "sub", "invalid", "closed", "cb", "cb_num", "cb_thanks", "bye"}
RULES = textwrap.dedent(
    """\
    settings:
      invalid_prompt: invalid
    schedules:
      office:
        weekly:
          mon: ["08:30-12:00", "13:30-17:30"]
          sat: ["09:00-12:00"]
    services:
      a: {name: A, tag: A, agents: [PJSIP/1], rings: 4, hours: office, closed_prompt: closed,
          overflow: {closed: {message: bye}, otherwise: {service: b}}}
      b: {name: B, tag: B, agents: [PJSIP/2], rings: 4,
          overflow: {otherwise: {callback: cb, number: choose, number_prompt: cb_num,
                                 thanks_prompt: cb_thanks}}}
    menus:
      top:
        prompt: menu
        keys:
          "1": {service: a}
          "2": {menu: sub}
          "3": {message: bye}
        fallback: {service: b}
      sub:
        prompt: sub
        repeat_key: "#"
        keys:
          "1": {service: b}
          "9": {menu: top}
        fallback: {service: a}
    entry:
      - {numbers: ["0299000000", "+33 2 99 00 00 01"], service: b}
      - {menu: top}
    """
)
SMALL = validate_text(RULES, "regles.yaml", PROMPTS)


def test_every_key_an_unknown_key_and_no_key_in_every_menu() -> None:
    found = {p.id: (p.kind, p.keys, p.menus) for p in audit_paths(SMALL, "0299001122")}
    top, sub = ("top",), ("top", "sub")
    assert found == {
        "0299000000": (PathKind.DIRECT, (), ()),
        "0299000001": (PathKind.DIRECT, (), ()),
        "0299001122.1": (PathKind.KEY, ("1",), top),
        "0299001122.2.1": (PathKind.KEY, ("2", "1"), sub),
        "0299001122.2.9.1": (PathKind.BACK, ("2", "9", "1"), ("top", "sub", "top")),
        "0299001122.2.diese": (PathKind.REPEAT, ("2", "#"), sub),
        "0299001122.2.0": (PathKind.INVALID, ("2", "0"), sub),
        "0299001122.2": (PathKind.SILENCE, ("2",), sub),
        "0299001122.3": (PathKind.KEY, ("3",), top),
        "0299001122.etoile": (PathKind.REPEAT, ("*",), top),
        "0299001122.0": (PathKind.INVALID, ("0",), top),
        "0299001122": (PathKind.SILENCE, (), top),
    }


def test_the_main_number_is_one_no_listed_number_takes() -> None:
    assert {p.dialled for p in audit_paths(SMALL, "0299000000")} == {
        "0299000000",
        "0299000001",
        "standard",
    }


@pytest.mark.parametrize(
    ("path_id", "label"),
    [
        ("0232464317", "numéro 0232464317, sans menu"),
        ("standard.2.1", "numéro principal, touches 2, 1"),
        ("standard.2.9.0", "numéro principal, touches 2, 9 (retour), 0"),
        ("standard.2.4", "numéro principal, touches 2 puis touche inconnue 4"),
        ("standard", "numéro principal, aucune touche"),
        ("standard.etoile", "numéro principal, touche étoile (réécouter), puis aucune touche"),
    ],
)
def test_paths_are_said_in_french(path_id: str, label: str) -> None:
    (path,) = select(audit_paths(BERNAY), [path_id])
    assert path.label == label and path.main == path_id.startswith("standard")


def test_a_selection_by_beginning_and_unknown_ids_said() -> None:
    paths = audit_paths(BERNAY)
    assert [p.id for p in select(paths, ["standard.5*"])][:2] == ["standard.5.0", "standard.5.1"]
    assert [p.id for p in select(paths, ["standard.5"])] == ["standard.5"]  # no key in menu 5
    with pytest.raises(ValueError, match=r"standard\.42, nope"):
        select(paths, ["standard.42", "nope", "standard.1"])


MONDAY_10H = datetime(2026, 10, 12, 8, 0, tzinfo=UTC)
MONDAY_NOON = datetime(2026, 10, 12, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("path_id", "at", "reached", "prompts", "unanswered"),
    [
        ("0299001122.1", MONDAY_10H, "service a", ("menu",), ("service b", "callback cb")),
        ("0299001122.1", MONDAY_NOON, "message bye", ("menu", "closed", "bye"), ()),
        ("0299001122.3", MONDAY_10H, "message bye", ("menu", "bye"), ()),
        ("0299001122.2.0", MONDAY_10H, "service a", ("menu", "sub", "invalid", "sub", "sub"), None),
        ("0299000000", MONDAY_10H, "service b", (), ("callback cb",)),
    ],
)
def test_expectations_follow_the_routing_decisions(
    path_id: str,
    at: datetime,
    reached: str,
    prompts: tuple[str, ...],
    unanswered: tuple[str, ...] | None,
) -> None:
    (path,) = select(audit_paths(SMALL, "0299001122"), [path_id])
    expected = expect(SMALL, path, at)
    assert expected.reached == Reached.parse(reached)
    assert expected.prompts == prompts
    if unanswered is not None:
        assert tuple(r.value for r in expected.unanswered) == unanswered
    if expected.unanswered and expected.unanswered[-1].kind is ReachedKind.CALLBACK:
        assert {"cb", "cb_num", "cb_thanks"} <= expected.sounds


def test_the_year_is_cut_where_the_hours_change() -> None:
    year = moments(SMALL, date(2026, 10, 12), 365)
    mondays = [m for m in year if m.days[0] == date(2026, 10, 12)]
    assert [m.span_fr for m in mondays] == [
        "00:00–08:30",
        "08:30–12:00",
        "12:00–13:30",
        "13:30–17:30",
        "17:30–24:00",
    ]
    assert all(d.weekday() == 0 for d in mondays[0].days)
    holidays = [m for m in year if m.kinds]
    assert any("Noël" in k for m in holidays for k in m.kinds)
    (path,) = select(audit_paths(SMALL, "0299001122"), ["0299001122.1"])
    found = variants(SMALL, path, year)
    assert {v.expected.reached.value for v in found} == {"service a", "message bye"}
    opened = next(v for v in found if v.expected.reached.value == "service a")
    assert when_fr(opened.moments) == [
        "les lundis : 08:30–12:00, 13:30–17:30",
        "les samedis : 09:00–12:00",
    ]
    closed = next(v for v in found if v.expected.reached.value == "message bye")
    lines = when_fr(closed.moments)
    assert lines[:3] == [
        "les lundis : 00:00–08:30, 12:00–13:30, 17:30–24:00",
        "les mardis, mercredis, jeudis, vendredis et dimanches : toute la journée",
        "les samedis : 00:00–09:00, 12:00–24:00",
    ]
    assert lines[3].startswith("jours fériés (toute la journée) : Toussaint (01/11/2026), ")


def test_what_each_key_is_announced_for() -> None:
    said = announced_keys(
        "Espace du droit. Pour le CCAS, tapez 1. Tapez 2 pour le guichet famille. "
        "Pour réécouter ce message, tapez étoile. Pour revenir, appuyez sur dièse."
    )
    assert said == {
        "1": "le CCAS",
        "2": "le guichet famille",
        "*": "réécouter ce message",
        "#": "revenir",
    }
    assert same_thing("l’accueil général", "l’accueil général et l’état civil")
    assert same_thing("la résidence autonomie Lyliane-Carpentier", "la résidence autonomie")
    assert not same_thing("le CCAS", "le guichet famille")


def test_a_key_announced_but_unknown_to_the_rules_is_a_failure() -> None:
    texts = {"menu": "Pour A, tapez 1. Pour B, tapez 4.", "sub": "", "bye": ""}
    (path,) = select(audit_paths(SMALL, "0299001122"), ["0299001122.0"])
    assert judge_announcements(SMALL, path, texts, {}).ok  # 0 is announced nowhere
    texts["menu"] += " Pour la mairie, tapez 0."
    check = judge_announcements(SMALL, path, texts, {})
    assert not check.ok and "touche 0 pour « la mairie »" in check.detail


def test_a_finding_names_the_menu_as_the_rules_do() -> None:
    named = validate_text(
        RULES.replace("  top:\n", "  top:\n    name: Menu d’accueil\n").replace(
            "  sub:\n", "  sub:\n    name: Espace famille\n"
        ),
        "regles.yaml",
        PROMPTS,
    )
    texts = {
        "menu": "Pour A, tapez 1. Pour la police, tapez 2.",
        "sub": "Espace de la famille. Pour B, tapez 1.",
        "bye": "",
    }
    (path,) = select(audit_paths(named, "0299001122"), ["0299001122.2.1"])
    check = judge_announcements(named, path, texts, {})
    # The message to correct, the menu it is heard in, and the menu the key leads to.
    assert not check.ok
    assert check.detail == (
        "« menu » (Menu d’accueil) annonce la touche 2 pour « la police », elle mène à"
        " « Espace famille »"
    )
    # Without names, the findings say what they said.
    check = judge_announcements(SMALL, path, texts, {})
    assert check.detail == (
        "« menu » annonce la touche 2 pour « la police », elle mène à « Espace de la famille. »"
    )

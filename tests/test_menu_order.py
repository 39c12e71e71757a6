"""The voice menus in the order a caller meets them (the menus' table of pages and reports starts
where the caller starts), and a printed table's columns sized by what they hold."""

from __future__ import annotations

import tempfile
import textwrap
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from reports.tables import Column, DataTable
from routing_rules.compiled import CompiledRules
from routing_rules.loader import validate_text
from routing_rules.narration import MenuWords, keypad_order, menu_choices, menus_in_call_order

PROMPTS = {"p"}


def rules(menus: str, entry: str) -> CompiledRules:
    text = textwrap.dedent(
        """\
        settings:
          invalid_prompt: p
        services:
          a:
            name: Service A
            tag: A
            agents: [PJSIP/1]
            rings: 2
            overflow:
              otherwise: {message: p}
        menus:
        """
    )
    text += textwrap.indent(textwrap.dedent(menus), "  ")
    text += "entry:\n" + textwrap.indent(textwrap.dedent(entry), "  ")
    return validate_text(text, "menus.yaml", PROMPTS)


def menu(keys: dict[str, str], fallback: str = "{service: a}") -> str:
    lines = ["prompt: p", "keys:"]
    lines += [f'  "{key}": {target}' for key, target in (keys or {"1": "{service: a}"}).items()]
    lines.append(f"fallback: {fallback}")
    return "\n".join("  " + line for line in lines) + "\n"


CASES = [
    (
        "entry menu first, whatever the file's order and the ids' alphabet",
        "aa_social:\n" + menu({}) + "zz_accueil:\n" + menu({"1": "{menu: aa_social}"}),
        "- menu: zz_accueil\n",
        ["zz_accueil", "aa_social"],
    ),
    (
        "submenus key by key on the keypad: 0 before 2 before 5, * and # after 9",
        "m:\n"
        + menu({"#": "{menu: e}", "5": "{menu: b}", "2": "{menu: c}", "0": "{menu: d}"})
        + "b:\n"
        + menu({})
        + "c:\n"
        + menu({})
        + "d:\n"
        + menu({})
        + "e:\n"
        + menu({}),
        "- menu: m\n",
        ["m", "d", "c", "b", "e"],
    ),
    (
        "depth first: a submenu's own submenus before the next key's",
        "m:\n"
        + menu({"1": "{menu: s1}", "2": "{menu: s2}"})
        + "s1:\n"
        + menu({"1": "{menu: s11}"})
        + "s2:\n"
        + menu({})
        + "s11:\n"
        + menu({}),
        "- menu: m\n",
        ["m", "s1", "s11", "s2"],
    ),
    (
        "where a menu leads without a choice comes after its keys",
        "m:\n" + menu({"1": "{menu: k}"}, "{menu: f}") + "f:\n" + menu({}) + "k:\n" + menu({}),
        "- menu: m\n",
        ["m", "k", "f"],
    ),
    (
        "a key back to the first menu does not loop",
        "m:\n" + menu({"1": "{menu: s}"}) + "s:\n" + menu({"9": "{menu: m}"}),
        "- menu: m\n",
        ["m", "s"],
    ),
    (
        "each entry rule's menu in the file's order, not the menus' order",
        "night:\n" + menu({}) + "day:\n" + menu({"1": "{menu: night}"}) + "other:\n" + menu({}),
        "- numbers: ['0232000001']\n  menu: day\n- numbers: ['0232000002']\n  menu: other\n"
        "- menu: night\n",
        ["day", "night", "other"],
    ),
]


@pytest.mark.parametrize(
    ("menus", "entry", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_menus_in_the_order_a_caller_meets_them(
    menus: str, entry: str, expected: list[str]
) -> None:
    compiled = rules(menus, entry)
    assert menus_in_call_order(compiled) == expected
    assert list(menu_choices(compiled)) == expected


def test_keypad_order() -> None:
    assert sorted("#*9310", key=keypad_order) == list("0139*#")


def test_the_menus_table_follows_the_rules_order_then_old_menus_by_name() -> None:
    from decroche.testing import indicators_of
    from reports.detail_tables import detail_tables
    from reports.periods import Period
    from telephony.records.model import CallRecord, IvrEvent, IvrEventKind
    from telephony.records.testing import fill, sample_record, temporary_database

    start = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)

    def via(menu_id: str, key: str, n: int) -> list[CallRecord]:
        return [
            replace(
                sample_record(f"{menu_id}-{key}-{i}", start + timedelta(minutes=i)),
                ivr=[
                    IvrEvent(start + timedelta(minutes=i, seconds=1), menu_id, IvrEventKind.MENU),
                    IvrEvent(
                        start + timedelta(minutes=i, seconds=3), menu_id, IvrEventKind.KEY, key
                    ),
                ],
            )
            for i in range(n)
        ]

    calls = via("b_sub", "1", 2) + via("z_main", "2", 3) + via("old_menu", "4", 1)
    calls += via("a_gone", "1", 1)
    with tempfile.TemporaryDirectory() as tmp, temporary_database("sqlite", Path(tmp)) as db:
        fill(db, calls)
        table, _ = detail_tables(
            indicators_of(db),
            Period(date(2026, 10, 1), date(2026, 10, 1)),
            {"z_main": MenuWords("Menu d’accueil", {}), "b_sub": MenuWords("Social", {})},
        )
    assert table is not None
    assert [row[0] for row in table.rows] == [
        "Menu d’accueil",
        "Social",
        "menu a gone",
        "menu old menu",
    ]


def test_a_printed_tables_text_columns_are_wider_than_its_figures() -> None:
    table = DataTable(
        "t",
        "t",
        [Column("menu", "Menu"), Column("key", "Touche"), Column("n", "Choix", "count")],
    )
    assert table.widths() == [40.0, 40.0, 20.0]
    figures = DataTable(
        "w",
        "w",
        [
            Column("service", "Service"),
            Column("median", "Attente médiane", "seconds"),
            Column("p90", "Attente au 90e centile", "seconds"),
        ],
    )
    assert figures.widths() == [50.0, 25.0, 25.0]

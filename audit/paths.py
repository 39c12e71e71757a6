"""Every path of the rules in force, as an audit calls them (pure).

A path is a number dialled and the keys pressed, one per menu: each entry number × each key
sequence reaching a service, a message or a callback request, plus, in each menu, a key the
menu does not know and no key at all (the caller stays silent until the menu's fallback). A key
back to a menu already heard on the way (« 9 : retour au menu principal ») is followed by that
menu's first key, so the path still ends somewhere.

Path ids are stable from one run to the next (``standard.2.1``: the number, then the keys), so
a failure and the run that fixed it can be matched; they fit in the audit mark of a channel.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from routing_rules.compiled import CompiledRules, EntryRule, MenuRules, ToMenu, ToService

# Keys in the order a caller reads them on the keypad.
KEYPAD = "0123456789*#"
# How a key is written in a path id (ids are made of letters, digits, dots and dashes).
_TOKENS = {"*": "etoile", "#": "diese"}
_FALLBACK_NUMBERS = ("standard", "0000000000")


class PathKind(StrEnum):
    DIRECT = "direct"  # a number that reaches a service with no menu
    KEY = "key"  # keys reaching a service, a message or a callback request
    INVALID = "invalid"  # a key the menu does not know, then silence
    SILENCE = "silence"  # no key in a menu: its retries, then its fallback
    BACK = "back"  # a key back to a menu already heard, then that menu's first key
    REPEAT = "repeat"  # the menu's repeat key, then silence


@dataclass(frozen=True, slots=True)
class AuditPath:
    id: str
    dialled: str
    keys: tuple[str, ...]
    kind: PathKind
    entry: int  # the entry route's position in the rules (1-based)
    menus: tuple[str, ...]  # the menus the keys are pressed in, in order
    main: bool = False  # dialled as the town's number (the entry route for any number)

    @property
    def label(self) -> str:
        """The path in French, as the IT page and the report name it."""
        number = "numéro principal" if self.main else f"numéro {self.dialled}"
        if self.kind is PathKind.DIRECT:
            return f"{number}, sans menu"
        keys = [_said(k) for k in self.keys]
        if self.kind is PathKind.SILENCE:
            said = f"touches {', '.join(keys)} puis aucune touche" if keys else "aucune touche"
        elif self.kind is PathKind.INVALID:
            before = f"touches {', '.join(keys[:-1])} puis " if keys[:-1] else ""
            said = f"{before}touche inconnue {keys[-1]}"
        elif self.kind is PathKind.REPEAT:
            before = f"touches {', '.join(keys[:-1])} puis " if keys[:-1] else ""
            said = f"{before}touche {keys[-1]} (réécouter), puis aucune touche"
        elif self.kind is PathKind.BACK:
            keys[len(self.menus) - 2] += " (retour)"
            said = "touches " + ", ".join(keys)
        else:
            said = ("touche " if len(keys) == 1 else "touches ") + ", ".join(keys)
        return f"{number}, {said}"


def _said(key: str) -> str:
    return {"*": "étoile", "#": "dièse"}.get(key, key)


def path_id(dialled: str, keys: Sequence[str]) -> str:
    return ".".join([dialled, *(_TOKENS.get(k, k) for k in keys)])


def _ordered(keys: Sequence[str]) -> list[str]:
    return sorted(keys, key=lambda k: KEYPAD.index(k) if k in KEYPAD else len(KEYPAD))


def _numbers(rules: CompiledRules, rule: EntryRule, main_number: str) -> list[str]:
    """The numbers that reach ``rule`` (an earlier route listing a number takes it)."""
    earlier = {n for r in rules.entry[: rule.index - 1] if r.numbers for n in r.numbers}
    if rule.numbers is not None:
        return [n for n in sorted(rule.numbers) if n not in earlier]
    for number in (main_number, *_FALLBACK_NUMBERS):
        if number not in earlier:
            return [number]
    return []


def audit_paths(rules: CompiledRules, main_number: str = "standard") -> list[AuditPath]:
    """Every path of ``rules``, in the order of the entry routes and the keypad.

    ``main_number``: what is dialled for the entry route that takes any number (the town's
    number; "standard" is what the shipped dialplan gives decroche for a call without one).
    """
    paths: list[AuditPath] = []
    for rule in rules.entry:
        main = rule.numbers is None
        for number in _numbers(rules, rule, main_number):
            if isinstance(rule.target, ToService):
                direct = AuditPath(path_id(number, ()), number, (), PathKind.DIRECT, rule.index, ())
                paths.append(dataclasses.replace(direct, main=main))
                continue
            menu = rules.menus[rule.target.menu_id]
            for path in _walk(rules, menu, number, (), (), rule.index):
                paths.append(dataclasses.replace(path, main=main))
    return paths


def _walk(
    rules: CompiledRules,
    menu: MenuRules,
    number: str,
    keys: tuple[str, ...],
    menus: tuple[str, ...],
    entry: int,
) -> list[AuditPath]:
    heard = (*menus, menu.id)
    paths: list[AuditPath] = []

    def add(pressed: tuple[str, ...], kind: PathKind, in_menus: tuple[str, ...]) -> None:
        paths.append(AuditPath(path_id(number, pressed), number, pressed, kind, entry, in_menus))

    for key in _ordered(list(menu.keys)):
        target = menu.keys[key]
        if not isinstance(target, ToMenu):
            add((*keys, key), PathKind.KEY, heard)
        elif target.menu_id in heard:
            back = rules.menus[target.menu_id]
            first = next(
                (k for k in _ordered(list(back.keys)) if not isinstance(back.keys[k], ToMenu)),
                None,
            )
            pressed = (*keys, key) if first is None else (*keys, key, first)
            add(pressed, PathKind.BACK, (*heard, back.id) if first is not None else heard)
        else:
            paths += _walk(rules, rules.menus[target.menu_id], number, (*keys, key), heard, entry)
    if menu.repeat_key is not None:
        add((*keys, menu.repeat_key), PathKind.REPEAT, heard)
    unknown = next((k for k in KEYPAD if k not in menu.keys and k != menu.repeat_key), None)
    if unknown is not None:
        add((*keys, unknown), PathKind.INVALID, heard)
    add(keys, PathKind.SILENCE, heard)
    return paths


def select(paths: Sequence[AuditPath], wanted: Sequence[str]) -> list[AuditPath]:
    """The paths named in ``wanted`` (ids, or patterns: ``standard.2*`` is every path through
    key 2), in the order of ``paths``; ValueError naming what matches nothing."""
    unknown = [w for w in wanted if not any(_matches(p.id, w) for p in paths)]
    if unknown:
        raise ValueError(", ".join(unknown))
    return [p for p in paths if any(_matches(p.id, w) for w in wanted)]


def _matches(identifier: str, wanted: str) -> bool:
    return fnmatch.fnmatchcase(identifier, wanted) if "*" in wanted else identifier == wanted

"""Checks that need the whole file: references, hours, reachability, overflow loops.

Each check appends problems located at the offending value; none stops the others, so IT sees
every problem of a file in one run.
"""

from __future__ import annotations

import string
from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from routing_rules import model as m
from routing_rules.compiled import (
    CALLER_ID_MAX,
    CALLER_ID_NAME_MAX,
    CALLER_ID_NUMBER_MAX,
    POSITION_PROMPTS,
    normalise_number,
)
from routing_rules.errors import Problem
from routing_rules.hours import Span, format_span, overlaps, parse_slot

if TYPE_CHECKING:
    from routing_rules.loader import Locator, YamlPath


Action = m.ServiceTarget | m.MenuTarget | m.MessageTarget | m.CallbackTarget


class _Checker:
    def __init__(self, rules: m.RulesFile, locator: Locator, catalogue: frozenset[str]) -> None:
        self.rules = rules
        self.locator = locator
        self.catalogue = catalogue
        self.problems: list[Problem] = []

    def add(self, path: YamlPath, message: str, *, key: bool = False) -> None:
        self.problems.append(self.locator.problem(path, message, key=key))

    # --- references -----------------------------------------------------------------------

    def prompt(self, path: YamlPath, prompt_id: str | None) -> None:
        if prompt_id is not None and prompt_id not in self.catalogue:
            self.add(
                path, f"message vocal inconnu {prompt_id!r} (absent du catalogue des messages)"
            )

    def service(self, path: YamlPath, service_id: str) -> None:
        if service_id not in self.rules.services:
            self.add(path, f"service inconnu {service_id!r}")

    def menu(self, path: YamlPath, menu_id: str) -> None:
        if menu_id not in self.rules.menus:
            self.add(path, f"menu inconnu {menu_id!r}")

    def schedule(self, path: YamlPath, schedule_id: str | None) -> None:
        if schedule_id is not None and schedule_id not in self.rules.schedules:
            self.add(path, f"horaire inconnu {schedule_id!r}")

    def action(self, path: YamlPath, action: Action) -> None:
        if isinstance(action, m.ServiceTarget):
            self.service((*path, "service"), action.service)
        elif isinstance(action, m.MenuTarget):
            self.menu((*path, "menu"), action.menu)
        elif isinstance(action, m.MessageTarget):
            self.prompt((*path, "message"), action.message)
        else:
            self.prompt((*path, "callback"), action.callback)
            self.prompt((*path, "number_prompt"), action.number_prompt)
            self.prompt((*path, "thanks_prompt"), action.thanks_prompt)
            if action.number is not m.NumberChoice.PRESENTED and action.number_prompt is None:
                self.add(
                    path, f"un rappel avec number: {action.number.value} demande un number_prompt"
                )

    # --- sections -------------------------------------------------------------------------

    def settings(self) -> None:
        s = self.rules.settings
        path: YamlPath = ("settings",)
        try:
            ZoneInfo(s.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            self.add(
                (*path, "timezone"),
                f"fuseau horaire inconnu {s.timezone!r} (par exemple Europe/Paris)",
            )
        import holidays  # here: see routing_rules.hours.public_holidays

        try:
            holidays.country_holidays(s.holidays_country, subdiv=s.holidays_subdivision, years=2026)
        except NotImplementedError:
            self.add(
                (*path, "holidays_country"),
                f"pays inconnu {s.holidays_country!r} pour les jours fériés (par exemple FR)",
            )
        except ValueError as exc:
            self.add(
                (*path, "holidays_subdivision"),
                f"subdivision des jours fériés inutilisable : {exc}",
            )
        longest_tag = max((len(service.tag) for service in self.rules.services.values()), default=0)
        for message in caller_id_format_problems(
            s.caller_id_format, longest_tag, len(s.anonymous_number)
        ):
            self.add((*path, "caller_id_format"), message)
        self.prompt((*path, "invalid_prompt"), s.invalid_prompt)
        self.prompt((*path, "timeout_prompt"), s.timeout_prompt)

    def slots(self, path: YamlPath, slots: list[str]) -> None:
        spans: list[Span] = []
        for i, slot in enumerate(slots):
            try:
                spans.append(parse_slot(slot))
            except ValueError as exc:
                self.add((*path, i), f"horaire impossible : {exc}")
        for a, b in overlaps(spans):
            self.add(path, f"les plages {format_span(a)} et {format_span(b)} se chevauchent")

    def schedules(self) -> None:
        for sid, schedule in self.rules.schedules.items():
            path: YamlPath = ("schedules", sid)
            for day, slots in schedule.weekly.items():
                self.slots((*path, "weekly", day), slots)
            seen: dict[str, int] = {}
            for i, exception in enumerate(schedule.exceptions):
                here = (*path, "exceptions", i)
                if exception.date in seen:
                    first = seen[exception.date] + 1
                    self.add(
                        (*here, "date"),
                        f"le {exception.date} a déjà une exception (élément {first})",
                    )
                seen.setdefault(exception.date, i)
                try:
                    date.fromisoformat(exception.date)
                except ValueError:
                    self.add((*here, "date"), f"date impossible {exception.date!r}")
                self.slots((*here, "slots"), exception.slots)

    def services(self) -> None:
        for sid, s in self.rules.services.items():
            path: YamlPath = ("services", sid)
            self.schedule((*path, "hours"), s.hours)
            self.prompt((*path, "closed_prompt"), s.closed_prompt)
            self.prompt((*path, "name_prompt"), s.name_prompt)
            if s.queue is not None:
                self.queue((*path, "queue"), s.queue)
            seen: set[str] = set()
            for i, agent in enumerate(s.agents):
                if agent in seen:
                    self.add((*path, "agents", i), f"le poste {agent} figure deux fois")
                seen.add(agent)
            for reason in ("no_answer", "busy", "nobody", "closed", "otherwise"):
                target = getattr(s.overflow, reason)
                if target is not None:
                    self.action((*path, "overflow", reason), target)
                    if isinstance(target, m.ServiceTarget) and target.service == sid:
                        self.add(
                            (*path, "overflow", reason, "service"),
                            f"débordement en boucle : le service {sid} déborde vers lui-même",
                        )

    def queue(self, path: YamlPath, queue: m.Queue) -> None:
        self.prompt((*path, "prompt"), queue.prompt)
        self.prompt((*path, "repeat_prompt"), queue.repeat_prompt)
        if queue.position:
            # The position is said with these two prompts and Asterisk's own numbers.
            for prompt_id in POSITION_PROMPTS:
                if prompt_id not in self.catalogue:
                    self.add(
                        (*path, "position"),
                        f"position: true demande le message vocal {prompt_id!r}, absent du"
                        " catalogue des messages",
                    )
        if queue.repeat_prompt is not None and queue.announce_every_s is None:
            self.add(
                (*path, "repeat_prompt"),
                "repeat_prompt sans announce_every_s ne sera jamais joué (l'annonce n'est faite"
                " qu'une fois)",
            )
        if queue.announce_every_s is not None and queue.announce_every_s > queue.max_wait_s:
            self.add(
                (*path, "announce_every_s"),
                f"announce_every_s ({queue.announce_every_s:g} s) dépasse max_wait_s"
                f" ({queue.max_wait_s:g} s) : l'annonce ne serait jamais répétée",
            )

    def menus(self) -> None:
        for mid, menu in self.rules.menus.items():
            path: YamlPath = ("menus", mid)
            self.prompt((*path, "greeting"), menu.greeting)
            self.prompt((*path, "prompt"), menu.prompt)
            self.prompt((*path, "invalid_prompt"), menu.invalid_prompt)
            self.prompt((*path, "timeout_prompt"), menu.timeout_prompt)
            for key, action in menu.keys.items():
                self.action((*path, "keys", key), action)
            self.action((*path, "fallback"), menu.fallback)
            if menu.repeat_key is not None and menu.repeat_key in menu.keys:
                self.add(
                    (*path, "repeat_key"),
                    f"repeat_key {menu.repeat_key!r} est aussi une touche du menu",
                )

    def entry(self) -> None:
        seen_numbers: dict[str, int] = {}
        catch_all: int | None = None
        last = len(self.rules.entry) - 1
        for i, route in enumerate(self.rules.entry):
            path: YamlPath = ("entry", i)
            if (route.menu is None) == (route.service is None):
                self.add(
                    path,
                    "une route d'entrée demande soit menu, soit service (un des deux)",
                )
            if route.menu is not None:
                self.menu((*path, "menu"), route.menu)
            if route.service is not None:
                self.service((*path, "service"), route.service)
            self.schedule((*path, "hours"), route.hours)
            self.prompt((*path, "closed_message"), route.closed_message)
            if route.hours is not None and route.closed_message is None:
                self.add(
                    path, "une route d'entrée avec des horaires (hours) demande un closed_message"
                )
            if route.hours is None and route.closed_message is not None:
                self.add(
                    (*path, "closed_message"),
                    "closed_message sans horaires (hours) ne sera jamais joué",
                )
            if route.numbers is None:
                if catch_all is not None:
                    self.add(
                        path,
                        "une seconde route pour tous les numéros"
                        f" (la première : élément {catch_all + 1})",
                    )
                elif i != last:
                    self.add(path, "la route pour tous les numéros doit être la dernière")
                catch_all = catch_all if catch_all is not None else i
                continue
            for j, written in enumerate(route.numbers):
                number = normalise_number(written)
                if number in seen_numbers:
                    self.add(
                        (*path, "numbers", j),
                        f"le numéro {written} est déjà routé par l'élément"
                        f" {seen_numbers[number] + 1}",
                    )
                seen_numbers.setdefault(number, i)

        if catch_all is None:
            self.add(
                ("entry",),
                "aucune route pour les autres numéros : ajoutez en dernier une route sans numbers",
            )

    def surveys(self) -> None:
        for sid, survey in self.rules.surveys.items():
            path: YamlPath = ("surveys", sid)
            if survey.services != "all":
                for i, service in enumerate(survey.services):
                    self.service((*path, "services", i), service)
            self.prompt((*path, "consent_prompt"), survey.consent_prompt)
            self.prompt((*path, "thanks_prompt"), survey.thanks_prompt)
            seen: set[str] = set()
            for i, question in enumerate(survey.questions):
                self.prompt((*path, "questions", i, "prompt"), question.prompt)
                if question.id in seen:
                    self.add(
                        (*path, "questions", i, "id"),
                        f"la question {question.id!r} figure deux fois",
                    )
                seen.add(question.id)

    # --- whole graph ----------------------------------------------------------------------

    def reachability(self) -> None:
        reached: set[str] = set()
        todo = [r.menu for r in self.rules.entry if r.menu is not None]
        while todo:
            mid = todo.pop()
            if mid in reached or mid not in self.rules.menus:
                continue
            reached.add(mid)
            menu = self.rules.menus[mid]
            for action in (*menu.keys.values(), menu.fallback):
                if isinstance(action, m.MenuTarget):
                    todo.append(action.menu)
        for mid in self.rules.menus:
            if mid not in reached:
                self.add(
                    ("menus", mid),
                    f"le menu {mid!r} n'est atteint par aucune route d'entrée",
                    key=True,
                )

    def overflow_loops(self) -> None:
        edges: dict[str, list[tuple[str, str]]] = {}
        for sid, s in self.rules.services.items():
            for reason in ("no_answer", "busy", "nobody", "closed", "otherwise"):
                target = getattr(s.overflow, reason)
                if (
                    isinstance(target, m.ServiceTarget)
                    and target.service in self.rules.services
                    and target.service != sid  # reported by services()
                ):
                    edges.setdefault(sid, []).append((reason, target.service))
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        stack: list[str] = []
        reported: set[frozenset[str]] = set()

        def visit(sid: str) -> None:
            state[sid] = 1
            stack.append(sid)
            for reason, nxt in edges.get(sid, []):
                if state.get(nxt) == 1:
                    cycle = [*stack[stack.index(nxt) :], nxt]
                    if frozenset(cycle) not in reported:
                        reported.add(frozenset(cycle))
                        self.add(
                            ("services", sid, "overflow", reason),
                            f"débordement en boucle : {' → '.join(cycle)}",
                        )
                elif nxt not in state:
                    visit(nxt)
            stack.pop()
            state[sid] = 2

        for sid in self.rules.services:
            if sid not in state:
                visit(sid)


def caller_id_format_problems(text: str, longest_tag: int, anonymous: int) -> list[str]:
    """What is wrong with a caller id format, in French (empty when it is usable).

    The format is filled for every routed call: each placeholder must be one of the three known
    fields written plainly (``{number:d}`` fails on text, ``{tag:>99999999}`` builds 100 MB),
    and the longest caller id it can give must stay short enough for a phone's display.
    """
    fields = "{tag}, {number}, {name}"
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        return [
            "caller_id_format : accolade seule ou non fermée (pour afficher une accolade,"
            " doublez-la : {{ ou }})"
        ]
    problems: list[str] = []
    longest = 0
    number = max(CALLER_ID_NUMBER_MAX, anonymous)
    widths = {"tag": longest_tag, "number": number, "name": CALLER_ID_NAME_MAX}
    for literal, field, spec, conversion in parts:
        longest += len(literal)
        if field is None:
            continue
        written = "{" + field + (f"!{conversion}" if conversion else "")
        written += (f":{spec}" if spec else "") + "}"
        if field not in widths:
            problems.append(f"caller_id_format : champ {written} inconnu (permis : {fields})")
        elif conversion or spec:
            problems.append(
                f"caller_id_format : {written} doit s'écrire {{{field}}}, sans conversion ni format"
            )
        else:
            longest += widths[field]
    if not problems and longest > CALLER_ID_MAX:
        problems.append(
            f"caller_id_format : l'affichage peut atteindre {longest} caractères (étiquette la"
            f" plus longue, numéro et nom de l'appelant au plus long) : {CALLER_ID_MAX} au plus"
        )
    return problems


def check_rules(rules: m.RulesFile, locator: Locator, catalogue: frozenset[str]) -> list[Problem]:
    checker = _Checker(rules, locator, catalogue)
    checker.settings()
    checker.schedules()
    checker.services()
    checker.menus()
    checker.entry()
    checker.surveys()
    checker.reachability()
    checker.overflow_loops()
    return checker.problems

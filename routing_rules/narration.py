"""The routing decisions told in French, with the services' names, for the town hall's IT.

The decisions carry ids and English ``why`` texts for the service's own logs; what IT reads
(``decroche rules simulate``) is told here, from the same decision values, so the trace can never
say something the router did not decide. Services, and menus that have a ``name:``, are named as
the rules name them; prompts, and menus without a name, keep their ids: the names IT writes in
the rules file. The pages' and reports' words for the menus (:func:`menu_choices`,
:func:`menu_name`) live here too, beside the trace's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from routing_rules.agents import Presence
from routing_rules.calendar_fr import MONTHS_FR, WEEKDAYS_FR
from routing_rules.compiled import (
    CompiledRules,
    OverflowReason,
    PlayMessage,
    TakeCallback,
    Target,
    ToMenu,
    ToService,
)
from routing_rules.hours import DayKind, OpeningState, format_span
from routing_rules.ivr import (
    IvrStep,
    NoteKind,
    Play,
)
from routing_rules.kinds import NumberChoice, Strategy
from routing_rules.messages import counted
from routing_rules.outcomes import EntryOutcome, LegOutcome
from routing_rules.routing import (
    Closed,
    EntryDecision,
    GoService,
    IvrStart,
    Overflow,
    Ring,
    Wait,
)

_DAY_KINDS = {
    DayKind.WEEKLY: "semaine type",
    DayKind.HOLIDAY: "jour férié",
    DayKind.EXCEPTION: "exception",
}
_STRATEGIES = {
    Strategy.RING_ALL: "tous ensemble",
    Strategy.IN_ORDER: "l'un après l'autre, dans l'ordre de la liste",
    Strategy.ROUND_ROBIN: "l'un après l'autre, à tour de rôle",
    Strategy.LONGEST_IDLE: "l'un après l'autre, le plus longtemps libre d'abord",
}
_REASONS = {
    OverflowReason.NO_ANSWER: "sans réponse",
    OverflowReason.BUSY: "tous occupés",
    OverflowReason.NOBODY: "personne de disponible",
    OverflowReason.CLOSED: "fermé",
}
_NUMBER_CHOICES = {
    NumberChoice.ASK: "composé par l'appelant",
    NumberChoice.PRESENTED: "le numéro présenté",
    NumberChoice.CHOOSE: "le numéro présenté ou un autre, au choix",
}
_PRESENCES = {
    Presence.SIGNED_IN.value: "connecté",
    Presence.PAUSED.value: "en pause",
    Presence.SIGNED_OUT.value: "déconnecté",
}
_LEGS = {
    LegOutcome.ANSWERED.value: "a répondu",
    LegOutcome.NO_ANSWER.value: "sans réponse",
    LegOutcome.BUSY.value: "occupé",
    LegOutcome.UNREACHABLE.value: "injoignable",
    LegOutcome.DECLINED.value: "a refusé l'appel",
    LegOutcome.CANCELLED.value: "sonnerie arrêtée",
    LegOutcome.FAILED.value: "échec de l'appel",
}
# Asterisk's device states, as the trace's reader knows their meaning.
_DEVICES = {
    "NOT_INUSE": "libre",
    "INUSE": "en communication",
    "BUSY": "occupé",
    "INVALID": "inconnu d'Asterisk",
    "UNAVAILABLE": "injoignable (non enregistré)",
    "RINGING": "sonne déjà",
    "RINGINUSE": "sonne déjà et en communication",
    "ONHOLD": "en attente",
    "UNKNOWN": "état inconnu",
}
OUTCOMES = {
    EntryOutcome.ABANDONED: "abandon",
    EntryOutcome.OVERFLOW_TIMEOUT: "débordement sans réponse",
    EntryOutcome.OVERFLOW_BUSY: "débordement, tous occupés",
    EntryOutcome.OVERFLOW_NOBODY: "débordement, personne de disponible",
    EntryOutcome.OVERFLOW_CLOSED: "débordement, fermé",
}
CALLBACK_KINDS = {
    "abandoned": "appel abandonné",
    "overflowed": "appel débordé",
    "cut": "appel coupé pendant l'attente",
}


def seconds(value: float) -> str:
    """``12,5 s``: French decimal comma."""
    return f"{value:g}".replace(".", ",") + " s"


def moment(local: datetime) -> str:
    """``lundi 7 décembre 2026 à 10:00 (CET)``."""
    return (
        f"{WEEKDAYS_FR[local.weekday()]} {local.day} {MONTHS_FR[local.month - 1]} {local.year}"
        f" à {local:%H:%M} ({local:%Z})"
    )


def joined(items: Iterable[str]) -> str:
    return ", ".join(items)


class Narrator:
    """Tells one rules version's decisions; the names come from those rules."""

    def __init__(self, rules: CompiledRules) -> None:
        self.rules = rules

    def service(self, service_id: str) -> str:
        service = self.rules.services.get(service_id)
        return f"service « {service.name if service else service_id} »"

    def menu(self, menu_id: str) -> str:
        """A menu by the name the rules give it; without one, by the id IT writes."""
        menu = self.rules.menus.get(menu_id)
        if menu is None or not menu.name:
            return f"menu « {menu_id} »"
        return menu_in_text(menu_id, self.rules)

    def target(self, target: Target) -> str:
        if isinstance(target, ToService):
            return self.service(target.service_id)
        if isinstance(target, ToMenu):
            return self.menu(target.menu_id)
        if isinstance(target, PlayMessage):
            return f"message {target.prompt_id}"
        return f"demande de rappel {target.prompt_id} (numéro : {_NUMBER_CHOICES[target.number]})"

    def end(self, target: PlayMessage | TakeCallback) -> str:
        """The last line of a path: the message played, or the callback request taken."""
        if isinstance(target, PlayMessage):
            return f"fin : joue {target.prompt_id}, puis raccroche"
        return f"fin : {self.target(target)}, puis {target.thanks_prompt}, puis raccroche"

    @staticmethod
    def opening(state: OpeningState, *, told: bool = True) -> str:
        """``ouvert le lundi 7 décembre 2026 à 10:00 (CET) : horaires « mairie », semaine type :
        08:30-12:00, 13:30-17:30``."""
        label = f" ({state.label})" if state.label else ""
        slots = (
            joined(format_span(s) for s in state.spans) if state.spans else "fermé toute la journée"
        )
        return (
            f"{'ouvert ' if state.is_open and told else 'fermé ' if told else ''}"
            f"le {moment(state.local)} : horaires"
            f" « {state.schedule_id} », {_DAY_KINDS[state.kind]}{label} : {slots}"
        )

    @staticmethod
    def agent_state(why: str) -> str:
        """Why an agent is not rung, or how their leg ended (the decisions' own words)."""
        if why.startswith("device "):
            state = why.removeprefix("device ")
            return f"{_DEVICES.get(state, state)} ({state})"
        return _PRESENCES.get(why) or _LEGS.get(why) or why

    def entry(self, decision: EntryDecision) -> str:
        rule = decision.rule
        numbers = (
            "tout numéro" if rule.numbers is None else "numéro " + joined(sorted(rule.numbers))
        )
        head = f"route d'entrée n° {rule.index} ({numbers})"
        if isinstance(decision, Closed):
            return f"{head} {self.opening(decision.opening)} → message {decision.prompt_id}"
        if isinstance(decision, GoService):
            return f"{head} → {self.service(decision.service_id)}"
        assert isinstance(decision, IvrStart)
        welcome = "" if decision.greet else " (sans message d'accueil)"
        return f"{head} → {self.menu(decision.menu_id)}{welcome}"

    def ivr_steps(self, steps: Iterable[IvrStep]) -> list[str]:
        """The menus' steps, one line each: the first enters the menus, each other one is a
        key or a silence and what follows it."""
        return [self.ivr_step(step, first=i == 0) for i, step in enumerate(steps)]

    def ivr_step(self, step: IvrStep, *, first: bool = False) -> str:
        """One step of the menus, from its notes (the record's IVR events) and its actions."""
        said: list[str] = []
        notes = list(step.notes)
        while notes:
            note = notes.pop(0)
            menu = self.menu(note.menu_id)
            rules = self.rules.menus[note.menu_id]
            if note.kind is NoteKind.MENU:
                repeat = not first and not said and rules.repeat_key is not None
                said.append(
                    f"{menu} : touche {rules.repeat_key} (répéter) →" if repeat else f"{menu} :"
                )
            elif note.kind is NoteKind.KEY:
                target = rules.keys.get(note.key or "")
                said.append(
                    f"{menu} : touche {note.key} → {self.target(target) if target else '?'}"
                )
            else:
                what = (
                    f"touche {note.key} invalide"
                    if note.kind is NoteKind.INVALID
                    else "aucune touche"
                )
                if notes and notes[0].kind is NoteKind.FALLBACK:
                    notes.pop(0)
                    said.append(
                        f"{menu} : {what}, {rules.retries + 1} échecs pour {rules.retries}"
                        f" nouveaux essais permis → repli vers {self.target(rules.fallback)}"
                    )
                else:
                    failures = step.state.failures if step.state else rules.retries
                    said.append(f"{menu} : {what} (essai {failures} sur {rules.retries}) →")
        plays = [a for a in step.actions if isinstance(a, Play)]
        if plays and said:
            said[-1] += " joue " + joined(p for play in plays for p in play.prompt_ids)
        return " ; ".join(said)

    def ring(self, ring: Ring) -> str:
        plan = ring.plan
        hours = self.opening(ring.opening) if ring.opening else "toujours ouvert"
        steps = " ; ".join(
            f"{' + '.join(step.endpoints)} pendant {seconds(step.seconds)}" for step in plan.steps
        )
        skipped = "".join(
            f" ; ne sonne pas : {endpoint}, {self.agent_state(why)}"
            for endpoint, why in plan.skipped
        )
        return (
            f"{self.service(plan.service_id)} {hours} ; fait sonner"
            f" ({_STRATEGIES[plan.strategy]}, {seconds(plan.timeout_s)} en tout) : {steps} ;"
            f" les postes affichent « {plan.caller_id} »{skipped}"
        )

    def overflow(self, hop: Overflow) -> str:
        if hop.opening is not None:
            detail = self.opening(hop.opening, told=False)  # the reason says closed
        elif hop.rang_s is not None:
            detail = f"personne n'a répondu en {seconds(hop.rang_s)}"
        else:
            detail = (
                joined(f"{endpoint} {self.agent_state(why)}" for endpoint, why in hop.agents)
                or "aucun agent dans ce service"
            )
        if hop.queued_s is not None:
            detail = f"après {seconds(hop.queued_s)} d'attente dans la file ; {detail}"
        return (
            f"{self.service(hop.service_id)} déborde ({_REASONS[hop.reason]} : {detail})"
            f" → {self.target(hop.target)}"
        )

    def wait(self, wait: Wait) -> str:
        """The caller waits in the service's queue: why, how long at most, what they hear."""
        if wait.ahead:
            cause = f"{counted(wait.ahead, 'appelant')} déjà en attente"
        else:
            busy = joined(f"{e} {self.agent_state(why)}" for e, why in wait.agents)
            cause = f"tous les agents présents sont occupés ({busy})"
        queue = wait.queue
        hears = "la sonnerie" if queue.music is None else f"la musique d'attente « {queue.music} »"
        said = f"le message {queue.prompt}" + (" et sa position" if queue.position else "")
        if queue.announce_every_s is None:
            again = "une fois"
        else:
            repeat = "" if queue.repeat_prompt == queue.prompt else f" ({queue.repeat_prompt})"
            again = f"puis toutes les {seconds(queue.announce_every_s)}{repeat}"
        return (
            f"{self.service(wait.service_id)} : {cause} → l'appelant attend dans la file"
            f" (position {wait.position}, {seconds(wait.remaining_s)} au plus, puis débordement"
            f" « {_REASONS[OverflowReason.BUSY]} » → {self.target(wait.then)}) ; il entend"
            f" {said}, {again}, et entre-temps {hears}"
        )


@dataclass(frozen=True, slots=True)
class MenuWords:
    """A voice menu as the pages and reports say it: its name, and what each key does."""

    name: str
    keys: Mapping[str, str]


# A menu's keys in the order a caller reads them on the keypad.
KEYPAD = "0123456789*#"


def keypad_order(key: str) -> int:
    """Where ``key`` comes on the keypad (0, 1, 2… 9, *, #), for sorting a menu's keys."""
    return KEYPAD.index(key) if key in KEYPAD else len(KEYPAD)


def menus_in_call_order(rules: CompiledRules) -> list[str]:
    """The voice menus in the order a caller meets them: each entry rule's menu, then the menus
    its keys lead to, key by key on the keypad (and where it leads without a choice), each once
    (the checks refuse a menu no entry reaches; one would come last). A reader of the menus'
    table starts where the caller starts, not at the first id in the alphabet."""
    order: list[str] = []

    def visit(menu_id: str) -> None:
        menu = rules.menus.get(menu_id)
        if menu is None or menu_id in order:
            return
        order.append(menu_id)
        targets = [menu.keys[key] for key in sorted(menu.keys, key=keypad_order)]
        for target in [*targets, menu.fallback]:
            if isinstance(target, ToMenu):
                visit(target.menu_id)

    for rule in rules.entry:
        if isinstance(rule.target, ToMenu):
            visit(rule.target.menu_id)
    return order + [menu_id for menu_id in rules.menus if menu_id not in order]


def menu_choices(rules: CompiledRules) -> dict[str, MenuWords]:
    """Each voice menu's name and what each of its keys does, in a reader's words (the voice
    menu's table of the pages and reports: « touche 2 : CCAS », not « touche 2 » alone), in the
    order a caller meets the menus (:func:`menus_in_call_order`)."""
    names = {s.id: s.name for s in rules.services.values()}
    choices: dict[str, MenuWords] = {}
    for menu in (rules.menus[menu_id] for menu_id in menus_in_call_order(rules)):
        said = {key: _choice(rules, target, names) for key, target in menu.keys.items()}
        if menu.repeat_key is not None:
            said.setdefault(menu.repeat_key, "répéter le menu")
        choices[menu.id] = MenuWords(menu_name(menu.id, rules), said)
    return choices


def _choice(rules: CompiledRules, target: Target, names: dict[str, str]) -> str:
    if isinstance(target, ToService):
        return names.get(target.service_id, target.service_id)
    if isinstance(target, ToMenu):
        return menu_in_text(target.menu_id, rules)
    if isinstance(target, PlayMessage):
        return "message enregistré, puis fin de l'appel"
    return "demande de rappel"


def menu_name(menu_id: str, rules: CompiledRules | None = None) -> str:
    """A menu as a reader reads it: the name the rules give it (« Menu d’accueil »), else one
    made from its id, written for IT (« droit_famille » → « menu droit famille »); so is a menu
    of an old record that the rules in force no longer have."""
    menu = rules.menus.get(menu_id) if rules is not None else None
    if menu is not None and menu.name:
        return menu.name
    return "menu " + menu_id.replace("_", " ").replace("-", " ")


def menu_in_text(menu_id: str, rules: CompiledRules) -> str:
    """A menu named within a sentence (« touche 2 : menu « Espace du droit et de la famille » »):
    a name that does not say it is a menu is said to be one; « Menu d’accueil » is enough."""
    name = menu_name(menu_id, rules)
    return name if name.split(" ", 1)[0].casefold() == "menu" else f"menu « {name} »"

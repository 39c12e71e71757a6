"""Where a call starts: the dialled number -> a voice menu, a service, or a closed message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from routing_rules.compiled import CompiledRules, EntryRule, ToMenu, normalise_number
from routing_rules.errors import UnknownTarget
from routing_rules.hours import OpeningState
from routing_rules.routing.service import require_aware


@dataclass(frozen=True, slots=True)
class IvrStart:
    menu_id: str
    rule: EntryRule
    greet: bool = True  # false for a transferred leg: the menu starts at its prompt

    @property
    def why(self) -> str:
        welcome = "" if self.greet else " (no welcome)"
        return (
            f"entry route #{self.rule.index} ({_numbers(self.rule)}) -> menu {self.menu_id}"
            f"{welcome}"
        )


@dataclass(frozen=True, slots=True)
class GoService:
    service_id: str
    rule: EntryRule

    @property
    def why(self) -> str:
        return (
            f"entry route #{self.rule.index} ({_numbers(self.rule)}) -> service {self.service_id}"
        )


@dataclass(frozen=True, slots=True)
class Closed:
    prompt_id: str
    rule: EntryRule
    opening: OpeningState

    @property
    def why(self) -> str:
        return (
            f"entry route #{self.rule.index} ({_numbers(self.rule)}) {self.opening.why}"
            f" -> message {self.prompt_id}"
        )


EntryDecision = IvrStart | GoService | Closed


def _numbers(rule: EntryRule) -> str:
    return "any number" if rule.numbers is None else "number " + ", ".join(sorted(rule.numbers))


def entry_point(rules: CompiledRules, dialled_number: str, now: datetime) -> EntryDecision:
    """The first entry route that matches the dialled number (one without numbers matches all)."""
    number = normalise_number(dialled_number)
    for rule in rules.entry:
        if rule.numbers is not None and number not in rule.numbers:
            continue
        if rule.schedule is not None and rule.closed_message is not None:
            opening = rule.schedule.state_at(require_aware(now))
            if not opening.is_open:
                return Closed(rule.closed_message, rule, opening)
        if isinstance(rule.target, ToMenu):
            return IvrStart(rule.target.menu_id, rule)
        return GoService(rule.target.service_id, rule)
    # The loader requires a route for any number unless every number is listed explicitly.
    raise UnknownTarget(f"no entry route for the dialled number {dialled_number!r}")

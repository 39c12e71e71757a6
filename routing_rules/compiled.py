"""The runtime structure of the rules: immutable, consistent, built once from a checked file.

A :class:`CompiledRules` is a version: a call keeps the object it started with, a reload builds a
new one, by :func:`routing_rules.compile.compile_rules`. Nothing here names the file's pydantic
model: the compiled rules are read back from the cache (:mod:`routing_rules.cache`) without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from routing_rules.hours import CompiledSchedule
from routing_rules.kinds import NumberChoice, Scale, Strategy

# What agents' phones show: the caller's number and name (from the network) are cut to these
# lengths when the caller id is made, and a format must not be able to give more than
# CALLER_ID_MAX characters with them (checked at load).
CALLER_ID_MAX = 100
CALLER_ID_NUMBER_MAX = 32
CALLER_ID_NAME_MAX = 32

# How a caller's position in a queue is said: "you are next", or "your position:" followed by
# the number, said by Asterisk in the call's language (``number:`` media).
NEXT_IN_QUEUE_PROMPT = "file_prochain"
POSITION_PROMPT = "file_position"
POSITION_PROMPTS = (NEXT_IN_QUEUE_PROMPT, POSITION_PROMPT)


@dataclass(frozen=True, slots=True)
class ToService:
    service_id: str

    def describe(self) -> str:
        return f"service {self.service_id}"


@dataclass(frozen=True, slots=True)
class ToMenu:
    menu_id: str

    def describe(self) -> str:
        return f"menu {self.menu_id}"


@dataclass(frozen=True, slots=True)
class PlayMessage:
    """Play the prompt, then hang up."""

    prompt_id: str

    def describe(self) -> str:
        return f"message {self.prompt_id}"


@dataclass(frozen=True, slots=True)
class TakeCallback:
    prompt_id: str
    number: NumberChoice
    number_prompt: str | None
    thanks_prompt: str

    def describe(self) -> str:
        return f"callback request {self.prompt_id} (number: {self.number.value})"


Target = ToService | ToMenu | PlayMessage | TakeCallback
OverflowTarget = ToService | PlayMessage | TakeCallback


class OverflowReason(StrEnum):
    NO_ANSWER = "no_answer"  # rang the whole time, nobody picked up
    BUSY = "busy"  # agents present, every one of them busy
    NOBODY = "nobody"  # no agent present (signed out, paused, unregistered)
    CLOSED = "closed"  # outside the opening hours


@dataclass(frozen=True, slots=True)
class QueueRules:
    """A service's waiting queue: how long a caller may wait, and what they hear meanwhile."""

    max_wait_s: float
    prompt: str
    repeat_prompt: str
    announce_every_s: float | None  # None: announced once
    position: bool
    music: str | None  # a music on hold class; None: the ring tone

    def describe(self) -> str:
        """For the service's logs (``routing_rules.narration`` tells it in French)."""
        hears = "ring tone" if self.music is None else f"music on hold {self.music}"
        said = self.prompt + (" + position" if self.position else "")
        if self.announce_every_s is None:
            when = "once"
        else:
            when = f"then every {self.announce_every_s:g} s ({self.repeat_prompt})"
        return f"announces {said} {when}; {hears} between"


@dataclass(frozen=True, slots=True)
class ServiceRules:
    id: str
    name: str
    tag: str
    agents: tuple[str, ...]
    strategy: Strategy
    ring_s: float
    per_agent_s: float
    schedule: CompiledSchedule | None
    closed_prompt: str | None
    overflow: Mapping[OverflowReason, OverflowTarget]
    name_prompt: str | None = None  # the service's name, said to agents
    queue: QueueRules | None = None  # None: no waiting, a busy service overflows at once


@dataclass(frozen=True, slots=True)
class MenuRules:
    id: str
    greeting: str | None
    prompt: str
    keys: Mapping[str, Target]
    timeout_s: float
    retries: int
    invalid_prompt: str
    timeout_prompt: str | None
    repeat_key: str | None
    fallback: Target
    # The name a person reads (« Menu d'accueil »); None: the rules give none, the readers
    # make one from the id (routing_rules.narration.menu_name).
    name: str | None = None


@dataclass(frozen=True, slots=True)
class EntryRule:
    index: int  # 1-based position in the file, for traces
    numbers: frozenset[str] | None  # None: any number
    target: ToMenu | ToService
    schedule: CompiledSchedule | None
    closed_message: str | None


@dataclass(frozen=True, slots=True)
class QuestionRules:
    id: str
    prompt: str
    scale: Scale


@dataclass(frozen=True, slots=True)
class SurveyRules:
    id: str
    services: frozenset[str] | None  # None: every service
    one_in: int
    consent_prompt: str
    thanks_prompt: str
    timeout_s: float
    questions: tuple[QuestionRules, ...]


@dataclass(frozen=True, slots=True)
class CompiledRules:
    version: str  # hash of the file's bytes
    source: str
    tz: ZoneInfo
    ring_cycle_s: float
    caller_id_format: str
    anonymous_number: str
    services: Mapping[str, ServiceRules]
    menus: Mapping[str, MenuRules]
    entry: tuple[EntryRule, ...]
    surveys: Mapping[str, SurveyRules]
    schedules: Mapping[str, CompiledSchedule]
    # Said when a caller presses nothing where a key is expected (settings.timeout_prompt).
    timeout_prompt: str | None = None
    # Callers cut by the PBX while waiting for a service are owed a callback (settings).
    callback_after_cut: bool = False


DEFAULT_RINGS_PER_AGENT = 3


def normalise_number(number: str) -> str:
    """French numbers compare in national form: ``+33 2 32 ...`` and ``0232...`` are one."""
    digits = "".join(c for c in number if c.isdigit() or c == "+")
    if digits.startswith("+33"):
        return "0" + digits[3:]
    if digits.startswith("0033"):
        return "0" + digits[4:]
    return digits

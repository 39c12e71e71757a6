"""The rules file as IT writes it: pydantic models, every key known (``extra="forbid"``).

These models only check the shape and the values of each field. What needs the whole file
(references between services, menus, hours and prompts; overlaps; reachability; overflow loops)
is checked in :mod:`routing_rules.checks`, and the runtime structure is built by
:mod:`routing_rules.compiled`. ``schema.json`` beside this file is generated from :class:`RulesFile`
(``decroche rules schema --write``) so that editors complete and check the YAML.

Kinds of menu action and overflow target are discriminated by the one key that names them
(``service:``, ``menu:``, ``message:``, ``callback:``), which reads naturally in YAML.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
)
from pydantic_core import PydanticCustomError

# Re-exported: the file's model names them, and so do the modules that read it.
from routing_rules.kinds import NumberChoice as NumberChoice
from routing_rules.kinds import Scale as Scale
from routing_rules.kinds import Strategy as Strategy

Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64),
    Field(description="Lower-case identifier: letters, digits, underscores (e.g. etat_civil)."),
]
PromptId = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64),
    Field(description="A prompt id of the French catalogue (ivr_prompts/fr.yaml)."),
]
Endpoint = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*/[^\s/,]+$"),
    Field(description="An Asterisk endpoint, technology/resource, e.g. PJSIP/1042."),
]
DtmfKey = Literal["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"]
Slot = Annotated[
    str,
    StringConstraints(pattern=r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$"),
    Field(description="Opening slot HH:MM-HH:MM, local time (24:00 allowed as an end)."),
]
DayName = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# What a person reads on pages, reports and traces: one line, trimmed, short enough for a
# table's cell and an agent's screen.
DISPLAY_NAME_MAX = 80
DisplayName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=DISPLAY_NAME_MAX,
        pattern=r"^[^\x00-\x1f\x7f]*$",
    ),
]


def _text_or_absent(schema: dict[str, Any]) -> None:
    """An optional text's schema as a text (``"anyOf": [text, null]`` → text, no ``default``):
    the key is written with a text or left out, never written empty."""
    texts = [s for s in schema.pop("anyOf", []) if s.get("type") != "null"]
    schema.pop("default", None)
    for text in texts:
        schema.update(text)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- Targets: where a key, a fallback, an entry or an overflow sends the caller -----------------


class ServiceTarget(_Strict):
    """Go to a service (its hours, agents and overflow then apply)."""

    service: Identifier


class MenuTarget(_Strict):
    """Go to a voice menu."""

    menu: Identifier


class MessageTarget(_Strict):
    """Play a message, then hang up."""

    message: PromptId


class CallbackTarget(_Strict):
    """Take a callback request: the caller keeps the presented number or keys in another."""

    callback: PromptId = Field(description="Invitation prompt (explains the callback).")
    number: NumberChoice = NumberChoice.CHOOSE
    number_prompt: PromptId | None = Field(
        default=None, description="Prompt asking to key in the number (needed unless presented)."
    )
    thanks_prompt: PromptId = Field(description="Prompt confirming the request, before hang-up.")


def _pick(tags: tuple[str, ...]) -> Any:
    def pick(value: Any) -> str | None:
        if isinstance(value, BaseModel):
            found = [t for t in tags if t in type(value).model_fields]
        elif isinstance(value, dict):
            found = [t for t in tags if t in value]
        else:
            return None
        # Tags are "@"-prefixed so that the loader can drop them from error locations.
        return "@" + found[0] if len(found) == 1 else None

    return pick


_ACTION_TAGS = ("service", "menu", "message", "callback")
_OVERFLOW_TAGS = ("service", "message", "callback")

MenuAction = Annotated[
    Annotated[ServiceTarget, Tag("@service")]
    | Annotated[MenuTarget, Tag("@menu")]
    | Annotated[MessageTarget, Tag("@message")]
    | Annotated[CallbackTarget, Tag("@callback")],
    Discriminator(
        _pick(_ACTION_TAGS),
        custom_error_type="action_kind",
        custom_error_message="il faut une seule de ces clés : service, menu, message, callback",
    ),
]
OverflowTarget = Annotated[
    Annotated[ServiceTarget, Tag("@service")]
    | Annotated[MessageTarget, Tag("@message")]
    | Annotated[CallbackTarget, Tag("@callback")],
    Discriminator(
        _pick(_OVERFLOW_TAGS),
        custom_error_type="overflow_kind",
        custom_error_message="il faut une seule de ces clés : service, message, callback",
    ),
]


# --- Settings ----------------------------------------------------------------------------------


class Settings(_Strict):
    ring_cycle_s: float = Field(
        default=5.0, gt=0, le=30, description="Length of one ring cycle in seconds (5 in France)."
    )
    timezone: str = Field(default="Europe/Paris", description="IANA time zone of every hour.")
    holidays_country: str = Field(
        default="FR", description="Country of the public holidays (python-holidays code)."
    )
    holidays_subdivision: str | None = Field(
        default=None, description="Subdivision of the public holidays (e.g. 57 for Moselle)."
    )
    caller_id_format: str = Field(
        default="[{tag}] {number}",
        description="Caller id shown on agents' phones; placeholders {tag}, {number}, {name}"
        " written plainly (no conversion or format), 100 characters at most once filled.",
    )
    anonymous_number: str = Field(
        default="anonyme", description="What {number} shows when the caller's number is hidden."
    )
    invalid_prompt: PromptId = Field(description="Default prompt after an invalid key.")
    timeout_prompt: PromptId | None = Field(
        default=None, description="Default prompt after no key within the timeout."
    )
    callback_after_cut: bool = Field(
        default=False,
        description="Put on the callback list (kind 'cut') the callers whose wait for a service"
        " was cut by the PBX or the link to it (Asterisk restarted); by default they are not"
        " owed a callback: they did not give up.",
    )


# --- Opening hours -----------------------------------------------------------------------------


class PublicHolidays(StrEnum):
    CLOSED = "closed"
    OPEN = "open"  # public holidays are ordinary days (use exceptions for the odd ones)


class DatedException(_Strict):
    """One day that differs from the week: closed (no slots) or other hours."""

    date: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")] = Field(
        description="YYYY-MM-DD (quote it in YAML)."
    )
    slots: list[Slot] = Field(default_factory=list, description="Empty: closed all day.")
    label: str | None = None


class Schedule(_Strict):
    """Weekly opening slots in local time, public holidays, dated exceptions."""

    weekly: dict[DayName, list[Slot]] = Field(description="Days absent are closed.")
    public_holidays: PublicHolidays = PublicHolidays.CLOSED
    exceptions: list[DatedException] = Field(default_factory=list)


# --- Services ----------------------------------------------------------------------------------


class Overflow(_Strict):
    """Where calls go when the service cannot take them; ``otherwise`` covers missing reasons."""

    no_answer: OverflowTarget | None = Field(default=None, description="No answer within rings.")
    busy: OverflowTarget | None = Field(default=None, description="Every present agent busy.")
    nobody: OverflowTarget | None = Field(default=None, description="No agent present.")
    closed: OverflowTarget | None = Field(default=None, description="Outside opening hours.")
    otherwise: OverflowTarget


MohClass = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_-]+$", max_length=64),
    Field(
        description="What the caller hears between the announcements: an Asterisk music on hold"
        " class (musiconhold.conf, e.g. default), or ring for the ring tone."
    ),
]

# The ``music`` value that means the ring tone instead of a music on hold class.
RING_TONE = "ring"


class Queue(_Strict):
    """Callers who find every present agent busy wait here for the next free agent, in turn."""

    max_wait_s: float = Field(
        gt=0,
        le=3600,
        description="Longest wait in the queue, in seconds; then the busy overflow applies.",
    )
    prompt: PromptId = Field(
        default="file_attente", description="Said when the caller starts waiting."
    )
    repeat_prompt: PromptId | None = Field(
        default=None, description="Said at each following announcement (default: prompt)."
    )
    announce_every_s: float | None = Field(
        default=None,
        ge=10,
        le=600,
        description="Announce again this often (seconds from the start of the previous"
        " announcement); absent: once, when the caller starts waiting.",
    )
    position: bool = Field(
        default=False,
        description="Tell the caller their position in the queue at each announcement.",
    )
    music: MohClass = "default"


class Service(_Strict):
    name: DisplayName = Field(description="Display name (French), on one line.")
    tag: str = Field(
        min_length=1, max_length=16, description="Short tag shown on agents' phones, e.g. CCAS."
    )
    agents: list[Endpoint] = Field(min_length=1)
    strategy: Strategy = Strategy.RING_ALL
    rings: int = Field(ge=1, le=60, description="Ring for this many ring cycles, then overflow.")
    rings_per_agent: int | None = Field(
        default=None,
        ge=1,
        le=60,
        description="One-at-a-time strategies: rings given to each agent (default 3).",
    )
    hours: Identifier | None = Field(default=None, description="Schedule id; absent: always open.")
    closed_prompt: PromptId | None = Field(
        default=None, description="Played before the closed overflow (e.g. the opening hours)."
    )
    name_prompt: PromptId | None = Field(
        default=None,
        description="The service's name as said to agents (phone codes' confirmations), e.g. "
        "'le CCAS'; absent: 'le service numéro N'.",
    )
    queue: Queue | None = Field(
        default=None,
        description="Callers wait for the next free agent when every present agent is busy;"
        " absent: they overflow (busy) at once.",
    )
    overflow: Overflow


# --- Voice menus -------------------------------------------------------------------------------


class Menu(_Strict):
    # ``name:`` left empty is refused as empty (below) rather than taken as absent, so the
    # schema says a text, not "a text or null".
    name: DisplayName | None = Field(
        default=None,
        description="Display name (French), on one line, e.g. Menu d'accueil; absent: one"
        " made from the menu's id (« menu droit famille »).",
        json_schema_extra=_text_or_absent,
    )
    greeting: PromptId | None = Field(
        default=None, description="Played once before the prompt when a call starts here."
    )
    prompt: PromptId
    keys: dict[DtmfKey, MenuAction] = Field(min_length=1)
    timeout_s: float = Field(default=6.0, gt=0, le=60)
    retries: int = Field(default=2, ge=0, le=9, description="Invalid keys/timeouts tolerated.")
    invalid_prompt: PromptId | None = Field(default=None, description="Default: settings.")
    timeout_prompt: PromptId | None = Field(default=None, description="Default: settings.")
    repeat_key: DtmfKey | None = Field(default="*", description="Replays the menu prompt.")
    fallback: MenuAction = Field(description="Taken after the retries are exhausted.")

    @field_validator("name", mode="before")
    @classmethod
    def _name_left_empty(cls, value: Any) -> Any:
        if value is None:  # ``name:`` with nothing after it: an empty name, not an absent one
            raise PydanticCustomError("string_too_short", "the name is empty")
        return value


# --- Entry: which dialled numbers lead where ---------------------------------------------------


class EntryRoute(_Strict):
    """Matched in order; a route without ``numbers`` matches any number (it must come last)."""

    numbers: list[Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 .]{1,24}$")]] | None = (
        None
    )
    menu: Identifier | None = None
    service: Identifier | None = None
    hours: Identifier | None = Field(default=None, description="Absent: always answered.")
    closed_message: PromptId | None = Field(default=None, description="Needed with hours.")


# --- Satisfaction surveys ----------------------------------------------------------------------


class Question(_Strict):
    id: Identifier
    prompt: PromptId
    scale: Scale


class Survey(_Strict):
    services: list[Identifier] | Literal["all"] = "all"
    one_in: int = Field(default=1, ge=1, description="Sampling: 1 = every call, N = 1 in N.")
    consent_prompt: PromptId
    thanks_prompt: PromptId
    timeout_s: float = Field(default=6.0, gt=0, le=60)
    questions: list[Question] = Field(min_length=1, max_length=3)


class RulesFile(_Strict):
    """The routing rules of decroche (one YAML file)."""

    version: Literal[1] = 1
    settings: Settings
    schedules: dict[Identifier, Schedule] = Field(default_factory=dict)
    services: dict[Identifier, Service] = Field(min_length=1)
    menus: dict[Identifier, Menu] = Field(default_factory=dict)
    entry: list[EntryRoute] = Field(min_length=1)
    surveys: dict[Identifier, Survey] = Field(default_factory=dict)


def json_schema() -> dict[str, Any]:
    schema = RulesFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://decroche.bernay.fr/schemas/routing-rules.json"
    return schema

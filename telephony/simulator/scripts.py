"""Scripted people: what a simulated caller and a simulated agent do.

Scripts are data (pydantic, unknown keys refused) so that the control API, the demo and tests
describe people the same way. Times are seconds of the PBX's clock.
"""

from __future__ import annotations

import math
import random
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_ENDPOINT = re.compile(r"^[A-Za-z0-9_]+/[^/\s]+$")
_DIGITS = re.compile(r"^[0-9*#A-Da-d]+$")
_EXTEN = re.compile(r"^[^/@\s]+$")  # what a REFER's Refer-To user part can be here


class _Script(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_endpoint(value: str) -> str:
    if not _ENDPOINT.match(value):
        raise ValueError(f"endpoint must look like 'PJSIP/1042', got {value!r}")
    return value


class KeyPress(_Script):
    """Keys a caller presses, ``after`` seconds after a trigger.

    ``on="answer"``: counted from the moment the PBX answers the call. ``on="prompt"``: counted from
    the start of the next prompt (each media item of a playback counts), optionally only a prompt
    whose media is ``media`` (e.g. ``sound:vm-options``). Presses are handled in order: a press
    waits for its trigger only once the previous one has been pressed.
    """

    digits: str
    after: float = Field(default=1.0, ge=0)
    on: Literal["answer", "prompt"] = "prompt"
    media: str | None = None
    duration_ms: int = Field(default=280, gt=0, le=10_000)
    gap: float = Field(default=0.2, ge=0)

    @field_validator("digits")
    @classmethod
    def _digits(cls, value: str) -> str:
        if not _DIGITS.match(value):
            raise ValueError(f"digits must be DTMF keys (0-9 * # A-D), got {value!r}")
        return value


class CallerScript(_Script):
    """A person calling the town hall.

    - ``patience``: seconds from the call's arrival until the caller gives up if nobody talks to
      them (not bridged with another channel yet); before answer it is a CANCEL (cause 127/487),
      after it a BYE.
    - ``talk_time``: once bridged with someone, the caller hangs up after this long.
    - ``hangup_after``: hang up this long after the answer, whatever happens (None: never).
    - ``survey``: answers (keys) to the satisfaction questions; a caller with answers stays on the
      line when the agent hangs up and answers each prompt ``survey_delay`` s after it starts.
      Without answers the caller hangs up ``linger`` s after the other party left.
    - ``context``: the dialplan context the call starts in; None: the operator's calls'
      (``DialplanConfig.inbound_context``). An agent's phone dialling a code (``*51``...) uses
      ``from-agents`` with its own endpoint (``endpoint="PJSIP/1101", dialled="*53"``).
    """

    caller_number: str = "0600000001"
    caller_name: str = ""
    dialled: str = "0232000000"
    endpoint: str = "PJSIP/caller"
    app: str | None = None
    keys: tuple[KeyPress, ...] = ()
    patience: float = Field(default=120.0, gt=0)
    talk_time: float = Field(default=60.0, ge=0)
    hangup_after: float | None = Field(default=None, ge=0)
    survey: tuple[str, ...] = ()
    survey_delay: float = Field(default=2.0, ge=0)
    linger: float = Field(default=1.0, ge=0)
    max_duration: float = Field(default=3600.0, gt=0)
    context: str | None = None

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        return _check_endpoint(value)

    @field_validator("dialled")
    @classmethod
    def _dialled(cls, value: str) -> str:
        if not value or "/" in value or any(c.isspace() for c in value):
            raise ValueError(f"dialled must be a dialplan extension, got {value!r}")
        return value

    @field_validator("survey")
    @classmethod
    def _survey(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for answer in value:
            if not _DIGITS.match(answer):
                raise ValueError(f"survey answers must be DTMF keys, got {answer!r}")
        return value


class Drawn(_Script):
    """A duration drawn afresh for each call (a person is not a metronome): lognormal around
    ``median`` seconds, ``spread`` its shape σ (0: the median every time; 0.5: half the draws
    within ×0.7 to ×1.4 of it), kept within ``low`` and ``high``.

    In JSON: ``{"median": 8, "spread": 0.5, "low": 2, "high": 40}`` where a number would go.
    """

    median: float = Field(ge=0)
    spread: float = Field(default=0.0, ge=0, le=3)
    low: float = Field(default=0.0, ge=0)
    high: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _bounds(self) -> Drawn:
        if self.high is not None and self.high < self.low:
            raise ValueError(f"high ({self.high:g}) must not be below low ({self.low:g})")
        return self

    def draw(self, rng: random.Random) -> float:
        if self.spread == 0 or self.median == 0:
            value = self.median
        else:
            value = self.median * math.exp(rng.gauss(0.0, self.spread))
        value = max(self.low, value)
        return value if self.high is None else min(self.high, value)


Duration = Annotated[float, Field(ge=0)] | Drawn


def draw(duration: Duration, rng: random.Random) -> float:
    """A fixed duration, or one drawn from ``rng``."""
    return duration.draw(rng) if isinstance(duration, Drawn) else duration


AgentResponse = Literal["answer", "busy", "decline", "no_answer", "unreachable"]


class AgentScript(_Script):
    """A phone an agent answers (or not).

    ``response``: ``answer`` after ``ring_time``; ``busy`` (SIP 486); ``decline`` (603);
    ``no_answer`` (rings until the dial timeout or the app hangs up); ``unreachable`` (registered
    but never replies: SIP timer B, 408 after 32 s). An unregistered endpoint cannot even get a
    channel (500 "Allocation failed"). ``talk_time``: the agent hangs up this long after answering
    (None: waits for the other side). ``busy_when_in_use``: a second call while one is up gets 486.
    ``ring_time`` and ``talk_time`` are seconds, or a :class:`Drawn` duration drawn for each call
    from the agent's own generator (``seed``: repeatable draws; None: fresh ones).

    Blind transfer: with ``transfer_to`` the phone sends a SIP REFER to that number
    ``transfer_after`` s after it started talking with someone (bridged), and hangs up
    ``transfer_hangup_delay`` s after the final NOTIFY 200 (0.3 s on the recordings). Whether
    Asterisk carries the transfer out or hands it to the app depends on the channel's
    ``PJSIP_TRANSFER_HANDLING()`` (see ``transfer``).
    """

    endpoint: str
    name: str = ""
    number: str = ""
    registered: bool = True
    response: AgentResponse = "answer"
    ring_time: Duration = 3.0
    talk_time: Duration | None = None
    seed: int | None = None
    busy_when_in_use: bool = True
    transfer_to: str | None = None
    transfer_after: float = Field(default=30.0, ge=0)
    transfer_hangup_delay: float = Field(default=0.3, ge=0)

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        return _check_endpoint(value)

    @field_validator("transfer_to")
    @classmethod
    def _transfer_to(cls, value: str | None) -> str | None:
        if value is not None and not _EXTEN.match(value):
            raise ValueError(f"transfer_to must be a dialplan extension, got {value!r}")
        return value

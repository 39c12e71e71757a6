"""How a call leaves a service and how an agent's leg ends: the words routing decides with.

The routing decisions after ringing (:mod:`routing_rules.routing.after_ringing`) read how each
leg ended and say how the call left the service; the call records keep the very same values
(``telephony.records.model`` takes them from here), so the decision and the figures speak one
vocabulary. Plain enums, no imports: the records may depend on this module cheaply.
"""

from __future__ import annotations

from enum import StrEnum


class EntryOutcome(StrEnum):
    """How a call left one service it entered."""

    ANSWERED = "answered"
    ABANDONED = "abandoned"
    OVERFLOW_TIMEOUT = "overflow_timeout"  # no answer within N rings
    OVERFLOW_BUSY = "overflow_busy"  # all agents busy
    OVERFLOW_NOBODY = "overflow_nobody"  # nobody signed in / registered
    OVERFLOW_CLOSED = "overflow_closed"  # outside opening hours
    MESSAGE = "message"  # the service played a message and hung up
    CALLBACK = "callback"  # the caller left a callback request
    TRANSFERRED = "transferred"  # the agent transferred the call away
    INTERRUPTED = "interrupted"  # decroche stopped or crashed meanwhile
    # Ended by the PBX or the link to it (Asterisk restarted, the link failed): nobody hung up.
    CUT = "cut"

    @property
    def is_overflow(self) -> bool:
        return self.value.startswith("overflow_")


class LegOutcome(StrEnum):
    """How one agent's phone leg ended."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"  # rang until decroche (or Asterisk's dial timeout) gave up
    BUSY = "busy"  # cause 17 / 486
    UNREACHABLE = "unreachable"  # not registered, allocation failed, cause 20/27/...
    DECLINED = "declined"  # cause 21 / 603
    CANCELLED = "cancelled"  # stopped because another agent answered or the caller left
    FAILED = "failed"

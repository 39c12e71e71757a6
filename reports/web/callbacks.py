"""The calls to call back, as the agents' page needs them (the composition root adapts the
record store to it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from telephony.records.model import PendingCallback

__all__ = ["CALLBACK_KINDS_FR", "CallbackBook", "PendingCallback"]

# Why the callback is owed, as the agent reads it.
CALLBACK_KINDS_FR = {
    "requested": "demandé par l'appelant",
    "abandoned": "appel abandonné",
    "overflowed": "appel non décroché",
    "cut": "appel coupé par le central",
}


class CallbackBook(Protocol):
    def pending_callbacks(self, service_id: str | None = None) -> Sequence[PendingCallback]: ...

    def mark_callback_done(self, call_id: str, position: int, *, by: str, at: datetime) -> bool:
        """Record that ``by`` called back; False when it was no longer pending."""
        ...

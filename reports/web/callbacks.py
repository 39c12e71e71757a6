"""The calls to call back, as the agents' page needs them (``RecordStore`` implements it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from telephony.records.store import PendingCallback


class CallbackBook(Protocol):
    def pending_callbacks(self, service_id: str | None = None) -> Sequence[PendingCallback]: ...

    def mark_callback_done(self, call_id: str, position: int, *, by: str, at: datetime) -> None: ...

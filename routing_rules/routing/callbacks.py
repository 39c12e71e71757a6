"""Callbacks owed (Plan téléphone): a caller who gave up waiting for a service, or whom no service
could take, is called back — when the network gave the number and the caller left no request.

The number is then kept in the callback list only, until the callback is done or expires.
"""

from __future__ import annotations

from typing import Literal

from routing_rules.outcomes import EntryOutcome

OwedKind = Literal["abandoned", "overflowed"]


def owed_callback(
    last_exit: EntryOutcome | None, *, has_number: bool, requested: bool
) -> OwedKind | None:
    """Whether the call is owed a callback, and why, from how it left its last service (None:
    it reached no service), whether the caller's number is known and whether the caller already
    asked for a callback."""
    if requested or not has_number or last_exit is None:
        return None
    if last_exit is EntryOutcome.ABANDONED:
        return "abandoned"
    if last_exit.is_overflow or last_exit is EntryOutcome.MESSAGE:
        return "overflowed"
    return None

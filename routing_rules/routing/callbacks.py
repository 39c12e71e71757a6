"""Callbacks owed (Plan téléphone): a caller who gave up waiting for a service, or whom no service
could take, is called back — when the network gave the number and the caller left no request.

A caller whose wait was *cut* by the PBX or the link to it (Asterisk restarted) did not give up:
no "abandoned call" callback, unless the rules ask for one (``settings.callback_after_cut``,
kind ``cut``).

The number is then kept in the callback list only, until the callback is done or expires.
"""

from __future__ import annotations

from typing import Literal

from routing_rules.outcomes import EntryOutcome

OwedKind = Literal["abandoned", "overflowed", "cut"]


def owed_callback(
    last_exit: EntryOutcome | None,
    *,
    has_number: bool,
    requested: bool,
    after_cut: bool = False,
) -> OwedKind | None:
    """Whether the call is owed a callback, and why, from how it left its last service (None:
    it reached no service), whether the caller's number is known, whether the caller already
    asked for a callback, and whether the rules call back the callers cut while waiting
    (``after_cut``)."""
    if requested or not has_number or last_exit is None:
        return None
    if last_exit is EntryOutcome.ABANDONED:
        return "abandoned"
    if last_exit.is_overflow or last_exit is EntryOutcome.MESSAGE:
        return "overflowed"
    if last_exit is EntryOutcome.CUT and after_cut:
        return "cut"
    return None

"""Whether decroche hears Asterisk right now: the event WebSocket is open and, after a
reconnection, the resync has said which calls are still there.

While the link is down, events are lost (Asterisk never replays them): a timer that runs out
then says nothing — the phone may have answered, the caller may have hung up, Asterisk may be
restarting and every call gone. So the calls hold what they would decide on a timeout until the
link's verdict (:meth:`Link.wait_up`): the resync either ends the calls Asterisk lost (cut) or
lets the others go on. Nobody is rung, overflowed or hung up on a guess.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

# How long, in clock seconds, a call waits for the link before it is cut: Asterisk restarts in
# a few seconds; longer, the call cannot be carried on anyway.
LINK_WAIT_S = 30.0


class Link:
    def __init__(self) -> None:
        self._up = asyncio.Event()
        # When the link went down (the decroche clock's time), while it is down.
        self.lost_at: datetime | None = None

    @property
    def up(self) -> bool:
        return self._up.is_set()

    def lost(self, at: datetime) -> None:
        """The WebSocket closed at ``at``: events may be lost from then on."""
        if self._up.is_set() or self.lost_at is None:
            self.lost_at = at
        self._up.clear()

    def restored(self) -> None:
        """Connected again and resynchronised: what goes on goes on."""
        self.lost_at = None
        self._up.set()

    async def wait_up(self, real_seconds: float) -> bool:
        """Wait (``real_seconds`` at most) for the link to be restored; True if it is."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._up.wait(), real_seconds)
        return self.up

"""What the demo's agents do at their desk between two calls: they call back the people owed a
callback (a caller who gave up, a call no one could take, a callback asked for), and note it done
on the list, as an agent does on the agents' page — through the same record store calls
(:class:`decroche.web.CallbackDesk`), at the simulated time, so that the callback figures (done,
delay) read as a town hall's would.

A few times a day (:data:`ROUNDS`, local time, days with traffic), the agents take the list of
their services; each callback asked at least :data:`MIN_AGE_S` before is made with probability
:data:`DONE_PER_ROUND` (the number did not answer, there was no time...): most are done the same
day, some wait for the next round, the last ones of the demo stay on the list.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from decroche.web import CallbackDesk
from telephony.clock import Clock
from telephony.records.writer import RecordWriter

# When the agents go through their list of callbacks, by weekday (0 = Monday), local time.
_WEEKDAY_ROUNDS = (time(9, 45), time(11, 15), time(14, 30), time(16, 0), time(17, 15))
ROUNDS: Mapping[int, tuple[time, ...]] = {
    **dict.fromkeys(range(5), _WEEKDAY_ROUNDS),
    5: (time(11, 30),),
}
MIN_AGE_S = 15 * 60.0
DONE_PER_ROUND = 0.6


def callback_rounds(days: Iterable[date], tz: ZoneInfo) -> list[datetime]:
    """The moments of the agents' callback rounds over ``days`` (aware, local)."""
    return sorted(
        datetime.combine(day, at, tzinfo=tz) for day in days for at in ROUNDS.get(day.weekday(), ())
    )


@dataclass(frozen=True, slots=True)
class CallbackRound:
    """One round: who notes the callbacks of each service (a login), and the draws."""

    desk: CallbackDesk
    writer: RecordWriter
    clock: Clock
    logins: Mapping[str, str]  # service id -> the login noted as having called back
    rng: random.Random

    async def run(self) -> int:
        """Call back who is owed it now; the number done."""
        # The calls finished so far must be in the store to be on the list.
        await self.writer.drain()
        pending = await asyncio.to_thread(self.desk.pending_callbacks)
        now = self.clock.now()
        done = 0
        for callback in pending:
            if (now - callback.at).total_seconds() < MIN_AGE_S:
                continue
            if self.rng.random() >= DONE_PER_ROUND:
                continue
            by = self.logins.get(callback.service_id, "agent")
            if await asyncio.to_thread(
                self.desk.mark_callback_done, callback.call_id, callback.position, by=by, at=now
            ):
                done += 1
        return done


def demo_login(tag: str) -> str:
    """The login noted for the agents of a service (its tag): ``agent-ccas`` for the CCAS, the
    demo's agent account."""
    return f"agent-{tag.lower()}"


def at_least(moment: datetime, after: datetime) -> datetime:
    """``moment``, or just after ``after`` when it is earlier (a round never runs backwards)."""
    return moment if moment > after else after + timedelta(microseconds=1)

"""Sign-in throttling: password guessing slowed per account and per address, hashing bounded.

Without it, 30 wrong passwords in 9 s were followed by the right one, accepted; and each attempt
costs one Argon2 hash (64 MiB for a fraction of a second), so 24 attempts at once took 260 MB.

- :class:`SignInThrottle` counts consecutive failed sign-ins per account and per address. Past
  ``free`` failures, the next attempt must wait a delay that doubles with each new failure, from
  ``first_delay`` up to ``max_delay`` (as Keycloak's brute-force detection does). While it
  waits, even the right password is refused, without being checked: the answer never tells a
  good guess. A success clears the account's count; an address's count is forgotten after
  ``forget_after`` without failure. Times come from the caller (the web app's clock), so tests
  run in injected time. Memory is bounded: at most ``max_keys`` accounts and addresses are
  remembered, the least recently failed forgotten first.
- :class:`HashGate` lets ``slots`` password checks run at once; others wait their turn, and past
  ``max_waiting`` waiting, an attempt is refused at once (the page says to retry shortly).

Messages are French: the page shows them as they are.
"""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta


class Throttled(Exception):
    """Too many failed sign-ins: ``retry_after_s`` before the next attempt; French message."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class GateBusy(Exception):
    """Too many sign-ins waiting for a password check; French message."""


@dataclass(frozen=True, slots=True)
class ThrottleRule:
    free: int  # consecutive failures allowed before any delay
    first_delay: timedelta
    max_delay: timedelta

    def delay(self, failures: int) -> timedelta:
        if failures < self.free:
            return timedelta(0)
        doubled: timedelta = self.first_delay * 2 ** min(failures - self.free, 30)
        return min(doubled, self.max_delay)


ACCOUNT_RULE = ThrottleRule(
    free=5, first_delay=timedelta(minutes=1), max_delay=timedelta(minutes=15)
)
# An address may try several accounts (a shared office PC): more room, the same delays.
ADDRESS_RULE = ThrottleRule(
    free=20, first_delay=timedelta(minutes=1), max_delay=timedelta(minutes=15)
)


@dataclass(slots=True)
class _Failures:
    count: int
    last: datetime


def _wait_fr(seconds: float) -> str:
    if seconds <= 60:
        return "dans une minute"
    return f"dans {math.ceil(seconds / 60)} minutes"


class SignInThrottle:
    def __init__(
        self,
        account_rule: ThrottleRule = ACCOUNT_RULE,
        address_rule: ThrottleRule = ADDRESS_RULE,
        *,
        forget_after: timedelta = timedelta(minutes=30),
        max_keys: int = 10_000,
    ) -> None:
        self._rules = {"account": account_rule, "address": address_rule}
        self._forget_after = forget_after
        self._max_keys = max_keys
        self._failures: OrderedDict[tuple[str, str], _Failures] = OrderedDict()

    def check(self, login: str, address: str, now: datetime) -> None:
        """Raise :class:`Throttled` if this attempt must wait (before checking the password)."""
        waits: list[tuple[float, str]] = []
        for kind, key in (("account", login), ("address", address)):
            seen = self._seen(kind, key, now)
            if seen is None:
                continue
            remaining = (seen.last + self._rules[kind].delay(seen.count) - now).total_seconds()
            if remaining > 0:
                waits.append((remaining, kind))
        if not waits:
            return
        remaining, kind = max(waits)
        where = "pour ce compte" if kind == "account" else "depuis ce poste"
        raise Throttled(
            f"Trop d'essais de connexion {where} : réessayez {_wait_fr(remaining)}.",
            math.ceil(remaining),
        )

    def failed(self, login: str, address: str, now: datetime) -> None:
        for kind, key in (("account", login), ("address", address)):
            seen = self._seen(kind, key, now)
            count = 1 if seen is None else seen.count + 1
            self._failures[(kind, key)] = _Failures(count, now)
            self._failures.move_to_end((kind, key))
        while len(self._failures) > self._max_keys:
            self._failures.popitem(last=False)

    def succeeded(self, login: str) -> None:
        self._failures.pop(("account", login), None)

    def _seen(self, kind: str, key: str, now: datetime) -> _Failures | None:
        seen = self._failures.get((kind, key))
        if seen is not None and now - seen.last >= self._forget_after:
            del self._failures[(kind, key)]
            return None
        return seen


class HashGate:
    """At most ``slots`` password checks at once, at most ``max_waiting`` waiting for one."""

    def __init__(self, slots: int = 2, max_waiting: int = 16) -> None:
        self._semaphore = asyncio.Semaphore(slots)
        self._max_waiting = max_waiting
        self._waiting = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._semaphore.locked() and self._waiting >= self._max_waiting:
            raise GateBusy("Trop de connexions en même temps : réessayez dans quelques secondes.")
        self._waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            self._semaphore.release()


@dataclass(slots=True)
class SignInGuard:
    """What the sign-in page holds for the life of the web app."""

    throttle: SignInThrottle = field(default_factory=SignInThrottle)
    gate: HashGate = field(default_factory=HashGate)

"""The rules in force, their reloads, and the watcher that notices the file changing.

Like Alertmanager's coordinator: a reload validates the whole file first; a valid file is
swapped in with one reference assignment (new calls get it, calls in progress keep the
:class:`CompiledRules` object they started with); an invalid file is refused, logged with
every problem, and the previous rules stay in force. Each attempt is kept in a short history
(when, triggered how and by whom, the file's hash, ok or the problems) for the status page.

The watcher polls the file's mtime and size on a real-time interval (not the simulation Clock:
IT edits files in wall-clock time) and reloads when the content hash changed. The service calls
:meth:`RulesHolder.reload_async` itself on SIGHUP.

In the service, a reload reads, parses and checks the file in a worker thread (a file at the
loader's size limit takes seconds of pure Python): the event loop goes on running calls' timers
and events meanwhile, and the swap itself — one assignment, then the listeners — is done on the
loop. Reloads asked together run one after the other.
"""

from __future__ import annotations

import gc
import hashlib
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from routing_rules.cache import RulesCache
from routing_rules.compiled import CompiledRules
from routing_rules.errors import Problem, RulesInvalid
from routing_rules.source import read_rules_file, version_of

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger(__name__)


class Trigger(StrEnum):
    STARTUP = "startup"
    FILE_CHANGE = "file change"
    SIGHUP = "SIGHUP"
    API = "api"


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    at: datetime
    trigger: Trigger
    by: str | None  # who asked (API user), when known
    version: str | None  # hash of the file read (None if it could not be read)
    ok: bool
    changed: bool  # a new version was swapped in
    problems: tuple[Problem, ...] = ()


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _default_catalogue() -> Iterable[str]:
    from ivr_prompts.catalogue import load_catalogue

    return load_catalogue().keys()


class RulesHolder:
    """The current compiled rules; raises :class:`RulesInvalid` if the file is bad at start-up.

    With a ``cache``, a file already checked (same bytes, same catalogue, same code) is taken
    from it instead of being checked again (:mod:`routing_rules.cache`).
    """

    def __init__(
        self,
        path: Path,
        *,
        catalogue: Callable[[], Iterable[str]] = _default_catalogue,
        now: Callable[[], datetime] = _utc_now,
        history_size: int = 50,
        cache: RulesCache | None = None,
    ) -> None:
        self.path = path
        self._cache = cache
        self._catalogue = catalogue
        self._now = now
        self._history: deque[ReloadOutcome] = deque(maxlen=history_size)
        self._current = self._load()
        self._listeners: list[Callable[[CompiledRules], None]] = []
        # One reload at a time (the last one asked wins); made by the first reload on the loop.
        self._reloading: asyncio.Lock | None = None
        self._history.append(
            ReloadOutcome(now(), Trigger.STARTUP, None, self._current.version, True, True)
        )

    @property
    def current(self) -> CompiledRules:
        return self._current

    @property
    def version(self) -> str:
        return self._current.version

    @property
    def history(self) -> tuple[ReloadOutcome, ...]:
        """Oldest first."""
        return tuple(self._history)

    @property
    def last(self) -> ReloadOutcome:
        return self._history[-1]

    def add_listener(self, listener: Callable[[CompiledRules], None]) -> None:
        """Call ``listener(new_rules)`` after each swap (in the thread that reloaded)."""
        self._listeners.append(listener)

    def _load(self) -> CompiledRules:
        raw = read_rules_file(self.path)
        lookup = self._cache.lookup(self.path, version_of(raw)) if self._cache else None
        if lookup is not None and lookup.rules is not None:
            return lookup.rules
        try:
            catalogue = list(self._catalogue())
        except Exception as exc:  # the catalogue loader is pluggable; any failure refuses
            raise RulesInvalid([Problem("prompt catalogue", 1, 1, str(exc))]) from exc
        from routing_rules.loader import validate_bytes  # here: a cached file needs no check

        rules = validate_bytes(raw, self.path, catalogue)
        if self._cache is not None and lookup is not None:
            self._cache.keep(lookup.key, rules)
        return rules

    def reload(self, trigger: Trigger = Trigger.API, by: str | None = None) -> ReloadOutcome:
        """Validate the file again; swap it in if valid, keep the current rules otherwise
        (in the caller's thread: the commands and tests; the service uses :meth:`reload_async`)."""
        return self._conclude(trigger, by, self._attempt())

    async def reload_async(
        self, trigger: Trigger = Trigger.API, by: str | None = None
    ) -> ReloadOutcome:
        """:meth:`reload`, the file read and checked in a worker thread so that the event loop
        never waits for it; the swap and the listeners happen back on the loop."""
        import asyncio  # here: the commands, which never reload, start without it

        if self._reloading is None:
            self._reloading = asyncio.Lock()
        async with self._reloading:
            attempt = await asyncio.to_thread(self._attempt_uncollected)
            return self._conclude(trigger, by, attempt)

    def _attempt_uncollected(self) -> CompiledRules | tuple[RulesInvalid, str | None]:
        """:meth:`_attempt` with the cyclic garbage collector paused: parsing allocates some
        hundred thousand short-lived objects (freed by reference counting), enough to set off
        full collections, each holding the interpreter — and so the event loop — for a quarter
        of a second (measured on the largest file the loader takes)."""
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._attempt()
        finally:
            if was_enabled:
                gc.enable()

    def _attempt(self) -> CompiledRules | tuple[RulesInvalid, str | None]:
        """The file read and checked: its rules, or why not with the hash of what was read."""
        try:
            return self._load()
        except RulesInvalid as exc:
            return exc, _hash_of(self.path)

    def _conclude(
        self,
        trigger: Trigger,
        by: str | None,
        attempt: CompiledRules | tuple[RulesInvalid, str | None],
    ) -> ReloadOutcome:
        if isinstance(attempt, tuple):
            exc, version = attempt
            outcome = ReloadOutcome(
                self._now(), trigger, by, version, False, False, tuple(exc.problems)
            )
            log.error(
                "rules reload (%s) refused, keeping version %s:\n%s",
                trigger.value,
                self._current.version,
                exc,
            )
        else:
            candidate = attempt
            changed = candidate.version != self._current.version
            if changed:
                self._current = candidate  # one assignment: atomic for every reader
                log.info("rules version %s in force (%s)", candidate.version, trigger.value)
                for listener in self._listeners:
                    try:
                        listener(candidate)
                    except Exception:  # a listener must not undo a reload that succeeded
                        log.exception("rules listener failed after version %s", candidate.version)
            outcome = ReloadOutcome(self._now(), trigger, by, candidate.version, True, changed)
        self._history.append(outcome)
        return outcome


def _hash_of(path: Path) -> str | None:
    try:
        return version_of(path.read_bytes())
    except OSError:
        return None


class RulesWatcher:
    """Polls the rules file; reloads the holder when its content changed."""

    def __init__(self, holder: RulesHolder, interval_s: float = 2.0) -> None:
        if interval_s <= 0:
            raise ValueError(f"watch interval must be positive, got {interval_s}")
        self.holder = holder
        self.interval_s = interval_s
        self._seen_stat = self._stat()
        # The content last tried, valid or not: an invalid file is reported once, not per poll.
        self._seen_hash: str | None = holder.version

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.holder.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def poll(self) -> ReloadOutcome | None:
        """One look at the file; the outcome when a reload was attempted (in this thread)."""
        return self.holder.reload(Trigger.FILE_CHANGE) if self._changed() else None

    def _changed(self) -> bool:
        """Whether the file's content changed since the last look (reads it: a worker thread's
        job in the service)."""
        stat = self._stat()
        if stat == self._seen_stat:
            return False
        self._seen_stat = stat
        try:
            content_hash: str | None = hashlib.sha256(self.holder.path.read_bytes()).hexdigest()
        except OSError:
            content_hash = None
        version = content_hash[:16] if content_hash else None
        if version is not None and version == self._seen_hash:
            return False  # touched, same content
        self._seen_hash = version
        return True

    async def run(self) -> None:
        """Poll until cancelled (the composition root runs it as a task); the file is looked
        at and reloaded off the event loop."""
        import asyncio  # here: see RulesHolder.reload_async

        while True:
            await asyncio.sleep(self.interval_s)
            try:
                if await asyncio.to_thread(self._changed):
                    await self.holder.reload_async(Trigger.FILE_CHANGE)
            except Exception:  # never let the watcher die: the service would stop reloading
                log.exception("rules watcher: unexpected error, still watching")

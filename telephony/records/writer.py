"""The record writer: the call flow hands records over and never waits on the database.

``call_started``/``call_finished``/``touch`` put an item on a thread-safe queue and return at
once. A background thread takes the items in batches and writes them to the database in one
transaction per batch. When the database is down, locked or refusing, the batch goes to the
local :class:`Journal` (fsync'd) instead, and so does everything after it, so that order is
kept; the thread retries with a growing delay and, once the database answers, replays the
journal in order, then carries on writing directly.

On start (once the database is reachable) the thread: brings the schema up to date, replays any
journal left by the previous run, then closes calls the previous run started but never
finished as *interrupted*, with what was known of them (``call_progress``: the IVR path, the
services entered, the agents rung and who answered), ending at the last time they were seen
(``touch``, or the last progress) or their start.

Every item carries a sequence number, increasing across restarts (nanosecond time, bumped to
stay strictly increasing): the store skips items not newer than what it already holds, which
makes replays exactly-once and tells this run's calls from the previous run's.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from telephony.records.bounds import bounded_item
from telephony.records.codec import Finished, Progressed, Started, Touched, WriteItem
from telephony.records.errors import JournalError, RecordInputError, StoreUnavailable
from telephony.records.journal import Journal
from telephony.records.model import CallProgress, CallRecord, CallStart
from telephony.records.store import ApplyResult, RecordRejected

log = logging.getLogger(__name__)


class BatchStore(Protocol):
    """What the writer needs from the store: batches applied in one transaction each (a
    :class:`RecordStore`, or ``FlakyStore`` in tests). Not the flow's ``RecordSink``: that is the
    writer itself, seen from the router."""

    def ensure_schema(self) -> None: ...

    def apply(self, items: Sequence[WriteItem]) -> ApplyResult: ...

    def close_interrupted(self, before_seq: int, seq: int) -> int: ...


class WriterState(StrEnum):
    STARTING = "starting"  # not yet reached the database since start
    OK = "ok"  # writing straight to the database
    JOURNALING = "journaling"  # database unavailable: records go to the journal
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class WriterStatus:
    """For /metrics and the health page."""

    state: WriterState
    queued: int  # items waiting in memory
    journal_backlog: int  # items waiting in the journal for the database
    held_in_memory: int  # items neither written nor journaled (journal unwritable)
    calls_in_memory: int  # the calls those items are of: lost if the process ends now
    written: int  # calls written to the database (started + finished)
    journaled: int  # items that went through the journal
    replayed: int  # journal items applied to the database
    skipped: int  # items found already applied (replays after a crash)
    rejected: int  # items the database refused for their content, set aside
    interrupted_closed: int  # calls of a previous run closed as interrupted
    last_error: str | None  # the database's last refusal
    journal_error: str | None  # why the journal cannot be written now (None: it can)


class _Sequencer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self) -> int:
        with self._lock:
            self._last = max(time.time_ns(), self._last + 1)
            return self._last


_WAKE = object()


class RecordWriter:
    def __init__(
        self,
        store: BatchStore,
        journal: Journal,
        *,
        batch_size: int = 500,
        flush_interval_s: float = 0.05,
        retry_min_s: float = 0.5,
        retry_max_s: float = 30.0,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self._store = store
        self._journal = journal
        self._batch_size = batch_size
        self._flush_interval = flush_interval_s
        self._retry_min = retry_min_s
        self._retry_max = retry_max_s
        self._queue: queue.SimpleQueue[WriteItem | object] = queue.SimpleQueue()
        self._seq = _Sequencer()
        self._first_seq = 0
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._idle = threading.Condition()
        self._submitted = 0
        self._handled = 0
        self._held: list[WriteItem] = []
        self._state = WriterState.STOPPED
        self._recovered = False
        self._retry_delay = retry_min_s
        self._next_retry = 0.0
        self._counts = {k: 0 for k in ("written", "journaled", "replayed", "skipped", "rejected")}
        self._interrupted = 0
        self._last_error: str | None = None
        self._journal_error: str | None = None

    # --- the call flow's side: never blocks -----------------------------------------------

    async def call_started(self, start: CallStart) -> None:
        self._put(Started(self._seq.next(), start))

    async def call_finished(self, record: CallRecord) -> None:
        self._put(Finished(self._seq.next(), record))

    def touch(self, call_id: str, at: datetime) -> None:
        """The call is still alive at ``at``: where it will be closed if the service dies."""
        self._put(Touched(self._seq.next(), call_id, at))

    def call_progress(self, progress: CallProgress) -> None:
        """What is known of the call so far: what it will be closed with if the service dies."""
        self._put(Progressed(self._seq.next(), progress))

    def _put(self, item: WriteItem) -> None:
        # Bounded before the journal too: a value PostgreSQL would refuse (NUL, too long) or
        # that cannot be written as UTF-8 (a lone surrogate) must not stop a batch.
        item = bounded_item(item)
        with self._idle:
            self._submitted += 1
        self._queue.put(item)

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the record writer is already started")
        self._first_seq = self._seq.next()
        self._state = WriterState.STARTING
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="record-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Write (or journal) what is queued, then stop the thread."""
        thread = self._thread
        if thread is None:
            return
        self._stopping.set()
        self._queue.put(_WAKE)
        thread.join(timeout)
        if thread.is_alive():
            log.error("record writer did not stop within %.1f s", timeout)
            return
        self._thread = None
        self._state = WriterState.STOPPED

    async def aclose(self, within_s: float = 10.0) -> None:
        await asyncio.to_thread(self.stop, within_s)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every item handed over so far is written, journaled or set aside."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._handled < self._submitted:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    async def drain(self, within_s: float = 10.0) -> bool:
        """Async :meth:`wait_idle` (tests, shutdown)."""
        return await asyncio.to_thread(self.wait_idle, within_s)

    def status(self) -> WriterStatus:
        held = list(self._held)  # the writer thread replaces it, never changes it in place
        return WriterStatus(
            state=self._state,
            queued=self._queue.qsize(),
            journal_backlog=self._journal.backlog,
            held_in_memory=len(held),
            calls_in_memory=len({item.call_id for item in held}),
            written=self._counts["written"],
            journaled=self._counts["journaled"],
            replayed=self._counts["replayed"],
            skipped=self._counts["skipped"],
            rejected=self._counts["rejected"],
            interrupted_closed=self._interrupted,
            last_error=self._last_error,
            journal_error=self._journal_error,
        )

    # --- the writer thread ----------------------------------------------------------------

    def _run(self) -> None:
        # Recover before the first write, so that in the normal case nothing is journaled.
        self._reconnect()
        while True:
            batch = self._take()
            try:
                if batch:
                    self._handle(batch)
                elif self._needs_reconnect() and time.monotonic() >= self._next_retry:
                    self._reconnect()
            except Exception:  # the thread must survive anything, or records would pile up
                log.exception("record writer: unexpected error; items kept in memory")
                self._held = [*self._held, *batch]
            finally:
                if batch:
                    self._mark_handled(len(batch))
            if self._stopping.is_set() and self._queue.empty():
                if self._needs_reconnect():
                    self._reconnect()  # one last chance before stopping
                return

    def _take(self) -> list[WriteItem]:
        wait = self._flush_interval
        if self._needs_reconnect():
            wait = max(0.0, min(wait, self._next_retry - time.monotonic()))
        batch: list[WriteItem] = []
        try:
            first = self._queue.get(timeout=wait if wait > 0 else 0.001)
        except queue.Empty:
            return batch
        if first is not _WAKE:
            batch.append(first)  # type: ignore[arg-type]
        while len(batch) < self._batch_size:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _WAKE:
                batch.append(item)  # type: ignore[arg-type]
        return batch

    def _needs_reconnect(self) -> bool:
        return not self._recovered or bool(self._journal.backlog) or bool(self._held)

    def _mark_handled(self, n: int) -> None:
        with self._idle:
            self._handled += n
            self._idle.notify_all()

    def _handle(self, batch: list[WriteItem]) -> None:
        if self._recovered and not self._journal.backlog and not self._held:
            try:
                self._write(batch)
                return
            except StoreUnavailable as exc:
                self._unavailable(exc)
        self._to_journal(batch)
        if time.monotonic() >= self._next_retry:
            self._reconnect()

    def _write(self, items: Sequence[WriteItem], counter: str = "written") -> None:
        """Apply items; those the database refuses for their content are set aside, one by
        one, so that one odd record never blocks the others."""
        try:
            result = self._store.apply(items)
        except (RecordRejected, RecordInputError) as exc:
            if len(items) == 1:
                log.error("record writer: item %d refused, set aside: %s", items[0].seq, exc)
                self._journal.set_aside_items(items, str(exc))
                self._counts["rejected"] += 1
                return
            for item in items:
                self._write([item], counter)
            return
        self._counts[counter] += result.written
        self._counts["skipped"] += result.skipped

    def _to_journal(self, batch: list[WriteItem]) -> None:
        items = [*self._held, *batch]
        try:
            self._journal.append(items)
        except JournalError as exc:
            # Disk full or unwritable: keep the items in memory, in order, and say so loudly.
            log.error("record writer: %s; %d item(s) held in memory", exc, len(items))
            self._journal_error = str(exc)
            self._held = items
            return
        self._held = []
        self._journal_error = None
        self._counts["journaled"] += len(batch)
        if self._state is not WriterState.JOURNALING:
            self._state = WriterState.JOURNALING

    def _unavailable(self, exc: Exception) -> None:
        if self._state is not WriterState.JOURNALING:
            log.warning("record writer: database unavailable (%s); journaling", exc)
        self._state = WriterState.JOURNALING
        self._last_error = str(exc)
        self._next_retry = time.monotonic() + self._retry_delay
        self._retry_delay = min(self._retry_max, self._retry_delay * 2)

    def _reconnect(self) -> None:
        """Schema, then the journal in order, then what only memory holds, then the previous
        run's open calls."""
        if self._held:
            self._to_journal([])  # safe on disk first, if the disk takes it now
        try:
            if not self._recovered:
                self._store.ensure_schema()
            replayed = 0
            pending: list[WriteItem] = []
            for line in self._journal.read():
                pending.append(line.item)
                if len(pending) >= self._batch_size:
                    self._write(pending, "replayed")
                    replayed += len(pending)
                    pending = []
            if pending:
                self._write(pending, "replayed")
                replayed += len(pending)
            if self._held:
                # The journal cannot take them (disk full) but the database can: after the
                # journal's items, in order, straight to it.
                self._write(self._held)
                log.info("record writer: %d item(s) held in memory written", len(self._held))
                self._held = []
            if not self._recovered:
                self._interrupted += self._store.close_interrupted(
                    self._first_seq, self._seq.next()
                )
                self._recovered = True
        except StoreUnavailable as exc:
            self._unavailable(exc)
            return
        self._journal.clear()
        if replayed:
            log.info("record writer: database back, %d journaled item(s) replayed", replayed)
        self._state = WriterState.OK
        self._retry_delay = self._retry_min
        self._next_retry = 0.0

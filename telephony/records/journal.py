"""The local journal: where records wait, in order, while the database cannot take them.

An append-only file of JSON lines, one writer item per line (``{"seq", "kind", "data"}``),
fsync'd once per batch. It is read back in order and applied to the database in chunks; once
every line has been applied it is truncated. A crash between the database commit and the
truncation replays lines that are already stored: the store skips them by sequence number, so
each item still takes effect exactly once.

A line cut short by a crash in the middle of a write (the last one, never fsync'd, hence never
reported as journaled) is skipped with a warning; any other unreadable line is moved to the
``.rejected`` file beside the journal, with its line number, and never silently dropped.

The journal holds clear caller numbers until replayed (the store pseudonymises on writing): it
is created owner-only (0600) and emptied as soon as the database is back. The ``.rejected``
file is kept for a person to read, so it never holds a caller or callback number: they are
masked in what is set aside (in an unreadable line, every run of digits that could be one).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from telephony.records.codec import WriteItem, item_from_json, item_to_json
from telephony.records.errors import JournalError, RecordInputError

log = logging.getLogger(__name__)

MASK = "[masqué]"
# In a line that cannot be read as an item: anything that could be a phone number.
_NUMBER_LIKE = re.compile(r"\+?\d[\d .\-()/]{4,}\d")


def redact(data: object) -> object:
    """An item's JSON with the caller's and callback numbers masked (what else is unchanged)."""
    if not isinstance(data, dict):
        return data
    payload = data.get("data")
    if not isinstance(payload, dict):
        return data
    if isinstance(payload.get("record"), dict):
        # A call's progress: the record inside it, masked the same way.
        inner = redact({"data": payload["record"]})
        assert isinstance(inner, dict)
        return {**data, "data": {**payload, "record": inner["data"]}}
    masked = dict(payload)
    if "caller_number" in masked:
        masked["caller_number"] = MASK
    callbacks = masked.get("callbacks")
    if isinstance(callbacks, list):
        masked["callbacks"] = [
            [*c[:2], MASK, *c[3:]] if isinstance(c, list) and len(c) > 2 else MASK
            for c in callbacks
        ]
    return {**data, "data": masked}


def redact_line(raw: str) -> str:
    """A journal line fit for the ``.rejected`` file: no caller or callback number in it."""
    try:
        data = json.loads(raw)
    except ValueError:
        return _NUMBER_LIKE.sub(MASK, raw)
    if not isinstance(data, dict) or not isinstance(data.get("data"), dict):
        return _NUMBER_LIKE.sub(MASK, raw)
    return json.dumps(redact(data), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class JournalLine:
    number: int  # 1-based line number in the journal file
    item: WriteItem


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.rejected_path = path.with_name(path.name + ".rejected")
        self._pending = 0  # items appended and not yet cleared (counted since open)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                with path.open("rb") as handle:
                    self._pending = sum(1 for line in handle if line.strip())
        except OSError as exc:
            raise JournalError(f"{path}: cannot open the journal: {exc}") from exc

    @property
    def backlog(self) -> int:
        """How many items wait in the journal (for /metrics)."""
        return self._pending

    def append(self, items: Sequence[WriteItem]) -> None:
        """Append items and fsync: when this returns, they survive a crash."""
        if not items:
            return
        payload = "".join(
            json.dumps(item_to_json(item), ensure_ascii=False, separators=(",", ":")) + "\n"
            for item in items
        ).encode("utf-8")
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                view = memoryview(payload)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise JournalError(f"{self.path}: cannot append to the journal: {exc}") from exc
        self._pending += len(items)

    def read(self) -> Iterator[JournalLine]:
        """The journaled items, in order. Unreadable lines go to the ``.rejected`` file."""
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise JournalError(f"{self.path}: cannot read the journal: {exc}") from exc
        with handle:
            lines = handle.readlines()
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                item = item_from_json(json.loads(raw))
            except (ValueError, RecordInputError) as exc:
                if number == len(lines) and not raw.endswith(b"\n"):
                    log.warning("%s: line %d cut short by a crash, skipped", self.path, number)
                    continue
                self._reject(number, raw, exc)
                continue
            yield JournalLine(number, item)

    def _reject(self, number: int, raw: bytes, exc: Exception) -> None:
        log.error(
            "%s: line %d unreadable (%s), moved to %s", self.path, number, exc, self.rejected_path
        )
        self.set_aside(
            [redact_line(raw.decode("utf-8", "replace").rstrip("\n"))],
            f"journal line {number}: {exc}",
        )

    def set_aside(self, lines: Sequence[str], reason: str) -> None:
        """Keep lines the database refused, with why, for a person to look at (the lines must
        hold no clear number: see :func:`redact`)."""
        try:
            fd = os.open(self.rejected_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as out:
                for line in lines:
                    out.write(
                        json.dumps({"reason": reason, "line": line}, ensure_ascii=False) + "\n"
                    )
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            raise JournalError(f"{self.rejected_path}: cannot set lines aside: {exc}") from exc

    def set_aside_items(self, items: Sequence[WriteItem], reason: str) -> None:
        self.set_aside(
            [json.dumps(redact(item_to_json(i)), ensure_ascii=False) for i in items], reason
        )

    def clear(self) -> None:
        """Every journaled item is in the database: empty the journal."""
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise JournalError(f"{self.path}: cannot clear the journal: {exc}") from exc
        self._pending = 0

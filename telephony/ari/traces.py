"""Reading the ARI traces recorded from a real Asterisk (``tests/data/ari-traces/*.jsonl``).

Two formats: ``{"kind": "event"|"rest"|"ws", ...}`` lines, and the older ``raw-*.jsonl`` files
with one raw WebSocket event per line. Used by tests, benchmarks and replay tools.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class RestExchange:
    """One REST request of a trace with Asterisk's exact answer."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    response: Any


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: not JSON: {exc}") from exc
            if not isinstance(data, dict):
                raise ValueError(f"{path}:{number}: expected a JSON object")
            yield number, data


def trace_events(path: Path) -> Iterator[dict[str, Any]]:
    """The WebSocket events of a trace, in recorded order, as decoded JSON objects."""
    for number, data in _lines(path):
        kind = data.get("kind")
        if kind is None:
            yield data  # raw-*.jsonl: the line is the event
        elif kind == "event":
            event = data.get("data")
            if not isinstance(event, dict):
                raise ValueError(f"{path}:{number}: event line without a 'data' object")
            yield event


def trace_rest(path: Path) -> Iterator[RestExchange]:
    """The REST exchanges of a trace, in recorded order."""
    for _, data in _lines(path):
        if data.get("kind") == "rest":
            yield RestExchange(
                method=data["method"],
                path=data["path"],
                query={str(k): str(v) for k, v in (data.get("query") or {}).items()},
                body=data.get("body"),
                status=int(data["status"]),
                response=data.get("response"),
            )

"""ARI events: parsed and dispatched per second on one core, beside plain ``json.loads``.

Every event frame of the recorded traces (``tests/data/ari-traces``), repeated, goes through
``parse_event`` and ``Dispatcher.dispatch`` into per-call inboxes drained by one task per call;
channel ids are suffixed per repetition so each pass opens fresh calls (about 40 calls per pass,
as many live at once). Reference: ``json.loads`` of the same frames (the cost of merely decoding
them, without types or routing). Target >= 50,000 events/s.

``BENCH_ARI_EVENTS`` sets the number of events (default 300,000).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

from telephony.ari.dispatch import CallEnded, CallInbox, Dispatcher
from telephony.ari.events import parse_event
from telephony.ari.traces import trace_events

TRACES = Path(__file__).resolve().parent.parent / "tests" / "data" / "ari-traces"
TARGET = 50_000


def _frames() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for path in sorted(TRACES.glob("*.jsonl")):
        events += list(trace_events(path))
    return events


def _variants(events: list[dict[str, Any]], repeats: int) -> list[bytes]:
    """The frames ``repeats`` times, ids suffixed per pass so every pass is new calls."""
    template = json.dumps(events)
    ids = sorted(
        {e["channel"]["id"] for e in events if "channel" in e}
        | {e["peer"]["id"] for e in events if "peer" in e},
        key=len,
        reverse=True,
    )
    frames: list[bytes] = []
    for n in range(repeats):
        text = template
        for cid in ids:
            text = text.replace(f'"{cid}"', f'"{cid}-{n}"')
        frames += [json.dumps(e, separators=(",", ":")).encode() for e in json.loads(text)]
    return frames


async def _drain(inbox: CallInbox) -> None:
    while True:
        try:
            await inbox.get()
        except CallEnded:
            return


async def _parse_and_dispatch(frames: list[bytes]) -> tuple[float, Dispatcher]:
    dispatcher = Dispatcher(lambda start, inbox: _drain(inbox))
    dispatch = dispatcher.dispatch
    started = time.perf_counter()
    for i, frame in enumerate(frames):
        dispatch(parse_event(frame))
        if i % 64 == 63:
            await asyncio.sleep(0)  # let the call tasks drain, as the WebSocket reader would
    await dispatcher.join(60)
    elapsed = time.perf_counter() - started
    await dispatcher.aclose(1)
    return elapsed, dispatcher


def main() -> bool:
    wanted = int(os.environ.get("BENCH_ARI_EVENTS", "300000"))
    events = _frames()
    repeats = max(1, wanted // len(events))
    frames = _variants(events, repeats)
    size = sum(map(len, frames)) / len(frames)
    print(f"{len(frames):,} frames ({len(events)} recorded events x {repeats}), {size:.0f} B avg")

    started = time.perf_counter()
    for frame in frames:
        json.loads(frame)
    reference = time.perf_counter() - started

    elapsed, dispatcher = asyncio.run(_parse_and_dispatch(frames))
    rate = len(frames) / elapsed
    ref_rate = len(frames) / reference
    starts = sum(1 for e in events if e["type"] == "StasisStart")
    print(f"json.loads only          : {ref_rate:12,.0f} frames/s")
    print(f"parse_event + dispatch   : {rate:12,.0f} events/s  (target >= {TARGET:,})")
    print(f"ratio to json.loads      : {rate / ref_rate:.2f}x the reference rate")
    counters = dispatcher.counters
    print(
        f"calls opened {counters.calls_opened:,}, routed {counters.routed:,}, "
        f"global {counters.global_events:,}, unrouted {counters.unrouted:,} "
        f"({starts} StasisStart per pass)"
    )
    return rate >= TARGET


if __name__ == "__main__":
    main()

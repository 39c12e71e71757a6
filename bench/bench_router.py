"""Router reaction time: from a call's StasisStart to the router's first REST command (answer).

The simulated PBX runs in its own process, as Asterisk does, so the measure is the router's own
reaction: from dispatching the parsed StasisStart (parsing takes ~11 µs) to sending ``answer``.
A load of calls is kept in progress (menus, ringing, talking), arriving over a few seconds as
traffic does; then probe calls arrive one by one. Target: p99 under 5 ms with 500 calls in
progress; the reference is the same measure with 10 calls in progress.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from routing_rules.holder import RulesHolder
from routing_rules.loader import default_rules_path
from telephony.ari.client import AriClient
from telephony.ari.models import StasisStart
from telephony.clock import ScaledClock
from telephony.flow.router import Router
from telephony.records.model import CallRecord, CallStart
from telephony.simulator.pbx import SimulatedPbx

PROBES = 400


class _NullRecords:
    async def call_started(self, start: CallStart) -> None:
        return None

    async def call_finished(self, record: CallRecord) -> None:
        return None

    def touch(self, call_id: str, at: Any) -> None:
        return None

    def call_progress(self, progress: Any) -> None:
        return None


def measure_reaction(pbx: SimulatedPbx, measuring: Callable[[], bool]) -> list[float]:
    """Hook the simulator: the list fills with the real time from each StasisStart emitted to
    the ``answer`` request received for that channel (while ``measuring()`` is true)."""
    engine = pbx.engine
    emitted: dict[str, float] = {}
    delays: list[float] = []
    enter, answer = engine.enter_stasis, engine.answer

    def enter_stasis(channel: Any, app: str, args: list[str], replace: Any = None) -> None:
        emitted[channel.id] = time.perf_counter()
        enter(channel, app, args, replace)

    def answered(channel_id: str) -> None:
        started = emitted.pop(channel_id, None)
        if started is not None and measuring():
            delays.append(time.perf_counter() - started)
        answer(channel_id)

    engine.enter_stasis = enter_stasis  # type: ignore[method-assign]
    engine.answer = answered  # type: ignore[method-assign]
    return delays


def measure_router_reaction(router: Router, client: AriClient) -> list[float]:
    """Hook the router: the list fills with the time from the dispatch of an inbound call's
    StasisStart (frame already parsed, ~11 µs) to the router sending ``answer`` for it."""
    received: dict[str, float] = {}
    delays: list[float] = []
    dispatch, answer = router.dispatcher.dispatch, client.answer

    def dispatched(event: Any) -> None:
        if isinstance(event, StasisStart) and not (event.args and event.args[0] == "agent"):
            received[event.channel.id] = time.perf_counter()
        dispatch(event)

    async def answering(channel_id: str) -> None:
        started = received.pop(channel_id, None)
        if started is not None:
            delays.append(time.perf_counter() - started)
        await answer(channel_id)

    router.stream._pipeline._sink = dispatched  # type: ignore[attr-defined]
    client.answer = answering  # type: ignore[method-assign]
    return delays


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _post(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> None:
    async with session.post(url, json=body) as response:
        if response.status != 201:
            raise RuntimeError(f"POST {url}: {response.status} {await response.text()}")


@asynccontextmanager
async def pbx_process(endpoints: list[str], *options: str) -> AsyncIterator[str]:
    """``decroche sim serve`` in a process of its own, as Asterisk would be, with ``endpoints``
    as registered agents; yields its base URL once it answers, stops it at the end."""
    port = _free_port()
    agents = [arg for e in endpoints for arg in ("--agent", e)]
    sim = subprocess.Popen(  # noqa: ASYNC220 - starting it does not block
        [sys.executable, "-m", "decroche", "sim", "serve", "--port", str(port), *agents, *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    async with session.get(f"{base}/sim/state") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        yield base
    finally:
        sim.terminate()
        sim.wait(10)


async def _measure(in_progress: int) -> list[float]:
    """The simulated PBX runs in its own process, as Asterisk would; this process is the
    router's alone (plus the few control requests that place the calls)."""
    rules = RulesHolder(default_rules_path())
    endpoints = sorted({a for s in rules.current.services.values() for a in s.agents})
    async with pbx_process(endpoints) as base, aiohttp.ClientSession() as session:
        client = AriClient(base, "decroche", "decroche", "decroche")
        try:
            router = Router(
                client=client, rules=rules, records=_NullRecords(), clock=ScaledClock(speed=1.0)
            )
            await router.start()
            delays = measure_router_reaction(router, client)
            # Calls in progress for the whole run (menus, then ringing, then talking 60 s),
            # arriving over 6 s as traffic does.
            for i in range(in_progress):
                await _post(
                    session, f"{base}/sim/calls", {"caller_number": f"07{i:08d}", "patience": 3600}
                )
                if i % 50 == 49:
                    await asyncio.sleep(0.6)
            await asyncio.sleep(1.0)
            live = len(router.live_calls())
            if live < in_progress * 0.95:
                raise RuntimeError(f"only {live} calls in progress, {in_progress} wanted")
            delays.clear()
            for i in range(PROBES):
                await _post(
                    session,
                    f"{base}/sim/calls",
                    {"caller_number": f"06{i:08d}", "keys": [{"digits": "0"}], "patience": 1.0},
                )
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.5)
            result = list(delays)
            await router.dispatcher.aclose(grace=2.0)
            router.stream.stop()
        finally:
            await client.close()
    return result


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def main() -> bool:
    reference = asyncio.run(_measure(10))
    loaded = asyncio.run(_measure(500))
    for name, values in (("10 calls in progress", reference), ("500 calls in progress", loaded)):
        print(
            f"{name:22s}: {len(values)} probes, StasisStart -> answer "
            f"median {statistics.median(values) * 1000:.2f} ms, p99 {_p(values, 0.99):.2f} ms"
        )
    ratio = _p(loaded, 0.99) / _p(reference, 0.99)
    print(f"p99 ratio loaded / reference: {ratio:.2f} (target: p99 < 5 ms with 500 calls)")
    return _p(loaded, 0.99) < 5.0

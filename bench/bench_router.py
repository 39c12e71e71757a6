"""Router reaction time: from a call's StasisStart to the router's first REST command (answer).

The simulated PBX and the router run in one process over real HTTP/WebSocket (real time). A
load of calls is kept in progress (callers talking to agents for the whole run), then probe
calls arrive one by one; for each, the time from the PBX emitting its StasisStart to the PBX
receiving ``POST /channels/{id}/answer`` is measured. Target: p99 under 5 ms with 500 calls in
progress; the reference is the same measure with 10 calls in progress.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from routing_rules.holder import RulesHolder
from routing_rules.loader import default_rules_path
from telephony.ari.client import AriClient
from telephony.clock import ScaledClock
from telephony.flow.router import Router
from telephony.records.model import CallRecord, CallStart
from telephony.simulator.pbx import SimulatedPbx
from telephony.simulator.scripts import AgentScript, CallerScript, KeyPress

PROBES = 200


class _NullRecords:
    async def call_started(self, start: CallStart) -> None:
        return None

    async def call_finished(self, record: CallRecord) -> None:
        return None

    def touch(self, call_id: str, at: Any) -> None:
        return None


async def _measure(in_progress: int) -> list[float]:
    clock = ScaledClock(speed=1.0)
    pbx = SimulatedPbx(clock=clock, app="decroche")
    await pbx.start(port=0)
    rules = RulesHolder(default_rules_path())
    endpoints = sorted({a for s in rules.current.services.values() for a in s.agents})
    for endpoint in endpoints:
        pbx.add_agent(AgentScript(endpoint=endpoint, ring_time=0.5, busy_when_in_use=False))
    engine = pbx.engine
    emitted: dict[str, float] = {}
    delays: list[float] = []
    enter, answer = engine.enter_stasis, engine.answer

    def enter_stasis(channel: Any, app: str, args: list[str], replace: Any = None) -> None:
        emitted[channel.id] = time.perf_counter()
        enter(channel, app, args, replace)

    def answered(channel_id: str) -> None:
        started = emitted.pop(channel_id, None)
        if started is not None and measuring:
            delays.append(time.perf_counter() - started)
        answer(channel_id)

    engine.enter_stasis = enter_stasis  # type: ignore[method-assign]
    engine.answer = answered  # type: ignore[method-assign]
    client = AriClient(pbx.url, "decroche", "decroche", "decroche")
    router = Router(client=client, rules=rules, records=_NullRecords(), clock=clock)
    await router.start()
    measuring = False
    try:
        # Callers who stay in the menu for the whole run: calls in progress, never hung up.
        for i in range(in_progress):
            pbx.place_call(
                CallerScript(caller_number=f"07{i:08d}", patience=3600, max_duration=3600)
            )
            if i % 50 == 49:
                await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
        assert len(router.live_calls()) >= in_progress * 0.95, len(router.live_calls())
        measuring = True
        for i in range(PROBES):
            pbx.place_call(
                CallerScript(caller_number=f"06{i:08d}", keys=(KeyPress(digits="0"),), patience=1.0)
            )
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.5)
    finally:
        await router.dispatcher.aclose(grace=2.0)
        router.stream.stop()
        await client.close()
        await pbx.stop()
    return delays


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

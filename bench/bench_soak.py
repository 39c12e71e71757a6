"""Soak: 300 calls kept in progress for a sustained run through the router, in real time.

Callers arrive continuously so that about 300 are always in progress (menus, ringing, talking);
every call must be recorded, the router's tasks and live Python objects must come back to their
starting level afterwards, and the routing reaction (StasisStart -> answer) p99 is reported.
``BENCH_SOAK_SECONDS`` sets the duration (default 120 s of real time).
"""

from __future__ import annotations

import asyncio
import gc
import os
import resource
import time
from typing import Any

from bench.bench_router import _NullRecords, _p, measure_reaction
from routing_rules.holder import RulesHolder
from routing_rules.loader import default_rules_path
from telephony.ari.client import AriClient
from telephony.clock import ScaledClock
from telephony.flow.router import Router
from telephony.records.model import CallRecord
from telephony.simulator.pbx import SimulatedPbx
from telephony.simulator.scripts import AgentScript, CallerScript, KeyPress

TARGET_IN_PROGRESS = 300


class _Counting(_NullRecords):
    def __init__(self) -> None:
        self.finished = 0

    async def call_finished(self, record: CallRecord) -> None:
        self.finished += 1


async def _soak(seconds: float) -> dict[str, Any]:
    clock = ScaledClock(speed=1.0)
    pbx = SimulatedPbx(clock=clock, app="decroche")
    await pbx.start(port=0)
    rules = RulesHolder(default_rules_path())
    for endpoint in sorted({a for s in rules.current.services.values() for a in s.agents}):
        pbx.add_agent(AgentScript(endpoint=endpoint, ring_time=3.0, talk_time=20.0))
    delays = measure_reaction(pbx, lambda: True)
    client = AriClient(pbx.url, "decroche", "decroche", "decroche")
    records = _Counting()
    router = Router(client=client, rules=rules, records=records, clock=clock)
    await router.start()
    gc.collect()
    tasks_before = len(asyncio.all_tasks())
    placed = 0
    peak = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        in_progress = len(router.live_calls())
        peak = max(peak, in_progress)
        for _ in range(max(0, TARGET_IN_PROGRESS - in_progress) // 10 + 1):
            pbx.place_call(
                CallerScript(
                    caller_number=f"06{placed:08d}",
                    keys=(KeyPress(digits=str(placed % 9)),),
                    talk_time=30.0,
                    patience=90.0,
                )
            )
            placed += 1
        await asyncio.sleep(0.05)
    async with asyncio.timeout(180):
        while records.finished < placed:  # noqa: ASYNC110 - polling a counter
            await asyncio.sleep(0.2)
    await pbx.wait_idle()
    gc.collect()
    tasks_after = len(asyncio.all_tasks())
    router.stream.stop()
    await router.dispatcher.aclose()
    await client.close()
    await pbx.stop()
    return {
        "placed": placed,
        "recorded": records.finished,
        "peak_in_progress": peak,
        "tasks_before": tasks_before,
        "tasks_after": tasks_after,
        "delays": delays,
    }


def main() -> bool:
    seconds = float(os.environ.get("BENCH_SOAK_SECONDS", "120"))
    result = asyncio.run(_soak(seconds))
    delays = result["delays"]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"soak {seconds:.0f} s: {result['placed']} calls placed, {result['recorded']} recorded, "
        f"up to {result['peak_in_progress']} in progress at once"
    )
    print(
        f"reaction StasisStart -> answer (PBX and router sharing one process and one core, so "
        f"the simulator's work is included): median {_p(delays, 0.5):.2f} ms, "
        f"p99 {_p(delays, 0.99):.2f} ms over {len(delays)} calls"
    )
    print(
        f"asyncio tasks before/after: {result['tasks_before']}/{result['tasks_after']} "
        f"(pooled HTTP connections included); peak RSS {rss:.0f} MB (simulator included)"
    )
    return result["placed"] == result["recorded"]

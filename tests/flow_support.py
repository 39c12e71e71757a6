"""A whole telephony system in one process, for end-to-end tests: the simulated PBX, the typed
ARI client over real HTTP/WebSocket, and the router with the Bernay rules.

It runs in virtual time (tests marked ``virtual_time``, see ``conftest.py``): the router and the
PBX share a :class:`LoopClock` on a :class:`VirtualTimeLoop`, so every ring, prompt and timeout
lasts exactly what the rules and scripts say, whatever the machine's load, and a test can assert
a wait of 25 s to the millisecond."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from routing_rules.holder import RulesHolder
from routing_rules.loader import default_rules_path
from telephony.ari.client import AriClient
from telephony.flow.router import RecordSink, Router, RouterSettings
from telephony.records.model import CallRecord, CallStart
from telephony.simulator.latency import StasisWindow
from telephony.simulator.pbx import SimulatedPbx
from telephony.simulator.scripts import AgentScript
from telephony.virtual_time import LoopClock, VirtualTimeLoop

# Wednesday 14 October 2026, 10:00 in Paris: every Bernay service is open.
OPEN_HOURS = datetime(2026, 10, 14, 8, 0, tzinfo=UTC)
# Asterisk puts a channel made by channels/create in the app a millisecond or so after answering
# the create (telephony.simulator.latency): always 2 ms here, so that timings repeat exactly.
STASIS_WINDOW_S = 0.002


@dataclass
class MemoryRecords:
    """A record sink that keeps everything in memory."""

    started: list[CallStart] = field(default_factory=list)
    finished: list[CallRecord] = field(default_factory=list)
    touched: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def call_started(self, start: CallStart) -> None:
        self.started.append(start)

    async def call_finished(self, record: CallRecord) -> None:
        self.finished.append(record)
        self.arrived.set()

    def touch(self, call_id: str, at: datetime) -> None:
        self.touched += 1

    def by_caller(self, number: str) -> CallRecord:
        (record,) = [r for r in self.finished if r.caller_number == number]
        return record


class _Tee:
    """Records to memory (for the test's eyes) and to a real sink (the writer under test)."""

    def __init__(self, memory: MemoryRecords, sink: RecordSink) -> None:
        self._memory = memory
        self._sink = sink

    async def call_started(self, start: CallStart) -> None:
        await self._sink.call_started(start)
        await self._memory.call_started(start)

    async def call_finished(self, record: CallRecord) -> None:
        await self._sink.call_finished(record)
        await self._memory.call_finished(record)

    def touch(self, call_id: str, at: datetime) -> None:
        self._sink.touch(call_id, at)


@dataclass
class System:
    pbx: SimulatedPbx
    router: Router
    records: MemoryRecords
    clock: LoopClock

    async def settle(self, n_calls: int, timeout_s: float = 3600.0) -> None:
        """Wait until ``n_calls`` are recorded and the PBX holds no channel nor bridge (within
        ``timeout_s`` of virtual time: a call that never ends fails the test at once)."""
        async with asyncio.timeout(timeout_s):
            while len(self.records.finished) < n_calls:
                self.records.arrived.clear()
                await self.records.arrived.wait()
            await self.pbx.wait_idle()


def simulated_pbx(clock: LoopClock) -> SimulatedPbx:
    """The simulated PBX of these tests, on the given clock."""
    window = StasisWindow(STASIS_WINDOW_S, STASIS_WINDOW_S)
    return SimulatedPbx(clock=clock, app="decroche", stasis_window=window)


def bernay_agents() -> list[str]:
    holder = RulesHolder(default_rules_path())
    return sorted({a for s in holder.current.services.values() for a in s.agents})


@asynccontextmanager
async def running_system(
    agents: Iterable[AgentScript] | None = None,
    *,
    at: datetime = OPEN_HOURS,
    rules_path: Path | None = None,
    default_agent: AgentScript | None = None,
    sink: RecordSink | None = None,
    transfer_context: str | None = "decroche-transfer",
) -> AsyncIterator[System]:
    if not isinstance(asyncio.get_running_loop(), VirtualTimeLoop):
        raise RuntimeError("running_system needs virtual time: mark the test virtual_time")
    clock = LoopClock(at)
    pbx = simulated_pbx(clock)
    await pbx.start(port=0)
    given = {a.endpoint: a for a in agents or ()}
    for endpoint in bernay_agents():
        script = given.pop(endpoint, None)
        if script is None:
            base = default_agent or AgentScript(endpoint=endpoint, ring_time=3.0)
            script = base.model_copy(update={"endpoint": endpoint})
        pbx.add_agent(script)
    for script in given.values():
        pbx.add_agent(script)
    client = AriClient(pbx.url, "decroche", "decroche", "decroche")
    records = MemoryRecords()
    router = Router(
        client=client,
        rules=RulesHolder(rules_path or default_rules_path()),
        records=records if sink is None else _Tee(records, sink),
        clock=clock,
        # Tests settle their calls before leaving; whatever is left is handed back quickly.
        # In virtual time nothing gets lost on loopback: keep-alives would only add timers.
        settings=RouterSettings(
            drain_timeout_s=1.0,
            transfer_context=transfer_context,
            heartbeat_s=3600,
            ping_interval_s=3600,
        ),
    )
    holder = router.rules
    assert isinstance(holder, RulesHolder)
    # As the service does: every reload checks the new rules' phones with Asterisk.
    holder.add_listener(lambda _rules: router.rules_changed())
    await router.start()
    try:
        yield System(pbx, router, records, clock)
    finally:
        await router.stop()
        await client.close()
        await pbx.stop()

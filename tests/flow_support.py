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
from typing import Any

from routing_rules.holder import RulesHolder
from routing_rules.loader import default_rules_path
from telephony.ari.client import AriClient
from telephony.ari.errors import AriConnectionError
from telephony.ari.transport import AriTransport
from telephony.flow.router import RecordSink, Router, RouterSettings
from telephony.records.model import CallProgress, CallRecord, CallStart
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
    touched: list[tuple[str, datetime]] = field(default_factory=list)
    progress: list[CallProgress] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def call_started(self, start: CallStart) -> None:
        self.started.append(start)

    async def call_finished(self, record: CallRecord) -> None:
        self.finished.append(record)
        self.arrived.set()

    def touch(self, call_id: str, at: datetime) -> None:
        self.touched.append((call_id, at))

    def call_progress(self, progress: CallProgress) -> None:
        self.progress.append(progress)

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
        self._memory.touch(call_id, at)

    def call_progress(self, progress: CallProgress) -> None:
        self._sink.call_progress(progress)
        self._memory.call_progress(progress)


class _Gate:
    """The router's record sink until decroche "crashes": then nothing more gets through, as
    nothing leaves a killed process."""

    def __init__(self, sink: RecordSink) -> None:
        self._sink = sink
        self.open = True

    async def call_started(self, start: CallStart) -> None:
        if self.open:
            await self._sink.call_started(start)

    async def call_finished(self, record: CallRecord) -> None:
        if self.open:
            await self._sink.call_finished(record)

    def touch(self, call_id: str, at: datetime) -> None:
        if self.open:
            self._sink.touch(call_id, at)

    def call_progress(self, progress: CallProgress) -> None:
        if self.open:
            self._sink.call_progress(progress)


class DeadTransport(AriTransport):
    """The REST side of a process that is gone: no request reaches Asterisk any more."""

    async def request(self, method: str, path: str, **_options: Any) -> bytes:
        raise AriConnectionError(f"{method} {path}: the process is gone")


@dataclass
class System:
    pbx: SimulatedPbx
    router: Router
    records: MemoryRecords
    clock: LoopClock
    rules_path: Path
    transfer_context: str | None
    sink: RecordSink | None = None
    # The phone decroche's audit calls ring (RouterSettings.audit_test_phone).
    audit_test_phone: str | None = None
    _clients: list[AriClient] = field(default_factory=list)
    _gate: _Gate | None = None

    async def settle(self, n_calls: int, timeout_s: float = 3600.0) -> None:
        """Wait until ``n_calls`` are recorded and the PBX holds no channel nor bridge (within
        ``timeout_s`` of virtual time: a call that never ends fails the test at once)."""
        async with asyncio.timeout(timeout_s):
            while len(self.records.finished) < n_calls:
                self.records.arrived.clear()
                await self.records.arrived.wait()
            await self.pbx.wait_idle()

    async def start_decroche(self, sink: RecordSink | None = None) -> None:
        """Start decroche (again) on this PBX, as ``decroche serve`` would: a new process, its
        own ARI connection, the same rules file; records to ``sink`` (and ``records``)."""
        if sink is not None:
            self.sink = sink
        client = AriClient(self.pbx.url, "decroche", "decroche", "decroche")
        self._clients.append(client)
        self._gate = _Gate(self.records if self.sink is None else _Tee(self.records, self.sink))
        router = Router(
            client=client,
            rules=RulesHolder(self.rules_path),
            records=self._gate,
            clock=self.clock,
            # Tests settle their calls before leaving; whatever is left is handed back quickly.
            # In virtual time nothing gets lost on loopback: keep-alives would only add timers.
            settings=RouterSettings(
                drain_timeout_s=1.0,
                transfer_context=self.transfer_context,
                heartbeat_s=3600,
                ping_interval_s=3600,
                audit_test_phone=self.audit_test_phone,
            ),
        )
        holder = router.rules
        assert isinstance(holder, RulesHolder)
        # As the service does: every reload checks the new rules' phones with Asterisk.
        holder.add_listener(lambda _rules: router.rules_changed())
        self.router = router
        await router.start()

    async def crash_decroche(self) -> None:
        """decroche dies at once (``kill -9``, a power cut): nothing more reaches its records
        or Asterisk, its WebSocket closes; what it left on the PBX stays there."""
        assert self._gate is not None
        self._gate.open = False
        router = self.router
        dead = router.client.transport
        router.client.transport = DeadTransport(dead.base_url, "decroche", "decroche")
        router.stream.stop()  # the socket closes with the process, before anything else
        await router.close()
        await dead.close()

    async def stop(self) -> None:
        await self.router.stop()
        for client in self._clients:
            await client.close()
        await self.pbx.stop()


def simulated_pbx(
    clock: LoopClock, sounds: Path | None = None, *, history: bool = False
) -> SimulatedPbx:
    """The simulated PBX of these tests, on the given clock (``sounds``: its sounds folder;
    ``history``: it keeps what happened on every channel)."""
    window = StasisWindow(STASIS_WINDOW_S, STASIS_WINDOW_S)
    return SimulatedPbx(
        clock=clock, app="decroche", stasis_window=window, sounds=sounds, history=history
    )


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
    audit_test_phone: str | None = None,
    sounds: Path | None = None,
    history: bool = False,
) -> AsyncIterator[System]:
    if not isinstance(asyncio.get_running_loop(), VirtualTimeLoop):
        raise RuntimeError("running_system needs virtual time: mark the test virtual_time")
    clock = LoopClock(at)
    pbx = simulated_pbx(clock, sounds, history=history)
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
    system = System(
        pbx,
        None,  # type: ignore[arg-type]  # set by start_decroche
        MemoryRecords(),
        clock,
        rules_path or default_rules_path(),
        transfer_context,
        sink,
        audit_test_phone=audit_test_phone,
    )
    await system.start_decroche()
    try:
        yield system
    finally:
        await system.stop()

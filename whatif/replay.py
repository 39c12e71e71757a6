"""What-if replays, the I/O half: traffic models played on the simulated PBX against the real
router, in virtual time, in as many processes as the machine has cores.

A model is cut into quiet parts (:func:`whatif.parts.quiet_parts`: nights, mostly) and each
part is replayed on a PBX and a router of its own; with one part or one core everything stays
in this process. Parts go to the workers pickled (the compiled rules hold read-only mappings,
which the standard pickle refuses: :func:`_dumps` sends them as plain dicts) and the records
they produce come back the same way. Workers are *spawned*, never forked: the dashboard calls
this from a process that has threads.
"""

from __future__ import annotations

import asyncio
import copyreg
import io
import logging
import os
import pickle
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from multiprocessing import get_context
from types import MappingProxyType
from typing import Any

from routing_rules.compiled import CompiledRules
from telephony.records.model import CallProgress, CallRecord, CallStart
from telephony.simulator.scripts import AgentScript, CallerScript, KeyPress
from whatif.parts import quiet_parts
from whatif.traffic import ReplayCall, TrafficModel, direct_number, with_direct_entries

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


def default_workers() -> int:
    """The cores this process may run on."""
    return max(1, len(os.sched_getaffinity(0)))


# --- pickling parts for the workers ----------------------------------------------------------


def _read_only(mapping: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(mapping)


def _dumps(value: object) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = copyreg.dispatch_table.copy()
    pickler.dispatch_table[MappingProxyType] = lambda m: (_read_only, (dict(m),))
    pickler.dump(value)
    return buffer.getvalue()


def _replay_part(blob: bytes) -> tuple[int, bytes]:
    """Worker: replay one pickled (model, rules, over_http); the number of calls and the
    pickled records."""
    model, rules, over_http = pickle.loads(blob)
    return len(model.calls), pickle.dumps(_replay_here(model, rules, None, over_http))


@contextmanager
def replay_pool(workers: int | None = None) -> Iterator[Executor | None]:
    """Worker processes for :func:`replay` (None when one core: replay in this process)."""
    count = default_workers() if workers is None else workers
    if count <= 1:
        yield None
        return
    with ProcessPoolExecutor(max_workers=count, mp_context=get_context("spawn")) as pool:
        yield pool


# --- replay ------------------------------------------------------------------------------------


def replay(
    model: TrafficModel,
    rules: CompiledRules,
    progress: Progress | None = None,
    *,
    pool: Executor | None = None,
    over_http: bool = False,
) -> list[CallRecord]:
    """Play ``model`` through ``rules`` on the simulated PBX, in virtual time; the records of
    the calls, by start time. With a ``pool`` (:func:`replay_pool`), quiet parts run side by
    side; the result is the same as without. ``over_http``: REST over HTTP as with Asterisk
    instead of in-process (same outcomes, about twice slower)."""
    if model.direct:
        rules = with_direct_entries(rules, model.direct_services())
    if not model.calls:
        return []
    parts = quiet_parts(model)
    total = len(model.calls)
    records: list[CallRecord] = []
    if pool is None or len(parts) == 1:
        done = 0
        for part in parts:
            step = None if progress is None else _offset(progress, done, total)
            records += _replay_here(part, rules, step, over_http)
            done += len(part.calls)
    else:
        futures = [pool.submit(_replay_part, _dumps((part, rules, over_http))) for part in parts]
        done = 0
        for future in as_completed(futures):
            calls, blob = future.result()
            records += pickle.loads(blob)
            done += calls
            if progress is not None:
                progress(done, total)
    return sorted(records, key=lambda r: (r.started_at, r.call_id))


def _offset(progress: Progress, done: int, total: int) -> Progress:
    return lambda n, _part_total: progress(done + n, total)


def _replay_here(
    model: TrafficModel, rules: CompiledRules, progress: Progress | None, over_http: bool
) -> list[CallRecord]:
    from telephony.virtual_time import VirtualTimeLoop

    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        records = runner.run(_replay(model, rules, progress, over_http))
    return _relinked(records, model)


def _relinked(records: list[CallRecord], model: TrafficModel) -> list[CallRecord]:
    """Mark the replayed legs of blind transfers as such (the replayed agents do not transfer:
    each leg was placed as a call of its own). A call is placed exactly at its arrival time in
    virtual time, so caller and start time to the millisecond find it again."""
    legs = {(c.caller_number, _ms(c.at)): c.transfer_of for c in model.calls if c.transfer_of}
    if legs:
        for record in records:
            record.transfer_of = legs.get((record.caller_number, _ms(record.started_at)))
    return records


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


@dataclass(slots=True)
class _Rules:
    current: CompiledRules


@dataclass(slots=True)
class _Memory:
    """Record sink of a replay: everything stays in memory, nothing is written anywhere."""

    finished: list[CallRecord] = field(default_factory=list)

    async def call_started(self, start: CallStart) -> None:
        return None

    async def call_finished(self, record: CallRecord) -> None:
        self.finished.append(record)

    def touch(self, call_id: str, at: datetime) -> None:
        return None

    def call_progress(self, progress: CallProgress) -> None:
        return None


async def _replay(
    model: TrafficModel, rules: CompiledRules, progress: Progress | None, over_http: bool
) -> list[CallRecord]:
    from ivr_prompts.build import media_durations, prompt_durations
    from ivr_prompts.catalogue import load_catalogue
    from telephony.ari.client import AriClient
    from telephony.flow.router import Router, RouterSettings
    from telephony.simulator.in_process import InProcessTransport
    from telephony.simulator.latency import StasisWindow
    from telephony.simulator.pbx import SimulatedPbx
    from telephony.virtual_time import LoopClock

    clock = LoopClock(model.calls[0].at - timedelta(seconds=5))
    # Asterisk's create/StasisStart window at random, but the same draws on every replay: a
    # replay is repeatable to the millisecond.
    pbx = SimulatedPbx(clock=clock, app="decroche-whatif", stasis_window=StasisWindow(seed=0))
    await pbx.start(port=0)
    pbx.set_media_durations(media_durations(prompt_durations(load_catalogue(), None)))
    first: dict[str, AgentScript] = {}
    for change in model.agent_changes:
        first.setdefault(change.script.endpoint, change.script)
    for endpoint in sorted({a for s in rules.services.values() for a in s.agents} - set(first)):
        first[endpoint] = AgentScript(endpoint=endpoint, ring_time=model.default_ring_s)
    for script in first.values():
        pbx.add_agent(script)
    # REST in-process unless asked otherwise: the replay measures the router's decisions, and
    # HTTP would be 60 % of its time (see telephony.simulator.in_process).
    transport = None if over_http else InProcessTransport(pbx, "decroche", "decroche")
    client = AriClient(pbx.url, "decroche", "decroche", "decroche-whatif", transport=transport)
    sink = _Memory()
    router = Router(
        client=client,
        rules=_Rules(rules),
        records=sink,
        clock=clock,
        settings=RouterSettings(
            heartbeat_s=3600, ping_interval_s=3600, fallback=None, progress_every_s=None
        ),
    )
    numbers = {s: direct_number(i) for i, s in enumerate(model.direct_services())}
    await router.start()
    try:
        await _play(model, pbx, clock, numbers, progress)
    finally:
        await router.stop()
        await client.close()
        await pbx.stop()
    return sorted(sink.finished, key=lambda r: r.started_at)


async def _play(
    model: TrafficModel,
    pbx: Any,
    clock: Any,
    numbers: Mapping[str, str],
    progress: Progress | None,
) -> None:
    changes = [c for c in model.agent_changes if c.at > clock.now()]
    handles = []
    c = 0
    total = len(model.calls)
    for i, call in enumerate(model.calls, start=1):
        while c < len(changes) and changes[c].at <= call.at:
            await _sleep_until(clock, changes[c].at)
            pbx.add_agent(changes[c].script)
            c += 1
        await _sleep_until(clock, call.at)
        handles.append(pbx.place_call(_script(call, numbers)))
        if progress is not None:
            progress(i, total)
    for handle in handles:
        await handle.wait()
    await pbx.wait_idle()


async def _sleep_until(clock: Any, at: datetime) -> None:
    gap = (at - clock.now()).total_seconds()
    if gap > 0:
        await clock.sleep(gap)


def _script(call: ReplayCall, numbers: Mapping[str, str]) -> CallerScript:
    dialled = numbers[call.service] if call.service is not None else call.dialled
    return CallerScript(
        caller_number=call.caller_number,
        dialled=dialled,
        keys=tuple(KeyPress(digits=d, after=a) for d, a in call.keys),
        patience=call.patience,
        talk_time=call.talk_time,
    )

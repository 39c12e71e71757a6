"""Post-dial delay: the router's share, from a caller's StasisStart to the agent's ``dial`` sent.

On a real Asterisk the post-dial delay (caller's INVITE to the agent's INVITE, direct line) was
11.0 ms median / 19.1 ms p95 through decroche, against 1.9 / 4.6 ms for a plain ``Dial()``:
target, at most 5 ms added at p95. The router's share is measured here on the police's direct
line (no menu: the service is chosen at the StasisStart): ``channels/create`` (sent first; the
caller is not answered before an agent is, and the ring-back goes with the creates), the wait
for the agent channel's StasisStart, ``dial``, each step shown apart. The simulated PBX
runs in its own process with Asterisk's create/StasisStart window (0.5 to 3 ms at random); the
reference is the same measure with no window, its probes interleaved with the others in the same
run (set through the simulator's control API), so that both see the same load. 60 calls are kept
in progress meanwhile (menus, ringing, talking). Probe callers who hear a survey consent (one in
five) count like the others: the consent plays while the phones ring (their number is shown).

The simulated PBX carries out each REST request at once: only the HTTP round trips count here,
not Asterisk's own request times (answer 2.4 ms, create 1.4 ms, ring and dial 0.5 ms medians in
the recorded traces). Passes when the router's share is at most 5 ms at p95.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp

from bench.bench_router import _NullRecords, _p, _post, pbx_process
from routing_rules.holder import RulesHolder
from routing_rules.loader import default_rules_path
from telephony.ari.client import AriClient
from telephony.ari.models import Event, StasisStart
from telephony.clock import ScaledClock
from telephony.flow.router import Router, RouterSettings

POLICE_LINE = "0232464317"
# The router's clock starts on a Wednesday at 10:00 in Paris, when the police answer (the
# simulated PBX keeps its own clock: only its event timestamps differ).
OPEN = datetime(2026, 10, 14, 8, 0, tzinfo=UTC)
PROBES = 150  # of each kind
# Asterisk's create/StasisStart window: none (the reference), then as a loaded Asterisk has it.
WINDOWS = ("0", "0.5-3")
IN_PROGRESS = 60


@dataclass
class _Probe:
    """One probe call's moments (perf_counter seconds), as the router saw them."""

    start: float
    window: str  # the create/StasisStart window the PBX had for this call
    create: float | None = None  # first channels/create sent
    entered: dict[str, float] = field(default_factory=dict)  # agent channel -> StasisStart
    dial: float | None = None  # first dial sent
    dialled: str | None = None
    consent: bool = False  # a survey consent was played (in place of the ring-back)


@dataclass
class Samples:
    total: list[float] = field(default_factory=list)  # StasisStart -> dial sent
    before: list[float] = field(default_factory=list)  # StasisStart -> first create sent
    waiting: list[float] = field(default_factory=list)  # create sent -> its StasisStart
    reaction: list[float] = field(default_factory=list)  # agent's StasisStart -> dial sent
    consent: int = 0  # probes that heard a survey consent (counted like the others)
    undialled: int = 0  # probes left out: no dial before the caller left (should be none)


def _hook(
    router: Router, client: AriClient, probes: dict[str, _Probe], windows: dict[str, str]
) -> None:
    """Time the router's steps for the probe calls (``windows``: caller number -> window)."""
    dispatch = router.dispatcher.dispatch
    create, dial, play = client.create_channel, client.dial, client.play
    owner: dict[str, str] = {}  # agent channel -> probe call

    def dispatched(event: Event) -> None:
        if isinstance(event, StasisStart):
            now = time.perf_counter()
            args = event.args
            if args and args[0] == "agent":
                probe = probes.get(owner.get(event.channel.id, ""))
                if probe is not None:
                    probe.entered[event.channel.id] = now
            elif event.channel.caller.number in windows:
                probes[event.channel.id] = _Probe(now, windows[event.channel.caller.number])
        dispatch(event)

    async def creating(endpoint: str, **options: Any) -> Any:
        call = str(options.get("app_args", "")).partition(",")[2]
        probe = probes.get(call)
        if probe is not None:
            owner[options["channel_id"]] = call
            if probe.create is None:
                probe.create = time.perf_counter()
        return await create(endpoint, **options)

    async def dialling(channel_id: str, **options: Any) -> None:
        probe = probes.get(owner.get(channel_id, ""))
        if probe is not None and probe.dial is None:
            probe.dial, probe.dialled = time.perf_counter(), channel_id
        await dial(channel_id, **options)

    async def playing(channel_id: str, media: Any, **options: Any) -> Any:
        probe = probes.get(channel_id)
        if probe is not None and probe.dial is None:
            probe.consent = True
        return await play(channel_id, media, **options)

    router.stream._pipeline._sink = dispatched  # type: ignore[attr-defined]
    client.create_channel = creating  # type: ignore[method-assign]
    client.dial = dialling  # type: ignore[method-assign]
    client.play = playing  # type: ignore[method-assign]


async def _measure() -> dict[str, Samples]:
    """Probes with and without the window, interleaved in one run (as the figures of the real
    PBX were): both see the same load, whatever else the machine does meanwhile."""
    rules = RulesHolder(default_rules_path())
    endpoints = sorted({a for s in rules.current.services.values() for a in s.agents})
    async with pbx_process(endpoints) as base, aiohttp.ClientSession() as session:
        client = AriClient(base, "decroche", "decroche", "decroche")
        probes: dict[str, _Probe] = {}
        windows: dict[str, str] = {}
        try:
            router = Router(
                client=client,
                rules=rules,
                records=_NullRecords(),
                clock=ScaledClock(speed=1.0, origin=OPEN),
                settings=RouterSettings(drain_timeout_s=0.5),
            )
            await router.start()
            _hook(router, client, probes, windows)
            for i in range(IN_PROGRESS):  # menus, then ringing, then talking: not the police
                await _post(
                    session, f"{base}/sim/calls", {"caller_number": f"07{i:08d}", "patience": 3600}
                )
            await asyncio.sleep(1.0)
            for i in range(2 * PROBES):
                window = WINDOWS[i % 2]
                async with session.put(f"{base}/sim/stasis-window", json={"ms": window}) as answer:
                    answer.raise_for_status()
                number = f"06{i:08d}"
                windows[number] = window
                # The caller gives up before an agent answers (3 s): the police's phones are
                # free again for the next one.
                body = {"caller_number": number, "dialled": POLICE_LINE, "patience": 0.25}
                await _post(session, f"{base}/sim/calls", body)
                await asyncio.sleep(0.3)
            await asyncio.sleep(0.5)
            # The calls kept in progress are handed back: that is the point, not news.
            logging.getLogger("telephony.flow.router").setLevel(logging.ERROR)
            await router.stop()
        finally:
            await client.close()
    samples = {window: Samples() for window in WINDOWS}
    for probe in probes.values():
        sample = samples[probe.window]
        if probe.consent:
            sample.consent += 1
        if probe.dial is None or probe.create is None or probe.dialled is None:
            sample.undialled += 1
            continue
        sample.total.append(probe.dial - probe.start)
        sample.before.append(probe.create - probe.start)
        entered = probe.entered.get(probe.dialled)
        if entered is not None:
            sample.waiting.append(entered - probe.create)
            sample.reaction.append(probe.dial - entered)
    return samples


def _line(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:5.2f} ms, p95 {_p(values, 0.95):5.2f} ms"


def main() -> bool:
    samples = asyncio.run(_measure())
    reference, measured = samples[WINDOWS[0]], samples[WINDOWS[1]]
    for name, sample in (("no window (reference)", reference), ("window 0.5-3 ms", measured)):
        print(
            f"{name}: {len(sample.total)} probes ({sample.consent} heard a survey consent; "
            f"left out: {sample.undialled} not dialled)"
        )
        print(f"  StasisStart -> dial sent           {_line(sample.total)}")
        print(f"    StasisStart -> create sent       {_line(sample.before)}")
        print(f"    create -> agent's StasisStart    {_line(sample.waiting)}")
        print(f"    agent's StasisStart -> dial sent {_line(sample.reaction)}")
    p95 = _p(measured.total, 0.95)
    print(
        f"router's share at p95: {p95:.2f} ms with the window, "
        f"{p95 / _p(reference.total, 0.95):.2f} x the reference"
    )
    print(
        "target: at most 5 ms added at p95 (real Asterisk before this fix: 11.0 / 19.1 ms median "
        "/ p95 through decroche, 1.9 / 4.6 ms for a plain Dial())"
    )
    return p95 <= 5.0

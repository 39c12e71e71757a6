"""Capacity of the simulated PBX: simultaneous calls driven over real HTTP + WebSocket.

A minimal ARI app (in this process, its own aiohttp client) handles every scripted caller the way
the call flow does: answer, play a prompt, create + dial an agent, bridge both, hang the agent up
when the caller leaves. The round trip measured is REST request sent -> the event it causes
received on the WebSocket (answer -> ChannelStateChange Up, play -> PlaybackStarted, dial ->
Dial, addChannel -> ChannelEnteredBridge). Target: 1,000 simultaneous calls (arriving over 80
simulated seconds, each talking 120 s, clock at 4x) with a p99 under 5 ms. A run with 10 calls is
the reference the ratio is computed against.

``BENCH_SIM_CALLS`` sets the number of calls (default 1000).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import statistics
import time
from typing import Any

import aiohttp

from telephony.clock import ScaledClock
from telephony.simulator import AgentScript, CallerScript, SimulatedPbx

SPEED = 4.0  # every timer of the PBX runs 4x faster than the wall clock
AUTH = {"Authorization": "Basic " + base64.b64encode(b"decroche:decroche").decode()}


class MiniApp:
    """Just enough of a Stasis app to put callers through to agents."""

    def __init__(self, pbx: SimulatedPbx, session: aiohttp.ClientSession) -> None:
        self.pbx = pbx
        self.session = session
        self.pending: dict[tuple[str, str], float] = {}
        self.samples: list[float] = []
        self.agent_of: dict[str, str] = {}
        self.caller_of: dict[str, str] = {}
        self.peak_channels = 0
        self.events = 0
        self.next_agent = 0

    async def rest(
        self, method: str, path: str, expect: tuple[str, str] | None, **params: Any
    ) -> None:
        if expect is not None:
            self.pending[expect] = time.perf_counter()
        async with self.session.request(
            method, f"{self.pbx.url}/ari{path}", params=params, headers=AUTH
        ) as response:
            await response.read()
            if response.status >= 400:
                raise RuntimeError(f"{method} {path} -> {response.status}")

    def observe(self, event: dict[str, Any]) -> None:
        self.events += 1
        channel = event.get("channel") or event.get("peer") or {}
        subject = (
            channel.get("id") or event.get("playback", {}).get("target_uri", ":").split(":")[1]
        )
        started = self.pending.pop((subject, event["type"]), None)
        if started is not None:
            self.samples.append(time.perf_counter() - started)
        self.peak_channels = max(self.peak_channels, len(self.pbx.engine.channels))

    async def handle(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        channel = event.get("channel") or event.get("peer") or {}
        cid = channel.get("id", "")
        if kind == "StasisStart" and event["args"] and event["args"][0] != "agent":
            await self.rest("POST", f"/channels/{cid}/answer", (cid, "ChannelStateChange"))
            await self.rest("POST", f"/channels/{cid}/play", (cid, "PlaybackStarted"),
                            media="sound:welcome", playbackId=f"pb-{cid}")  # fmt: skip
        elif kind == "PlaybackFinished":
            caller = event["playback"]["target_uri"].split(":", 1)[1]
            self.next_agent += 1
            agent_id = f"agent-{caller}"
            self.agent_of[caller] = agent_id
            self.caller_of[agent_id] = caller
            await self.rest("POST", "/channels/create", None, endpoint=f"PJSIP/a{self.next_agent}",
                            app="decroche", appArgs="agent", channelId=agent_id)  # fmt: skip
        elif kind == "StasisStart":
            await self.rest("POST", f"/channels/{cid}/dial", (cid, "Dial"),
                            caller=self.caller_of[cid], timeout=30)  # fmt: skip
        elif kind == "Dial" and event["dialstatus"] == "ANSWER":
            caller = self.caller_of[cid]
            await self.rest("POST", "/bridges", None, type="mixing", bridgeId=f"br-{caller}")
            for member in (caller, cid):
                await self.rest("POST", f"/bridges/br-{caller}/addChannel",
                                (member, "ChannelEnteredBridge"), channel=member)  # fmt: skip
        elif kind == "StasisEnd" and cid in self.agent_of:
            await self.rest("DELETE", f"/channels/{self.agent_of[cid]}", None)
            await self.rest("DELETE", f"/bridges/br-{cid}", None)


async def run(calls: int, arrivals_over: float, talk_time: float) -> dict[str, float]:
    """``calls`` callers arriving evenly over ``arrivals_over`` simulated seconds."""
    pbx = SimulatedPbx(clock=ScaledClock(SPEED))
    pbx.set_media_durations({"sound:welcome": 2.0})
    for n in range(1, calls + 1):
        pbx.add_agent(AgentScript(endpoint=f"PJSIP/a{n}", ring_time=3.0))
    await pbx.start("127.0.0.1", 0)
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector) as session:
        app = MiniApp(pbx, session)
        ws = await session.ws_connect(f"{pbx.url}/ari/events?app=decroche", headers=AUTH)
        tasks: set[asyncio.Task[None]] = set()

        async def read() -> None:
            async for message in ws:
                event = json.loads(message.data)
                app.observe(event)
                task = asyncio.get_running_loop().create_task(app.handle(event))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

        reader = asyncio.get_running_loop().create_task(read())
        started = time.perf_counter()
        handles = []
        for n in range(calls):
            script = CallerScript(caller_number=f"06{n:08d}", talk_time=talk_time, patience=600)
            handles.append(pbx.place_call(script))
            await pbx.clock.sleep(arrivals_over / calls)
        await asyncio.wait_for(asyncio.gather(*(h.wait() for h in handles)), 600)
        await asyncio.wait_for(pbx.wait_idle(), 60)
        wall = time.perf_counter() - started
        if tasks:
            await asyncio.gather(*tasks)
        await ws.close()
        reader.cancel()
    await pbx.stop()
    talked = sum(1 for h in handles if h.ended and h.ended["how"] == "talked")
    samples = sorted(app.samples)
    return {
        "calls": calls,
        "talked": talked,
        "peak_channels": app.peak_channels,
        "events": app.events,
        "wall_s": wall,
        "p50_ms": statistics.median(samples) * 1000,
        "p99_ms": samples[int(len(samples) * 0.99) - 1] * 1000,
        "max_ms": samples[-1] * 1000,
    }


def report(label: str, figures: dict[str, float]) -> None:
    print(
        f"{label:>10}: {figures['calls']:.0f} calls ({figures['talked']:.0f} talked to an agent), "
        f"peak {figures['peak_channels']:.0f} channels, {figures['events']:.0f} events in "
        f"{figures['wall_s']:.1f} s; round trip p50 {figures['p50_ms']:.2f} ms, "
        f"p99 {figures['p99_ms']:.2f} ms, max {figures['max_ms']:.2f} ms"
    )


def main() -> bool:
    calls = int(os.environ.get("BENCH_SIM_CALLS", "1000"))
    reference = asyncio.run(run(10, arrivals_over=5.0, talk_time=10.0))
    report("reference", reference)
    # Every caller talks 120 s and they arrive over 80 s: all are on the line at the same time.
    measured = asyncio.run(run(calls, arrivals_over=80.0, talk_time=120.0))
    report("measured", measured)
    ratio = measured["p99_ms"] / reference["p99_ms"]
    ok = measured["p99_ms"] < 5.0 and measured["talked"] == calls
    print(f"p99 ratio {calls} calls / 10 calls: {ratio:.2f}x; target p99 < 5 ms: "
          f"{'met' if ok else 'NOT met'}")  # fmt: skip
    return ok


if __name__ == "__main__":
    main()

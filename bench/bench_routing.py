"""Routing decisions per second on one core, Bernay rules (target >= 100,000/s).

Measured: ``service_decision`` for every service of the Bernay rules, at times spread over a
year (open, closed, holidays, exceptions), with agents' states drawn at random (free, busy,
absent, paused), and — separately — a whole entry + IVR + route chain. Reference in the same
run: the floor of any such decision in Python, i.e. converting ``now`` to Paris time and
looking the service and its agents up in dicts, with no rule logic at all.

``BENCH_ROUTING_N`` sets the number of decisions per measure (default 200,000).
"""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

from ivr_prompts.catalogue import load_catalogue
from routing_rules.agents import AgentsView, DeviceState, Presence
from routing_rules.ivr import Key, ivr_next, ivr_start
from routing_rules.loader import default_rules_path, load_rules
from routing_rules.routing import CallFacts, entry_point, route_service, service_decision

TARGET = 100_000


def _cases(rules, n: int, seed: int = 7):
    rng = random.Random(seed)
    services = list(rules.services)
    agents = [a for s in rules.services.values() for a in s.agents]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    states = [DeviceState.NOT_INUSE] * 6 + [DeviceState.INUSE, DeviceState.UNAVAILABLE]
    views = []
    for _ in range(64):
        devices = {a: rng.choice(states) for a in agents}
        presence = {
            (s, a): Presence.PAUSED
            for s in services
            for a in rules.services[s].agents
            if rng.random() < 0.1
        }
        last = {a: start + timedelta(minutes=rng.randrange(100_000)) for a in agents}
        views.append(
            AgentsView(
                devices=MappingProxyType(devices),
                presence=MappingProxyType(presence),
                last_call_end=MappingProxyType(last),
                round_robin_last=MappingProxyType({s: rng.choice(agents) for s in services}),
            )
        )
    moments = [start + timedelta(minutes=rng.randrange(525_600)) for _ in range(1024)]
    return [(services[i % len(services)], moments[i % 1024], views[i % 64]) for i in range(n)]


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def main() -> bool:
    n = int(os.environ.get("BENCH_ROUTING_N", "200000"))
    rules = load_rules(default_rules_path(), load_catalogue())
    facts = CallFacts(caller_number="0612345678")
    cases = _cases(rules, n)

    # Reference: the floor — time zone conversion and dict look-ups, no rule logic.
    paris = ZoneInfo("Europe/Paris")
    started = time.perf_counter()
    for sid, now, view in cases:
        local = now.astimezone(paris)
        service = rules.services[sid]
        _ = (local.weekday(), tuple(a for a in service.agents if view.devices.get(a)))
    reference = _rate(n, time.perf_counter() - started)

    started = time.perf_counter()
    for sid, now, view in cases:
        service_decision(rules, sid, now, view, facts)
    decisions = _rate(n, time.perf_counter() - started)

    # A whole call's routing: entry, two keys through the IVR, the chain to a ring or an end.
    m = max(1, n // 10)
    started = time.perf_counter()
    for _sid, now, view in cases[:m]:
        entry = entry_point(rules, "0232464300", now)
        step = ivr_start(rules, entry.menu_id)  # type: ignore[union-attr]
        step = ivr_next(rules, step.state, Key("2"))
        step = ivr_next(rules, step.state, Key("1"))
        route_service(rules, "ccas", now, view, facts)
    calls = _rate(m, time.perf_counter() - started)

    print(f"reference (tz conversion + look-ups): {reference:12,.0f} /s")
    print(f"service_decision:                     {decisions:12,.0f} /s  (target >= {TARGET:,})")
    print(f"ratio decision / reference:           {decisions / reference:12.2f}")
    print(f"whole call routing (entry+IVR+chain): {calls:12,.0f} calls/s")
    ok = decisions >= TARGET
    print("OK" if ok else f"BELOW TARGET ({decisions:,.0f} < {TARGET:,})")
    return ok


if __name__ == "__main__":
    main()

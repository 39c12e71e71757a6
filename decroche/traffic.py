"""Realistic town-hall telephone traffic for the demo and load runs: who calls when, for what.

Pure: a seeded random generator and the rules in, a list of scripted calls out. Arrivals follow
a weekday/hour profile typical of a French town hall (morning and early-afternoon peaks, light
Saturday mornings, nothing on Sundays); each caller picks a service by weight and keys the path
the rules' menus give to it; some press a wrong key, some never press, some give up.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from routing_rules.compiled import CompiledRules, ToMenu, ToService
from telephony.simulator.scripts import AgentScript, CallerScript, KeyPress

# Share of a day's calls arriving in each local hour, Monday to Friday.
WEEKDAY_PROFILE = {
    8: 0.08, 9: 0.15, 10: 0.16, 11: 0.13, 12: 0.03,
    13: 0.04, 14: 0.13, 15: 0.12, 16: 0.10, 17: 0.06,
}  # fmt: skip
SATURDAY_PROFILE = {9: 0.4, 10: 0.35, 11: 0.25}
SATURDAY_SHARE = 0.15  # a Saturday sees this share of a weekday's calls

# How often each service is asked for (others share what is left).
SERVICE_WEIGHTS = {
    "accueil_general": 30.0,
    "ccas": 12.0,
    "police_municipale": 9.0,
    "eau_urbanisme": 8.0,
    "guichet_famille": 7.0,
    "mediatheque": 5.0,
    "accueil_loisirs": 5.0,
    "multi_accueil": 4.0,
}


@dataclass(frozen=True, slots=True)
class PlannedCall:
    at: datetime
    script: CallerScript
    service: str | None  # what the caller wants (None: gets lost in the menu)


def key_paths(rules: CompiledRules) -> dict[str, tuple[str, ...]]:
    """The shortest keys that reach each service from the entry menu (breadth first)."""
    entry = next((r.target for r in rules.entry if r.numbers is None), None)
    if not isinstance(entry, ToMenu):
        return {}
    paths: dict[str, tuple[str, ...]] = {}
    queue: deque[tuple[str, tuple[str, ...]]] = deque([(entry.menu_id, ())])
    seen = {entry.menu_id}
    while queue:
        menu_id, path = queue.popleft()
        for key, target in sorted(rules.menus[menu_id].keys.items()):
            if isinstance(target, ToService) and target.service_id not in paths:
                paths[target.service_id] = (*path, key)
            elif isinstance(target, ToMenu) and target.menu_id not in seen:
                seen.add(target.menu_id)
                queue.append((target.menu_id, (*path, key)))
    return paths


def plan_day(
    rules: CompiledRules,
    day: datetime,
    calls_per_weekday: int,
    rng: random.Random,
    dialled: str = "0232464646",
) -> list[PlannedCall]:
    """The calls of one local day (``day`` at local midnight, aware)."""
    local = day.astimezone(rules.tz)
    weekday = local.weekday()
    if weekday == 6:
        return []
    profile = SATURDAY_PROFILE if weekday == 5 else WEEKDAY_PROFILE
    total = calls_per_weekday * (SATURDAY_SHARE if weekday == 5 else 1.0)
    paths = key_paths(rules)
    services = sorted(paths)
    weights = [SERVICE_WEIGHTS.get(s, 2.0) for s in services]
    calls: list[PlannedCall] = []
    for hour, share in profile.items():
        for _ in range(_poisson(rng, total * share)):
            start = local.replace(hour=hour, minute=0, second=0, microsecond=0)
            at = (start + timedelta(seconds=rng.uniform(0, 3600))).astimezone(UTC)
            calls.append(_caller(rng, at, services, weights, paths, dialled))
    return sorted(calls, key=lambda c: c.at)


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method is fine for the small means of one hour of one town hall.
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, mean**0.5)))
    limit, k, p = pow(2.718281828459045, -mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _caller(
    rng: random.Random,
    at: datetime,
    services: list[str],
    weights: list[float],
    paths: dict[str, tuple[str, ...]],
    dialled: str,
) -> PlannedCall:
    number = f"06{rng.randrange(10**8):08d}"
    service: str | None = rng.choices(services, weights)[0]
    roll = rng.random()
    digits: list[str] = list(paths[service]) if service else []
    if roll < 0.03:
        digits = ["9", *digits]  # a wrong key first
    elif roll < 0.05:
        digits, service = [], None  # never presses: the menu's fallback takes over
    keys = tuple(KeyPress(digits=d, after=rng.uniform(0.8, 3.0)) for d in digits)
    # Patience counts from the arrival: the time to go through the menus, then how long this
    # caller accepts to wait for someone (most wait a minute or two, some give up quickly).
    menus = 12.0 + 4.0 * len(digits)
    if rng.random() < 0.02:
        patience = 2.0  # hangs up during the greeting
    elif rng.random() < 0.12:
        patience = menus + rng.uniform(3.0, 30.0)
    else:
        patience = menus + max(20.0, rng.expovariate(1 / 90.0) + 20.0)
    talk = max(15.0, rng.lognormvariate(4.4, 0.6))
    survey = tuple(str(rng.choice("345")) for _ in range(2)) if rng.random() < 0.5 else ()
    script = CallerScript(
        caller_number=number,
        dialled=dialled,
        keys=keys,
        patience=patience,
        talk_time=talk,
        survey=survey,
    )
    return PlannedCall(at, script, service)


def agents_for(rules: CompiledRules, rng: random.Random) -> list[AgentScript]:
    """The town's agents: most answer after a few rings, some are away or slow."""
    agents: list[AgentScript] = []
    for endpoint in sorted({a for s in rules.services.values() for a in s.agents}):
        roll = rng.random()
        if roll < 0.08:
            agents.append(AgentScript(endpoint=endpoint, registered=False))
        elif roll < 0.15:
            agents.append(AgentScript(endpoint=endpoint, response="no_answer"))
        else:
            agents.append(AgentScript(endpoint=endpoint, ring_time=rng.uniform(2.0, 14.0)))
    return agents

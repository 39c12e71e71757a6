"""Realistic town-hall telephone traffic for the demo and load runs: who calls when, for what.

Pure: a seeded random generator and the rules in, a list of scripted calls out. Arrivals follow
a weekday/hour profile typical of a French town hall (morning and early-afternoon peaks, light
Saturday mornings, nothing on Sundays); each caller picks a service by weight and keys the path
the rules' menus give to it; some press a wrong key, some never press, some give up. The agents
are people, not metronomes: each has their own habits (how many rings before they pick up, how
long they talk), and each call is drawn from them, so waits and talk times vary as they do.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from routing_rules.compiled import CompiledRules, SurveyRules, ToMenu, ToService
from routing_rules.kinds import Scale
from telephony.simulator.scripts import AgentScript, CallerScript, Drawn, KeyPress

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


# Of the callers asked to answer the satisfaction survey, how many stay on the line for it.
SURVEY_WILLING = 0.6
# How satisfied those who answer are, from 1 (not at all) to 5 (very): mostly content, not all.
SATISFACTION_WEIGHTS = {"1": 4.0, "2": 7.0, "3": 16.0, "4": 40.0, "5": 33.0}
# "Was your question answered?": 1 yes, 2 no.
RESOLVED_WEIGHTS = {"1": 78.0, "2": 22.0}


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
    surveys = tuple(rules.surveys[k] for k in sorted(rules.surveys))
    calls: list[PlannedCall] = []
    for hour, share in profile.items():
        for _ in range(_poisson(rng, total * share)):
            start = local.replace(hour=hour, minute=0, second=0, microsecond=0)
            at = (start + timedelta(seconds=rng.uniform(0, 3600))).astimezone(UTC)
            calls.append(_caller(rng, at, services, weights, paths, dialled, surveys))
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
    surveys: tuple[SurveyRules, ...],
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
    # How long this caller would keep talking: the agent usually ends the call first (then a
    # caller who agreed to the survey stays on the line for it), a chatty one sometimes not.
    talk = max(30.0, rng.lognormvariate(5.3, 0.5))
    survey = survey_answers(surveys, service, rng) if rng.random() < SURVEY_WILLING else ()
    script = CallerScript(
        caller_number=number,
        dialled=dialled,
        keys=keys,
        patience=patience,
        talk_time=talk,
        survey=survey,
    )
    return PlannedCall(at, script, service)


def survey_answers(
    surveys: tuple[SurveyRules, ...], service: str | None, rng: random.Random
) -> tuple[str, ...]:
    """The keys a willing caller presses to the questions of the survey ``service``'s calls
    get (the menu's fallback service when ``service`` is None), each on its question's scale."""
    survey = next((s for s in surveys if s.services is None or service in s.services), None)
    if survey is None:
        return ()
    answers = []
    for question in survey.questions:
        weights = SATISFACTION_WEIGHTS if question.scale is Scale.ONE_TO_FIVE else RESOLVED_WEIGHTS
        answers.append(rng.choices(list(weights), list(weights.values()))[0])
    return tuple(answers)


def agents_for(rules: CompiledRules, rng: random.Random) -> list[AgentScript]:
    """The town's agents: most answer after a few rings, some are away or never pick up.

    Each agent has their habits — a usual answer delay (3 to 12 s) and a usual talk time (1 to
    3 minutes) — and each call is drawn around them, with their own seeded generator: the same
    demo seed gives the same agents and the same calls.
    """
    agents: list[AgentScript] = []
    for endpoint in sorted({a for s in rules.services.values() for a in s.agents}):
        roll = rng.random()
        seed = rng.randrange(2**31)
        if roll < 0.08:
            agents.append(AgentScript(endpoint=endpoint, registered=False, seed=seed))
        elif roll < 0.15:
            agents.append(AgentScript(endpoint=endpoint, response="no_answer", seed=seed))
        else:
            ring = Drawn(median=rng.uniform(3.0, 12.0), spread=rng.uniform(0.3, 0.6), low=1.5,
                         high=60.0)  # fmt: skip
            talk = Drawn(median=rng.uniform(60.0, 180.0), spread=0.5, low=20.0, high=1200.0)
            agents.append(AgentScript(endpoint=endpoint, ring_time=ring, talk_time=talk, seed=seed))
    return agents

"""What-if replay speed: a month of a town of 100,000 calls a year (~8,300 calls).

The month's "recorded" traffic is made once by playing generated Bernay traffic on the simulated
PBX; then the what-if work is timed: rebuilding the traffic model from the records and replaying
it through one rules set (a ``decroche whatif`` does that twice: current and new rules), with
the quiet parts spread over one worker process a core as ``decroche whatif`` does (REST calls
in-process, events over the WebSocket; the first day is also replayed over HTTP). Target:
under a minute per rules set. The reference for the ratio is the month's first day replayed in
this process; the ratio is month time ÷ (day time × days with calls): ~1 when the replay scales
linearly on one core, about 1 ÷ cores when the workers share the month well.

``BENCH_WHATIF_DAYS`` sets the number of days (default 31: the full month).
"""

from __future__ import annotations

import os
import random
import time
from datetime import datetime, timedelta

from decroche.traffic import agents_for, plan_day
from ivr_prompts.catalogue import load_catalogue
from routing_rules.compiled import CompiledRules
from routing_rules.loader import default_rules_path, load_rules
from whatif.replay import default_workers, replay, replay_pool
from whatif.traffic import AgentChange, ReplayCall, TrafficModel, traffic_from_records

CALLS_PER_WEEKDAY = 380  # ~100,000 calls a year with light Saturdays and closed Sundays


def _generated(rules: CompiledRules, days: int, seed: int = 2026) -> TrafficModel:
    rng = random.Random(seed)
    first = datetime(2026, 10, 1, tzinfo=rules.tz)
    calls: list[ReplayCall] = []
    for n in range(days):
        for p in plan_day(rules, first + timedelta(days=n), CALLS_PER_WEEKDAY, rng):
            keys = tuple((k.digits, k.after) for k in p.script.keys)
            calls.append(
                ReplayCall(
                    p.at,
                    p.script.dialled,
                    p.script.caller_number,
                    keys,
                    p.script.patience,
                    p.script.talk_time,
                )
            )
    agents = [AgentChange(first - timedelta(days=1), a) for a in agents_for(rules, rng)]
    return TrafficModel(calls, agents)


def main() -> None:
    days = int(os.environ.get("BENCH_WHATIF_DAYS", "31"))
    rules = load_rules(default_rules_path(), load_catalogue().keys())
    generated = _generated(rules, days)
    workers = default_workers()
    with replay_pool(workers) as pool:
        started = time.perf_counter()
        recorded = replay(generated, rules, pool=pool)
        print(f"recorded traffic: {len(recorded)} calls over {days} days, played in "
              f"{time.perf_counter() - started:.1f} s with {workers} worker(s)")  # fmt: skip

        first_day = generated.calls[0].at.astimezone(rules.tz).date()
        day_records = [r for r in recorded if r.started_at.astimezone(rules.tz).date() == first_day]
        day_model = traffic_from_records(day_records, rules=rules)
        started = time.perf_counter()
        replay(day_model, rules)
        day_s = time.perf_counter() - started
        started = time.perf_counter()
        replay(day_model, rules, over_http=True)
        http_s = time.perf_counter() - started

        started = time.perf_counter()
        model = traffic_from_records(recorded, rules=rules)
        model_s = time.perf_counter() - started
        started = time.perf_counter()
        replayed = replay(model, rules, pool=pool)
        replay_s = time.perf_counter() - started
    open_days = len({r.started_at.astimezone(rules.tz).date() for r in recorded})
    per_month = (model_s + replay_s) * 31 / max(1, days)
    print(
        f"model from records: {model_s:.2f} s; replay of {len(replayed)} calls: {replay_s:.1f} s "
        f"({1000 * replay_s / max(1, len(replayed)):.2f} ms a call, {workers} worker(s))"
    )
    n = max(1, len(day_records))
    print(
        f"reference: first day ({len(day_records)} calls) replayed in this process in "
        f"{day_s:.2f} s ({1000 * day_s / n:.2f} ms a call; REST over HTTP instead: "
        f"{1000 * http_s / n:.2f} ms a call); ratio period / (day × {open_days} days with calls) "
        f"= {replay_s / (day_s * open_days):.2f}"
    )
    label = "a month (~8,300 calls)" + (" extrapolated" if days != 31 else "")
    print(
        f"per rules set, {label}: {per_month:.0f} s "
        f"(target < 60 s: {'met' if per_month < 60 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()

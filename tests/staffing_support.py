"""Generated traffic for the staffing tests: a queue_log of stationary mornings, and records."""

from __future__ import annotations

import heapq
import math
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def stationary_queue_log(
    first_monday: date,
    weeks: int = 4,
    calls_per_hour: int = 30,
    talk_s: float = 180.0,
    patience_s: float = 120.0,
    agents: int = 3,
    hours: tuple[int, ...] = (9, 10, 11),
    seed: int = 7,
    queue: str = "accueil",
) -> str:
    """An Asterisk queue_log of Monday-to-Friday mornings on one queue (``accueil``).

    Exactly ``calls_per_hour`` callers in each open hour (at random times within it), each
    talking exactly ``talk_s`` once answered, so that the arrival rate and handle time a model
    measures are the figures given; callers wait in the queue (FIFO, first free agent) and hang
    up after an exponential patience. Agents pick up at once (ring time 0).
    """
    rng = random.Random(seed)
    lines: list[str] = []
    arrivals: list[float] = []
    for week in range(weeks):
        for weekday in range(5):
            day = first_monday + timedelta(days=7 * week + weekday)
            for hour in hours:
                start = datetime(day.year, day.month, day.day, hour, tzinfo=PARIS).timestamp()
                arrivals += sorted(start + rng.uniform(0, 3600) for _ in range(calls_per_hour))
    free = [(0.0, f"PJSIP/10{i}") for i in range(agents)]
    heapq.heapify(free)
    for index, at in enumerate(sorted(arrivals)):
        call_id = f"{at:.3f}.{index}"
        patience = rng.expovariate(1 / patience_s)
        lines.append(f"{at:.0f}|{call_id}|{queue}|NONE|ENTERQUEUE||06{index:08d}|1")
        free_at, agent = free[0]
        start = max(at, free_at)
        if start - at <= patience:
            heapq.heapreplace(free, (start + talk_s, agent))
            # Asterisk's holdtime is its clock's whole seconds, as the lines' epochs are.
            hold = round(start) - round(at)
            lines.append(f"{start:.0f}|{call_id}|{queue}|{agent}|CONNECT|{hold}|{call_id}b|0")
            lines.append(
                f"{start + talk_s:.0f}|{call_id}|{queue}|{agent}|COMPLETECALLER|{hold}|"
                f"{talk_s:.0f}|1"
            )
        else:
            lines.append(
                f"{at + patience:.0f}|{call_id}|{queue}|NONE|ABANDON|1|1|"
                f"{round(at + patience) - round(at)}"
            )
    lines.sort(key=lambda line: int(line.split("|", 1)[0]))
    return "\n".join(lines) + "\n"


def erlang_c_agents_by_hand(
    calls_per_hour: float, handle_s: float, target_s: float, level: float
) -> int:
    """The textbook Erlang C staffing, written out with factorials (no code under test)."""
    a = calls_per_hour * handle_s / 3600
    n = math.floor(a) + 1
    while True:
        top = a**n / math.factorial(n) * n / (n - a)
        c = top / (sum(a**k / math.factorial(k) for k in range(n)) + top)
        if 1 - c * math.exp(-(n - a) * target_s / handle_s) >= level:
            return n
        n += 1

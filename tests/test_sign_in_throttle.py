"""Sign-in throttling (issue 19, point 10): delays per account and per address, in injected
time; password checks bounded (each one is an Argon2 hash of 64 MiB)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from reports.throttle import GateBusy, HashGate, SignInThrottle, Throttled, ThrottleRule

T0 = datetime(2026, 10, 20, 10, 0, tzinfo=UTC)
RULE = ThrottleRule(free=3, first_delay=timedelta(minutes=1), max_delay=timedelta(minutes=5))


def waits(throttle: SignInThrottle, login: str, address: str, at: datetime) -> int | None:
    try:
        throttle.check(login, address, at)
    except Throttled as exc:
        return exc.retry_after_s
    return None


# failures so far -> the wait before the next attempt, in seconds (from the last failure)
@pytest.mark.parametrize(
    ("failures", "wait"), [(0, None), (2, None), (3, 60), (4, 120), (5, 240), (6, 300), (20, 300)]
)
def test_the_wait_doubles_past_the_free_failures_up_to_a_ceiling(failures: int, wait: int | None):
    throttle = SignInThrottle(RULE, RULE)
    for _ in range(failures):
        throttle.failed("qualite", "10.0.0.1", T0)
    assert waits(throttle, "qualite", "10.0.0.1", T0) == wait
    if wait is not None:
        assert waits(throttle, "qualite", "10.0.0.1", T0 + timedelta(seconds=wait)) is None


def test_the_message_says_which_limit_and_how_long_in_french():
    throttle = SignInThrottle(RULE, ThrottleRule(10, timedelta(minutes=1), timedelta(minutes=5)))
    for _ in range(5):
        throttle.failed("qualite", "10.0.0.1", T0)
    expected = "^Trop d'essais de connexion pour ce compte : réessayez dans 4 minutes.$"
    with pytest.raises(Throttled, match=expected):
        throttle.check("qualite", "10.0.0.2", T0)
    for i in range(10):
        throttle.failed(f"autre{i}", "10.0.0.1", T0)
    with pytest.raises(Throttled, match="depuis ce poste : réessayez dans 5 minutes"):
        throttle.check("agent1", "10.0.0.1", T0)


def test_success_clears_the_account_and_quiet_time_forgets_the_address():
    throttle = SignInThrottle(RULE, RULE, forget_after=timedelta(minutes=30))
    for _ in range(3):
        throttle.failed("qualite", "10.0.0.1", T0)
    throttle.succeeded("qualite")
    assert waits(throttle, "qualite", "10.0.0.2", T0) is None
    assert waits(throttle, "agent1", "10.0.0.1", T0) == 60  # the address still remembers
    assert waits(throttle, "agent1", "10.0.0.1", T0 + timedelta(minutes=30)) is None


def test_memory_is_bounded_whatever_the_logins_tried():
    throttle = SignInThrottle(RULE, RULE, max_keys=100)
    for i in range(10_000):
        throttle.failed(f"essai{i}", f"10.0.{i // 250}.{i % 250}", T0)
    assert len(throttle._failures) == 100


async def test_password_checks_run_two_at_a_time_and_excess_is_refused_at_once():
    gate = HashGate(slots=2, max_waiting=3)
    release = asyncio.Event()
    inside = peak = 0

    async def sign_in() -> None:
        nonlocal inside, peak
        async with gate.slot():
            inside += 1
            peak = max(peak, inside)
            await release.wait()
            inside -= 1

    tasks = [asyncio.create_task(sign_in()) for _ in range(24)]
    for _ in range(5):  # let every task reach the gate (no time passes)
        await asyncio.sleep(0)
    refused = [t for t in tasks if t.done()]
    assert (peak, len(refused)) == (2, 19)
    assert all(isinstance(t.exception(), GateBusy) for t in refused)
    assert "réessayez dans quelques secondes" in str(refused[0].exception())
    release.set()
    await asyncio.gather(*(t for t in tasks if t not in refused))
    assert peak == 2

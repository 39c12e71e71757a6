import asyncio
from datetime import UTC, datetime

from telephony.clock import ScaledClock, ari_timestamp, parse_ari_timestamp, wait_for


def test_ari_timestamp_round_trip() -> None:
    moment = datetime(2026, 11, 29, 1, 58, 3, 224000, tzinfo=UTC)
    text = ari_timestamp(moment)
    assert text == "2026-11-29T01:58:03.224+0000"
    assert parse_ari_timestamp(text) == moment


async def test_scaled_clock_runs_faster() -> None:
    origin = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    clock = ScaledClock(speed=1000.0, origin=origin)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await clock.sleep(20.0)  # 20 simulated seconds = 20 ms
    assert loop.time() - start < 1.0
    assert (clock.now() - origin).total_seconds() >= 20.0


async def test_wait_for_uses_clock_time() -> None:
    clock = ScaledClock(speed=100.0)

    async def slow() -> str:
        await clock.sleep(1.0)
        return "done"

    assert await wait_for(clock, slow(), 5.0) == "done"

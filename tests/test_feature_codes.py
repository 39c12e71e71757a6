"""Agents' feature codes from their phone (*51 sign in, *52 sign out, *53 pause) reach routing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routing_rules.agents import Presence
from routing_rules.holder import RulesHolder
from routing_rules.loader import default_rules_path
from telephony.ari.events import parse_event_object
from telephony.ari.models import StasisStart
from telephony.clock import ScaledClock
from telephony.flow.router import Router, endpoint_of_channel_name, local_pair
from tests.flow_support import MemoryRecords


class FakeClient:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def answer(self, channel_id: str) -> None:
        self.calls.append(("answer", channel_id))

    async def hangup(self, channel_id: str, reason: str | None = None) -> None:
        self.calls.append(("hangup", channel_id))


def start_from(traces_dir: Path, name: str, args: list[str]) -> StasisStart:
    for line in (traces_dir / "ivr-then-agent-answers.jsonl").read_text().splitlines():
        item = json.loads(line)
        if item["kind"] == "event" and item["data"]["type"] == "StasisStart":
            data = item["data"]
            data["args"] = args
            data["channel"]["name"] = name
            event = parse_event_object(data)
            assert isinstance(event, StasisStart)
            return event
    raise AssertionError("no StasisStart in the trace")


async def test_feature_codes_set_presence(traces_dir: Path) -> None:
    client = FakeClient()
    router = Router(
        client=client,  # type: ignore[arg-type]
        rules=RulesHolder(default_rules_path()),
        records=MemoryRecords(),
        clock=ScaledClock(),
    )
    tracker = router.agents
    assert endpoint_of_channel_name("PJSIP/1101-0000001f") == "PJSIP/1101"

    async def dial(args: list[str]) -> None:
        start = start_from(traces_dir, "PJSIP/1101-0000002a", args)
        runner = router._open_call(start, None)  # type: ignore[arg-type]
        assert runner is not None
        await runner

    await dial(["agent-logout"])
    assert tracker.presence("ccas", "PJSIP/1101") is Presence.SIGNED_OUT
    await dial(["agent-login"])
    assert tracker.presence("ccas", "PJSIP/1101") is Presence.SIGNED_IN
    await dial(["agent-pause"])
    assert tracker.presence("ccas", "PJSIP/1101") is Presence.PAUSED
    assert ("answer", start_from(traces_dir, "x", []).channel.id) in client.calls
    assert router.counters.feature_codes == 3


@pytest.mark.parametrize(
    ("name", "half", "pair"),
    [
        ("Local/0699000000@from-callers-00000011;2", 2, "Local/0699000000@from-callers-00000011"),
        ("Local/0699000000@from-callers-00000011;1", 1, "Local/0699000000@from-callers-00000011"),
        ("Local/0699000000@from-callers-00000011;1", 2, None),  # the other half
        ("PJSIP/1101-0000001f", 1, None),
        ("PJSIP/caller;2", 2, None),  # not a Local channel
    ],
)
def test_local_pair_names_link_a_transfer_to_its_leg(
    name: str, half: int, pair: str | None
) -> None:
    assert local_pair(name, half=half) == pair

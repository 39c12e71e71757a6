"""Agents' phone codes (issue 15, defect 13): *51 sign in, *52 sign out, *53 pause or end of
pause, each optionally for one service (its number in the rules), and each said in French."""

from __future__ import annotations

import re

import pytest

from routing_rules.agents import Presence
from telephony.flow.router import endpoint_of_channel_name
from telephony.flow.transfers import local_pair
from telephony.simulator.engine import DialplanConfig
from telephony.simulator.scripts import CallerScript, KeyPress
from tests.conftest import REPO
from tests.flow_support import System, running_system

pytestmark_virtual = pytest.mark.virtual_time

CCAS_AGENT = "PJSIP/1101"  # in the CCAS only, the rules' 2nd service


async def dial_code(system: System, endpoint: str, code: str) -> list[str]:
    """The agent's phone dials ``code`` and stays on until decroche hangs up; returns what the
    phone heard (prompt ids)."""
    handle = system.pbx.place_call(
        CallerScript(
            caller_number=endpoint.removeprefix("PJSIP/"),
            endpoint=endpoint,
            context="from-agents",
            dialled=code,
        )
    )
    ended = await handle.wait()
    assert ended["how"] == "hung_up_by_app"
    return [str(item["media"]).removeprefix("sound:decroche/") for item in handle.heard]


@pytestmark_virtual
async def test_star_53_toggles_the_pause_and_every_code_says_what_it_did() -> None:
    async with running_system() as system:
        tracker = system.router.agents

        async def code(dialled: str) -> tuple[list[str], Presence]:
            heard = await dial_code(system, CCAS_AGENT, dialled)
            return heard, tracker.presence("ccas", CCAS_AGENT)

        assert await code("*53") == (["agent_en_pause", "service_ccas"], Presence.PAUSED)
        assert await code("*53") == (["agent_fin_pause", "service_ccas"], Presence.SIGNED_IN)
        assert await code("*53") == (["agent_en_pause", "service_ccas"], Presence.PAUSED)
        assert await code("*52") == (["agent_deconnecte", "service_ccas"], Presence.SIGNED_OUT)
        # A pause is for an agent taking calls: signed out, *53 says so and changes nothing.
        assert await code("*53") == (["agent_pas_connecte"], Presence.SIGNED_OUT)
        assert await code("*51") == (["agent_connecte", "service_ccas"], Presence.SIGNED_IN)
        # A service's number after the code: the CCAS is the 2nd service of the rules.
        assert await code("*522") == (["agent_deconnecte", "service_ccas"], Presence.SIGNED_OUT)
        assert await code("*513") == (["agent_hors_service"], Presence.SIGNED_OUT)
        assert await code("*5199") == (["agent_service_inconnu"], Presence.SIGNED_OUT)
        assert await code("*512") == (["agent_connecte", "service_ccas"], Presence.SIGNED_IN)
        assert system.router.counters.feature_codes == 10
        await system.pbx.wait_idle()
        # Only the CCAS changed: the phone's sign-in elsewhere is untouched.
        assert tracker.presence("accueil_general", CCAS_AGENT) is Presence.SIGNED_IN


@pytestmark_virtual
async def test_a_paused_agent_is_not_rung_and_is_after_star_53_again() -> None:
    async with running_system() as system:
        await dial_code(system, CCAS_AGENT, "*53")
        first = system.pbx.place_call(
            CallerScript(
                caller_number="0611111111",
                keys=(KeyPress(digits="2"), KeyPress(digits="1")),
                talk_time=5.0,
            )
        )
        await first.wait()
        await dial_code(system, CCAS_AGENT, "*53")
        system.pbx.place_call(
            CallerScript(
                caller_number="0622222222",
                keys=(KeyPress(digits="2"), KeyPress(digits="1")),
                talk_time=5.0,
            )
        )
        await system.settle(2)
    paused = system.records.by_caller("0611111111").entries[0]
    back = system.records.by_caller("0622222222").entries[0]
    assert paused.service_id == back.service_id == "ccas"
    assert CCAS_AGENT not in {leg.endpoint for leg in paused.legs}
    assert CCAS_AGENT in {leg.endpoint for leg in back.legs}


def test_the_simulated_dialplan_enters_decroche_as_the_shipped_one_does() -> None:
    """Each ``exten => *5x...,1,Stasis(decroche,...)`` line of asterisk/extensions.conf, and the
    simulator's [agent-dial], give the same Stasis arguments."""
    shipped: dict[str, list[str]] = {}
    for line in (REPO / "asterisk" / "extensions.conf").read_text(encoding="utf-8").splitlines():
        match = re.match(r"exten => (_?\*5\dX?!?),1,Stasis\(decroche,([^)]*)\)", line)
        if match:
            pattern, args = match.groups()
            exten = pattern.removeprefix("_").replace("X!", "7")
            shipped[exten] = [a.replace("${EXTEN:3}", "7") for a in args.split(",")]
    assert {"*51", "*517", "*52", "*527", "*53", "*537"} <= shipped.keys()
    dialplan = DialplanConfig()
    for exten, args in shipped.items():
        assert dialplan.agent_code_args(exten) == args, exten
    assert dialplan.agent_code_args("*54") is None
    assert dialplan.agent_code_args("*51x") is None


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


def test_a_phone_is_named_by_its_channel() -> None:
    assert endpoint_of_channel_name("PJSIP/1101-0000001f") == "PJSIP/1101"

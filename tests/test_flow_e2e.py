"""Callers through the Bernay rules, end to end: simulated PBX <-HTTP/WS-> router.

In virtual time (see ``flow_support``): every prompt lasts 2 s (the simulator's default), a key
is heard when its 280 ms tone ends, an agent's channel is in the app 2 ms after its creation
(``STASIS_WINDOW_S``) and the times asserted are the exact ones the rules give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from routing_rules.loader import default_rules_path
from telephony.clock import parse_ari_timestamp
from telephony.records.model import CallOutcome, EntryOutcome, IvrEventKind, LegOutcome
from telephony.simulator.scripts import AgentScript, CallerScript, KeyPress
from tests.flow_support import STASIS_WINDOW_S, running_system

pytestmark = pytest.mark.virtual_time


async def test_ivr_to_ccas_answered() -> None:
    async with running_system() as system:
        handle = system.pbx.place_call(
            CallerScript(
                caller_number="0612345678",
                dialled="0232464646",
                keys=(KeyPress(digits="2", after=1.0), KeyPress(digits="1", after=1.0)),
                talk_time=20.0,
            )
        )
        await system.settle(1)
        ended = await handle.wait()
    record = system.records.by_caller("0612345678")
    assert record.outcome is CallOutcome.ANSWERED
    assert [(e.menu_id, e.kind, e.key) for e in record.ivr] == [
        ("principal", IvrEventKind.MENU, None),
        ("principal", IvrEventKind.KEY, "2"),
        ("droit_famille", IvrEventKind.MENU, None),
        ("droit_famille", IvrEventKind.KEY, "1"),
    ]
    (entry,) = record.entries
    assert entry.service_id == "ccas"
    assert entry.outcome is EntryOutcome.ANSWERED
    assert entry.agent in {"PJSIP/1101", "PJSIP/1102", "PJSIP/1103"}
    assert entry.entered_at == record.ivr[-1].at  # the key 1 sends the caller there at once
    assert entry.wait_seconds == STASIS_WINDOW_S + 3.0  # the agents ring 3 s
    answered = [leg for leg in entry.legs if leg.outcome is LegOutcome.ANSWERED]
    assert len(answered) == 1
    assert {leg.outcome for leg in entry.legs} <= {LegOutcome.ANSWERED, LegOutcome.CANCELLED}
    # The caller hung up after their 20 s of talk.
    assert ended["how"] == "talked"
    assert parse_ari_timestamp(ended["at"]) == answered[0].answered_at + timedelta(seconds=20)
    assert system.pbx.state()["channels"] == []


def keys(*digits: str, after: float = 1.0) -> tuple[KeyPress, ...]:
    return tuple(KeyPress(digits=d, after=after) for d in digits)


MENU_PATHS = [
    (("0",), "accueil_general"),
    (("1",), "police_municipale"),
    (("2", "1"), "ccas"),
    (("2", "2"), "guichet_famille"),
    (("2", "3"), "accueil_juridique"),
    (("2", "0"), "accueil_general"),
    (("3",), "eau_urbanisme"),
    (("4",), "mediatheque"),
    (("5", "1"), "accueil_loisirs"),
    (("5", "2"), "pole_ados"),
    (("5", "3"), "multi_accueil"),
    (("6",), "maison_associations"),
    (("7",), "residence_autonomie"),
    (("8",), "cabinet_maire"),
]


async def test_every_menu_choice_reaches_its_service() -> None:
    async with running_system() as system:
        for i, (digits, _) in enumerate(MENU_PATHS):
            system.pbx.place_call(
                CallerScript(caller_number=f"06000000{i:02d}", keys=keys(*digits), talk_time=5.0)
            )
        await system.settle(len(MENU_PATHS))
    for i, (digits, service) in enumerate(MENU_PATHS):
        record = system.records.by_caller(f"06000000{i:02d}")
        assert record.entries[0].service_id == service, digits
        pressed = [e.key for e in record.ivr if e.kind is IvrEventKind.KEY]
        assert pressed == list(digits)
        if service == "pole_ados":  # opens on Wednesdays at 13:30 only
            assert record.entries[0].outcome is EntryOutcome.OVERFLOW_CLOSED
            # The routing decision recorded with the entry: counted apart, never as offered.
            assert record.entries[0].closed
            assert not any(entry.closed for entry in record.entries[1:])
        else:
            assert record.outcome is CallOutcome.ANSWERED, service
            assert not any(entry.closed for entry in record.entries), service


async def test_invalid_key_then_success_and_no_key_at_all() -> None:
    async with running_system() as system:
        system.pbx.place_call(
            CallerScript(caller_number="0611111111", keys=keys("9", "0"), talk_time=5.0)
        )
        silent_call = system.pbx.place_call(CallerScript(caller_number="0622222222", talk_time=5.0))
        await system.settle(2)
    invalid = system.records.by_caller("0611111111")
    assert [(e.kind, e.key) for e in invalid.ivr] == [
        (IvrEventKind.MENU, None),
        (IvrEventKind.INVALID, "9"),
        (IvrEventKind.KEY, "0"),
    ]
    assert invalid.entries[0].service_id == "accueil_general"
    silent = system.records.by_caller("0622222222")
    kinds = [e.kind for e in silent.ivr]
    assert kinds == [
        IvrEventKind.MENU,
        IvrEventKind.TIMEOUT,
        IvrEventKind.TIMEOUT,
        IvrEventKind.TIMEOUT,
        IvrEventKind.FALLBACK,
    ]
    assert silent.entries[0].service_id == "accueil_general"
    assert silent.outcome is CallOutcome.ANSWERED
    # Each timeout comes exactly the menu's 6 s after its prompt ended (measured on the events'
    # own times); the "no key" message and the menu then play again (2 s each).
    menu_ends = [
        parse_ari_timestamp(item["ended"])
        for item in silent_call.heard
        if item["media"] == "sound:decroche/menu_principal"
    ]
    timeouts = [e.at for e in silent.ivr if e.kind is IvrEventKind.TIMEOUT]
    assert [(t - m).total_seconds() for t, m in zip(timeouts, menu_ends, strict=True)] == [6.0] * 3
    assert [(t - silent.started_at).total_seconds() for t in timeouts] == [10.0, 20.0, 30.0]


CCAS = ("PJSIP/1101", "PJSIP/1102", "PJSIP/1103")


def ccas_agents(**fields) -> list[AgentScript]:
    return [AgentScript(endpoint=e, **fields) for e in CCAS]


async def test_closed_hours_and_public_holiday() -> None:
    sunday = datetime(2026, 10, 18, 8, 0, tzinfo=UTC)
    armistice = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)  # a Wednesday, public holiday
    for at in (sunday, armistice):
        async with running_system(at=at) as system:
            handle = system.pbx.place_call(
                CallerScript(caller_number="0633333333", keys=keys("0"), talk_time=5.0)
            )
            await system.settle(1)
        record = system.records.by_caller("0633333333")
        (entry,) = record.entries
        assert entry.service_id == "accueil_general"
        assert entry.outcome is EntryOutcome.OVERFLOW_CLOSED
        assert entry.overflow_to == "message:mairie_fermee"
        assert entry.closed
        assert record.outcome is CallOutcome.MESSAGE
        heard = [item["media"] for item in handle.heard]
        # The service's opening hours, then the town hall's closed message.
        assert heard[-2:] == ["sound:decroche/horaires_accueil", "sound:decroche/mairie_fermee"]


async def test_overflow_after_n_rings_then_answered() -> None:
    async with running_system(ccas_agents(response="no_answer")) as system:
        system.pbx.place_call(
            CallerScript(caller_number="0644444444", keys=keys("2", "1"), talk_time=5.0)
        )
        await system.settle(1)
    record = system.records.by_caller("0644444444")
    ccas, general = record.entries
    assert (ccas.service_id, ccas.outcome) == ("ccas", EntryOutcome.OVERFLOW_TIMEOUT)
    assert ccas.overflow_to == "accueil_general"
    # 5 rings x 5 s: the ring time is measured on the events' timestamps.
    assert ccas.wait_seconds == 25.0
    assert {leg.outcome for leg in ccas.legs} == {LegOutcome.NO_ANSWER}
    assert len(ccas.legs) == 3
    assert (general.service_id, general.outcome) == ("accueil_general", EntryOutcome.ANSWERED)
    assert general.entered_at == ccas.ended_at


async def test_all_busy_and_nobody_signed_in() -> None:
    async with running_system(ccas_agents(response="busy")) as system:
        system.pbx.place_call(
            CallerScript(caller_number="0655555555", keys=keys("2", "1"), talk_time=5.0)
        )
        await system.settle(1)
    busy = system.records.by_caller("0655555555")
    assert busy.entries[0].outcome is EntryOutcome.OVERFLOW_BUSY
    assert {leg.hangup_cause for leg in busy.entries[0].legs} == {17}
    assert busy.entries[1].outcome is EntryOutcome.ANSWERED
    async with running_system(ccas_agents(registered=False)) as system:
        system.pbx.place_call(
            CallerScript(caller_number="0666666666", keys=keys("2", "1"), talk_time=5.0)
        )
        await system.settle(1)
    nobody = system.records.by_caller("0666666666")
    assert nobody.entries[0].outcome is EntryOutcome.OVERFLOW_NOBODY
    assert nobody.entries[0].legs == []  # unregistered phones are never rung
    assert nobody.entries[1].service_id == "accueil_general"


async def test_caller_hangs_up_in_prompt_while_ringing_and_while_bridged() -> None:
    async with running_system(ccas_agents(response="no_answer")) as system:
        system.pbx.place_call(CallerScript(caller_number="0677777771", patience=1.0))
        system.pbx.place_call(
            CallerScript(caller_number="0677777772", keys=keys("2", "1"), patience=12.0)
        )
        system.pbx.place_call(
            CallerScript(caller_number="0677777773", keys=keys("0"), talk_time=4.0)
        )
        await system.settle(3)
        assert system.pbx.state()["bridges"] == []
    in_prompt = system.records.by_caller("0677777771")
    assert in_prompt.outcome is CallOutcome.IVR_HANGUP
    assert in_prompt.entries == []
    assert (in_prompt.ended_at - in_prompt.started_at).total_seconds() == 1.0  # their patience
    ringing = system.records.by_caller("0677777772")
    assert ringing.outcome is CallOutcome.ABANDONED
    assert (ringing.ended_at - ringing.started_at).total_seconds() == 12.0
    (entry,) = ringing.entries
    assert entry.outcome is EntryOutcome.ABANDONED
    assert entry.legs and all(leg.outcome is LegOutcome.NO_ANSWER for leg in entry.legs)
    assert [c.kind for c in ringing.callbacks] == ["abandoned"]
    bridged = system.records.by_caller("0677777773")
    assert bridged.outcome is CallOutcome.ANSWERED
    assert bridged.entries[0].outcome is EntryOutcome.ANSWERED
    assert bridged.callbacks == []


async def test_agent_hangs_up_first() -> None:
    general = [
        AgentScript(endpoint=e, ring_time=2.0, talk_time=3.0)
        for e in ("PJSIP/1001", "PJSIP/1002", "PJSIP/1003", "PJSIP/1004")
    ]
    async with running_system(general) as system:
        handle = system.pbx.place_call(
            CallerScript(caller_number="0688888888", keys=keys("0"), talk_time=60.0)
        )
        await system.settle(1)
        ended = await handle.wait()
    record = system.records.by_caller("0688888888")
    (entry,) = record.entries
    assert entry.outcome is EntryOutcome.ANSWERED
    answered = next(leg for leg in entry.legs if leg.outcome is LegOutcome.ANSWERED)
    talk = (answered.ended_at - answered.answered_at).total_seconds()
    assert talk == 3.0  # the agent hung up after 3 s, well before the caller's 60 s
    # ...and decroche hung the caller up at that very moment: the caller did not hang up.
    assert ended["how"] == "hung_up_by_app"
    assert parse_ari_timestamp(ended["at"]) == answered.ended_at


async def test_callback_request_with_presented_number() -> None:
    general = [
        AgentScript(endpoint=e, response="no_answer")
        for e in ("PJSIP/1001", "PJSIP/1002", "PJSIP/1003", "PJSIP/1004")
    ]
    async with running_system(general) as system:
        system.pbx.place_call(
            CallerScript(
                caller_number="0699999999",
                keys=(
                    KeyPress(digits="0", after=1.0),
                    KeyPress(digits="1", after=1.0, media="sound:decroche/rappel_invitation"),
                ),
                patience=300.0,
            )
        )
        await system.settle(1)
    record = system.records.by_caller("0699999999")
    (entry,) = record.entries
    assert entry.outcome is EntryOutcome.OVERFLOW_TIMEOUT
    assert entry.overflow_to == "callback"
    assert record.outcome is CallOutcome.CALLBACK
    (request,) = record.callbacks
    assert (request.number, request.kind, request.service_id) == (
        "0699999999",
        "requested",
        "accueil_general",
    )


async def test_broken_rules_file_dropped_in_while_calls_run(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(default_rules_path().read_text(encoding="utf-8"), encoding="utf-8")
    async with running_system(rules_path=rules) as system:
        system.pbx.place_call(
            CallerScript(caller_number="0610000001", keys=keys("0"), talk_time=10.0)
        )
        rules.write_text("services: [this is: not, valid\n", encoding="utf-8")
        holder = system.router.rules
        version = holder.version
        outcome = holder.reload()
        assert not outcome.ok
        assert holder.version == version  # the previous rules stay
        system.pbx.place_call(
            CallerScript(caller_number="0610000002", keys=keys("2", "1"), talk_time=3.0)
        )
        await system.settle(2)
    for number in ("0610000001", "0610000002"):
        record = system.records.by_caller(number)
        assert record.outcome is CallOutcome.ANSWERED
        assert record.rules_version == version


async def test_agent_blind_transfer_keeps_the_caller_and_is_recorded() -> None:
    general = [
        AgentScript(endpoint=e, ring_time=2.0, transfer_to="0232464317", transfer_after=3.0)
        for e in ("PJSIP/1001", "PJSIP/1002", "PJSIP/1003", "PJSIP/1004")
    ]
    police = [
        AgentScript(endpoint=e, ring_time=2.0, talk_time=4.0)
        for e in ("PJSIP/1201", "PJSIP/1202", "PJSIP/1203")
    ]
    # Through the shipped dialplan's [decroche-transfer]: Stasis(decroche,<number>,transfer).
    async with running_system([*general, *police]) as system:
        handle = system.pbx.place_call(
            CallerScript(caller_number="0612121212", keys=keys("0"), talk_time=60.0)
        )
        await system.settle(2)
        await handle.wait()
    original = system.records.by_caller("0612121212")
    (entry,) = original.entries
    assert entry.outcome is EntryOutcome.ANSWERED
    (transfer,) = original.transfers
    assert transfer.destination == "0232464317"
    assert (transfer.from_service, transfer.to_service) == ("accueil_general", "police_municipale")
    assert transfer.by_agent == entry.agent
    # The caller was not hung up at the transfer: the conversation went on with the target,
    # whose phone rang 2 s and talked 4 s.
    assert (original.ended_at - transfer.at).total_seconds() == STASIS_WINDOW_S + 2.0 + 4.0
    # The transferred leg came back into decroche as a call to the police's direct line.
    leg = [r for r in system.records.finished if r.call_id != original.call_id]
    assert leg and leg[0].entries[0].service_id == "police_municipale"
    # ...linked to the caller's first call, so that the totals count the caller once.
    assert leg[0].transfer_of == original.call_id
    assert original.transfer_of is None


async def test_a_line_closed_by_its_entry_route_is_recorded_as_closed(tmp_path) -> None:
    # The town closes its whole line at night: the entry route plays the closed message and
    # no service is entered. The record says so, for the calls received while closed.
    rules = default_rules_path().read_text(encoding="utf-8")
    rules = rules.replace(
        "  - menu: principal\n",
        "  - menu: principal\n    hours: mairie\n    closed_message: mairie_fermee\n",
    )
    path = tmp_path / "rules.yaml"
    path.write_text(rules, encoding="utf-8")
    sunday = datetime(2026, 10, 18, 8, 0, tzinfo=UTC)
    async with running_system(at=sunday, rules_path=path) as system:
        handle = system.pbx.place_call(CallerScript(caller_number="0655555555", talk_time=5.0))
        await system.settle(1)
    record = system.records.by_caller("0655555555")
    assert record.entries == []
    assert record.outcome is CallOutcome.CLOSED
    assert [item["media"] for item in handle.heard][-1] == "sound:decroche/mairie_fermee"

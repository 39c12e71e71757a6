"""Phones the rules name but Asterisk does not know (issue 15, defect 6).

On a real Asterisk 22, subscribing the application to several endpoints in one request stops at
the first one missing from pjsip.conf (422 "Event source does not exist"): the phones after it
were never tracked, one of them unregistered unnoticed, and decroche rang it. The simulated PBX
answers the same way; decroche subscribes phone by phone and reports the unknown ones.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from decroche.cli import main
from decroche.web import ServiceStatus
from reports.web.status import HealthCheck
from routing_rules.agents import DeviceState
from routing_rules.holder import RulesHolder
from routing_rules.loader import default_rules_path
from telephony.ari.client import AriClient
from telephony.ari.errors import Unprocessable
from telephony.flow.phones import PhonesReport, describe_unknown, phones_of
from telephony.simulator.scripts import AgentScript, CallerScript
from telephony.virtual_time import LoopClock
from tests.flow_support import OPEN_HOURS, running_system, simulated_pbx
from tests.test_serve import BIN, free_port, wait_for

pytestmark = pytest.mark.virtual_time

UNKNOWN = "PJSIP/0999"  # in no pjsip.conf: sorted before every Bernay phone


async def test_subscribing_several_endpoints_stops_at_the_first_unknown_one() -> None:
    pbx = simulated_pbx(LoopClock(OPEN_HOURS))
    await pbx.start(port=0)
    for endpoint in ("PJSIP/1001", "PJSIP/1002"):
        pbx.add_agent(AgentScript(endpoint=endpoint))
    client = AriClient(pbx.url, "decroche", "decroche", "decroche")
    stream_ws = await client.transport.session.ws_connect(
        f"{pbx.url}/ari/events?app=decroche", headers=client.transport.auth_header
    )
    try:
        with pytest.raises(Unprocessable) as refused:
            await client.subscribe(
                ["endpoint:PJSIP/1001", f"endpoint:{UNKNOWN}", "endpoint:PJSIP/1002"]
            )
        assert refused.value.status == 422
        assert refused.value.message == "Event source does not exist"
        app = await client.get_application()
        assert app.endpoint_ids == ["PJSIP/1001"]  # the one before the unknown phone only
        # One by one, every known phone is tracked.
        await client.subscribe(["endpoint:PJSIP/1002"])
        assert (await client.get_application()).endpoint_ids == ["PJSIP/1001", "PJSIP/1002"]
    finally:
        await stream_ws.close()
        await client.close()
        await pbx.stop()


def _with_unknown_phone() -> str:
    return (
        default_rules_path()
        .read_text(encoding="utf-8")
        .replace(
            "agents: [PJSIP/1001, PJSIP/1002, PJSIP/1003, PJSIP/1004]",
            f"agents: [{UNKNOWN}, PJSIP/1001, PJSIP/1002, PJSIP/1003, PJSIP/1004]",
        )
    )


def _rules_with_unknown_phone(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(_with_unknown_phone(), encoding="utf-8")
    return path


async def test_a_phone_unknown_to_asterisk_does_not_stop_tracking_the_others(
    tmp_path: Path,
) -> None:
    async with running_system(rules_path=_rules_with_unknown_phone(tmp_path)) as system:
        # After start, a police phone goes offline: Asterisk tells the subscribed application.
        system.pbx.add_agent(AgentScript(endpoint="PJSIP/1201", registered=False))
        await system.clock.sleep(0.1)
        # The police's direct line: only the two registered phones ring.
        system.pbx.place_call(
            CallerScript(caller_number="0611000001", dialled="0232464317", talk_time=5.0)
        )
        await system.settle(1)
        state_1201 = system.router.agents.device("PJSIP/1201")
    record = system.records.by_caller("0611000001")
    (entry,) = record.entries
    assert entry.service_id == "police_municipale"
    assert sorted(leg.endpoint for leg in entry.legs) == ["PJSIP/1202", "PJSIP/1203"]
    assert state_1201 is DeviceState.UNAVAILABLE
    report = system.router.phones
    assert report is not None
    assert report.unknown == (UNKNOWN,)
    assert system.router.agents.device(UNKNOWN) is DeviceState.INVALID


async def test_every_rules_reload_checks_the_new_phones(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(default_rules_path().read_text(encoding="utf-8"), encoding="utf-8")
    async with running_system(rules_path=rules) as system:
        first = system.router.phones
        assert first is not None and first.ok and first.unknown == ()
        assert len(first.tracked) == len(phones_of(system.router.rules.current))
        rules.write_text(_with_unknown_phone(), encoding="utf-8")
        holder = system.router.rules
        assert isinstance(holder, RulesHolder)
        assert holder.reload().changed
        await system.clock.sleep(0.1)
        report = system.router.phones
        assert report is not None and report is not first
        assert report.unknown == (UNKNOWN,)
        assert report.services == {UNKNOWN: ("accueil_general",)}
        assert report.rules_version == holder.version
        assert not report.ok
        assert report.as_dict()["unknown"] == [
            {"endpoint": UNKNOWN, "services": ["accueil_general"]}
        ]
        names = {s.id: s.name for s in holder.current.services.values()}
        assert describe_unknown(report, names) == (
            f"1 poste absent de pjsip.conf, jamais appelé : {UNKNOWN} (Accueil général – état"
            " civil)"
        )
        two = replace(
            report,
            unknown=(UNKNOWN, "PJSIP/1999"),
            services={UNKNOWN: ("accueil_general",), "PJSIP/1999": ("ccas", "guichet_famille")},
        )
        assert describe_unknown(two, names) == (
            f"2 postes absents de pjsip.conf, jamais appelés : {UNKNOWN} (Accueil général – état"
            " civil) ; PJSIP/1999 (CCAS – centre communal d’action sociale, Guichet famille)"
        )


def test_the_it_page_names_the_unknown_phones_and_their_services(tmp_path: Path) -> None:
    rules = RulesHolder(_rules_with_unknown_phone(tmp_path))
    report = PhonesReport(
        OPEN_HOURS, rules.version, ("PJSIP/1001",), (UNKNOWN,), {UNKNOWN: ("accueil_general",)}
    )
    service: Any = SimpleNamespace(rules=rules, router=SimpleNamespace(phones=report))
    check = ServiceStatus._phones(service)
    assert (check.name, check.ok) == ("Postes des règles connus d'Asterisk", False)
    assert check.detail == (
        f"1 poste absent de pjsip.conf, jamais appelé : {UNKNOWN} (Accueil général – état civil)"
    )
    service.router.phones = replace(report, unknown=(), services={})
    assert ServiceStatus._phones(service) == HealthCheck(
        "Postes des règles connus d'Asterisk", True, "le poste des règles est connu et suivi"
    )
    service.router.phones = replace(report, tracked=("PJSIP/1001", "PJSIP/1002"), unknown=())
    assert ServiceStatus._phones(service).detail == "les 2 postes des règles sont connus et suivis"
    service.router.phones = None
    assert not ServiceStatus._phones(service).ok


def test_rules_check_with_ari_names_the_phones_asterisk_does_not_know(tmp_path: Path) -> None:
    port = free_port()
    everyone = sorted(phones_of(RulesHolder(default_rules_path()).current))
    known = [p for p in everyone if p != "PJSIP/1201"]
    env = {"DECROCHE_ARI__PASSWORD": "s3cret"}
    log = (tmp_path / "sim.log").open("wb")
    agents = [arg for phone in known for arg in ("--agent", phone)]
    sim = subprocess.Popen(
        [str(BIN), "sim", "serve", "--port", str(port), *agents],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}/ari"
    try:
        wait_for(f"http://127.0.0.1:{port}/sim/state")
        result = CliRunner().invoke(main, ["rules", "check", "--ari", url], env=env)
        assert result.exit_code == 1, result.output
        lines = result.output.splitlines()
        assert lines[0].endswith("règles valides (version " + lines[0].split("version ")[1])
        assert lines[1] == (
            "PJSIP/1201 (Police municipale) : inconnu d'Asterisk (absent de pjsip.conf)"
        )
        assert lines[2] == (
            f"{url} : 1 poste des règles sur {len(everyone)} inconnu d'Asterisk : il ne"
            " sera jamais appelé"
        )
        police_without_1201 = tmp_path / "rules.yaml"
        police_without_1201.write_text(
            default_rules_path()
            .read_text(encoding="utf-8")
            .replace("[PJSIP/1201, PJSIP/1202, PJSIP/1203]", "[PJSIP/1202, PJSIP/1203]"),
            encoding="utf-8",
        )
        result = CliRunner().invoke(
            main, ["rules", "check", str(police_without_1201), "--ari", url], env=env
        )
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[-1] == (
            f"{url} : les {len(everyone) - 1} postes des règles sont connus d'Asterisk"
        )
        wrong = CliRunner().invoke(
            main, ["rules", "check", "--ari", url], env={"DECROCHE_ARI__PASSWORD": "wrong"}
        )
        assert wrong.exit_code == 1
        assert f"Asterisk ({url}) injoignable : " in wrong.output
        assert "401" in wrong.output and "Traceback" not in wrong.output
    finally:
        sim.kill()
        sim.wait()
        log.close()

"""``decroche survey`` shows the agents as the services' pages do: « Agent 1 » of a service over
the period unless the town decided to name them (``web.name_agents_in_figures``), never by their
phone otherwise — in the text, the JSON and the CSV (docs/chiffres-par-agent.md)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from analytics.satisfaction import NO_AGENT
from decroche.app import App
from decroche.cli import main
from decroche.commands.survey import SurveyAgents
from reports.live import InMemoryLiveFeed
from reports.web import create_app
from routing_rules.outcomes import EntryOutcome, LegOutcome
from telephony.records.model import AgentLeg, CallRecord, ServiceEntry, SurveyAnswer
from telephony.records.testing import fill, sample_record
from tests.test_composition_root import tables, write_config
from tests.test_web_app import PASSWORD, sign_in

# Tuesday 14 October 2026, 08:00 UTC = 10:00 in Paris.
T0 = datetime(2026, 10, 14, 8, 0, tzinfo=UTC)
DAY = ["--from", "2026-10-14", "--to", "2026-10-14"]
LOISIRS = "Accueil de loisirs"  # PJSIP/1501 and PJSIP/1502 in the Bernay rules
CCAS = "CCAS – centre communal d’action sociale"  # PJSIP/1101…
LOGIN = "camille.martin"  # PJSIP/1502's account
Q1, Q2 = "enquete_question_accueil", "enquete_question_resolu"


def call(
    call_id: str,
    minutes: int,
    service: str,
    rang: tuple[str, ...],
    answered_by: str | None,
    scores: tuple[int, ...] | None = (),
) -> CallRecord:
    """A call of ``service`` ringing the phones ``rang``, taken by ``answered_by``; surveyed
    with ``scores`` unless None."""
    start = T0 + timedelta(minutes=minutes)
    answer = start + timedelta(seconds=8) if answered_by else None
    end = start + timedelta(seconds=180)
    legs = [
        AgentLeg(
            phone,
            start,
            answer or end,
            LegOutcome.ANSWERED
            if phone == answered_by
            else (LegOutcome.CANCELLED if answered_by else LegOutcome.NO_ANSWER),
            answer if phone == answered_by else None,
        )
        for phone in rang
    ]
    entry = ServiceEntry(
        service,
        start,
        end,
        EntryOutcome.ANSWERED if answered_by else EntryOutcome.ABANDONED,
        ringing_at=start,
        answered_at=answer,
        agent=answered_by,
        legs=legs,
    )
    record = dataclasses.replace(
        sample_record(call_id, start=start),
        entries=[entry],
        callbacks=[],
        ended_at=end,
        survey=[],
        survey_offered=False,
        survey_service=None,
        survey_agent=None,
    )
    if scores is not None:
        record.survey_offered = True
        record.survey_service = service
        record.survey_agent = answered_by
        record.survey = [
            SurveyAnswer(i + 1, (Q1, Q2)[i], end - timedelta(seconds=20 - 8 * i), score)
            for i, score in enumerate(scores)
        ]
    return record


def calls() -> list[CallRecord]:
    """PJSIP/1502 rings 4 times, PJSIP/1501 once: on the service's page, « Agent 1 » is 1502."""
    both = ("PJSIP/1501", "PJSIP/1502")
    return [
        call("a", 0, "accueil_loisirs", both, "PJSIP/1501", (5, 1)),
        call("b", 10, "accueil_loisirs", ("PJSIP/1502",), "PJSIP/1502", (2, 2)),
        call("r1", 20, "accueil_loisirs", ("PJSIP/1502",), "PJSIP/1502", None),
        call("r2", 30, "accueil_loisirs", ("PJSIP/1502",), "PJSIP/1502", None),
        # A phone the rules do not list for the service (moved since): not on its page.
        call("x", 40, "accueil_loisirs", ("PJSIP/1999",), "PJSIP/1999", (4,)),
        call("c", 50, "ccas", ("PJSIP/1101",), "PJSIP/1101", (4, 1)),
        call("n", 60, "ccas", ("PJSIP/1101",), None),  # offered, nobody answered
    ]


def configured(tmp_path: Path, web: dict[str, Any]) -> Path:
    config = write_config(tmp_path, **web)
    app = App.load(config)
    try:
        fill(app.database(create=True), calls())
    finally:
        app.close()
    return config


def survey(config: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["survey", *args, "--config", str(config), *DAY])
    assert result.exit_code == 0, result.output
    return result.stdout


PSEUDONYMS = {
    "calls": {"a": "Agent 2", "b": "Agent 1", "x": "Autre agent 1", "c": "Agent 1", "n": None},
    "agents": [
        f"Agent 1 ({LOISIRS})",
        f"Agent 2 ({LOISIRS})",
        f"Autre agent 1 ({LOISIRS})",
        f"Agent 1 ({CCAS})",
        NO_AGENT,
    ],
}
NAMED = {
    "calls": {
        "a": "poste PJSIP/1501",
        "b": LOGIN,
        "x": "poste PJSIP/1999",
        "c": "poste PJSIP/1101",
        "n": None,
    },
    "agents": [LOGIN, "poste PJSIP/1501", "poste PJSIP/1999", "poste PJSIP/1101", NO_AGENT],
}
ACCOUNTS = {"agent_phones": {LOGIN: "PJSIP/1502"}}
CASES = [
    pytest.param({}, PSEUDONYMS, id="default"),
    pytest.param(ACCOUNTS, PSEUDONYMS, id="accounts-but-not-named"),
    pytest.param({**ACCOUNTS, "name_agents_in_figures": False}, PSEUDONYMS, id="named-false"),
    pytest.param({**ACCOUNTS, "name_agents_in_figures": True}, NAMED, id="named"),
    pytest.param(
        {"name_agents_in_figures": True},
        {
            "calls": {**NAMED["calls"], "b": "poste PJSIP/1502"},
            "agents": ["poste PJSIP/1502", *NAMED["agents"][1:]],
        },
        id="named-without-accounts",
    ),
]


def assert_pseudonymous(output: str) -> None:
    assert "PJSIP" not in output and "1501" not in output and "1502" not in output
    assert "1101" not in output and "1999" not in output
    assert LOGIN not in output


@pytest.mark.parametrize(("web", "expected"), CASES)
def test_the_agents_are_shown_as_the_town_decided(
    tmp_path: Path, web: dict[str, Any], expected: dict[str, Any]
) -> None:
    config = configured(tmp_path, web)
    pseudonymised = not web.get("name_agents_in_figures", False)

    text = survey(config, "list")
    for call_id, agent in expected["calls"].items():
        line = next(line for line in text.splitlines() if f"  {call_id}  " in line)
        if agent is None:
            assert line.endswith("  —  non décroché"), line
        else:
            assert f"  {agent}  " in line, line
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if re.match(r"Agent\s+Enquêtes", line))
    listed = lines[header + 2 : lines.index("", header)]
    assert [re.split(r"\s{2,}", line)[0] for line in listed] == expected["agents"]

    document = json.loads(survey(config, "list", "--json"))
    assert {c["call_id"]: c["agent"] for c in document["calls"]} == expected["calls"]
    assert [a["agent"] for a in document["agents"]] == expected["agents"]
    first = document["agents"][0]
    assert first["labels"] == [{"service": "accueil_loisirs", "agent": expected["calls"]["b"]}]
    assert (first["offered"], first["responded"], first["satisfied"]) == (1, 1, 0)

    out = tmp_path / "enquete.csv"
    survey(config, "export", "--out", str(out))
    exported = out.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(exported), delimiter=";"))
    assert {r[0]: r[4] for r in rows[1:]} == {c: a or "" for c, a in expected["calls"].items()}

    assert ("Agents pseudonymisés comme sur la page de leur service" in text) is pseudonymised
    assert ("« Autre agent » : un poste qui n'est pas de ce service" in text) is pseudonymised
    if pseudonymised:
        for output in (text, json.dumps(document, ensure_ascii=False), exported):
            assert_pseudonymous(output)


@pytest.mark.parametrize(("web", "expected"), CASES)
async def test_an_agent_has_the_label_of_the_services_page(
    tmp_path: Path, aiohttp_client, web: dict[str, Any], expected: dict[str, Any]
) -> None:
    from reports.accounts import Role

    config = configured(tmp_path, web)
    app = App.load(config)
    try:
        deps = app.web_deps(None, InMemoryLiveFeed())
        deps.accounts.upgrade_schema()
        deps.accounts.add_user("qualite", PASSWORD, Role.QUALITY, now=datetime.now(UTC))
        client = await aiohttp_client(create_app(deps))
        await sign_in(client, "qualite")
        response = await client.get("/service/accueil_loisirs?du=2026-10-14&au=2026-10-14")
        assert response.status == 200
        page = tables(await response.text())["agents-accueil_loisirs"]
    finally:
        app.close()
    # The page's rows: label -> calls presented. PJSIP/1502 (call b) rang 4 times, 1501 once.
    presented = {label: cells[0] for label, cells in page.items() if label != "Agent"}
    assert presented == {expected["calls"]["b"]: "4", expected["calls"]["a"]: "1"}


def test_a_phone_of_two_services_has_its_label_in_each() -> None:
    # As on the pages: « Agent 1 » of one service may be « Agent 3 » of the other.
    labels = {("ccas", "PJSIP/1101"): "Agent 3", ("accueil_loisirs", "PJSIP/1101"): "Agent 1"}
    names = {"ccas": "CCAS", "accueil_loisirs": "Accueil de loisirs"}
    agents = SurveyAgents(named=False, labels=labels)
    assert agents.title("PJSIP/1101", names) == "Agent 3 (CCAS), Agent 1 (Accueil de loisirs)"
    assert agents.title(NO_AGENT, names) == NO_AGENT
    named = SurveyAgents(named=True, labels=dict.fromkeys(labels, "camille.martin"))
    assert named.title("PJSIP/1101", names) == "camille.martin"

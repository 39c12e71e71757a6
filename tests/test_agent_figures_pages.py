"""Per-agent figures reach someone: each agent sees their own on the agents' page; the quality
lead sees a service's agents on its page, pseudonymised unless the town names them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from analytics.details import AgentFigures
from decroche.testing import web_deps
from reports.accounts import Role
from reports.agent_tables import own_figures_table, service_agents_table
from reports.web.app import WebDeps, create_app
from telephony.records.pseudonym import Pseudonymiser
from telephony.records.store import RecordStore
from telephony.records.testing import sample_record, temporary_database
from tests.test_web_app import PASSWORD, sign_in

NOW = datetime(2025, 3, 20, 10, 0, tzinfo=UTC)  # sample_record's calls are on 10 March 2025
PHONES = {
    "accueil-general": ("PJSIP/1001", "PJSIP/1002"),
    "etat-civil": ("PJSIP/1042", "PJSIP/1043"),
}


def test_a_services_agents_are_pseudonymised_by_how_often_they_rang_not_by_phone() -> None:
    figures = {
        "PJSIP/1001": AgentFigures("PJSIP/1001", presented=3, answered=3, ring_answered_sum_s=12),
        "PJSIP/1002": AgentFigures("PJSIP/1002", presented=5, answered=2, missed=3),
        "PJSIP/1009": AgentFigures("PJSIP/1009", presented=9, answered=9),  # another service
    }
    table = service_agents_table(
        figures, "accueil", PHONES["accueil-general"], {"PJSIP/1001": "marie"}, named=False
    )
    assert table is not None
    assert [row[:4] for row in table.rows] == [["Agent 1", 5, 2, 3], ["Agent 2", 3, 3, 0]]
    assert "pseudonymisés" in table.caption
    assert all("PJSIP" not in str(cell) and "marie" not in str(cell) for cell in table.rows[0])
    named = service_agents_table(
        figures, "accueil", PHONES["accueil-general"], {"PJSIP/1001": "marie"}, named=True
    )
    assert named is not None
    assert [row[0] for row in named.rows] == ["poste PJSIP/1002", "marie"]
    assert named.display(named.rows[1], 7) == "4,0\u00a0s"
    # A service whose phones never rang has no table.
    assert service_agents_table(figures, "x", ("PJSIP/2000",), {}, named=False) is None


def test_an_agent_with_no_call_sees_zeros_not_an_error() -> None:
    table = own_figures_table(None, "mars 2025")
    assert table.rows[0] == ["Appels présentés à mon poste", "0"]
    assert table.rows[-1][1] == "—"


@pytest.fixture
def deps(tmp_path: Path) -> Iterator[WebDeps]:
    first = sample_record("call-1")
    second = sample_record("call-2", start=first.started_at + timedelta(hours=1))
    with temporary_database("sqlite", tmp_path) as database:
        store = RecordStore(database, Pseudonymiser(b"k" * 32))
        store.import_records([first, second])
        built = web_deps(database, store, now=NOW)
        built.accounts.add_user("marie", PASSWORD, Role.AGENT, ("accueil-general",), now=NOW)
        built.agent_phones = {"marie": "PJSIP/1001"}
        built.service_agents = lambda: PHONES
        yield built


@pytest.fixture
async def client(aiohttp_client, deps: WebDeps) -> TestClient:  # type: ignore[no-untyped-def]
    return await aiohttp_client(create_app(deps))


async def test_each_agent_sees_their_own_figures_on_their_page(client: TestClient) -> None:
    await sign_in(client, "marie")
    page = await (await client.get("/agent")).text()
    assert "Mes appels — mars 2025" in page
    assert re.search(r"Appels présentés à mon poste</th>\s*<td[^>]*>2</td>", page)
    assert "8,4\u00a0s" in page  # the mean ring before answering
    # An agent whose account has no phone is told so, not shown someone else's figures.
    client.session.cookie_jar.clear()
    await sign_in(client, "agent1")
    page = await (await client.get("/agent")).text()
    assert "Aucun poste n'est associé à votre compte" in page


async def test_the_quality_lead_sees_a_services_agents_pseudonymised_by_default(
    client: TestClient, deps: WebDeps
) -> None:
    await sign_in(client, "qualite")
    page = await (await client.get("/service/etat-civil?mois=2025-03")).text()
    assert 'data-table="agents-etat-civil"' in page
    assert "Agent 1" in page and "Agent 2" in page
    assert "PJSIP/1042" not in page and "PJSIP/1043" not in page
    deps.name_agents = True
    named = await (await client.get("/service/accueil-general?mois=2025-03")).text()
    assert ">marie<" in named

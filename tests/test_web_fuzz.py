"""A flood of malformed HTTP requests on the dashboard: every one gets a 4xx (or a page), never a
server error, and the app keeps serving."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decroche.testing import web_deps
from reports.web.app import create_app
from telephony.records.testing import fill, temporary_database, town_calls
from tests.test_web_app import NOW, sign_in

PATHS = [
    "/tableau-de-bord",
    "/service/ccas",
    "/export",
    "/direct",
    "/agent",
    "/systeme",
    "/rapports",
    "/connexion",
    "/healthz",
    "/metrics",
    "/nulle-part",
]
PARAMS = ["du", "au", "mois", "format", "table", "service", "suite", "annee"]


async def test_malformed_requests_never_break_the_app(aiohttp_client, tmp_path: Path) -> None:
    with temporary_database("sqlite", tmp_path) as database:
        store = fill(database, town_calls(date(2026, 10, 1), 3, 6))
        client = await aiohttp_client(create_app(web_deps(database, store, now=NOW)))
        await sign_in(client, "qualite")
        statuses: list[int] = []

        @settings(
            max_examples=150,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )
        @given(
            st.sampled_from(PATHS),
            st.dictionaries(st.sampled_from(PARAMS), st.text(max_size=12), max_size=4),
            st.sampled_from(["GET", "POST"]),
        )
        def one(path: str, params: dict[str, str], method: str) -> None:
            statuses.append(0)
            requests.append((method, path, params))

        requests: list[tuple[str, str, dict[str, str]]] = []
        one()
        for method, path, params in requests:
            query = "&".join(f"{quote(k)}={quote(v)}" for k, v in params.items())
            response = await client.request(method, f"{path}?{query}", allow_redirects=False)
            assert response.status < 500, (method, path, params, await response.text())
        healthy = await client.get("/sante")
        assert healthy.status == 200
        assert len(requests) == 150

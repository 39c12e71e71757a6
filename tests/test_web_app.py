"""The web app through aiohttp's test client: sign-in, roles, CSRF, sessions, pages, exports."""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from decroche.testing import PASSWORD, web_deps
from reports.live import LiveSnapshot
from reports.throttle import HashGate
from reports.web.app import ACCESS, PUBLIC, WebDeps, create_app
from reports.web.pages import SIGN_IN_GUARD
from telephony.records.testing import fill, temporary_database, town_calls

NOW = datetime(2026, 10, 20, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def db_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("webdb")


@pytest.fixture
def deps(tmp_path: Path) -> WebDeps:
    with temporary_database("sqlite", tmp_path) as database:
        store = fill(database, town_calls(date(2026, 9, 1), 61, 6))
        clock = Clock(NOW)
        built = web_deps(database, store, now=NOW)
        built.now = clock
        yield built


@pytest.fixture
async def client(aiohttp_client, deps: WebDeps) -> TestClient:
    return await aiohttp_client(create_app(deps))


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


async def sign_in(client: TestClient, login: str, password: str = PASSWORD) -> str:
    page = await client.get("/connexion")
    token = csrf_of(await page.text())
    response = await client.post(
        "/connexion",
        data={"csrf": token, "login": login, "password": password, "suite": ""},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    return response.headers["Location"]


async def test_every_route_declares_who_may_open_it(deps: WebDeps) -> None:
    app = create_app(deps)
    names = {route.name for route in app.router.routes() if route.name}
    assert names - PUBLIC == set(ACCESS)


@pytest.mark.parametrize(
    ("login", "home"),
    [("qualite", "/tableau-de-bord"), ("informatique", "/systeme"), ("agent1", "/agent")],
)
async def test_each_role_lands_on_its_home(client: TestClient, login: str, home: str) -> None:
    assert await sign_in(client, login) == home
    page = await client.get(home)
    assert page.status == 200
    assert login in await page.text()


PAGES = {
    "/tableau-de-bord?mois=2026-10": {"qualite"},
    "/service/ccas?mois=2026-10": {"qualite"},
    "/export/tableau-de-bord.csv?mois=2026-10": {"qualite"},
    "/rapports": {"qualite"},
    "/direct": {"qualite", "informatique"},
    "/systeme": {"informatique"},
    "/systeme/et-si": {"informatique"},
    "/agent": {"agent1"},
}


@pytest.mark.parametrize("login", ["qualite", "informatique", "agent1"])
async def test_a_role_cannot_open_another_roles_pages(client: TestClient, login: str) -> None:
    await sign_in(client, login)
    for path, allowed in PAGES.items():
        response = await client.get(path, allow_redirects=False)
        expected = 200 if login in allowed else 403
        assert response.status == expected, (login, path, response.status)
        if expected == 403:
            assert "Accès refusé" in await response.text()


async def test_signed_out_visitor_is_sent_to_sign_in(client: TestClient) -> None:
    response = await client.get("/tableau-de-bord?mois=2026-10", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/connexion?suite=/tableau-de-bord")
    stream = await client.get("/direct/flux", allow_redirects=False)
    assert stream.status == 401


async def test_wrong_password_is_refused_without_saying_which(client: TestClient) -> None:
    page = await client.get("/connexion")
    response = await client.post(
        "/connexion",
        data={"csrf": csrf_of(await page.text()), "login": "qualite", "password": "faux-faux-faux"},
        allow_redirects=False,
    )
    assert response.status == 401
    assert "identifiant ou mot de passe incorrect" in await response.text()
    assert "decroche_session" not in response.cookies


async def test_sign_in_form_without_its_csrf_token_is_refused(client: TestClient) -> None:
    await client.get("/connexion")
    response = await client.post(
        "/connexion",
        data={"csrf": "forged", "login": "qualite", "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status == 403


async def test_post_without_session_csrf_is_refused(client: TestClient, deps: WebDeps) -> None:
    await sign_in(client, "agent1")
    response = await client.post(
        "/agent/presence", data={"action": "sign_in", "service": "ccas"}, allow_redirects=False
    )
    assert response.status == 403
    assert (await deps.presence.state("agent1")).signed_in == frozenset()


async def test_session_ends_after_idle_time_and_after_its_lifetime(
    client: TestClient, deps: WebDeps
) -> None:
    clock = deps.now
    assert isinstance(clock, Clock)
    await sign_in(client, "qualite")
    clock.now = NOW + timedelta(minutes=29)
    assert (await client.get("/rapports", allow_redirects=False)).status == 200
    clock.now += timedelta(minutes=31)
    assert (await client.get("/rapports", allow_redirects=False)).status == 303
    await sign_in(client, "qualite")
    for _ in range(17):  # used every 29 minutes: only the 8-hour lifetime ends it
        clock.now += timedelta(minutes=29)
        status = (await client.get("/rapports", allow_redirects=False)).status
    assert status == 303


async def test_sign_out_closes_the_session(client: TestClient) -> None:
    await sign_in(client, "qualite")
    page = await client.get("/rapports")
    response = await client.post(
        "/deconnexion", data={"csrf": csrf_of(await page.text())}, allow_redirects=False
    )
    assert response.status == 303
    assert (await client.get("/rapports", allow_redirects=False)).status == 303


async def post_sign_in(
    client: TestClient,
    login: str = "qualite",
    password: str = PASSWORD,
    *,
    suite: str | None = "",
    address: str | None = None,
    page: str = "/connexion",
) -> ClientResponse:
    """Open the sign-in page, then send its form; ``suite=None`` keeps the page's own field."""
    html = await (await client.get(page)).text()
    if suite is None:
        found = re.search(r'name="suite" value="([^"]*)"', html)
        assert found is not None
        suite = found.group(1)
    return await client.post(
        "/connexion",
        data={"csrf": csrf_of(html), "login": login, "password": password, "suite": suite},
        headers={"X-Forwarded-For": address} if address else {},
        allow_redirects=False,
    )


@pytest.mark.parametrize(
    "suite",
    [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r/evil.example",
        "/\\evil.example",
        "/\x00/evil.example",
        "/ /evil.example",
        "https://evil.example/",
        "//evil.example/x",
    ],
)
async def test_no_sign_in_target_leads_to_another_site(client: TestClient, suite: str) -> None:
    response = await post_sign_in(client, suite=suite)
    assert response.status == 303
    assert response.headers["Location"] == "/tableau-de-bord"


async def test_a_tab_in_the_link_to_sign_in_does_not_redirect_elsewhere(
    client: TestClient,
) -> None:
    # The link as an attacker would send it; the form carries the decoded target on.
    response = await post_sign_in(client, suite=None, page="/connexion?suite=/%09/evil.example")
    assert response.headers["Location"] == "/tableau-de-bord"


async def test_sign_in_goes_on_to_the_page_asked_for(client: TestClient) -> None:
    response = await post_sign_in(
        client, suite=None, page="/connexion?suite=/rapports?mois=2026-09"
    )
    assert response.headers["Location"] == "/rapports?mois=2026-09"


async def attempt(
    client: TestClient, login: str, password: str, address: str | None = None
) -> tuple[int, str]:
    response = await post_sign_in(client, login, password, address=address)
    return response.status, await response.text()


async def test_guessing_a_password_is_slowed_then_the_account_opens_again(
    client: TestClient, deps: WebDeps
) -> None:
    for _ in range(5):
        assert (await attempt(client, "qualite", "mauvais-mot-de-passe"))[0] == 401
    status, html = await attempt(client, "qualite", "mauvais-mot-de-passe")
    assert status == 429
    assert "Trop d&#39;essais de connexion pour ce compte : réessayez dans une minute." in html
    # While it waits, even the right password is refused, unchecked: a guess is never told.
    assert (await attempt(client, "qualite", PASSWORD))[0] == 429
    # Another account from the same office is not held up by this one.
    assert (await attempt(client, "informatique", PASSWORD))[0] == 303
    deps.now.now += timedelta(seconds=61)  # type: ignore[attr-defined]
    assert (await attempt(client, "qualite", "encore-faux"))[0] == 401
    # The sixth failure doubles the wait.
    status, html = await attempt(client, "qualite", PASSWORD)
    assert status == 429 and "réessayez dans 2 minutes" in html
    deps.now.now += timedelta(minutes=2)  # type: ignore[attr-defined]
    assert (await attempt(client, "qualite", PASSWORD))[0] == 303
    # A success clears the count: a typo later is not held against the account.
    assert (await attempt(client, "qualite", "faute-de-frappe"))[0] == 401
    assert (await attempt(client, "qualite", PASSWORD))[0] == 303


async def test_guessing_many_accounts_from_one_address_is_slowed(
    client: TestClient, deps: WebDeps
) -> None:
    for i in range(20):
        assert (await attempt(client, f"inconnu{i}", "devine", "203.0.113.9"))[0] == 401
    status, html = await attempt(client, "qualite", PASSWORD, "203.0.113.9")
    assert status == 429
    assert "depuis ce poste : réessayez dans une minute" in html
    assert (await attempt(client, "qualite", PASSWORD, "203.0.113.10"))[0] == 303


async def test_sign_ins_beyond_what_the_server_can_check_are_refused_in_french(
    client: TestClient,
) -> None:
    client.app[SIGN_IN_GUARD].gate = HashGate(slots=0, max_waiting=0)  # the server is full
    status, html = await attempt(client, "qualite", PASSWORD)
    assert status == 503
    assert "Trop de connexions en même temps : réessayez dans quelques secondes." in html


async def test_dashboard_shows_each_indicator_with_objective_status_and_trend(
    client: TestClient, deps: WebDeps
) -> None:
    await sign_in(client, "qualite")
    html = await (await client.get("/tableau-de-bord?mois=2026-10")).text()
    report = deps.indicators().report(date(2026, 10, 1), date(2026, 10, 31))
    for service, counts in [*report.services.items(), ("total", report.total)]:
        match = re.search(
            rf'data-service="{service}" data-indicator="answer_rate" data-value="([^"]+)"', html
        )
        assert match, service
        assert float(match.group(1)) == pytest.approx(counts.answer_rate)
    assert "objectif atteint" in html or "objectif non atteint" in html
    assert "≥\u00a085,0\u00a0%" in html
    assert "septembre 2026" in html  # the previous period it compares with
    assert re.search(r">[✘✔]</span> (non )?atteint<", html)  # in words and symbol
    assert 'href="/service/ccas?mois=2026-10"' in html
    # The total comes first, in the overview and in the table of every figure.
    services = re.findall(r'<tr data-service="([^"]+)"', html)
    assert services[0] == "total" and set(services[1:]) == set(report.services)


async def test_default_period_is_the_current_month(client: TestClient) -> None:
    await sign_in(client, "qualite")
    html = await (await client.get("/tableau-de-bord")).text()
    assert "<h1>Tableau de bord — octobre 2026</h1>" in html


async def test_bad_period_is_a_clear_400(client: TestClient) -> None:
    await sign_in(client, "qualite")
    response = await client.get("/tableau-de-bord?mois=2026-13")
    assert response.status == 400
    assert "mois : « 2026-13 » n&#39;est pas un mois valide" in await response.text()
    response = await client.get("/tableau-de-bord?du=2026-10-05&au=2026-10-01")
    assert response.status == 400


async def test_service_page_has_days_hours_waits_and_overflows(client: TestClient) -> None:
    await sign_in(client, "qualite")
    response = await client.get("/service/ccas?mois=2026-10")
    html = await response.text()
    assert response.status == 200
    for table in ("jours-ccas", "heures-ccas", "attentes-ccas", "debordements-ccas"):
        assert f'data-table="{table}"' in html
    assert html.count("<svg") == 3  # days bars, answer rate by day, hours heatmap
    assert "<title>Taux de décroché par jour — CCAS</title>" in html
    assert ">jeu. 01/10</th>" in html  # days in French, the ISO date kept for the exports
    missing = await client.get("/service/police?mois=2026-10")
    assert missing.status == 404


async def test_total_page_shows_menu_choices_and_callbacks(client: TestClient) -> None:
    await sign_in(client, "qualite")
    html = await (await client.get("/service/total?mois=2026-10")).text()
    assert 'data-table="choix-menu"' in html
    assert "touche 1" in html
    assert 'data-table="rappels"' in html


async def test_total_page_names_each_menu_as_the_rules_do(
    client: TestClient, deps: WebDeps
) -> None:
    from routing_rules.narration import MenuWords

    await sign_in(client, "qualite")
    before = await (await client.get("/service/total?mois=2026-10")).text()
    assert '<th scope="row">menu accueil</th>' in before  # no name: one made from the id
    deps.menus = lambda: {"accueil": MenuWords("Menu d’accueil", {"2": "CCAS"})}
    html = await (await client.get("/service/total?mois=2026-10")).text()
    assert '<th scope="row">Menu d’accueil</th>' in html and "menu accueil" not in html
    assert "touche 2 : CCAS" in html


async def test_csv_and_xlsx_exports_open_with_the_same_figures(
    client: TestClient, deps: WebDeps
) -> None:
    from openpyxl import load_workbook

    await sign_in(client, "qualite")
    report = deps.indicators().report(date(2026, 10, 1), date(2026, 10, 31))
    response = await client.get("/export/tableau-de-bord.csv?mois=2026-10")
    assert response.status == 200
    assert "attachment" in response.headers["Content-Disposition"]
    text = (await response.read()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["Service", "Appels reçus hors horaires", "Appels présentés"]
    by_service = {row[0]: row for row in rows[1:]}
    # A person reads the export: services by name.
    assert int(by_service["CCAS"][2]) == report.services["ccas"].offered
    assert int(by_service["Tous services (chaque appel une fois)"][2]) == report.total.offered
    assert "ccas" not in by_service
    response = await client.get("/export/jours-ccas.xlsx?mois=2026-10")
    assert response.status == 200
    sheet = load_workbook(io.BytesIO(await response.read())).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("Jour", "Appels reçus hors horaires", "Appels présentés")
    assert sum(row[2] for row in values[1:]) == report.services["ccas"].offered
    assert (await client.get("/export/nothing-here.csv?mois=2026-10")).status == 404


async def test_health_is_public(client: TestClient) -> None:
    response = await client.get("/sante")
    assert response.status == 200
    assert (await response.json()) == {"status": "ok"}


async def test_pages_send_a_strict_content_security_policy(client: TestClient) -> None:
    response = await client.get("/connexion")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_app_key_holds_deps(deps: WebDeps) -> None:
    from reports.web.app import DEPS

    app = create_app(deps)
    assert isinstance(app, web.Application)
    assert app[DEPS] is deps


async def test_reports_page_lists_and_serves_only_report_files(
    client: TestClient, deps: WebDeps, tmp_path: Path
) -> None:
    folder = tmp_path / "rapports"
    folder.mkdir()
    (folder / "bilan-mensuel-2026-09.pdf").write_bytes(b"%PDF-1.7 test")
    (folder / "secret.txt").write_text("no")
    deps.reports_dir = folder
    await sign_in(client, "qualite")
    html = await (await client.get("/rapports")).text()
    assert 'href="/rapports/bilan-mensuel-2026-09.pdf"' in html
    assert "secret.txt" not in html
    response = await client.get("/rapports/bilan-mensuel-2026-09.pdf")
    assert response.status == 200 and await response.read() == b"%PDF-1.7 test"
    assert (await client.get("/rapports/secret.txt")).status == 404
    assert (await client.get("/rapports/..%2Fsecret.txt")).status == 404


async def test_a_page_says_so_when_the_database_does_not_answer(aiohttp_client, tmp_path: Path):
    """Issue 19, point 1: the service runs with its database down (or its tables not made
    yet); a page that needs it says so in French, with a 503 a browser retries, never a bare
    500 or a traceback."""
    with temporary_database("sqlite", tmp_path) as database:
        built = web_deps(database, fill(database, town_calls(date(2026, 9, 1), 3, 2)), now=NOW)
        client = await aiohttp_client(create_app(built))
        await sign_in(client, "qualite")
        database.engine.dispose()
        file = database.engine.url.database or ""
        os.rename(file, f"{file}.ailleurs")  # SQLite opens an empty base in its place
        response = await client.get("/", allow_redirects=False)
        text = await response.text()
    assert response.status == 503
    assert response.headers["Retry-After"] == "60"
    assert "Base de données injoignable" in text
    assert "réessayez dans quelques minutes" in text
    assert "Traceback" not in text and "sqlite" not in text.lower()


async def test_the_it_page_says_how_old_the_live_state_is_in_hours_and_minutes(
    client: TestClient, deps: WebDeps
) -> None:
    # « dernier état il y a 42794 s » was shown after a demo: a person reads hours and minutes.
    deps.live.publish(LiveSnapshot(at=NOW - timedelta(hours=11, minutes=53, seconds=14)))
    await sign_in(client, "informatique")
    page = await (await client.get("/systeme")).text()
    assert "dernier état il y a 11\u00a0h\u00a053\u00a0min" in page

"""One configuration, one set of figures: the commands, the reports, the monthly job of
``decroche serve`` and the dashboard are all built by the composition root from the same file,
so they show the configured town and objectives, the services' names, and the same figures.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from click.testing import CliRunner

from decroche.app import App
from decroche.cli import main
from decroche.config import load_config
from reports.live import InMemoryLiveFeed
from reports.periods import month_period
from reports.web import create_app
from routing_rules.loader import default_rules_path
from telephony.records.model import CallRecord
from telephony.records.testing import fill, town_calls
from tests.test_web_app import sign_in

TOWN = "Ville de Testeville"
# town_calls' services, as services of the Bernay rules (which give their names).
BERNAY_IDS = {
    "accueil": "accueil_general",
    "etat_civil": "guichet_famille",
    "ccas": "ccas",
    "urbanisme": "eau_urbanisme",
}
NAMES = {
    "accueil_general": "Accueil général – état civil",
    "guichet_famille": "Guichet famille",
    "ccas": "CCAS – centre communal d’action sociale",
    "eau_urbanisme": "Eau et urbanisme",
}


def bernay_calls(first: date, days: int, per_day: int) -> Iterator[CallRecord]:
    for record in town_calls(first, days, per_day):
        entries = [
            dataclasses.replace(
                e,
                service_id=BERNAY_IDS[e.service_id],
                overflow_to=BERNAY_IDS.get(e.overflow_to or "", e.overflow_to),
            )
            for e in record.entries
        ]
        callbacks = [
            dataclasses.replace(c, service_id=BERNAY_IDS[c.service_id]) for c in record.callbacks
        ]
        # The voice menu of the rules in force (routing_rules/bernay.yaml).
        ivr = [dataclasses.replace(e, menu_id="principal") for e in record.ivr]
        yield dataclasses.replace(record, entries=entries, callbacks=callbacks, ivr=ivr)


def write_config(tmp_path: Path, ari_url: str | None = None, **web: object) -> Path:
    """Objectives of 93 %, the town of Testeville, the records in ``tmp_path/data``."""
    path = tmp_path / "decroche.yaml"
    extra = "".join(f"  {key}: {json.dumps(value)}\n" for key, value in web.items())
    ari = f"ari:\n  url: {ari_url}\n" if ari_url else ""
    path.write_text(
        f"data_dir: {tmp_path / 'data'}\n{ari}"
        f"web:\n  town: {TOWN}\n{extra}"
        "objectives:\n"
        "  default:\n"
        "    answer_rate: {target: 0.93, kind: min}\n"
        "    service_level: {target: 0.93, kind: min}\n"
        "    abandonment_rate: {target: 0.07, kind: max}\n",
        encoding="utf-8",
    )
    return path


def fill_month(config: Path, month: date) -> None:
    app = App.load(config)
    try:
        fill(app.database(create=True), bernay_calls(month, 31, 3))
    finally:
        app.close()


class _Tables(HTMLParser):
    """Each ``<table data-table=…>``: row header → the cells' text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("data-table")
            if self._table:
                self.tables[self._table] = {}
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            if self._row and not self._row[0].startswith("Service"):
                self.tables[self._table][self._row[0]] = self._row[1:]
            self._row = None
        elif tag == "table":
            self._table = None


def tables(html: str) -> dict[str, dict[str, list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def pdf_text(pdf: Path) -> str:
    done = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def assert_configured(pdf: Path, month_label: str) -> str:
    """The PDF says the configured town and objectives and names the services."""
    text = pdf_text(pdf)
    assert TOWN in text and "Bernay" not in text
    # pdftotext writes the no-break spaces between a figure and its unit as spaces.
    assert "≥ 93,0 %" in text and "≤ 7,0 %" in text
    assert "85,0 %" not in text  # the default objective
    assert NAMES["ccas"].split(" –")[0] in text and "Guichet famille" in text
    for raw in ("accueil_general", "guichet_famille", "eau_urbanisme"):
        assert raw not in text, raw
    assert month_label in text
    # The voice menu's keys with what they do, from the rules in force.
    flat = " ".join(text.split())
    assert "touche 3 : Eau et urbanisme" in flat and "Menu d’accueil" in flat
    # The menus as the rules name them, never made from their ids.
    assert "touche 2 : menu « Espace du droit" in flat  # the cell wraps on the page
    assert "menu principal" not in flat
    # A key is never shown without what it does ("touche 5" alone means nothing).
    assert not re.search(r"touche [0-9*#]+(?! :)", flat)
    return text


def assert_same_figures(report_html: str, dashboard_html: str) -> None:
    """Every service's counts and rates in the report equal the dashboard's, cell for cell."""
    in_report = tables(report_html)["services"]
    on_dashboard = tables(dashboard_html)["tableau-de-bord"]
    assert list(in_report) == list(on_dashboard)  # in the same order: the total first
    assert next(iter(in_report)).startswith("Tous services")
    assert set(in_report) >= {NAMES[s] for s in BERNAY_IDS.values()}
    for service, cells in in_report.items():
        assert cells == on_dashboard[service], service


async def dashboard_html(app: App, client_factory, period: str) -> str:
    from reports.accounts import Role
    from tests.test_web_app import PASSWORD

    deps = app.web_deps(None, InMemoryLiveFeed())
    deps.accounts.upgrade_schema()
    deps.accounts.add_user("qualite", PASSWORD, Role.QUALITY, now=datetime.now(UTC))
    client: TestClient = await client_factory(create_app(deps))
    await sign_in(client, "qualite")
    response = await client.get(f"/tableau-de-bord?mois={period}")
    assert response.status == 200
    return await response.text()


@pytest.mark.pdf
async def test_report_monthly_with_a_configuration_shows_it_and_the_dashboards_figures(
    tmp_path: Path, aiohttp_client
) -> None:
    config = write_config(tmp_path)
    fill_month(config, date(2026, 10, 1))
    result = CliRunner().invoke(
        main, ["report", "monthly", "--month", "2026-10", "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    folder = tmp_path / "data" / "rapports"  # where the dashboard lists reports
    assert (folder / "bilan-mensuel-2026-10.pdf").is_file()
    assert_configured(folder / "bilan-mensuel-2026-10.pdf", "octobre 2026")
    report_html = (folder / "bilan-mensuel-2026-10.html").read_text(encoding="utf-8")
    app = App.load(config)
    try:
        dashboard = await dashboard_html(app, aiohttp_client, "2026-10")
    finally:
        app.close()
    assert TOWN in dashboard and "≥\u00a093,0\u00a0%" in dashboard
    assert_same_figures(report_html, dashboard)


@pytest.mark.pdf
async def test_the_rapports_page_makes_the_configured_report_where_it_lists_them(
    tmp_path: Path, aiohttp_client
) -> None:
    from reports.accounts import Role
    from tests.test_web_app import PASSWORD, csrf_of

    config = write_config(tmp_path)
    fill_month(config, date(2026, 10, 1))
    app = App.load(config)
    try:
        deps = app.web_deps(None, InMemoryLiveFeed())
        deps.accounts.upgrade_schema()
        deps.accounts.add_user("qualite", PASSWORD, Role.QUALITY, now=datetime.now(UTC))
        client: TestClient = await aiohttp_client(create_app(deps))
        await sign_in(client, "qualite")

        async def ask(**fields: str) -> str:
            token = csrf_of(await (await client.get("/rapports")).text())
            form = {"csrf": token, "kind": "monthly", "mois": "2026-10", **fields}
            response = await client.post("/rapports/produire", data=form)
            assert deps.reports is not None
            await deps.reports.wait()
            return await (await client.get(response.url.path)).text()

        page = await ask()
        assert 'data-state="done">produit' in page, page
        folder = tmp_path / "data" / "rapports"  # the configured folder, the one listed
        assert_configured(folder / "bilan-mensuel-2026-10.pdf", "octobre 2026")
        listing = await (await client.get("/rapports")).text()
        assert "bilan-mensuel-2026-10.pdf" in listing
        again = await ask()  # made already: said, in French, with what to do
        # Which version, made when (the page lists the files: not their place on the server).
        assert re.search(
            r"le bilan mensuel 2026-10 est déjà produit \(version 1 du \d\d/\d\d/\d{4} à "
            r"\d\d:\d\d\) : cochez",
            again,
        ), again
        assert 'data-state="done"' in await ask(refaire="1")
    finally:
        app.close()


def test_indicators_with_a_configuration_print_names(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    fill_month(config, date(2026, 10, 1))
    args = ["indicators", "--from", "2026-10-01", "--to", "2026-10-31", "--config", str(config)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    for name in NAMES.values():
        assert name in result.output
    for raw in ("accueil_general", "guichet_famille", "eau_urbanisme"):
        assert raw not in result.output
    as_json = CliRunner().invoke(main, [*args, "--json"])
    document = json.loads(as_json.stdout)
    assert document["services"]["ccas"]["name"] == NAMES["ccas"]  # ids as keys, names added


def test_a_read_command_refuses_a_database_that_does_not_exist(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    for command in (
        ["report", "monthly", "--month", "2026-10"],
        ["indicators", "--from", "2026-10-01", "--to", "2026-10-31"],
        ["survey", "list", "--from", "2026-10-01", "--to", "2026-10-31"],
        ["users", "list"],
        ["purge"],
    ):
        result = CliRunner().invoke(main, [*command, "--config", str(config)])
        assert result.exit_code == 1, command
        assert "la base des appels" in result.output and "n'existe pas" in result.output
        assert not (tmp_path / "data" / "decroche.db").exists(), command


def test_rules_check_opens_no_database(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = CliRunner().invoke(main, ["rules", "check", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "data").exists()


async def test_a_rules_reload_renames_services_on_the_pages(tmp_path: Path, aiohttp_client):
    rules = tmp_path / "regles.yaml"
    shutil.copy(default_rules_path(), rules)
    config = write_config(tmp_path)
    config.write_text(
        config.read_text(encoding="utf-8") + f"rules:\n  file: {rules}\n", encoding="utf-8"
    )
    fill_month(config, date(2026, 10, 1))
    app = App.load(config)
    try:
        before = await dashboard_html(app, aiohttp_client, "2026-10")
        assert "Guichet famille" in before
        text = rules.read_text(encoding="utf-8")
        rules.write_text(text.replace("name: Guichet famille", "name: Espace familles"), "utf-8")
        assert app.rules.reload().changed
        client = await aiohttp_client(create_app(app.web_deps(None, InMemoryLiveFeed())))
        await sign_in(client, "qualite")
        after = await (await client.get("/tableau-de-bord?mois=2026-10")).text()
    finally:
        app.close()
    assert "Espace familles" in after and "Guichet famille" not in after


async def test_the_sign_in_cookies_are_secure_when_configured(tmp_path: Path, aiohttp_client):
    for secure in (True, False):
        folder = tmp_path / str(secure)
        folder.mkdir()
        config = write_config(folder, secure_cookies=secure)
        app = App.load(config)
        app.database(create=True)
        try:
            client = await aiohttp_client(create_app(app.web_deps(None, InMemoryLiveFeed())))
            form = await client.get("/connexion")
            cookie = form.headers["Set-Cookie"]
            assert ("Secure" in cookie) is secure, cookie
            assert TOWN in await form.text()  # the town on every page
        finally:
            app.close()


# --- the monthly job inside decroche serve ---------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, cookie: str | None = None) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url)
    if cookie:
        request.add_header("Cookie", cookie)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


@pytest.mark.pdf
def test_the_monthly_job_of_decroche_serve_writes_the_configured_report(tmp_path: Path) -> None:
    """At start-up the service catches up last month's report: written with the configured
    town and objectives and the services' names, and the same figures as its dashboard."""
    bin_ = Path(sys.executable).parent / "decroche"
    ari_port, web_port = _free_port(), _free_port()
    config = write_config(tmp_path, f"http://127.0.0.1:{ari_port}/ari", port=web_port)
    load_config(config, environ={})  # the file is valid
    today = datetime.now(UTC).date()
    last_month = month_period(f"{(today.replace(day=1) - timedelta(days=1)):%Y-%m}")
    fill_month(config, last_month.start)
    env = {**os.environ, "DECROCHE_ARI__PASSWORD": "s3cret"}
    logs = (tmp_path / "sim.log").open("wb"), (tmp_path / "serve.log").open("wb")
    sim = subprocess.Popen(
        [str(bin_), "sim", "serve", "--port", str(ari_port)], env=env, stderr=logs[0]
    )
    service = None
    pdf = tmp_path / "data" / "rapports" / f"bilan-mensuel-{last_month.month_key}.pdf"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(f"http://127.0.0.1:{ari_port}/sim/state")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the simulated PBX did not start"
            time.sleep(0.2)
        service = subprocess.Popen(
            [str(bin_), "serve", "--config", str(config)], env=env, stderr=logs[1]
        )
        deadline = time.monotonic() + 180  # a hang detector, not a timing: CI machines are slow
        while not pdf.is_file():
            assert service.poll() is None, (tmp_path / "serve.log").read_text("utf-8")[-3000:]
            assert time.monotonic() < deadline, "the monthly report was not written"
            time.sleep(0.5)
        assert_configured(pdf, last_month.label_fr)
        report_html = pdf.with_suffix(".html").read_text(encoding="utf-8")
        # The same figures on the service's own dashboard.
        result = CliRunner().invoke(
            main,
            ["users", "add", "qualite", "--role", "quality", "--config", str(config)],
            input="mot-de-passe-solide\n",
        )
        assert result.exit_code == 0, result.output
        cookie = _signed_in(f"http://127.0.0.1:{web_port}", "qualite", "mot-de-passe-solide")
        status, dashboard = _get(
            f"http://127.0.0.1:{web_port}/tableau-de-bord?mois={last_month.month_key}", cookie
        )
        assert status == 200
        assert_same_figures(report_html, dashboard)
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=30) == 0
    finally:
        for process in (service, sim):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        for log in logs:
            log.close()


def _signed_in(base: str, login: str, password: str) -> str:
    """The session cookie after signing in through the form."""
    import re
    import urllib.parse
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with opener.open(f"{base}/connexion", timeout=5) as form:
        html = form.read().decode("utf-8")
        csrf_cookie = form.headers["Set-Cookie"].split(";")[0]
    token = re.search(r'name="csrf" value="([^"]+)"', html)
    assert token is not None
    body = urllib.parse.urlencode({"csrf": token.group(1), "login": login, "password": password})
    request = urllib.request.Request(f"{base}/connexion", data=body.encode(), method="POST")
    request.add_header("Cookie", csrf_cookie)
    try:
        opener.open(request, timeout=10)
    except urllib.error.HTTPError as exc:  # the 303 after a good sign-in
        assert exc.code == 303, exc.read()
        return exc.headers["Set-Cookie"].split(";")[0]
    raise AssertionError("no redirect after signing in")


# --- the ari section does what it says ---------------------------------------------------------


@pytest.mark.virtual_time
@pytest.mark.parametrize("cap", [0.2, 4.0])
async def test_reconnect_max_backoff_bounds_the_wait_between_attempts(
    tmp_path: Path, cap: float
) -> None:
    """Nothing listens on the ARI port: the attempts follow each other at most ``cap`` apart,
    and the backoff does reach the cap (the doubling is not cut short elsewhere)."""
    import asyncio

    port = _free_port()
    config = write_config(tmp_path, f"http://127.0.0.1:{port}/ari")
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "ari:\n", f"ari:\n  reconnect_max_backoff_s: {cap}\n  ping_interval_s: 0.5\n"
        ),
        encoding="utf-8",
    )
    app = App.load(config)
    service = app.service()
    assert service.router.settings.heartbeat_s == 0.5  # the WebSocket's ping
    stream = service.router.stream
    loop = asyncio.get_running_loop()
    failures: list[float] = []
    runner = asyncio.create_task(stream.run())
    try:
        while len(failures) < 12:
            if stream.counters.connect_failures > len(failures):
                failures.append(loop.time())
            await asyncio.sleep(0.001)
    finally:
        stream.stop()
        await asyncio.wait_for(runner, 10)
        await service.client.close()
        app.close()
    gaps = [b - a for a, b in pairwise(failures)]
    assert max(gaps) <= cap + 0.01
    assert max(gaps[-3:]) >= cap / 2  # jitter keeps 50-100 % of the capped delay


def imported_by(args: list[str], env: dict[str, str] | None = None) -> set[str]:
    """The top-level packages a ``decroche`` invocation imports, in a fresh process."""
    code = (
        "import sys, io, contextlib\n"
        "from decroche.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        main({args!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return set(out.stdout.split())


def test_help_starts_without_the_heavy_libraries() -> None:
    found = imported_by(["--help"])
    assert "click" in found
    assert not found & {"pydantic", "sqlalchemy", "numpy", "alembic", "pyarrow", "ruamel"}


def test_a_past_month_is_read_from_its_kept_days_without_loading_entries(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    fill_month(config, date(2026, 10, 1))
    args = ["indicators", "--from", "2026-10-01", "--to", "2026-10-31", "--config", str(config)]
    assert CliRunner().invoke(main, args).exit_code == 0  # keeps the days' figures
    found = imported_by(args)
    # Neither Alembic (the schema is at its head: one query says so) nor the columnar reader
    # (no entry is read: the days are kept).
    assert "sqlalchemy" in found and "numpy" in found
    assert not found & {"alembic", "pyarrow", "adbc_driver_manager"}

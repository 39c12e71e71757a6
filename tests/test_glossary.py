"""One vocabulary: every page, report and command names an indicator with the glossary's words.

The glossary (``analytics/glossary.py``) is the one source; ``docs/indicateurs.md`` carries it.
The pages and reports are rendered over the demo's records (real flows: menus, closed services,
overflows, callbacks, surveys), and every table heading and every indicator's label in them is
checked against it, with the numbers as a French reader writes them.
"""

from __future__ import annotations

import ast
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from analytics import glossary
from decroche.app import App
from decroche.cli import main
from decroche.config import Config
from decroche.testing import PASSWORD
from decroche.web import build_web_deps
from reports.accounts import AccountStore, Role, upgrade_web_schema
from reports.documents import build_report, render_pdf
from reports.live import AgentLive, AgentState, InMemoryLiveFeed, LiveSnapshot, ServiceLive
from reports.periods import MONTHS_SHORT_FR, Period
from reports.web.app import create_app, templates
from reports.whatif_view import comparison_view

DOCS = Path(__file__).resolve().parents[1] / "docs" / "indicateurs.md"
WEEKDAYS = {"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"}

# Words the pages once used for the glossary's indicators, and English, and untidy plurals.
FORBIDDEN = (
    "Répondus",
    "répondus",
    "Décrochés à temps",
    "décrochés à temps",
    "Débordés",
    "Décrochés dans l'objectif",
    "en baisse",
    "en amélioration",
    "Attente moyenne (s)",
    "appelants sollicités",
    "surveys",
)
ENGLISH_DECIMAL = re.compile(r"\b\d+\.\d+\s?(?:%|s\b|pt\b)")
# « appel(s) enregistré(s) », « créneau(x) »: a count writes the word that agrees with it
# (``routing_rules.messages.counted``).
UNTIDY_PLURAL = re.compile(r"\w+\((?:s|x|es)\)")
REPO = Path(__file__).resolve().parents[1]
PACKAGES = (
    "decroche", "reports", "audit", "whatif", "analytics", "routing_rules", "telephony",
    "ivr_prompts",
)  # fmt: skip
# English for developers, never shown to a town-hall user: the decisions' ``why`` for the logs,
# a database error's context (the pages and the command line say its French reason).
FOR_DEVELOPERS = {
    ("routing_rules/ivr.py", "failure(s)"),
    ("routing_rules/routing/service.py", "caller(s)"),
    ("telephony/records/store.py", "item(s)"),
}
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}


def untidy_plurals(text: str) -> list[str]:
    """The words of ``text`` written « mot(s) » instead of agreeing with their count."""
    return UNTIDY_PLURAL.findall(text)


def test_the_docs_carry_the_glossary() -> None:
    assert glossary.markdown_table() in DOCS.read_text(encoding="utf-8")


def test_each_term_has_one_key_and_one_label() -> None:
    keys = [term.key for term in glossary.TERMS]
    labels = [term.label for term in glossary.TERMS]
    assert len(set(keys)) == len(keys)
    assert len(set(labels)) == len(labels)
    for term in glossary.TERMS:
        assert term.definition.endswith("."), term.key
        assert term.label not in glossary.STRUCTURE, term.key


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "0 appel présenté"),
        (1, "1 appel présenté"),
        (2, "2 appels présentés"),
        (1234, "1\u202f234 appels présentés"),
    ],
)
def test_counts_agree_in_number(n: int, words: str) -> None:
    assert glossary.count("offered", n) == words


def test_numbers_have_a_decimal_comma_and_their_unit_once() -> None:
    assert glossary.value("mean_wait_answered_s", 12.8) == "12,8\u00a0s"
    assert glossary.value("answer_rate", 0.861) == "86,1\u00a0%"
    assert (
        f"{glossary.label('mean_wait_answered_s')} : 12,8\u00a0s" == "Attente moyenne : 12,8\u00a0s"
    )
    assert glossary.label("answered_within_target", "avant la 5e sonnerie") == (
        "Décrochés avant la 5e sonnerie"
    )
    assert glossary.GLOSSARY["answered_within_target"].matches("Décrochés en 4 sonneries")
    assert not glossary.GLOSSARY["answered_within_target"].matches("Décrochés à temps")


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (None, "—"),
        (42.4, "42\u00a0s"),
        (59.6, "60\u00a0s"),
        (720.0, "12\u00a0min"),
        (3599.0, "1\u00a0h\u00a000\u00a0min"),
        (9135.4, "2\u00a0h\u00a032\u00a0min"),
        (90000.0, "25\u00a0h\u00a000\u00a0min"),
    ],
)
def test_a_callback_delay_reads_in_hours_and_minutes(seconds: float | None, words: str) -> None:
    # « délai médian 9135,4 s » was printed in the annual review: a delay of hours reads so.
    assert glossary.value("callbacks.median_delay_s", seconds) == words


class _Page(HTMLParser):
    """The headings of a page's tables, its indicator labels (``data-term``), its text."""

    def __init__(self) -> None:
        super().__init__()
        self.columns: list[str] = []
        self.terms: list[tuple[str, str]] = []
        self.text: list[str] = []
        self._open: tuple[str, str | None] | None = None  # (kind, term) of the <th> being read
        self._buffer: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("script", "style", "title", "textarea"):  # code, not words for a person
            self._skip += 1
        if tag == "th":
            if found.get("scope") == "col":
                self._open = ("col", None)
            elif found.get("data-term"):
                self._open = ("term", found["data-term"])
            self._buffer = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title", "textarea"):
            self._skip -= 1
        if tag == "th" and self._open is not None:
            words = " ".join("".join(self._buffer).split())
            if self._open[0] == "col":
                self.columns.append(words)
            else:
                self.terms.append((self._open[1] or "", words))
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self._buffer.append(data)
        self.text.append(data)


def problems(html: str, where: str) -> list[str]:
    page = _Page()
    page.feed(html)
    found = []
    for heading in page.columns:
        if heading in glossary.STRUCTURE or heading in WEEKDAYS or glossary.is_term(heading):
            continue
        if heading in MONTHS_SHORT_FR or heading.isdigit():  # a month's or a year's column
            continue
        if re.fullmatch(r"\d{1,2} h", heading):  # an hour of the day's column (« 8 h »)
            continue
        found.append(f"{where} : colonne « {heading} » hors du glossaire")
    for key, words in page.terms:
        term = glossary.GLOSSARY.get(key)
        if term is None or not term.matches(words):
            found.append(f"{where} : indicateur {key} nommé « {words} »")
    text = " ".join(" ".join(page.text).split())
    found += [f"{where} : « {word.strip()} »" for word in FORBIDDEN if word in text]
    found += [f"{where} : pluriel « {word} »" for word in untidy_plurals(text)]
    found += [f"{where} : nombre à l'anglaise « {m} »" for m in ENGLISH_DECIMAL.findall(text)]
    return found


@pytest.fixture(scope="module")
def app(demo_data: Path):
    built = App(Config(data_dir=demo_data))
    yield built
    built.close()


def _days(app: App) -> tuple[date, date]:
    import sqlite3

    with sqlite3.connect(app.config.data_dir / "decroche.db") as connection:
        low, high = connection.execute(
            "SELECT min(started_at), max(started_at) FROM calls"
        ).fetchone()
    zone = app.rules.current.tz
    return (
        datetime.fromisoformat(low).replace(tzinfo=UTC).astimezone(zone).date(),
        datetime.fromisoformat(high).replace(tzinfo=UTC).astimezone(zone).date(),
    )


async def test_every_page_names_the_indicators_with_the_glossary(aiohttp_client, app) -> None:
    first, last = _days(app)
    database = app.database()
    upgrade_web_schema(database.engine)
    accounts = AccountStore(database.engine)
    if not accounts.users():
        now = datetime.now(UTC)
        accounts.add_user("qualite", PASSWORD, Role.QUALITY, now=now)
        accounts.add_user("informatique", PASSWORD, Role.IT, now=now)
    live = InMemoryLiveFeed()
    live.publish(
        LiveSnapshot(
            at=datetime.now(UTC),
            in_ivr=1,
            services=(ServiceLive("ccas", waiting=2, longest_wait_s=12.5, agents_available=1),),
            agents=(AgentLive("PJSIP/1101", AgentState.IN_CALL, ("ccas",)),),
        )
    )
    deps = build_web_deps(app, None, live)
    client = await aiohttp_client(create_app(deps))
    found: list[str] = []
    pages = [
        "/tableau-de-bord",  # this month: still running
        f"/tableau-de-bord?du={first}&au={last}",
        f"/service/total?du={first}&au={last}",
        *(f"/service/{service}?du={first}&au={last}" for service in app.names()),
        "/direct",
        f"/effectifs?du={first}&au={last}",
    ]
    await _sign_in(client, "qualite")
    for path in pages:
        response = await client.get(path)
        html = await response.text()
        if response.status == 404 and "/service/" in path:
            continue  # a service without any call in the period
        assert response.status == 200, (path, html[:300])
        found += problems(html, path)
    running = await (await client.get("/tableau-de-bord")).text()
    assert "data-running" in running  # this month is not over: the page says so
    await _sign_in(client, "informatique")
    html = await (await client.get("/systeme/et-si")).text()
    found += problems(html, "/systeme/et-si")
    assert not found, "\n".join(found)


async def _sign_in(client, login: str) -> None:
    page = await client.get("/connexion")
    token = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert token
    await client.get("/deconnexion")
    response = await client.post(
        "/connexion",
        data={"csrf": token.group(1), "login": login, "password": PASSWORD, "suite": ""},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()


def test_the_what_if_comparison_speaks_the_glossary(app) -> None:
    first, last = _days(app)
    document = app.indicators().report(first, last).to_json()
    result = {"calls": 10, "recorded": document, "current": document, "new": document}
    view = comparison_view(result, app.names())
    job = SimpleNamespace(
        id="20261201-090000-000000",
        state="done",
        state_fr="terminée",
        error=None,
        request=SimpleNamespace(
            start=first, end=last, at=datetime.now(UTC), by="informatique", rules_name="r.yaml"
        ),
    )
    env = templates()
    env.filters["local"] = lambda moment, fmt="%d/%m/%Y %H:%M": moment.strftime(fmt)
    html = env.get_template("whatif_job.html").render(
        job=job, view=view, nav=[], session=None, town="Bernay", current="whatif"
    )
    assert not problems(html, "et si"), problems(html, "et si")
    assert [row.label for row in view.total.rows][:3] == [
        "Appels reçus hors horaires",
        "Appels présentés",
        "Appels décrochés",
    ]


def test_the_reports_speak_the_glossary(app, tmp_path: Path) -> None:
    first, last = _days(app)
    upgrade_web_schema(app.database().engine)  # the annual review reads the action plan
    inputs = app.report_inputs()
    found: list[str] = []
    monthly = build_report(inputs, Period(first, last), "monthly", generated_at=datetime.now(UTC))
    annual = build_report(
        inputs,
        Period(date(last.year, 1, 1), date(last.year, 12, 31)),
        "annual",
        generated_at=datetime.now(UTC) + timedelta(days=400),
    )
    for document in (monthly, annual):
        found += problems(document.html, document.stem)
    pdf = tmp_path / "bilan.pdf"
    pdf.write_bytes(render_pdf(monthly))
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    found += [f"PDF : « {word} »" for word in FORBIDDEN if word in flat]
    found += [f"PDF : nombre à l'anglaise « {m} »" for m in ENGLISH_DECIMAL.findall(flat)]
    assert "Appels reçus hors horaires" in flat
    assert not found, "\n".join(found)


def test_the_commands_speak_the_glossary(app) -> None:
    first, last = _days(app)
    db = f"sqlite:///{app.config.data_dir / 'decroche.db'}"
    period = ["--from", first.isoformat(), "--to", last.isoformat()]
    runner = CliRunner()
    result = runner.invoke(main, ["indicators", "--db", db, *period], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    header = next(line for line in lines if line.startswith("Service "))
    headings = [h for h in re.split(r"\s{2,}", header.strip()) if h]
    assert headings[0] == "Service"
    outside = [h for h in headings[1:] if not glossary.is_term(h)]
    assert not outside, outside
    assert [w for w in FORBIDDEN if w in result.output] == []
    survey = runner.invoke(main, ["survey", "list", "--db", db, *period], catch_exceptions=False)
    assert survey.exit_code == 0, survey.output
    assert [w for w in FORBIDDEN if w in survey.output] == []
    assert untidy_plurals(result.output + survey.output) == []
    assert not ENGLISH_DECIMAL.findall(result.output + survey.output)


def test_the_check_finds_a_word_outside_the_glossary() -> None:
    html = (
        '<table><thead><tr><th scope="col">Service</th><th scope="col">Répondus</th></tr></thead>'
        '<tbody><tr><th scope="row" data-term="answer_rate">Taux de réponse</th>'
        "<td>86.1 %</td></tr></tbody></table><p>3 appel(s) en attente</p>"
    )
    assert problems(html, "p") == [
        "p : colonne « Répondus » hors du glossaire",
        "p : indicateur answer_rate nommé « Taux de réponse »",
        "p : « Répondus »",
        "p : pluriel « appel(s) »",
        "p : nombre à l'anglaise « 86.1 % »",
    ]


def _user_strings(path: Path) -> Iterator[tuple[int, str]]:
    """The string literals of a module a person may read: not its docstrings, not what it logs."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in LOG_METHODS
        ):
            skipped |= {id(sub) for sub in ast.walk(node)}
        body = getattr(node, "body", None)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = body[0] if body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skipped.add(id(first.value))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skipped
        ):
            yield node.lineno, node.value


def test_no_untidy_plural_in_what_a_person_reads() -> None:
    # Every CLI message, audit text, error, page and report: « 1 appel enregistré », « 2 appels
    # enregistrés », never « appel(s) enregistré(s) » (the outputs themselves are checked with
    # 0, 1 and several in test_french_counts.py).
    found = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            where = str(path.relative_to(REPO))
            for line, text in _user_strings(path):
                found += [
                    f"{where}:{line}: {word}"
                    for word in untidy_plurals(text)
                    if (where, word) not in FOR_DEVELOPERS
                ]
    for path in sorted((REPO / "reports" / "templates").glob("*.html")):
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(REPO)}: {word}" for word in untidy_plurals(text)]
    assert found == []


def test_the_source_check_sees_a_plural_in_an_f_string_and_skips_a_log(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        '"""Doc: item(s)."""\n'
        "def f(n):\n"
        '    log.info("%d call(s)", n)\n'
        '    return f"{n} appel(s) importé(s)"\n',
        encoding="utf-8",
    )
    words = [w for _, text in _user_strings(module) for w in untidy_plurals(text)]
    assert words == ["appel(s)", "importé(s)"]

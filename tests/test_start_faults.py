"""``decroche serve`` (and the other commands) against what an unlucky installation gives them at
start: each configuration mistake is one French line and exit code 1, never a traceback; a
busy web port is said, never swapped silently for another one (issue 19, points 11 and 12).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from decroche.app import App
from decroche.cli import main
from decroche.config import Config, WebConfig
from telephony.records.codec import WriteItem
from telephony.records.engine import open_store
from telephony.records.errors import JournalError
from telephony.records.journal import Journal
from telephony.records.schema import calls
from tests.test_serve import free_port, http, pbx_and_serve, wait_for

BIN = Path(sys.executable).parent / "decroche"


def config_file(tmp_path: Path, extra: str = "", *, data_dir: Path | None = None) -> Path:
    path = tmp_path / "decroche.yaml"
    path.write_text(
        f"data_dir: {data_dir or tmp_path / 'data'}\n"
        "ari:\n  url: http://127.0.0.1:9/ari\n"  # never reached: each start fails before
        f"web:\n  port: {free_port()}\n{extra}",
        encoding="utf-8",
    )
    return path


def one_french_line(output: str) -> str:
    """The single line a refused start prints, checked to be one and not a traceback."""
    lines = [line for line in output.splitlines() if line.strip()]
    assert "Traceback" not in output, output
    assert len(lines) == 1, output
    assert lines[0].startswith("Erreur : "), output
    return lines[0]


def blocked(tmp_path: Path) -> Path:
    """A path under a plain file: no folder can ever be made there, not even by root."""
    wall = tmp_path / "un-fichier"
    wall.write_text("pas un dossier", encoding="utf-8")
    return wall / "donnees"


CASES = {
    "config-latin1": (
        lambda tmp: (tmp / "decroche.yaml").write_bytes("web:\n  town: Évreux\n".encode("latin-1")),
        "n'est pas en UTF-8",
    ),
    "data-dir": (
        lambda tmp: config_file(tmp, data_dir=blocked(tmp)),
        "dossier de données",
    ),
    "rules-missing": (
        lambda tmp: config_file(tmp, f"rules:\n  file: {tmp / 'absentes.yaml'}\n"),
        "fichier introuvable",
    ),
    "rules-invalid": (
        lambda tmp: (
            (tmp / "regles.yaml").write_text("services: [\n", encoding="utf-8"),
            config_file(tmp, f"rules:\n  file: {tmp / 'regles.yaml'}\n"),
        ),
        "regles.yaml:2:1: syntaxe YAML",
    ),
    "rules-latin1": (
        lambda tmp: (
            (tmp / "regles.yaml").write_bytes("# mairie d'Évreux\n".encode("latin-1")),
            config_file(tmp, f"rules:\n  file: {tmp / 'regles.yaml'}\n"),
        ),
        "n'est pas en UTF-8",
    ),
    "mysql": (
        lambda tmp: config_file(tmp, "storage:\n  url: mysql://mairie:secret@db/decroche\n"),
        "storage.url : base de données « mysql » non prise en charge",
    ),
    "postgres-driver": (
        lambda tmp: config_file(tmp, "storage:\n  url: postgresql+asyncpg://mairie@db/x\n"),
        "pilote « asyncpg » non fourni",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_serve_refuses_a_bad_installation_in_one_french_line(tmp_path: Path, case: str) -> None:
    make, expected = CASES[case]
    make(tmp_path)
    result = CliRunner().invoke(main, ["serve", "--config", str(tmp_path / "decroche.yaml")])
    assert result.exit_code == 1, result.output
    line = one_french_line(result.output)
    assert expected in line
    assert "secret" not in line  # a database URL is shown without its password


@pytest.mark.parametrize("case", ["data-dir", "mysql", "postgres-driver"])
def test_the_other_commands_say_it_the_same_way(tmp_path: Path, case: str) -> None:
    make, expected = CASES[case]
    make(tmp_path)
    config = str(tmp_path / "decroche.yaml")
    for command in (["db", "upgrade"], ["users", "list"], ["purge", "--before", "2020-01-01"]):
        result = CliRunner().invoke(main, [*command, "--config", config], input="o\n")
        assert result.exit_code == 1, (command, result.output)
        assert expected in one_french_line(result.output), command


def test_a_database_url_given_with_db_is_named_as_such(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["db", "status", "--db", "mysql://u@h/d"])
    assert result.exit_code == 1
    assert one_french_line(result.output).startswith("Erreur : --db : base de données « mysql »")


def test_a_plain_postgresql_url_uses_the_driver_decroche_ships(tmp_path: Path) -> None:
    """SQLAlchemy's default driver for postgresql:// is psycopg2, not installed: the URL most
    people write must not end in 'No module named psycopg2'."""
    app = App(Config(data_dir=tmp_path), database_url="postgresql://u@127.0.0.1:9/d")
    database = app.service_database()
    try:
        assert database.engine.dialect.driver == "psycopg"
    finally:
        app.close()


@pytest.fixture
def pbx(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    log = (tmp_path / "sim.log").open("wb")
    process = subprocess.Popen(
        [str(BIN), "sim", "serve", "--port", str(port), "--password", "le-bon"], stderr=log
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/sim/state")
        yield port
    finally:
        process.kill()
        process.wait()
        log.close()


def test_a_wrong_ari_password_is_said_at_once(tmp_path: Path, pbx: int) -> None:
    config = tmp_path / "decroche.yaml"
    config.write_text(
        f"data_dir: {tmp_path / 'data'}\nari:\n  url: http://127.0.0.1:{pbx}/ari\n"
        f"web:\n  port: {free_port()}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [str(BIN), "serve", "--config", str(config)],
        env={"PATH": "/usr/bin:/bin", "DECROCHE_ARI__PASSWORD": "le-mauvais"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Erreur : ")]
    assert errors == [
        "Erreur : Asterisk refuse l'utilisateur ARI « decroche » (erreur 401) : vérifiez "
        "ari.username et le mot de passe (DECROCHE_ARI__PASSWORD, celui de [decroche] dans "
        "ari.conf)"
    ]
    assert "le-mauvais" not in result.stderr
    assert "Unclosed" not in result.stderr  # nothing left open behind the refusal
    # Refused by Asterisk is final: said as such, not after waiting for a connection that will
    # never come (that would be « Asterisk injoignable », the connection timeout's words).
    assert "injoignable" not in result.stderr


# --- the web port (point 12) -------------------------------------------------------------------


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def test_serve_refuses_a_busy_web_port(tmp_path: Path, taken_port: int) -> None:
    config = config_file(tmp_path)
    text = config.read_text(encoding="utf-8").replace(
        f"port: {load_port(config)}", f"port: {taken_port}"
    )
    config.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["serve", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert one_french_line(result.output) == (
        f"Erreur : port {taken_port} de 127.0.0.1 déjà pris par un autre programme (un autre "
        "decroche ?) : changez web.port (ou web.host) dans la configuration"
    )


def test_decroche_web_refuses_a_busy_port(tmp_path: Path, taken_port: int) -> None:
    config = config_file(tmp_path)
    assert CliRunner().invoke(main, ["db", "upgrade", "--config", str(config)]).exit_code == 0
    result = CliRunner().invoke(main, ["web", "--config", str(config), "--port", str(taken_port)])
    assert result.exit_code == 1, result.output
    assert f"port {taken_port} de 127.0.0.1 déjà pris" in one_french_line(result.output)


async def test_the_demo_takes_another_port_and_says_so(
    tmp_path: Path, taken_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    from decroche.bridge import ServiceBridge
    from decroche.web import demo_dashboard

    config = Config(data_dir=tmp_path / "demo", web=WebConfig(port=taken_port))
    async with demo_dashboard(App(config), ServiceBridge({}, "", "")) as url:
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        assert port != taken_port
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # the dashboard does listen there
    warning = capsys.readouterr().err
    assert f"ATTENTION : port {taken_port} de 127.0.0.1 déjà pris" in warning
    assert f"Le tableau de bord prend un autre port : {port}." in warning


def load_port(config: Path) -> int:
    for line in config.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("port:"):
            return int(line.split(":")[1])
    raise AssertionError("no port in the configuration")


# --- the database down at start (point 1) --------------------------------------------------


def test_serve_starts_with_its_database_down_and_catches_up(tmp_path: Path) -> None:
    """The database cannot be reached at start (here: its folder cannot be made yet, like a
    disk not mounted; PostgreSQL not up after a power cut is the same to the service): calls
    are taken and journaled, /healthz says degraded and why, and once the database is there
    its tables are made, the journal written and the scheduled jobs started."""
    ari_port, web_port = free_port(), free_port()
    wall = tmp_path / "pas-encore-monte"
    wall.write_text("un fichier à la place du dossier", encoding="utf-8")
    config = tmp_path / "decroche.yaml"
    config.write_text(
        f"data_dir: {tmp_path / 'data'}\n"
        f"storage:\n  url: sqlite:///{wall / 'decroche.db'}\n"
        f"ari:\n  url: http://127.0.0.1:{ari_port}/ari\n"
        f"web:\n  port: {web_port}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "DECROCHE_ARI__PASSWORD": "s3cret"}
    with pbx_and_serve(tmp_path, ari_port, config, env) as service:
        wait_for_health(web_port, service)

        def said() -> bool:  # once the writer tried the database
            return any(
                p.startswith("base des appels") and "dossier de la base impossible à créer" in p
                for p in http_json(f"http://127.0.0.1:{web_port}/healthz")[1]["problems"]
            )

        wait_until(said, "/healthz did not say why the database is unavailable")
        status, health = http_json(f"http://127.0.0.1:{web_port}/healthz")
        assert status == 503
        assert health["status"] == "degraded"
        assert health["ari_connected"] is True and health["accepting_calls"] is True
        assert health["records"] in ("starting", "journaling")
        call_id = place_call(ari_port)
        wait_until(
            lambda: http_json(f"http://127.0.0.1:{ari_port}/sim/calls/{call_id}")[1].get("ended"),
            "the call did not end",
        )
        wait_until(
            lambda: http_json(f"http://127.0.0.1:{web_port}/healthz")[1]["journal_backlog"] > 0,
            "the call was not journaled",
        )
        wall.unlink()  # the disk is there now
        wait_until(
            lambda: http_json(f"http://127.0.0.1:{web_port}/healthz")[0] == 200,
            "the service did not reach its database",
            timeout=60,
        )
        health = http_json(f"http://127.0.0.1:{web_port}/healthz")[1]
        assert health["status"] == "ok" and health["problems"] == []
        assert health["journal_backlog"] == 0
        wait_until(
            lambda: "scheduled jobs started" in (tmp_path / "serve.log").read_text("utf-8"),
            "the scheduled jobs did not start",
        )
        # The web app's tables were made too: the sign-in page answers.
        assert http(f"http://127.0.0.1:{web_port}/connexion")[0] == 200
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=30) == 0
    log = (tmp_path / "serve.log").read_text(encoding="utf-8")
    # (A report being written when SIGTERM comes is cancelled, and APScheduler says so.)
    assert "Traceback" not in log.split("stopping: draining calls")[0]
    database = open_store(f"sqlite:///{wall / 'decroche.db'}")
    try:
        with database.engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(calls)).scalar_one() == 1
    finally:
        database.dispose()


def http_json(url: str) -> tuple[int, Any]:
    status, body = http(url)
    return status, json.loads(body)


def wait_for_health(port: int, process: subprocess.Popen[bytes]) -> tuple[int, Any]:
    """/healthz once the service answers it (whatever its status), the process still running."""
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, "decroche serve stopped"
        try:
            return http_json(f"http://127.0.0.1:{port}/healthz")
        except OSError:
            pass
        assert time.monotonic() < deadline, "/healthz did not answer"
        time.sleep(0.2)


def wait_until(check: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def place_call(ari_port: int) -> str:
    script = {
        "caller_number": "0612000000",
        "keys": [{"digits": "0", "after": 1.0}],
        "talk_time": 3.0,
    }
    status, body = http(f"http://127.0.0.1:{ari_port}/sim/calls", json.dumps(script).encode())
    assert status == 201, body
    return str(json.loads(body)["call_id"])


# --- calls held in memory only (point 6) ---------------------------------------------------


class FullJournal(Journal):
    """The journal on a full disk: read as ever, nothing more can be appended."""

    def append(self, items: Sequence[WriteItem]) -> None:
        if items:
            raise JournalError(f"{self.path}: cannot append: [Errno 28] No space left on device")


async def test_calls_held_in_memory_only_are_said_then_written(tmp_path: Path) -> None:
    """The database down and the journal unwritable (disk full): /healthz and /metrics say how
    many calls only memory holds (not « ok, journal_backlog 0 »); once the database is back,
    they are written to it, the journal still unwritable."""
    from telephony.records.model import CallStart
    from telephony.records.testing import T0

    wall = tmp_path / "pas-encore-monte"
    wall.write_text("un fichier à la place du dossier", encoding="utf-8")
    config = config_file(tmp_path, f"storage:\n  url: sqlite:///{wall / 'decroche.db'}\n")
    app = App.load(config)
    service = app.service()
    service.writer._journal = FullJournal(app.config.data_dir / "records.journal")
    service.writer.start()
    try:
        for i in range(16):
            await service.writer.call_started(CallStart(f"m.{i}", T0, "0232000000", "0612000000"))
        assert await service.writer.drain()
        health = service.health()
        assert health["status"] == "degraded"
        assert health["calls_in_memory"] == 16
        assert any(
            p.startswith("journal des appels impossible à écrire (disque plein)")
            and "16 appels gardés en mémoire seulement, perdus si le service s'arrête" in p
            for p in health["problems"]  # type: ignore[attr-defined]
        ), health["problems"]
        metrics = service.metrics()
        assert "decroche_calls_in_memory 16" in metrics
        assert "decroche_records_in_memory 16" in metrics
        assert "decroche_records_database_up 0" in metrics

        wall.unlink()  # the database is back; the journal still cannot be written
        deadline = time.monotonic() + 30
        while service.writer.status().calls_in_memory:
            assert time.monotonic() < deadline, "the calls held in memory were not written"
            await asyncio.sleep(0.1)
    finally:
        await service.writer.aclose()
    assert service.store.count_calls() == 16
    health = service.health()
    assert health["calls_in_memory"] == 0
    assert not any("mémoire" in p for p in health["problems"])  # type: ignore[attr-defined]
    await service.client.close()
    app.close()

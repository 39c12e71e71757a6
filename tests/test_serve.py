"""``decroche serve`` as IT runs it: processes, configuration file, signals, /healthz, /metrics.

The simulated PBX runs as its own process (``decroche sim serve``), exactly as a real Asterisk
would be reached: by URL and credentials from the configuration.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from telephony.records.engine import open_store
from telephony.records.schema import calls

BIN = Path(sys.executable).parent / "decroche"


def bernay_phones() -> set[str]:
    from routing_rules.holder import RulesHolder
    from routing_rules.loader import default_rules_path

    rules = RulesHolder(default_rules_path()).current
    return {a for s in rules.services.values() for a in s.agents}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(url: str, data: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    if data:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_for(url: str, timeout: float = 20.0) -> tuple[int, bytes]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            status, body = http(url)
            if status == 200:
                return status, body
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer 200 within {timeout} s")
        time.sleep(0.2)


@contextlib.contextmanager
def pbx_and_serve(
    tmp_path: Path, ari_port: int, config: Path, env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    """The simulated PBX (PJSIP/1001 and 1002 known, 10 times real speed), then ``decroche
    serve`` on ``config``: its process; logs in ``sim.log`` and ``serve.log``; both killed at
    the end if still running."""
    agents = [arg for e in ("PJSIP/1001", "PJSIP/1002") for arg in ("--agent", e)]
    with (tmp_path / "sim.log").open("wb") as sim_log, (tmp_path / "serve.log").open("wb") as log:
        sim = subprocess.Popen(
            [str(BIN), "sim", "serve", "--port", str(ari_port), "--speed", "10", *agents],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sim_log,
        )
        service = None
        try:
            wait_for(f"http://127.0.0.1:{ari_port}/sim/state")
            service = subprocess.Popen(
                [str(BIN), "serve", "--config", str(config)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            yield service
        finally:
            for process in (service, sim):
                if process is not None and process.poll() is None:
                    process.kill()
                    process.wait()


def test_serve_takes_calls_reloads_and_drains(tmp_path: Path) -> None:
    ari_port, web_port = free_port(), free_port()
    env = {**os.environ, "DECROCHE_ARI__PASSWORD": "s3cret"}
    config = tmp_path / "decroche.yaml"
    config.write_text(
        f"data_dir: {tmp_path / 'data'}\n"
        f"ari:\n  url: http://127.0.0.1:{ari_port}/ari\n"
        f"web:\n  port: {web_port}\n",
        encoding="utf-8",
    )
    with pbx_and_serve(tmp_path, ari_port, config, env) as service:
        _, body = wait_for(f"http://127.0.0.1:{web_port}/healthz")
        health = json.loads(body)
        assert health["ari_connected"] is True
        assert health["accepting_calls"] is True
        # The simulated PBX knows two of the Bernay phones: the others are reported, by name
        # and service, without making the service unhealthy.
        phones = health["phones"]
        assert phones["tracked"] == 2
        unknown = {u["endpoint"]: u["services"] for u in phones["unknown"]}
        assert "PJSIP/1001" not in unknown and "PJSIP/1002" not in unknown
        assert unknown["PJSIP/1003"] == ["accueil_general"]
        assert unknown["PJSIP/1201"] == ["police_municipale"]
        assert len(unknown) == len(bernay_phones()) - 2
        script = {
            "caller_number": "0612000000",
            "keys": [{"digits": "0", "after": 1.0}],
            "talk_time": 5.0,
        }
        status, body = http(f"http://127.0.0.1:{ari_port}/sim/calls", json.dumps(script).encode())
        assert status == 201, body
        call_id = json.loads(body)["call_id"]
        deadline = time.monotonic() + 20
        while True:
            _, body = http(f"http://127.0.0.1:{ari_port}/sim/calls/{call_id}")
            if json.loads(body).get("ended"):
                break
            assert time.monotonic() < deadline, "the call did not end"
            time.sleep(0.2)
        _, metrics = http(f"http://127.0.0.1:{web_port}/metrics")
        text = metrics.decode()
        assert "decroche_calls_total 1" in text
        assert "decroche_calls_cut_total 0" in text
        assert 'decroche_orphans_total{fate="handed_back"} 0' in text
        assert "decroche_orphan_bridges_destroyed_total 0" in text
        assert 'decroche_calls_in_progress{phase="talking"} 0' in text
        service.send_signal(signal.SIGHUP)  # reload the (unchanged) rules: still healthy
        reloaded = '"message": "rules reloaded (SIGHUP)'
        deadline = time.monotonic() + 20
        while reloaded not in (tmp_path / "serve.log").read_text(encoding="utf-8"):
            assert time.monotonic() < deadline, "SIGHUP did not reload the rules"
            time.sleep(0.1)
        assert http(f"http://127.0.0.1:{web_port}/healthz")[0] == 200
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=30) == 0
        stderr = (tmp_path / "serve.log").read_text(encoding="utf-8")
        assert '"message": "stopped"' in stderr
    database = open_store(f"sqlite:///{tmp_path / 'data' / 'decroche.db'}")
    try:
        with database.engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(calls)).scalar_one() == 1
        # The rules put in force at start are recorded for the annual review, once (the
        # SIGHUP reloaded the same file).
        from reports.rules_history import RulesVersionBook

        versions = RulesVersionBook(database.engine).between(
            datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
        )
        assert [v.trigger for v in versions] == ["startup"]
        assert "ccas" in versions[0].services
    finally:
        database.dispose()

"""``decroche audit`` as IT runs it: the simulated PBX (``decroche sim serve --sounds``) and
``decroche serve`` as processes, then ``decroche audit run --json`` against them, in real time.

The sounds folder holds every prompt as a short silence, so a path with keys takes a second or
two; the paths with no key wait for decroche's menu timeouts (about 20 s), so every path is
called at once (``audit.concurrency``): a run of every path takes about half a minute.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from audit.expect import expect
from audit.paths import audit_paths
from decroche.cli import main
from routing_rules.holder import RulesHolder
from routing_rules.loader import default_rules_path
from tests.audit_support import remove_sound, sounds_folder
from tests.test_serve import BIN, free_port, wait_for

BERNAY = RulesHolder(default_rules_path()).current
PATHS = audit_paths(BERNAY)


def ari_app_connected(port: int, app: str) -> bool:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/ari/applications/{app}")
    token = base64.b64encode(b"decroche:s3cret").decode()
    request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def serving(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str], Path]]:
    """The simulated PBX with a sounds folder and decroche serving it; yields the
    configuration, the environment and the sounds folder."""
    ari_port, web_port = free_port(), free_port()
    env = {**os.environ, "DECROCHE_ARI__PASSWORD": "s3cret"}
    sounds = sounds_folder(tmp_path / "sons", seconds=0.2)
    config = tmp_path / "decroche.yaml"
    config.write_text(
        f"data_dir: {tmp_path / 'data'}\n"
        f"ari:\n  url: http://127.0.0.1:{ari_port}/ari\n"
        f"web:\n  port: {web_port}\n"
        "audit:\n  report_pdf: false\n  concurrency: 20\n",
        encoding="utf-8",
    )
    logs = [(tmp_path / name).open("wb") for name in ("sim.log", "serve.log")]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(
            subprocess.Popen(
                [str(BIN), "sim", "serve", "--port", str(ari_port), "--sounds", str(sounds)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=logs[0],
            )
        )
        wait_for(f"http://127.0.0.1:{ari_port}/sim/state")
        processes.append(
            subprocess.Popen(
                [str(BIN), "serve", "--config", str(config)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=logs[1],
            )
        )
        deadline = time.monotonic() + 30
        while not ari_app_connected(ari_port, "decroche"):
            assert time.monotonic() < deadline, "decroche did not connect to the PBX"
            time.sleep(0.2)
        yield config, env, sounds
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        for log in logs:
            log.close()


def audit_run(config: Path, env: dict[str, str], *extra: str) -> tuple[int, dict[str, object]]:
    done = subprocess.run(
        [str(BIN), "audit", "run", "--config", str(config), "--json", *extra],
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.stdout, done.stderr.decode()
    return done.returncode, json.loads(done.stdout)


def test_audit_run_passes_every_bernay_path_then_fails_exactly_those_playing_a_missing_prompt(
    tmp_path: Path,
) -> None:
    with serving(tmp_path) as (config, env, sounds):
        code, result = audit_run(config, env)
        assert code == 0, result
        assert result["ok"] is True and result["status"] == "done"
        verdicts = {r["path_id"]: r["verdict"] for r in result["results"]}  # type: ignore[attr-defined]
        assert list(verdicts) == [p.id for p in PATHS]
        assert set(verdicts.values()) == {"passed"}, result
        remove_sound(sounds, "menu_droit_famille")
        now = datetime.now(UTC)
        code, result = audit_run(config, env)
    assert code == 1
    # The paths playing it at the moment of the audit: at any hour, those through key 2.
    playing = {p.id for p in PATHS if "menu_droit_famille" in expect(BERNAY, p, now).prompts}
    assert playing == {p.id for p in PATHS if p.id.startswith("standard.2")}
    failed = [r for r in result["results"] if r["verdict"] == "failed"]  # type: ignore[attr-defined]
    assert {r["path_id"] for r in failed} == playing
    for path in failed:
        lecture = next(c for c in path["checks"] if c["code"] == "lecture")
        assert not lecture["ok"], path
        assert "« menu_droit_famille » n'a pas été joué" in lecture["detail"], path
    reports = result["reports"]
    assert [Path(r).suffix for r in reports] == [".html"]  # type: ignore[union-attr]


def test_audit_run_against_no_pbx_says_why_in_french(tmp_path: Path) -> None:
    config = tmp_path / "decroche.yaml"
    config.write_text(
        f"data_dir: {tmp_path}\nari:\n  url: http://127.0.0.1:1/ari\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["audit", "run", "--config", str(config)])
    assert result.exit_code == 1
    assert "Asterisk injoignable" in result.output, result.output


def test_audit_paths_and_unknown_paths(tmp_path: Path) -> None:
    listed = CliRunner().invoke(main, ["audit", "paths"])
    assert listed.exit_code == 0
    assert "27 parcours" in listed.output
    assert "standard.2.1       numéro principal, touches 2, 1 →" in listed.output
    config = tmp_path / "decroche.yaml"
    config.write_text(f"data_dir: {tmp_path}\n", encoding="utf-8")
    refused = CliRunner().invoke(
        main, ["audit", "run", "--config", str(config), "--paths", "standard.42"]
    )
    assert refused.exit_code == 2
    assert "parcours inconnu : standard.42" in refused.output

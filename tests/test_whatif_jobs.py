"""What-if simulations launched from the IT page: the child process, its progress and result kept
on disk, refusals with reasons, one at a time, time limit, restart; then the pages."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from decroche.testing import web_deps
from reports.web.app import WebDeps, create_app
from routing_rules.errors import RulesInvalid
from routing_rules.loader import validate_text
from telephony.records.engine import open_store
from telephony.records.model import CallRecord
from telephony.records.testing import fill
from tests.test_web_app import csrf_of, sign_in
from tests.whatif_support import DAY, ccas_rules, ccas_traffic, database_with, rules_of
from whatif.jobs import MAX_DAYS, JobState, WhatIfJobs, WhatIfRefused
from whatif.replay import replay

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
COMMAND = [sys.executable, "-m", "decroche", "whatif"]
ONE_DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[CallRecord]]:
    """Three CCAS calls answered after 28 s with the CCAS rung 6 times; rules with 6 and 5."""
    folder = tmp_path_factory.mktemp("whatif-rules")
    current, new = ccas_rules(folder, 6), ccas_rules(folder, 5)
    return current, new, replay(ccas_traffic(rules_of(current), 3), rules_of(current))


def _check(text: str, name: str) -> None:
    from ivr_prompts.catalogue import load_catalogue

    validate_text(text, name, load_catalogue().keys())


def _jobs(tmp_path: Path, current: Path, url: str, **options: object) -> WhatIfJobs:
    return WhatIfJobs(
        tmp_path / "et-si",
        options.pop("command", COMMAND),  # type: ignore[arg-type]
        current,
        _check,
        env={"DECROCHE_STORAGE__URL": url},
        **options,  # type: ignore[arg-type]
    )


async def _finished(jobs: WhatIfJobs, job_id: str, seconds: float = 120.0) -> None:
    for _ in range(int(seconds * 10)):
        if jobs.running is None:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"simulation {job_id} still running after {seconds} s")


async def test_a_simulation_runs_apart_and_its_comparison_is_kept(
    tmp_path: Path, recorded: tuple[Path, Path, list[CallRecord]]
) -> None:
    current, new, records = recorded
    jobs = _jobs(tmp_path, current, database_with(records, tmp_path))
    text = new.read_text(encoding="utf-8")
    job = await jobs.launch(DAY, DAY, text, "ccas_5.yaml", "informatique", NOW)
    assert job.state is JobState.RUNNING
    await _finished(jobs, job.id)
    assert job.state is JobState.DONE, job.error
    assert job.progress.done == job.progress.total == 3  # the JSON progress lines were read
    assert job.result is not None
    assert job.result["new"]["services"]["ccas"]["answered"] == 0
    assert job.result["current"]["services"]["ccas"]["answered"] == 3
    # Kept on disk: a new process (a restart) lists it with its result and its rules.
    again = _jobs(tmp_path, current, "sqlite://")
    (listed,) = again.jobs()
    assert (listed.id, listed.state, listed.request.by) == (job.id, JobState.DONE, "informatique")
    assert listed.result == job.result
    assert (again.directory / job.id / "rules.yaml").read_text(encoding="utf-8") == text


async def test_a_period_of_several_days_replays_in_worker_processes(
    tmp_path: Path, recorded: tuple[Path, Path, list[CallRecord]]
) -> None:
    # Two days: two quiet parts, replayed by two workers spawned from `python -m decroche`.
    current, new, records = recorded
    next_day = [
        dataclasses.replace(r, call_id=r.call_id + "-j2", started_at=r.started_at + ONE_DAY,
                            ended_at=r.ended_at + ONE_DAY, entries=[], ivr=[])
        for r in records
    ]  # fmt: skip
    url = database_with(records + next_day, tmp_path)
    jobs = _jobs(tmp_path, current, url, command=[*COMMAND, "--workers", "2"])
    job = await jobs.launch(
        DAY, DAY + ONE_DAY, new.read_text("utf-8"), "n.yaml", "informatique", NOW
    )
    await _finished(jobs, job.id)
    assert job.state is JobState.DONE, job.error
    assert job.result is not None and job.result["calls"] == 6
    assert job.result["new"]["services"]["ccas"]["answered"] == 0


async def test_invalid_rules_are_refused_with_their_line_and_nothing_starts(
    tmp_path: Path, recorded: tuple[Path, Path, list[CallRecord]]
) -> None:
    current, new, _ = recorded
    jobs = _jobs(tmp_path, current, "sqlite://")
    text = new.read_text(encoding="utf-8").replace("rings: 5", "rings: cinq", 1)
    line = 1 + text[: text.index("rings: cinq")].count("\n")
    with pytest.raises(WhatIfRefused) as refused:
        await jobs.launch(DAY, DAY, text, "essai.yaml", "informatique", NOW)
    assert f"essai.yaml:{line}:" in str(refused.value)
    assert jobs.running is None and jobs.jobs() == []
    with pytest.raises(RulesInvalid):
        _check(text, "essai.yaml")  # the same checker as a reload


@pytest.mark.parametrize(
    ("start", "end", "text", "reason"),
    [
        (DAY, DAY - timedelta(days=1), "x", "précède"),
        (DAY, DAY + timedelta(days=MAX_DAYS), "x", f"{MAX_DAYS} au plus"),
        (DAY, DAY, "  \n", "Donnez les règles"),
        (DAY, DAY, "a: " + "x" * 600_000, "dépasse"),
    ],
)
async def test_bad_periods_and_missing_rules_are_refused_in_french(
    tmp_path: Path, start: date, end: date, text: str, reason: str
) -> None:
    jobs = _jobs(tmp_path, Path("bernay.yaml"), "sqlite://")
    with pytest.raises(WhatIfRefused, match=reason):
        await jobs.launch(start, end, text, "r.yaml", "informatique", NOW)


async def test_one_simulation_at_a_time_and_a_time_limit(tmp_path: Path) -> None:
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    jobs = _jobs(tmp_path, Path("x.yaml"), "sqlite://", command=sleeper, time_limit_s=1.0)
    jobs.check = lambda text, name: None
    job = await jobs.launch(DAY, DAY, "a: 1", "r.yaml", "informatique", NOW)
    with pytest.raises(WhatIfRefused, match="déjà en cours"):
        await jobs.launch(DAY, DAY, "a: 1", "r.yaml", "autre", NOW)
    await _finished(jobs, job.id, 20)
    assert job.state is JobState.FAILED
    assert job.error is not None and "arrêtée après" in job.error


async def test_stopping_the_service_stops_the_simulation_and_says_so(tmp_path: Path) -> None:
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    jobs = _jobs(tmp_path, Path("x.yaml"), "sqlite://", command=sleeper)
    jobs.check = lambda text, name: None
    job = await jobs.launch(DAY, DAY, "a: 1", "r.yaml", "informatique", NOW)
    await jobs.close()
    assert job.state is JobState.FAILED and job.error == "arrêtée avec le service"
    assert jobs.job(job.id) is not None and jobs.job(job.id).state is JobState.FAILED  # type: ignore[union-attr]


async def test_a_failing_simulation_keeps_the_reason(
    tmp_path: Path, recorded: tuple[Path, Path, list[CallRecord]]
) -> None:
    current, new, _ = recorded
    missing = f"sqlite:///{tmp_path / 'absent' / 'records.db'}"
    jobs = _jobs(tmp_path, current, missing)
    job = await jobs.launch(DAY, DAY, new.read_text("utf-8"), "n.yaml", "informatique", NOW)
    await _finished(jobs, job.id)
    assert job.state is JobState.FAILED
    assert job.error is not None and "la base des appels" in job.error
    assert "n'existe pas" in job.error
    assert "Traceback" not in job.error


def test_a_simulation_cut_short_by_a_restart_shows_as_interrupted(tmp_path: Path) -> None:
    folder = tmp_path / "et-si" / "20261102-090000-abcdef"
    folder.mkdir(parents=True)
    request = {"from": "2026-10-01", "to": "2026-10-31", "rules_name": "r.yaml",
               "by": "informatique", "at": NOW.isoformat()}  # fmt: skip
    (folder / "request.json").write_text(json.dumps(request), encoding="utf-8")
    (tmp_path / "et-si" / "not-a-job").mkdir()  # no request: not listed
    jobs = _jobs(tmp_path, Path("x.yaml"), "sqlite://")
    (job,) = jobs.jobs()
    assert job.state is JobState.INTERRUPTED and job.state_fr == "interrompue"
    assert jobs.job("../et-si") is None and jobs.job("") is None


# --- the pages ---------------------------------------------------------------------------------


@pytest.fixture
def deps(tmp_path: Path, recorded: tuple[Path, Path, list[CallRecord]]) -> Iterator[WebDeps]:
    current, _, records = recorded
    url = database_with(records, tmp_path)
    database = open_store(url)
    try:
        built = web_deps(database, fill(database, iter(())), now=NOW)
        built.whatif = _jobs(tmp_path, current, url)
        built.names = lambda: {"ccas": "CCAS", "accueil_general": "Accueil général"}
        yield built
    finally:
        database.dispose()


@pytest.fixture
async def client(aiohttp_client, deps: WebDeps) -> TestClient:
    return await aiohttp_client(create_app(deps))


@pytest.mark.parametrize("login", ["qualite", "agent1"])
async def test_only_it_opens_the_simulations(client: TestClient, login: str) -> None:
    await sign_in(client, login)
    for path in ("/systeme/et-si", "/systeme/et-si/20261102-090000-abcdef"):
        response = await client.get(path)
        assert response.status == 403, path


async def test_form_is_prefilled_with_the_last_four_weeks_and_the_current_rules(
    client: TestClient, recorded: tuple[Path, Path, list[CallRecord]]
) -> None:
    await sign_in(client, "informatique")
    html = await (await client.get("/systeme/et-si")).text()
    assert 'value="2026-10-05"' in html and 'value="2026-11-01"' in html  # NOW: 2 November
    assert "rings: 6" in html  # the textarea holds the rules in force, to edit
    system = await (await client.get("/systeme")).text()
    assert 'href="/systeme/et-si"' in system


async def test_bad_form_is_answered_400_with_reasons_and_the_text_kept(
    client: TestClient, recorded: tuple[Path, Path, list[CallRecord]]
) -> None:
    await sign_in(client, "informatique")
    token = csrf_of(await (await client.get("/systeme/et-si")).text())
    broken = recorded[1].read_text("utf-8").replace("rings: 5", "rings: -2", 1)
    response = await client.post(
        "/systeme/et-si",
        data={"csrf": token, "from": "2026-10-14", "to": "hier", "rules_text": broken},
    )
    assert response.status == 400
    html = await response.text()
    assert "Fin : « hier » n&#39;est pas une date" in html
    response = await client.post(
        "/systeme/et-si",
        data={"csrf": token, "from": "2026-10-14", "to": "2026-10-14", "rules_text": broken},
    )
    html = await response.text()
    assert response.status == 400
    assert re.search(r"texte saisi:\d+:\d+", html), html
    assert "rings: -2" in html  # what was typed is not lost


async def test_a_launched_simulation_shows_progress_then_the_comparison(
    client: TestClient, deps: WebDeps, recorded: tuple[Path, Path, list[CallRecord]]
) -> None:
    await sign_in(client, "informatique")
    token = csrf_of(await (await client.get("/systeme/et-si")).text())
    response = await client.post(
        "/systeme/et-si",
        data={"csrf": token, "from": "2026-10-14", "to": "2026-10-14",
              "rules_text": recorded[1].read_text("utf-8")},
        allow_redirects=False,
    )  # fmt: skip
    assert response.status == 303
    location = response.headers["Location"]
    running = await (await client.get(location)).text()
    assert 'http-equiv="refresh"' in running or 'data-state="done"' in running
    assert deps.whatif is not None
    await _finished(deps.whatif, location)
    html = await (await client.get(location)).text()
    assert 'data-state="done"' in html and 'http-equiv="refresh"' not in html
    ccas = html[html.index('data-service="ccas"') :]
    row = ccas.index("Appels décrochés")
    answered = ccas[row : ccas.index("</tr>", row)]
    assert 'data-effect="worse"' in answered and "-3" in answered
    download = await client.get(location + "/resultat.json")
    assert download.status == 200
    assert (await download.json())["new"]["services"]["ccas"]["answered"] == 0
    listing = await (await client.get("/systeme/et-si")).text()
    assert location in listing and "terminée" in listing
    assert (await client.get("/systeme/et-si/20261102-090000-000000")).status == 404
    assert (await client.get("/systeme/et-si/..%2F..%2Fetc")).status == 404


@pytest.mark.parametrize(("cores", "workers"), [(1, "1"), (2, "1"), (8, "7")])
def test_the_service_runs_simulations_niced_leaving_it_a_core(cores: int, workers: str) -> None:
    from decroche.web import whatif_command

    command = whatif_command(cores)
    assert command[command.index("--workers") + 1] == workers
    assert command[-5:-1] == ["-m", "decroche", "whatif", "--workers"]
    if shutil.which("nice"):
        assert command[:3] == [shutil.which("nice"), "-n", "10"]


async def test_the_simulation_is_given_no_secret(
    tmp_path: Path, recorded: tuple[Path, Path, list[CallRecord]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19, point 13: the what-if child inherited every secret of the service (ARI
    password, pseudonym key) though it runs rules text a person uploaded. It gets the database
    URL, decroche's other settings and the system's paths and locale; nothing else."""
    from decroche.app import App
    from decroche.config import Config
    from decroche.web import whatif_command, whatif_jobs

    secrets = {
        "DECROCHE_ARI__PASSWORD": "mot-de-passe-ari",
        "DECROCHE_STORAGE__PSEUDONYM_SECRET": "cle-des-pseudonymes",
        "DECROCHE_ARI__URL": "http://pbx.mairie.example:8088/ari",
        "AWS_SECRET_ACCESS_KEY": "nuage",
    }
    for name, value in {**secrets, "DECROCHE_WEB__TOWN": "Bernay", "LC_TIME": "fr_FR"}.items():
        monkeypatch.setenv(name, value)
    current, new, records = recorded
    url = database_with(records, tmp_path)
    jobs = whatif_jobs(App(Config(data_dir=tmp_path / "data"), database_url=url), current)
    seen = tmp_path / "environnement.json"
    jobs.command = [
        sys.executable,
        "-c",
        f"import json, os; open({str(seen)!r}, 'w').write(json.dumps(dict(os.environ)))",
    ]
    job = await jobs.launch(DAY, DAY, new.read_text("utf-8"), "n.yaml", "informatique", NOW)
    await _finished(jobs, job.id)
    environment = json.loads(seen.read_text(encoding="utf-8"))
    assert not set(secrets) & set(environment)
    assert not {"mot-de-passe-ari", "cle-des-pseudonymes", "nuage"} & set(environment.values())
    assert environment["DECROCHE_STORAGE__URL"] == url
    assert environment["DECROCHE_WEB__TOWN"] == "Bernay"
    assert environment["LC_TIME"] == "fr_FR"
    assert environment["PATH"] == os.environ["PATH"]
    # And with that environment, the simulation does run.
    jobs.command = whatif_command(1)
    job = await jobs.launch(DAY, DAY, new.read_text("utf-8"), "n.yaml", "informatique", NOW)
    await _finished(jobs, job.id)
    assert job.state is JobState.DONE, job.error
    assert job.result is not None and job.result["calls"] == 3

"""``decroche staffing``: the done-when check through the command, its JSON, its French table,
its errors, and ``--verify`` replaying the period with the recommended agents."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from decroche.cli import main
from tests.staffing_support import erlang_c_agents_by_hand, stationary_queue_log

FEB = date(2025, 2, 3)


def _log(tmp_path: Path, **kwargs: object) -> Path:
    path = tmp_path / "queue_log"
    path.write_text(stationary_queue_log(FEB, **kwargs), encoding="utf-8")  # type: ignore[arg-type]
    return path


WEEK = ("--from", "2025-02-03", "--to", "2025-02-09")


def _week(log: Path, *args: str) -> str:
    """The command on the first week of February of ``log``."""
    return _run("--queue-log", str(log), *WEEK, *args)


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, ["staffing", *args])
    assert result.exit_code == 0, result.output
    return result.stdout  # the progress of --verify goes to stderr


def test_queue_log_of_stationary_mornings_needs_the_hand_computed_erlang_c(tmp_path) -> None:
    # 30 calls an hour, 3 minutes of talk, four weeks of mornings: Erlang C by hand for 80 % in
    # 25 s gives 3 agents; Erlang A (the callers hang up) within one agent of it.
    log = _log(tmp_path, weeks=4, calls_per_hour=30, talk_s=180.0)
    out = _run("--queue-log", str(log), "--from", "2025-02-03", "--to", "2025-03-02", "--json")
    document = json.loads(out)
    slots = document["services"]["accueil"]["slots"]
    assert len(slots) == 15
    by_hand = erlang_c_agents_by_hand(30, 180.0, 25.0, 0.80)
    assert {s["agents_needed_erlang_c"] for s in slots} == {by_hand}
    assert all(abs(s["agents_needed"] - by_hand) <= 1 for s in slots)
    assert document["services"]["accueil"]["model"] == "erlang_a"


def test_french_table_and_half_hours(tmp_path) -> None:
    log = _log(tmp_path, weeks=1, queue="ccas")
    out = _week(log, "--slot", "30")
    assert "par créneau de 30 min" in out
    assert "CCAS – centre communal d’action sociale — modèle : journal queue_log" in out
    assert "lundi     09:30-10:00" in out
    document = json.loads(_week(log, "--json", "--slot", "30"))
    assert document["slot_minutes"] == 30
    assert document["services"]["ccas"]["name"] == "CCAS – centre communal d’action sociale"


def test_a_queue_can_be_asked_for_a_service(tmp_path) -> None:
    log = _log(tmp_path, weeks=1, queue="ccas")
    out = _week(log, "--queue", "ccas=60")
    assert "file d'attente (jusqu'à 60 s, puis débordement)" in out


def test_errors_are_french_and_say_where(tmp_path) -> None:
    log = str(_log(tmp_path, weeks=1))
    week = WEEK

    def run(*args: str):
        return CliRunner().invoke(main, ["staffing", "--queue-log", log, *args])

    both = run("--db", "sqlite://", *week)
    assert both.exit_code != 0 and "--db et --queue-log s'excluent" in both.output
    unknown = run(*week, "--queue", "piscine")
    assert unknown.exit_code == 2
    assert "'piscine' n'est pas un service des règles" in unknown.output
    bad = run(*week, "--queue", "accueil=bientôt")
    assert bad.exit_code == 2 and "attente maximale" in bad.output
    backwards = run("--from", "2025-02-09", "--to", "2025-02-03")
    assert backwards.exit_code == 2 and "--to" in backwards.output


def test_verify_replays_the_period_with_the_recommended_agents(tmp_path) -> None:
    log = _log(tmp_path, weeks=1, calls_per_hour=12, queue="ccas")
    out = _week(log, "--verify", "--workers", "1", "--json")
    check = json.loads(out)["verification"]
    ccas = check["services"]["ccas"]
    assert check["calls"] == 12 * 3 * 5
    # The same callers (a replayed caller who gives up within 5 s becomes a misdial, left out).
    assert ccas["recorded"]["calls"] > 150
    assert abs(ccas["replayed"]["calls"] - ccas["recorded"]["calls"]) <= 2
    # The replay has no queue yet: callers who find the agents busy overflow. The recommended
    # agents still answer most of them, as the model expects with a queue.
    assert ccas["replayed"]["answer_rate"] >= 0.75
    text = _week(log, "--verify", "--workers", "1")
    assert "Vérification par simulation" in text and "Tous services" in text


def test_a_service_with_a_queue_in_the_rules_is_planned_as_one(tmp_path) -> None:
    # The Bernay rules give the accueil général a queue of 90 s at most (issue 16): staffing
    # models it so without being asked; --queue still sets another maximum wait.
    log = _log(tmp_path, weeks=1, queue="accueil_general")
    document = json.loads(_week(log, "--json"))
    assert document["services"]["accueil_general"]["model"] == "erlang_a"
    assert "file d'attente (jusqu'à 90 s, puis débordement)" in _week(log)
    out = _week(log, "--queue", "accueil_general=30")
    assert "file d'attente (jusqu'à 30 s, puis débordement)" in out

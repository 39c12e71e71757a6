"""``decroche survey list|export`` and the ``satisfaction`` key of ``decroche indicators``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from click.testing import CliRunner

from decroche.cli import main
from telephony.records.pseudonym import Pseudonymiser
from telephony.records.store import RecordStore
from telephony.records.testing import temporary_database
from tests.test_survey_figures import hand_built

DAY = ["--from", "2026-10-14", "--to", "2026-10-14"]


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def database_with_surveys(tmp_path: Path) -> str:
    with temporary_database("sqlite", tmp_path) as database:
        RecordStore(database, Pseudonymiser(b"k" * 32)).import_records(hand_built())
        return database.url


def test_list_prints_calls_and_figures_in_french(tmp_path: Path) -> None:
    url = database_with_surveys(tmp_path)
    code, out, _ = invoke("survey", "list", "--db", url, *DAY)
    assert code == 0, out
    lines = out.splitlines()
    # accueil-general is not a service of the rules in force: its phones are « Autre agent ».
    assert lines[0].startswith("14/10/2026 10:00  a  accueil-general  Autre agent 1  Q1 5  Q2 oui")
    assert any("Q1 4  Q2 sans réponse" in line for line in lines)
    assert any(line.endswith("raccroché avant les questions") for line in lines)
    assert any(line.endswith("non décroché") for line in lines)
    assert "Enquête de satisfaction du 14/10/2026 au 14/10/2026" in out
    accueil = next(line for line in lines if line.startswith("accueil-general "))
    assert "75,0\u00a0%" in accueil  # response rate 3/4
    assert "60,0\u00a0%" in accueil and "objectif non atteint" in accueil
    assert "  4  " in accueil  # mean score (5 + 3 + 4) / 3, as the glossary writes it
    assert any(line.startswith("octobre 2026 ") for line in lines)  # the month in words
    assert any(
        line.startswith("Autre agent 2 (accueil-general) ") and "objectif atteint" in line
        for line in lines
    )
    assert "PJSIP" not in out  # agents are not named by default


def test_list_json_and_empty_period(tmp_path: Path) -> None:
    url = database_with_surveys(tmp_path)
    code, out, _ = invoke("survey", "list", "--db", url, "--json", "--by", "day", *DAY)
    assert code == 0, out
    document = json.loads(out)
    assert document["total"]["offered"] == 6
    assert list(document["periods"]) == ["2026-10-14"]
    assert [c["call_id"] for c in document["calls"]][:2] == ["a", "b"]
    assert document["calls"][0]["answers"] == [
        [1, "enquete_question_accueil", 5],
        [2, "enquete_question_resolu", 1],
    ]
    code, out, _ = invoke(
        "survey", "list", "--db", url, "--from", "2026-11-01", "--to", "2026-11-02"
    )
    assert code == 0
    assert out.strip() == "Aucune enquête proposée du 01/11/2026 au 02/11/2026."


def test_export_csv(tmp_path: Path) -> None:
    url = database_with_surveys(tmp_path)
    target = tmp_path / "enquete.csv"
    code, out, _ = invoke("survey", "export", "--db", url, "--out", str(target), *DAY)
    assert code == 0, out
    assert "10 lignes écrites" in out and "(6 appels enquêtés)" in out
    raw = target.read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:6] == ["appel", "date", "heure", "service", "agent", "question"]
    assert rows[1] == [
        "a",
        "2026-10-14",
        "10:00:00",
        "accueil-general",
        "Autre agent 1",
        "1",
        "enquete_question_accueil",
        "1-5",
        "5",
        "5",
        "oui",
        "10:02:50",
    ]
    assert rows[2][5:11] == ["2", "enquete_question_resolu", "oui-non", "1", "oui", "oui"]
    no_key = [r for r in rows if r[0] == "d"]
    assert [r[9] for r in no_key] == ["sans réponse", "sans réponse"]
    assert [r[10] for r in no_key] == ["", ""]
    hung_up = [r for r in rows if r[0] == "e"]
    assert hung_up == [["e", "2026-10-14", "10:40:00", "ccas", "Autre agent 1", *[""] * 7]]
    assert not (tmp_path / "enquete.csv.partial").exists()


def test_errors_are_named(tmp_path: Path) -> None:
    url = database_with_surveys(tmp_path)
    code, _, err = invoke("survey", "list", "--db", url, "--from", "2026-10-14", "--to", "x")
    assert code == 2 and "--to" in err and "« x » n'est pas une date AAAA-MM-JJ" in err
    code, _, err = invoke(
        "survey", "list", "--db", url, "--from", "2026-10-14", "--to", "2026-10-01"
    )
    assert code == 2 and "est avant --from" in err
    bad_rules = tmp_path / "bad.yaml"
    bad_rules.write_text("services: [oops\n", encoding="utf-8")
    code, _, err = invoke("survey", "list", "--db", url, "--rules", str(bad_rules), *DAY)
    assert code == 1 and "échelles de l'enquête illisibles dans" in err and "bad.yaml" in err
    unreachable = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    code, _, err = invoke("survey", "list", "--db", unreachable, *DAY)
    assert code == 1 and "base des appels postgresql+psycopg://nobody@127.0.0.1:1/none" in err
    directory = tmp_path / "a-directory"
    directory.mkdir()
    code, _, err = invoke("survey", "export", "--db", url, "--out", str(directory), *DAY)
    assert code == 2 and "--out" in err


def test_indicators_json_has_satisfaction_per_service(tmp_path: Path) -> None:
    url = database_with_surveys(tmp_path)
    code, out, _ = invoke("indicators", "--db", url, "--json", *DAY)
    assert code == 0, out
    (line,) = out.strip().splitlines()
    services = json.loads(line)["services"]
    # The phone figures are unchanged beside the new key.
    assert (
        services["accueil-general"]["offered"] >= 1 and "answer_rate" in services["accueil-general"]
    )
    satisfaction = services["accueil-general"]["satisfaction"]
    assert (satisfaction["offered"], satisfaction["responded"]) == (4, 3)
    assert satisfaction["share_satisfied"] == 0.6
    share = satisfaction["objectives"][2]
    assert share["indicator"] == "share_satisfied"
    assert share["objective"] == {"target": 0.8, "kind": "min"} and share["met"] is False
    # Services the survey was not offered for have no key.
    assert all(
        "satisfaction" not in services[name] for name in services if name != "accueil-general"
    )


def test_indicators_with_a_missing_rules_file_say_so(tmp_path: Path) -> None:
    # The services' names and time zone come from the rules in force: without them, no figure.
    url = database_with_surveys(tmp_path)
    config = tmp_path / "decroche.yaml"
    missing = tmp_path / "missing.yaml"
    config.write_text(f"rules:\n  file: {missing}\n", encoding="utf-8")
    code, out, err = invoke("indicators", "--db", url, "--config", str(config), "--json", *DAY)
    assert code == 1 and out == ""
    assert f"règles de routage refusées : {missing}:1:1: fichier illisible" in err
    assert "Traceback" not in err

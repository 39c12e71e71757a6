"""``decroche indicators`` on a queue_log and on a database: one JSON object, exact figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from decroche.cli import main
from telephony.records.pseudonym import Pseudonymiser
from telephony.records.queue_log import parse_queue_log
from telephony.records.store import RecordStore
from telephony.records.testing import temporary_database

# 14 October 2026, 10:00 Paris = 08:00 UTC.
T = int(datetime(2026, 10, 14, 8, 0, tzinfo=UTC).timestamp())

QUEUE_LOG = f"""\
{T}|c1|ccas|NONE|ENTERQUEUE||0612345678|1
{T + 25}|c1|ccas|PJSIP/1042|CONNECT|25|c1b|3
{T + 200}|c1|ccas|PJSIP/1042|COMPLETECALLER|25|175|1
{T + 10}|c2|ccas|NONE|ENTERQUEUE||0612345679|1
{T + 14}|c2|ccas|NONE|ABANDON|1|1|4
{T + 20}|c3|ccas|NONE|ENTERQUEUE||0612345670|1
{T + 50}|c3|ccas|NONE|EXITWITHTIMEOUT|1|1|30
{T + 50}|c3|accueil|NONE|ENTERQUEUE||0612345670|1
{T + 60}|c3|accueil|PJSIP/1001|CONNECT|10|c3b|8
{T + 120}|c3|accueil|PJSIP/1001|COMPLETEAGENT|10|60|1
{T + 30}|c4|accueil|NONE|ENTERQUEUE||0612345671|1
{T + 70}|c4|accueil|NONE|ABANDON|1|1|40
this line is garbage
{T + 80}|c5|accueil|NONE|CONNECT|notanumber|x|y
"""


def run(*args: str) -> dict:
    result = CliRunner().invoke(main, ["indicators", *args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1  # exactly one JSON object
    return json.loads(lines[0])


def test_queue_log_figures(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_text(QUEUE_LOG, encoding="utf-8")
    doc = run("--queue-log", str(path), "--from", "2026-10-14", "--to", "2026-10-14")
    assert doc["from"] == "2026-10-14" and doc["to"] == "2026-10-14"
    assert doc["skipped_lines"] == 2
    ccas = doc["services"]["ccas"]
    assert ccas["offered"] == 3
    assert ccas["answered"] == 1
    assert ccas["answered_within_target"] == 1  # holdtime 25 = 5 rings x 5 s
    assert ccas["abandoned"] == 1 and ccas["short_abandoned"] == 1  # waited 4 s
    assert ccas["overflowed"] == 1
    assert ccas["answer_rate"] == 0.5  # 1 / (3 - 1)
    assert ccas["abandonment_rate"] == 0.0
    accueil = doc["services"]["accueil"]
    assert (accueil["offered"], accueil["answered"], accueil["abandoned"]) == (2, 1, 1)
    assert accueil["mean_wait_answered_s"] == 10.0
    total = doc["total"]
    assert total["offered"] == 4  # c1..c4, each once
    assert total["answered"] == 2
    # c3 waited 40 s in all (30 in ccas, 10 in accueil): not within 25 s.
    assert total["answered_within_target"] == 1
    assert total["mean_wait_answered_s"] == 32.5
    # Four rings instead of five: c1 (25 s) is no longer within.
    stricter = run(
        "--queue-log", str(path), "--from", "2026-10-14", "--to", "2026-10-14", "--rings", "4"
    )
    assert stricter["services"]["ccas"]["answered_within_target"] == 0
    assert stricter["parameters"]["target_s"] == 20.0


def test_database_gives_the_same_figures(tmp_path: Path) -> None:
    records, _ = parse_queue_log(QUEUE_LOG.splitlines())
    path = tmp_path / "queue_log"
    path.write_text(QUEUE_LOG, encoding="utf-8")
    from_log = run("--queue-log", str(path), "--from", "2026-10-14", "--to", "2026-10-14")
    with temporary_database("sqlite", tmp_path) as database:
        RecordStore(database, Pseudonymiser(b"s" * 32)).import_records(records)
        from_db = run("--db", database.url, "--from", "2026-10-14", "--to", "2026-10-14")
    from_log["skipped_lines"] = 0
    assert from_db == from_log


def test_table_is_french_and_names_the_convention(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_text(QUEUE_LOG, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["indicators", "--queue-log", str(path), "--from", "2026-10-14", "--to", "2026-10-14"]
    )
    assert result.exit_code == 0
    assert "Taux de décroché" in result.output
    assert "décroché en 5 sonneries = attente ≤\u00a025\u00a0s" in result.output
    assert "50,0\u00a0%" in result.output
    assert "2 lignes du queue_log ignorées car mal formées." in result.output
    # A queue_log has no menu and no closed service: the calls received say so, no false 0.
    assert "4 appels présentés (queue_log : ni le menu vocal ni les" in result.output
    assert "raccroché dans le menu vocal" not in result.output


def test_bad_dates_are_named() -> None:
    result = CliRunner().invoke(
        main, ["indicators", "--db", "sqlite://", "--from", "2026-13-01", "--to", "2026-10-01"]
    )
    assert result.exit_code == 2
    assert "--from" in result.output and "2026-13-01" in result.output


def test_the_commitment_the_configuration_words_is_computed_and_stated(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_text(QUEUE_LOG, encoding="utf-8")
    config = tmp_path / "decroche.yaml"
    config.write_text(
        "objectives:\n"
        "  default:\n"
        '    service_level: {target: 0.80, kind: min, commitment: "avant la 5e sonnerie"}\n',
        encoding="utf-8",
    )
    period = ["--from", "2026-10-14", "--to", "2026-10-14"]
    doc = run("--config", str(config), "--queue-log", str(path), *period)
    # c1 waited 25 s: within "en 5 sonneries", not "avant la 5e sonnerie" (< 20 s).
    assert doc["services"]["ccas"]["answered_within_target"] == 0
    assert doc["parameters"]["commitment"]["words"] == "décroché avant la 5e sonnerie"
    assert doc["parameters"]["commitment"]["limit_s"] == 20.0
    assert doc["services"]["ccas"]["unanswered"] == {
        "abandoned": 1,
        "overflowed": 1,
        "destinations": {"accueil": 1},
        "answered_later": 1,
    }
    text = CliRunner().invoke(
        main, ["indicators", "--config", str(config), "--queue-log", str(path), *period]
    )
    assert text.exit_code == 0, text.output
    assert "Décrochés avant la 5e sonnerie" in text.output
    assert "décroché avant la 5e sonnerie = attente <\u00a020\u00a0s" in text.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "objectives:\n  default:\n    service_level: {target: 0.8, kind: min, commitment: vite}\n",
        encoding="utf-8",
    )
    refused = CliRunner().invoke(main, ["indicators", "--config", str(bad), "--queue-log",
                                        str(path), *period])  # fmt: skip
    assert refused.exit_code != 0
    assert "avant la Ne sonnerie" in refused.output

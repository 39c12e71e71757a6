"""The demo's own records, checked against the figures with nothing shared but the records:
entries while a service was closed, recomputed from the rules' opening hours."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from decroche.cli import main
from ivr_prompts.catalogue import load_catalogue
from routing_rules.loader import default_rules_path, load_rules


@pytest.fixture(scope="module")
def demo_db(demo_data: Path) -> Path:
    return demo_data / "decroche.db"


def _stored(db: Path) -> list[tuple[str, datetime]]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT service_id, entered_at FROM service_entries").fetchall()
    return [
        (service, datetime.fromisoformat(entered).replace(tzinfo=UTC)) for service, entered in rows
    ]


def test_closed_and_offered_match_the_opening_hours_of_the_rules(demo_db: Path) -> None:
    rules = load_rules(default_rules_path(), load_catalogue())
    entries = _stored(demo_db)
    closed: Counter[str] = Counter()
    offered: Counter[str] = Counter()
    for service, entered in entries:
        schedule = rules.services[service].schedule
        is_open = schedule is None or schedule.state_at(entered).is_open
        (offered if is_open else closed)[service] += 1
    days = sorted({entered.astimezone(rules.tz).date() for _, entered in entries})
    result = CliRunner().invoke(
        main,
        [
            "indicators",
            "--db",
            f"sqlite:///{demo_db}",
            "--from",
            days[0].isoformat(),
            "--to",
            days[-1].isoformat(),
            "--json",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)["services"]
    assert sum(closed.values()) > 0  # the demo does call outside opening hours
    for service in rules.services:
        counts = figures.get(service, {"closed": 0, "offered": 0})
        assert (counts["closed"], counts["offered"]) == (closed[service], offered[service]), service


README = Path(__file__).resolve().parents[1] / "README.md"
DESK = "PJSIP/1001"  # the README's suggested what-if: the accueil général without this phone


def test_the_readmes_what_if_shows_a_visible_difference_on_the_demo(
    demo_db: Path, tmp_path: Path
) -> None:
    """Run as the README says: the accueil général without the phone nobody answers. Its
    calls answered in 5 rings and its wait visibly better, for the reason the README gives."""
    readme = " ".join(README.read_text(encoding="utf-8").split())
    assert f"delete `{DESK}, ` from the `agents` of `accueil_general`" in readme
    with sqlite3.connect(demo_db) as connection:
        rang = connection.execute(
            "SELECT count(*), count(answered_at) FROM agent_legs WHERE endpoint = ?", (DESK,)
        ).fetchone()
    assert rang[0] > 20 and rang[1] == 0  # the README's reason: rung often, never answered
    text = default_rules_path().read_text(encoding="utf-8")
    agents = "agents: [PJSIP/1001, PJSIP/1002, PJSIP/1003, PJSIP/1004]"
    assert text.count(agents) == 1  # the accueil général's phones
    essai = tmp_path / "essai.yaml"
    essai.write_text(text.replace(agents, agents.replace(f"{DESK}, ", "")), encoding="utf-8")
    rules = load_rules(default_rules_path(), load_catalogue())
    days = sorted({entered.astimezone(rules.tz).date() for _, entered in _stored(demo_db)})
    result = CliRunner().invoke(
        main,
        ["whatif", "--rules", str(essai), "--from", days[0].isoformat(), "--to",
         days[-1].isoformat(), "--db", f"sqlite:///{demo_db}", "--json", "--workers", "1",
         "--progress", "none"],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    moved = document["difference"]["services"]["accueil_general"]
    assert moved["service_level"] >= 0.10, moved  # at least 10 points: visible
    assert moved["mean_wait_answered_s"] <= -5.0, moved
    assert moved["overflowed"] < 0, moved
    assert document["difference"]["total"]["service_level"] > 0

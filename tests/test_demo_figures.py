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

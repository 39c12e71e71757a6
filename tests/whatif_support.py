"""Helpers of the what-if tests: Bernay rules with the CCAS rung N times, a CCAS traffic whose
agents pick up after 28 s, and a database holding given records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from decroche.traffic import key_paths
from ivr_prompts.catalogue import load_catalogue
from routing_rules.compiled import CompiledRules
from routing_rules.loader import default_rules_path, load_rules
from telephony.records.model import CallRecord
from telephony.simulator.scripts import AgentScript
from whatif.traffic import AgentChange, ReplayCall, TrafficModel

DAY = date(2026, 10, 14)  # a Wednesday: every Bernay service is open in the morning
T0 = datetime(2026, 10, 14, 8, 0, tzinfo=UTC)  # 10:00 in Paris
CCAS_MARKER = "    strategy: ring_all\n    rings: 5\n    hours: mairie"


def rules_of(path: Path) -> CompiledRules:
    return load_rules(path, load_catalogue().keys())


def ccas_rules(tmp_path: Path, rings: int) -> Path:
    text = default_rules_path().read_text(encoding="utf-8")
    marker = CCAS_MARKER
    assert marker in text  # the CCAS block of the Bernay file
    path = tmp_path / f"ccas_{rings}.yaml"
    path.write_text(text.replace(marker, marker.replace("rings: 5", f"rings: {rings}")), "utf-8")
    return path


def ccas_traffic(
    rules: CompiledRules,
    n: int,
    *,
    every_s: float = 180.0,
    talk_s: float = 60.0,
    ring_s: float = 28.0,
    services: tuple[str, ...] = ("ccas",),
) -> TrafficModel:
    """``n`` CCAS callers ``every_s`` apart, talking ``talk_s``; the agents of ``services``
    pick up after ``ring_s``."""
    keys = key_paths(rules)["ccas"]
    calls = [
        ReplayCall(
            T0 + timedelta(seconds=every_s * i),
            "0232464646",
            f"0611{i:06d}",
            tuple((k, 1.0) for k in keys),
            patience=600.0,
            talk_time=talk_s,
        )
        for i in range(n)
    ]
    endpoints = sorted({e for s in services for e in rules.services[s].agents})
    agents = [
        AgentChange(T0 - timedelta(days=1), AgentScript(endpoint=e, ring_time=ring_s))
        for e in endpoints
    ]
    return TrafficModel(calls, agents)


def database_with(records: list[CallRecord], tmp_path: Path) -> str:
    from telephony.records.engine import open_store
    from telephony.records.pseudonym import Pseudonymiser
    from telephony.records.store import RecordStore

    url = f"sqlite:///{tmp_path / 'records.db'}"
    database = open_store(url)
    try:
        RecordStore(database, Pseudonymiser(b"k" * 32)).import_records(records)
    finally:
        database.dispose()
    return url


CCAS_QUEUE = """
    queue:
      max_wait_s: 60
      prompt: file_attente_ccas
      repeat_prompt: file_attente_suite
      announce_every_s: 20
      position: true"""


def ccas_queue_rules(tmp_path: Path) -> Path:
    """The Bernay rules with a queue of 60 s at most for the CCAS."""
    text = default_rules_path().read_text(encoding="utf-8")
    assert CCAS_MARKER in text
    path = tmp_path / "ccas_queue.yaml"
    path.write_text(text.replace(CCAS_MARKER, CCAS_MARKER + CCAS_QUEUE), "utf-8")
    return path


def busy_ccas_traffic(rules: CompiledRules, n: int) -> TrafficModel:
    """``n`` CCAS callers 20 s apart, each talking 100 s to an agent who picks up after 2 s: from
    the fourth on, every CCAS agent is on a call when they come, and one frees up within 60 s."""
    return ccas_traffic(
        rules, n, every_s=20.0, talk_s=100.0, ring_s=2.0, services=("ccas", "accueil_general")
    )

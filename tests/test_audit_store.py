"""The audit's own tables on SQLite and PostgreSQL: runs kept whole, newest first, a failure
matched with the later run that passed the path (« corrigé le »)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from audit.results import AuditRun, Check, PathResult, RunStatus, Trigger, Verdict
from audit.store import AuditStore, upgrade_audit_schema
from telephony.records.testing import temporary_database
from tests.conftest import BACKENDS, pg_url

T0 = datetime(2026, 10, 1, 0, 30, tzinfo=UTC)


def result(path_id: str, ok: bool) -> PathResult:
    check = Check(code="destination", name="Destination atteinte", ok=ok, detail="…")
    return PathResult(
        path_id=path_id,
        label=f"parcours {path_id}",
        dialled="standard",
        keys=tuple(path_id.split(".")[1:]),
        kind="key",
        verdict=Verdict.PASSED if ok else Verdict.FAILED,
        expected="service ccas",
        checks=(check,),
    )


def run(n: int, *results: PathResult, status: RunStatus = RunStatus.DONE) -> AuditRun:
    started = T0 + timedelta(days=n)
    return AuditRun(
        id=f"2026100{n}-003000-abcdef",
        started_at=started,
        finished_at=started + timedelta(minutes=3),
        trigger=Trigger.NIGHTLY,
        rules_version="0123456789abcdef",
        rules_source="bernay.yaml",
        status=status,
        results=results,
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_runs_are_kept_apart_and_failures_know_when_they_were_fixed(
    backend: str, tmp_path: Path
) -> None:
    with temporary_database(backend, tmp_path, pg_url()) as database:
        upgrade_audit_schema(database.engine)
        upgrade_audit_schema(database.engine)  # twice: nothing to do the second time
        tables = set(inspect(database.engine).get_table_names())
        assert {"audit_runs", "audit_results", "alembic_version_audit"} <= tables
        store = AuditStore(database.engine)
        first = run(1, result("standard.2.1", False), result("standard.3", True))
        store.save(first.model_copy(update={"status": RunStatus.RUNNING, "results": ()}))
        assert store.latest() is None  # still running
        store.save(first)  # the same run, finished
        store.save(run(2, result("standard.2.1", False)))
        store.save(run(3, status=RunStatus.IMPOSSIBLE))
        store.save(run(4, result("standard.2.1", True), result("standard.3", True)))
        assert store.run(first.id) == first
        assert [r.id[:8] for r in store.runs()] == ["20261004", "20261003", "20261002", "20261001"]
        assert [r.id[:8] for r in store.runs(start=T0 + timedelta(days=2), limit=None)] == [
            "20261004",
            "20261003",
            "20261002",
        ]
        assert store.latest() == store.runs()[0]
        assert store.fixed_at("standard.2.1", first.started_at) == T0 + timedelta(days=4)
        assert store.fixed_at("standard.2.1", T0 + timedelta(days=4)) is None
        assert store.fixed_at("standard.3", first.started_at) == T0 + timedelta(days=4)
        with database.engine.connect() as connection:
            count = connection.execute(text("SELECT count(*) FROM audit_results")).scalar_one()
        assert count == 5

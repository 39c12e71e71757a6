"""Audit runs kept in their own tables (:mod:`audit.schema`), apart from the call records.

Errors::

    AuditStoreError     the tables cannot be created, read or written (French message)
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from audit.results import AuditRun, Verdict
from audit.schema import audit_results, audit_runs
from telephony.records.engine import run_migrations

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class AuditStoreError(Exception):
    """The audit's tables cannot be used; the message (French) says why."""


def upgrade_audit_schema(engine: Engine) -> None:
    """Create or upgrade the audit's tables (their own Alembic history). Alembic's state is the
    process's: call it when no other migration runs."""
    try:
        run_migrations(engine, MIGRATIONS_DIR)
    except SQLAlchemyError as exc:
        raise AuditStoreError(
            f"impossible de créer ou de mettre à jour les tables de l'audit : {exc}"
        ) from exc


class AuditStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save(self, run: AuditRun) -> None:
        """Write ``run`` (a new one, or the same run further on), with its paths' verdicts."""
        row = {
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "trigger": run.trigger.value,
            "status": run.status.value,
            "paths": len(run.results),
            "failed": len(run.failed),
            "document": run.model_dump_json(),
        }
        try:
            with self._engine.begin() as connection:
                done = connection.execute(
                    update(audit_runs).where(audit_runs.c.id == run.id).values(**row)
                )
                if done.rowcount == 0:
                    connection.execute(insert(audit_runs).values(id=run.id, **row))
                connection.execute(delete(audit_results).where(audit_results.c.run_id == run.id))
                if run.results:
                    connection.execute(
                        insert(audit_results),
                        [
                            {
                                "run_id": run.id,
                                "path_id": result.path_id,
                                "started_at": run.started_at,
                                "verdict": result.verdict.value,
                            }
                            for result in run.results
                        ],
                    )
        except SQLAlchemyError as exc:
            raise AuditStoreError(f"audit {run.id} non enregistré : {exc}") from exc

    def _documents(self, query: object) -> list[AuditRun]:
        try:
            with self._engine.connect() as connection:
                rows = connection.execute(query).all()  # type: ignore[call-overload]
        except SQLAlchemyError as exc:
            raise AuditStoreError(f"lecture des audits impossible : {exc}") from exc
        runs = []
        for (document,) in rows:
            try:
                runs.append(AuditRun.model_validate_json(document))
            except (ValidationError, json.JSONDecodeError):
                continue  # a document from a future version: left out, never a crash
        return runs

    def run(self, run_id: str) -> AuditRun | None:
        found = self._documents(select(audit_runs.c.document).where(audit_runs.c.id == run_id))
        return found[0] if found else None

    def runs(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int | None = 20,
    ) -> list[AuditRun]:
        """Runs started in [``start``, ``end``), newest first."""
        query = select(audit_runs.c.document).order_by(audit_runs.c.started_at.desc())
        if start is not None:
            query = query.where(audit_runs.c.started_at >= start)
        if end is not None:
            query = query.where(audit_runs.c.started_at < end)
        if limit is not None:
            query = query.limit(limit)
        return self._documents(query)

    def latest(self) -> AuditRun | None:
        """The newest run that is over (done or impossible)."""
        query = (
            select(audit_runs.c.document)
            .where(audit_runs.c.status != "running")
            .order_by(audit_runs.c.started_at.desc())
            .limit(1)
        )
        found = self._documents(query)
        return found[0] if found else None

    def fixed_at(self, path_id: str, after: datetime) -> datetime | None:
        """When ``path_id`` first passed in a run started after ``after`` (None: not yet)."""
        query = (
            select(audit_results.c.started_at)
            .where(audit_results.c.path_id == path_id)
            .where(audit_results.c.started_at > after)
            .where(audit_results.c.verdict == Verdict.PASSED.value)
            .order_by(audit_results.c.started_at)
            .limit(1)
        )
        try:
            with self._engine.connect() as connection:
                found = connection.execute(query).scalar_one_or_none()
        except SQLAlchemyError as exc:
            raise AuditStoreError(f"lecture des audits impossible : {exc}") from exc
        return found

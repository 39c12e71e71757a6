"""Opening the call records database: engine with the right pragmas, schema upgrade.

``open_store(url)`` is what the composition root, the CLI and analytics call. SQLite gets WAL
(readers never block the writer), ``synchronous=NORMAL`` (durable at checkpoints, fast), foreign
keys on (for the cascades) and a short busy timeout: a locked database must surface quickly as
:class:`StoreUnavailable` so the writer journals instead of stalling.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError, SQLAlchemyError

from telephony.records.errors import SchemaError, StoreUnavailable

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 2000


def create_store_engine(
    url: str, *, schema: str | None = None, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS
) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``).

    ``schema`` (PostgreSQL only) puts every table in that schema through ``search_path``; the
    tests use it to give each test a fresh, isolated set of tables.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise SchemaError(f"invalid database URL {url!r}: {exc}") from exc
    kwargs: dict[str, Any] = {}
    if parsed.drivername == "postgresql":  # SQLAlchemy's default driver is not the one shipped
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        # The writer thread and the event loop share the engine; each connection is used by
        # one thread at a time through the pool.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": busy_timeout_ms / 1000}
        engine = create_engine(parsed, **kwargs)
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent

            def make_folder(*_args: Any) -> None:
                # At each connection, not once here: a folder that cannot be made yet (a disk
                # not mounted) is a database unavailable for now, retried like a server down.
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise sqlite3.OperationalError(
                        f"unable to create the database folder {folder}: {exc}"
                    ) from exc

            event.listen(engine, "do_connect", make_folder)

        def pragmas(dbapi_connection: Any, _record: Any) -> None:
            _sqlite_pragmas(dbapi_connection, busy_timeout_ms)

        event.listen(engine, "connect", pragmas)
        return engine
    if schema is not None:
        if parsed.get_backend_name() != "postgresql":
            raise SchemaError(f"schema= is only supported on PostgreSQL, not {url!r}")
        kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
    kwargs["pool_pre_ping"] = True
    return create_engine(parsed, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, busy_timeout_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    finally:
        cursor.close()


def head_revision() -> str:
    """The newest revision shipped: migrations are named ``NNNN_what.py`` with revision
    ``NNNN``, one after the other (a test checks Alembic agrees)."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS_DIR / "versions").glob("*.py"))


def at_head(engine: Engine) -> bool:
    """Whether the database's schema is already the newest, read with one query: opening a
    database to read it needs no Alembic (a second of imports on a loaded machine)."""
    try:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:
        return False  # no such table yet, or unreachable: Alembic says which
    return [row[0] for row in found] == [head_revision()]


def run_migrations(engine: Engine, migrations: Path, revision: str = "head") -> None:
    """Run the Alembic history in the folder ``migrations`` up to ``revision``, in one
    transaction (SQLAlchemy's errors raised as they are). Alembic's state is the process's:
    one history at a time."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations shipped in the package up to ``revision``."""
    if revision == "head" and at_head(engine):
        return
    try:
        run_migrations(engine, MIGRATIONS_DIR, revision)
    except (OperationalError, InterfaceError) as exc:
        raise StoreUnavailable(f"cannot reach the database to upgrade its schema: {exc}") from exc
    except SQLAlchemyError as exc:
        raise SchemaError(f"cannot upgrade the call records schema: {exc}") from exc


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        raise StoreUnavailable(f"cannot read the schema revision: {exc}") from exc


@dataclass(slots=True)
class Database:
    """An open call records database: its engine (Core only: no ORM session)."""

    url: str
    engine: Engine
    schema: str | None = None  # PostgreSQL: the schema every table is in (tests), else default

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def table_names(self) -> list[str]:
        return sorted(inspect(self.engine).get_table_names())

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(
    url: str,
    *,
    upgrade: bool = True,
    schema: str | None = None,
    busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
) -> Database:
    """Open ``url``; with ``upgrade`` (the default) bring its schema to the latest revision.

    With ``upgrade=False`` nothing connects yet: the service starts even when the database is
    down, and the record writer upgrades the schema once it can reach it.
    """
    engine = create_store_engine(url, schema=schema, busy_timeout_ms=busy_timeout_ms)
    if upgrade:
        try:
            upgrade_schema(engine)
        except (SchemaError, StoreUnavailable):
            engine.dispose()
            raise
    return Database(
        url=url,
        engine=engine,
        schema=schema,
    )

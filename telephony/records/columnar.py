"""Query results as columns (Apache Arrow), for the bulk reads of analytics.

A year of entries is millions of rows: read through SQLAlchemy, each row becomes a Python tuple
and each value a Python object, and that costs more than the indicators themselves. Here the
query goes through PostgreSQL's ADBC driver (the binary COPY protocol), which hands back Arrow
columns built in C; SQLite's rows are read through the store's own ``sqlite3`` a chunk at a time
and turned into columns (why not ADBC's SQLite driver: :func:`_sqlite_columns`). One code path
for both databases: the statement is an SQLAlchemy ``select`` over :mod:`telephony.records.schema`,
compiled for the database with its values written in (they are the caller's dates and names,
never text from outside), and the columns come back with one type per kind whatever the
database: text as ``string``, times as ``timestamp[us, UTC]``, whole numbers as ``int64``,
flags as ``bool``, floats as ``float64``.

On SQLite, nullable text and time columns are read as ``COALESCE(column, '')`` and the empty
strings turned back into nulls here (the columns' types stay fixed whatever their first values).

pyarrow and the drivers are imported on first use only: a command that reads no entries does
not pay for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, DateTime, Float, Integer, String, func, literal, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.sql import Select

from telephony.records.engine import Database
from telephony.records.errors import SchemaError, StoreUnavailable

if TYPE_CHECKING:
    import pyarrow as pa


def read_columns(database: Database, statement: Select[Any]) -> pa.Table:
    """The rows of ``statement`` as an Arrow table, one column per selected column (named by
    its label)."""
    import pyarrow as pa

    selected = list(statement.selected_columns)
    kinds = [_kind(column.type) for column in selected]
    names = [column.key for column in selected]
    sqlite = database.dialect == "sqlite"
    if sqlite:
        inner = statement.subquery("q")
        statement = select(
            *(
                func.coalesce(column, literal("")).label(column.key)
                if kind in ("string", "timestamp") and getattr(original, "nullable", True)
                else column
                for column, original, kind in zip(inner.columns, selected, kinds, strict=True)
            )
        )
    sql = str(statement.compile(dialect=database.engine.dialect, compile_kwargs=_LITERAL))
    if sqlite:
        columns = _sqlite_columns(database, sql, kinds)
    else:
        try:
            with _connect(database) as connection, connection.cursor() as cursor:
                cursor.execute(sql)
                table = cursor.fetch_arrow_table()
        except Exception as exc:
            # The drivers raise their own DB-API errors (adbc_driver_manager.Error and kin).
            if exc.__class__.__module__.startswith("adbc_driver"):
                raise StoreUnavailable(f"reading columns: {exc}") from exc
            raise
        columns = [table.column(i) for i in range(len(kinds))]
    arrays = [
        _normalised(column, kind, sqlite) for column, kind in zip(columns, kinds, strict=True)
    ]
    return pa.table(arrays, names=names)


SQLITE_CHUNK = 100_000  # rows held as Python objects at a time


def _sqlite_columns(database: Database, sql: str, kinds: list[str]) -> list[Any]:
    """The rows of ``sql`` as Arrow columns, read through the store's own SQLite (Python's
    ``sqlite3``), a chunk of rows at a time.

    Not through ADBC's SQLite driver: it carries a second copy of the SQLite library, and two
    copies in one process lose each other's POSIX locks (one closing the file drops the
    other's): the service, writing calls through one while its pages read through the other,
    died of a SIGBUS on the shared memory of the write-ahead log, the corruption that
    sqlite.org's « How To Corrupt » describes (§ 2.2.1)."""
    import pyarrow as pa

    # As SQLite hands them over: times as their text, flags as 0/1 (_normalised converts both).
    stored = {"string": pa.string(), "timestamp": pa.string(), "float64": pa.float64()}
    types = [stored.get(kind, pa.int64()) for kind in kinds]
    chunks: list[list[Any]] = [[] for _ in kinds]
    with database.engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql)
            while rows := cursor.fetchmany(SQLITE_CHUNK):
                for index, values in enumerate(zip(*rows, strict=True)):
                    chunks[index].append(pa.array(values, type=types[index]))
        finally:
            cursor.close()
    return [pa.chunked_array(found, type=t) for found, t in zip(chunks, types, strict=True)]


_LITERAL = {"literal_binds": True}


def _kind(kind: Any) -> str:
    # Boolean before Integer: SQLAlchemy's Boolean is no Integer, but keep the order explicit.
    if isinstance(kind, Boolean):
        return "bool"
    if isinstance(kind, DateTime) or isinstance(getattr(kind, "impl", None), DateTime):
        return "timestamp"
    if isinstance(kind, String):
        return "string"
    if isinstance(kind, Integer):
        return "int64"
    if isinstance(kind, Float):
        return "float64"
    raise SchemaError(f"cannot read a column of type {kind!r} as an Arrow column")


def _normalised(column: Any, kind: str, sqlite: bool) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    arrow_type = {
        "bool": pa.bool_(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "string": pa.string(),
        "int64": pa.int64(),
        "float64": pa.float64(),
    }[kind]
    if len(column) == 0:
        return pa.array([], type=arrow_type)
    if sqlite and kind in ("string", "timestamp"):
        column = column.cast(pa.string())
        column = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
        if kind == "timestamp":
            # Stored as naive UTC text 'YYYY-MM-DD HH:MM:SS.ffffff' (schema.UtcDateTime).
            column = column.cast(pa.timestamp("us")).cast(arrow_type)
        return column
    return column.cast(arrow_type)


def _connect(database: Database) -> Any:
    """A new ADBC connection to ``database`` (per read: ADBC connections are not to be shared
    between threads, and the web server reads from several)."""
    try:
        url = make_url(database.url)
    except ArgumentError as exc:  # pragma: no cover - the Database was opened with it
        raise SchemaError(f"invalid database URL: {exc}") from exc
    if database.dialect == "postgresql":
        import adbc_driver_postgresql.dbapi as adbc_postgresql

        query = dict(url.query)
        if database.schema is not None:
            query["options"] = f"-csearch_path={database.schema}"
        plain = url.set(drivername="postgresql", query=query)
        return adbc_postgresql.connect(plain.render_as_string(hide_password=False))
    raise SchemaError(f"no columnar reader for the {database.dialect} database")

"""Call records: the story of every call, as the call flow tells it, stored for the indicators.

Modules, by role:

- ``model``: the CallRecord dataclasses (the contract with the call flow and analytics);
- ``schema``: the tables (SQLAlchemy models); ``migrations/``: their Alembic history;
- ``engine``: ``open_store(url)`` → :class:`Database` (engine with SQLite pragmas, sessions);
- ``store``: :class:`RecordStore`, idempotent batch writes, reads, callbacks;
- ``writer``: :class:`RecordWriter`, the non-blocking writer with its ``journal`` fallback;
- ``pseudonym``: caller number pseudonymisation; ``retention``: aggregates and purge;
- ``queue_log``: Asterisk queue_log import; ``cli``: the ``decroche`` subcommands;
- ``errors``: the exception hierarchy; ``testing``: sample records and temporary databases.

See ``docs/records.md`` for the tables and how each figure is made.
"""

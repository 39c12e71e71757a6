"""Alembic environment: runs on the connection handed in by ``engine.upgrade_schema``."""

from __future__ import annotations

from alembic import context

from telephony.records.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run the call records migrations through `decroche db upgrade` "
        "(telephony.records.engine.upgrade_schema), which supplies the connection"
    )
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

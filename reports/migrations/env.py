"""Alembic environment of the web app's tables (version table ``alembic_version_web``)."""

from __future__ import annotations

from alembic import context

from reports.schema import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the web migrations through reports.accounts.upgrade_web_schema")
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()

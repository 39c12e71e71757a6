"""Alembic environment of the audit's tables (version table ``alembic_version_audit``)."""

from __future__ import annotations

from alembic import context

from audit.schema import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the audit migrations through audit.store.upgrade_audit_schema")
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()

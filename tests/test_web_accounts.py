"""Accounts and sessions on SQLite and PostgreSQL; the web tables' own migrations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect

from reports.accounts import AccountStore, AuthSettings, Role, upgrade_web_schema
from reports.errors import AccountError, AuthenticationFailed
from telephony.records.testing import temporary_database
from tests.conftest import BACKENDS, pg_url

NOW = datetime(2026, 10, 20, 8, 0, tzinfo=UTC)
PASSWORD = "un-mot-de-passe"


@pytest.fixture(params=BACKENDS)
def accounts(request, tmp_path: Path) -> AccountStore:
    with temporary_database(request.param, tmp_path, pg_url()) as database:
        upgrade_web_schema(database.engine)
        upgrade_web_schema(database.engine)  # idempotent: runs on every start
        tables = set(inspect(database.engine).get_table_names())
        assert {"web_users", "web_sessions", "generated_reports", "alembic_version_web"} <= tables
        assert "calls" in tables  # the call records' tables are untouched beside them
        yield AccountStore(database.engine, AuthSettings(idle_timeout=timedelta(minutes=10)))


def test_password_is_hashed_and_checked(accounts: AccountStore) -> None:
    accounts.add_user("marie", PASSWORD, "quality", now=NOW)
    user = accounts.authenticate("marie", PASSWORD)
    assert user.role is Role.QUALITY
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate("marie", PASSWORD + "x")
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate("nobody", PASSWORD)
    with accounts._engine.connect() as conn:  # what is stored, not what the API returns
        stored = conn.exec_driver_sql("SELECT password_hash FROM web_users").scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_sessions_expire_when_idle_and_close_on_password_change(accounts: AccountStore) -> None:
    user = accounts.add_user("paul", PASSWORD, Role.AGENT, ("ccas",), now=NOW)
    token, session = accounts.open_session(user, now=NOW)
    assert session.expires_at == NOW + timedelta(hours=8)
    assert accounts.session(token, now=NOW + timedelta(minutes=9)).user.services == ("ccas",)
    assert accounts.session(token, now=NOW + timedelta(minutes=18)) is not None
    assert accounts.session(token, now=NOW + timedelta(minutes=29)) is None
    assert accounts.session("forged", now=NOW) is None
    token, _ = accounts.open_session(user, now=NOW)
    accounts.set_password("paul", PASSWORD + "2")
    assert accounts.session(token, now=NOW) is None


def test_removing_an_account_closes_its_sessions(accounts: AccountStore) -> None:
    user = accounts.add_user("ann", PASSWORD, Role.IT, now=NOW)
    token, _ = accounts.open_session(user, now=NOW)
    accounts.remove_user("ann")
    assert accounts.session(token, now=NOW) is None
    with pytest.raises(AccountError, match="aucun compte « ann »"):
        accounts.remove_user("ann")

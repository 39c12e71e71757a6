"""Test and benchmark helpers of the composition root: web deps over a filled database.

Used by ``tests/test_web_*``, ``tests/test_reports_*`` and ``bench/bench_web.py``; not by the
service itself.
"""

from __future__ import annotations

from datetime import datetime

from analytics.api import Indicators
from analytics.sources import DatabaseSource
from reports.accounts import AccountStore, AuthSettings, Role, upgrade_web_schema
from reports.live import InMemoryLiveFeed
from reports.presence import InMemoryAgentPresence
from reports.web.app import WebDeps
from telephony.records.engine import Database
from telephony.records.store import RecordStore

PASSWORD = "mot-de-passe-de-test"
NAMES = {"etat_civil": "État civil", "ccas": "CCAS", "accueil": "Accueil général"}


def web_deps(
    database: Database,
    store: RecordStore,
    *,
    now: datetime,
    settings: AuthSettings | None = None,
) -> WebDeps:
    """Deps with the in-memory live feed and presence, and one account per role:
    ``qualite``, ``informatique``, ``agent1`` (ccas, etat_civil), all with :data:`PASSWORD`."""
    upgrade_web_schema(database.engine)
    accounts = AccountStore(database.engine, settings or AuthSettings())
    if not accounts.users():
        accounts.add_user("qualite", PASSWORD, Role.QUALITY, now=now)
        accounts.add_user("informatique", PASSWORD, Role.IT, now=now)
        accounts.add_user("agent1", PASSWORD, Role.AGENT, ("ccas", "etat_civil"), now=now)
    source = DatabaseSource(database)
    return WebDeps(
        database=database,
        indicators=Indicators(source),
        source=source,
        accounts=accounts,
        live=InMemoryLiveFeed(),
        presence=InMemoryAgentPresence(),
        callbacks=store,
        now=lambda: now,
        service_names=dict(NAMES),
    )

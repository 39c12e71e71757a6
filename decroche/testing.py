"""Test and benchmark helpers of the composition root: web deps over a filled database.

Used by ``tests/test_web_*``, ``tests/test_reports_*`` and ``bench/bench_web.py``; not by the
service itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from analytics.api import Indicators
from analytics.figures import CHUNK_DAYS
from analytics.objectives import ObjectivesConfig
from analytics.sources import DatabaseSource
from decroche.web import CallbackDesk, ServiceStatus
from reports.accounts import AccountStore, AuthSettings, Role, upgrade_web_schema
from reports.actions import ActionBook
from reports.live import InMemoryLiveFeed
from reports.presence import InMemoryAgentPresence
from reports.reviews import ReviewBook
from reports.web.app import WebDeps
from routing_rules.kinds import Scale
from telephony.records.engine import Database
from telephony.records.store import RecordStore

PASSWORD = "mot-de-passe-de-test"
NAMES = {"etat_civil": "État civil", "ccas": "CCAS", "accueil": "Accueil général"}


def indicators_of(
    database: Database,
    *,
    objectives: ObjectivesConfig | None = None,
    scales: Mapping[str, Scale] | None = None,
) -> Indicators:
    """The indicators over ``database`` as the composition root builds them (entries, details
    and the figures of past days from the same source)."""
    source = DatabaseSource(database)
    return Indicators(
        source,
        None,
        objectives,
        details=source,
        scales=scales,
        daily=source,
        chunk_days=CHUNK_DAYS,
    )


def web_deps(
    database: Database,
    store: RecordStore,
    *,
    now: datetime,
    settings: AuthSettings | None = None,
    names: Mapping[str, str] = NAMES,
    scales: Mapping[str, Scale] | None = None,
) -> WebDeps:
    """Deps with the in-memory live feed and presence, and one account per role:
    ``qualite``, ``informatique``, ``agent1`` (ccas, etat_civil), all with :data:`PASSWORD`."""
    upgrade_web_schema(database.engine)
    accounts = AccountStore(database.engine, settings or AuthSettings())
    if not accounts.users():
        accounts.add_user("qualite", PASSWORD, Role.QUALITY, now=now)
        accounts.add_user("informatique", PASSWORD, Role.IT, now=now)
        accounts.add_user("agent1", PASSWORD, Role.AGENT, ("ccas", "etat_civil"), now=now)
    shown = dict(names)
    return WebDeps(
        indicators=lambda: indicators_of(database, scales=scales),
        names=lambda: shown,
        accounts=accounts,
        live=InMemoryLiveFeed(),
        presence=InMemoryAgentPresence(),
        callbacks=CallbackDesk(store),
        system=ServiceStatus(database, None),
        now=lambda: now,
        actions=ActionBook(database.engine),
        reviews=ReviewBook(database.engine),
    )

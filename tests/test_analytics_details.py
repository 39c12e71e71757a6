"""Per-agent, IVR and callback figures from the detailed records (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from analytics.details import agent_figures, callback_figures, callbacks_of_day, ivr_figures
from analytics.sources import DatabaseSource
from telephony.records.model import CallOutcome
from telephony.records.pseudonym import Pseudonymiser
from telephony.records.store import RecordStore
from telephony.records.testing import sample_record, temporary_database
from tests.conftest import BACKENDS, pg_url

DAY = date(2025, 3, 10)  # sample_record's day


@pytest.mark.parametrize("backend", BACKENDS)
def test_details(backend: str, tmp_path: Path) -> None:
    first = sample_record("call-1")
    second = sample_record("call-2", start=first.started_at + timedelta(hours=1))
    lost = sample_record("call-3", start=first.started_at + timedelta(hours=2))
    lost.entries = []
    lost.outcome = CallOutcome.IVR_HANGUP
    lost.callbacks = []
    other_day = sample_record("call-4", start=first.started_at + timedelta(days=3))
    with temporary_database(backend, tmp_path, pg_url()) as database:
        store = RecordStore(database, Pseudonymiser(b"k" * 32))
        store.import_records([first, second, lost, other_day])

        agents = agent_figures(DatabaseSource(database), DAY, DAY)
        assert agents["PJSIP/1001"].answered == 2
        assert agents["PJSIP/1001"].mean_ring_answered_s == pytest.approx(8.4)
        assert agents["PJSIP/1042"].missed == 2
        assert agents["PJSIP/1043"].busy == 2
        assert agents["PJSIP/1002"].presented == 2  # cancelled when 1001 answered

        ivr = ivr_figures(DatabaseSource(database), DAY, DAY)
        assert ivr.calls == 3
        assert ivr.hangups_in_ivr == 1
        assert ivr.choices == {"accueil": {"2": 3}}
        assert ivr.timeouts["accueil"] == 3

        owed = callbacks_of_day(DatabaseSource(database), DAY)
        assert [item.call_id for item in owed] == ["call-1", "call-2"]
        assert owed[0].number == "06 12 34 56 78"
        done_at = owed[0].at + timedelta(minutes=30)
        store.mark_callback_done("call-1", owed[0].position, by="agent-ccas", at=done_at)
        figures = callback_figures(DatabaseSource(database), DAY, DAY)
        assert (figures.owed, figures.done, figures.pending) == (2, 1, 1)
        assert figures.callback_rate == 0.5
        assert figures.mean_delay_s == pytest.approx(1800.0)
        after = callbacks_of_day(DatabaseSource(database), DAY)
        assert after[0].number is None and after[0].done_by == "agent-ccas"
        assert callback_figures(DatabaseSource(database), DAY, DAY, service_id="police").owed == 0
        later = datetime(2025, 3, 13, tzinfo=UTC).date()
        assert [i.call_id for i in callbacks_of_day(DatabaseSource(database), later)] == ["call-4"]

"""The monthly report carries the callers' satisfaction when surveys were answered."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from analytics.satisfaction import scales_of
from decroche.testing import indicators_of
from reports.documents import ReportInputs, ReportSettings, build_report
from reports.periods import month_period
from routing_rules.holder import RulesHolder
from routing_rules.loader import default_rules_path
from telephony.records.model import SurveyAnswer
from telephony.records.testing import fill, sample_record, temporary_database


def test_monthly_report_shows_satisfaction(tmp_path: Path) -> None:
    start = datetime(2026, 10, 6, 8, 0, tzinfo=UTC)
    record = sample_record("call-r", start=start)
    record = replace(
        record,
        survey=[
            SurveyAnswer(1, "enquete_question_accueil", start, 5),
            SurveyAnswer(2, "enquete_question_resolu", start, 1),
        ],
    )
    with temporary_database("sqlite", tmp_path) as database:
        fill(database, iter([record]))
        scales = scales_of(RulesHolder(default_rules_path()).current)
        inputs = ReportInputs(indicators_of(database, scales=scales), {}, ReportSettings())
        october = build_report(
            inputs,
            month_period("2026-10"),
            "monthly",
            generated_at=datetime(2026, 11, 1, 5, 0, tzinfo=UTC),
        )
        september = build_report(
            inputs,
            month_period("2026-09"),
            "monthly",
            generated_at=datetime(2026, 10, 1, 5, 0, tzinfo=UTC),
        )
    assert "Enquête de satisfaction : 1 enquête proposée, 1 enquête répondue" in october.html
    assert "100,0\u00a0%" in october.html
    assert "Enquête de satisfaction" not in september.html

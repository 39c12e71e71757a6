"""Satisfaction indicators from hand-built call records (SQLite, and PostgreSQL when set)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from analytics.objectives import Objective, ObjectivesConfig, Trend
from analytics.satisfaction import (
    NO_AGENT,
    Answer,
    SatisfactionError,
    SatisfactionFigures,
    SurveyedCall,
    is_satisfied,
    objectives_for,
    satisfaction_report,
    scales_of,
    surveyed_calls,
)
from analytics.sources import DatabaseSource
from routing_rules.holder import RulesHolder
from routing_rules.loader import default_rules_path
from routing_rules.model import Scale
from telephony.records.model import CallOutcome, CallRecord, SurveyAnswer
from telephony.records.pseudonym import Pseudonymiser
from telephony.records.store import RecordStore
from telephony.records.testing import sample_record, temporary_database
from tests.conftest import BACKENDS, pg_url

Q1, Q2 = "enquete_question_accueil", "enquete_question_resolu"
SCALES = {Q1: Scale.ONE_TO_FIVE, Q2: Scale.YES_NO}
# Tuesday 14 October 2026, 08:00 UTC = 10:00 in Paris.
T0 = datetime(2026, 10, 14, 8, 0, tzinfo=UTC)
DAY = T0.date()


def surveyed(
    call_id: str,
    start: datetime,
    service: str | None,
    agent: str | None,
    scores: tuple[int | None, ...] = (),
) -> CallRecord:
    record = sample_record(call_id, start=start)
    record.survey_offered = True
    record.survey_service = service
    record.survey_agent = agent
    prompts = (Q1, Q2)
    record.survey = [
        SurveyAnswer(i + 1, prompts[i], start + timedelta(seconds=170 + 8 * i), score)
        for i, score in enumerate(scores)
    ]
    return record


def hand_built() -> list[CallRecord]:
    at = [T0 + timedelta(minutes=10 * i) for i in range(8)]
    plain = sample_record("plain", start=at[6])
    plain.survey, plain.survey_offered = [], False
    plain.survey_service = plain.survey_agent = None
    abandoned = surveyed("abandoned", at[5], "ccas", None)
    abandoned.outcome = CallOutcome.ABANDONED
    return [
        surveyed("a", at[0], "accueil-general", "PJSIP/1001", (5, 1)),  # 2 satisfied
        surveyed("b", at[1], "accueil-general", "PJSIP/1001", (3, 2)),  # 0 satisfied
        surveyed("c", at[2], "accueil-general", "PJSIP/1002", (4, None)),  # partial: 1 satisfied
        surveyed("d", at[3], "accueil-general", "PJSIP/1002", (None, None)),  # asked, no key
        surveyed("e", at[4], "ccas", "PJSIP/1101"),  # caller hung up first
        abandoned,  # heard the consent, nobody answered
        plain,  # not sampled
        # The day before in Paris (23:30 local), and the previous period for trends.
        surveyed(
            "late",
            datetime(2026, 10, 13, 21, 30, tzinfo=UTC),
            "accueil-general",
            "PJSIP/1001",
            (1,),
        ),
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_figures_per_service_agent_and_period(backend: str, tmp_path: Path) -> None:
    with temporary_database(backend, tmp_path, pg_url()) as database:
        RecordStore(database, Pseudonymiser(b"k" * 32)).import_records(hand_built())

        calls = surveyed_calls(DatabaseSource(database), DAY, DAY)
        assert [c.call_id for c in calls] == ["a", "b", "c", "d", "e", "abandoned"]
        assert [a.score for a in calls[2].answers] == [4, None]
        assert calls[2].responded and not calls[3].responded

        report = satisfaction_report(DatabaseSource(database), DAY, DAY, SCALES, by="day")
    total = report.total.figures
    assert (total.offered, total.reached, total.responded) == (6, 5, 3)
    assert total.answers == 5  # 5, 1, 3, 2, 4
    assert total.satisfied == 3  # 5, oui, 4
    assert total.response_rate == pytest.approx(3 / 5)
    assert total.mean_score == pytest.approx((5 + 3 + 4) / 3)
    assert total.share_satisfied == pytest.approx(3 / 5)

    accueil = report.services["accueil-general"].figures
    assert (accueil.offered, accueil.responded, accueil.answers, accueil.satisfied) == (4, 3, 5, 3)
    ccas = report.services["ccas"].figures
    assert (ccas.offered, ccas.reached, ccas.responded, ccas.share_satisfied) == (2, 1, 0, None)
    assert ccas.response_rate == 0.0

    assert report.agents["PJSIP/1001"].figures.share_satisfied == pytest.approx(2 / 4)
    assert report.agents["PJSIP/1002"].figures.share_satisfied == 1.0
    assert report.agents[NO_AGENT].figures.offered == 1
    assert list(report.periods) == ["2026-10-14"]

    # Objective: share satisfied >= 80 % by default; trend against the day before (1 -> no).
    by_name = {a.indicator: a for a in report.services["accueil-general"].assessments}
    share = by_name["share_satisfied"]
    assert share.objective == Objective(target=0.80, kind="min")
    assert share.met is False
    assert share.previous == 0.0 and share.trend is Trend.BETTER
    assert report.agents["PJSIP/1002"].assessments[2].met is True
    assert by_name["response_rate"].objective is None and by_name["response_rate"].met is None
    assert by_name["mean_score"].previous == 1.0

    document = report.as_dict()
    assert document["services"]["accueil-general"]["mean_score"] == pytest.approx(4.0)
    assert document["services"]["accueil-general"]["objectives"][2]["met"] is False


@pytest.mark.parametrize("backend", BACKENDS)
def test_local_dates_and_empty_period(backend: str, tmp_path: Path) -> None:
    with temporary_database(backend, tmp_path, pg_url()) as database:
        RecordStore(database, Pseudonymiser(b"k" * 32)).import_records(hand_built())
        before = surveyed_calls(DatabaseSource(database), date(2026, 10, 13), date(2026, 10, 13))
        # 21:30 UTC on the 13th is 23:30 in Paris: still the 13th.
        assert [c.call_id for c in before] == ["late"]
        empty = satisfaction_report(
            DatabaseSource(database), date(2026, 11, 1), date(2026, 11, 30), SCALES
        )
        assert empty.total.figures.offered == 0
        assert empty.services == {} and empty.periods == {}
        assert all(a.value is None and a.met is None for a in empty.total.assessments)
        with pytest.raises(ValueError, match="before it starts"):
            surveyed_calls(DatabaseSource(database), DAY, DAY - timedelta(days=1))


def test_unknown_prompt_is_counted_apart() -> None:
    call = SurveyedCall("x", T0, "accueil-general", "PJSIP/1001")
    record = surveyed("x", T0, "accueil-general", "PJSIP/1001", (5, 1))
    call.answers = [Answer(a.question, a.prompt_id, a.at, a.score) for a in record.survey]
    figures = SatisfactionFigures()
    figures.add(call, {Q1: Scale.ONE_TO_FIVE})  # Q2 no longer in the rules
    assert (figures.answers, figures.unknown_scale, figures.satisfied) == (2, 1, 1)
    assert figures.share_satisfied == 1.0
    assert figures.mean_score == 5.0


def test_scales_from_the_bernay_rules_and_conflicts() -> None:
    rules = RulesHolder(default_rules_path()).current
    assert scales_of(rules) == SCALES
    assert is_satisfied(Scale.ONE_TO_FIVE, 4) and not is_satisfied(Scale.ONE_TO_FIVE, 3)
    assert is_satisfied(Scale.YES_NO, 1) and not is_satisfied(Scale.YES_NO, 2)


def test_prompt_with_two_scales_is_refused(tmp_path: Path) -> None:
    text = default_rules_path().read_text(encoding="utf-8")
    text = text.replace(
        "{id: resolu, prompt: enquete_question_resolu, scale: oui-non}",
        "{id: resolu, prompt: enquete_question_accueil, scale: oui-non}",
    )
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    rules = RulesHolder(path).current
    with pytest.raises(SatisfactionError, match=r"enquete_question_accueil.*questions\.resolu"):
        scales_of(rules)


def test_objectives_from_configuration() -> None:
    config = ObjectivesConfig(
        default={"response_rate": Objective(target=0.3, kind="min")},
        services={"ccas": {"share_satisfied": Objective(target=0.9, kind="min")}},
    )
    assert objectives_for(None, "ccas") == {"share_satisfied": Objective(target=0.8, kind="min")}
    ccas = objectives_for(config, "ccas")
    assert ccas["share_satisfied"].target == 0.9
    assert ccas["response_rate"].target == 0.3
    assert objectives_for(config, "accueil")["share_satisfied"].target == 0.8

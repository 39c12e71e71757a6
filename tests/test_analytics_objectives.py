from datetime import date

import pytest

from analytics.definitions import Counts
from analytics.objectives import (
    Objective,
    ObjectivesConfig,
    Trend,
    assess,
    previous_period,
)


def test_defaults_follow_the_plan_telephone() -> None:
    defaults = ObjectivesConfig().for_service("ccas")
    assert defaults["answer_rate"] == Objective(target=0.85, kind="min")
    assert defaults["service_level"] == Objective(target=0.80, kind="min")
    assert defaults["abandonment_rate"] == Objective(target=0.10, kind="max")


def test_service_override() -> None:
    config = ObjectivesConfig.model_validate(
        {"services": {"police": {"answer_rate": {"target": 0.95, "kind": "min"}}}}
    )
    assert config.for_service("police")["answer_rate"].target == 0.95
    assert config.for_service("ccas")["answer_rate"].target == 0.85


@pytest.mark.parametrize(
    ("counts", "previous", "indicator", "met", "trend"),
    [
        # 85 answered of a base of 100: exactly at the objective is met.
        (Counts(100, 85, 80, 10, 0, 5, 850.0), None, "answer_rate", True, Trend.UNKNOWN),
        (
            Counts(100, 84, 80, 10, 0, 6, 840.0),
            Counts(100, 90, 80, 5, 0, 5, 900.0),
            "answer_rate",
            False,
            Trend.WORSE,
        ),
        (
            Counts(100, 90, 80, 10, 0, 0, 900.0),
            Counts(100, 80, 80, 20, 0, 0, 800.0),
            "abandonment_rate",
            True,
            Trend.BETTER,
        ),
        (
            Counts(100, 90, 80, 11, 0, 0, 900.0),
            Counts(100, 90, 80, 11, 0, 0, 900.0),
            "abandonment_rate",
            False,
            Trend.STABLE,
        ),
        (Counts(2, 0, 0, 2, 2, 0, 0.0), None, "service_level", None, Trend.UNKNOWN),
    ],
)
def test_assessment(counts, previous, indicator, met, trend) -> None:
    by_name = {
        a.indicator: a for a in assess(counts, ObjectivesConfig().for_service(None), previous)
    }
    assert by_name[indicator].met is met
    assert by_name[indicator].trend is trend


def test_status_text_is_french_and_explicit() -> None:
    (answer,) = assess(
        Counts(10, 5, 5, 5, 0, 0, 0.0), ObjectivesConfig().default, None, ("answer_rate",)
    )
    assert answer.status_fr == "objectif non atteint"


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 10, 1), date(2026, 10, 31), (date(2026, 9, 1), date(2026, 9, 30))),
        (date(2026, 3, 1), date(2026, 3, 31), (date(2026, 2, 1), date(2026, 2, 28))),
        (date(2026, 1, 1), date(2026, 12, 31), (date(2025, 1, 1), date(2025, 12, 31))),
        (date(2026, 1, 1), date(2026, 1, 31), (date(2025, 12, 1), date(2025, 12, 31))),
        (date(2026, 10, 5), date(2026, 10, 11), (date(2026, 9, 28), date(2026, 10, 4))),
    ],
)
def test_previous_period(start, end, expected) -> None:
    assert previous_period(start, end) == expected

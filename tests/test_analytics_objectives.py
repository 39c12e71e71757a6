from datetime import date

import pytest

from analytics.definitions import Commitment, Counts
from analytics.objectives import (
    Comparison,
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


# --- the trend in words: the quality's direction, the same for every indicator ---------------

NB = "\u00a0"


def _counts(answered: int, within: int, abandoned: int, wait_s: float) -> Counts:
    """100 offered calls, no short abandon; ``wait_s``: the mean wait of the answered ones."""
    return Counts(
        offered=100,
        answered=answered,
        answered_within_target=within,
        abandoned=abandoned,
        overflowed=100 - answered - abandoned,
        wait_answered_sum_s=wait_s * answered,
    )


BEFORE = _counts(answered=85, within=80, abandoned=4, wait_s=12.8)


@pytest.mark.parametrize(
    ("indicator", "now", "trend", "words"),
    [
        # Rates that are better higher.
        ("answer_rate", _counts(90, 80, 4, 12.8), Trend.BETTER, "s'améliore"),
        ("answer_rate", _counts(80, 80, 4, 12.8), Trend.WORSE, "se dégrade"),
        ("service_level", _counts(85, 84, 4, 12.8), Trend.BETTER, "s'améliore"),
        ("service_level", _counts(85, 70, 4, 12.8), Trend.WORSE, "se dégrade"),
        # The abandonment rate is better lower: rising, it degrades (never "en baisse").
        ("abandonment_rate", _counts(85, 80, 6, 12.8), Trend.WORSE, "se dégrade"),
        ("abandonment_rate", _counts(85, 80, 2, 12.8), Trend.BETTER, "s'améliore"),
        # The wait is better shorter.
        ("mean_wait_answered_s", _counts(85, 80, 4, 14.0), Trend.WORSE, "se dégrade"),
        ("mean_wait_answered_s", _counts(85, 80, 4, 11.0), Trend.BETTER, "s'améliore"),
        # Equal, and below the stated thresholds: stable.
        ("answer_rate", BEFORE, Trend.STABLE, "stable (écart de moins de 0,5 point ;"),
        ("abandonment_rate", BEFORE, Trend.STABLE, "stable (écart de moins de 0,5 point ;"),
        ("mean_wait_answered_s", BEFORE, Trend.STABLE, f"stable (écart de moins de 0,5{NB}s ;"),
        (
            "mean_wait_answered_s",
            _counts(85, 80, 4, 13.2),
            Trend.STABLE,
            f"stable (écart de moins de 0,5{NB}s ;",
        ),
    ],
)
def test_the_trend_says_the_quality_s_direction_with_the_previous_value(
    indicator: str, now: Counts, trend: Trend, words: str
) -> None:
    (assessment,) = assess(now, ObjectivesConfig().default, BEFORE, (indicator,))
    assert assessment.trend is trend
    assert assessment.trend_sentence.startswith(words)
    previous = {
        "answer_rate": f"85,0{NB}%",
        "service_level": f"80,0{NB}%",
        "abandonment_rate": f"4,0{NB}%",
        "mean_wait_answered_s": f"12,8{NB}s",
    }[indicator]
    assert assessment.trend_sentence.endswith(f"période précédente : {previous})")


@pytest.mark.parametrize("indicator", ["answer_rate", "abandonment_rate", "mean_wait_answered_s"])
def test_a_period_whose_first_day_is_not_over_says_so(indicator: str) -> None:
    (assessment,) = assess(
        _counts(10, 10, 1, 30.0), ObjectivesConfig().default, BEFORE, (indicator,), incomplete=True
    )
    assert assessment.trend is Trend.INCOMPLETE
    assert assessment.trend_sentence.startswith("période incomplète (période précédente : ")


def test_a_running_period_compares_the_days_elapsed_not_the_whole_period() -> None:
    # The dashboard's value is the month so far; its trend compares the same days.
    (assessment,) = assess(
        _counts(60, 60, 30, 30.0),  # December so far (with today's calls)
        ObjectivesConfig().default,
        _counts(90, 80, 2, 12.8),  # the same days of November
        ("answer_rate",),
        compared=_counts(95, 90, 1, 10.0),  # December's finished days
    )
    assert assessment.value == 0.6
    assert assessment.trend is Trend.BETTER  # 95 % against 90 %, like with like


@pytest.mark.parametrize(
    ("start", "end", "today", "running", "compared", "previous"),
    [
        # Finished: the whole period against the whole previous one.
        (date(2026, 11, 1), date(2026, 11, 30), date(2026, 12, 2), False,
         (date(2026, 11, 1), date(2026, 11, 30)), (date(2026, 10, 1), date(2026, 10, 31))),
        # December on the 2nd: its 1st against 1 November.
        (date(2026, 12, 1), date(2026, 12, 31), date(2026, 12, 2), True,
         (date(2026, 12, 1), date(2026, 12, 1)), (date(2026, 11, 1), date(2026, 11, 1))),
        # 31 March running: 30 days of March against all of February (28 days).
        (date(2026, 3, 1), date(2026, 3, 31), date(2026, 3, 31), True,
         (date(2026, 3, 1), date(2026, 3, 30)), (date(2026, 2, 1), date(2026, 2, 28))),
    ],
)  # fmt: skip
def test_the_comparison_of_a_period(start, end, today, running, compared, previous) -> None:
    comparison = Comparison.of(start, end, today)
    assert comparison.running is running
    assert not comparison.incomplete
    assert comparison.compared == compared
    assert comparison.previous_compared == previous
    assert ("Période en cours" in comparison.words()) is running


def test_the_first_day_of_a_period_is_incomplete() -> None:
    comparison = Comparison.of(date(2026, 12, 1), date(2026, 12, 31), date(2026, 12, 1))
    assert comparison.incomplete
    assert "période incomplète" in comparison.words()


# --- the commitment in the town's own words ---------------------------------------------------


@pytest.mark.parametrize(
    ("words", "rings", "before", "limit", "wait_words"),
    [
        ("en 5 sonneries", 5, False, 25.0, f"attente ≤{NB}25{NB}s"),
        ("décroché en 4 sonneries", 4, False, 20.0, f"attente ≤{NB}20{NB}s"),
        ("avant la 5e sonnerie", 5, True, 20.0, f"attente <{NB}20{NB}s"),
        ("Avant la 4ème sonnerie", 4, True, 15.0, f"attente <{NB}15{NB}s"),
    ],
)
def test_a_commitment_reads_as_the_quality_plan_words_it(
    words: str, rings: int, before: bool, limit: float, wait_words: str
) -> None:
    commitment = Commitment.parse(words)
    assert (commitment.rings, commitment.before) == (rings, before)
    assert commitment.limit_s(5.0) == limit
    assert commitment.wait_words(5.0) == wait_words


def test_a_commitment_is_kept_exactly_as_worded() -> None:
    import numpy as np

    waits = np.array([19.999, 20.0, 24.999, 25.0, 25.001])
    assert Commitment(5).within(waits, 5.0).tolist() == [True, True, True, True, False]
    assert Commitment(5, before=True).within(waits, 5.0).tolist() == [
        True,
        False,
        False,
        False,
        False,
    ]


def test_the_configuration_names_the_commitment_per_service() -> None:
    config = ObjectivesConfig.model_validate(
        {
            "services": {
                "accueil": {
                    "service_level": {
                        "target": 0.8,
                        "kind": "min",
                        "commitment": "avant la 5e sonnerie",
                    }
                }
            }
        }
    )
    assert config.commitment_for("accueil") == Commitment(5, before=True)
    assert config.commitment_for("ccas") is None
    assert config.commitments() == {"accueil": Commitment(5, before=True)}
    with pytest.raises(ValueError, match="en N sonneries"):
        ObjectivesConfig.model_validate(
            {"default": {"service_level": {"target": 0.8, "kind": "min", "commitment": "vite"}}}
        )
    with pytest.raises(ValueError, match="ne s'écrit que sur service_level"):
        ObjectivesConfig.model_validate(
            {
                "default": {
                    "answer_rate": {"target": 0.8, "kind": "min", "commitment": "en 5 sonneries"}
                }
            }
        )

"""Which satisfaction survey, if any, a call is sampled for."""

from __future__ import annotations

from routing_rules.compiled import CompiledRules, SurveyRules


def survey_for(rules: CompiledRules, service_id: str, call_number: int) -> SurveyRules | None:
    """The first survey covering the service whose sampling picks this call.

    ``call_number`` is the flow's count of answered calls of the service (0, 1, 2...): with
    ``one_in: N`` the calls 0, N, 2N... are surveyed. Deterministic, so testable.
    """
    for survey in rules.surveys.values():
        if survey.services is not None and service_id not in survey.services:
            continue
        if call_number % survey.one_in == 0:
            return survey
    return None

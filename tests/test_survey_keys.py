"""The survey's pure decisions (keys, sampling) and its questions against a scripted voice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from routing_rules.compiled import QuestionRules, SurveyRules
from routing_rules.holder import RulesHolder
from routing_rules.loader import default_rules_path
from routing_rules.model import Scale
from telephony.flow.session import CallerHungUp
from telephony.flow.survey import (
    KeyReading,
    KeyVerdict,
    ask_survey,
    read_key,
    sample_number,
    survey_of_call,
)
from telephony.records.model import SurveyAnswer

T0 = datetime(2026, 10, 14, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("scale", "key", "plays", "reading"),
    [
        (Scale.ONE_TO_FIVE, "1", 1, KeyReading(KeyVerdict.SCORE, 1)),
        (Scale.ONE_TO_FIVE, "5", 2, KeyReading(KeyVerdict.SCORE, 5)),
        (Scale.ONE_TO_FIVE, "6", 1, KeyReading(KeyVerdict.REPEAT)),
        (Scale.ONE_TO_FIVE, "0", 2, KeyReading(KeyVerdict.NO_ANSWER)),
        (Scale.ONE_TO_FIVE, None, 1, KeyReading(KeyVerdict.NO_ANSWER)),
        (Scale.YES_NO, "1", 1, KeyReading(KeyVerdict.SCORE, 1)),
        (Scale.YES_NO, "2", 1, KeyReading(KeyVerdict.SCORE, 2)),
        (Scale.YES_NO, "3", 1, KeyReading(KeyVerdict.REPEAT)),
        (Scale.YES_NO, "*", 2, KeyReading(KeyVerdict.NO_ANSWER)),
        (Scale.YES_NO, None, 2, KeyReading(KeyVerdict.NO_ANSWER)),
    ],
)
def test_read_key(scale: Scale, key: str | None, plays: int, reading: KeyReading) -> None:
    assert read_key(scale, key, plays) == reading


def test_sampling_is_stable_and_about_one_in_n() -> None:
    assert sample_number("1760428800.12") == sample_number("1760428800.12")
    assert sample_number("1760428800.12") != sample_number("1760428800.13")
    # Asterisk-like ids, consecutive: about 1 in 5 picked (binomial, 10 000 draws: sd 40).
    picked = sum(sample_number(f"1760428800.{n}") % 5 == 0 for n in range(10_000))
    assert 1_800 < picked < 2_200
    rules = RulesHolder(default_rules_path()).current
    chosen = [survey_of_call(rules, "ccas", f"1760428800.{n}") for n in range(50)]
    assert {s.id for s in chosen if s is not None} == {"satisfaction"}
    expected = [sample_number(f"1760428800.{n}") % 5 == 0 for n in range(50)]
    assert [s is not None for s in chosen] == expected


SURVEY = SurveyRules(
    id="s",
    services=None,
    one_in=1,
    consent_prompt="consent",
    thanks_prompt="thanks",
    timeout_s=6.0,
    questions=(
        QuestionRules("q1", "p1", Scale.ONE_TO_FIVE),
        QuestionRules("q2", "p2", Scale.YES_NO),
    ),
)


class ScriptedVoice:
    """Plays nothing: each play or wait takes the next scripted key (``"hangup"`` hangs up)."""

    def __init__(self, keys: Sequence[str | None], *, during_play: bool = True) -> None:
        self.keys = list(keys)
        self.during_play = during_play
        self.played: list[str] = []
        self.now = T0

    def _tick(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def _next(self) -> str | None:
        key = self.keys.pop(0) if self.keys else None
        if key == "hangup":
            raise CallerHungUp(self._tick())
        return key

    async def play(
        self, prompts: Sequence[str], *, barge_in: bool, keys: str = ""
    ) -> tuple[str | None, datetime]:
        self.played.extend(prompts)
        if not barge_in or not self.during_play:
            return None, self._tick()
        return self._next(), self._tick()

    async def wait_key(self, timeout_s: float, keys: str = "") -> tuple[str | None, datetime]:
        return self._next(), self._tick()


class Answers:
    def __init__(self) -> None:
        self.got: list[SurveyAnswer] = []

    def survey_answer(self, answer: SurveyAnswer) -> None:
        self.got.append(answer)


async def test_questions_in_order_with_a_repeat_then_thanks() -> None:
    voice, answers = ScriptedVoice(["7", "4", "1"]), Answers()
    await ask_survey(voice, answers, SURVEY, started_at=T0)
    assert [(a.question, a.prompt_id, a.score) for a in answers.got] == [(1, "p1", 4), (2, "p2", 1)]
    assert voice.played == ["p1", "p1", "p2", "thanks"]
    assert answers.got[0].at < answers.got[1].at


async def test_key_after_the_prompt_and_no_key() -> None:
    # Keys come while waiting after each prompt: the first a 5, then nothing.
    voice, answers = ScriptedVoice(["5", None], during_play=False), Answers()
    await ask_survey(voice, answers, SURVEY, started_at=T0)
    assert [a.score for a in answers.got] == [5, None]
    assert voice.played == ["p1", "p2", "thanks"]


async def test_hang_up_during_a_question_keeps_the_answers() -> None:
    voice, answers = ScriptedVoice(["2", "hangup"]), Answers()
    with pytest.raises(CallerHungUp) as caught:
        await ask_survey(voice, answers, SURVEY, started_at=T0)
    assert [(a.question, a.score) for a in answers.got] == [(1, 2), (2, None)]
    assert answers.got[1].at == caught.value.at
    assert "thanks" not in voice.played

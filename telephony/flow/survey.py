"""The post-call satisfaction survey by keypad: which calls are asked, and the questions.

How it goes (the reasons are in ``docs/enquete.md``):

- The call is **sampled when it is about to ring a service** (the service is known only then,
  after the voice menu): :func:`survey_of_call` asks ``routing_rules.routing.survey_for`` with a
  number drawn from the call id, not a counter. A counter of calls per service would be exact but
  would start again at each restart, differ between processes, and — with agents rung in turn —
  could pick the same agent's calls every time; the call id's hash is none of these, and gives
  1 call in N on average.
- A sampled caller hears the consent prompt while the agents' phones ring, in place of the
  ring-back (it tells them to stay on the line to answer, or to hang up at the end to skip it),
  the ring-back after it; an agent answering cuts it short. The caller reaches an agent as fast
  as any other and their wait counts from the choice of the service (issue 15, defect 8).
  ``survey_offered`` is then true.
- When the agent hangs up first, the caller, still on the line, hears each question. A key out
  of the scale repeats the question once; no key within the survey's ``timeout_s`` moves on
  (recorded with no score). A thank-you ends the call.
- When the caller hangs up first, nothing is asked: the record keeps ``survey_offered`` with no
  answers. A caller hanging up during the questions keeps the answers already given, and the
  question they left on is recorded with no score.

The reading of keys is pure (:func:`read_key`); :func:`ask_survey` does the playing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from routing_rules.compiled import CompiledRules, QuestionRules, SurveyRules
from routing_rules.kinds import Scale
from routing_rules.routing import survey_for
from telephony.flow.session import CallerHungUp
from telephony.records.model import SurveyAnswer

# The keys each scale accepts; anything else is an invalid key.
SCALE_KEYS: dict[Scale, str] = {Scale.ONE_TO_FIVE: "12345", Scale.YES_NO: "12"}

# Every key a caller may press: a key outside the scale must be heard to be refused.
_ANY_KEY = "0123456789*#"

# How many times a question is played at most (an invalid key repeats it once).
MAX_PLAYS = 2


def sample_number(call_id: str) -> int:
    """A stable, evenly spread number for a call: the same call id always gives the same one."""
    digest = hashlib.blake2b(call_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def survey_of_call(rules: CompiledRules, service_id: str, call_id: str) -> SurveyRules | None:
    """The survey this call is sampled for when it rings ``service_id``, if any."""
    return survey_for(rules, service_id, sample_number(call_id))


class KeyVerdict(StrEnum):
    SCORE = "score"  # a valid answer
    REPEAT = "repeat"  # invalid key: play the question again
    NO_ANSWER = "no_answer"  # timeout, or invalid again: move on


@dataclass(frozen=True, slots=True)
class KeyReading:
    verdict: KeyVerdict
    score: int | None = None


def read_key(scale: Scale, key: str | None, plays: int) -> KeyReading:
    """What a key (None: no key in time) means after the question was played ``plays`` times."""
    if key is None:
        return KeyReading(KeyVerdict.NO_ANSWER)
    if key in SCALE_KEYS[scale]:
        return KeyReading(KeyVerdict.SCORE, int(key))
    if plays < MAX_PLAYS:
        return KeyReading(KeyVerdict.REPEAT)
    return KeyReading(KeyVerdict.NO_ANSWER)


class SurveyVoice(Protocol):
    """What the survey needs of the call (``telephony.flow.session.CallSession``)."""

    async def play(
        self, prompts: Sequence[str], *, barge_in: bool, keys: str = ...
    ) -> tuple[str | None, datetime]: ...

    async def wait_key(self, timeout_s: float, keys: str = ...) -> tuple[str | None, datetime]: ...


class AnswerSink(Protocol):
    """Where answers go (``telephony.flow.story.CallStory``)."""

    def survey_answer(self, answer: SurveyAnswer) -> None: ...


async def ask_question(
    voice: SurveyVoice, question: QuestionRules, timeout_s: float
) -> tuple[int | None, datetime]:
    """Play one question and read the caller's key; returns the score (or None) and when."""
    plays = 0
    while True:
        plays += 1
        key, at = await voice.play((question.prompt,), barge_in=True, keys=_ANY_KEY)
        if key is None:
            key, at = await voice.wait_key(timeout_s, keys=_ANY_KEY)
        reading = read_key(question.scale, key, plays)
        if reading.verdict is not KeyVerdict.REPEAT:
            return reading.score, at


async def ask_survey(
    voice: SurveyVoice, answers: AnswerSink, survey: SurveyRules, *, started_at: datetime
) -> None:
    """Ask every question in order, then thank the caller.

    Each answer is told to ``answers`` as soon as it is known, so a caller hanging up keeps what
    they answered; the question being asked then is recorded with no score, dated by the
    hang-up, and :class:`CallerHungUp` goes on up.
    """
    for number, question in enumerate(survey.questions, start=1):
        try:
            score, at = await ask_question(voice, question, survey.timeout_s)
        except CallerHungUp as exc:
            answers.survey_answer(SurveyAnswer(number, question.prompt, exc.at, None))
            raise
        answers.survey_answer(SurveyAnswer(number, question.prompt, max(at, started_at), score))
    await voice.play((survey.thanks_prompt,), barge_in=False)

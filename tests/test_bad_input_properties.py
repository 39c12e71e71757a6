"""Bad input of any kind gets a clear, typed error — never a crash (property tests).

ARI frames, routing rules files and queue_log lines are generated at random, and mutated from
real ones; each must be accepted or refused with the project's own error, naming what is wrong.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr_prompts.catalogue import load_catalogue
from routing_rules.errors import RulesInvalid
from routing_rules.loader import default_rules_path, validate_text
from telephony.ari.errors import AriEventError
from telephony.ari.events import parse_event
from telephony.records.queue_log import parse_queue_log

CATALOGUE = frozenset(load_catalogue())
BERNAY = default_rules_path().read_text(encoding="utf-8")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
EVENT_TYPES = st.sampled_from(
    [
        "StasisStart",
        "StasisEnd",
        "Dial",
        "ChannelDtmfReceived",
        "PlaybackFinished",
        "ChannelHangupRequest",
        "ChannelDestroyed",
        "NoSuchEvent",
        "",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_parse_or_raise_ari_event_error(raw: bytes) -> None:
    try:
        event = parse_event(raw)
    except AriEventError as exc:
        assert str(exc)
    else:
        assert event.type


@settings(max_examples=300, deadline=None)
@given(EVENT_TYPES, st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_event_shaped_objects_parse_or_raise_ari_event_error(kind: str, fields: dict) -> None:
    frame = json.dumps({**fields, "type": kind})
    try:
        event = parse_event(frame)
    except AriEventError as exc:
        assert str(exc)
    else:
        assert event.type == kind


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=len(BERNAY) - 1), st.text(max_size=6))
def test_mutated_rules_are_valid_or_refused_with_located_problems(at: int, junk: str) -> None:
    text = BERNAY[:at] + junk + BERNAY[at + len(junk) :]
    try:
        validate_text(text, "bernay.yaml", CATALOGUE)
    except RulesInvalid as exc:
        assert exc.problems
        for problem in exc.problems:
            assert str(problem).startswith("bernay.yaml:")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(alphabet="0123456789|ABCDEFGHIJKLMNOPQRSTUVWXYZ.-_ ", max_size=60), max_size=20
    )
)
def test_any_queue_log_lines_are_parsed_or_counted(lines: list[str]) -> None:
    records, report = parse_queue_log(lines)
    assert report.lines == len(lines)
    assert report.malformed_count <= len(lines)
    for record in records:
        for entry in record.entries:
            assert entry.ended_at >= entry.entered_at


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=80), max_size=20))
def test_any_queue_log_bytes_are_parsed_or_counted(lines: list[bytes]) -> None:
    records, report = parse_queue_log(lines)
    assert report.lines == len(lines)
    for record in records:
        for text in (record.call_id, record.dialled, *(e.service_id for e in record.entries)):
            assert "\x00" not in text

"""Generated ARI models and event parsing, over every event recorded from a real Asterisk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from telephony.ari import models as m
from telephony.ari.api_schema import load_api_schema
from telephony.ari.errors import AriEventError
from telephony.ari.events import EVENT_TYPES, UnknownEvent, parse_event, parse_event_object
from telephony.ari.traces import trace_events

REPO = Path(__file__).resolve().parent.parent


def _all_trace_events(traces_dir: Path) -> list[tuple[str, dict]]:
    found = []
    for path in sorted(traces_dir.glob("*.jsonl")):
        found += [(path.name, event) for event in trace_events(path)]
    return found


def test_generated_models_are_up_to_date() -> None:
    # From the committed schema only, with a PATH that has no ruff: the generator needs Python.
    done = subprocess.run(
        [sys.executable, str(REPO / "tools" / "gen_ari_models.py"), "--no-docs", "--check"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PATH": os.defpath},
    )
    assert done.returncode == 0, done.stderr


def test_every_documented_event_has_a_class() -> None:
    documented = load_api_schema()["models"]["Event"]
    assert len(documented["subTypes"]) > 40
    assert set(documented["subTypes"]) == EVENT_TYPES
    for name in EVENT_TYPES:
        cls = m.EVENT_CLASSES[name]
        assert cls.model_fields["type"].default == name


def test_every_trace_event_parses_into_its_class(traces_dir: Path) -> None:
    events = _all_trace_events(traces_dir)
    assert len(events) > 900
    seen = set()
    for name, raw in events:
        event = parse_event(json.dumps(raw))
        assert type(event) is m.EVENT_CLASSES[raw["type"]], (name, raw["type"])
        assert not isinstance(event, UnknownEvent)
        # Nothing is lost: dumping by alias gives back every field Asterisk sent.
        dumped = event.model_dump(mode="json", by_alias=True, exclude_unset=True)
        assert set(dumped) == set(raw), (name, raw["type"])
        assert event.timestamp.tzinfo is not None
        seen.add(raw["type"])
    assert {"StasisStart", "StasisEnd", "Dial", "ChannelDestroyed", "PlaybackFinished"} <= seen
    assert {"BridgeBlindTransfer", "ChannelTransfer", "ChannelDtmfReceived"} <= seen


def test_trace_object_and_bytes_parsing_agree(traces_dir: Path) -> None:
    for _, raw in _all_trace_events(traces_dir)[:200]:
        assert parse_event_object(raw) == parse_event(json.dumps(raw).encode())


def test_caller_bye_has_no_cause_and_busy_agent_has_486(traces_dir: Path) -> None:
    hangups = [
        parse_event_object(e)
        for e in trace_events(traces_dir / "ivr-then-agent-answers.jsonl")
        if e["type"] == "ChannelHangupRequest"
    ]
    assert isinstance(hangups[0], m.ChannelHangupRequest)
    assert hangups[0].cause is None
    destroyed = [
        parse_event_object(e)
        for e in trace_events(traces_dir / "agent-busy.jsonl")
        if e["type"] == "ChannelDestroyed"
    ]
    assert isinstance(destroyed[0], m.ChannelDestroyed)
    assert (destroyed[0].cause, destroyed[0].cause_txt) == (17, "User busy")
    assert destroyed[0].tech_cause == 486


def test_timestamps_are_aware_datetimes() -> None:
    event = parse_event(
        b'{"type":"StasisEnd","timestamp":"2026-11-29T01:58:03.224+0000","application":"a",'
        b'"channel":{"id":"1.1","name":"PJSIP/x","state":"Up","protocol_id":"",'
        b'"caller":{"name":"","number":""},"connected":{"name":"","number":""},'
        b'"accountcode":"","dialplan":{"context":"c","exten":"s","priority":1,'
        b'"app_name":"Stasis","app_data":"a"},'
        b'"creationtime":"2026-11-29T01:58:00.000+0000","language":"fr"}}'
    )
    assert isinstance(event, m.StasisEnd)
    assert event.timestamp == datetime(2026, 11, 29, 1, 58, 3, 224000, tzinfo=UTC)
    assert event.channel.language == "fr"


def test_unknown_fields_are_kept_at_every_level(traces_dir: Path) -> None:
    raw = next(trace_events(traces_dir / "ivr-then-agent-answers.jsonl"))
    raw = json.loads(json.dumps(raw))
    raw["brand_new"] = {"x": 1}
    raw["channel"]["tenant_colour"] = "blue"
    event = parse_event(json.dumps(raw))
    assert isinstance(event, m.StasisStart)
    assert event.model_extra == {"brand_new": {"x": 1}}
    assert event.channel.model_extra == {"tenant_colour": "blue"}


def test_unknown_event_type_is_kept() -> None:
    event = parse_event(
        '{"type":"ChannelTeleported","timestamp":"2026-11-29T01:58:03.224+0000",'
        '"application":"a","channel":{"id":"9.9"},"where":"mars"}'
    )
    assert isinstance(event, UnknownEvent)
    assert event.type == "ChannelTeleported"
    assert event.model_extra == {"channel": {"id": "9.9"}, "where": "mars"}


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'"StasisStart"', "not a JSON object"),
        (b'{"timestamp": "2026-11-29T01:58:03.224+0000"}', "no 'type'"),
        (b'{"type": 12}', "'type' is not a name"),
        (b'{"type": "MissingParams", "params": ["app"]}', "missing parameters ['app']"),
        (
            b'{"type": "Dial", "application": "a", "timestamp": "2026-11-29T01:58:03.224+0000",'
            b' "dialstatus": "RINGING"}',
            "Dial event is invalid: peer: Field required",
        ),
        (
            b'{"type": "StasisEnd", "application": "a", "timestamp": "yesterday", "channel": {}}',
            "StasisEnd event is invalid: timestamp",
        ),
        (b'{"type": "Teleported"}', "Teleported event (unknown type) is invalid"),
    ],
)
def test_malformed_frames_raise_a_named_error(frame: bytes, expected: str) -> None:
    with pytest.raises(AriEventError) as caught:
        parse_event(frame)
    assert expected in str(caught.value)


def test_events_are_immutable(traces_dir: Path) -> None:
    event = parse_event_object(next(trace_events(traces_dir / "agent-busy.jsonl")))
    with pytest.raises(Exception, match="frozen"):
        event.application = "other"  # type: ignore[misc]


def test_events_can_be_built_without_repeating_their_type() -> None:
    event = m.ChannelDtmfReceived(
        application="bernay",
        timestamp=datetime(2026, 11, 29, tzinfo=UTC),
        digit="2",
        duration_ms=280,
        channel=m.Channel(
            id="1.2",
            protocol_id="",
            name="PJSIP/caller1-1",
            state="Up",
            caller=m.CallerID(name="", number="0600000001"),
            connected=m.CallerID(name="", number=""),
            accountcode="",
            dialplan=m.DialplanCEP(
                context="from-callers", exten="s", priority=1, app_name="", app_data=""
            ),
            creationtime=datetime(2026, 11, 29, tzinfo=UTC),
            language="fr",
        ),
    )
    again = parse_event(event.model_dump_json(by_alias=True))
    assert again == event
    assert again.type == "ChannelDtmfReceived"

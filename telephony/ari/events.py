"""Parsing WebSocket frames into typed ARI events.

:func:`parse_event` turns one frame into an instance of the generated event class named by its
``type`` (``StasisStart``, ``Dial``, ...), or :class:`UnknownEvent` for a type this Asterisk
description does not know (a newer Asterisk), so nothing is ever dropped for being new. Fields the
description does not know are kept in ``model_extra``. A frame that is not a JSON object, has no
``type``, or breaks its type's schema raises :class:`AriEventError` naming the problem; the stream
logs and skips it.

Speed: one pass of pydantic-core over the raw bytes (discriminated union on ``type``); the
fallback for unknown types only runs on the failure path.
"""

from __future__ import annotations

import json
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError

from telephony.ari.errors import AriEventError
from telephony.ari.models import EVENT_CLASSES, Event, KnownEvent

__all__ = ["EVENT_TYPES", "UnknownEvent", "parse_event", "parse_event_object"]

EVENT_TYPES: Final = frozenset(EVENT_CLASSES)

_KNOWN: Final[TypeAdapter[Event]] = TypeAdapter(KnownEvent)

_SNIPPET = 120


class UnknownEvent(Event):
    """An event whose ``type`` is not in Asterisk's description; all its fields are kept."""


def _snippet(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return text if len(text) <= _SNIPPET else text[:_SNIPPET] + "..."


def parse_event(raw: bytes | str) -> Event:
    """Parse one WebSocket frame (JSON text) into its typed event.

    Raises :class:`AriEventError` if the frame is not a valid ARI event.
    """
    try:
        return _KNOWN.validate_json(raw)
    except ValidationError as exc:
        return _fallback(exc, raw, None)


def parse_event_object(data: dict[str, Any]) -> Event:
    """Same as :func:`parse_event` for an already decoded JSON object (traces, tests)."""
    try:
        return _KNOWN.validate_python(data)
    except ValidationError as exc:
        return _fallback(exc, data, data)


def _fallback(exc: ValidationError, raw: Any, data: dict[str, Any] | None) -> Event:
    first = exc.errors(include_url=False)[0]
    kind = first["type"]
    shown = _snippet(raw) if isinstance(raw, (bytes, str)) else _snippet(repr(raw))
    if kind == "json_invalid":
        raise AriEventError(f"frame is not JSON ({first['msg']}): {shown}") from None
    if kind in ("model_attributes_type", "model_type", "dict_type") and not first["loc"]:
        raise AriEventError(f"frame is not a JSON object: {shown}") from None
    if kind == "union_tag_not_found":
        raise AriEventError(f"frame has no 'type' field: {shown}") from None
    if kind == "union_tag_invalid":
        if data is None:
            data = json.loads(raw)
        assert isinstance(data, dict)
        event_type = data.get("type")
        if not isinstance(event_type, str) or not event_type:
            raise AriEventError(f"frame 'type' is not a name ({event_type!r}): {shown}") from None
        if event_type == "MissingParams":
            raise AriEventError(
                f"Asterisk reports missing parameters {data.get('params')!r}: {shown}"
            ) from None
        try:
            return UnknownEvent.model_validate(data)
        except ValidationError as inner:
            raise AriEventError(
                f"{event_type} event (unknown type) is invalid: {_describe(inner)}: {shown}"
            ) from None
    event_type = _type_name(raw, data)
    raise AriEventError(f"{event_type} event is invalid: {_describe(exc)}: {shown}") from None


def _type_name(raw: Any, data: dict[str, Any] | None) -> str:
    if data is None:
        try:
            data = json.loads(raw)
        except ValueError:
            return "?"
    value = data.get("type") if isinstance(data, dict) else None
    return value if isinstance(value, str) else "?"


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False)[:3]:
        # The first element of a union location is the tag; it repeats the event type.
        loc = [str(p) for p in error["loc"]]
        if loc and loc[0] in EVENT_TYPES:
            loc = loc[1:]
        parts.append(f"{'.'.join(loc) or '(event)'}: {error['msg']}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")

"""Our own small asyncio client for Asterisk's REST Interface (ARI), on aiohttp.

Modules, by role:

- ``models``     pydantic models generated from Asterisk 22's ARI description
                 (``tools/gen_ari_models.py``): Channel, Bridge, Playback, Endpoint, ... and every
                 event class (StasisStart, Dial, ChannelDestroyed, PlaybackFinished, ...).
- ``events``     ``parse_event(frame) -> Event`` (typed; ``UnknownEvent`` for new types).
- ``errors``     the exception hierarchy (drawn there) and ``is_gone(exc)``.
- ``transport``  HTTP: auth header, timeouts, error translation.
- ``client``     ``AriClient``: typed REST operations; ``AppSnapshot`` for resync.
- ``stream``     ``EventStream``: the event WebSocket, reconnected fast; counters.
- ``outbound``   ``OutboundEventEndpoint``: Asterisk 22.5+ connects to us instead.
- ``dispatch``   ``Dispatcher``: one ordered inbox and one task per call.
- ``api_schema`` Asterisk's ARI description, compact (``api_schema.json``, generated).
- ``traces``     reading the recorded traces (tests, benchmarks, replay).

Wiring (in the composition root)::

    client = AriClient("http://127.0.0.1:8088", user, password, app="bernay")
    dispatcher = Dispatcher(open_call, on_global=agents.on_device_event)
    stream = EventStream(client, dispatcher.dispatch, on_reconnect=resync)
    end = await stream.run()          # StreamEnd.STOPPED or StreamEnd.REPLACED

    def open_call(start: StasisStart, inbox: CallInbox) -> Coroutine | None:
        return CallFlow(client, dispatcher, start, inbox).run()   # None to decline

    async def resync() -> None:       # after a reconnect; events already flow again
        snapshot = await client.app_snapshot()   # channels/bridges still in our app
        ...

A call's coroutine reads its events in Asterisk's order::

    agent_id = f"agent-{uuid4().hex[:12]}"
    dispatcher.bind(agent_id, inbox.key)        # before the request: events may come first
    await client.create_channel("PJSIP/agent1", channel_id=agent_id, app_args=["agent"])
    while True:
        event = await wait_for(clock, inbox.get(), seconds=25)   # CallEnded after StasisEnd
        match event:
            case StasisStart() if event.channel.id == agent_id:
                # Not before: the 200 of create comes before the channel is in the app, and a
                # dial in between is refused (409 "Channel not in Stasis application").
                await client.dial(agent_id, caller=inbox.key, ring_timeout=20)
            case Dial(dialstatus="ANSWER"): ...
            case ChannelDestroyed(cause=17): ...   # busy: no final Dial event exists

REST calls racing a hang-up raise ``NotFound`` & co.; test them with ``is_gone(exc)``.
Durations come from events' ``timestamp`` (aware datetimes), never from receive time.
"""

from __future__ import annotations

from telephony.ari.client import AppSnapshot, AriClient
from telephony.ari.dispatch import CallEnded, CallInbox, DispatchCounters, Dispatcher
from telephony.ari.errors import (
    AriConnectionError,
    AriError,
    AriEventError,
    AriHttpError,
    AriTimeout,
    AriTransportError,
    BadRequest,
    Conflict,
    MethodNotAllowed,
    NotFound,
    ServerError,
    Unauthorized,
    Unprocessable,
    is_gone,
)
from telephony.ari.events import EVENT_TYPES, UnknownEvent, parse_event, parse_event_object
from telephony.ari.outbound import OutboundEventEndpoint
from telephony.ari.stream import EventStream, StreamCounters, StreamEnd, backoff_delay

__all__ = [
    "EVENT_TYPES",
    "AppSnapshot",
    "AriClient",
    "AriConnectionError",
    "AriError",
    "AriEventError",
    "AriHttpError",
    "AriTimeout",
    "AriTransportError",
    "BadRequest",
    "CallEnded",
    "CallInbox",
    "Conflict",
    "DispatchCounters",
    "Dispatcher",
    "EventStream",
    "MethodNotAllowed",
    "NotFound",
    "OutboundEventEndpoint",
    "ServerError",
    "StreamCounters",
    "StreamEnd",
    "Unauthorized",
    "UnknownEvent",
    "Unprocessable",
    "backoff_delay",
    "is_gone",
    "parse_event",
    "parse_event_object",
]

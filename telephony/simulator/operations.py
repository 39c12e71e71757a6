"""The ARI operations the simulated PBX serves: path, method, accepted parameters.

One table drives the HTTP routes (``ari_http``) and is checked against Asterisk's own api-docs by
the conformance tests, so the simulator never accepts what Asterisk would not know.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # as in api-docs, relative to /ari
    nickname: str
    params: tuple[str, ...] = ()  # query/body parameters (path parameters excluded)


_ORIGINATE = (
    "endpoint", "extension", "context", "priority", "label", "app", "appArgs", "callerId",
    "timeout", "variables", "otherChannelId", "originator", "formats",
)  # fmt: skip

OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", "/asterisk/info", "getInfo", ("only",)),
    Operation("GET", "/asterisk/ping", "ping"),
    Operation("GET", "/asterisk/variable", "getGlobalVar", ("variable",)),
    Operation("POST", "/asterisk/variable", "setGlobalVar", ("variable", "value")),
    Operation("GET", "/applications", "list"),
    Operation("GET", "/applications/{applicationName}", "get"),
    Operation("POST", "/applications/{applicationName}/subscription", "subscribe",
              ("eventSource",)),
    Operation("DELETE", "/applications/{applicationName}/subscription", "unsubscribe",
              ("eventSource",)),
    Operation("GET", "/endpoints", "list"),
    Operation("GET", "/endpoints/{tech}", "listByTech"),
    Operation("GET", "/endpoints/{tech}/{resource}", "get"),
    Operation("GET", "/deviceStates", "list"),
    Operation("GET", "/deviceStates/{deviceName}", "get"),
    Operation("PUT", "/deviceStates/{deviceName}", "update", ("deviceState",)),
    Operation("DELETE", "/deviceStates/{deviceName}", "delete"),
    Operation("GET", "/channels", "list"),
    Operation("POST", "/channels", "originate", (*_ORIGINATE, "channelId")),
    Operation("POST", "/channels/create", "create",
              ("endpoint", "app", "appArgs", "channelId", "otherChannelId", "originator",
               "formats", "variables")),
    Operation("GET", "/channels/{channelId}", "get"),
    Operation("POST", "/channels/{channelId}", "originateWithId", _ORIGINATE),
    Operation("DELETE", "/channels/{channelId}", "hangup", ("reason_code", "reason")),
    Operation("POST", "/channels/{channelId}/continue", "continueInDialplan",
              ("context", "extension", "priority", "label")),
    Operation("POST", "/channels/{channelId}/redirect", "redirect", ("endpoint",)),
    Operation("POST", "/channels/{channelId}/answer", "answer"),
    Operation("POST", "/channels/{channelId}/ring", "ring"),
    Operation("DELETE", "/channels/{channelId}/ring", "ringStop"),
    Operation("POST", "/channels/{channelId}/progress", "progress"),
    Operation("POST", "/channels/{channelId}/dtmf", "sendDTMF",
              ("dtmf", "before", "between", "duration", "after")),
    Operation("POST", "/channels/{channelId}/mute", "mute", ("direction",)),
    Operation("DELETE", "/channels/{channelId}/mute", "unmute", ("direction",)),
    Operation("POST", "/channels/{channelId}/hold", "hold"),
    Operation("DELETE", "/channels/{channelId}/hold", "unhold"),
    Operation("POST", "/channels/{channelId}/moh", "startMoh", ("mohClass",)),
    Operation("DELETE", "/channels/{channelId}/moh", "stopMoh"),
    Operation("POST", "/channels/{channelId}/silence", "startSilence"),
    Operation("DELETE", "/channels/{channelId}/silence", "stopSilence"),
    Operation("POST", "/channels/{channelId}/play", "play",
              ("media", "lang", "offsetms", "skipms", "playbackId")),
    Operation("POST", "/channels/{channelId}/play/{playbackId}", "playWithId",
              ("media", "lang", "offsetms", "skipms")),
    Operation("GET", "/channels/{channelId}/variable", "getChannelVar", ("variable",)),
    Operation("POST", "/channels/{channelId}/variable", "setChannelVar",
              ("variable", "value", "report_events")),
    Operation("POST", "/channels/{channelId}/dial", "dial", ("caller", "timeout")),
    Operation("POST", "/channels/{channelId}/transfer_progress", "transfer_progress",
              ("states",)),
    Operation("GET", "/bridges", "list"),
    Operation("POST", "/bridges", "create", ("type", "bridgeId", "name", "variables")),
    Operation("POST", "/bridges/{bridgeId}", "createWithId", ("type", "name", "variables")),
    Operation("GET", "/bridges/{bridgeId}", "get"),
    Operation("DELETE", "/bridges/{bridgeId}", "destroy"),
    Operation("POST", "/bridges/{bridgeId}/addChannel", "addChannel",
              ("channel", "role", "absorbDTMF", "mute", "inhibitConnectedLineUpdates")),
    Operation("POST", "/bridges/{bridgeId}/removeChannel", "removeChannel", ("channel",)),
    Operation("POST", "/bridges/{bridgeId}/moh", "startMoh", ("mohClass",)),
    Operation("DELETE", "/bridges/{bridgeId}/moh", "stopMoh"),
    Operation("POST", "/bridges/{bridgeId}/play", "play",
              ("media", "announcer_format", "lang", "offsetms", "skipms", "playbackId")),
    Operation("POST", "/bridges/{bridgeId}/play/{playbackId}", "playWithId",
              ("media", "announcer_format", "lang", "offsetms", "skipms")),
    Operation("GET", "/sounds", "list", ("lang", "format")),
    Operation("GET", "/sounds/{soundId}", "get"),
    Operation("GET", "/playbacks/{playbackId}", "get"),
    Operation("DELETE", "/playbacks/{playbackId}", "stop"),
    Operation("POST", "/playbacks/{playbackId}/control", "control", ("operation",)),
)  # fmt: skip


def resource_of(operation: Operation) -> str:
    """The ARI resource (``channels``, ``bridges``...) an operation belongs to."""
    return operation.path.split("/")[1]

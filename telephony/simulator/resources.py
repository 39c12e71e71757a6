"""The PBX's live objects (channels, bridges, playbacks, endpoints) and their ARI JSON form.

Only data and its serialisation live here; what happens to these objects is in ``engine``.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]

# Q.850 texts exactly as Asterisk's ast_cause2str() spells them.
CAUSE_TEXT: dict[int, str] = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    21: "Call Rejected",
    26: "Answered elsewhere",
    28: "Invalid number format (addr incomplete)",
    31: "Normal, unspecified",
    34: "Circuit/channel congestion",
    38: "Network out of order",
    58: "Bearer capability not available",
    127: "Interworking, unspecified",
}

# DELETE /channels/{id}?reason=... -> cause (res/ari/resource_channels.c).
HANGUP_REASONS: dict[str, int] = {
    "normal": 16,
    "busy": 17,
    "congestion": 34,
    "no_answer": 19,
    "timeout": 18,
    "rejected": 21,
    "unallocated": 1,
    "normal_unspecified": 31,
    "number_incomplete": 28,
    "codec_mismatch": 58,
    "interworking": 127,
    "failure": 38,
    "answered_elsewhere": 26,
}

# The value ChannelHangupRequest reports for an ARI/dial-timeout hang-up is the soft-hangup flag
# AST_SOFTHANGUP_EXPLICIT, not a Q.850 cause: that is why it reads 32 with soft=true.
SOFTHANGUP_EXPLICIT = 32


class ChannelKind(enum.Enum):
    INBOUND = "inbound"  # a caller entering Stasis from the dialplan
    CREATED = "created"  # POST /channels/create (+ dial)
    ORIGINATED = "originated"  # POST /channels
    DIALPLAN = "dialplan"  # originated towards an extension: never in Stasis
    TRANSFER = "transfer"  # the ;1 half of the Local pair a blind transfer swaps into the bridge


def cause_text(cause: int) -> str:
    return CAUSE_TEXT.get(cause, "Unknown")


@dataclass(eq=False)
class Endpoint:
    technology: str
    resource: str
    online: bool = True
    channel_ids: list[str] = field(default_factory=list)
    device_state: str = "NOT_INUSE"
    # What the phone displayed for each call it was offered (the INVITE's From: the dialled
    # channel's connected line), in order: ``{"channel", "name", "number", "at"}``.
    shown: list[JsonDict] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.technology}/{self.resource}"

    def to_json(self) -> JsonDict:
        return {
            "technology": self.technology,
            "resource": self.resource,
            "state": "online" if self.online else "offline",
            "channel_ids": list(self.channel_ids),
        }


@dataclass(eq=False)
class Channel:
    id: str
    name: str
    kind: ChannelKind
    creationtime: str
    protocol_id: str = ""
    state: str = "Down"
    caller_name: str = ""
    caller_number: str = ""
    connected_name: str = ""
    connected_number: str = ""
    context: str = "default"
    exten: str = "s"
    priority: int = 1
    app_name: str = ""
    app_data: str = ""
    language: str = "en"
    endpoint: Endpoint | None = None
    stasis_app: str | None = None
    subscribers: set[str] = field(default_factory=set)
    bridge_id: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    playbacks: list[Playback] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    dialled: bool = False
    answered_at: float | None = None
    hanging_up: bool = False
    dial_timeout_task: asyncio.Task[None] | None = None
    # Audio the channel hears besides playbacks (moh / ring / silence / hold), for state().
    tone: str | None = None
    # The other half of a Local pair (blind transfers): hang-ups and caller ids cross over.
    local_peer: Channel | None = None
    # An originated Local ``;1``: the application it enters when its ``;2`` is answered.
    pending_stasis: tuple[str, list[str]] | None = None
    # A Local half applies a caller-id change only when its bridge next wakes up: the
    # ChannelCallerId is owed until then (traces/blind-transfer, ;1 at the caller's hang-up).
    caller_id_owed: bool = False
    # Set when the app is unsubscribed at StasisEnd, so it never sees this ChannelDestroyed
    # (inbound channels always; a transferer and its Local replacement after a blind transfer).
    unsubscribe_at_stasis_end: bool = False
    # The agent's phone armed its scripted REFER / has a REFER waiting for the app (ari-only).
    refer_armed: bool = False
    pending_refer: PendingRefer | None = None
    # The channel this one was created or originated for (``originator``: Asterisk links them,
    # one linkedid in the CDR); kept for the history only.
    originator: str | None = None

    def to_json(self) -> JsonDict:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "protocol_id": self.protocol_id,
            "caller": {"name": self.caller_name, "number": self.caller_number},
            "connected": {"name": self.connected_name, "number": self.connected_number},
            "accountcode": "",
            "dialplan": {
                "context": self.context,
                "exten": self.exten,
                "priority": self.priority,
                "app_name": self.app_name,
                "app_data": self.app_data,
            },
            "creationtime": self.creationtime,
            "language": self.language,
        }


@dataclass(eq=False)
class PendingRefer:
    """A REFER handed to the app (``PJSIP_TRANSFER_HANDLING()=ari-only``), not yet concluded."""

    destination: str


@dataclass(eq=False)
class Playback:
    id: str
    media: list[str]
    target_uri: str
    language: str
    state: str = "queued"
    index: int = 0
    task: asyncio.Task[None] | None = None

    @property
    def media_uri(self) -> str:
        return self.media[self.index]

    def to_json(self) -> JsonDict:
        body: JsonDict = {"id": self.id, "media_uri": self.media_uri}
        if self.index + 1 < len(self.media):
            body["next_media_uri"] = self.media[self.index + 1]
        body["target_uri"] = self.target_uri
        body["language"] = self.language
        body["state"] = self.state
        return body


@dataclass(eq=False)
class Bridge:
    id: str
    bridge_type: str
    name: str
    creationtime: str
    technology: str = "simple_bridge"
    channels: list[str] = field(default_factory=list)
    subscribers: set[str] = field(default_factory=set)
    # BridgeDestroyed only reaches the app when a channel hung up inside the bridge
    # (traces/bridge-destroyed-delivery).
    hangup_inside: bool = False
    moh: bool = False
    playbacks: list[Playback] = field(default_factory=list)

    def to_json(self) -> JsonDict:
        return {
            "id": self.id,
            "technology": self.technology,
            "bridge_type": self.bridge_type,
            "bridge_class": "stasis",
            "creator": "Stasis",
            "name": self.name,
            "channels": list(self.channels),
            "creationtime": self.creationtime,
            "video_mode": "talker",
        }

"""What happened on every channel, as the PBX and its phones lived it: an optional log.

A test that checks decroche's call records against what really happened (an oracle
independent of the router, ``tests/test_flow_oracle.py``) needs the PBX's own account of each
channel, not the ARI events decroche read: when a phone got its INVITE and what it displayed,
when it rang (its 180), answered (200), who it talked with, what the caller heard and pressed,
the REFER of a blind transfer, who hung up and with which cause. The engine notes each fact
here as it makes it happen, when a history is kept (``SimulatedPbx(history=True)``; off by
default: the demo and the what-if replays place thousands of calls).

Each fact is ``{"at": <ARI timestamp>, "what": <kind>, ...}``:

========================  =================================================================
``created``               the channel exists (``kind``, ``endpoint``, ``originator``: the
                          channel it was created for, Asterisk's linkedid; ``local_peer``)
``stasis_start``          it entered an application (``app``, ``args``, ``number``: its caller
                          id then, ``replacing``: the channel it took the place of)
``invite``                the phone was sent the INVITE (``name``, ``number``: what it shows)
``state``                 ``Ringing`` (the phone's 180) or ``Up`` (answered)
``bridged``               it entered a bridge (``bridge``, ``with``: the others in it)
``unbridged``             it left its bridge (``bridge``)
``prompt``                a prompt started (``media``), ``prompt_end`` it ended (``state``)
``tone``                  ring / moh / silence / hold started (``tone``), or stopped (None)
``dtmf``                  a key received on this channel (``digit``: the caller pressed it,
                          or it came through a Local pair)
``refer``                 the phone asked for a blind transfer (``destination``, ``one``,
                          ``two``: the Local pair it made, None when refused)
``hangup``                it is gone (``how``: who ended it and why, ``cause``: Q.850)
========================  =================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]


@dataclass
class ChannelLife:
    """One channel's facts, in order."""

    id: str
    name: str
    kind: str
    endpoint: str | None
    originator: str | None
    facts: list[JsonDict] = field(default_factory=list)

    def first(self, what: str, **where: Any) -> JsonDict | None:
        """The first fact of this kind (whose fields equal ``where``), if any."""
        for fact in self.facts:
            if fact["what"] == what and all(fact.get(k) == v for k, v in where.items()):
                return fact
        return None

    def all(self, what: str) -> list[JsonDict]:
        return [fact for fact in self.facts if fact["what"] == what]

    @property
    def ended(self) -> JsonDict | None:
        return self.first("hangup")


@dataclass
class History:
    """Every channel the PBX made, by id, in order of creation (never forgotten)."""

    channels: dict[str, ChannelLife] = field(default_factory=dict)

    def born(
        self,
        at: str,
        *,
        channel_id: str,
        name: str,
        kind: str,
        endpoint: str | None,
        originator: str | None,
        local_peer: str | None,
    ) -> None:
        life = ChannelLife(channel_id, name, kind, endpoint, originator)
        self.channels[channel_id] = life
        life.facts.append(
            {"at": at, "what": "created", "kind": kind, "endpoint": endpoint,
             "originator": originator, "local_peer": local_peer}
        )  # fmt: skip

    def note(self, at: str, channel_id: str, what: str, **fields: Any) -> None:
        life = self.channels.get(channel_id)
        if life is not None:
            life.facts.append({"at": at, "what": what, **fields})

    def of(self, channel_id: str) -> ChannelLife:
        return self.channels[channel_id]

    def to_json(self) -> list[JsonDict]:
        return [
            {"id": c.id, "name": c.name, "kind": c.kind, "endpoint": c.endpoint,
             "originator": c.originator, "facts": [dict(f) for f in c.facts]}
            for c in self.channels.values()
        ]  # fmt: skip

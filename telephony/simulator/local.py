"""Local channels: two halves joined back to back, as Asterisk's ``core_local`` makes them.

``Local/<exten>@<context>`` gives a pair: ``;1`` is the half that whoever asked for it handles
(the bridge of a blind transfer, or an ARI application after ``channels/create`` or an
originate); ``;2`` runs the dialplan at ``exten@context`` once ``;1`` is dialled. What one half
is sent, the other receives:

- ``local_call`` copies every variable of ``;1`` to ``;2`` before ``;2`` starts its dialplan
  (``ChannelVarset`` on ``;2`` for each, as recorded in ``raw-local-caller-ivr-agent``);
- answering ``;2`` answers ``;1`` (``;1`` goes ``Up``, then ``Dial ANSWER``; an originated ``;1``
  enters its application then, as any originated channel does at answer);
- DTMF sent on one half (``POST /channels/{id}/dtmf``) is received on the other, one
  ``ChannelDtmfReceived`` per digit at the end of the digit (``duration_ms`` 100 by default);
- a half hanging up takes the other with it.

ARI subscribes the application that created or originated a pair to both halves, so it sees
``;2``'s events (its playbacks, the keys it receives, its variables, its hang-up) while another
application handles ``;2`` in Stasis.

Through one of the dialplan's inbound contexts (the operator's, ``from-trunk`` in the shipped
dialplan, or ``from-callers`` in the recordings) ``;2`` enters ``Stasis(<app>,<exten>)`` like any
caller: decroche's audit calls take this way. When ``Stasis()`` fails (the app is not connected)
the shipped dialplan hangs up a call carrying the audit variable, never ringing the fallback
group; other calls would go to the fallback ring group, which is not simulated (the call is
rejected). Other contexts keep the recorded "sim-caller" behaviour (``dialling``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from .errors import AriRefusal
from .resources import Channel, ChannelKind

if TYPE_CHECKING:
    from .engine import Engine

# ARI's defaults for POST /channels/{id}/dtmf (milliseconds).
DTMF_DURATION_MS = 100
DTMF_BETWEEN_MS = 100
DTMF_KEYS = frozenset("0123456789ABCDabcd*#")
DTMF_PAUSES = {"w": 0.5, "W": 1.0}  # ast_dtmf_stream's waits inside a DTMF string


def split_local(resource: str) -> tuple[str, str]:
    """``0232464317@from-trunk`` (optionally ``/n`` options) -> (exten, context)."""
    exten, _, context = resource.partition("@")
    return exten, context.split("/", 1)[0]


class LocalChannels:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def pair(
        self,
        exten: str,
        context: str,
        *,
        one_kind: ChannelKind,
        one_id: str | None = None,
        two_id: str | None = None,
    ) -> tuple[Channel, Channel]:
        """A new pair, both halves registered; ``;2`` waits for ``;1`` to be dialled."""
        engine = self.engine
        base = f"Local/{exten}@{context}-{engine.ids.suffix()}"
        created = engine.now()
        one = Channel(
            id=one_id or engine.ids.unique_id(),
            name=f"{base};1",
            kind=one_kind,
            creationtime=created,
            context=context,
            exten=exten,
            priority=1,
        )
        two = Channel(
            id=two_id or engine.ids.unique_id(),
            name=f"{base};2",
            kind=ChannelKind.INBOUND,
            creationtime=created,
            state="Ring",
            context=context,
            exten=exten,
            priority=2,
        )
        one.local_peer, two.local_peer = two, one
        engine.register(one)
        engine.register(two)
        return one, two

    def requested(
        self, one: Channel, resource: str, app: str, two_id: str | None
    ) -> Channel | None:
        """``;1`` was just made by ``channels/create`` or an originate: its ``;2`` half when the
        pair goes into an inbound context (None: the recorded sim-caller behaviour applies)."""
        engine = self.engine
        exten, context = split_local(resource)
        if not engine.dialplan.is_inbound(context):
            return None
        two = Channel(
            id=two_id or engine.ids.unique_id(),
            name=one.name.removesuffix(";1") + ";2",
            kind=ChannelKind.INBOUND,
            creationtime=one.creationtime,
            state="Ring",
            context=context,
            exten=exten,
            priority=1,
        )
        one.local_peer, two.local_peer = two, one
        # The application that asked for the pair hears both halves.
        two.subscribers.add(app)
        engine.register(two)
        return two

    def dialled(self, one: Channel, stasis: tuple[str, list[str]] | None) -> None:
        """``;1`` is dialled: ``;2`` gets its variables and runs the dialplan. ``stasis``: the
        application an originated ``;1`` enters when ``;2`` answers."""
        two = one.local_peer
        assert two is not None
        engine = self.engine
        one.pending_stasis = stasis
        for name, value in one.variables.items():
            two.variables[name] = value
            engine.emit_channel(two, "ChannelVarset", variable=name, value=value)
        engine.spawn(two, lambda: self._run_inbound(two))

    async def _run_inbound(self, two: Channel) -> None:
        await asyncio.sleep(0)
        engine = self.engine
        exten, app = engine.dialplan.inbound_exten(two.context, two.exten), engine.default_app
        two.priority = engine.dialplan.stasis_priority(two.context)
        if two.context == engine.dialplan.trunk_context:
            two.language = "fr"  # Set(CHANNEL(language)=fr) before Stasis()
        engine.emit_channel(
            two, "ChannelDialplan", dialplan_app="Stasis", dialplan_app_data=f"{app},{exten}"
        )
        if engine.stasis.is_active(app):
            two.subscribers.add(app)
            engine.enter_stasis(two, app, [exten])
            return
        # Stasis() failed: STASISSTATUS = FAILED.
        audit = engine.dialplan.audit_variable in two.variables
        engine.hangup(
            two,
            request={"cause": 16 if audit else 21},
            cause=16 if audit else 21,
            how="stasis_failed_audit" if audit else "rejected_app_not_active",
        )

    def answered(self, two: Channel) -> None:
        """The app answered ``two``: a Local ``;2`` answers its ``;1`` (the dialled side)."""
        one = two.local_peer
        if one is None or not two.name.endswith(";2") or one.state == "Up":
            return
        engine = self.engine
        engine.set_state(one, "Up")
        engine.emit_channel(one, "Dial", dialstatus="ANSWER", forward="", dialstring="")
        stasis, one.pending_stasis = one.pending_stasis, None
        if stasis is not None:
            engine.enter_stasis(one, stasis[0], stasis[1])

    def after_hangup(self, channel: Channel) -> None:
        """A Local half going away takes the other half with it."""
        other = channel.local_peer
        engine = self.engine
        if other is not None and other.id in engine.channels and not other.hanging_up:
            engine.hangup(other, request={"cause": 16}, cause=16, how="local_peer_hung_up")

    def send_dtmf(
        self,
        channel: Channel,
        dtmf: str,
        *,
        before_ms: int = 0,
        between_ms: int = DTMF_BETWEEN_MS,
        duration_ms: int = DTMF_DURATION_MS,
        after_ms: int = 0,
    ) -> None:
        """DTMF streamed on ``channel``: received on its Local peer, if it has one."""
        bad = sorted({c for c in dtmf if c not in DTMF_KEYS and c not in DTMF_PAUSES})
        if bad:
            raise AriRefusal(400, f"Invalid DTMF '{''.join(bad)}'")
        peer = channel.local_peer
        if peer is None:
            return
        engine = self.engine

        async def stream() -> None:
            await engine.clock.sleep(before_ms / 1000)
            for index, key in enumerate(dtmf):
                if key in DTMF_PAUSES:
                    await engine.clock.sleep(DTMF_PAUSES[key])
                    continue
                await engine.clock.sleep(duration_ms / 1000)
                if peer.id in engine.channels and not peer.hanging_up:
                    engine.note(peer, "dtmf", digit=key)
                    engine.emit_channel(
                        peer, "ChannelDtmfReceived", digit=key, duration_ms=duration_ms
                    )
                if index + 1 < len(dtmf):
                    await engine.clock.sleep(between_ms / 1000)
            await engine.clock.sleep(after_ms / 1000)

        engine.spawn(channel, stream)

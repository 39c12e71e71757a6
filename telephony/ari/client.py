"""Typed ARI REST operations a contact centre needs (channels, bridges, playbacks, endpoints,
device states, applications, Asterisk itself).

Each method is one REST request with a timeout, returns the generated model (or ``None`` for
204 answers) and raises :mod:`telephony.ari.errors` on failure. Ids are quoted into paths; media
lists are sent comma-separated as Asterisk expects for ``allowMultiple`` parameters.

Created channels belong to this client's application (``app``); choose their ``channel_id``
yourself and bind it in the dispatcher *before* the request, because Asterisk may send the new
channel's first events before the HTTP answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import aiohttp
from pydantic import TypeAdapter

from telephony.ari.models import (
    Application,
    AsteriskInfo,
    AsteriskPing,
    Bridge,
    Channel,
    DeviceState,
    Endpoint,
    Playback,
    Sound,
    Variable,
)
from telephony.ari.transport import AriTransport, QueryValue, segment

_CHANNEL: Final = TypeAdapter(Channel)
_CHANNELS: Final = TypeAdapter(list[Channel])
_BRIDGE: Final = TypeAdapter(Bridge)
_BRIDGES: Final = TypeAdapter(list[Bridge])
_PLAYBACK: Final = TypeAdapter(Playback)
_ENDPOINT: Final = TypeAdapter(Endpoint)
_ENDPOINTS: Final = TypeAdapter(list[Endpoint])
_DEVICE_STATE: Final = TypeAdapter(DeviceState)
_DEVICE_STATES: Final = TypeAdapter(list[DeviceState])
_APPLICATION: Final = TypeAdapter(Application)
_VARIABLE: Final = TypeAdapter(Variable)
_SOUND: Final = TypeAdapter(Sound)
_SOUNDS: Final = TypeAdapter(list[Sound])
_INFO: Final = TypeAdapter(AsteriskInfo)
_PING: Final = TypeAdapter(AsteriskPing)


def media_list(media: str | Sequence[str]) -> str:
    """``sound:a,sound:b`` from one media URI or several (played in order, one playback id)."""
    items = [media] if isinstance(media, str) else list(media)
    if not items or any(not item for item in items):
        raise ValueError(f"media must be one or more non-empty URIs, got {media!r}")
    return ",".join(items)


def _args(app_args: str | Sequence[str] | None) -> str | None:
    if app_args is None or isinstance(app_args, str):
        return app_args
    return ",".join(app_args)


def _variables(variables: Mapping[str, str] | None) -> dict[str, dict[str, str]] | None:
    return None if variables is None else {"variables": dict(variables)}


@dataclass(frozen=True, slots=True)
class AppSnapshot:
    """What Asterisk holds for our application right now (used to resync after a reconnect)."""

    channels: tuple[Channel, ...]
    bridges: tuple[Bridge, ...]


class AriClient:
    """Asterisk REST Interface for application ``app``.

    ``base_url`` is Asterisk's HTTP server (``http://127.0.0.1:8088``; a trailing ``/ari`` is
    accepted). ``timeout`` bounds every request (seconds); methods that may take longer on a busy
    Asterisk (originate, hangup) accept their own ``timeout``. Use as an async context manager or
    call :meth:`close`.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        app: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 5.0,
        transport: AriTransport | None = None,
    ) -> None:
        if not app:
            raise ValueError("the ARI application name must not be empty")
        self.app = app
        # ``transport``: another way to the same REST API (the simulator's in-process one).
        self.transport = transport or AriTransport(
            base_url, username, password, session=session, timeout=timeout
        )

    async def __aenter__(self) -> AriClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.transport.close()

    def __repr__(self) -> str:
        return f"AriClient({self.transport.base_url!r}, app={self.app!r})"

    # -- channels -------------------------------------------------------------------------------

    async def list_channels(self) -> list[Channel]:
        return await self.transport.call(_CHANNELS, "GET", "/channels")

    async def get_channel(self, channel_id: str) -> Channel:
        return await self.transport.call(_CHANNEL, "GET", f"/channels/{segment(channel_id)}")

    async def answer(self, channel_id: str) -> None:
        await self.transport.send("POST", f"/channels/{segment(channel_id)}/answer")

    async def ring(self, channel_id: str) -> None:
        """Ringing indication: SIP 180 before answer, an in-band tone after."""
        await self.transport.send("POST", f"/channels/{segment(channel_id)}/ring")

    async def ring_stop(self, channel_id: str) -> None:
        await self.transport.send("DELETE", f"/channels/{segment(channel_id)}/ring")

    async def play(
        self,
        channel_id: str,
        media: str | Sequence[str],
        *,
        lang: str | None = None,
        playback_id: str | None = None,
        offsetms: int | None = None,
        skipms: int | None = None,
    ) -> Playback:
        """Queue media on a channel; ends with ``PlaybackFinished`` (``done`` or ``failed``)."""
        params: dict[str, QueryValue] = {
            "media": media_list(media),
            "lang": lang,
            "playbackId": playback_id,
            "offsetms": offsetms,
            "skipms": skipms,
        }
        path = f"/channels/{segment(channel_id)}/play"
        return await self.transport.call(_PLAYBACK, "POST", path, params=params)

    async def get_playback(self, playback_id: str) -> Playback:
        return await self.transport.call(_PLAYBACK, "GET", f"/playbacks/{segment(playback_id)}")

    async def stop_playback(self, playback_id: str) -> None:
        """Stop a playback (Asterisk then sends ``PlaybackFinished`` with state ``done``)."""
        await self.transport.send("DELETE", f"/playbacks/{segment(playback_id)}")

    async def control_playback(self, playback_id: str, operation: str) -> None:
        """``pause``, ``unpause``, ``restart``, ``reverse`` or ``forward`` a playback."""
        path = f"/playbacks/{segment(playback_id)}/control"
        await self.transport.send("POST", path, params={"operation": operation})

    async def hangup(
        self, channel_id: str, reason: str | None = None, *, request_timeout: float | None = None
    ) -> None:
        """Hang up (``reason``: normal, busy, congestion, no_answer, timeout, rejected, ...)."""
        path = f"/channels/{segment(channel_id)}"
        await self.transport.send(
            "DELETE", path, params={"reason": reason}, request_timeout=request_timeout
        )

    async def create_channel(
        self,
        endpoint: str,
        *,
        channel_id: str | None = None,
        app_args: str | Sequence[str] | None = None,
        other_channel_id: str | None = None,
        originator: str | None = None,
        formats: str | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> Channel:
        """Create a channel in our app without dialling it (then :meth:`dial`).

        500 ``Allocation failed`` (a :class:`ServerError`) when the endpoint is not registered.
        """
        params: dict[str, QueryValue] = {
            "endpoint": endpoint,
            "app": self.app,
            "appArgs": _args(app_args),
            "channelId": channel_id,
            "otherChannelId": other_channel_id,
            "originator": originator,
            "formats": formats,
        }
        return await self.transport.call(
            _CHANNEL, "POST", "/channels/create", params=params, body=_variables(variables)
        )

    async def originate(
        self,
        endpoint: str,
        *,
        channel_id: str | None = None,
        app_args: str | Sequence[str] | None = None,
        caller_id: str | None = None,
        ring_timeout: int | None = None,
        other_channel_id: str | None = None,
        originator: str | None = None,
        formats: str | None = None,
        variables: Mapping[str, str] | None = None,
        request_timeout: float | None = None,
    ) -> Channel:
        """Call ``endpoint`` into our app (``StasisStart`` only comes when it answers).

        ``ring_timeout`` is Asterisk's ring timeout in seconds; ``request_timeout`` bounds the
        HTTP request.
        """
        params: dict[str, QueryValue] = {
            "endpoint": endpoint,
            "app": self.app,
            "appArgs": _args(app_args),
            "channelId": channel_id,
            "callerId": caller_id,
            "timeout": ring_timeout,
            "otherChannelId": other_channel_id,
            "originator": originator,
            "formats": formats,
        }
        return await self.transport.call(
            _CHANNEL,
            "POST",
            "/channels",
            params=params,
            body=_variables(variables),
            request_timeout=request_timeout,
        )

    async def dial(
        self, channel_id: str, *, caller: str | None = None, ring_timeout: int | None = None
    ) -> None:
        """Dial a created channel; after ``ring_timeout`` s Asterisk hangs it up unanswered
        (HangupRequest cause 32 then ChannelDestroyed cause 19)."""
        path = f"/channels/{segment(channel_id)}/dial"
        params: dict[str, QueryValue] = {"caller": caller, "timeout": ring_timeout}
        await self.transport.send("POST", path, params=params)

    async def get_variable(self, channel_id: str, name: str) -> str:
        """A channel variable's value; :class:`NotFound` if it is not set."""
        path = f"/channels/{segment(channel_id)}/variable"
        variable = await self.transport.call(_VARIABLE, "GET", path, params={"variable": name})
        return variable.value

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        path = f"/channels/{segment(channel_id)}/variable"
        await self.transport.send("POST", path, params={"variable": name, "value": value})

    async def continue_in_dialplan(
        self,
        channel_id: str,
        *,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
        label: str | None = None,
    ) -> None:
        """Hand the channel back to the dialplan (``StasisEnd`` follows)."""
        params: dict[str, QueryValue] = {
            "context": context,
            "extension": extension,
            "priority": priority,
            "label": label,
        }
        path = f"/channels/{segment(channel_id)}/continue"
        await self.transport.send("POST", path, params=params)

    async def redirect(self, channel_id: str, endpoint: str) -> None:
        path = f"/channels/{segment(channel_id)}/redirect"
        await self.transport.send("POST", path, params={"endpoint": endpoint})

    async def moh_start(self, channel_id: str, moh_class: str | None = None) -> None:
        path = f"/channels/{segment(channel_id)}/moh"
        await self.transport.send("POST", path, params={"mohClass": moh_class})

    async def moh_stop(self, channel_id: str) -> None:
        await self.transport.send("DELETE", f"/channels/{segment(channel_id)}/moh")

    async def silence_start(self, channel_id: str) -> None:
        await self.transport.send("POST", f"/channels/{segment(channel_id)}/silence")

    async def silence_stop(self, channel_id: str) -> None:
        await self.transport.send("DELETE", f"/channels/{segment(channel_id)}/silence")

    async def hold(self, channel_id: str) -> None:
        """Put the channel on hold (Asterisk also starts its music on hold; no event)."""
        await self.transport.send("POST", f"/channels/{segment(channel_id)}/hold")

    async def unhold(self, channel_id: str) -> None:
        await self.transport.send("DELETE", f"/channels/{segment(channel_id)}/hold")

    async def send_dtmf(
        self,
        channel_id: str,
        dtmf: str,
        *,
        duration_ms: int | None = None,
        between_ms: int | None = None,
    ) -> None:
        """Send DTMF on the channel (on a Local ``;1``, the ``;2`` half receives it); each key
        lasts ``duration_ms`` (Asterisk's default 100) with ``between_ms`` between keys."""
        path = f"/channels/{segment(channel_id)}/dtmf"
        params: dict[str, QueryValue] = {
            "dtmf": dtmf,
            "duration": duration_ms,
            "between": between_ms,
        }
        await self.transport.send("POST", path, params=params)

    async def transfer_progress(self, channel_id: str, states: str) -> None:
        """Report a transfer's progress to the transferer (``PJSIP_TRANSFER_HANDLING=ari-only``):
        ``channel_progress``, ``channel_answered``, ``channel_unavailable``, ``channel_declined``.
        """
        path = f"/channels/{segment(channel_id)}/transfer_progress"
        await self.transport.send("POST", path, params={"states": states})

    # -- bridges --------------------------------------------------------------------------------

    async def list_bridges(self) -> list[Bridge]:
        return await self.transport.call(_BRIDGES, "GET", "/bridges")

    async def get_bridge(self, bridge_id: str) -> Bridge:
        return await self.transport.call(_BRIDGE, "GET", f"/bridges/{segment(bridge_id)}")

    async def create_bridge(
        self, bridge_type: str = "mixing", *, bridge_id: str | None = None, name: str | None = None
    ) -> Bridge:
        params: dict[str, QueryValue] = {"type": bridge_type, "bridgeId": bridge_id, "name": name}
        return await self.transport.call(_BRIDGE, "POST", "/bridges", params=params)

    async def add_channel(
        self,
        bridge_id: str,
        channel_ids: str | Sequence[str],
        *,
        role: str | None = None,
        absorb_dtmf: bool | None = None,
        mute: bool | None = None,
    ) -> None:
        """Add channels to a bridge (422 if one is not in Stasis, 400 if one no longer exists)."""
        params: dict[str, QueryValue] = {
            "channel": _ids(channel_ids),
            "role": role,
            "absorbDTMF": absorb_dtmf,
            "mute": mute,
        }
        path = f"/bridges/{segment(bridge_id)}/addChannel"
        await self.transport.send("POST", path, params=params)

    async def remove_channel(self, bridge_id: str, channel_ids: str | Sequence[str]) -> None:
        path = f"/bridges/{segment(bridge_id)}/removeChannel"
        await self.transport.send("POST", path, params={"channel": _ids(channel_ids)})

    async def destroy_bridge(self, bridge_id: str) -> None:
        """Delete a bridge; channels still inside stay in Stasis (no BridgeDestroyed event)."""
        await self.transport.send("DELETE", f"/bridges/{segment(bridge_id)}")

    async def play_on_bridge(
        self,
        bridge_id: str,
        media: str | Sequence[str],
        *,
        lang: str | None = None,
        playback_id: str | None = None,
    ) -> Playback:
        params: dict[str, QueryValue] = {
            "media": media_list(media),
            "lang": lang,
            "playbackId": playback_id,
        }
        path = f"/bridges/{segment(bridge_id)}/play"
        return await self.transport.call(_PLAYBACK, "POST", path, params=params)

    async def bridge_moh_start(self, bridge_id: str, moh_class: str | None = None) -> None:
        path = f"/bridges/{segment(bridge_id)}/moh"
        await self.transport.send("POST", path, params={"mohClass": moh_class})

    async def bridge_moh_stop(self, bridge_id: str) -> None:
        await self.transport.send("DELETE", f"/bridges/{segment(bridge_id)}/moh")

    # -- endpoints and device states --------------------------------------------------------------

    async def list_endpoints(self, technology: str | None = None) -> list[Endpoint]:
        path = "/endpoints" if technology is None else f"/endpoints/{segment(technology)}"
        return await self.transport.call(_ENDPOINTS, "GET", path)

    async def get_endpoint(self, technology: str, resource: str) -> Endpoint:
        """``state`` is ``online``, ``offline`` (not registered) or ``unknown``."""
        path = f"/endpoints/{segment(technology)}/{segment(resource)}"
        return await self.transport.call(_ENDPOINT, "GET", path)

    async def list_device_states(self) -> list[DeviceState]:
        return await self.transport.call(_DEVICE_STATES, "GET", "/deviceStates")

    async def get_device_state(self, device_name: str) -> DeviceState:
        path = f"/deviceStates/{segment(device_name)}"
        return await self.transport.call(_DEVICE_STATE, "GET", path)

    async def set_device_state(self, device_name: str, state: str) -> None:
        """Set a ``Stasis:<name>`` custom device state (NOT_INUSE, INUSE, BUSY, ...)."""
        path = f"/deviceStates/{segment(device_name)}"
        await self.transport.send("PUT", path, params={"deviceState": state})

    async def delete_device_state(self, device_name: str) -> None:
        await self.transport.send("DELETE", f"/deviceStates/{segment(device_name)}")

    # -- sounds ---------------------------------------------------------------------------------

    async def list_sounds(self, lang: str | None = None, fmt: str | None = None) -> list[Sound]:
        """The sounds Asterisk can play (ids such as ``decroche/bienvenue``), with their
        languages and formats."""
        params: dict[str, QueryValue] = {"lang": lang, "format": fmt}
        return await self.transport.call(_SOUNDS, "GET", "/sounds", params=params)

    async def get_sound(self, sound_id: str) -> Sound:
        """One sound; :class:`NotFound` if Asterisk has no such sound."""
        return await self.transport.call(_SOUND, "GET", f"/sounds/{segment(sound_id)}")

    # -- applications and Asterisk ----------------------------------------------------------------

    async def get_application(self, name: str | None = None) -> Application:
        path = f"/applications/{segment(name or self.app)}"
        return await self.transport.call(_APPLICATION, "GET", path)

    async def subscribe(self, event_sources: str | Sequence[str]) -> Application:
        """Subscribe our app to ``endpoint:PJSIP/agent1``, ``deviceState:...``, ``channel:...``."""
        path = f"/applications/{segment(self.app)}/subscription"
        params: dict[str, QueryValue] = {"eventSource": _ids(event_sources)}
        return await self.transport.call(_APPLICATION, "POST", path, params=params)

    async def unsubscribe(self, event_sources: str | Sequence[str]) -> Application:
        path = f"/applications/{segment(self.app)}/subscription"
        params: dict[str, QueryValue] = {"eventSource": _ids(event_sources)}
        return await self.transport.call(_APPLICATION, "DELETE", path, params=params)

    async def asterisk_info(self, only: Sequence[str] | None = None) -> AsteriskInfo:
        params: dict[str, QueryValue] = {"only": ",".join(only) if only else None}
        return await self.transport.call(_INFO, "GET", "/asterisk/info", params=params)

    async def ping(self, *, request_timeout: float | None = None) -> AsteriskPing:
        return await self.transport.call(
            _PING, "GET", "/asterisk/ping", request_timeout=request_timeout
        )

    async def app_snapshot(self) -> AppSnapshot:
        """The channels and bridges our application holds (resync after a reconnect).

        Asterisk keeps channels in Stasis while our WebSocket is down and never replays the
        events it dropped, so after a reconnect the caller compares this with what it believed.
        """
        application = await self.get_application()
        channel_ids = set(application.channel_ids)
        bridge_ids = set(application.bridge_ids)
        channels = await self.list_channels() if channel_ids else []
        bridges = await self.list_bridges() if bridge_ids else []
        return AppSnapshot(
            channels=tuple(c for c in channels if c.id in channel_ids),
            bridges=tuple(b for b in bridges if b.id in bridge_ids),
        )


def _ids(values: str | Sequence[str]) -> str:
    items = [values] if isinstance(values, str) else list(values)
    if not items or any(not item for item in items):
        raise ValueError(f"expected one or more non-empty ids, got {values!r}")
    return ",".join(items)

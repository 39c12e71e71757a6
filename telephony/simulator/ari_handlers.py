"""The served ARI operations, one thin handler each: read the parameters, call the engine,
serialise the answer as Asterisk 22 does.

Transport-free: ``ari_http`` serves the table over HTTP (with credentials and Asterisk's 401,
404 and 405), ``in_process`` calls it directly for the what-if replays. A refusal raised by the
engine (:class:`~.errors.AriRefusal`) becomes Asterisk's exact error body in either.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from .engine import Engine
from .errors import AriRefusal
from .resources import Bridge, Channel, JsonDict

Handler = Callable[["Call"], Awaitable[web.StreamResponse]]


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


def no_content() -> web.Response:
    return web.Response(status=204)


def error_response(error: AriRefusal) -> web.Response:
    return json_response(error.body(), error.status)


class Call:
    """One ARI request: path parameters and the merged query/body parameters (over HTTP, or
    from :mod:`telephony.simulator.in_process`)."""

    def __init__(
        self, match_info: Mapping[str, str], params: dict[str, Any], variables: dict[str, str]
    ) -> None:
        self.match_info = match_info
        self.params = params
        self.variables = variables

    def path(self, name: str) -> str:
        return self.match_info[name]

    def text(self, name: str) -> str | None:
        value = self.params.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str, default: int = 0) -> int:
        value = self.params.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            return 0  # Asterisk parses with atoi()


def merge_body(params: dict[str, Any], raw: bytes) -> tuple[dict[str, Any], dict[str, str]]:
    """Query parameters merged with a JSON body's (the query wins, as in Asterisk), and the
    body's ``variables``; Asterisk's 400 for a body that is not a JSON object."""
    variables: dict[str, str] = {}
    if raw.strip():
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise AriRefusal(400, "Error parsing request body") from exc
        if not isinstance(body, dict):
            raise AriRefusal(400, "Error parsing request body")
        raw_vars = body.get("variables", {})
        if not isinstance(raw_vars, dict):
            raise AriRefusal(400, "Error parsing request body")
        variables = {str(k): str(v) for k, v in raw_vars.items()}
        for key, value in body.items():
            if key != "variables" and key not in params:
                params[key] = value
    return params, variables


class AriHandlers:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.table: dict[tuple[str, str], Handler] = {
            ("GET", "/asterisk/info"): self.asterisk_info,
            ("GET", "/asterisk/ping"): self.asterisk_ping,
            ("GET", "/asterisk/variable"): self.get_global,
            ("POST", "/asterisk/variable"): self.set_global,
            ("GET", "/applications"): self.list_apps,
            ("GET", "/applications/{applicationName}"): self.get_app,
            ("POST", "/applications/{applicationName}/subscription"): self.subscribe,
            ("DELETE", "/applications/{applicationName}/subscription"): self.unsubscribe,
            ("GET", "/endpoints"): self.list_endpoints,
            ("GET", "/endpoints/{tech}"): self.list_endpoints_by_tech,
            ("GET", "/endpoints/{tech}/{resource}"): self.get_endpoint,
            ("GET", "/deviceStates"): self.list_device_states,
            ("GET", "/deviceStates/{deviceName}"): self.get_device_state,
            ("PUT", "/deviceStates/{deviceName}"): self.update_device_state,
            ("DELETE", "/deviceStates/{deviceName}"): self.delete_device_state,
            ("GET", "/channels"): self.list_channels,
            ("POST", "/channels"): self.originate,
            ("POST", "/channels/create"): self.create,
            ("GET", "/channels/{channelId}"): self.get_channel,
            ("POST", "/channels/{channelId}"): self.originate,
            ("DELETE", "/channels/{channelId}"): self.hangup,
            ("POST", "/channels/{channelId}/continue"): self.continue_,
            ("POST", "/channels/{channelId}/redirect"): self.redirect,
            ("POST", "/channels/{channelId}/answer"): self.answer,
            ("POST", "/channels/{channelId}/ring"): self.tone("ring"),
            ("DELETE", "/channels/{channelId}/ring"): self.tone_stop("ring"),
            ("POST", "/channels/{channelId}/progress"): self.in_stasis_noop,
            ("POST", "/channels/{channelId}/dtmf"): self.send_dtmf,
            ("POST", "/channels/{channelId}/mute"): self.in_stasis_noop,
            ("DELETE", "/channels/{channelId}/mute"): self.in_stasis_noop,
            ("POST", "/channels/{channelId}/hold"): self.tone("hold"),
            ("DELETE", "/channels/{channelId}/hold"): self.tone_stop("hold"),
            ("POST", "/channels/{channelId}/moh"): self.tone("moh"),
            ("DELETE", "/channels/{channelId}/moh"): self.tone_stop("moh"),
            ("POST", "/channels/{channelId}/silence"): self.tone("silence"),
            ("DELETE", "/channels/{channelId}/silence"): self.tone_stop("silence"),
            ("POST", "/channels/{channelId}/play"): self.play_channel,
            ("POST", "/channels/{channelId}/play/{playbackId}"): self.play_channel,
            ("GET", "/channels/{channelId}/variable"): self.get_variable,
            ("POST", "/channels/{channelId}/variable"): self.set_variable,
            ("POST", "/channels/{channelId}/dial"): self.dial,
            ("POST", "/channels/{channelId}/transfer_progress"): self.transfer_progress,
            ("GET", "/bridges"): self.list_bridges,
            ("POST", "/bridges"): self.create_bridge,
            ("POST", "/bridges/{bridgeId}"): self.create_bridge,
            ("GET", "/bridges/{bridgeId}"): self.get_bridge,
            ("DELETE", "/bridges/{bridgeId}"): self.destroy_bridge,
            ("POST", "/bridges/{bridgeId}/addChannel"): self.add_channel,
            ("POST", "/bridges/{bridgeId}/removeChannel"): self.remove_channel,
            ("POST", "/bridges/{bridgeId}/moh"): self.bridge_moh(True),
            ("DELETE", "/bridges/{bridgeId}/moh"): self.bridge_moh(False),
            ("POST", "/bridges/{bridgeId}/play"): self.play_bridge,
            ("POST", "/bridges/{bridgeId}/play/{playbackId}"): self.play_bridge,
            ("GET", "/sounds"): self.list_sounds,
            ("GET", "/sounds/{soundId}"): self.get_sound,
            ("GET", "/playbacks/{playbackId}"): self.get_playback,
            ("DELETE", "/playbacks/{playbackId}"): self.stop_playback,
            ("POST", "/playbacks/{playbackId}/control"): self.control_playback,
        }

    # -- asterisk ------------------------------------------------------------------------
    async def asterisk_info(self, call: Call) -> web.StreamResponse:
        started = self.engine.started_at
        return json_response(
            {
                "build": {"os": "Linux", "kernel": "simulated", "options": "", "machine": "x86_64",
                          "date": "2026-01-01 00:00:00 UTC", "user": "decroche"},
                "system": {"version": "22.10.1-decroche-sim",
                           "entity_id": self.engine.stasis.asterisk_id},
                "config": {"name": "decroche-sim", "default_language": "en",
                           "setid": {"user": "", "group": ""}},
                "status": {"startup_time": started, "last_reload_time": started},
            }
        )  # fmt: skip

    async def asterisk_ping(self, call: Call) -> web.StreamResponse:
        return json_response(
            {
                "asterisk_id": self.engine.stasis.asterisk_id,
                "ping": "pong",
                "timestamp": self.engine.now(),
            }
        )

    async def get_global(self, call: Call) -> web.StreamResponse:
        name = call.text("variable")
        if not name:
            raise AriRefusal(400, "Variable name is required")
        if name not in self.engine.global_vars:
            raise AriRefusal(404, "Provided variable was not found")
        return json_response({"value": self.engine.global_vars[name]})

    async def set_global(self, call: Call) -> web.StreamResponse:
        name = call.text("variable")
        if not name:
            raise AriRefusal(400, "Variable name is required")
        self.engine.global_vars[name] = call.text("value") or ""
        return no_content()

    # -- applications --------------------------------------------------------------------
    async def list_apps(self, call: Call) -> web.StreamResponse:
        return json_response([a.to_json() for a in self.engine.stasis.apps.values()])

    def _app(self, call: Call) -> Any:
        app = self.engine.stasis.apps.get(call.path("applicationName"))
        if app is None:
            raise AriRefusal(404, "Application not found")
        return app

    async def get_app(self, call: Call) -> web.StreamResponse:
        return json_response(self._app(call).to_json())

    async def subscribe(self, call: Call) -> web.StreamResponse:
        return json_response(self._subscription(call, subscribe=True))

    async def unsubscribe(self, call: Call) -> web.StreamResponse:
        return json_response(self._subscription(call, subscribe=False))

    def _subscription(self, call: Call, *, subscribe: bool) -> JsonDict:
        source = call.text("eventSource")
        if not source:
            raise AriRefusal(400, "Missing parameter eventSource")
        app = self._app(call)
        engine = self.engine
        # One source after the other, as Asterisk: the first unknown one stops the request with
        # 422, and the sources before it stay (un)subscribed.
        for item in source.split(","):
            scheme, _, name = item.partition(":")
            if scheme == "channel":
                channel = engine.channels.get(name)
                if channel is None:
                    raise AriRefusal(422, "Event source does not exist")
                ids, target = app.channel_ids, channel.subscribers
            elif scheme == "bridge":
                bridge = engine.bridges.get(name)
                if bridge is None:
                    raise AriRefusal(422, "Event source does not exist")
                ids, target = app.bridge_ids, bridge.subscribers
            elif scheme == "endpoint":
                if name not in engine.endpoints:
                    raise AriRefusal(422, "Event source does not exist")
                ids, target = app.endpoint_ids, None
            elif scheme == "deviceState":
                ids, target = app.device_names, None
            else:
                raise AriRefusal(400, f"Invalid event source URI scheme '{scheme}'")
            if subscribe:
                ids.add(name)
                if target is not None:
                    target.add(app.name)
            else:
                if name not in ids:
                    raise AriRefusal(409, "Application not subscribed to event source")
                ids.discard(name)
                if target is not None:
                    target.discard(app.name)
        result: JsonDict = app.to_json()
        return result

    # -- endpoints and device states -----------------------------------------------------
    async def list_endpoints(self, call: Call) -> web.StreamResponse:
        return json_response([e.to_json() for e in self.engine.endpoints.values()])

    async def list_endpoints_by_tech(self, call: Call) -> web.StreamResponse:
        tech = call.path("tech")
        found = [e.to_json() for e in self.engine.endpoints.values() if e.technology == tech]
        if not found:
            raise AriRefusal(404, f"No Endpoints found - invalid tech {tech}")
        return json_response(found)

    async def get_endpoint(self, call: Call) -> web.StreamResponse:
        endpoint = self.engine.endpoints.get(f"{call.path('tech')}/{call.path('resource')}")
        if endpoint is None:
            raise AriRefusal(404, "Endpoint not found")
        return json_response(endpoint.to_json())

    async def list_device_states(self, call: Call) -> web.StreamResponse:
        return json_response(
            [{"name": n, "state": s} for n, s in self.engine.custom_device_states.items()]
        )

    async def get_device_state(self, call: Call) -> web.StreamResponse:
        name = call.path("deviceName")
        return json_response({"name": name, "state": self.engine.devices.device_state(name)})

    async def update_device_state(self, call: Call) -> web.StreamResponse:
        name = call.path("deviceName")
        state = call.text("deviceState")
        if not name.startswith("Stasis:"):
            raise AriRefusal(409, "Uncontrolled device specified")
        allowed = ("NOT_INUSE", "INUSE", "BUSY", "INVALID", "UNAVAILABLE", "RINGING",
                   "RINGINUSE", "ONHOLD")  # fmt: skip
        if state not in allowed:
            raise AriRefusal(400, "Invalid device state")
        self.engine.custom_device_states[name] = state
        event = self.engine.event("DeviceStateChanged", device_state={"name": name, "state": state})
        self.engine.stasis.emit(event, device=name)
        return no_content()

    async def delete_device_state(self, call: Call) -> web.StreamResponse:
        name = call.path("deviceName")
        if not name.startswith("Stasis:"):
            raise AriRefusal(409, "Uncontrolled device specified")
        if self.engine.custom_device_states.pop(name, None) is None:
            raise AriRefusal(404, "Device name is missing")
        return no_content()

    # -- channels ------------------------------------------------------------------------
    async def list_channels(self, call: Call) -> web.StreamResponse:
        return json_response([c.to_json() for c in self.engine.channels.values()])

    async def get_channel(self, call: Call) -> web.StreamResponse:
        return json_response(self.engine.channel(call.path("channelId")).to_json())

    async def originate(self, call: Call) -> web.StreamResponse:
        channel_id = call.match_info.get("channelId") or call.text("channelId")
        channel = self.engine.dialling.originate(
            call.text("endpoint"),
            app=call.text("app"),
            app_args=call.text("appArgs"),
            extension=call.text("extension"),
            context=call.text("context"),
            channel_id=channel_id,
            caller_id=call.text("callerId"),
            timeout=call.integer("timeout", 30),
            variables=call.variables,
            other_channel_id=call.text("otherChannelId"),
            originator=call.text("originator"),
        )
        return json_response(channel.to_json())

    async def create(self, call: Call) -> web.StreamResponse:
        channel = self.engine.dialling.create(
            call.text("endpoint"),
            call.text("app"),
            call.text("appArgs"),
            call.text("channelId"),
            call.variables,
            other_channel_id=call.text("otherChannelId"),
            originator=call.text("originator"),
        )
        return json_response(channel.to_json())

    async def hangup(self, call: Call) -> web.StreamResponse:
        self.engine.hangup_request(
            call.path("channelId"), call.text("reason"), call.text("reason_code")
        )
        return no_content()

    async def continue_(self, call: Call) -> web.StreamResponse:
        priority = call.integer("priority") or None
        self.engine.continue_in_dialplan(
            call.path("channelId"), call.text("context"), call.text("extension"), priority
        )
        return no_content()

    async def redirect(self, call: Call) -> web.StreamResponse:
        self.engine.redirect(call.path("channelId"), call.text("endpoint"))
        return no_content()

    async def answer(self, call: Call) -> web.StreamResponse:
        self.engine.answer(call.path("channelId"))
        return no_content()

    def tone(self, kind: str) -> Handler:
        async def handler(call: Call) -> web.StreamResponse:
            self.engine.set_tone(call.path("channelId"), kind)
            return no_content()

        return handler

    def tone_stop(self, kind: str) -> Handler:
        async def handler(call: Call) -> web.StreamResponse:
            self.engine.set_tone(call.path("channelId"), None, stop=kind)
            return no_content()

        return handler

    async def in_stasis_noop(self, call: Call) -> web.StreamResponse:
        self.engine.stasis_channel(call.path("channelId"))
        return no_content()

    async def send_dtmf(self, call: Call) -> web.StreamResponse:
        self.engine.send_dtmf(
            call.path("channelId"),
            call.text("dtmf"),
            before_ms=call.integer("before", 0),
            between_ms=call.integer("between", 100),
            duration_ms=call.integer("duration", 100),
            after_ms=call.integer("after", 0),
        )
        return no_content()

    async def play_channel(self, call: Call) -> web.StreamResponse:
        channel = self.engine.stasis_channel(call.path("channelId"))
        return self._play(call, channel)

    def _play(self, call: Call, target: Channel | Bridge) -> web.StreamResponse:
        media = [m for m in (call.text("media") or "").split(",")] if call.text("media") else []
        playback_id = call.match_info.get("playbackId") or call.text("playbackId")
        playback = self.engine.player.play(target, media, call.text("lang"), playback_id)
        response = json_response(playback.to_json(), 201)
        response.headers["Location"] = f"/playbacks/{playback.id}"
        return response

    async def get_variable(self, call: Call) -> web.StreamResponse:
        value = self.engine.get_variable(call.path("channelId"), call.text("variable"))
        return json_response({"value": value})

    async def set_variable(self, call: Call) -> web.StreamResponse:
        self.engine.set_variable(
            call.path("channelId"), call.text("variable"), call.text("value") or ""
        )
        return no_content()

    async def dial(self, call: Call) -> web.StreamResponse:
        self.engine.dialling.dial(
            call.path("channelId"), call.text("caller"), call.integer("timeout")
        )
        return no_content()

    async def transfer_progress(self, call: Call) -> web.StreamResponse:
        self.engine.transfers.progress(call.path("channelId"), call.text("states"))
        return no_content()

    # -- bridges -------------------------------------------------------------------------
    async def list_bridges(self, call: Call) -> web.StreamResponse:
        return json_response([b.to_json() for b in self.engine.bridges.values()])

    async def create_bridge(self, call: Call) -> web.StreamResponse:
        bridge_id = call.match_info.get("bridgeId") or call.text("bridgeId")
        bridge = self.engine.bridging.create(call.text("type"), bridge_id, call.text("name"))
        return json_response(bridge.to_json())

    async def get_bridge(self, call: Call) -> web.StreamResponse:
        return json_response(self.engine.bridging.get(call.path("bridgeId")).to_json())

    async def destroy_bridge(self, call: Call) -> web.StreamResponse:
        self.engine.bridging.destroy(call.path("bridgeId"))
        return no_content()

    async def add_channel(self, call: Call) -> web.StreamResponse:
        self.engine.bridging.add_channels(call.path("bridgeId"), call.text("channel"))
        return no_content()

    async def remove_channel(self, call: Call) -> web.StreamResponse:
        self.engine.bridging.remove_channel(call.path("bridgeId"), call.text("channel"))
        return no_content()

    def bridge_moh(self, on: bool) -> Handler:
        async def handler(call: Call) -> web.StreamResponse:
            self.engine.bridging.set_moh(call.path("bridgeId"), on)
            return no_content()

        return handler

    async def play_bridge(self, call: Call) -> web.StreamResponse:
        bridge = self.engine.bridging.get(call.path("bridgeId"))
        return self._play(call, bridge)

    # -- playbacks -----------------------------------------------------------------------
    # -- sounds --------------------------------------------------------------------------
    async def list_sounds(self, call: Call) -> web.StreamResponse:
        folder = self.engine.media.sounds
        if folder is None:
            return json_response([])  # no sounds folder: nothing to list
        return json_response(folder.listing(call.text("lang"), call.text("format")))

    async def get_sound(self, call: Call) -> web.StreamResponse:
        folder = self.engine.media.sounds
        sound = folder.sound(call.path("soundId")) if folder is not None else None
        if sound is None:
            raise AriRefusal(404, "Sound not found")
        return json_response(sound)

    async def get_playback(self, call: Call) -> web.StreamResponse:
        playback = self.engine.playbacks.get(call.path("playbackId"))
        if playback is None:
            raise AriRefusal(404, "Playback not found")
        return json_response(playback.to_json())

    async def stop_playback(self, call: Call) -> web.StreamResponse:
        self.engine.player.stop(call.path("playbackId"))
        return no_content()

    async def control_playback(self, call: Call) -> web.StreamResponse:
        self.engine.player.control(call.path("playbackId"), call.text("operation"))
        return no_content()

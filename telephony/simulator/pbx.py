"""``SimulatedPbx``: the composition root of the simulator and its Python API."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from aiohttp import web

from telephony.clock import Clock, ScaledClock

from .ari_http import Credentials, add_ari_routes, ari_errors
from .control_http import add_control_routes
from .engine import DialplanConfig, Engine
from .history import History
from .latency import StasisWindow
from .media import MediaCatalogue
from .people import CallHandle
from .resources import JsonDict
from .scripts import AgentScript, CallerScript
from .sounds import SoundFolder
from .stasis import StasisApps

DEFAULT_ASTERISK_ID = "02:fc:00:00:00:01"


class SimulatedPbx:
    """A PBX speaking Asterisk 22's ARI, with scripted callers and agents.

    ``clock`` drives every timer (``ScaledClock(200)`` runs a day in minutes); ``app`` is the
    Stasis application inbound calls enter by default; ``stasis_window`` is how long a channel
    made by ``channels/create`` takes to enter its application (0.5 to 3 ms at random by
    default, see :mod:`telephony.simulator.latency`); ``sounds`` is its sounds folder, shaped
    like Asterisk's (``<sounds>/fr/decroche/<id>.wav``): a sound absent from it fails to play, as
    on Asterisk. Without one, every sound is taken as present. ``history``: keep what happened
    on every channel (``engine.history``, see :mod:`telephony.simulator.history`).
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        app: str = "decroche",
        username: str = "decroche",
        password: str = "decroche",
        asterisk_id: str = DEFAULT_ASTERISK_ID,
        media: MediaCatalogue | None = None,
        dialplan: DialplanConfig | None = None,
        stasis_window: StasisWindow | None = None,
        sounds: Path | None = None,
        history: bool = False,
    ) -> None:
        self.clock: Clock = clock or ScaledClock(1.0)
        if sounds is not None:
            media = media or MediaCatalogue()
            media.sounds = SoundFolder(sounds)
        self.credentials = Credentials(username, password)
        self.stasis = StasisApps(self.clock, asterisk_id)
        self.engine = Engine(
            self.clock,
            self.stasis,
            media=media,
            dialplan=dialplan,
            default_app=app,
            stasis_window=stasis_window,
        )
        if history:
            self.engine.history = History()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.host = "127.0.0.1"
        self.port = 0

    # -- web -----------------------------------------------------------------------------
    def web_app(self) -> web.Application:
        """The aiohttp application (ARI under /ari, control API under /sim)."""
        app = web.Application(middlewares=[ari_errors])
        add_ari_routes(app, self.engine, self.credentials)
        add_control_routes(app, self)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 8088) -> int:
        """Serve over HTTP; ``port=0`` picks a free port. Returns the port."""
        self._runner = web.AppRunner(self.web_app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, host, port)
        await self._site.start()
        server = self._site._server
        sockets = getattr(server, "sockets", None) or []
        self.host = host
        self.port = sockets[0].getsockname()[1] if sockets else port
        return self.port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def restart(self, down_s: float = 0.0) -> None:
        """``core restart`` (or a crash and its restart): every call ends at once — the callers
        get a BYE with cause 0 — and every application's WebSocket closes, without an event:
        nothing tells an application which calls it lost. Asterisk then refuses connections for
        ``down_s`` seconds and comes back empty (no channel, bridge or application; the phones
        registered as before), with a new startup time (``GET /asterisk/info``)."""
        engine = self.engine
        sinks = [app.sink for app in self.stasis.apps.values() if app.sink is not None]
        for app in self.stasis.apps.values():
            app.sink = None  # events from here on reach nobody
        for channel in list(engine.channels.values()):
            if channel.id in engine.channels and not channel.hanging_up:
                engine.hangup(channel, request={}, cause=0, how="pbx_restarted", emit_request=False)
        engine.bridges.clear()
        engine.playbacks.clear()
        engine.global_vars.clear()
        self.stasis.apps.clear()
        for sink in sinks:
            await sink.close()
        if down_s > 0 and self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            await self.clock.sleep(down_s)
            await self.start(self.host, self.port)
        engine.started_at = engine.now()

    async def drop_link(self, down_s: float) -> None:
        """The network between the applications and Asterisk fails for ``down_s`` seconds:
        every WebSocket closes (their events are dropped meanwhile, as for any app without
        one, and new calls cannot enter them) and connections are refused; Asterisk and its
        calls go on, the channels staying in their applications."""
        sinks = [app.sink for app in self.stasis.apps.values() if app.sink is not None]
        for app in list(self.stasis.apps.values()):
            if app.sink is not None:
                self.stasis.disconnect([app.name], app.sink)
        for sink in sinks:
            await sink.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.clock.sleep(down_s)
        await self.start(self.host, self.port)

    async def stop(self) -> None:
        """Hang up every channel, close every WebSocket and stop serving."""
        for channel in list(self.engine.channels.values()):
            self.engine.hangup(channel, request={"cause": 16}, cause=16, how="pbx_stopped")
        for app in list(self.stasis.apps.values()):
            if app.sink is not None:
                await app.sink.close()
        if self._runner is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner.cleanup()
            self._runner = None

    # -- people --------------------------------------------------------------------------
    def add_agent(self, script: AgentScript | None = None, **fields: Any) -> AgentScript:
        """Declare (or change) an agent's phone: ``add_agent(endpoint="PJSIP/1042", ...)``."""
        agent = script if script is not None else AgentScript(**fields)
        return self.engine.devices.add_agent(agent)

    def place_call(self, script: CallerScript | None = None, **fields: Any) -> CallHandle:
        """A scripted caller dials in now; the handle records what happens to it."""
        return self.engine.callers.place_call(
            script if script is not None else CallerScript(**fields)
        )

    def set_media_durations(self, durations: dict[str, float]) -> None:
        self.engine.media.set_durations(durations)

    async def wait_idle(self) -> None:
        """Wait until no channel is left and every scripted call has ended."""
        await self.engine.wait_idle()

    def state(self) -> JsonDict:
        engine = self.engine
        return {
            "time": engine.now(),
            "channels": [
                {**c.to_json(), "bridge": c.bridge_id, "stasis_app": c.stasis_app,
                 "hearing": c.tone, "playbacks": [p.id for p in c.playbacks],
                 "local_peer": c.local_peer.id if c.local_peer is not None else None,
                 "refer_pending": c.pending_refer is not None}
                for c in engine.channels.values()
            ],
            "bridges": [b.to_json() for b in engine.bridges.values()],
            "endpoints": [
                {**e.to_json(), "device_state": e.device_state, "shown": list(e.shown)}
                for e in engine.endpoints.values()
            ],
            "apps": [
                {**a.to_json(), "connected": a.active, "subscribe_all": a.subscribe_all}
                for a in self.stasis.apps.values()
            ],
            "calls": [h.to_json() for h in engine.calls.values()],
            "events": {"sent": self.stasis.sent, "dropped": self.stasis.dropped},
        }  # fmt: skip

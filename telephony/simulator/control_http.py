"""The simulator's own control API under ``/sim/...`` (documented in docs/simulator.md).

Errors answer ``{"error": "<what is wrong, naming the field>"}`` with 400 or 404.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import ValidationError

from .errors import ScriptError
from .latency import StasisWindow
from .scripts import AgentScript, CallerScript

if TYPE_CHECKING:
    from .pbx import SimulatedPbx

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


def _error(status: int, message: str) -> web.Response:
    return _json({"error": message}, status)


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ScriptError(f"request body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ScriptError("request body must be a JSON object")
    return body


def _guard(handler: Handler) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ValidationError as exc:
            return _error(400, _describe(exc))
        except (ScriptError, ValueError) as exc:
            return _error(400, str(exc))

    return wrapped


def add_control_routes(app: web.Application, pbx: SimulatedPbx) -> None:
    async def state(request: web.Request) -> web.StreamResponse:
        return _json(pbx.state())

    async def place_call(request: web.Request) -> web.StreamResponse:
        script = CallerScript.model_validate(await _body(request))
        handle = pbx.place_call(script)
        return _json(handle.to_json(), 201)

    async def get_call(request: web.Request) -> web.StreamResponse:
        handle = pbx.engine.calls.get(request.match_info["callId"])
        if handle is None:
            return _error(404, f"no call {request.match_info['callId']!r}")
        return _json(handle.to_json())

    async def list_agents(request: web.Request) -> web.StreamResponse:
        return _json([a.model_dump() for a in pbx.engine.agents.values()])

    async def put_agent(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        endpoint = request.match_info["endpoint"]
        if body.get("endpoint", endpoint) != endpoint:
            raise ScriptError(
                f"endpoint in body {body['endpoint']!r} differs from URL {endpoint!r}"
            )
        body["endpoint"] = endpoint
        agent = pbx.add_agent(AgentScript.model_validate(body))
        return _json(agent.model_dump())

    async def delete_agent(request: web.Request) -> web.StreamResponse:
        endpoint = request.match_info["endpoint"]
        if endpoint not in pbx.engine.agents:
            return _error(404, f"no agent with endpoint {endpoint!r}")
        pbx.engine.devices.remove_agent(endpoint)
        return web.Response(status=204)

    async def get_media(request: web.Request) -> web.StreamResponse:
        media = pbx.engine.media
        return _json(
            {
                "durations": media.durations,
                "missing": sorted(media.missing),
                "default_duration": media.default_duration,
                "sounds": str(media.sounds.root) if media.sounds is not None else None,
            }
        )

    async def put_media(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        unknown = set(body) - {"durations", "missing", "default_duration"}
        if unknown:
            raise ScriptError(f"unknown keys in media settings: {sorted(unknown)}")
        durations = body.get("durations", {})
        if not isinstance(durations, dict):
            raise ScriptError("durations must be an object {media URI: seconds}")
        missing = body.get("missing", [])
        if not isinstance(missing, list) or not all(isinstance(m, str) for m in missing):
            raise ScriptError("missing must be a list of media URIs")
        default = body.get("default_duration")
        if default is not None and (not isinstance(default, int | float) or default < 0):
            raise ScriptError("default_duration must be a number of seconds >= 0")
        pbx.engine.media.set_durations(durations)
        pbx.engine.media.missing.update(missing)
        if default is not None:
            pbx.engine.media.default_duration = float(default)
        return await get_media(request)

    async def get_stasis_window(request: web.Request) -> web.StreamResponse:
        window = pbx.engine.stasis_window
        return _json({"min_ms": window.min_s * 1000, "max_ms": window.max_s * 1000})

    async def put_stasis_window(request: web.Request) -> web.StreamResponse:
        """``{"ms": "0.5-3", "seed": 15}``: the created channels' delay from now on."""
        body = await _body(request)
        unknown = set(body) - {"ms", "seed"}
        if unknown:
            raise ScriptError(f"unknown keys in the stasis window: {sorted(unknown)}")
        ms, seed = body.get("ms"), body.get("seed")
        if not isinstance(ms, str | int | float) or isinstance(ms, bool):
            raise ScriptError('ms must be a delay in ms (2) or a range ("0.5-3")')
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise ScriptError("seed must be an integer")
        pbx.engine.stasis_window = StasisWindow.parse_ms(str(ms), seed=seed)
        return await get_stasis_window(request)

    async def wait_idle(request: web.Request) -> web.StreamResponse:
        try:
            timeout = float(request.query.get("timeout", "60"))
        except ValueError as exc:
            raise ScriptError("timeout must be a number of seconds") from exc
        try:
            await asyncio.wait_for(pbx.wait_idle(), timeout)
        except TimeoutError:
            return _json({"idle": False})
        return _json({"idle": True})

    async def restart(request: web.Request) -> web.StreamResponse:
        """``{"down_s": 2}``: a ``core restart``, after this answer (the server may go down)."""
        body = await _body(request)
        unknown = set(body) - {"down_s"}
        if unknown:
            raise ScriptError(f"unknown keys in the restart: {sorted(unknown)}")
        down = body.get("down_s", 0)
        if not isinstance(down, int | float) or isinstance(down, bool) or down < 0:
            raise ScriptError("down_s must be a number of seconds >= 0")
        task = asyncio.get_running_loop().create_task(pbx.restart(float(down)))
        restarts.add(task)
        task.add_done_callback(restarts.discard)
        return _json({"restarting": True, "down_s": down}, 202)

    restarts: set[asyncio.Task[None]] = set()
    routes: list[tuple[str, str, Handler]] = [
        ("GET", "/sim/state", state),
        ("POST", "/sim/calls", place_call),
        ("GET", "/sim/calls/{callId}", get_call),
        ("GET", "/sim/agents", list_agents),
        ("PUT", "/sim/agents/{endpoint:.+}", put_agent),
        ("DELETE", "/sim/agents/{endpoint:.+}", delete_agent),
        ("GET", "/sim/media", get_media),
        ("PUT", "/sim/media", put_media),
        ("POST", "/sim/wait-idle", wait_idle),
        ("GET", "/sim/stasis-window", get_stasis_window),
        ("PUT", "/sim/stasis-window", put_stasis_window),
        ("POST", "/sim/restart", restart),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, _guard(handler))

"""The live view: calls in the menus, waiting and talking per service, agents' states; pushed
to the page as server-sent events."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from analytics import glossary
from reports import format as fmt
from reports.live import AGENT_STATE_FR, LiveSnapshot
from reports.web.app import DEPS, STREAMS, TEMPLATES, WebDeps, render


def live_context(deps: WebDeps, snapshot: LiveSnapshot | None) -> dict[str, Any]:
    names = deps.names()
    order = glossary.by_name(names)
    services = sorted(snapshot.services, key=lambda s: order(s.service_id)) if snapshot else []
    return {
        "snapshot": snapshot,
        "services": services,
        "queued_services": services,
        "names": names,
        "state_fr": AGENT_STATE_FR,
        "seconds": fmt.seconds,
    }


async def live(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    return render(request, "live.html", **live_context(deps, deps.live.latest()))


async def live_stream(request: web.Request) -> web.StreamResponse:
    """Server-sent events: one ``snapshot`` event (the HTML of the live tables) per change."""
    deps = request.app[DEPS]
    env = request.app[TEMPLATES]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    fragment = env.get_template("_live_tables.html")
    snapshots = deps.live.subscribe()
    task = asyncio.current_task()
    streams = request.app[STREAMS]
    if task is not None:
        streams.add(task)
    try:
        while True:
            try:
                snapshot = await asyncio.wait_for(anext(snapshots), deps.sse_keepalive_s)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            html = fragment.render(**live_context(deps, snapshot))
            data = "".join(f"data: {line}\n" for line in html.splitlines() if line.strip())
            await response.write(f"event: snapshot\n{data}\n".encode())
    except ConnectionResetError:
        return response
    finally:
        if task is not None:
            streams.discard(task)
        await snapshots.aclose()

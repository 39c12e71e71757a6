"""The quality lead's staffing page: agents needed and present per service, weekday and hour."""

from __future__ import annotations

import asyncio

from aiohttp import web

from reports.periods import period_from_query
from reports.staffing_view import SHORT_MARK, staffing_view
from reports.web.app import DEPS, render


async def staffing(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    if deps.staffing is None:
        raise web.HTTPNotFound(text="effectifs non disponibles dans ce processus")
    period = period_from_query(dict(request.query), deps.today())
    engine = deps.staffing
    # The plan is figures over the period's records: in a thread, the live pages keep going.
    plan = await asyncio.get_running_loop().run_in_executor(
        None, lambda: engine.plan(period.start, period.end)
    )
    return render(
        request,
        "staffing.html",
        view=staffing_view(plan),
        period=period,
        view_period={"period": period},
        mark=SHORT_MARK,
    )


def add_staffing_routes(app: web.Application) -> None:
    app.router.add_get("/effectifs", staffing, name="staffing")

"""What every page handler shares: running blocking work off the loop, the session, the query."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlencode

from aiohttp import web

from reports.accounts import Session
from reports.periods import Period
from reports.tables import DataTable, to_csv, to_xlsx
from reports.web.app import SESSION, WebDeps

T = TypeVar("T")


async def blocking(func: Callable[[], T]) -> T:
    """Database reads and figures run in a thread: the event loop keeps serving live pages."""
    return await asyncio.get_running_loop().run_in_executor(None, func)


def _session(request: web.Request) -> Session:
    return request[SESSION]


def _query(request: web.Request) -> dict[str, str]:
    return {key: value for key, value in request.query.items() if isinstance(value, str)}


def period_query(period: Period) -> str:
    if period.is_month:
        return urlencode({"mois": period.month_key})
    return urlencode({"du": period.start.isoformat(), "au": period.end.isoformat()})


async def table_response(deps: WebDeps, table: DataTable, kind: str, stem: str) -> web.Response:
    """``table`` as a download: CSV (``;``, UTF-8, what French Excel opens) or XLSX."""
    if kind == "csv":
        body, mime = to_csv(table), "text/csv"
    else:
        body = await blocking(lambda: to_xlsx(table, deps.now()))
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return web.Response(
        body=body,
        content_type=mime,
        headers={"Content-Disposition": f'attachment; filename="{stem}.{kind}"'},
    )

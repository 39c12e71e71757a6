"""The quality lead's pages: the dashboard, a service's page, the exports, the reports."""

from __future__ import annotations

import re

from aiohttp import web

from analytics.api import Indicators
from analytics.objectives import previous_period
from reports.agent_tables import service_agents_table
from reports.detail_tables import satisfaction_table
from reports.errors import InputError
from reports.periods import Period, period_from_query
from reports.service_view import ServiceView, service_view
from reports.tables import DataTable
from reports.views import TOTAL, DashboardView, dashboard_view
from reports.web.app import DEPS, WebDeps, render
from reports.web.common import _query, blocking, period_query, table_response

_SERVICE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
REPORT_FILE = re.compile(
    r"^(bilan-(mensuel-\d{4}-\d{2}|annuel-\d{4})"
    r"|audit-interne-(mensuel-\d{4}-\d{2}|\d{8}-\d{6}-[0-9a-f]{6}))\.(html|pdf)$"
)


def _period(request: web.Request) -> Period:
    deps = request.app[DEPS]
    return period_from_query(_query(request), deps.today())


def dashboard_of(deps: WebDeps, period: Period) -> DashboardView:
    """The dashboard of ``period``, with the survey's figures when the rules have a survey."""
    indicators = _indicators(deps, period)
    today = deps.today()
    survey = (
        indicators.satisfaction(period.start, period.end, today=today)
        if indicators.scales
        else None
    )
    return dashboard_view(indicators, period, deps.names(), survey, today)


async def dashboard(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    period = _period(request)
    view = await blocking(lambda: dashboard_of(deps, period))
    return render(request, "dashboard.html", view=view, pq=period_query(period))


def _indicators(deps: WebDeps, period: Period) -> Indicators:
    """The page's indicators: one load covering the period and the previous one."""
    before, _ = previous_period(period.start, period.end)
    return deps.indicators_for(before, period.end)


def _service_id(request: web.Request) -> str:
    service = request.match_info["service"]
    if not _SERVICE_ID.match(service):
        raise InputError(f"service : « {service} » n'est pas un identifiant de service")
    return service


async def service(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    period = _period(request)
    service_id = _service_id(request)
    indicators = _indicators(deps, period)
    today = deps.today()
    view = await blocking(
        lambda: service_view(
            indicators, period, service_id, deps.names(), deps.menus(), today=today
        )
    )
    survey = await blocking(lambda: satisfaction_table(indicators, period, service_id))
    if survey is not None:
        view.extra["satisfaction"] = survey
    logins = {phone: login for login, phone in deps.agent_phones.items()}
    phones = deps.service_agents().get(service_id, ())
    agents = await blocking(
        lambda: service_agents_table(
            indicators.agents(period.start, period.end),
            service_id,
            phones,
            logins,
            named=deps.name_agents,
        )
    )
    if agents is not None:
        view.extra["agents"] = agents
    if view.card is None and not view.daily.rows:
        return render(
            request,
            "error.html",
            status=404,
            title="Service sans appel",
            message=f"Aucun appel pour le service « {service_id} » sur la période "
            f"{period.label_fr}.",
        )
    return render(request, "service.html", view=view, pq=period_query(period))


def find_table(deps: WebDeps, name: str, period: Period) -> DataTable:
    """The table ``name`` of the dashboard or of a service page, for the export links."""
    if name in ("tableau-de-bord", "objectifs"):
        board: DashboardView = dashboard_of(deps, period)
        return board.table if name == "tableau-de-bord" else board.objectives
    prefix, _, service_id = name.partition("-")
    if name in ("choix-menu", "rappels"):
        service_id = TOTAL
    elif prefix not in (
        "jours",
        "heures",
        "attentes",
        "debordements",
        "satisfaction",
    ) or not _SERVICE_ID.match(service_id):
        raise web.HTTPNotFound(text=f"pas de tableau « {name} »")
    if prefix == "satisfaction" and (service_id == TOTAL or _SERVICE_ID.match(service_id)):
        survey = satisfaction_table(_indicators(deps, period), period, service_id)
        if survey is None:
            raise web.HTTPNotFound(text=f"pas de tableau « {name} » pour cette période")
        return survey
    view: ServiceView = service_view(
        _indicators(deps, period),
        period,
        service_id,
        deps.names(),
        deps.menus(),
        today=deps.today(),
    )
    for table in view.tables():
        if table.name == name:
            return table
    raise web.HTTPNotFound(text=f"pas de tableau « {name} » pour cette période")


async def export(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    period = _period(request)
    name, kind = request.match_info["name"], request.match_info["fmt"]
    table = await blocking(lambda: find_table(deps, name, period))
    stem = f"{table.name}-{period.month_key if period.is_month else period.start}"
    return await table_response(deps, table, kind, stem)


async def report_file(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    name = request.match_info["name"]
    if deps.reports_dir is None or not REPORT_FILE.match(name):
        raise web.HTTPNotFound()
    path = deps.reports_dir / name
    if not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path)

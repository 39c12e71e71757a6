"""The routes of the web app, each to its handler. Handlers are thin — they read the request, call
a service, render a template — and grouped by who uses them: :mod:`~reports.web.signin`,
:mod:`~reports.web.figures` (quality lead), :mod:`~reports.web.live_pages`,
:mod:`~reports.web.system_pages` and :mod:`~reports.web.whatif_pages` (IT),
:mod:`~reports.web.agent_pages`. Access per route is declared in :data:`reports.web.app.ACCESS`.
"""

from __future__ import annotations

from aiohttp import web

from reports.throttle import SignInGuard
from reports.web.agent_pages import agent, agent_callback, agent_presence
from reports.web.audit_pages import add_audit_routes
from reports.web.figures import dashboard, export, report_file, service
from reports.web.live_pages import live, live_stream
from reports.web.quality_pages import add_quality_routes
from reports.web.report_pages import add_report_routes, reports_page
from reports.web.signin import (
    SIGN_IN_GUARD,
    health,
    healthz,
    home,
    login,
    login_post,
    logout,
    metrics,
    static,
)
from reports.web.staffing_pages import add_staffing_routes
from reports.web.system_pages import system
from reports.web.whatif_pages import add_whatif_routes

__all__ = ["SIGN_IN_GUARD", "add_routes"]


def add_routes(app: web.Application) -> None:
    app[SIGN_IN_GUARD] = SignInGuard()
    app.router.add_get("/connexion", login, name="login")
    app.router.add_post("/connexion", login_post, name="login_post")
    app.router.add_post("/deconnexion", logout, name="logout")
    app.router.add_get("/sante", health, name="health")
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/metrics", metrics, name="metrics")
    app.router.add_get("/static/{name}", static, name="static_css")
    app.router.add_get("/", home, name="home")
    app.router.add_get("/tableau-de-bord", dashboard, name="dashboard")
    app.router.add_get("/service/{service}", service, name="service")
    app.router.add_get("/export/{name}.{fmt:csv|xlsx}", export, name="export")
    app.router.add_get("/rapports", reports_page, name="reports")
    app.router.add_get("/rapports/{name}", report_file, name="report_file")
    app.router.add_get("/direct", live, name="live")
    app.router.add_get("/direct/flux", live_stream, name="live_stream")
    app.router.add_get("/systeme", system, name="system")
    app.router.add_get("/agent", agent, name="agent")
    app.router.add_post("/agent/presence", agent_presence, name="agent_presence")
    app.router.add_post("/agent/rappel", agent_callback, name="agent_callback")
    add_staffing_routes(app)
    add_whatif_routes(app)
    add_audit_routes(app)
    add_report_routes(app)
    add_quality_routes(app)

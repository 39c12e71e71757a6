"""The aiohttp application: ``create_app(WebDeps(...))`` is what the composition root calls.

Access is declared once, in :data:`ACCESS` (route name -> roles allowed); the middleware checks it
for every request, so no page can forget to. A route missing from the table is refused.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from analytics import glossary
from analytics.api import Indicators
from analytics.staffing.api import Staffing
from reports import format as fmt
from reports.accounts import ROLE_FR, AccountStore, AuthSettings, Role, Session
from reports.actions import ActionBook
from reports.errors import InputError
from reports.generation import ReportJobs
from reports.live import LiveFeed
from reports.presence import AgentPresence
from reports.reviews import ReviewBook
from reports.web.audit_desk import AuditDesk
from reports.web.callbacks import CallbackBook
from reports.web.status import NoRouterStatus, SystemStatus
from routing_rules.messages import agreeing, counted
from routing_rules.narration import MenuWords
from whatif.jobs import WhatIfJobs

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PUBLIC = frozenset({"login", "login_post", "static_css", "health", "healthz", "metrics"})
Q, IT, AG = Role.QUALITY, Role.IT, Role.AGENT
ACCESS: dict[str, frozenset[Role]] = {
    "home": frozenset({Q, IT, AG}),
    "logout": frozenset({Q, IT, AG}),
    "dashboard": frozenset({Q}),
    "staffing": frozenset({Q}),
    "service": frozenset({Q}),
    "export": frozenset({Q}),
    "reports": frozenset({Q}),
    "report_file": frozenset({Q}),
    "report_make": frozenset({Q}),
    "report_job": frozenset({Q}),
    "live": frozenset({Q, IT}),
    "live_stream": frozenset({Q, IT}),
    "system": frozenset({IT}),
    "whatif": frozenset({IT}),
    "whatif_post": frozenset({IT}),
    "whatif_job": frozenset({IT}),
    "whatif_file": frozenset({IT}),
    "audit": frozenset({IT}),
    "audit_post": frozenset({IT}),
    "audit_run": frozenset({IT}),
    "actions": frozenset({Q}),
    "action_add": frozenset({Q}),
    "actions_export": frozenset({Q}),
    "action": frozenset({Q}),
    "action_post": frozenset({Q}),
    "reviews": frozenset({Q}),
    "reviews_export": frozenset({Q}),
    "review": frozenset({Q}),
    "review_post": frozenset({Q}),
    "review_objective_add": frozenset({Q}),
    "review_objective_remove": frozenset({Q}),
    "review_export": frozenset({Q}),
    "agent": frozenset({AG}),
    "agent_presence": frozenset({AG}),
    "agent_callback": frozenset({AG}),
}


def _no_names() -> Mapping[str, str]:
    return {}


def _no_menus() -> Mapping[str, MenuWords]:
    return {}


@dataclass(slots=True)
class WebDeps:
    """Everything the web app uses, built by the composition root (:mod:`decroche.app`).

    ``indicators`` and ``names`` are asked at each page, so a rules reload renames services and
    changes the time zone or the survey's scales on the next page.
    """

    indicators: Callable[[], Indicators]
    accounts: AccountStore
    live: LiveFeed
    presence: AgentPresence
    callbacks: CallbackBook
    names: Callable[[], Mapping[str, str]] = _no_names
    # Each voice menu's name and what each key does, of the rules in force (asked at each
    # page too, so a reload renames a menu on the next page).
    menus: Callable[[], Mapping[str, MenuWords]] = _no_menus
    system: SystemStatus = field(default_factory=NoRouterStatus)
    town: str = "Ville de Bernay"
    reports_dir: Path | None = None
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    timezone: str = "Europe/Paris"
    sse_keepalive_s: float = 15.0
    # Prometheus text for /metrics and a health document for /healthz (the running service's).
    metrics: Callable[[], str] | None = None
    healthz: Callable[[], dict[str, object]] | None = None
    # What-if simulations launched from the IT page (None: not offered by this process).
    whatif: WhatIfJobs | None = None
    # Agents needed per slot (None: the staffing page is not offered by this process).
    staffing: Staffing | None = None
    # The audit of the paths (None: not offered by this process).
    audit: AuditDesk | None = None
    # Reports made from the Rapports page (None: not offered by this process).
    reports: ReportJobs | None = None
    # The quality lead's action plan and management reviews (None: not offered).
    actions: ActionBook | None = None
    reviews: ReviewBook | None = None
    # Agent accounts -> their phone (``web.agent_phones``): each agent's own figures.
    agent_phones: Mapping[str, str] = field(default_factory=dict)
    # Each service's agents' phones, from the rules in force: its agents' figures.
    service_agents: Callable[[], Mapping[str, tuple[str, ...]]] = lambda: {}
    # Name the agents in the quality lead's per-agent figures (``web.name_agents_in_figures``;
    # pseudonymised by default: docs/chiffres-par-agent.md).
    name_agents: bool = False

    @property
    def auth(self) -> AuthSettings:
        return self.accounts.settings

    def indicators_for(self, start: date, end: date) -> Indicators:
        """The indicators for one page whose questions all fall within ``start``..``end``
        (already widened by the caller for the previous period): entries loaded once."""
        return self.indicators().memoised(start, end)

    def today(self) -> date:
        return self.now().astimezone(ZoneInfo(self.timezone)).date()


DEPS = web.AppKey("deps", WebDeps)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
SESSION = web.RequestKey("session", Session)
# Open live streams: closed on shutdown, or the server would wait for each one to time out.
STREAMS = web.AppKey("streams", set[asyncio.Task[object]])
LOGIN_CSRF_COOKIE = "decroche_login_csrf"


def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["ROLE_FR"] = ROLE_FR
    env.globals["fmt"] = fmt
    # The glossary's words, and counts with their words agreeing: « 1 créneau », « 3 créneaux ».
    env.globals["term"] = glossary.label
    env.globals["counted"] = counted
    env.globals["agreeing"] = agreeing
    return env


def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    env = request.app[TEMPLATES]
    session = request.get(SESSION)
    html = env.get_template(template).render(
        session=session,
        town=request.app[DEPS].town,
        nav=_nav(session),
        current=request.match_info.route.name,
        **context,
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def _nav(session: Session | None) -> list[tuple[str, str, str]]:
    """(route name, path, label) of the pages the signed-in role may open."""
    if session is None:
        return []
    pages = [
        ("dashboard", "/tableau-de-bord", "Tableau de bord"),
        ("staffing", "/effectifs", "Effectifs"),
        ("reports", "/rapports", "Rapports"),
        ("actions", "/actions", "Plan d'actions"),
        ("reviews", "/revue", "Revue de direction"),
        ("live", "/direct", "En direct"),
        ("system", "/systeme", "Système"),
        ("agent", "/agent", "Mon poste"),
    ]
    return [page for page in pages if session.user.role in ACCESS[page[0]]]


def _forbidden(request: web.Request) -> web.Response:
    return render(
        request,
        "error.html",
        status=403,
        title="Accès refusé",
        message="Votre rôle ne donne pas accès à cette page.",
    )


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


@web.middleware
async def access_control(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = request.match_info.route.name
    if route in PUBLIC or request.match_info.http_exception is not None:
        return await handler(request)
    deps = request.app[DEPS]
    token = request.cookies.get(deps.auth.cookie_name)
    session = None if token is None else deps.accounts.session(token, now=deps.now())
    if session is None:
        if request.method == "GET" and route not in ("live_stream", "export"):
            raise web.HTTPSeeOther(f"/connexion?suite={request.path_qs}")
        raise web.HTTPUnauthorized(text="session expirée : reconnectez-vous")
    request[SESSION] = session
    allowed = ACCESS.get(route or "")
    if allowed is None or session.user.role not in allowed:
        log.info("refused %s to %s (%s)", request.path, session.user.login, session.user.role)
        return _forbidden(request)
    if request.method == "POST":
        form = await request.post()
        sent = form.get("csrf")
        if not isinstance(sent, str) or not hmac.compare_digest(sent, session.csrf_token):
            return render(
                request,
                "error.html",
                status=403,
                title="Formulaire expiré",
                message="Le formulaire n'est plus valide : rechargez la page et recommencez.",
            )
    return await handler(request)


@web.middleware
async def database_down(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A page that needs the database while it is down (or its tables are not made yet, the
    service having started without it) says so in French, instead of a bare 500."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return await handler(request)
    except SQLAlchemyError as exc:
        log.warning("page %s: database unavailable: %s", request.path, exc)
        response = render(
            request,
            "error.html",
            status=503,
            title="Base de données injoignable",
            message="La base des appels ne répond pas pour le moment : réessayez dans quelques "
            "minutes ; si cela dure, prévenez le service informatique.",
        )
        response.headers["Retry-After"] = "60"
        return response


@web.middleware
async def input_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except InputError as exc:
        return render(request, "error.html", status=400, title="Saisie invalide", message=str(exc))


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def create_app(deps: WebDeps, *, make_tables: bool = True) -> web.Application:
    """The web app; the caller owns ``deps`` (opens and closes the database). ``make_tables``:
    create or upgrade the web app's tables as it starts (``False``: the caller did)."""
    from reports.web import pages

    app = web.Application(
        middlewares=[security_headers, database_down, access_control, input_errors]
    )
    app[DEPS] = deps
    env = templates()
    zone = ZoneInfo(deps.timezone)

    def local(moment: datetime, pattern: str = "%d/%m/%Y %H:%M") -> str:
        return moment.astimezone(zone).strftime(pattern)

    env.filters["local"] = local
    app[TEMPLATES] = env

    async def schema(app: web.Application) -> AsyncIterator[None]:
        # Creating the web tables on start, in a thread: migrations are blocking I/O.
        await asyncio.get_running_loop().run_in_executor(None, deps.accounts.upgrade_schema)
        yield

    if make_tables:
        app.cleanup_ctx.append(schema)
    app[STREAMS] = set()

    async def close_streams(app: web.Application) -> None:
        streams: set[asyncio.Task[object]] = app[STREAMS]
        for task in tuple(streams):
            task.cancel()

    app.on_shutdown.append(close_streams)

    async def stop_simulation(app: web.Application) -> None:
        if deps.whatif is not None:
            await deps.whatif.close()

    app.on_shutdown.append(stop_simulation)
    pages.add_routes(app)
    return app

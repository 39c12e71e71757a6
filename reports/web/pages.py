"""Request handlers: thin, they read the request, call a service, render a template."""

from __future__ import annotations

import asyncio
import hmac
import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from analytics.api import Indicators
from analytics.objectives import previous_period
from reports import format as fmt
from reports.accounts import Role, Session
from reports.errors import AuthenticationFailed, InputError, PresenceError
from reports.live import AGENT_STATE_FR, LiveSnapshot
from reports.periods import Period, period_from_query
from reports.presence import PAUSE_REASONS_FR
from reports.tables import DataTable, to_csv, to_xlsx
from reports.throttle import GateBusy, SignInGuard, Throttled
from reports.views import (
    TOTAL,
    DashboardView,
    ServiceView,
    dashboard_view,
    satisfaction_table,
    service_view,
)
from reports.web.app import (
    DEPS,
    LOGIN_CSRF_COOKIE,
    SESSION,
    STREAMS,
    TEMPLATES,
    WebDeps,
    new_login_csrf,
    render,
)
from reports.web.staffing_pages import add_staffing_routes
from reports.web.whatif_pages import add_whatif_routes
from telephony.records.errors import CallbackNotFound
from telephony.records.store import PendingCallback

T = TypeVar("T")
_SERVICE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_REPORT_FILE = re.compile(r"^bilan-(mensuel-\d{4}-\d{2}|annuel-\d{4})\.(html|pdf)$")
HOME = {Role.QUALITY: "/tableau-de-bord", Role.IT: "/systeme", Role.AGENT: "/agent"}
STATIC = {
    "decroche.css": "text/css",
    "live.js": "text/javascript",
}


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


# --- sign-in ------------------------------------------------------------------------------


def _safe_next(value: str | None, role: Role) -> str:
    # Only a path of this site: never an open redirect to another host. Browsers drop tabs and
    # line breaks from a URL and read "\" as "/", so "/\t/evil.example" would become
    # "//evil.example": any control character, space or backslash refuses the target outright.
    if (
        value
        and value.startswith("/")
        and not value.startswith("//")
        and not _UNSAFE_IN_TARGET.search(value)
    ):
        parts = urlsplit(value)
        if not parts.scheme and not parts.netloc:
            return value
    return HOME[role]


_UNSAFE_IN_TARGET = re.compile(r"[\x00-\x20\x7f\\]")
SIGN_IN_GUARD = web.AppKey("sign_in_guard", SignInGuard)


def _client_address(request: web.Request) -> str:
    """The browser's address; behind a proxy on this machine, the one the proxy added last."""
    remote = request.remote or ""
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded and remote in ("127.0.0.1", "::1"):
        return forwarded.rsplit(",", 1)[-1].strip() or remote
    return remote


async def login(request: web.Request) -> web.Response:
    token = new_login_csrf()
    response = render(
        request,
        "login.html",
        csrf=token,
        suite=request.query.get("suite", ""),
        error=None,
    )
    _login_cookie(request, response, token)
    return response


def _login_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    """The sign-in form's anti-CSRF cookie (``Secure`` like the session's, when configured)."""
    secure = request.app[DEPS].auth.cookie_secure
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Strict", secure=secure, path="/"
    )


async def login_post(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    form = await request.post()
    sent, cookie = form.get("csrf"), request.cookies.get(LOGIN_CSRF_COOKIE)
    login_name, password = form.get("login"), form.get("password")
    suite = form.get("suite")
    if not isinstance(sent, str) or not cookie or not hmac.compare_digest(sent, cookie):
        return render(
            request,
            "error.html",
            status=403,
            title="Formulaire expiré",
            message="Le formulaire de connexion n'est plus valide : rechargez la page.",
        )
    if not isinstance(login_name, str) or not isinstance(password, str):
        raise web.HTTPBadRequest(text="login and password are required")
    name = login_name.strip()
    guard = request.app[SIGN_IN_GUARD]
    address = _client_address(request)
    try:
        # The throttle is asked inside the slot: attempts sent at once are counted in turn.
        async with guard.gate.slot():
            guard.throttle.check(name, address, deps.now())
            user = await blocking(lambda: deps.accounts.authenticate(name, password))
    except (AuthenticationFailed, Throttled, GateBusy) as exc:
        status, retry = 401, None
        if isinstance(exc, AuthenticationFailed):
            guard.throttle.failed(name, address, deps.now())
        elif isinstance(exc, Throttled):
            status, retry = 429, exc.retry_after_s
        else:
            status, retry = 503, 5
        token = new_login_csrf()
        response = render(
            request,
            "login.html",
            status=status,
            csrf=token,
            suite=suite if isinstance(suite, str) else "",
            error=str(exc),
        )
        if retry is not None:
            response.headers["Retry-After"] = str(retry)
        _login_cookie(request, response, token)
        return response
    guard.throttle.succeeded(name)
    token, _ = await blocking(lambda: deps.accounts.open_session(user, now=deps.now()))
    target = _safe_next(suite if isinstance(suite, str) else None, user.role)
    response = web.HTTPSeeOther(target)
    response.set_cookie(
        deps.auth.cookie_name,
        token,
        httponly=True,
        samesite="Strict",
        secure=deps.auth.cookie_secure,
        path="/",
        max_age=int(deps.auth.lifetime.total_seconds()),
    )
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/")
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    token = request.cookies.get(deps.auth.cookie_name)
    if token:
        await blocking(lambda: deps.accounts.close_session(token))
    response = web.HTTPSeeOther("/connexion")
    response.del_cookie(deps.auth.cookie_name, path="/")
    raise response


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther(HOME[_session(request).user.role])


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def healthz(request: web.Request) -> web.Response:
    """Machine-readable health of the running service (503 when it cannot take calls)."""
    deps = request.app[DEPS]
    if deps.healthz is None:
        return web.json_response({"status": "ok", "router": False})
    document = deps.healthz()
    healthy = bool(document.get("ari_connected")) and bool(document.get("accepting_calls"))
    return web.json_response(
        {"status": "ok" if healthy else "degraded", **document}, status=200 if healthy else 503
    )


async def metrics(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    text = deps.metrics() if deps.metrics is not None else ""
    return web.Response(text=text, content_type="text/plain", charset="utf-8")


async def static(request: web.Request) -> web.Response:
    from importlib.resources import files

    name = request.match_info["name"]
    if name not in STATIC:
        raise web.HTTPNotFound()
    body = files("reports").joinpath("static", name).read_bytes()
    return web.Response(
        body=body,
        content_type=STATIC[name],
        headers={"Cache-Control": "max-age=3600"},
    )


# --- figures ------------------------------------------------------------------------------


def _period(request: web.Request) -> Period:
    deps = request.app[DEPS]
    return period_from_query(_query(request), deps.today())


def dashboard_of(deps: WebDeps, period: Period) -> DashboardView:
    """The dashboard of ``period``, with the survey's figures when the rules have a survey."""
    survey = None
    if deps.survey_scales:
        from analytics.satisfaction import satisfaction_report

        survey = satisfaction_report(
            deps.database,
            period.start,
            period.end,
            deps.survey_scales,
            objectives=deps.objectives,
            timezone=deps.timezone,
        )
    return dashboard_view(_indicators(deps, period), period, deps.service_names, survey)


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
    view = await blocking(
        lambda: service_view(deps.indicators, period, service_id, deps.service_names, deps.database)
    )
    survey = await blocking(
        lambda: satisfaction_table(
            deps.database, period, service_id, deps.survey_scales, deps.objectives, deps.timezone
        )
    )
    if survey is not None:
        view.extra["satisfaction"] = survey
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
        raise web.HTTPNotFound(text=f"no table {name!r}")
    if prefix == "satisfaction" and (service_id == TOTAL or _SERVICE_ID.match(service_id)):
        survey = satisfaction_table(
            deps.database, period, service_id, deps.survey_scales, deps.objectives, deps.timezone
        )
        if survey is None:
            raise web.HTTPNotFound(text=f"no table {name!r} for this period")
        return survey
    view: ServiceView = service_view(
        _indicators(deps, period), period, service_id, deps.service_names, deps.database
    )
    for table in view.tables():
        if table.name == name:
            return table
    raise web.HTTPNotFound(text=f"no table {name!r} for this period")


async def export(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    period = _period(request)
    name, kind = request.match_info["name"], request.match_info["fmt"]
    table = await blocking(lambda: find_table(deps, name, period))
    filename = f"{table.name}-{period.month_key if period.is_month else period.start}.{kind}"
    if kind == "csv":
        body, mime = to_csv(table), "text/csv"
    else:
        body = await blocking(lambda: to_xlsx(table, deps.now()))
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return web.Response(
        body=body,
        content_type=mime,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- reports ------------------------------------------------------------------------------


async def reports_page(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    files: list[str] = []
    if deps.reports_dir is not None and deps.reports_dir.is_dir():
        files = sorted(
            (p.name for p in deps.reports_dir.iterdir() if _REPORT_FILE.match(p.name)),
            reverse=True,
        )
    return render(request, "reports.html", files=files, configured=deps.reports_dir is not None)


async def report_file(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    name = request.match_info["name"]
    if deps.reports_dir is None or not _REPORT_FILE.match(name):
        raise web.HTTPNotFound()
    path = deps.reports_dir / name
    if not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path)


# --- live view ----------------------------------------------------------------------------


def live_context(deps: WebDeps, snapshot: LiveSnapshot | None) -> dict[str, Any]:
    return {
        "snapshot": snapshot,
        "names": deps.service_names,
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


# --- IT -----------------------------------------------------------------------------------


async def system(request: web.Request) -> web.Response:
    deps = request.app[DEPS]

    def gather() -> dict[str, Any]:
        from sqlalchemy import text

        checks: list[tuple[str, bool, str]] = []
        try:
            with deps.database.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks.append(("Base de données", True, f"joignable ({deps.database.dialect})"))
        except Exception as exc:  # any failure is what this page must show, not raise
            checks.append(("Base de données", False, f"injoignable : {exc.__class__.__name__}"))
        latest = deps.live.latest()
        if latest is None:
            checks.append(("Vue en direct", False, "aucun état publié par le routeur"))
        else:
            age = (deps.now() - latest.at).total_seconds()
            checks.append(("Vue en direct", age < 60, f"dernier état il y a {age:.0f} s"))
        checks += [(c.name, c.ok, c.detail) for c in deps.system.health()]
        return {"checks": checks, "rules": deps.system.rules()}

    return render(request, "system.html", **await blocking(gather))


# --- agents -------------------------------------------------------------------------------


async def agent(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    user = _session(request).user
    state = await deps.presence.state(user.login)

    def pending() -> list[PendingCallback]:
        items: list[PendingCallback] = []
        for service_id in user.services:
            items += deps.callbacks.pending_callbacks(service_id)
        return sorted(items, key=lambda c: c.at)

    callbacks = await blocking(pending)
    snapshot = deps.live.latest()
    waiting = [s for s in snapshot.services if s.service_id in user.services] if snapshot else None
    return render(
        request,
        "agent.html",
        state=state,
        callbacks=callbacks,
        waiting=waiting,
        names=deps.service_names,
        reasons=PAUSE_REASONS_FR,
        message=request.query.get("message"),
        tz=deps.timezone,
    )


def _back(message: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther("/agent?" + urlencode({"message": message}))


async def agent_presence(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    user = _session(request).user
    form = await request.post()
    action, service_id, reason = form.get("action"), form.get("service"), form.get("reason")
    try:
        if action == "sign_in" and isinstance(service_id, str):
            await deps.presence.sign_in(user.login, service_id, frozenset(user.services))
            message = f"Connecté au service {deps.service_names.get(service_id, service_id)}."
        elif action == "sign_out" and isinstance(service_id, str):
            await deps.presence.sign_out(user.login, service_id)
            message = f"Déconnecté du service {deps.service_names.get(service_id, service_id)}."
        elif action == "pause":
            await deps.presence.pause(
                user.login, reason if isinstance(reason, str) and reason else None
            )
            message = "En pause : aucun appel ne vous sera présenté."
        elif action == "resume":
            await deps.presence.resume(user.login)
            message = "Fin de pause : les appels vous sont de nouveau présentés."
        else:
            raise InputError(f"action {action!r} inconnue")
    except PresenceError as exc:
        message = f"Impossible : {exc}"
    raise _back(message)


async def agent_callback(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    user = _session(request).user
    form = await request.post()
    call_id, position = form.get("call_id"), form.get("position")
    if not isinstance(call_id, str) or not isinstance(position, str) or not position.isdigit():
        raise InputError("rappel non précisé : rechargez la page")
    index = int(position)

    def mark() -> str:
        # An agent may only close callbacks of the services they answer for.
        mine = {
            (c.call_id, c.position)
            for service_id in user.services
            for c in deps.callbacks.pending_callbacks(service_id)
        }
        if (call_id, index) not in mine:
            return "Ce rappel n'est plus en attente pour vos services."
        try:
            deps.callbacks.mark_callback_done(call_id, index, by=user.login, at=deps.now())
        except CallbackNotFound:
            return "Ce rappel a déjà été traité."
        return "Rappel noté comme fait."

    raise _back(await blocking(mark))


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

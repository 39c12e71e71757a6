"""Sign-in and sign-out, the home redirect, and the machine endpoints (/sante, /healthz,
/metrics, static files)."""

from __future__ import annotations

import hmac
import re
from urllib.parse import urlsplit

from aiohttp import web

from reports.accounts import Role
from reports.errors import AuthenticationFailed
from reports.throttle import GateBusy, SignInGuard, Throttled
from reports.web.app import DEPS, LOGIN_CSRF_COOKIE, new_login_csrf, render
from reports.web.common import _session, blocking

HOME = {Role.QUALITY: "/tableau-de-bord", Role.IT: "/systeme", Role.AGENT: "/agent"}
STATIC = {
    "decroche.css": "text/css",
    "qualite.css": "text/css",
    "live.js": "text/javascript",
}


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
    """Machine-readable health of the running service: its ``status`` (ok or degraded) and
    ``problems`` (French sentences); 503 when degraded, for the monitors."""
    deps = request.app[DEPS]
    if deps.healthz is None:
        return web.json_response({"status": "ok", "router": False})
    document = deps.healthz()
    healthy = document.get("status") == "ok"
    return web.json_response(document, status=200 if healthy else 503)


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

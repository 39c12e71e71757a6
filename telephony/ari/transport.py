"""HTTP transport to ARI: authentication, timeouts, and translation of every failure.

One :class:`AriTransport` per Asterisk. Credentials travel only in the ``Authorization`` header,
never in a URL (URLs end up in logs, Asterisk's included). Every request has a timeout. aiohttp
and pydantic errors are translated into :mod:`telephony.ari.errors` here and nowhere else.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import TypeAdapter, ValidationError

from telephony.ari.errors import AriConnectionError, AriTimeout, http_error

log = logging.getLogger(__name__)

T = TypeVar("T")

QueryValue = str | int | float | bool | None

_TAG = re.compile(r"<[^>]+>")


def segment(value: str) -> str:
    """Quote one path segment (ids chosen by callers may hold anything)."""
    if not value:
        raise ValueError("an ARI id or name must not be empty")
    return quote(value, safe="")


def basic_auth(username: str, password: str) -> str:
    """The ``Authorization`` header value for HTTP Basic authentication."""
    if not username or ":" in username:
        raise ValueError("the ARI username must be non-empty and contain no ':'")
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def query_strings(params: Mapping[str, QueryValue] | None) -> dict[str, str]:
    """Query parameters as Asterisk reads them: booleans as true/false, None left out."""
    out: dict[str, str] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = str(value)
    return out


def error_message(body: bytes) -> str:
    """Asterisk's explanation from an error body.

    ``{"message": ...}`` normally, ``{"error": ...}`` for 500 Allocation failed, an HTML page for
    the WebSocket handshake errors (400/426).
    """
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("message", "error"):
            value = data.get(key)
            if isinstance(value, str):
                return value
    plain = " ".join(_TAG.sub(" ", text).split())
    return plain[:200] or "(empty body)"


MAX_CONNECTIONS = 1000


class AriTransport:
    """Sends requests to ``base_url`` + ``/ari`` and returns the decoded answers.

    ``session`` may be shared with the rest of the service; it is closed by :meth:`close` only if
    this transport created it.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 5.0,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"ARI request timeout must be positive, got {timeout}")
        root = base_url.rstrip("/")
        self.base_url = root if root.endswith("/ari") else root + "/ari"
        self._auth = basic_auth(username, password)
        self._session = session
        self._owns_session = session is None
        self.timeout = timeout

    @property
    def auth_header(self) -> dict[str, str]:
        return {"Authorization": self._auth}

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # aiohttp's default pool (100 connections) would make a burst of calls queue for a
            # connection inside each request's timeout; a contact centre's bursts are larger.
            connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, limit_per_host=MAX_CONNECTIONS)
            self._session = aiohttp.ClientSession(connector=connector)
            self._owns_session = True
        return self._session

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def __repr__(self) -> str:
        return f"AriTransport({self.base_url!r})"

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        body: Mapping[str, Any] | None = None,
        request_timeout: float | None = None,
    ) -> bytes:
        """Send one request; the raw body of a 2xx answer, or the matching error raised."""
        url = self.base_url + path
        seconds = self.timeout if request_timeout is None else request_timeout
        try:
            async with self.session.request(
                method,
                url,
                params=query_strings(params),
                json=body,
                headers=self.auth_header,
                timeout=aiohttp.ClientTimeout(total=seconds),
            ) as response:
                raw = await response.read()
                status = response.status
        except TimeoutError as exc:
            raise AriTimeout(f"{method} {path}: no answer within {seconds:g} s") from exc
        except aiohttp.ClientError as exc:
            raise AriConnectionError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        log.debug("ARI %s %s -> %s", method, path, status)
        if status >= 400:
            raise http_error(status, error_message(raw), method, path)
        return raw

    async def call(
        self,
        adapter: TypeAdapter[T],
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        body: Mapping[str, Any] | None = None,
        request_timeout: float | None = None,
    ) -> T:
        """Send one request and validate its JSON answer with ``adapter``."""
        raw = await self.request(
            method, path, params=params, body=body, request_timeout=request_timeout
        )
        try:
            return adapter.validate_json(raw)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "(body)"
            raise AriConnectionError(
                f"{method} {path}: unexpected answer at {where}: {first['msg']}"
            ) from exc

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        body: Mapping[str, Any] | None = None,
        request_timeout: float | None = None,
    ) -> None:
        """Send one request whose answer carries nothing (204)."""
        await self.request(method, path, params=params, body=body, request_timeout=request_timeout)

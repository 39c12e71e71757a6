"""Errors of the ARI client, stream and dispatcher.

Third-party errors (aiohttp, pydantic, json) are translated here at the boundary with
``raise ... from exc``; callers catch only these::

    AriError                        anything that went wrong talking to Asterisk
    ├── AriHttpError                Asterisk answered with an error status
    │   ├── BadRequest              400 missing/invalid parameter (also addChannel of a
    │   │                               channel that no longer exists)
    │   ├── Unauthorized            401 wrong ARI user or password
    │   ├── NotFound                404 no such channel/bridge/playback/variable/resource
    │   ├── MethodNotAllowed        405
    │   ├── Conflict                409 wrong state (answer/play/dial), id already in use
    │   ├── Unprocessable           422 addChannel of a channel not in Stasis
    │   └── ServerError             5xx, e.g. 500 {"error": "Allocation failed"}
    ├── AriTransportError           no usable answer
    │   ├── AriConnectionError      cannot connect, connection lost, unreadable body
    │   └── AriTimeout              no answer within the request's timeout
    └── AriEventError               a WebSocket frame that is not a readable ARI event

(Another connection taking over our application is not an error: ``EventStream.run`` returns
``StreamEnd.REPLACED``.)

A 404 (or 400/409/422 naming the channel) on an object that already hung up is the normal race of
a call ending while we act on it: :func:`is_gone` names that case so callers can treat it as the
end of the call rather than a failure.
"""

from __future__ import annotations


class AriError(Exception):
    """Base of every error raised by :mod:`telephony.ari`."""


class AriHttpError(AriError):
    """Asterisk answered ``method path`` with an error ``status``.

    ``message`` is Asterisk's own explanation (``{"message": ...}`` or, for allocation failures,
    ``{"error": ...}``), or the start of the body when it is not JSON (HTML error pages).
    """

    def __init__(self, status: int, message: str, method: str, path: str) -> None:
        self.status = status
        self.message = message
        self.method = method
        self.path = path
        super().__init__(f"{method} {path} -> {status}: {message}")


class BadRequest(AriHttpError):
    """400: a parameter is missing or invalid."""


class Unauthorized(AriHttpError):
    """401: the ARI user or password is wrong (configuration problem, never retried)."""


class NotFound(AriHttpError):
    """404: the channel, bridge, playback, variable or resource does not exist."""


class MethodNotAllowed(AriHttpError):
    """405: the resource exists but not with this method."""


class Conflict(AriHttpError):
    """409: the object is in the wrong state, or the id is already in use."""


class Unprocessable(AriHttpError):
    """422: the request is understood but cannot apply (channel not in Stasis)."""


class ServerError(AriHttpError):
    """5xx: Asterisk failed (unregistered endpoint, no media, bridge creation failure)."""


class AriTransportError(AriError):
    """No usable HTTP answer came back."""


class AriConnectionError(AriTransportError):
    """Connecting failed, the connection dropped, or the answer could not be read."""


class AriTimeout(AriTransportError):
    """No answer within the timeout."""


class AriEventError(AriError):
    """A WebSocket frame is not a readable ARI event; the message says what is wrong."""


_BY_STATUS: dict[int, type[AriHttpError]] = {
    400: BadRequest,
    401: Unauthorized,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    422: Unprocessable,
}


def http_error(status: int, message: str, method: str, path: str) -> AriHttpError:
    """The error class matching ``status`` (``AriHttpError`` itself for unusual ones)."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else AriHttpError
    return cls(status, message, method, path)


# What Asterisk says when the object we act on has already gone: a caller that hung up, a
# playback that finished, a bridge torn down, or a channel that left our application.
_GONE_MESSAGES = frozenset(
    {
        "Channel not found",
        "Playback not found",
        "Bridge not found",
        "Channel not in Stasis application",
    }
)


def is_gone(exc: BaseException) -> bool:
    """True when ``exc`` only says the channel, playback or bridge is no longer there.

    That is the normal race between a caller hanging up and the app acting on the call
    (``DELETE /playbacks/{id}`` -> 404 ``Playback not found`` after the caller's BYE,
    ``addChannel`` -> 400 ``Channel not found``, ``answer`` -> 409 ``Channel not in Stasis
    application`` after StasisEnd). Other 404s (unknown variable, unknown URL) are real errors.
    """
    return (
        isinstance(exc, (NotFound, BadRequest, Conflict, Unprocessable))
        and exc.message in _GONE_MESSAGES
    )

"""Errors of the simulated PBX.

Hierarchy::

    SimulatorError                 anything the simulator refuses
    ├── AriRefusal                 an ARI request Asterisk would refuse: carries the HTTP status and
    │                              the exact body Asterisk sends (``{"message": ...}``, or
    │                              ``{"error": ...}`` for "Allocation failed")
    └── ScriptError                a caller/agent script or control request that makes no sense
                                   (bad value, unknown agent); the message names the field

``AriRefusal`` is the server's side of a refusal; the client side (what decroche's ARI client
raises on reading it) is ``telephony.ari.errors.AriHttpError`` and its subclasses.
"""

from __future__ import annotations


class SimulatorError(Exception):
    """Base class of every error raised by the simulated PBX."""


class AriRefusal(SimulatorError):
    """An ARI request refused the way Asterisk 22 refuses it."""

    def __init__(self, status: int, message: str, *, key: str = "message") -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.key = key

    def body(self) -> dict[str, str]:
        return {self.key: self.message}


class ScriptError(SimulatorError):
    """A scripted caller or agent, or a control API request, is invalid."""


def channel_not_found() -> AriRefusal:
    return AriRefusal(404, "Channel not found")


def not_in_stasis() -> AriRefusal:
    return AriRefusal(409, "Channel not in Stasis application")


def allocation_failed() -> AriRefusal:
    # Asterisk's only error body keyed "error" rather than "message" (see traces/README.md).
    return AriRefusal(500, "Allocation failed", key="error")

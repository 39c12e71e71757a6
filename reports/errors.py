"""Errors of the web app and the reports.

::

    ReportsError
    ├── InputError            bad period, login, role... from a user or a command line
    ├── AccountError          an account cannot be created or changed (exists, unknown)
    ├── AuthenticationFailed  wrong login or password (never says which)
    ├── PresenceError         an agent cannot sign in to / out of a service, or pause
    └── ReportGenerationError a report could not be written (PDF engine, disk)
"""

from __future__ import annotations


class ReportsError(Exception):
    """Base of every error raised by :mod:`reports`."""


class InputError(ReportsError, ValueError):
    """A value typed by a user or given on the command line is invalid; the message says which."""


class AccountError(ReportsError):
    pass


class AuthenticationFailed(ReportsError):
    pass


class PresenceError(ReportsError):
    pass


class ReportGenerationError(ReportsError):
    pass

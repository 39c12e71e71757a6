"""The errors a person running decroche must act on, in French: kept apart from the modules
that raise them so that the command line can catch them without importing those (``decroche
--help`` starts without pydantic, SQLAlchemy or numpy)."""

from __future__ import annotations


class AppError(Exception):
    """Something the person running decroche must fix; the message is French and says what."""


class ConfigError(Exception):
    """The configuration file or an environment override is invalid; the message (French) says
    what and where, one line per problem."""

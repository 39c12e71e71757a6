"""Errors of the routing rules package.

::

    RulesError                   anything this package raises on purpose
    ├── RulesInvalid             a rules file failed validation; ``.problems`` lists EVERY problem
    │                            found (file, line, column, message), the file is never half-used
    ├── UnknownTarget            a decision was asked about a service or menu the rules do not
    │                            have (a caller's bug: compiled rules are consistent)
    └── RoutingInputError        a value handed to a decision is unusable (naive datetime...)

YAML and OS errors are translated at the boundary (``loader``) into :class:`RulesInvalid`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One thing wrong in a rules file, located as editors expect (1-based line and column)."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class RulesError(Exception):
    """Base of every error raised on purpose by ``routing_rules``."""


class RulesInvalid(RulesError):
    """The rules file is not usable; every problem found is in ``problems``."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UnknownTarget(RulesError):
    """A decision was asked about a service or a menu that the rules do not define."""


class RoutingInputError(RulesError, ValueError):
    """A value handed to a decision is unusable; the message says which."""

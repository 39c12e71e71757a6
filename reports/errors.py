"""Errors of the web app and the reports.

::

    ReportsError
    ├── InputError            bad period, login, role... from a user or a command line
    ├── AccountError          an account cannot be created or changed (exists, unknown)
    ├── AuthenticationFailed  wrong login or password (never says which)
    ├── PresenceError         an agent cannot sign in to / out of a service, or pause
    ├── ReportGenerationError a report could not be written (PDF engine, disk)
    └── ReportsOwed           reports still due after a run (one failed): to run again later
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


class ReportsOwed(ReportsError):
    """A run of the monthly reports left some due (one failed, or another process holds it);
    ``generated``: the months this run did produce, ``owed``: those still due."""

    def __init__(self, generated: list[str], owed: list[str]) -> None:
        self.generated = generated
        self.owed = owed
        if len(owed) == 1:
            text = f"le bilan mensuel {of(owed[0])} n'a pas pu être produit"
        else:
            text = f"les bilans mensuels {of(', '.join(owed))} n'ont pas pu être produits"
        super().__init__(f"{text} (voir le journal du service) ; nouvel essai plus tard")


def of(label: str) -> str:
    """« de » before a period's French label, elided before a vowel: « d’octobre 2026 »."""
    return f"d’{label}" if label[:1].lower() in "aeiouyéèêàâîôû" else f"de {label}"

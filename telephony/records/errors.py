"""Errors of the call records package.

::

    RecordsError                 anything this package raises on purpose
    ├── StoreUnavailable         the database cannot be reached, is locked or refused the write;
    │                            the writer journals and retries (never lost)
    ├── SchemaError              the database schema cannot be brought up to date
    ├── JournalError             the local journal cannot be written or read back
    ├── PseudonymError           no usable pseudonymisation secret
    ├── CallbackNotFound         no pending callback request with that id
    └── RecordInputError         a value handed to the store is unusable (naive datetime...)

SQLAlchemy and OS errors are translated at the boundary with ``raise ... from exc``.
"""

from __future__ import annotations


class RecordsError(Exception):
    """Base of every error raised on purpose by ``telephony.records``."""


class StoreUnavailable(RecordsError):
    """The database could not take the operation now (down, locked, refused); retry later."""


class SchemaError(RecordsError):
    """The database schema could not be created or upgraded."""


class JournalError(RecordsError):
    """The local journal file could not be written or read."""


class PseudonymError(RecordsError):
    """No usable secret to pseudonymise caller numbers."""


class CallbackNotFound(RecordsError):
    """No callback request with that id (or it was already closed)."""


class RecordInputError(RecordsError):
    """A value handed to the store cannot be stored as is; the message says which and where."""

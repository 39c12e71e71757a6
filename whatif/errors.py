"""Errors of the what-if replays.

::

    WhatIfError            anything this package refuses, with what and where
    └── UnknownQueue       a queue_log queue that is no service of the rules
"""

from __future__ import annotations


class WhatIfError(Exception):
    """A what-if replay cannot be done; the message says what and where."""


class UnknownQueue(WhatIfError):
    pass

"""Python's cyclic garbage collector while a ``decroche`` command starts.

A command's start (SQLAlchemy, numpy, psycopg and pydantic imported, the configuration and the
rules read) makes tens of thousands of objects that all live until the command ends. Left to its
thresholds, the collector walks them again and again while they are made, and once more when
the process exits: about a quarter of ``decroche indicators`` for a month (0.55 s → 0.42 s on
the bench's machine). So the ``decroche`` program pauses it while the command starts and gives
it back when the command's own code is loaded (:func:`resume_collection`), with what the start
made frozen: kept out of every later collection, as they would all survive it. What the command
then makes is collected as usual — a service runs for months. At exit everything is frozen:
the system frees a finished process's memory at once, and the files are closed by then.

Only the program pauses it (:func:`decroche.cli.run`): tests and tools that call the commands
in their own process keep their collector as it is.
"""

from __future__ import annotations

import atexit
import gc


def pause_collection() -> None:
    """Pause the collector for the start of the program; frozen at exit (see the module)."""
    gc.disable()
    atexit.register(gc.freeze)


def resume_collection() -> None:
    """Give the collector back, the start's objects frozen. Nothing if it is not paused (a test
    that runs a command in its own process): freezing there would keep its garbage forever."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()

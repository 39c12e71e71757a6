"""Checked rules kept between commands, so that a command does not check the same file again.

Reading and checking the rules takes a fifth of a second (YAML composed in pure Python, every
rule checked, holidays asked), more than a month's figures take to read. A command that only
needs the rules in force (``decroche indicators``, the reports) finds them here, already
checked and compiled, when nothing they depend on changed since the last check:

- the rules file's bytes (its version) and its path (the compiled rules name it);
- the bytes of the other files the check reads (the prompt catalogue);
- the code that checks and compiles (every module of :mod:`routing_rules`, and the libraries
  it validates with), by the size and modification time of their files.

Anything else is a miss, and the file is checked as if there were no cache. Only valid rules
are kept: a file with problems is checked every time, so its problems are always reported.

The entries are pickles, which run code when read: like Python's own ``__pycache__``, the
folder must be the user's own. An entry is read only if it and its folder belong to the user
running the command and nobody else can write them; otherwise, and on any error reading it, the
cache is passed over. A cache that cannot be written (read-only home, full disk) is a slower
command, never a failed one.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from types import MappingProxyType
from typing import Any

from routing_rules.compiled import CompiledRules

log = logging.getLogger(__name__)

# The libraries whose behaviour decides what a check says (their upgrade empties the cache).
LIBRARIES = ("pydantic", "pydantic_core", "ruamel.yaml", "holidays")
KEPT = 8  # entries kept: a few rules files (tests, what-ifs) without growing for ever
SUFFIX = ".rules"


def _mapping_proxy(content: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(content)


class _Pickler(pickle.Pickler):
    # The compiled rules hold read-only mappings (MappingProxyType), which pickle refuses:
    # they are written as their content and made read-only again when read.
    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is MappingProxyType:
            return _mapping_proxy, (dict(obj),)
        return NotImplemented


def _stamp(path: Path) -> str:
    try:
        status = path.stat()
    except OSError:
        return f"{path}:absent"
    return f"{path}:{status.st_size}:{status.st_mtime_ns}"


def code_stamp() -> str:
    """What identifies the code that checks the rules: its files' sizes and dates."""
    package = Path(__file__).resolve().parent
    parts = [sys.version]
    parts += [_stamp(module) for module in sorted(package.glob("*.py"))]
    for library in LIBRARIES:
        spec = find_spec(library)
        origin = spec.origin if spec is not None else None
        parts.append(_stamp(Path(origin)) if origin else f"{library}:absent")
    return "\n".join(parts)


@dataclass(frozen=True, slots=True)
class Lookup:
    """A cache's answer: the rules if kept, and the key to keep them under otherwise."""

    rules: CompiledRules | None
    key: str


class RulesCache:
    """Checked rules in ``folder``, keyed by everything the check depends on; ``inputs``: the
    files besides the rules file that the check reads (the prompt catalogue)."""

    def __init__(self, folder: Path, inputs: Sequence[Path] = ()) -> None:
        self.folder = folder
        self._inputs = tuple(inputs)
        self._code = code_stamp()

    def key(self, path: Path, version: str) -> str:
        """The key of the rules file ``path`` whose bytes have ``version``."""
        digest = hashlib.sha256()
        for part in (str(path), version, self._code):
            digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
        for extra in self._inputs:
            try:
                digest.update(extra.read_bytes())
            except OSError:
                digest.update(b"\0absent\0")
            digest.update(b"\0")
        return digest.hexdigest()[:32]

    def lookup(self, path: Path, version: str) -> Lookup:
        """The rules kept for ``path`` at ``version``, if any (never raises)."""
        key = self.key(path, version)
        entry = self.folder / f"{key}{SUFFIX}"
        try:
            if not (self._trusted(self.folder) and self._trusted(entry)):
                return Lookup(None, key)
            rules = pickle.loads(entry.read_bytes())
        except FileNotFoundError:
            return Lookup(None, key)
        except Exception as exc:  # a damaged entry, classes that changed: check the file
            log.info("checked rules %s not read back (%s): checking the file again", entry, exc)
            self._forget(entry)
            return Lookup(None, key)
        if not isinstance(rules, CompiledRules) or rules.version != version:
            self._forget(entry)
            return Lookup(None, key)
        return Lookup(rules, key)

    def keep(self, key: str, rules: CompiledRules) -> None:
        """Keep ``rules`` under ``key`` (from :meth:`lookup` before the check; never raises)."""
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not self._trusted(self.folder):
                return
            buffer = io.BytesIO()
            _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(rules)
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(buffer.getvalue())
                os.replace(temporary, self.folder / f"{key}{SUFFIX}")
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
            self._prune()
        except Exception as exc:  # the cache is an optimisation: a failure only costs time
            log.info("checked rules not kept in %s: %s", self.folder, exc)

    def _prune(self) -> None:
        entries = sorted(
            self.folder.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime_ns, reverse=True
        )
        for old in entries[KEPT:]:
            self._forget(old)

    @staticmethod
    def _trusted(path: Path) -> bool:
        status = path.lstat()
        return (
            status.st_uid == os.geteuid()
            and not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
            and (stat.S_ISDIR(status.st_mode) or stat.S_ISREG(status.st_mode))
        )

    @staticmethod
    def _forget(entry: Path) -> None:
        with contextlib.suppress(OSError):
            entry.unlink(missing_ok=True)

"""Where the rules file is, its bytes (read within the size limit) and its version (their hash).

Apart from :mod:`routing_rules.loader`, which checks what is read: a command that finds the
checked rules in the cache (:mod:`routing_rules.cache`) reads the file and hashes it, and needs
neither the YAML reader nor the file's model.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from routing_rules.errors import Problem, RulesInvalid

# The largest YAML file decroche reads (rules, configuration, catalogue): see yaml_guard.
MAX_BYTES = 512 * 1024


def version_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def read_rules_file(path: Path) -> bytes:
    """The rules file's bytes, within the size limit; :class:`RulesInvalid` if unreadable."""
    from routing_rules.messages import os_reason

    try:
        with path.open("rb") as stream:  # never more than the limit and a byte
            raw = stream.read(MAX_BYTES + 1)
            if len(raw) > MAX_BYTES:
                from routing_rules.yaml_guard import size_message

                size = path.stat().st_size
                raise RulesInvalid([Problem(str(path), 1, 1, size_message(size))])
    except OSError as exc:
        raise RulesInvalid(
            [Problem(str(path), 1, 1, f"fichier illisible : {os_reason(exc)}")]
        ) from exc
    return raw


def default_rules_path() -> Path:
    """The Bernay rules shipped with the package (used when the configuration names none)."""
    return Path(__file__).with_name("bernay.yaml")

"""Loads YAML texts under a memory limit, for the adversarial YAML property test.

Run as ``python -m tests.yaml_worker LIMIT_MB``: once its imports are done, the process may grow
by LIMIT_MB only (``RLIMIT_AS``). Each stdin line is ``{"kind": ..., "text": ...}`` (rules,
config or catalogue, read by the project's own loader); each stdout line says what came of it:
``{"outcome": "accepted" | "refused" | "crashed", "detail": ..., "seconds": ...}``. A crash
(``MemoryError``, ``RecursionError``, any other exception) is reported, not raised, so that the
test can show the input that caused it.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from decroche.config import ConfigError, load_config
from ivr_prompts.catalogue import CatalogueError, load_catalogue
from routing_rules.errors import RulesInvalid
from routing_rules.loader import validate_text

PROMPTS = frozenset({"menu", "invalid", "closed"})


def _virtual_size() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("VmSize not found")


def _load(kind: str, text: str, folder: Path) -> tuple[str, str]:
    """("accepted" | "refused", what the loader said)."""
    if kind == "rules":
        try:
            rules = validate_text(text, "rules.yaml", PROMPTS)
        except RulesInvalid as exc:
            bad = [str(p) for p in exc.problems if not str(p).startswith("rules.yaml:")]
            return "refused" if exc.problems and not bad else "crashed", str(exc)[:2000]
        return "accepted", rules.version
    path = folder / f"{kind}.yaml"
    path.write_text(text, encoding="utf-8")
    if kind == "config":
        try:
            load_config(path, environ={})
        except ConfigError as exc:
            return "refused", str(exc)[:2000]
        return "accepted", ""
    try:
        load_catalogue(path)
    except CatalogueError as exc:
        return "refused", str(exc)[:2000]
    return "accepted", ""


def main() -> None:
    limit = _virtual_size() + int(sys.argv[1]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    with tempfile.TemporaryDirectory() as scratch:
        for line in sys.stdin:
            request: dict[str, Any] = json.loads(line)
            start = time.perf_counter()
            try:
                outcome, detail = _load(request["kind"], request["text"], Path(scratch))
            except BaseException as exc:  # the whole point: report anything, MemoryError too
                outcome = "crashed"
                detail = "".join(traceback.format_exception_only(exc))[:2000]
            seconds = time.perf_counter() - start
            answer = {"outcome": outcome, "detail": detail, "seconds": seconds}
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()

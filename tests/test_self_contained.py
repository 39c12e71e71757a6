"""The project stands on its own: no code, test, bench or build file reads the team's reference
folder beside the checkout (``shared/``). Data the tests need is copied into the repository
(``tests/data/``), and what the code derives from Asterisk's ARI description is committed
(``telephony/ari/api_schema.json``, ``models.py``)."""

from __future__ import annotations

import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# A path into the reference folder, however it is spelt: "../shared", "/work/shared",
# "shared/ari", Path(...).parent / "shared" / "ari".
REFERENCE_PATH = re.compile(
    r"""(\.\./|/work/)shared\b|\bshared["']?\s*/\s*["']?ari\b|parent\s*/\s*["']shared["']"""
)
# file -> why it may name the folder.
ALLOWED = {
    "tools/gen_ari_models.py": "its optional source, to refresh api_schema.json from Asterisk's "
    "api-docs; without it the committed schema is used",
    "tests/test_self_contained.py": "this test spells the pattern out",
}
SKIPPED_DIRS = {".venv", ".git", "node_modules", "build", "dist", "test-artifacts", "__pycache__"}


def _project_files() -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(REPO):
        dirs[:] = [
            d for d in dirs if d not in SKIPPED_DIRS and not d.endswith((".egg-info", "_cache"))
        ]
        in_ci = Path(folder).relative_to(REPO).parts[:1] == (".ci",)
        for name in files:
            path = Path(folder) / name
            code = path.suffix in {".py", ".toml", ".cfg", ".ini", ".sh"} or name == "Makefile"
            if code or in_ci:
                found.append(path)
    return found


def test_the_pattern_catches_every_spelling() -> None:
    for text in (
        'REPO.parent / "shared" / "ari" / "traces"',
        "Path('../shared/ari/api-docs')",
        "cat /work/shared/ari/README.md",
        "see shared/ari/traces",
    ):
        assert REFERENCE_PATH.search(text), text
    for text in ("shared by every call", "a shared session", "shared_memory / ari"):
        assert not REFERENCE_PATH.search(text), text


def test_nothing_reads_the_reference_folder() -> None:
    files = _project_files()
    names = {path.relative_to(REPO).as_posix() for path in files}
    assert {"Makefile", "pyproject.toml", "tests/conftest.py", "bench/bench_ari.py"} <= names
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in files
        if path.relative_to(REPO).as_posix() not in ALLOWED
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if REFERENCE_PATH.search(line)
    ]
    assert not offenders, "copy the data into the repository instead:\n" + "\n".join(offenders)


def test_the_allowed_files_exist() -> None:
    # An allowance for a file that is gone would hide the next file of that name.
    for name in ALLOWED:
        assert (REPO / name).is_file(), name

"""The shape of the house, checked on the source: data flows one way, and one composition root.

Every import is read from the code (at the top of a module or inside a function), so a lazy
import cannot slip past.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BELOW_THE_ROOT = (
    "telephony", "routing_rules", "ivr_prompts", "analytics", "reports", "whatif", "audit"
)  # fmt: skip


def modules(package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((REPO / package).rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every module ``path`` imports (relative imports resolved), with its line."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, node.lineno
            for alias in node.names:  # from x import y: y may be a module
                yield f"{base}.{alias.name}", node.lineno


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def offending(packages: tuple[str, ...], refused: str) -> list[str]:
    return [
        f"{path.relative_to(REPO)}:{line}: {name}"
        for package in packages
        for module, path in modules(package)
        for name, line in imports(module, path)
        if within(name, refused)
    ]


def test_the_modules_exist() -> None:
    for package in (*BELOW_THE_ROOT, "decroche"):
        assert len(list(modules(package))) >= 3, package


@pytest.mark.parametrize("package", BELOW_THE_ROOT)
def test_no_package_below_the_composition_root_imports_it(package: str) -> None:
    # Only decroche reads the configuration and builds things: the others receive their parts.
    assert offending((package,), "decroche") == []


def test_analytics_reads_the_records_tables_in_one_module() -> None:
    readers = {line.split(":")[0] for line in offending(("analytics",), "telephony.records.schema")}
    assert readers == {"analytics/sources.py"}


def test_reports_know_of_telephony_only_the_plain_record_types() -> None:
    found = [
        line
        for line in offending(("reports",), "telephony")
        if not line.split(": ", 1)[1].startswith("telephony.records.model")
    ]
    assert found == []


def test_the_checker_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    module = tmp_path / "mod.py"
    module.write_text(
        "def f():\n    from decroche.app import App\n\nfrom .latency import x\n", encoding="utf-8"
    )
    found = dict(imports("telephony.simulator.mod", module))
    assert found["decroche.app"] == 2
    assert found["telephony.simulator.latency"] == 4

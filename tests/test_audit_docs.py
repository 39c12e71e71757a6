"""``docs/audit.md``, the French guide of the internal audit for the quality lead, the internal
auditor and IT, says what each check the report names means, every configuration key, and each
part of the report, as the code has them."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.checks import CHECK_NAMES
from decroche.config import AuditConfig

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "audit.md"
TEXT = GUIDE.read_text(encoding="utf-8")


def section(title: str) -> str:
    """The text of the ``## title`` section."""
    start = TEXT.index(f"\n## {title}\n")
    end = TEXT.find("\n## ", start + 1)
    return TEXT[start : end if end != -1 else None]


@pytest.mark.parametrize("name", sorted(CHECK_NAMES.values()))
def test_every_check_the_report_names_is_explained(name: str) -> None:
    assert f"| {name} |" in section("Ce qui est vérifié")


@pytest.mark.parametrize("key", sorted(AuditConfig.model_fields))
def test_every_configuration_key_is_listed(key: str) -> None:
    assert f"| `{key}` |" in section("Configuration (`audit:`)")


@pytest.mark.parametrize(
    "part", ["En bref", "Ce que l'audit vérifie", "Écarts constatés", "Parcours testés", "Annexe"]
)
def test_each_part_of_the_report_is_read(part: str) -> None:
    assert f"**{part}**" in section("Lire le rapport")


def test_it_is_in_french() -> None:
    """The words of the guide are French: common English words stay out of it (the commands'
    block and identifiers aside)."""
    prose = "\n".join(line for line in TEXT.splitlines() if not line.startswith("decroche "))
    words = {w.strip(".,;:()«»*`").lower() for w in prose.split() if "`" not in w}
    assert not words & {"the", "and", "which", "when", "with", "every", "is", "are", "path"}

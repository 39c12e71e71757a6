"""The French prompt catalogue: prompt id -> text, read from ``fr.yaml`` beside this file.

Recorded audio dropped in by the town replaces the synthesised audio of the same id; the text
stays the reference (and the source of the synthesised version).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from ruamel.yaml import YAML


class CatalogueError(Exception):
    """The catalogue file is malformed; the message names the file and entry."""


def default_catalogue_path() -> Path:
    return Path(str(files("ivr_prompts").joinpath("fr.yaml")))


def load_catalogue(path: Path | None = None) -> dict[str, str]:
    source = path or default_catalogue_path()
    data = YAML(typ="safe").load(source.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise CatalogueError(f"{source}: expected a mapping of prompt id to text")
    catalogue: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(key, str) or not isinstance(value, str) or not value.strip():
            raise CatalogueError(f"{source}: prompt {key!r} must map an id to a non-empty text")
        catalogue[key] = value.strip()
    return catalogue

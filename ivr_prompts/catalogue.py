"""The French prompt catalogue: prompt id -> text, read from ``fr.yaml`` beside this file.

Recorded audio dropped in by the town replaces the synthesised audio of the same id; the text
stays the reference (and the source of the synthesised version).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


class CatalogueError(Exception):
    """The catalogue file is malformed; the message names the file and entry."""


def default_catalogue_path() -> Path:
    return Path(str(files("ivr_prompts").joinpath("fr.yaml")))


def load_catalogue(path: Path | None = None) -> dict[str, str]:
    # Imported here: a command that takes its checked rules from the cache names this file
    # (default_catalogue_path) but never reads it.
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    from routing_rules import yaml_guard

    source = path or default_catalogue_path()
    try:
        data = yaml_guard.load(source.read_text(encoding="utf-8"))
    except yaml_guard.YamlRefused as exc:
        raise CatalogueError(f"{source}:{exc.line}:{exc.column}: {exc.message}") from exc
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{mark.line + 1}:{mark.column + 1}:" if mark is not None else ""
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        raise CatalogueError(f"{source}:{where} YAML invalide : {what}") from exc
    except YAMLError as exc:
        raise CatalogueError(f"{source}: YAML invalide : {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogueError(f"{source}: expected a mapping of prompt id to text")
    catalogue: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(key, str) or not isinstance(value, str) or not value.strip():
            raise CatalogueError(f"{source}: prompt {key!r} must map an id to a non-empty text")
        catalogue[key] = value.strip()
    return catalogue

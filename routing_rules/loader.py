"""Read a rules file: YAML with positions, model validation, whole-file checks, compilation.

Every problem is collected (YAML syntax stops the reading, as nothing after it can be trusted)
and reported as ``FILE:LINE:COL: message`` naming the bad value. The YAML is composed with
ruamel.yaml's round-trip parser and converted here, node by node, so that each value keeps its
position and duplicate keys are all found (ruamel's constructor stops at the first one).
The text is composed within :mod:`routing_rules.yaml_guard`'s bounds (size, values, depth,
expansion by aliases), so a small hostile file is refused before it can take memory or time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from routing_rules.checks import check_rules
from routing_rules.compile import compile_rules
from routing_rules.compiled import CompiledRules
from routing_rules.errors import Problem, RulesInvalid
from routing_rules.messages import french, yaml_problem
from routing_rules.model import RulesFile
from routing_rules.source import default_rules_path as default_rules_path
from routing_rules.source import read_rules_file as read_rules_file
from routing_rules.source import version_of as version_of
from routing_rules.yaml_guard import YamlRefused, compose

YamlPath = tuple[str | int, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_INT_TAG = "tag:yaml.org,2002:int"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


@dataclass(slots=True)
class Locator:
    """Where each value (and each mapping key) of the file is: 1-based line and column."""

    file: str
    values: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)
    # Values already reported while reading: model errors on them would only repeat it.
    reported: set[YamlPath] = field(default_factory=set)

    def where(self, path: YamlPath, *, key: bool = False) -> tuple[int, int]:
        if key and path in self.keys:
            return self.keys[path]
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return found
        return (1, 1)

    def problem(self, path: YamlPath, message: str, *, key: bool = False) -> Problem:
        line, column = self.where(path, key=key)
        return Problem(self.file, line, column, message)


def dotted(path: Iterable[str | int]) -> str:
    return ".".join(str(p) for p in path) or "(racine du fichier)"


class _Converter:
    def __init__(self, locator: Locator) -> None:
        self.locator = locator
        self.problems: list[Problem] = []
        self._scalars = YAML(typ="safe", pure=True).constructor

    def convert(self, node: Node, path: YamlPath) -> Any:
        self.locator.values.setdefault(path, _position(node))
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        try:
            return self._scalar(node)
        except YAMLError as exc:
            line, column = _position(node)
            self.problems.append(Problem(self.locator.file, line, column, f"{dotted(path)}: {exc}"))
            self.locator.reported.add(path)
            return None

    def _scalar(self, node: ScalarNode) -> Any:
        # Phone numbers and dates stay text: ``0232...`` as an integer would lose its zero,
        # ``+33...`` its plus sign, and a date is written YYYY-MM-DD in the model anyway.
        if node.tag == _TIMESTAMP_TAG:
            return str(node.value)
        if node.tag == _INT_TAG and node.style is None:
            text = str(node.value)
            if text.startswith("+") or (len(text) > 1 and text.startswith("0")):
                return text
        return self._scalars.construct_object(node, deep=True)

    def _mapping(self, node: MappingNode, path: YamlPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merged: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.extend(
                    value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                )
                continue
            if not isinstance(key_node, ScalarNode):
                line, column = _position(key_node)
                message = f"{dotted(path)} : une clé doit être un simple texte"
                self.problems.append(Problem(self.locator.file, line, column, message))
                continue
            key = str(key_node.value)
            child = (*path, key)
            if key in result:
                first = self.locator.keys[child]
                self.problems.append(
                    Problem(
                        self.locator.file,
                        *_position(key_node),
                        f"{dotted(path)} : la clé {key!r} figure deux fois"
                        f" (d'abord ligne {first[0]})",
                    )
                )
                continue
            self.locator.keys[child] = _position(key_node)
            if _written_empty(value_node):  # ``name:``: ruamel places it at the next token
                self.locator.values[child] = _position(key_node)
            result[key] = self.convert(value_node, child)
        for source in merged:
            if isinstance(source, MappingNode):
                for key, value in self._mapping(source, path).items():
                    result.setdefault(key, value)
        return result


def _written_empty(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.style is None and node.value == ""


def _position(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def parse_yaml(text: str, file: str) -> tuple[Any, Locator, list[Problem]]:
    """Plain Python data, where each value is, and the YAML-level problems."""
    locator = Locator(file)
    try:
        node = compose(text)
    except YamlRefused as exc:
        return None, locator, [Problem(file, exc.line, exc.column, exc.message)]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        what = yaml_problem(exc.problem, exc.context)
        return None, locator, [Problem(file, line, column, what)]
    except YAMLError as exc:
        return None, locator, [Problem(file, 1, 1, yaml_problem(str(exc)))]
    if node is None:
        return None, locator, [Problem(file, 1, 1, "le fichier est vide")]
    converter = _Converter(locator)
    data = converter.convert(node, ())
    return data, locator, converter.problems


def _model_problems(exc: ValidationError, locator: Locator) -> list[Problem]:
    problems = []
    for error in exc.errors():
        path = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("@")))
        if any(path[: len(bad)] == bad for bad in locator.reported):
            continue
        kind = error["type"]
        if kind == "extra_forbidden":
            problems.append(
                locator.problem(
                    path,
                    f"{dotted(path[:-1])} : clé inconnue {path[-1]!r} (faute de frappe ?)",
                    key=True,
                )
            )
            continue
        if kind == "missing":
            problems.append(
                locator.problem(path[:-1], f"{dotted(path[:-1])} : clé {path[-1]!r} manquante")
            )
            continue
        on_key = bool(path) and path[-1] == "[key]"
        if on_key:
            path = path[:-1]
        if on_key:  # the value pydantic shows is the mapping's, not the key written
            error = {**error, "input": str(path[-1])}
        problems.append(locator.problem(path, f"{dotted(path)} : {french(error)}", key=on_key))
    return problems


def validate_text(
    text: str, file: str, catalogue: Iterable[str], *, version: str | None = None
) -> CompiledRules:
    """Validate completely, then compile; raise :class:`RulesInvalid` with every problem."""
    data, locator, problems = parse_yaml(text, file)
    if data is None:
        raise RulesInvalid(problems)
    if not isinstance(data, dict):
        raise RulesInvalid(
            [locator.problem((), "les règles doivent être une suite de sections (clé: valeur)")]
        )
    try:
        rules = RulesFile.model_validate(data)
    except ValidationError as exc:
        raise RulesInvalid(problems + _model_problems(exc, locator)) from None
    problems += check_rules(rules, locator, frozenset(catalogue))
    if problems:
        raise RulesInvalid(problems)
    return compile_rules(rules, version or version_of(text.encode("utf-8")), file)


def validate_bytes(raw: bytes, path: Path, catalogue: Iterable[str]) -> CompiledRules:
    """Validate and compile a rules file's bytes; the version is their hash."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RulesInvalid(
            [
                Problem(
                    str(path),
                    1,
                    1,
                    f"le fichier n'est pas en UTF-8 (octet {exc.start}) ; enregistrez-le en UTF-8",
                )
            ]
        ) from exc
    return validate_text(text, str(path), catalogue, version=version_of(raw))


def load_rules(path: Path, catalogue: Iterable[str]) -> CompiledRules:
    """Read, validate and compile a rules file; the version is the hash of its bytes."""
    return validate_bytes(read_rules_file(path), path, catalogue)

"""Read YAML written by people (rules, configuration, prompt catalogue) within bounds.

A few hundred bytes of YAML can stand for gigabytes: anchors and aliases reuse a value without
copying it, so nine aliases of nine aliases of nine values make 387 million once expanded (the
"billion laughs"), and ``a: &a [*a]`` makes a value that contains itself. Every reader of those
files walks the expanded value, so such a file would eat the service's memory or end in a raw
``RecursionError``. The pure-Python parser also reads about 20 000 values a second, so the number
of values bounds the time too.

This module composes the document with a composer that counts as it goes and stops at the first
value over a limit, naming its line and column:

- the file's size (``max_bytes``);
- the values written in the text (``max_nodes``), and the nesting depth (``max_depth``);
- the values and characters once every alias is expanded, both in absolute terms while reading
  and in proportion to what is written once read (``ratio``, above a ``floor``): a file that
  aliases its way to ten times its own size is refused;
- an alias used inside its own anchor (a value containing itself) is refused outright.

Messages are French: IT staff and the quality lead read them in the CLI and on the what-if page.
Syntax errors are left to ruamel.yaml's own exceptions (each caller already locates them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import StreamMark
from ruamel.yaml.events import AliasEvent, ScalarEvent
from ruamel.yaml.nodes import Node, ScalarNode, SequenceNode
from ruamel.yaml.scanner import RoundTripScanner, Scanner

from routing_rules.source import MAX_BYTES


@dataclass(frozen=True, slots=True)
class YamlLimits:
    """Bounds of one kind of file; the defaults fit rules files 13 times Bernay's size."""

    max_bytes: int = MAX_BYTES
    max_nodes: int = 10_000
    max_depth: int = 64
    max_chars: int = 1_000_000
    ratio: int = 10
    floor_nodes: int = 1_000
    floor_chars: int = 100_000


DEFAULT_LIMITS = YamlLimits()


class YamlRefused(Exception):
    """The text is refused before any use; ``line`` and ``column`` are 1-based."""

    def __init__(self, line: int, column: int, message: str) -> None:
        self.line = line
        self.column = column
        self.message = message
        super().__init__(f"ligne {line}, colonne {column} : {message}")


def _where(mark: StreamMark) -> tuple[int, int]:
    return mark.line + 1, mark.column + 1


def _too_deep(mark: StreamMark, limits: YamlLimits) -> YamlRefused:
    return YamlRefused(
        *_where(mark), f"valeurs imbriquées sur plus de {limits.max_depth} niveaux : refusé"
    )


class _FlowDepthScanning:
    """Refuse the bracket that opens one flow level too many, as soon as it is read.

    The composer would refuse it too, but only after the scanner has looked up to 1024
    characters ahead for each open bracket (a possible ``key:``): a second of work for a line of
    ``[[[[...``.
    """

    loader: Any
    flow_level: int
    reader: Any

    def fetch_flow_collection_start(self, TokenClass: Any, to_push: str) -> None:
        limits: YamlLimits = self.loader.yaml_limits
        if self.flow_level >= limits.max_depth:
            raise _too_deep(self.reader.get_mark(), limits)
        super().fetch_flow_collection_start(TokenClass, to_push)  # type: ignore[misc]


class _BoundedScanner(_FlowDepthScanning, Scanner):
    pass


class _BoundedRoundTripScanner(_FlowDepthScanning, RoundTripScanner):
    pass


def _number(n: int) -> str:
    return f"{n:,}".replace(",", "\N{NARROW NO-BREAK SPACE}")


@dataclass(slots=True)
class _Size:
    nodes: int
    chars: int


class _BoundedComposer(Composer):
    """ruamel's composer, counting written and expanded values as each event arrives.

    Each finished node's expanded size is kept by identity, so an alias adds its anchor's size
    at once, and an anchor still open means the alias is inside its own definition.
    """

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self.limits: YamlLimits = loader.yaml_limits  # set by _compose on the YAML object
        self.warn_double_anchors = False  # legal YAML: the later anchor wins
        self._sizes: dict[int, _Size] = {}
        self._written = _Size(0, 0)
        self._expanded = _Size(0, 0)
        self._depth_now = 0
        self._biggest_alias: tuple[int, str, StreamMark] | None = None

    def compose_node(self, parent: Any, index: Any) -> Any:
        limits = self.limits
        if self.parser.check_event(AliasEvent):
            event = self.parser.peek_event()
            node = self.anchors.get(event.anchor)
            if node is not None:
                size = self._sizes.get(id(node))
                if size is None:
                    line, _ = _where(node.start_mark)
                    raise YamlRefused(
                        *_where(event.start_mark),
                        f"l'alias *{event.anchor} est employé dans la définition même de son"
                        f" ancre &{event.anchor} (ligne {line}) : une valeur qui se contient"
                        " elle-même est refusée",
                    )
                self._grow(size, event.start_mark, f"l'alias *{event.anchor}")
                if self._biggest_alias is None or size.nodes > self._biggest_alias[0]:
                    self._biggest_alias = (size.nodes, str(event.anchor), event.start_mark)
            return super().compose_node(parent, index)
        event = self.parser.peek_event()
        chars = len(event.value) if isinstance(event, ScalarEvent) else 0
        self._written.nodes += 1
        self._written.chars += chars
        if self._written.nodes > limits.max_nodes:
            raise YamlRefused(
                *_where(event.start_mark),
                f"le fichier compte plus de {_number(limits.max_nodes)} valeurs : c'est trop"
                " pour ce fichier, refusé",
            )
        self._grow(_Size(1, chars), event.start_mark, "ce fichier")
        self._depth_now += 1
        if self._depth_now > limits.max_depth:
            raise _too_deep(event.start_mark, limits)
        node = super().compose_node(parent, index)
        self._depth_now -= 1
        self._sizes[id(node)] = self._size_of(node, chars)
        return node

    def _size_of(self, node: Node, chars: int) -> _Size:
        if isinstance(node, ScalarNode):
            return _Size(1, chars)
        children: list[Node] = (
            list(node.value)
            if isinstance(node, SequenceNode)
            else [part for pair in node.value for part in pair]
        )
        size = _Size(1, 0)
        for child in children:
            # Every child was composed (and measured) before its parent finished.
            sub = self._sizes[id(child)]
            size.nodes += sub.nodes
            size.chars += sub.chars
        return size

    def _grow(self, by: _Size, mark: StreamMark, what: str) -> None:
        self._expanded.nodes += by.nodes
        self._expanded.chars += by.chars
        limits = self.limits
        if self._expanded.nodes > limits.max_nodes:
            raise YamlRefused(
                *_where(mark),
                f"{what} porte le document au-delà de {_number(limits.max_nodes)} valeurs une"
                " fois les alias déployés : refusé",
            )
        if self._expanded.chars > limits.max_chars:
            raise YamlRefused(
                *_where(mark),
                f"{what} porte le document au-delà de {_number(limits.max_chars)} caractères"
                " une fois les alias déployés : refusé",
            )

    def check_proportion(self) -> None:
        """Once read: refuse a document its aliases make ``ratio`` times bigger than written."""
        limits = self.limits
        if self._biggest_alias is None:
            return
        _, anchor, mark = self._biggest_alias
        written, expanded = self._written, self._expanded
        if expanded.nodes > max(limits.floor_nodes, limits.ratio * written.nodes):
            raise YamlRefused(
                *_where(mark),
                f"les alias (dont *{anchor} ici) déploient le document en"
                f" {_number(expanded.nodes)} valeurs pour {_number(written.nodes)} écrites :"
                f" plus de {limits.ratio} fois sa taille, refusé",
            )
        if expanded.chars > max(limits.floor_chars, limits.ratio * written.chars):
            raise YamlRefused(
                *_where(mark),
                f"les alias (dont *{anchor} ici) déploient le document en"
                f" {_number(expanded.chars)} caractères pour {_number(written.chars)} écrits :"
                f" plus de {limits.ratio} fois sa taille, refusé",
            )


class _GuardedYAML(YAML):
    """ruamel.yaml (pure Python) with the bounded scanner and composer, which read the limits."""

    def __init__(self, typ: str, limits: YamlLimits) -> None:
        super().__init__(typ=typ, pure=True)
        self.yaml_limits = limits
        self.Scanner = _BoundedRoundTripScanner if typ == "rt" else _BoundedScanner
        self.Composer = _BoundedComposer


def check_size(text: str, limits: YamlLimits = DEFAULT_LIMITS) -> None:
    """Refuse a text over ``max_bytes`` (UTF-8) before reading any of it."""
    size = len(text.encode("utf-8"))
    if size > limits.max_bytes:
        raise YamlRefused(1, 1, size_message(size, limits))


def size_message(size: int, limits: YamlLimits = DEFAULT_LIMITS) -> str:
    return (
        f"le fichier fait {_number(-(-size // 1024))} Kio : {_number(limits.max_bytes // 1024)}"
        " Kio au plus, refusé"
    )


def compose(text: str, *, typ: str = "rt", limits: YamlLimits = DEFAULT_LIMITS) -> Node | None:
    """The document's node graph (``None`` if empty), or :class:`YamlRefused`.

    Syntax errors raise ruamel.yaml's ``MarkedYAMLError`` as usual.
    """
    check_size(text, limits)
    node, _ = _compose(text, typ, limits)
    return node


def _compose(text: str, typ: str, limits: YamlLimits) -> tuple[Node | None, _GuardedYAML]:
    yaml = _GuardedYAML(typ, limits)
    node = yaml.compose(text)
    composer = yaml.composer
    assert isinstance(composer, _BoundedComposer)
    composer.check_proportion()
    return node, yaml


def load(text: str, *, limits: YamlLimits = DEFAULT_LIMITS) -> Any:
    """Plain Python data (safe types only) from a text within bounds, or :class:`YamlRefused`."""
    check_size(text, limits)
    node, yaml = _compose(text, "safe", limits)
    if node is None:
        return None
    return yaml.constructor.construct_document(node)

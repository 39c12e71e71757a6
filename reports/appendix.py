"""The reports' appendix: the definitions of the indicators (``docs/indicateurs.md``) as their
readers need them — in French only, without what is there for IT.

The document serves both: the quality lead and the auditor read it, IT finds beside each word
the name it has in the code and in Asterisk's queue_log. The appendix keeps the first and
leaves out, from the Markdown's tokens (so whatever the document's wording becomes):

- the sections headed with one of those words (how a queue_log is read);
- the note opening the document (a paragraph wholly in italics), which points to the English
  version in the code;
- the columns of a table headed ``queue_log`` (Asterisk's event names) or ``clé JSON`` (the
  glossary's keys in ``decroche indicators --json``);
- names from the code written as code: a parenthesis holding one goes whole (``(`answer_rate`)``,
  ``(table `daily_figures`)``, ``(pour l'informatique : le JSON le donne dans `…`)``: the
  document writes what is for IT so), but ``(`cut` : Asterisk a redémarré…)`` keeps its
  explanation; any other code span is kept as plain text (a command named in a sentence).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token

IT_COLUMNS = frozenset({"queue_log", "clé JSON"})  # the glossary's keys: for IT
# A parenthesis (on one line or several) holding a code span, but not one that opens with a
# name and its explanation (« (`cut` : …) »): for IT, left out with the space before it.
IT_ASIDE = re.compile(r"[ \t]*\n?[ \t]*\((?![ \t]*`[^`]*`[ \t]*:)[^()]*`[^()]*\)")


def appendix_html(text: str) -> str:
    """``text`` (Markdown) as the appendix's HTML, headings one level down (the appendix is
    itself under a heading of the report)."""
    parser = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = parser.parse(IT_ASIDE.sub("", text))
    tokens = _without_it_sections(_without_it_columns(_without_opening_note(tokens)))
    for token in tokens:
        if token.type == "inline" and token.children:
            token.children = _plain_code(token.children)
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + 1)}"
    html: str = parser.renderer.render(tokens, parser.options, {})
    return html


def _without_opening_note(tokens: list[Token]) -> list[Token]:
    """Without the first paragraph if it is wholly in italics (the document's note)."""
    for i, token in enumerate(tokens):
        if token.type != "paragraph_open":
            continue
        children = tokens[i + 1].children or []
        if children and children[0].type == "em_open" and children[-1].type == "em_close":
            return tokens[:i] + tokens[i + 3 :]
        return tokens
    return tokens


def _without_it_sections(tokens: list[Token]) -> list[Token]:
    """Without the sections whose heading names a word of :data:`IT_COLUMNS` (how a queue_log's
    lines are read: Asterisk's event names), down to the next heading of their level or
    above."""
    kept: list[Token] = []
    skipping_level = 0
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            level = int(token.tag[1])
            if skipping_level and level <= skipping_level:
                skipping_level = 0
            if not skipping_level and any(w in tokens[i + 1].content for w in IT_COLUMNS):
                skipping_level = level
        if not skipping_level:
            kept.append(token)
    return kept


def _without_it_columns(tokens: list[Token]) -> list[Token]:
    """Without the cells of the columns headed by a name of :data:`IT_COLUMNS`."""
    kept: list[Token] = []
    dropped: set[int] = set()
    column = -1
    skipping = False
    for i, token in enumerate(tokens):
        if token.type == "table_open":
            dropped = set()
        elif token.type == "tr_open":
            column = -1
        elif token.type in ("th_open", "td_open"):
            column += 1
            if token.type == "th_open" and tokens[i + 1].content.strip() in IT_COLUMNS:
                dropped.add(column)
            skipping = column in dropped
        if not skipping:
            kept.append(token)
        if token.type in ("th_close", "td_close"):
            skipping = False
    return kept


def _plain_code(children: Sequence[Token]) -> list[Token]:
    result: list[Token] = []
    items = list(children)
    for i, child in enumerate(items):
        if child.type != "code_inline":
            result.append(child)
            continue
        before = result[-1] if result and result[-1].type == "text" else None
        after = items[i + 1] if i + 1 < len(items) and items[i + 1].type == "text" else None
        if before is not None and before.content.endswith("(") and after is not None:
            rest = after.content
            if rest.startswith(")"):  # "(`offered`)": a name beside its French words
                before.content = before.content[:-1].rstrip()
                after.content = rest[1:]
                continue
            if rest.lstrip().startswith(":"):  # "(`cut` : what it is)": the explanation stays
                after.content = rest.lstrip()[1:].lstrip()
                continue
        text = Token("text", "", 0)
        text.content = child.content
        result.append(text)
    return result

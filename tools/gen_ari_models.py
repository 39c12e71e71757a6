"""Generate ``telephony/ari/models.py`` from Asterisk's ARI description (Swagger 1.1).

Usage::

    python tools/gen_ari_models.py [API_DOCS_DIR] [-o OUTPUT] [--check]

``API_DOCS_DIR`` defaults to ``../shared/ari/api-docs`` next to the checkout. ``--check`` exits 1
if the committed file differs from what the generator produces (the test suite runs the same
comparison).

Choices made here, and why:

- Every model allows extra fields: a newer Asterisk adds fields, and we keep them
  (``model_extra``) instead of dropping or rejecting them.
- Required/optional follows the docs, except the fields listed in ``OPTIONAL_IN_PRACTICE``,
  which real Asterisk 22 omits although the docs mark them required (seen in the traces).
- Fields with ``allowableValues`` stay ``str`` (a value Asterisk adds later must not make an event
  unreadable); the allowed values are generated as ``Literal`` aliases for callers to use.
- Each event class has ``type: Literal["<name>"]`` with that default, so events form a
  discriminated union (a misspelt event name is a type error) and are easy to build in tests.
- ``Date`` becomes an aware ``datetime`` (durations come from these timestamps).
"""

from __future__ import annotations

import argparse
import json
import keyword
import sys
import textwrap
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DOCS = REPO.parent / "shared" / "ari" / "api-docs"
DEFAULT_OUTPUT = REPO / "telephony" / "ari" / "models.py"

# (model, field) -> why: documented as required but omitted by real Asterisk. Empty so far: every
# event and REST answer of the Asterisk 22.10 traces validates against the documented required
# fields (the fields Asterisk really omits, like ChannelHangupRequest.cause on a caller's BYE,
# are already optional in the docs). tests/test_ari_events.py fails if a trace ever disagrees.
OPTIONAL_IN_PRACTICE: dict[tuple[str, str], str] = {}

_SCALARS = {
    "string": "str",
    "int": "int",
    "long": "int",
    "double": "float",
    "boolean": "bool",
    "Date": "datetime",
    "object": "dict[str, Any]",
}

# Models that are not events although events.json defines them.
_MESSAGE_BASES = {"Message", "Event"}


def load_models(docs_dir: Path) -> dict[str, dict[str, Any]]:
    """All models of all resource files, in ``resources.json`` order, then file order."""
    listing = json.loads((docs_dir / "resources.json").read_text(encoding="utf-8"))
    files = [api["path"].split("/")[-1].replace(".{format}", ".json") for api in listing["apis"]]
    models: dict[str, dict[str, Any]] = {}
    for name in files:
        path = docs_dir / name
        doc = json.loads(path.read_text(encoding="utf-8"))
        for model_id, model in doc.get("models", {}).items():
            if model_id in models:
                raise SystemExit(f"{path}: model {model_id!r} defined twice")
            models[model_id] = model
    return models


def _type_of(swagger_type: str, models: dict[str, dict[str, Any]], where: str) -> str:
    if swagger_type.startswith("List[") and swagger_type.endswith("]"):
        return f"list[{_type_of(swagger_type[5:-1], models, where)}]"
    if swagger_type in _SCALARS:
        return _SCALARS[swagger_type]
    if swagger_type in models:
        return swagger_type
    raise SystemExit(f"{where}: unknown type {swagger_type!r}")


def _refs(swagger_type: str) -> str:
    return swagger_type[5:-1] if swagger_type.startswith("List[") else swagger_type


def _ordered(models: dict[str, dict[str, Any]]) -> list[str]:
    """Models so that each one comes after the models its fields and base refer to."""
    parents = {sub: mid for mid, m in models.items() for sub in m.get("subTypes", [])}
    done: list[str] = []
    seen: set[str] = set()

    def visit(model_id: str, stack: tuple[str, ...]) -> None:
        if model_id in seen:
            return
        if model_id in stack:
            raise SystemExit(f"cycle between models: {' -> '.join((*stack, model_id))}")
        deps = [_refs(p["type"]) for p in models[model_id].get("properties", {}).values()]
        if model_id in parents:
            deps.insert(0, parents[model_id])
        for dep in deps:
            if dep in models:
                visit(dep, (*stack, model_id))
        seen.add(model_id)
        done.append(model_id)

    for model_id in models:
        visit(model_id, ())
    return done


def _comment(text: str, indent: str) -> list[str]:
    text = " ".join(text.split())
    return [f"{indent}#: {line}" for line in textwrap.wrap(text, 100 - len(indent) - 3)] or []


def _docstring(text: str) -> list[str]:
    text = " ".join(text.split()).replace('"""', "'''").replace("\\", "\\\\")
    if not text:
        return []
    lines = textwrap.wrap(text, 92)
    if len(lines) == 1:
        return [f'    """{lines[0]}"""', ""]
    return ['    """' + lines[0], *[f"    {line}" for line in lines[1:]], '    """', ""]


def _literal_alias(model_id: str, field: str) -> str:
    words = "".join(part.capitalize() for part in field.split("_"))
    return model_id + words if not words.startswith(model_id) else words


def generate(docs_dir: Path) -> str:
    models = load_models(docs_dir)
    events = models["Event"]["subTypes"]
    parents = {sub: mid for mid, m in models.items() for sub in m.get("subTypes", [])}
    out: list[str] = [
        f'"""ARI models generated by tools/gen_ari_models.py from {docs_dir.name}/ '
        "(do not edit by hand).",
        "",
        "Asterisk's own description of its REST resources and WebSocket events (Swagger 1.1),",
        "as pydantic models. Unknown fields are kept in ``model_extra``. Parse events with",
        ":func:`telephony.ari.events.parse_event`, not with these classes directly.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from datetime import datetime",
        "from typing import Annotated, Any, Literal",
        "",
        "from pydantic import BaseModel, ConfigDict, Field",
        "",
    ]
    # Literal aliases for enumerated string fields.
    aliases: list[str] = []
    for model_id, model in models.items():
        for field, prop in model.get("properties", {}).items():
            allowed = prop.get("allowableValues", {}).get("values")
            if allowed:
                values = ", ".join(json.dumps(v) for v in allowed)
                aliases.append(f"{_literal_alias(model_id, field)} = Literal[{values}]")
    out += [
        "# Values the docs allow for enumerated fields (the fields themselves are typed ``str``).",
        *aliases,
        "",
        "",
        "class AriModel(BaseModel):",
        '    """Base of every ARI model: unknown fields are kept, instances are immutable."""',
        "",
        '    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)',
        "",
    ]
    for model_id in _ordered(models):
        model = models[model_id]
        base = parents.get(model_id, "AriModel")
        out += ["", f"class {model_id}({base}):"]
        out += _docstring(model.get("description", ""))
        if model_id in events:
            out.append(f'    type: Literal["{model_id}"] = "{model_id}"')
        props = model.get("properties", {})
        for field, prop in props.items():
            where = f"{model_id}.{field}"
            if field == "type" and model_id in _MESSAGE_BASES:
                annotation = "str"
            else:
                annotation = _type_of(prop["type"], models, where)
            required = bool(prop.get("required", False))
            if (model_id, field) in OPTIONAL_IN_PRACTICE:
                required = False
            name = field + "_" if keyword.iskeyword(field) else field
            out += _comment(prop.get("description", ""), "    ")
            allowed = prop.get("allowableValues", {}).get("values")
            if allowed:
                out.append(f"    #: One of :data:`{_literal_alias(model_id, field)}`.")
            if name != field:
                default = "..." if required else "None"
                annotation = annotation if required else f"{annotation} | None"
                out.append(f'    {name}: {annotation} = Field({default}, alias="{field}")')
            elif required:
                out.append(f"    {name}: {annotation}")
            else:
                out.append(f"    {name}: {annotation} | None = None")
        if not props and model_id not in events:
            out.append("    pass")
        out.append("")
    names = " | ".join(events)
    out += [
        "",
        "# Every event type Asterisk documents, closed set.",
        "EventTypeName = Literal[",
        *[f'    "{name}",' for name in events],
        "]",
        "",
        "EVENT_CLASSES: dict[str, type[Event]] = {",
        *[f'    "{name}": {name},' for name in events],
        "}",
        "",
        "KnownEvent = Annotated[",
        f"    {names},",
        '    Field(discriminator="type"),',
        "]",
        "",
    ]
    return "\n".join(out)


def _format(source: str) -> str:
    """Run the project's formatter so the committed file passes ``ruff format --check``."""
    import subprocess

    ruff = REPO / ".venv" / "bin" / "ruff"
    command = [str(ruff) if ruff.exists() else "ruff", "format", "--stdin-filename", "models.py"]
    done = subprocess.run(command, input=source, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"ruff format failed on the generated code: {done.stderr}")
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("docs", nargs="?", type=Path, default=DEFAULT_DOCS)
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="fail if the output is stale")
    args = parser.parse_args(argv)
    source = _format(generate(args.docs))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != source:
            print(f"{args.output} is out of date: run tools/gen_ari_models.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(source, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

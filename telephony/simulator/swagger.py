"""A small validator for ARI JSON against Asterisk's models (``telephony/ari/api_schema.json``,
generated from Asterisk's Swagger 1.1 ``api-docs``).

Checks what matters to a client: required fields present, no field the model does not define,
types (string, int/long, double, boolean, Date, object, List[...], nested models) and allowed
values. Events are validated against their own model plus ``Event`` and ``Message``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from telephony.ari.api_schema import API_SCHEMA_PATH, load_api_schema

_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d{4}|[+-]\d\d:\d\d|Z)$")


class SwaggerModels:
    def __init__(self, models: dict[str, dict[str, Any]]) -> None:
        self.models = models

    @classmethod
    def load(cls, schema: Path = API_SCHEMA_PATH) -> SwaggerModels:
        models: dict[str, dict[str, Any]] = load_api_schema(schema)["models"]
        return cls(models)

    def validate(self, value: Any, type_name: str, where: str = "$") -> list[str]:
        """Problems found in ``value`` read as ``type_name`` (empty when valid)."""
        if type_name.startswith("List[") and type_name.endswith("]"):
            if not isinstance(value, list):
                return [f"{where}: expected a list for {type_name}, got {type(value).__name__}"]
            inner = type_name[5:-1]
            problems: list[str] = []
            for index, item in enumerate(value):
                problems += self.validate(item, inner, f"{where}[{index}]")
            return problems
        scalar = _check_scalar(value, type_name, where)
        if scalar is not None:
            return scalar
        model = self.models.get(type_name)
        if model is None:
            return [f"{where}: unknown type {type_name!r}"]
        if not isinstance(value, dict):
            return [f"{where}: expected object {type_name}, got {type(value).__name__}"]
        return self._object(value, [model], where)

    def validate_event(self, event: dict[str, Any]) -> list[str]:
        kind = event.get("type")
        model = self.models.get(kind) if isinstance(kind, str) else None
        if model is None:
            return [f"$.type: unknown event type {kind!r}"]
        return self._object(event, [model, self.models["Event"], self.models["Message"]], "$")

    def _object(self, value: dict[str, Any], models: list[dict[str, Any]], where: str) -> list[str]:
        properties: dict[str, Any] = {}
        for model in models:
            properties.update(model.get("properties", {}))
        problems: list[str] = []
        for name, spec in properties.items():
            if name not in value:
                if spec.get("required") is True:
                    problems.append(f"{where}.{name}: required field missing")
                continue
            problems += self.validate(value[name], spec["type"], f"{where}.{name}")
            allowed = spec.get("allowableValues")
            if allowed and value[name] not in allowed:
                problems.append(f"{where}.{name}: {value[name]!r} not one of {allowed}")
        for name in value:
            if name not in properties:
                problems.append(f"{where}.{name}: field not in the model")
        return problems


def _check_scalar(value: Any, type_name: str, where: str) -> list[str] | None:
    expected: tuple[type, ...]
    if type_name == "string":
        expected = (str,)
    elif type_name in ("int", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            return [f"{where}: expected an integer, got {value!r}"]
        return []
    elif type_name == "double":
        expected = (int, float)
    elif type_name == "boolean":
        expected = (bool,)
    elif type_name == "object":
        expected = (dict,)
    elif type_name == "Date":
        if not isinstance(value, str) or not _DATE.match(value):
            return [f"{where}: expected an ARI date, got {value!r}"]
        return []
    else:
        return None
    if not isinstance(value, expected):
        return [f"{where}: expected {type_name}, got {value!r}"]
    return []

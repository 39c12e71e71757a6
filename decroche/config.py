"""Service configuration: one file (YAML), environment variables for secrets and overrides.

Every setting has an embedded default so that ``make demo`` runs with no file at all. Secrets
(ARI password, pseudonymisation key, web session key) are read from the environment when set:
``DECROCHE_<SECTION>__<FIELD>``, e.g. ``DECROCHE_ARI__PASSWORD``. They are never in the code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from analytics.objectives import ObjectivesConfig

ENV_PREFIX = "DECROCHE_"


class ConfigError(Exception):
    """The configuration file or an environment override is invalid; the message says where."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AriConfig(_Section):
    """How to reach Asterisk's ARI (or the simulated PBX, which speaks the same)."""

    url: str = "http://127.0.0.1:8088/ari"
    username: str = "decroche"
    password: SecretStr = SecretStr("")
    app: str = "decroche"
    # Timeouts of every REST call and of the WebSocket keep-alive, in seconds.
    request_timeout_s: float = 5.0
    ping_interval_s: float = 5.0
    reconnect_max_backoff_s: float = 1.0


class StorageConfig(_Section):
    """Where call records go. Empty url: SQLite file ``decroche.db`` in the data directory."""

    url: str = ""
    pseudonym_secret: SecretStr = SecretStr("")
    retention_months: int = Field(default=12, ge=1, le=120)


class RulesConfig(_Section):
    """The routing rules file IT edits (default: the Bernay rules shipped with the package)."""

    file: Path | None = None


class WebConfig(_Section):
    """The pages (tableau de bord) and /metrics, /healthz."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    session_secret: SecretStr = SecretStr("")
    town: str = "Ville de Bernay"
    # Agent accounts of the web app -> their phone, so the agents' page drives routing.
    agent_phones: dict[str, str] = Field(default_factory=dict)


class Config(_Section):
    data_dir: Path = Path("data")
    ari: AriConfig = AriConfig()
    storage: StorageConfig = StorageConfig()
    rules: RulesConfig = RulesConfig()
    web: WebConfig = WebConfig()
    objectives: ObjectivesConfig = Field(default_factory=ObjectivesConfig)

    def database_url(self) -> str:
        if self.storage.url:
            return self.storage.url
        return f"sqlite:///{(self.data_dir / 'decroche.db').as_posix()}"


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or "__" not in key:
            continue
        path = key[len(ENV_PREFIX) :].lower().split("__")
        node = overrides
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return overrides


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_config(path: Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Read the file (if any), apply environment overrides, validate everything at once."""
    from ruamel.yaml.error import YAMLError

    from routing_rules import yaml_guard

    raw: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml_guard.load(path.read_text(encoding="utf-8"))
        except yaml_guard.YamlRefused as exc:
            raise ConfigError(f"{path}:{exc.line}:{exc.column}: {exc.message}") from exc
        except (OSError, YAMLError) as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the configuration must be a mapping of sections")
        raw = loaded
    raw = _merge(raw, _env_overrides(dict(os.environ if environ is None else environ)))
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        where = str(path) if path is not None else "configuration"
        lines = [
            f"{where}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        ]
        raise ConfigError("\n".join(lines)) from exc

"""Service configuration: one file (YAML), environment variables for secrets and overrides.

Every setting has an embedded default so that ``make demo`` runs with no file at all. Secrets
(ARI password, pseudonymisation key) are read from the environment when set:
``DECROCHE_<SECTION>__<FIELD>``, e.g. ``DECROCHE_ARI__PASSWORD``. They are never in the code.

Only the composition root (:mod:`decroche.app`) reads a :class:`Config`; every error is a
:class:`ConfigError` whose text is French, one line per problem, naming the file and the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from analytics.objectives import ObjectivesConfig
from decroche.errors import ConfigError as ConfigError
from routing_rules.messages import french, os_reason

ENV_PREFIX = "DECROCHE_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AriConfig(_Section):
    """How to reach Asterisk's ARI (or the simulated PBX, which speaks the same)."""

    url: str = "http://127.0.0.1:8088/ari"
    username: str = "decroche"
    password: SecretStr = SecretStr("")
    app: str = "decroche"
    # Timeout of every REST call, in seconds.
    request_timeout_s: float = Field(default=5.0, gt=0)
    # WebSocket keep-alive: a ping every so many seconds; a link whose pong does not come back
    # is closed and reconnected.
    ping_interval_s: float = Field(default=5.0, gt=0)
    # Longest wait between two reconnection attempts (the first retry is immediate).
    reconnect_max_backoff_s: float = Field(default=1.0, gt=0)


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
    # The town's name on the pages and in the reports.
    town: str = Field(default="Ville de Bernay", min_length=1)
    # Sign-in cookies only over HTTPS (the ``Secure`` flag): true behind the HTTPS proxy of
    # production; false for a dashboard reached in plain HTTP (the demo, a test machine).
    secure_cookies: bool = False
    # Agent accounts of the web app -> their phone, so the agents' page drives routing.
    agent_phones: dict[str, str] = Field(default_factory=dict)
    # The quality lead's per-agent figures name the agents (their account) instead of
    # "Agent 1", "Agent 2"... Only once the staff representatives have been consulted and the
    # agents informed (docs/chiffres-par-agent.md).
    name_agents_in_figures: bool = False


class StaffingConfig(_Section):
    """``decroche staffing`` and its page: the after-call work of each service (seconds an
    agent stays busy after hanging up, counted in the handle time; none when absent)."""

    after_call_work_s: dict[str, Annotated[float, Field(ge=0, le=3600)]] = Field(
        default_factory=dict
    )


class AuditConfig(_Section):
    """Audit calls (``docs/audit.md``): decroche calls itself through Asterisk, along every path
    of the rules, and checks where each ends, what is heard, and that nothing is left behind."""

    # The robot's own Stasis application (empty: "<ari.app>-audit"); never decroche's.
    app: str = Field(default="", pattern=r"^[A-Za-z0-9_.-]{0,64}$")
    # The dialplan context the operator's calls enter (asterisk/extensions.conf).
    context: str = Field(default="from-trunk", pattern=r"^[A-Za-z0-9_-]{1,80}$")
    # Dialled for the entry route that takes any number: the town's number, or "standard"
    # (what the shipped dialplan gives decroche for a call without a number).
    main_number: str = Field(default="standard", pattern=r"^[0-9A-Za-z+]{1,32}$")
    # A phone audit calls ring where a service's agents would ring (e.g. PJSIP/1999), to hear
    # them; none: they stop there ("would ring now") and no phone rings.
    test_phone: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]*/[^\s/,]+$")
    concurrency: int = Field(default=4, ge=1, le=20)
    # The nightly audit, at this local time (HH:MM); empty: none.
    nightly_at: str | None = Field(default="02:30", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    # After each rules reload, audit the paths the change touched.
    after_reload: bool = True
    # Longest wait from a call's arrival to its first prompt.
    max_first_prompt_s: float = Field(default=2.0, gt=0, le=60)
    # An audit call still up after this is hung up, and fails.
    call_timeout_s: float = Field(default=300.0, ge=30, le=3600)
    # Each run's report is written as HTML and PDF into the reports folder.
    report_pdf: bool = True


class Config(_Section):
    data_dir: Path = Path("data")
    # Checked routing rules kept between commands (derived data, safe to delete). Read from the
    # file when absent: by default systemd's CacheDirectory ($CACHE_DIRECTORY), else
    # $XDG_CACHE_HOME/decroche, else ~/.cache/decroche. null: no cache (each command checks).
    cache_dir: Path | None = None
    ari: AriConfig = AriConfig()
    storage: StorageConfig = StorageConfig()
    rules: RulesConfig = RulesConfig()
    web: WebConfig = WebConfig()
    objectives: ObjectivesConfig = Field(default_factory=ObjectivesConfig)
    staffing: StaffingConfig = StaffingConfig()
    audit: AuditConfig = AuditConfig()

    def database_url(self) -> str:
        if self.storage.url:
            return self.storage.url
        return f"sqlite:///{(self.data_dir / 'decroche.db').as_posix()}"


def secret_variables() -> frozenset[str]:
    """The environment variables that carry a secret setting (``DECROCHE_ARI__PASSWORD``...):
    every :class:`SecretStr` of the configuration, so that a new secret is covered at once."""
    names = set()
    for section, field in Config.model_fields.items():
        model = field.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            for name, setting in model.model_fields.items():
                if setting.annotation is SecretStr:
                    names.add(f"{ENV_PREFIX}{section}__{name}".upper())
    return frozenset(names)


# Settings that existed once: naming them says what to do instead of "unknown key".
REMOVED = {
    ("web", "session_secret"): "réglage supprimé : les sessions n'utilisent pas de clé "
    "(jetons aléatoires, seule leur empreinte est gardée) ; retirez-le "
    "(et DECROCHE_WEB__SESSION_SECRET de l'environnement)",
}


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


def _read(path: Path) -> dict[str, Any]:
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    from routing_rules import yaml_guard
    from routing_rules.messages import yaml_problem

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path} : le fichier n'est pas en UTF-8 (octet {exc.start}) ; enregistrez-le en UTF-8"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"{path} : lecture impossible ({os_reason(exc)})") from exc
    try:
        # Read within bounds, like every YAML file people write (alias bombs, deep nesting).
        loaded = yaml_guard.load(text)
    except yaml_guard.YamlRefused as exc:
        raise ConfigError(f"{path}:{exc.line}:{exc.column}: {exc.message}") from exc
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: {yaml_problem(exc.problem, exc.context)}") from exc
    except YAMLError as exc:
        raise ConfigError(f"{path} : {yaml_problem(str(exc))}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path} : la configuration doit être une suite de sections (clé: …)")
    return loaded


def default_cache_dir(environ: dict[str, str]) -> Path | None:
    """Where derived data goes when the configuration does not say (see ``cache_dir``)."""
    if environ.get("CACHE_DIRECTORY"):  # systemd's CacheDirectory=, possibly a list
        return Path(environ["CACHE_DIRECTORY"].split(":")[0])
    if environ.get("XDG_CACHE_HOME"):
        return Path(environ["XDG_CACHE_HOME"]) / "decroche"
    if environ.get("HOME"):
        return Path(environ["HOME"]) / ".cache" / "decroche"
    return None


def load_config(path: Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Read the file (if any), apply environment overrides, validate everything at once."""
    raw = _read(path) if path is not None else {}
    environ = dict(os.environ if environ is None else environ)
    raw = _merge(raw, _env_overrides(environ))
    raw.setdefault("cache_dir", default_cache_dir(environ))
    where = str(path) if path is not None else "configuration"
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            removed = REMOVED.get(tuple(str(p) for p in err["loc"]))  # type: ignore[arg-type]
            lines.append(f"{where} : {key} : {removed or french(err)}")
        raise ConfigError("\n".join(lines)) from exc

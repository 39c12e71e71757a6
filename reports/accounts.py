"""Local accounts and sign-in sessions of the web app.

Passwords are hashed with Argon2id (argon2-cffi's defaults). A session is a random token in a
cookie; only its SHA-256 is stored. Sessions end after a fixed lifetime or after a period without
use, whichever comes first; each carries its own CSRF token for the forms.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from reports.errors import AccountError, AuthenticationFailed, InputError, ReportsError
from reports.schema import web_sessions, web_users

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_SERVICE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MIN_PASSWORD = 10


class Role(StrEnum):
    QUALITY = "quality"
    IT = "it"
    AGENT = "agent"


ROLE_FR = {Role.QUALITY: "responsable qualité", Role.IT: "informatique", Role.AGENT: "agent"}


@dataclass(frozen=True, slots=True)
class User:
    login: str
    role: Role
    services: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """How long a session lasts; the composition root reads these from the configuration."""

    lifetime: timedelta = timedelta(hours=8)
    idle_timeout: timedelta = timedelta(minutes=30)
    cookie_name: str = "decroche_session"
    cookie_secure: bool = False  # True behind HTTPS (production)


def upgrade_web_schema(engine: Engine) -> None:
    """Create or upgrade the web app's tables (its own Alembic history)."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise ReportsError(
            f"impossible de créer ou de mettre à jour les tables du tableau de bord : {exc}"
        ) from exc


def parse_services(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    services = tuple(dict.fromkeys(s.strip() for s in value.split(",") if s.strip()))
    for service in services:
        if not _SERVICE.match(service):
            raise InputError(
                f"--services : « {service} » n'est pas un identifiant de service (a-z, 0-9, _ et -)"
            )
    return services


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountStore:
    """Users and sessions in the web app's tables (``upgrade_web_schema`` first)."""

    def __init__(self, engine: Engine, settings: AuthSettings | None = None) -> None:
        self._engine = engine
        self.settings = settings or AuthSettings()
        self._hasher = PasswordHasher()
        # Verifying an unknown login still costs one hash, so timing does not tell logins apart.
        self._dummy_hash = self._hasher.hash(secrets.token_hex(16))

    def upgrade_schema(self) -> None:
        """Create or upgrade the web app's tables (accounts, sessions, report ledger)."""
        upgrade_web_schema(self._engine)

    # --- accounts -------------------------------------------------------------------------

    def add_user(
        self,
        login: str,
        password: str,
        role: Role | str,
        services: tuple[str, ...] = (),
        *,
        now: datetime,
    ) -> User:
        if not _LOGIN.match(login):
            raise InputError(
                f"identifiant « {login} » : de 2 à 64 caractères parmi a-z, 0-9, "
                "« . », « _ » et « - »"
            )
        try:
            role = Role(role)
        except ValueError as exc:
            choices = ", ".join(r.value for r in Role)
            raise InputError(f"rôle « {role} » inconnu (au choix : {choices})") from exc
        if len(password) < MIN_PASSWORD:
            raise InputError(f"le mot de passe doit compter au moins {MIN_PASSWORD} caractères")
        if role is Role.AGENT and not services:
            raise InputError("un agent a besoin de --services (les services auxquels il répond)")
        if role is not Role.AGENT and services:
            raise InputError("--services ne s'applique qu'aux agents")
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(web_users).values(
                        login=login,
                        password_hash=self._hasher.hash(password),
                        role=role.value,
                        services=",".join(services),
                        created_at=now,
                        disabled=False,
                    )
                )
        except IntegrityError as exc:
            raise AccountError(f"le compte « {login} » existe déjà") from exc
        return User(login, role, services)

    def set_password(self, login: str, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise InputError(f"le mot de passe doit compter au moins {MIN_PASSWORD} caractères")
        with self._engine.begin() as conn:
            changed = conn.execute(
                update(web_users)
                .where(web_users.c.login == login)
                .values(password_hash=self._hasher.hash(password))
            )
            # A new password closes every open session of that account.
            conn.execute(delete(web_sessions).where(web_sessions.c.login == login))
        if changed.rowcount != 1:
            raise AccountError(f"aucun compte « {login} »")

    def remove_user(self, login: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.login == login))
            removed = conn.execute(delete(web_users).where(web_users.c.login == login))
        if removed.rowcount != 1:
            raise AccountError(f"aucun compte « {login} »")

    def users(self) -> list[User]:
        u = web_users.c
        with self._engine.connect() as conn:
            rows = conn.execute(select(u.login, u.role, u.services).order_by(u.login)).all()
        return [User(login, Role(role), parse_services(services)) for login, role, services in rows]

    # --- sign-in and sessions -------------------------------------------------------------

    def authenticate(self, login: str, password: str) -> User:
        u = web_users.c
        with self._engine.connect() as conn:
            row = conn.execute(
                select(u.password_hash, u.role, u.services, u.disabled).where(u.login == login)
            ).first()
        if row is None or row[3]:
            self._verify(self._dummy_hash, password)
            raise AuthenticationFailed("identifiant ou mot de passe incorrect")
        if not self._verify(row[0], password):
            raise AuthenticationFailed("identifiant ou mot de passe incorrect")
        return User(login, Role(row[1]), parse_services(row[2]))

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def open_session(self, user: User, *, now: datetime) -> tuple[str, Session]:
        """A new session for ``user``: the cookie's token and the session."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = now + self.settings.lifetime
        with self._engine.begin() as conn:
            # Sessions past their end are removed as new ones open: the table stays small.
            conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < now))
            conn.execute(
                insert(web_sessions).values(
                    token_hash=_token_hash(token),
                    login=user.login,
                    csrf_token=csrf,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=expires,
                )
            )
        return token, Session(user, csrf, expires)

    def session(self, token: str, *, now: datetime) -> Session | None:
        """The live session of ``token`` (and mark it used), or None if unknown or ended."""
        s, u = web_sessions.c, web_users.c
        key = _token_hash(token)
        with self._engine.begin() as conn:
            row = conn.execute(
                select(s.login, s.csrf_token, s.last_seen_at, s.expires_at, u.role, u.services)
                .select_from(web_sessions.join(web_users, u.login == s.login))
                .where(s.token_hash == key, u.disabled.is_(False))
            ).first()
            if row is None:
                return None
            login, csrf, last_seen, expires, role, services = row
            if now >= expires or now - last_seen >= self.settings.idle_timeout:
                conn.execute(delete(web_sessions).where(s.token_hash == key))
                return None
            conn.execute(update(web_sessions).where(s.token_hash == key).values(last_seen_at=now))
        return Session(User(login, Role(role), parse_services(services)), csrf, expires)

    def close_session(self, token: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                delete(web_sessions).where(web_sessions.c.token_hash == _token_hash(token))
            )

"""Caller number pseudonymisation (CNIL): a keyed hash instead of the number.

HMAC-SHA256 keyed with a secret from the configuration: the same caller always gets the same
pseudonym (repeat callers can be counted) but nobody without the key can recover the number or
test a guess. Numbers are normalised first so that ``+33 2 32 ...``, ``0033232...`` and
``02 32 ...`` are one caller.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from telephony.records.errors import PseudonymError

MIN_SECRET_BYTES = 16
_WITHHELD = {"", "anonymous", "unknown", "unavailable", "restricted", "private", "withheld"}
_SEPARATORS = re.compile(r"[\s.\-()/]")


def normalise_number(number: str) -> str | None:
    """The canonical form of a caller number, or None when it was withheld.

    French numbers in international form become national (``+33232...`` → ``0232...``).
    """
    cleaned = _SEPARATORS.sub("", number.strip())
    if cleaned.lower() in _WITHHELD:
        return None
    if cleaned.startswith("+33"):
        return "0" + cleaned[3:]
    if cleaned.startswith("0033"):
        return "0" + cleaned[4:]
    if cleaned.startswith("00"):
        return "+" + cleaned[2:]
    return cleaned


class Pseudonymiser:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise PseudonymError(
                f"the pseudonymisation secret must be at least {MIN_SECRET_BYTES} bytes "
                f"(got {len(secret)}); set storage.pseudonym_secret"
            )
        self._secret = secret

    def pseudonym(self, number: str) -> str | None:
        """64 hex characters, or None for a withheld number (such callers cannot be counted)."""
        normal = normalise_number(number)
        if normal is None:
            return None
        return hmac.new(self._secret, normal.encode("utf-8"), hashlib.sha256).hexdigest()


def load_or_create_secret(path: Path) -> bytes:
    """The secret kept in ``path`` (created, owner-only, on first use).

    Used when the configuration gives no secret: pseudonyms must stay stable across restarts
    for repeat callers to be counted, so a random per-run key would not do.
    """
    try:
        if path.exists():
            secret = path.read_bytes().strip()
            if len(secret) < MIN_SECRET_BYTES:
                raise PseudonymError(f"{path}: the pseudonymisation secret is too short")
            return secret
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_hex(32).encode("ascii")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secret + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        return secret
    except OSError as exc:
        raise PseudonymError(
            f"{path}: cannot read or create the pseudonymisation secret: {exc}"
        ) from exc


def pseudonymiser_from_config(secret: str, data_dir: Path) -> Pseudonymiser:
    """The configured secret if any, else the one kept in ``<data_dir>/pseudonym.key``."""
    if secret:
        return Pseudonymiser(secret.encode("utf-8"))
    return Pseudonymiser(load_or_create_secret(data_dir / "pseudonym.key"))

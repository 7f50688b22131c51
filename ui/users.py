"""Optional login: users and roles from a TOML file (`rag serve --users FILE`).

    [users.zhangsan]
    role = "supervisor"              # staff | supervisor | admin
    password = "scrypt$<salt hex>$<hash hex>"   # from `rag hash-password`
    api_key = "sha256$<hex>"         # optional, from `rag api-key`: the HTTP API's bearer key

Staff ask questions; supervisors also approve or reject claims; admins also upload reports.
An API key (for /v1/chat/completions and /mcp) is a random token; the file keeps its SHA-256
only (a 256-bit random key needs no slow hash), and a request's key is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ConfigError

ROLES = ("staff", "supervisor", "admin")
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    computed = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=_N, r=_R, p=_P)
    return hmac.compare_digest(computed.hex(), digest)


KEY_PREFIX = "rag-"


def new_api_key() -> tuple[str, str]:
    """A fresh key and the line's value for the users file: ("rag-…", "sha256$…")."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return key, key_hash(key)


def key_hash(key: str) -> str:
    return "sha256$" + hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password: str
    api_key: str = ""  # sha256$<hex> of the user's API key, or "" (no API access)

    def can(self, action: str) -> bool:
        need = {"ask": "staff", "review": "supervisor", "upload": "admin"}[action]
        return ROLES.index(self.role) >= ROLES.index(need)


def user_for_key(users: dict[str, User], key: str) -> User | None:
    """The user whose API key this is, or None."""
    digest = key_hash(key)
    found = None
    for user in users.values():  # every user compared: the time does not tell which matched
        if user.api_key and hmac.compare_digest(user.api_key, digest):
            found = user
    return found


def load_users(path: Path) -> dict[str, User]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"users file {path}: {e}") from e
    users = {}
    for name, row in (data.get("users") or {}).items():
        role, password = row.get("role"), row.get("password")
        if role not in ROLES:
            raise ConfigError(f"{path}: users.{name}.role must be one of {ROLES}, got {role!r}")
        if not isinstance(password, str) or not password.startswith("scrypt$"):
            raise ConfigError(f"{path}: users.{name}.password must come from `rag hash-password`")
        api_key = row.get("api_key", "")
        if not isinstance(api_key, str) or (
            api_key and not re.fullmatch(r"sha256\$[0-9a-f]{64}", api_key)
        ):
            raise ConfigError(f"{path}: users.{name}.api_key must come from `rag api-key`")
        users[name] = User(name, role, password, api_key)
    if not users:
        raise ConfigError(f"{path}: no [users.<name>] entries")
    return users

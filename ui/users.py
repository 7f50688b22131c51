"""Optional login: users and roles from a TOML file (`rag serve --users FILE`).

    [users.zhangsan]
    role = "supervisor"              # staff | supervisor | admin
    password = "scrypt$<salt hex>$<hash hex>"   # from `rag hash-password`

Staff ask questions; supervisors also approve or reject claims; admins also upload reports.
"""

from __future__ import annotations

import hashlib
import hmac
import os
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


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password: str

    def can(self, action: str) -> bool:
        need = {"ask": "staff", "review": "supervisor", "upload": "admin"}[action]
        return ROLES.index(self.role) >= ROLES.index(need)


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
        users[name] = User(name, role, password)
    if not users:
        raise ConfigError(f"{path}: no [users.<name>] entries")
    return users

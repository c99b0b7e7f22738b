"""Who calls the cloud: bearer tokens of users with a role.

A token is 32 random bytes (URL-safe text); the database keeps only its SHA-256. Roles:

- ``admin``: adds users, reads everything; the first admin token comes from
  ``coatshare cloud serve`` (``--operator-token`` or printed once at start);
- ``engineer``: submits recipe versions for review;
- ``approver``: approves (signs) or rejects pending recipe versions, never one they
  submitted themselves (four eyes on every program a cell will run).

Every user may read the recipe store and the sites' results.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select

from cloud_brain.db import cloud_users
from recipes.errors import InvalidInputError

ROLES = ("admin", "engineer", "approver")
#: names starting so belong to the cloud's own workers (the candidate planner)
RESERVED_PREFIX = "cloud-"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")


class AuthError(Exception):
    """No token, or one the cloud does not know (HTTP 401)."""


class ForbiddenError(Exception):
    """A known user asking for what their role may not do (HTTP 403)."""


@dataclass(frozen=True)
class User:
    name: str
    role: str

    def require(self, *roles: str) -> None:
        """Go on only for users of one of ``roles``."""
        if self.role not in roles:
            raise ForbiddenError(f"{self.name} ({self.role}) may not do this: needs {roles}")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def add_user(engine: Engine, name: str, role: str, *, token: str | None = None) -> str:
    """Register a user; returns the token (``token`` when given, else a new one)."""
    if role not in ROLES:
        raise InvalidInputError("role", f"must be one of {ROLES}, got {role!r}")
    if not _NAME.match(name):
        raise InvalidInputError(
            "name", f"{name!r}: 2-80 lower-case letters, digits, '.', '_' or '-'"
        )
    if name.startswith(RESERVED_PREFIX):
        raise InvalidInputError(
            "name", f"{name!r}: names starting {RESERVED_PREFIX!r} are reserved"
        )
    token = token or new_token()
    if len(token) < 16:
        raise InvalidInputError("token", "needs at least 16 characters")
    with engine.begin() as conn:
        taken = conn.execute(select(cloud_users.c.id).where(cloud_users.c.name == name)).first()
        if taken is not None:
            raise InvalidInputError("name", f"user {name!r} exists already")
        conn.execute(
            insert(cloud_users).values(
                name=name, role=role, token_sha256=_digest(token), created_at=datetime.now(UTC)
            )
        )
    return token


def ensure_admin(engine: Engine, token: str, name: str = "admin") -> None:
    """Make ``token`` an admin token unless it is known already."""
    with engine.connect() as conn:
        known = conn.execute(
            select(cloud_users.c.id).where(cloud_users.c.token_sha256 == _digest(token))
        ).first()
    if known is None:
        add_user(engine, name, "admin", token=token)


def authenticate(engine: Engine, authorization: str | None) -> User:
    """The user of an ``Authorization: Bearer <token>`` header."""
    if not authorization or not authorization.startswith("Bearer "):
        raise AuthError("send 'Authorization: Bearer <token>'")
    token = authorization.removeprefix("Bearer ").strip()
    with engine.connect() as conn:
        row = conn.execute(
            select(cloud_users.c.name, cloud_users.c.role).where(
                cloud_users.c.token_sha256 == _digest(token)
            )
        ).first()
    if row is None:
        raise AuthError("unknown token")
    return User(row.name, row.role)


__all__ = [
    "RESERVED_PREFIX",
    "ROLES",
    "AuthError",
    "ForbiddenError",
    "User",
    "add_user",
    "authenticate",
    "ensure_admin",
    "new_token",
]

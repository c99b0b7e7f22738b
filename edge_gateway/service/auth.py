"""Who is calling: bearer tokens of firms and of factory staff.

A token is 32 random bytes (URL-safe text); the database keeps only its SHA-256. Roles:
``firm`` (sees and books only its own quotes, jobs and records), ``operator`` (the factory:
everything, and it registers firms). The first operator token comes from
``coatshare edge serve`` (``--operator-token`` or printed once at start).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select

from edge_gateway.db import firms, principals
from recipes.errors import InvalidInputError

ROLES = ("firm", "operator")


class AuthError(Exception):
    """No token, or one the edge does not know (HTTP 401)."""


class ForbiddenError(Exception):
    """A known caller asking for what its role may not do (HTTP 403)."""


@dataclass(frozen=True)
class Principal:
    role: str
    firm_id: str | None
    name: str

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"

    def require_operator(self) -> None:
        if not self.is_operator:
            raise ForbiddenError("only factory operators may do this")

    def require_firm(self) -> str:
        if self.firm_id is None:
            raise ForbiddenError("only a firm may do this")
        return self.firm_id


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def add_principal(
    engine: Engine, role: str, name: str, *, firm_id: str | None = None, token: str | None = None
) -> str:
    """Register a caller; returns its token (``token`` when given, else a new one)."""
    if role not in ROLES:
        raise InvalidInputError("role", f"must be one of {ROLES}")
    if (role == "firm") != (firm_id is not None):
        raise InvalidInputError("firm_id", "a firm's token names its firm; staff tokens none")
    token = token or new_token()
    if len(token) < 16:
        raise InvalidInputError("token", "needs at least 16 characters")
    with engine.begin() as conn:
        conn.execute(
            insert(principals).values(
                token_sha256=_digest(token),
                role=role,
                firm_id=firm_id,
                name=name,
                created_at=datetime.now(UTC),
            )
        )
    return token


def ensure_operator(engine: Engine, token: str, name: str = "operator") -> None:
    """Make ``token`` an operator token unless it already is one."""
    with engine.connect() as conn:
        known = conn.execute(
            select(principals.c.role).where(principals.c.token_sha256 == _digest(token))
        ).first()
    if known is None:
        add_principal(engine, "operator", name, token=token)


def authenticate(engine: Engine, authorization: str | None) -> Principal:
    """The caller of an ``Authorization: Bearer <token>`` header."""
    if not authorization or not authorization.startswith("Bearer "):
        raise AuthError("send 'Authorization: Bearer <token>'")
    token = authorization.removeprefix("Bearer ").strip()
    with engine.connect() as conn:
        row = conn.execute(
            select(principals.c.role, principals.c.firm_id, principals.c.name).where(
                principals.c.token_sha256 == _digest(token)
            )
        ).first()
    if row is None:
        raise AuthError("unknown token")
    return Principal(row.role, row.firm_id, row.name)


def add_firm(engine: Engine, firm_id: str, name: str) -> str:
    """Register a firm; returns its first token."""
    with engine.begin() as conn:
        exists = conn.execute(select(firms.c.id).where(firms.c.id == firm_id)).first()
        if exists is not None:
            raise InvalidInputError("id", f"firm {firm_id!r} exists already")
        conn.execute(insert(firms).values(id=firm_id, name=name, created_at=datetime.now(UTC)))
    return add_principal(engine, "firm", name, firm_id=firm_id)


__all__ = [
    "ROLES",
    "AuthError",
    "ForbiddenError",
    "Principal",
    "add_firm",
    "add_principal",
    "authenticate",
    "ensure_operator",
    "new_token",
]

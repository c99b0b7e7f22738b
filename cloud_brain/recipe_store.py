"""The recipe store: recipe versions, their review, and the approval signature.

A recipe version arrives as its document (``schema: coatshare.recipe/v1``, YAML, with its
content hash) from an engineer and waits as ``pending`` in the approval queue. An
approver (never the one who submitted it) approves it, and the cloud signs it with its
approval key (``recipes.approval``: Ed25519 over id, version and content hash): the
stored document is then the signed one, which edges and cells verify before a cell runs
it. Or the approver rejects it, with a reason. Decided versions do not change.

Versions of a recipe id are numbered 1, 2, 3, ... without gaps, and every version of an id
is for the same part and finish. Submitting a version that is stored already with the same
content is answered with the stored one (a client may retry); with other content it is a
conflict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from cloud_brain.db import recipe_versions
from cloud_brain.users import ForbiddenError, User
from recipes.approval import ApprovalKeyPair, ApprovalVerifier, approve_recipe
from recipes.document import RecipeDoc, dumps, loads
from recipes.errors import InvalidInputError, NotFoundError

STATUSES = ("pending", "approved", "rejected")


class ConflictError(Exception):
    """The request contradicts what is stored (HTTP 409)."""


@dataclass(frozen=True)
class Submitted:
    """The stored version (as :meth:`RecipeStore.get` gives it) and whether it is new."""

    version: dict[str, Any]
    created: bool


class RecipeStore:
    """Recipe versions in the cloud database ``engine``, signed with ``approval_key``
    (None: approvals are refused until a key is configured)."""

    def __init__(self, engine: Engine, approval_key: ApprovalKeyPair | None = None) -> None:
        self.engine = engine
        self.approval_key = approval_key

    # --- engineers --------------------------------------------------------------------------
    def submit(self, text: str, user: User) -> Submitted:
        """Store the recipe document ``text`` as a pending version."""
        user.require("engineer", "admin")
        doc = loads(text, "document")
        if doc.approval.status not in ("draft", "pending") or doc.approval.signature:
            raise InvalidInputError(
                "approval.status",
                f"is {doc.approval.status!r}: submit drafts; approvals are given in the review",
            )
        doc = doc.model_copy(update={"approval": doc.approval.model_copy(update=_PENDING)})
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(
                    recipe_versions.c.version,
                    recipe_versions.c.content_hash,
                    recipe_versions.c.part_name,
                    recipe_versions.c.finish,
                )
                .where(recipe_versions.c.recipe_id == doc.id)
                .order_by(recipe_versions.c.version)
            ).all()
            same = [r for r in rows if r.version == doc.version]
            if same:
                if same[0].content_hash == doc.content_hash:
                    return Submitted(self._get(conn, doc.id, doc.version), False)
                raise ConflictError(
                    f"recipe {doc.id!r} v{doc.version} is stored with other content "
                    f"({same[0].content_hash}); submit the change as v{rows[-1].version + 1}"
                )
            _check_series(doc, rows)
            try:
                conn.execute(insert(recipe_versions).values(**_row(doc, user)))
            except IntegrityError:  # another submission of the same version got there first
                raise ConflictError(
                    f"recipe {doc.id!r} v{doc.version} was just submitted"
                ) from None
            return Submitted(self._get(conn, doc.id, doc.version), True)

    # --- reading ----------------------------------------------------------------------------
    def get(self, recipe_id: str, version: int, *, document: bool = True) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return self._get(conn, recipe_id, version, document=document)

    def list(
        self,
        status: str | None = None,
        part: str | None = None,
        finish: str | None = None,
        recipe_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Versions (without their documents), oldest submission first: with
        ``status="pending"`` the approval queue."""
        if status is not None and status not in STATUSES:
            raise InvalidInputError("status", f"must be one of {STATUSES}, got {status!r}")
        query = select(*_SUMMARY).order_by(recipe_versions.c.submitted_at, recipe_versions.c.id)
        for column, value in (
            (recipe_versions.c.status, status),
            (recipe_versions.c.part_name, part),
            (recipe_versions.c.finish, finish),
            (recipe_versions.c.recipe_id, recipe_id),
        ):
            if value is not None:
                query = query.where(column == value)
        with self.engine.connect() as conn:
            return [_summary(r) for r in conn.execute(query)]

    def current(self, part: str, finish: str) -> dict[str, Any]:
        """The newest approved version for ``part`` in ``finish`` (with its signed
        document): what a site runs for that pair."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(recipe_versions.c.recipe_id, recipe_versions.c.version)
                .where(
                    recipe_versions.c.part_name == part,
                    recipe_versions.c.finish == finish,
                    recipe_versions.c.status == "approved",
                )
                .order_by(recipe_versions.c.decided_at.desc(), recipe_versions.c.id.desc())
                .limit(1)
            ).first()
            if row is None:
                raise NotFoundError("approved recipe", f"{part} in {finish}")
            return self._get(conn, row.recipe_id, row.version)

    # --- approvers --------------------------------------------------------------------------
    def approve(self, recipe_id: str, version: int, user: User) -> dict[str, Any]:
        """Sign a pending version with the cloud's approval key."""
        user.require("approver")
        key = self.approval_key
        if key is None:
            raise ConflictError("no approval key is configured: approvals cannot be signed")

        def sign(doc: RecipeDoc, now: datetime) -> tuple[RecipeDoc, dict[str, Any]]:
            signed = approve_recipe(doc, key.signing_key_hex, user.name, now)
            if not ApprovalVerifier(key.public_key_hex).verify_recipe(signed):
                raise RuntimeError("the approval signature does not verify")  # never expected
            a = signed.approval
            return signed, dict(status="approved", key_id=a.key_id, signature=a.signature)

        return self._close(recipe_id, version, user, sign)

    def reject(self, recipe_id: str, version: int, user: User, reason: str) -> dict[str, Any]:
        """Close a pending version without approval, saying why."""
        user.require("approver")
        if not reason.strip():
            raise InvalidInputError("reason", "say why the version is rejected")

        def close(doc: RecipeDoc, now: datetime) -> tuple[RecipeDoc, dict[str, Any]]:
            approval = doc.approval.model_copy(update={"status": "rejected"})
            closed = doc.model_copy(update={"approval": approval})
            return closed, dict(status="rejected", reason=reason.strip())

        return self._close(recipe_id, version, user, close)

    # --- internals --------------------------------------------------------------------------
    def _pending(self, conn, recipe_id: str, version: int, user: User):
        row = conn.execute(
            select(
                recipe_versions.c.id,
                recipe_versions.c.status,
                recipe_versions.c.document,
                recipe_versions.c.submitted_by,
            )
            .where(recipe_versions.c.recipe_id == recipe_id, recipe_versions.c.version == version)
            .with_for_update()
        ).first()
        if row is None:
            raise NotFoundError("recipe version", f"{recipe_id} v{version}")
        if row.status != "pending":
            raise ConflictError(f"recipe {recipe_id!r} v{version} is {row.status} already")
        if row.submitted_by == user.name:
            raise ForbiddenError(
                f"{user.name} submitted {recipe_id!r} v{version}: another approver decides"
            )
        return row

    def _close(
        self,
        recipe_id: str,
        version: int,
        user: User,
        decide: Callable[[RecipeDoc, datetime], tuple[RecipeDoc, dict[str, Any]]],
    ) -> dict[str, Any]:
        """Decide a pending version: ``decide`` gives the new document and the columns."""
        with self.engine.begin() as conn:
            row = self._pending(conn, recipe_id, version, user)
            now = datetime.now(UTC)
            doc, values = decide(loads(row.document, f"{recipe_id} v{version}"), now)
            done = conn.execute(
                update(recipe_versions)
                .where(recipe_versions.c.id == row.id, recipe_versions.c.status == "pending")
                .values(document=dumps(doc), decided_by=user.name, decided_at=now, **values)
            )
            if done.rowcount != 1:
                raise ConflictError("the version was decided meanwhile")
            return self._get(conn, recipe_id, version)

    @staticmethod
    def _get(conn, recipe_id: str, version: int, *, document: bool = True) -> dict[str, Any]:
        columns = [*_SUMMARY, recipe_versions.c.document] if document else _SUMMARY
        row = conn.execute(
            select(*columns).where(
                recipe_versions.c.recipe_id == recipe_id, recipe_versions.c.version == version
            )
        ).first()
        if row is None:
            raise NotFoundError("recipe version", f"{recipe_id} v{version}")
        out = _summary(row)
        if document:
            out["document"] = row.document
        return out


_PENDING = {
    "status": "pending",
    "approver": None,
    "approved_at": None,
    "key_id": None,
    "signature": None,
}
_SUMMARY = (
    recipe_versions.c.recipe_id,
    recipe_versions.c.version,
    recipe_versions.c.part_name,
    recipe_versions.c.finish,
    recipe_versions.c.content_hash,
    recipe_versions.c.status,
    recipe_versions.c.metrics,
    recipe_versions.c.submitted_by,
    recipe_versions.c.submitted_at,
    recipe_versions.c.decided_by,
    recipe_versions.c.decided_at,
    recipe_versions.c.reason,
    recipe_versions.c.key_id,
    recipe_versions.c.signature,
)


def _summary(row) -> dict[str, Any]:
    return {
        "recipe_id": row.recipe_id,
        "version": row.version,
        "part": row.part_name,
        "finish": row.finish,
        "content_hash": row.content_hash,
        "status": row.status,
        "metrics": row.metrics,
        "submitted_by": row.submitted_by,
        "submitted_at": _iso(row.submitted_at),
        "decided_by": row.decided_by,
        "decided_at": _iso(row.decided_at),
        "reason": row.reason,
        "key_id": row.key_id,
        "signature": row.signature,
    }


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive datetimes; they were stored in UTC
        value = value.replace(tzinfo=UTC)
    return value.isoformat(timespec="seconds")


def _check_series(doc: RecipeDoc, rows: list) -> None:
    """A new version continues its recipe's series: the next number, the same part and
    finish."""
    expected = rows[-1].version + 1 if rows else 1
    if doc.version != expected:
        raise InvalidInputError(
            "version",
            f"recipe {doc.id!r} has {len(rows)} version(s): the next is {expected}, "
            f"got {doc.version}",
        )
    if rows and (rows[0].part_name, rows[0].finish) != (doc.part.name, doc.finish.name):
        raise InvalidInputError(
            "part",
            f"recipe {doc.id!r} is for {rows[0].part_name} in {rows[0].finish}, not "
            f"{doc.part.name} in {doc.finish.name}: use a new recipe id",
        )


def _row(doc: RecipeDoc, user: User) -> dict[str, Any]:
    return dict(
        recipe_id=doc.id,
        version=doc.version,
        part_name=doc.part.name,
        finish=doc.finish.name,
        content_hash=doc.content_hash,
        status="pending",
        document=dumps(doc),
        metrics=doc.metrics,
        submitted_by=user.name,
        submitted_at=datetime.now(UTC),
    )


__all__ = ["STATUSES", "ConflictError", "RecipeStore", "Submitted"]

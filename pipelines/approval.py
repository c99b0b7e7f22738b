"""Approval of pipeline versions: the same approval block as recipes.

The cloud approves a version: it fills ``approval`` (status, approver, time, key id and a
signature over the content hash); the edge checks it before running (``require_approved``,
with its own signature check passed as ``verify``). Editor positions are outside the hash,
so moving blocks does not void an approval.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pipelines.document import PipelineDoc
from pipelines.errors import NotApprovedError
from recipes.document import Approval


def approved(
    doc: PipelineDoc,
    approver: str,
    signature: str,
    *,
    key_id: str | None = None,
    approved_at: str | None = None,
) -> PipelineDoc:
    """A copy of ``doc`` hashed and marked approved by ``approver`` with ``signature``."""
    at = approved_at or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    approval = Approval(
        status="approved", approver=approver, approved_at=at, key_id=key_id, signature=signature
    )
    return doc.with_hash().model_copy(update={"approval": approval})


def require_approved(doc: PipelineDoc, verify: Callable[[PipelineDoc], bool] | None) -> None:
    """Raise :class:`NotApprovedError` unless ``doc`` may run on an edge: approved, signed,
    its content hash matching, and (when given) the edge's signature check passing."""
    status = doc.approval.status
    if status != "approved":
        raise NotApprovedError(
            doc.key, f"status is '{status}': an edge runs only approved versions (use a dry run)"
        )
    if not doc.content_hash or doc.content_hash != doc.compute_hash():
        raise NotApprovedError(
            doc.key, "content hash missing or not matching: changed after approval"
        )
    if not doc.approval.approver or not doc.approval.signature:
        raise NotApprovedError(doc.key, "approved without approver or signature")
    if verify is not None and not verify(doc):
        raise NotApprovedError(doc.key, "the approval signature does not verify")

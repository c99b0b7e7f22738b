"""How an approved recipe version travels from the cloud to the sites (MQTT).

Each approved version is published once per (id, version) on ::

    coatshare/recipes/<recipe_id>/<version>     cloud -> edges, QoS 1, retained

as JSON ``{"recipe_id", "version", "part", "finish", "content_hash", "key_id",
"document"}``, the document being the signed recipe YAML. Retained messages give an edge
that connects later (a new site, one back from an outage) every approved version, and a
publication sent again replaces itself. The receiving side believes nothing in the
message but what the signature proves: :func:`parse_publication` loads the document
(schema, fields, content hash), verifies the approval signature with the site's public
key, and checks that the envelope says what the document says.
"""

from __future__ import annotations

import json
from typing import Any

from recipes.approval import ApprovalVerifier
from recipes.document import RecipeDoc, dumps, loads
from recipes.errors import InvalidInputError

TOPIC_ROOT = "coatshare/recipes"
TOPIC_FILTER = f"{TOPIC_ROOT}/#"


def recipe_topic(recipe_id: str, version: int) -> str:
    if "/" in recipe_id or "+" in recipe_id or "#" in recipe_id:
        raise InvalidInputError("recipe_id", f"{recipe_id!r} cannot name an MQTT topic level")
    return f"{TOPIC_ROOT}/{recipe_id}/{version}"


def publication(doc: RecipeDoc) -> bytes:
    """The message of an approved, signed recipe version."""
    if doc.approval.status != "approved" or not doc.approval.signature:
        raise InvalidInputError("approval.status", "only approved, signed versions are published")
    return json.dumps(
        {
            "recipe_id": doc.id,
            "version": doc.version,
            "part": doc.part.name,
            "finish": doc.finish.name,
            "content_hash": doc.content_hash,
            "key_id": doc.approval.key_id,
            "document": dumps(doc),
        }
    ).encode()


def parse_publication(topic: str, payload: bytes, verifier: ApprovalVerifier) -> RecipeDoc:
    """The recipe version a publication carries, once its signature verifies.

    Raises
    ------
    InvalidInputError
        Naming what is wrong: not JSON, a field missing, a document that does not load
        or whose hash does not match, a signature that ``verifier`` does not accept, an
        envelope or topic that disagrees with the document.
    """
    try:
        data: Any = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInputError("(payload)", "not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("document"), str):
        raise InvalidInputError("document", "missing: a publication carries the recipe YAML")
    doc = loads(data["document"], topic)
    if not verifier.verify_recipe(doc):
        raise InvalidInputError(
            "approval.signature",
            f"recipe {doc.id!r} v{doc.version} is not approved with key {verifier.key_id} "
            f"(its approval: {doc.approval.status}, key {doc.approval.key_id})",
        )
    said = {
        "recipe_id": doc.id,
        "version": doc.version,
        "part": doc.part.name,
        "finish": doc.finish.name,
        "content_hash": doc.content_hash,
    }
    for field, value in said.items():
        if data.get(field) != value:
            raise InvalidInputError(
                field, f"the envelope says {data.get(field)!r}, the document {value!r}"
            )
    if topic != recipe_topic(doc.id, doc.version):
        raise InvalidInputError(
            "(topic)", f"{topic} does not name recipe {doc.id!r} v{doc.version}"
        )
    return doc


__all__ = ["TOPIC_FILTER", "TOPIC_ROOT", "parse_publication", "publication", "recipe_topic"]

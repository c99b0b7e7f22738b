"""Approved recipe versions on the wire: what the cloud publishes, what a site believes."""

from __future__ import annotations

import json

import pytest

from recipes.approval import ApprovalVerifier, approve_recipe, generate_key_pair
from recipes.document import dumps, loads
from recipes.errors import InvalidInputError
from recipes.publication import parse_publication, publication, recipe_topic
from tests.factories import recipe_text

KEY = generate_key_pair(bytes(range(32)))
OTHER = generate_key_pair(bytes(range(1, 33)))
VERIFIER = ApprovalVerifier(KEY.public_key_hex)


def _signed(key=KEY, **kw):
    return approve_recipe(loads(recipe_text(**kw)), key.signing_key_hex, "ann")


def test_a_publication_carries_the_signed_version() -> None:
    doc = _signed()
    topic = recipe_topic(doc.id, doc.version)
    assert topic == "coatshare/recipes/door-white/1"
    back = parse_publication(topic, publication(doc), VERIFIER)
    assert back == doc and dumps(back) == dumps(doc)


def _tampered(field: str, value) -> bytes:
    data = json.loads(publication(_signed()))
    data[field] = value
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b"not json", "(payload)"),
        (json.dumps({"recipe_id": "door-white"}).encode(), "document"),
        (publication(_signed(OTHER)), "approval.signature"),
        (_tampered("part", "rect"), "part"),
        (_tampered("version", 2), "version"),
        (
            _tampered(
                "document",
                dumps(_signed()).replace("- [600.0, 0.0, 200.0,", "- [650.0, 0.0, 200.0,"),
            ),
            "content_hash",
        ),
    ],
)
def test_what_the_signature_does_not_prove_is_refused(payload, field) -> None:
    with pytest.raises(InvalidInputError) as exc:
        parse_publication("coatshare/recipes/door-white/1", payload, VERIFIER)
    assert exc.value.field == field


def test_the_topic_must_name_the_version() -> None:
    with pytest.raises(InvalidInputError) as exc:
        parse_publication("coatshare/recipes/door-white/2", publication(_signed()), VERIFIER)
    assert exc.value.field == "(topic)"
    with pytest.raises(InvalidInputError):
        recipe_topic("door/white", 1)


def test_only_approved_versions_are_published() -> None:
    with pytest.raises(InvalidInputError) as exc:
        publication(loads(recipe_text()))
    assert exc.value.field == "approval.status"

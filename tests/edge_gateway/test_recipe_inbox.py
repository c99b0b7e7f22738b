"""The recipes a site holds: verified, stored once, the newest per part and finish."""

from __future__ import annotations

import json

import pytest

from edge_gateway.recipe_inbox import RecipeInbox
from recipes.approval import ApprovalVerifier, approve_recipe, generate_key_pair
from recipes.document import loads
from recipes.errors import NotFoundError
from recipes.publication import publication, recipe_topic
from tests.factories import recipe_text

KEY = generate_key_pair(bytes(range(32)))
OTHER = generate_key_pair(bytes(range(1, 33)))


def _message(version: int = 1, key=KEY, **kw) -> tuple[str, bytes]:
    doc = approve_recipe(loads(recipe_text(version, **kw)), key.signing_key_hex, "ann")
    return recipe_topic(doc.id, doc.version), publication(doc)


@pytest.fixture
def inbox(engine) -> RecipeInbox:
    return RecipeInbox(engine, ApprovalVerifier(KEY.public_key_hex))


def test_verified_versions_are_kept_once(inbox) -> None:
    assert inbox.receive(*_message(1))
    assert not inbox.receive(*_message(1))  # the retained copy again
    assert inbox.receive(*_message(2, speed_mm_s=380.0))
    assert (inbox.stored, inbox.duplicates) == (2, 1)
    held = inbox.list()
    assert [(h["recipe_id"], h["version"], h["part"], h["finish"]) for h in held] == [
        ("door-white", 1, "door", "white-gloss"),
        ("door-white", 2, "door", "white-gloss"),
    ]
    current = inbox.current("door", "white-gloss")
    assert current["version"] == 2
    doc = loads(current["document"])
    assert doc.approval.status == "approved" and doc.version == 2


def test_what_does_not_verify_changes_nothing(inbox) -> None:
    topic, payload = _message(1)
    bad = json.loads(payload)
    bad["finish"] = "black-matt"
    assert not inbox.receive(*_message(1, key=OTHER))
    assert not inbox.receive(topic, json.dumps(bad).encode())
    assert not inbox.receive(topic, b"")  # a retained publication withdrawn
    assert inbox.list() == [] and len(inbox.refused) == 2
    assert "approval.signature" in inbox.refused[0] and "finish" in inbox.refused[1]
    with pytest.raises(NotFoundError):
        inbox.current("door", "white-gloss")


def test_held_versions_are_written_for_the_cells(engine, tmp_path) -> None:
    from robot_nodes.controller.recipe_store import RecipeStore as CellRecipes

    folder = tmp_path / "recipes"
    inbox = RecipeInbox(engine, ApprovalVerifier(KEY.public_key_hex), folder)
    assert inbox.receive(*_message(1))
    assert not inbox.receive(*_message(1, key=OTHER))  # refused: no file
    assert sorted(p.name for p in folder.iterdir()) == ["door-white-v1.yaml"]
    cell = CellRecipes(folder)  # what a cell controller loads
    doc = cell.get("door-white", 1)
    assert doc is not None and ApprovalVerifier(KEY.public_key_hex).verify_recipe(doc)
    # a new folder (another volume) is filled from the database at start
    other = RecipeInbox(engine, inbox.verifier, tmp_path / "fresh")
    assert other.export_all() == 1
    assert (tmp_path / "fresh" / "door-white-v1.yaml").read_text() == (
        folder / "door-white-v1.yaml"
    ).read_text()

"""The recipe store: versions in series, the review with four eyes, the signature."""

from __future__ import annotations

import pytest

from cloud_brain.recipe_store import ConflictError, RecipeStore
from cloud_brain.users import ForbiddenError
from recipes.approval import ApprovalVerifier, approve_recipe
from recipes.document import dumps, loads
from recipes.errors import InvalidInputError, NotFoundError
from tests.factories import recipe_text

from .conftest import KEY


@pytest.fixture
def store(engine) -> RecipeStore:
    return RecipeStore(engine, KEY)


def test_a_submitted_version_waits_in_the_queue(store, users) -> None:
    eve = users["eve"][0]
    done = store.submit(recipe_text(), eve)
    assert done.created
    v = done.version
    assert (v["recipe_id"], v["version"], v["status"]) == ("door-white", 1, "pending")
    assert (v["part"], v["finish"], v["submitted_by"]) == ("door", "white-gloss", "eve")
    assert v["metrics"] == {"within_tol_pct": 97.5}
    assert v["signature"] is None and v["decided_at"] is None
    doc = loads(v["document"])
    assert doc.approval.status == "pending" and doc.content_hash == v["content_hash"]
    queue = store.list("pending")
    assert [(q["recipe_id"], q["version"]) for q in queue] == [("door-white", 1)]
    assert "document" not in queue[0]


def test_approval_signs_the_stored_document(store, users) -> None:
    store.submit(recipe_text(), users["eve"][0])
    v = store.approve("door-white", 1, users["ann"][0])
    assert v["status"] == "approved" and v["decided_by"] == "ann"
    assert v["key_id"] == KEY.key_id and len(v["signature"]) == 128
    signed = loads(v["document"])
    assert signed.approval.approver == "ann" and signed.approval.signature == v["signature"]
    assert ApprovalVerifier(KEY.public_key_hex).verify_recipe(signed)
    assert store.list("pending") == [] and len(store.list("approved")) == 1
    current = store.current("door", "white-gloss")
    assert (current["recipe_id"], current["version"]) == ("door-white", 1)
    assert current["document"] == v["document"]


def test_the_newest_approved_version_is_current(store, users) -> None:
    eve, ann = users["eve"][0], users["ann"][0]
    for version, speed in ((1, 400.0), (2, 380.0), (3, 360.0)):
        store.submit(recipe_text(version, speed_mm_s=speed), eve)
    store.approve("door-white", 1, ann)
    store.approve("door-white", 2, ann)
    assert store.current("door", "white-gloss")["version"] == 2  # v3 still pending
    store.reject("door-white", 3, ann, "sags on the lower edge")
    assert store.current("door", "white-gloss")["version"] == 2
    with pytest.raises(NotFoundError):
        store.current("door", "black-matt")


def test_roles(store, users) -> None:
    eve, ed, ann, abe = (users[n][0] for n in ("eve", "ed", "ann", "abe"))
    store.submit(recipe_text(), eve)
    with pytest.raises(ForbiddenError, match="approver"):
        store.approve("door-white", 1, ed)  # engineers do not approve
    with pytest.raises(ForbiddenError, match="approver"):
        store.approve("door-white", 1, users["root"][0])  # nor do admins
    with pytest.raises(ForbiddenError, match="engineer"):
        store.submit(recipe_text(2), ann)  # approvers do not submit
    store.approve("door-white", 1, abe)
    assert store.get("door-white", 1)["decided_by"] == "abe"


def test_nobody_approves_their_own_submission(engine, store, users) -> None:
    from cloud_brain.db import recipe_versions

    store.submit(recipe_text(), users["eve"][0])
    with engine.begin() as conn:  # as if ann had submitted it (a role that changed since)
        conn.execute(recipe_versions.update().values(submitted_by="ann"))
    with pytest.raises(ForbiddenError, match="another approver"):
        store.approve("door-white", 1, users["ann"][0])
    with pytest.raises(ForbiddenError, match="another approver"):
        store.reject("door-white", 1, users["ann"][0], "mine")
    assert store.get("door-white", 1)["status"] == "pending"
    assert store.approve("door-white", 1, users["abe"][0])["status"] == "approved"


def test_decided_versions_do_not_change(store, users) -> None:
    eve, ann, abe = users["eve"][0], users["ann"][0], users["abe"][0]
    store.submit(recipe_text(), eve)
    store.reject("door-white", 1, ann, "overspray 31 %")
    for act in (
        lambda: store.approve("door-white", 1, abe),
        lambda: store.reject("door-white", 1, abe, "again"),
    ):
        with pytest.raises(ConflictError, match="rejected already"):
            act()
    v = store.get("door-white", 1)
    assert v["status"] == "rejected" and v["reason"] == "overspray 31 %"
    assert loads(v["document"]).approval.status == "rejected"
    store.submit(recipe_text(2), eve)
    with pytest.raises(InvalidInputError) as exc:
        store.reject("door-white", 2, ann, "  ")
    assert exc.value.field == "reason"
    assert store.get("door-white", 2)["status"] == "pending"


def test_versions_come_in_series(store, users) -> None:
    eve = users["eve"][0]
    with pytest.raises(InvalidInputError) as exc:
        store.submit(recipe_text(2), eve)
    assert exc.value.field == "version" and "the next is 1" in exc.value.reason
    store.submit(recipe_text(1), eve)
    # the same content again is the same version (a retry), other content a conflict
    again = store.submit(recipe_text(1), eve)
    assert not again.created and again.version["version"] == 1
    with pytest.raises(ConflictError, match="submit the change as v2"):
        store.submit(recipe_text(1, speed_mm_s=350.0), eve)
    with pytest.raises(InvalidInputError) as exc:
        store.submit(recipe_text(2, part="rect"), eve)
    assert exc.value.field == "part" and "new recipe id" in exc.value.reason
    assert store.submit(recipe_text(2, speed_mm_s=350.0), eve).created
    assert [v["version"] for v in store.list()] == [1, 2]


def test_bad_documents_are_refused_and_change_nothing(store, users) -> None:
    eve = users["eve"][0]
    text = recipe_text()
    tampered = text.replace("- [600.0, 0.0, 200.0,", "- [650.0, 0.0, 200.0,")
    assert tampered != text
    cases = [
        ("schema: other/v1\n", "schema"),
        ("- not a mapping\n", "(root)"),
        (": : :", "(yaml)"),
        (text.replace("content_hash: sha256:", "content_hash: sha256:0"), "content_hash"),
        (dumps(approve_recipe(loads(text), KEY.signing_key_hex, "eve")), "approval.status"),
        (tampered, "content_hash"),
    ]
    for bad, field in cases:
        with pytest.raises(InvalidInputError) as exc:
            store.submit(bad, eve)
        assert exc.value.field == field, (field, exc.value)
    assert store.list() == []


def test_without_a_key_approvals_are_refused(engine, users) -> None:
    store = RecipeStore(engine, None)
    store.submit(recipe_text(), users["eve"][0])
    with pytest.raises(ConflictError, match="no approval key"):
        store.approve("door-white", 1, users["ann"][0])
    assert store.get("door-white", 1)["status"] == "pending"


def test_unknown_versions_and_statuses(store, users) -> None:
    with pytest.raises(NotFoundError):
        store.get("door-white", 1)
    with pytest.raises(NotFoundError):
        store.approve("door-white", 1, users["ann"][0])
    with pytest.raises(InvalidInputError) as exc:
        store.list("done")
    assert exc.value.field == "status"

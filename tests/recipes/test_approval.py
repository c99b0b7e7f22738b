"""Ed25519 approval signatures over (recipe id, version, content hash)."""

from __future__ import annotations

import hashlib
import stat

import pytest
from nacl.signing import VerifyKey

from recipes.approval import (
    ApprovalVerifier,
    approval_payload,
    approve_recipe,
    generate_key_pair,
    key_id_of,
    key_pair_from_signing_key,
    normalize_content_hash,
    read_key_file,
    sign_approval,
    sign_recipe,
    write_key_pair,
)
from recipes.errors import InvalidInputError
from tests.robot_nodes.cell_factories import KEY, OTHER_KEY, recipe_doc

HASH = "sha256:" + "ab" * 32


def test_payload_is_the_documented_text() -> None:
    payload = approval_payload("door-matt", 3, HASH)
    assert payload == f"coatshare.recipe-approval/v1\ndoor-matt\n3\n{HASH}".encode()
    assert approval_payload("door-matt", 3, "AB" * 32) == payload  # bare hex, any case


@pytest.mark.parametrize(
    ("recipe_id", "version", "digest"),
    [("", 1, HASH), ("a\nb", 1, HASH), ("door", 0, HASH), ("door", 1, "sha256:abc"),
     ("door", 1, "md5:" + "ab" * 32)],
)  # fmt: skip
def test_payload_refuses_bad_parts(recipe_id: str, version: int, digest: str) -> None:
    with pytest.raises(InvalidInputError):
        approval_payload(recipe_id, version, digest)


def test_normalize_content_hash() -> None:
    assert normalize_content_hash("  SHA256:" + "AB" * 32) == HASH
    with pytest.raises(InvalidInputError, match="recipe_hash"):
        normalize_content_hash("xyz", field="recipe_hash")


def test_key_id_is_sha256_prefix_of_the_public_key() -> None:
    pair = generate_key_pair(bytes(32))
    public = bytes.fromhex(pair.public_key_hex)
    assert pair.key_id == hashlib.sha256(public).hexdigest()[:16] == key_id_of(public)
    assert key_pair_from_signing_key(pair.signing_key_hex) == pair
    assert pair.signing_key_hex not in repr(pair)


def test_signature_verifies_with_pynacl_directly() -> None:
    signature = sign_approval(KEY.signing_key_hex, "door", 2, HASH)
    VerifyKey(bytes.fromhex(KEY.public_key_hex)).verify(
        approval_payload("door", 2, HASH), bytes.fromhex(signature)
    )
    verifier = ApprovalVerifier(KEY.public_key_hex)
    assert verifier.verify("door", 2, HASH, signature)
    assert verifier.verify("door", 2, HASH.removeprefix("sha256:"), bytes.fromhex(signature))


@pytest.mark.parametrize(
    "change",
    [
        {"recipe_id": "door2"},
        {"version": 3},
        {"content_hash": "sha256:" + "cd" * 32},
    ],
)
def test_any_change_breaks_the_signature(change: dict) -> None:
    args = {"recipe_id": "door", "version": 2, "content_hash": HASH}
    signature = sign_approval(KEY.signing_key_hex, **args)
    verifier = ApprovalVerifier(KEY.public_key_hex)
    assert not verifier.verify(**{**args, **change}, signature=signature)


def test_other_key_truncated_or_garbage_signatures_do_not_verify() -> None:
    signature = bytes.fromhex(sign_approval(KEY.signing_key_hex, "door", 2, HASH))
    assert not ApprovalVerifier(OTHER_KEY.public_key_hex).verify("door", 2, HASH, signature)
    verifier = ApprovalVerifier(KEY.public_key_hex)
    assert not verifier.verify("door", 2, HASH, signature[:63])
    assert not verifier.verify("door", 2, HASH, b"")
    assert not verifier.verify("door", 2, HASH, "not hex")
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert not verifier.verify("door", 2, HASH, flipped)


def test_sign_and_approve_a_recipe_document() -> None:
    doc = recipe_doc()
    signature, key_id = sign_recipe(doc, KEY.signing_key_hex)
    assert key_id == KEY.key_id
    verifier = ApprovalVerifier(KEY.public_key_hex)
    assert verifier.verify(doc.id, doc.version, doc.content_hash, signature)
    approved = approve_recipe(doc, KEY.signing_key_hex, "ops-anna")
    assert approved.approval.status == "approved" and approved.approval.approver == "ops-anna"
    assert approved.approval.signature == signature and approved.approval.key_id == key_id
    assert approved.compute_hash() == doc.content_hash  # approval is outside the hash
    assert verifier.verify_recipe(approved)
    assert not ApprovalVerifier(OTHER_KEY.public_key_hex).verify_recipe(approved)
    changed = approved.model_copy(update={"version": approved.version + 1})
    assert not verifier.verify_recipe(changed)  # hash no longer matches the content
    assert not verifier.verify_recipe(doc)  # not approved


def test_signing_refuses_a_document_whose_hash_is_stale() -> None:
    doc = recipe_doc().model_copy(update={"version": 7})
    with pytest.raises(InvalidInputError, match="does not match"):
        sign_recipe(doc, KEY.signing_key_hex)


def test_key_files_round_trip(tmp_path) -> None:
    key_path, pub_path = write_key_pair(KEY, tmp_path / "keys", "ops")
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert read_key_file(pub_path) == KEY.public_key_hex
    assert read_key_file(key_path) == KEY.signing_key_hex
    assert ApprovalVerifier.from_file(pub_path).key_id == KEY.key_id
    (tmp_path / "bad.pub").write_text("# nothing\n")
    with pytest.raises(InvalidInputError, match="64 hex"):
        read_key_file(tmp_path / "bad.pub")
    with pytest.raises(InvalidInputError, match="cannot read"):
        read_key_file(tmp_path / "missing.pub")
    with pytest.raises(InvalidInputError):
        write_key_pair(KEY, tmp_path, "../escape")

"""Ed25519 approval signatures of recipe versions (PyNaCl).

An operator's approval key signs one recipe version: the canonical payload is the UTF-8
encoding of ::

    coatshare.recipe-approval/v1\\n<recipe_id>\\n<version>\\n<content_hash>

with ``content_hash`` in the recipe document's form, ``"sha256:<64 lower-case hex>"``. A
``SprayProgram`` carries the hash as bare hex or in that form; :func:`normalize_content_hash`
makes both the canonical form before verifying. The signature is the raw 64-byte Ed25519
signature (hex in the recipe's ``approval`` block); a key is named by its ``key_id``, the
first 16 hex digits of SHA-256 over the raw 32-byte public key.

Key files are text: the 32-byte private seed or public key in hex on one line (lines
starting with ``#`` are comments). :func:`write_key_pair` writes ``<name>.key`` (mode 0600)
and ``<name>.pub``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from recipes.errors import InvalidInputError

if TYPE_CHECKING:
    from recipes.document import RecipeDoc

PAYLOAD_SCHEMA = "coatshare.recipe-approval/v1"
"""First line of every signed payload; a new payload layout gets a new version."""

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def normalize_content_hash(value: str, *, field: str = "content_hash") -> str:
    """``"sha256:<hex>"`` from ``"sha256:<hex>"`` or bare ``"<hex>"`` (64 hex digits).

    Raises
    ------
    InvalidInputError
        For anything else.
    """
    text = value.strip().lower()
    digest = text.removeprefix("sha256:")
    if not _HEX64.match(digest):
        raise InvalidInputError(field, f"'{value}' is not a SHA-256 hash ('sha256:<64 hex>')")
    return "sha256:" + digest


def approval_payload(recipe_id: str, version: int, content_hash: str) -> bytes:
    """The bytes an approval signature covers.

    Parameters
    ----------
    recipe_id : str
        Must not contain a line break.
    version : int
        Recipe version, >= 1.
    content_hash : str
        ``"sha256:<hex>"`` or bare hex.

    Raises
    ------
    InvalidInputError
        For an empty or multi-line id, a version below 1 or a malformed hash.
    """
    if not recipe_id or "\n" in recipe_id or "\r" in recipe_id:
        raise InvalidInputError("recipe_id", f"{recipe_id!r} must be one non-empty line")
    if int(version) < 1:
        raise InvalidInputError("version", f"must be >= 1, got {version}")
    digest = normalize_content_hash(content_hash)
    return f"{PAYLOAD_SCHEMA}\n{recipe_id}\n{int(version)}\n{digest}".encode()


def key_id_of(public_key: bytes) -> str:
    """First 16 hex digits of SHA-256 over the raw 32-byte public key."""
    return hashlib.sha256(bytes(public_key)).hexdigest()[:16]


def _key_bytes(value: bytes | str, field: str) -> bytes:
    if isinstance(value, str):
        text = value.strip().lower()
        if not _HEX64.match(text):
            raise InvalidInputError(field, "expected 64 hex digits (a 32-byte Ed25519 key)")
        return bytes.fromhex(text)
    raw = bytes(value)
    if len(raw) != 32:
        raise InvalidInputError(field, f"expected 32 bytes, got {len(raw)}")
    return raw


@dataclass(frozen=True)
class ApprovalKeyPair:
    """An Ed25519 approval key pair.

    Attributes
    ----------
    signing_key_hex : str
        32-byte private seed, hex. Keep it secret.
    public_key_hex : str
        32-byte public key, hex.
    key_id : str
        :func:`key_id_of` the public key.
    """

    signing_key_hex: str
    public_key_hex: str
    key_id: str

    def __repr__(self) -> str:  # never print the private key
        return f"ApprovalKeyPair(key_id='{self.key_id}', public_key_hex='{self.public_key_hex}')"


def generate_key_pair(seed: bytes | None = None) -> ApprovalKeyPair:
    """A new key pair (random, or from a 32-byte ``seed`` for reproducible tests)."""
    key = SigningKey.generate() if seed is None else SigningKey(_key_bytes(seed, "seed"))
    public = bytes(key.verify_key)
    return ApprovalKeyPair(bytes(key).hex(), public.hex(), key_id_of(public))


def key_pair_from_signing_key(signing_key: bytes | str) -> ApprovalKeyPair:
    """The key pair of a private seed (hex or 32 bytes)."""
    return generate_key_pair(_key_bytes(signing_key, "signing_key"))


def sign_approval(signing_key: bytes | str, recipe_id: str, version: int, content_hash: str) -> str:
    """Hex Ed25519 signature of :func:`approval_payload`."""
    key = SigningKey(_key_bytes(signing_key, "signing_key"))
    return key.sign(approval_payload(recipe_id, version, content_hash)).signature.hex()


def _doc_hash(doc: RecipeDoc) -> str:
    computed = doc.compute_hash()
    if doc.content_hash and doc.content_hash != computed:
        raise InvalidInputError(
            "content_hash",
            f"recipe '{doc.id}' v{doc.version}: {doc.content_hash} does not match the "
            f"content ({computed})",
        )
    return computed


def sign_recipe(doc: RecipeDoc, signing_key: bytes | str) -> tuple[str, str]:
    """Sign a recipe version's content hash.

    Returns
    -------
    signature_hex, key_id : str, str

    Raises
    ------
    InvalidInputError
        When the document's stored hash does not match its content.
    """
    pair = key_pair_from_signing_key(signing_key)
    return sign_approval(pair.signing_key_hex, doc.id, doc.version, _doc_hash(doc)), pair.key_id


def approve_recipe(
    doc: RecipeDoc,
    signing_key: bytes | str,
    approver: str,
    approved_at: dt.datetime | None = None,
) -> RecipeDoc:
    """A copy of ``doc`` with its hash set and the ``approval`` block filled and signed."""
    signature, key_id = sign_recipe(doc, signing_key)
    when = approved_at or dt.datetime.now(dt.UTC)
    approval = doc.approval.model_copy(
        update={
            "status": "approved",
            "approver": approver,
            "approved_at": when.isoformat(timespec="seconds"),
            "key_id": key_id,
            "signature": signature,
        }
    )
    return doc.model_copy(update={"content_hash": _doc_hash(doc), "approval": approval})


class ApprovalVerifier:
    """Verifies approval signatures against one public key.

    Parameters
    ----------
    public_key : bytes or str
        32 raw bytes or 64 hex digits.
    """

    def __init__(self, public_key: bytes | str) -> None:
        self.public_key = _key_bytes(public_key, "public_key")
        self._key = VerifyKey(self.public_key)
        self.key_id = key_id_of(self.public_key)

    @classmethod
    def from_file(cls, path: str | Path) -> ApprovalVerifier:
        """Verifier of the public key in a key file."""
        return cls(read_key_file(path))

    def verify(
        self, recipe_id: str, version: int, content_hash: str, signature: bytes | str
    ) -> bool:
        """True when ``signature`` (64 raw bytes or 128 hex digits) signs this version."""
        try:
            raw = bytes.fromhex(signature) if isinstance(signature, str) else bytes(signature)
            payload = approval_payload(recipe_id, version, content_hash)
        except (ValueError, InvalidInputError):
            return False
        if len(raw) != 64:
            return False
        try:
            self._key.verify(payload, raw)
        except BadSignatureError:
            return False
        return True

    def verify_recipe(self, doc: RecipeDoc) -> bool:
        """True when ``doc``'s approval block is signed by this key over its content."""
        approval = doc.approval
        if approval.status != "approved" or not approval.signature:
            return False
        if approval.key_id and approval.key_id != self.key_id:
            return False
        try:
            digest = _doc_hash(doc)
        except InvalidInputError:
            return False
        return self.verify(doc.id, doc.version, digest, approval.signature)


def read_key_file(path: str | Path) -> str:
    """The hex key in a key file (comment lines starting with ``#`` are skipped).

    Raises
    ------
    InvalidInputError
        When the file cannot be read or holds no 64-hex-digit key.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError("path", f"cannot read: {exc.strerror}", source=str(path)) from None
    lines = [
        ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")
    ]
    if len(lines) != 1 or not _HEX64.match(lines[0].lower()):
        raise InvalidInputError("key", "expected one line of 64 hex digits", source=str(path))
    return lines[0].lower()


def write_key_pair(pair: ApprovalKeyPair, folder: str | Path, name: str) -> tuple[Path, Path]:
    """Write ``<name>.key`` (private, mode 0600) and ``<name>.pub`` into ``folder``.

    Returns
    -------
    key_path, pub_path : Path
    """
    if not re.match(r"^[A-Za-z0-9_.-]+$", name):
        raise InvalidInputError("name", f"'{name}' must be letters, digits, '.', '_' or '-'")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key_path, pub_path = folder / f"{name}.key", folder / f"{name}.pub"
    header = f"# coatshare approval key, key_id {pair.key_id}\n"
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(header + pair.signing_key_hex + "\n")
    pub_path.write_text(header + pair.public_key_hex + "\n", encoding="utf-8")
    return key_path, pub_path


__all__ = [
    "PAYLOAD_SCHEMA",
    "ApprovalKeyPair",
    "ApprovalVerifier",
    "approval_payload",
    "approve_recipe",
    "generate_key_pair",
    "key_id_of",
    "key_pair_from_signing_key",
    "normalize_content_hash",
    "read_key_file",
    "sign_approval",
    "sign_recipe",
    "write_key_pair",
]

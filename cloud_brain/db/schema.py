"""Tables of the cloud database.

``site_messages``: every message an edge sent up (part records today), stored once per
(site, key): the edges resend until acknowledged, the store keeps the first copy.
``cloud_users``: who may call the cloud's API, by role; only a token's SHA-256 is kept.
``recipe_versions``: every recipe version submitted, once per (recipe id, version), with
its review: pending, approved (signed) or rejected.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

site_messages = Table(
    "site_messages",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("site", String(40), nullable=False),
    Column("key", String(80), nullable=False),
    Column("topic", String(128), nullable=False),
    Column("edge_seq", BigInteger, nullable=False),
    Column("body", JSON, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("site", "key", name="uq_site_messages_site_key"),
)

cloud_users = Table(
    "cloud_users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(80), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

recipe_versions = Table(
    "recipe_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("recipe_id", String(120), nullable=False),
    Column("version", Integer, nullable=False),
    Column("part_name", String(120), nullable=False),
    Column("finish", String(80), nullable=False),
    Column("content_hash", String(71), nullable=False),
    Column("status", String(12), nullable=False),
    Column("document", Text, nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("submitted_by", String(80), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(80)),
    Column("decided_at", DateTime(timezone=True)),
    Column("reason", Text),
    Column("key_id", String(16)),
    Column("signature", String(128)),
    UniqueConstraint("recipe_id", "version", name="uq_recipe_versions_id_version"),
    Index("ix_recipe_versions_status", "status"),
    Index("ix_recipe_versions_part_finish", "part_name", "finish"),
)

__all__ = ["cloud_users", "metadata", "recipe_versions", "site_messages"]

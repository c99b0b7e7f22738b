"""Tables of the cloud database.

``site_messages``: every message an edge sent up (part records today), stored once per
(site, key): the edges resend until acknowledged, the store keeps the first copy.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
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

__all__ = ["metadata", "site_messages"]

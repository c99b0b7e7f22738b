"""Tables of the edge database (the newest revision; migrations build them step by step).

``firms``, ``principals`` (who may call the edge: a firm's or an operator's token, stored
as its SHA-256), ``quotes`` and ``jobs`` (the durable job queue: a booking is a job row,
its status moves queued -> running -> done, or cancelled).

``part_records``: one row per part that went through a pipeline (what ``data.record``
stores): the part, the job and pipeline version, the QC report, the fitted program and
pose, the operator's decision, and optionally the film and the camera image (compressed
arrays). ``outbox``: messages for the cloud, written in the same transaction as the row
they describe and deleted only once the cloud has acknowledged them, so nothing is lost
across link outages and nothing is sent twice under one key.

``approved_recipes``: the recipe versions the cloud published, each kept once its approval
signature verified with the site's public key (``edge_gateway.recipe_inbox``).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

part_records = Table(
    "part_records",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("part_id", String(64), nullable=False, index=True),
    Column("job_id", String(64), ForeignKey("jobs.id"), nullable=True, index=True),
    Column("cell_id", String(32), nullable=True),
    Column("pipeline", String(128), nullable=True),
    Column("recipe", String(128), nullable=True),
    Column("status", String(16), nullable=False),
    Column("passed", Integer, nullable=True),
    Column("report", JSON, nullable=True),
    Column("program", JSON, nullable=True),
    Column("pose", JSON, nullable=True),
    Column("decision", String(40), nullable=True),
    Column("tags", JSON, nullable=False),
    Column("film_npz", LargeBinary, nullable=True),
    Column("image_png", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("key", String(80), nullable=False, unique=True),
    Column("topic", String(128), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
)

firms = Table(
    "firms",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

principals = Table(
    "principals",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("firm_id", String(40), ForeignKey("firms.id"), nullable=True),
    Column("name", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

quotes = Table(
    "quotes",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("firm_id", String(40), ForeignKey("firms.id"), nullable=False, index=True),
    Column("part_spec", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("finish", String(40), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("promise_at", DateTime(timezone=True), nullable=False),
    Column("price_eur", Numeric(12, 2), nullable=False),
    Column("cycle_time_s", Float, nullable=False),
    Column("details", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("firm_id", String(40), ForeignKey("firms.id"), nullable=False, index=True),
    Column("quote_id", String(36), ForeignKey("quotes.id"), nullable=True),
    Column("part_spec", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("finish", String(40), nullable=False),
    Column("cycle_time_s", Float, nullable=False),
    Column("part_size_mm", Float, nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("promise_at", DateTime(timezone=True), nullable=False),
    Column("weight", Integer, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("parts_done", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

approved_recipes = Table(
    "approved_recipes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("recipe_id", String(120), nullable=False),
    Column("version", Integer, nullable=False),
    Column("part_name", String(120), nullable=False, index=True),
    Column("finish", String(80), nullable=False),
    Column("content_hash", String(71), nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("approved_at", String(40), nullable=False),
    Column("document", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("recipe_id", "version", name="uq_approved_recipes_id_version"),
)

__all__ = [
    "approved_recipes",
    "firms",
    "jobs",
    "metadata",
    "outbox",
    "part_records",
    "principals",
    "quotes",
]

"""Tables of the edge database (the newest revision; migrations build them step by step).

``part_records``: one row per part that went through a pipeline (what ``data.record``
stores): the part, the job and pipeline version, the QC report, the fitted program and
pose, the operator's decision, and optionally the film and the camera image (compressed
arrays). ``outbox``: messages for the cloud, written in the same transaction as the row
they describe and deleted only once the cloud has acknowledged them, so nothing is lost
across link outages and nothing is sent twice under one key.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

part_records = Table(
    "part_records",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("part_id", String(64), nullable=False, index=True),
    Column("job_id", String(64), nullable=True, index=True),
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

__all__ = ["metadata", "outbox", "part_records"]

"""Part records at the edge: what ``data.record`` stores, with its outbox message.

One transaction writes the record and an outbox message (topic ``records/part``, key
``part-record/<id>``) carrying the record without its binary attachments, so the cloud
gets every record exactly once: the cloud link sends outbox rows in order and deletes a
row only when the cloud has acknowledged it; the key makes a resend idempotent.
"""

from __future__ import annotations

import dataclasses
import io
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, insert, select

from edge_gateway.db import outbox, part_records
from recipes.errors import InvalidInputError

RECORD_TOPIC = "records/part"
STATUSES = ("done", "held", "rejected", "stopped", "failed")
_ATTACHMENTS = ("film_um", "image_png")


@dataclass(frozen=True)
class PartRecord:
    """One part's record (JSON-able fields; arrays are kept compressed in the row)."""

    part_id: str
    status: str
    job_id: str | None = None
    cell_id: str | None = None
    pipeline: str | None = None
    recipe: str | None = None
    passed: bool | None = None
    report: dict | None = None
    program: dict | None = None
    pose: dict | None = None
    decision: str | None = None
    tags: tuple[str, ...] = ()
    film_um: np.ndarray | None = field(default=None, repr=False)
    image_png: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.part_id or len(self.part_id) > 64:
            raise InvalidInputError("record.part_id", "needs 1 to 64 characters")
        if self.status not in STATUSES:
            raise InvalidInputError("record.status", f"must be one of {STATUSES}")
        if self.decision is not None and len(self.decision) > 40:
            raise InvalidInputError("record.decision", "at most 40 characters")

    def fields(self) -> dict[str, Any]:
        """The JSON-able fields (the binary attachments left out)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for name in _ATTACHMENTS:
            del out[name]
        out["tags"] = list(self.tags)
        return out

    def message(self, record_id: str, created_at: datetime) -> dict[str, Any]:
        """What the cloud receives (no binary attachments; their presence is flagged)."""
        return dict(
            id=record_id,
            **self.fields(),
            has_film=self.film_um is not None,
            has_image=self.image_png is not None,
            created_at=created_at.isoformat(),
        )


def _npz(film_um: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, film_um=np.asarray(film_um, dtype=np.float32))
    return buf.getvalue()


class PartRecordStore:
    """Part records in the edge database (an engine from ``edge_gateway.db.open_database``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, record: PartRecord) -> str:
        """Store ``record`` and its outbox message in one transaction; returns its id."""
        record_id = str(uuid.uuid4())
        now = datetime.now(UTC)
        fields = record.fields()
        row = dict(
            fields,
            id=record_id,
            passed=None if record.passed is None else int(record.passed),
            film_npz=None if record.film_um is None else _npz(record.film_um),
            image_png=record.image_png,
            created_at=now,
        )
        message = json.dumps(record.message(record_id, now), sort_keys=True, allow_nan=False)
        with self.engine.begin() as conn:
            conn.execute(insert(part_records).values(**row))
            conn.execute(
                insert(outbox).values(
                    key=f"part-record/{record_id}",
                    topic=RECORD_TOPIC,
                    payload=message,
                    created_at=now,
                    attempts=0,
                )
            )
        return record_id

    def get(self, record_id: str) -> dict[str, Any]:
        """The stored row as a dict (``film_um`` decoded; ``image_png`` as bytes)."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(part_records).where(part_records.c.id == record_id))
                .mappings()
                .first()
            )
        if row is None:
            raise InvalidInputError("record_id", f"no part record {record_id!r}")
        out = dict(row)
        blob = out.pop("film_npz")
        out["film_um"] = None if blob is None else np.load(io.BytesIO(blob))["film_um"]
        out["passed"] = None if out["passed"] is None else bool(out["passed"])
        return out

    def for_part(self, part_id: str) -> list[str]:
        """Ids of the records of ``part_id``, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(part_records.c.id)
                .where(part_records.c.part_id == part_id)
                .order_by(part_records.c.created_at, part_records.c.id)
            )
            return [r[0] for r in rows]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(part_records)).scalar_one())

    def pending_messages(self, limit: int = 100) -> list[dict[str, Any]]:
        """Outbox messages not yet acknowledged, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(outbox).order_by(outbox.c.seq).limit(limit)).mappings()
            return [dict(r) for r in rows]


__all__ = ["RECORD_TOPIC", "STATUSES", "PartRecord", "PartRecordStore"]

"""The approved recipes a site holds: what the cloud published, kept once verified.

The cloud publishes every approved recipe version (``recipes.publication``: signed
document, retained, QoS 1). The edge keeps a version only when its approval signature
verifies with the site's public approval key; anything else (another key, a changed
document, an envelope that disagrees with it) is refused, logged and counted, and
changes nothing. A version received again is stored once. What a cell may run for a part
and finish is the newest approved version held for that pair (:meth:`RecipeInbox.current`).
When a job is booked for a pair without one, a request goes to the cloud through the
outbox (:meth:`RecipeInbox.request_if_missing`), which plans a candidate for review.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from edge_gateway.db import approved_recipes, outbox
from recipes.approval import ApprovalVerifier
from recipes.document import RecipeDoc, dumps, loads
from recipes.document import save as save_recipe
from recipes.errors import InvalidInputError, NotFoundError
from recipes.parts.loader import load_part
from recipes.publication import parse_publication

log = logging.getLogger(__name__)

#: the outbox topic of a request for a candidate recipe (``cloud_brain.candidates``)
REQUEST_TOPIC = "recipes/request"


class RecipeInbox:
    """Verified recipe versions in the edge database ``engine``; with ``recipe_dir``, each
    also written there as a recipe file (``<id>-v<version>.yaml``), the folder the cells
    load approved recipes from (they verify them again)."""

    def __init__(
        self, engine: Engine, verifier: ApprovalVerifier, recipe_dir: Path | None = None
    ) -> None:
        self.engine = engine
        self.verifier = verifier
        self.recipe_dir = recipe_dir
        self.stored = 0
        self.duplicates = 0
        self.refused: list[str] = []  # why, newest last

    def receive(self, topic: str, payload: bytes) -> bool:
        """Keep the version a publication carries; True when it is new. An empty payload
        (a retained publication withdrawn) is ignored."""
        if not payload:
            return False
        try:
            doc = parse_publication(topic, payload, self.verifier)
        except InvalidInputError as exc:
            self.refused.append(f"{topic}: {exc}")
            log.warning("recipe refused: %s: %s", topic, exc)
            return False
        row = dict(
            recipe_id=doc.id,
            version=doc.version,
            part_name=doc.part.name,
            finish=doc.finish.name,
            content_hash=doc.content_hash,
            key_id=doc.approval.key_id,
            approved_at=doc.approval.approved_at or "",
            document=dumps(doc),
            received_at=datetime.now(UTC),
        )
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(approved_recipes).values(**row))
        except IntegrityError:
            self.duplicates += 1
            self._write_file(doc)  # a folder emptied meanwhile is filled again
            return False
        self.stored += 1
        self._write_file(doc)
        return True

    def _write_file(self, doc: RecipeDoc) -> bool:
        """The version as a recipe file in ``recipe_dir``, written whole or not at all;
        True when it was written (not there before)."""
        if self.recipe_dir is None:
            return False
        self.recipe_dir.mkdir(parents=True, exist_ok=True)
        path = self.recipe_dir / f"{doc.id}-v{doc.version}.yaml"
        if path.exists():
            return False
        tmp = path.with_suffix(".yaml.part")
        save_recipe(doc, tmp)
        os.replace(tmp, path)
        return True

    def export_all(self) -> int:
        """Write every held version into ``recipe_dir`` (at start: the folder may be new);
        how many files were written."""
        if self.recipe_dir is None:
            return 0
        with self.engine.connect() as conn:
            docs = [r.document for r in conn.execute(select(approved_recipes.c.document))]
        return sum(self._write_file(loads(text)) for text in docs)

    def holds(self, conn, part: str, finish: str) -> bool:
        """A version for ``part`` in ``finish`` is held (on the connection ``conn``)."""
        return conn.execute(_newest(part, finish, approved_recipes.c.id)).first() is not None

    def request_if_missing(
        self, conn, part_spec: str, finish: str, key: str, *, edge_passes: bool = True
    ) -> bool:
        """Within the transaction ``conn``: where no version is held for the part of
        ``part_spec`` in ``finish`` (a spray-core finish), put a ``recipes/request`` for
        the cloud in the outbox under ``key`` (``edge_passes``: whether the site's robots
        fly edge passes); True when one was put."""
        part, _ = load_part(part_spec)
        if self.holds(conn, part.name, finish):
            return False
        body = {
            "part_spec": part_spec,
            "part": part.name,
            "finish": finish,
            "edge_passes": edge_passes,
        }
        conn.execute(
            insert(outbox).values(
                key=key,
                topic=REQUEST_TOPIC,
                payload=json.dumps(body, sort_keys=True),
                created_at=datetime.now(UTC),
                attempts=0,
            )
        )
        return True

    def held_for(self, part_spec: str, finish: str) -> dict[str, Any] | None:
        """The newest version held for the part of ``part_spec`` in ``finish`` (a
        spray-core finish), without its document; None while there is none."""
        part, _ = load_part(part_spec)
        with self.engine.connect() as conn:
            row = conn.execute(_newest(part.name, finish, *_SUMMARY).limit(1)).first()
        return None if row is None else dict(row._mapping)

    def list(self) -> list[dict[str, Any]]:
        """The versions held (without documents), by recipe and version."""
        query = select(*_SUMMARY).order_by(approved_recipes.c.recipe_id, approved_recipes.c.version)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def current(self, part: str, finish: str) -> dict[str, Any]:
        """The newest approved version held for ``part`` in ``finish``, with its signed
        document (verified again: the database is not trusted more than the wire)."""
        with self.engine.connect() as conn:
            rows = conn.execute(_newest(part, finish, *_SUMMARY, approved_recipes.c.document)).all()
        for r in rows:
            if self.verifier.verify_recipe(loads(r.document, f"{r.recipe_id} v{r.version}")):
                return dict(r._mapping)
            log.error("stored recipe %s v%s no longer verifies", r.recipe_id, r.version)
        raise NotFoundError("approved recipe", f"{part} in {finish}")


def _newest(part: str, finish: str, *columns):
    """``columns`` of the versions held for ``part`` in ``finish``, newest approval first."""
    return (
        select(*columns)
        .where(approved_recipes.c.part_name == part, approved_recipes.c.finish == finish)
        .order_by(approved_recipes.c.approved_at.desc(), approved_recipes.c.version.desc())
    )


_SUMMARY = (
    approved_recipes.c.recipe_id,
    approved_recipes.c.version,
    approved_recipes.c.part_name.label("part"),
    approved_recipes.c.finish,
    approved_recipes.c.content_hash,
    approved_recipes.c.key_id,
    approved_recipes.c.approved_at,
)

__all__ = ["REQUEST_TOPIC", "RecipeInbox"]

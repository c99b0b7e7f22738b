"""A service's database for tests: SQLite in a temporary folder, or the real PostgreSQL in
a schema of its own (dropped afterwards)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def database_engine(
    kind: str, tmp_path: Path, open_database: Callable[..., sa.Engine], name: str
) -> Iterator[sa.Engine]:
    """Yield an engine migrated by ``open_database`` on ``kind`` ("sqlite" or
    "postgresql"); ``name`` names the SQLite file and prefixes the schema."""
    if kind == "sqlite":
        eng = open_database(sqlite_path=tmp_path / f"{name}.db")
        yield eng
        eng.dispose()
        return
    schema = f"{name[0]}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    eng = open_database(f"{PG_URL}?options=-csearch_path%3D{schema}")
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

"""The edge's database: SQLite by default, PostgreSQL in production.

``open_database(url)`` connects (``COATSHARE_DATABASE_URL`` when no url is given, else a
SQLite file) and brings the schema to the newest Alembic revision, so a fresh file and a
database left by an older version both end up with the tables the code expects.
"""

from edge_gateway.db.engine import DEFAULT_URL_ENV, database_url, open_database, upgrade
from edge_gateway.db.schema import (
    approved_recipes,
    firms,
    jobs,
    metadata,
    outbox,
    part_records,
    principals,
    quotes,
)

__all__ = [
    "DEFAULT_URL_ENV",
    "approved_recipes",
    "database_url",
    "firms",
    "jobs",
    "metadata",
    "open_database",
    "outbox",
    "part_records",
    "principals",
    "quotes",
    "upgrade",
]

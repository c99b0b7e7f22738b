"""The cloud's database: SQLite by default, PostgreSQL in production (Alembic-migrated).

The two services may not import each other (DESIGN.md), so the cloud keeps its own small
engine helper beside its own schema rather than borrowing the edge's.
"""

from cloud_brain.db.engine import DEFAULT_URL_ENV, open_database
from cloud_brain.db.schema import cloud_users, metadata, recipe_versions, site_messages

__all__ = [
    "DEFAULT_URL_ENV",
    "cloud_users",
    "metadata",
    "open_database",
    "recipe_versions",
    "site_messages",
]

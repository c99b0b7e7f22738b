"""Connecting to the cloud database and migrating it with Alembic."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import StaticPool

DEFAULT_URL_ENV = "COATSHARE_CLOUD_DATABASE_URL"
MIGRATIONS = Path(__file__).with_name("migrations")


def open_database(url: str | None = None, *, sqlite_path: str | Path | None = None) -> Engine:
    """``url``, else ``$COATSHARE_CLOUD_DATABASE_URL``, else a SQLite file (default
    ``coatshare-cloud.db``); migrated to the newest schema."""
    url = (
        url or os.environ.get(DEFAULT_URL_ENV) or f"sqlite:///{sqlite_path or 'coatshare-cloud.db'}"
    )
    kw: dict = {}
    if url in ("sqlite://", "sqlite:///:memory:"):
        kw = dict(poolclass=StaticPool, connect_args={"check_same_thread": False})
    engine = create_engine(url, **kw)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return engine


__all__ = ["DEFAULT_URL_ENV", "open_database"]

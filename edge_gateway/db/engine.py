"""Connecting to the edge database and migrating it with Alembic."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import StaticPool

from recipes.errors import InvalidInputError

DEFAULT_URL_ENV = "COATSHARE_DATABASE_URL"
MIGRATIONS = Path(__file__).with_name("migrations")


def database_url(url: str | None = None, *, sqlite_path: str | Path | None = None) -> str:
    """``url``, else ``$COATSHARE_DATABASE_URL``, else a SQLite file (``sqlite_path``,
    default ``coatshare-edge.db`` in the working directory)."""
    if url:
        return url
    env = os.environ.get(DEFAULT_URL_ENV)
    if env:
        return env
    path = Path(sqlite_path or "coatshare-edge.db")
    return f"sqlite:///{path}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the runner's writes
    cursor.close()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the migrations up to ``revision`` on ``engine``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def open_database(
    url: str | None = None, *, sqlite_path: str | Path | None = None, migrate: bool = True
) -> Engine:
    """An engine on the edge database, migrated to the newest schema unless told not to."""
    resolved = database_url(url, sqlite_path=sqlite_path)
    kw: dict = {}
    if resolved in ("sqlite://", "sqlite:///:memory:"):  # one database shared by all threads
        kw = dict(poolclass=StaticPool, connect_args={"check_same_thread": False})
    try:
        engine = create_engine(resolved, **kw)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError, unknown dialects
        raise InvalidInputError("database_url", f"cannot use {resolved!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if migrate:
        upgrade(engine)
    return engine


__all__ = ["DEFAULT_URL_ENV", "MIGRATIONS", "database_url", "open_database", "upgrade"]

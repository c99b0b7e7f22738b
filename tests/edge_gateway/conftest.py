"""The edge database for tests: SQLite, or the real PostgreSQL in a schema of its own."""

from __future__ import annotations

import pytest

from edge_gateway.db import open_database
from tests.databases import database_engine


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    yield from database_engine(request.param, tmp_path, open_database, "edge")

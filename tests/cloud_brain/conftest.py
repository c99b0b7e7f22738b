"""The cloud database for tests (SQLite, or the real PostgreSQL in a schema of its own),
and its users."""

from __future__ import annotations

import pytest

from cloud_brain.db import open_database
from cloud_brain.users import User, add_user
from recipes.approval import generate_key_pair
from tests.databases import database_engine

KEY = generate_key_pair(bytes(range(32)))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    yield from database_engine(request.param, tmp_path, open_database, "cloud")


@pytest.fixture
def users(engine) -> dict[str, tuple[User, str]]:
    """An admin, two engineers and two approvers: name -> (user, token)."""
    out = {}
    for name, role in (
        ("root", "admin"),
        ("eve", "engineer"),
        ("ed", "engineer"),
        ("ann", "approver"),
        ("abe", "approver"),
    ):
        out[name] = (User(name, role), add_user(engine, name, role))
    return out

"""The cloud database for tests (SQLite, or the real PostgreSQL in a schema of its own),
its users, and recipe documents to submit."""

from __future__ import annotations

import pytest

from cloud_brain.db import open_database
from cloud_brain.users import User, add_user
from recipes.approval import generate_key_pair
from recipes.document import PartRef, ProgramDoc, RecipeDoc, dumps
from recipes.planner.params import PlannerParams
from recipes.recipe import load_finish, load_gun
from tests.databases import database_engine
from tests.factories import straight_stroke

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


def recipe_text(
    version: int = 1,
    recipe_id: str = "door-white",
    speed_mm_s: float = 400.0,
    part: str = "door",
    finish: str = "white-gloss",
) -> str:
    """A small recipe document (one stroke), hashed, as YAML."""
    doc = RecipeDoc(
        id=recipe_id,
        version=version,
        part=PartRef(kind="template", name=part, template="door"),
        finish=load_finish(finish),
        gun=load_gun(None),
        planner=PlannerParams(),
        program=ProgramDoc.from_program(
            straight_stroke((0.0, 0.0, 200.0), (600.0, 0.0, 200.0), speed_mm_s), 1
        ),
        metrics={"within_tol_pct": 97.5},
    )
    return dumps(doc.with_hash())

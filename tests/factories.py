"""Shared builders for tests."""

from __future__ import annotations

import numpy as np

from recipes.document import PartRef, ProgramDoc, RecipeDoc, dumps
from recipes.planner.params import PlannerParams
from recipes.program import MOVE, STROKE, Program
from recipes.recipe import load_finish, load_gun


def straight_stroke(
    start_mm, end_mm, speed_mm_s: float, axis=(0.0, 0.0, -1.0), fan_x=(0.0, 1.0, 0.0)
) -> Program:
    """One trigger-on straight stroke from ``start_mm`` to ``end_mm``."""
    pos = np.array([start_mm, end_mm], dtype=float)
    return Program(
        pos,
        np.tile(axis, (2, 1)).astype(float),
        np.tile(fan_x, (2, 1)).astype(float),
        np.array([speed_mm_s, speed_mm_s], dtype=float),
        np.array([False, True]),
        np.array([MOVE, STROKE]),
    )


def rigid_transform(seed: int) -> np.ndarray:
    """A random rotation and translation (4x4), seeded."""
    rng = np.random.default_rng(seed)
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    R = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = rng.uniform(-500, 500, size=3)
    return T


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
        part=PartRef(
            kind="template",
            name=part,
            template="rect",
            params={"width_mm": 600.0, "height_mm": 400.0, "thickness_mm": 18.0},
        ),
        finish=load_finish(finish),
        gun=load_gun(None),
        planner=PlannerParams(),
        program=ProgramDoc.from_program(
            straight_stroke((0.0, 0.0, 200.0), (600.0, 0.0, 200.0), speed_mm_s), 1
        ),
        metrics={"within_tol_pct": 97.5},
    )
    return dumps(doc.with_hash())

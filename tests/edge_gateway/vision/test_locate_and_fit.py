"""From the camera image to the program the cell runs: locate, then fit the recipe."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Polygon

from edge_gateway.vision import locate
from recipes.fit import fit_recipe
from recipes.planner import PlannerParams
from recipes.recipe import plan_from_spec
from sim.frames import PlanarPose

from .conftest import VIEW_X_MM, VIEW_Y_MM, render, resized


@pytest.fixture(scope="module")
def recipe():
    doc, _ = plan_from_spec("door", "benchmark", params=PlannerParams(spacing_mm=4.0))
    return doc


def test_the_program_lands_on_the_real_part(renderer, camera, door, recipe) -> None:
    real = resized(door, 1.0, -0.6)
    pose = PlanarPose(VIEW_X_MM + 4.0, VIEW_Y_MM - 7.0, 1.7)
    res = locate(render(renderer, [(real, pose)]).image, camera, door)
    assert res.verdict == "ok"
    loc = res.part
    fit = fit_recipe(recipe, loc.T_world_part, Polygon(loc.outline_mm), spacing_mm=4.0)
    assert fit.action == "adjusted"
    assert fit.deviation_mm == pytest.approx(0.5, abs=0.15)
    # the same program placed with the true pose differs by less than the pose error
    T_true = pose.T_world_part((300.0, 200.0))
    part_frame = fit.program_part.position_mm
    true_world = part_frame @ T_true[:3, :3].T + T_true[:3, 3]
    assert np.abs(fit.program.position_mm - true_world).max() < 0.3
    top = fit.prediction.metrics.faces["top"]
    assert top.within_tol_pct >= 99.0

"""Fitting a recipe's program to a measured part: move, adjust, re-plan or refuse."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely import affinity
from shapely.geometry import Polygon, box

from recipes.errors import InvalidInputError
from recipes.fit import (
    OutOfToleranceError,
    T_world_part_from_pose,
    fit_program,
    fit_recipe,
    measured_in_part_frame,
)
from recipes.parts.loader import load_part
from recipes.planner import PlannerParams
from recipes.program import EDGE, STROKE
from recipes.recipe import plan_from_spec

REF = (300.0, 200.0)
T_BELT = T_world_part_from_pose(-2000.0, 12.0, 3.0, REF)


@pytest.fixture(scope="module")
def recipe():
    doc, _ = plan_from_spec("door", "benchmark", params=PlannerParams(spacing_mm=4.0))
    return doc


def world(outline: Polygon, T: np.ndarray = T_BELT) -> Polygon:
    return affinity.affine_transform(
        outline, [T[0, 0], T[0, 1], T[1, 0], T[1, 1], T[0, 3], T[1, 3]]
    )


def test_pose_helper_places_the_reference_point() -> None:
    T = T_world_part_from_pose(-2000.0, 12.0, 30.0, REF)
    p = T @ np.array([REF[0], REF[1], 0.0, 1.0])
    np.testing.assert_allclose(p[:2], (-2000.0, 12.0), atol=1e-9)
    assert math.degrees(math.atan2(T[1, 0], T[0, 0])) == pytest.approx(30.0)
    back = measured_in_part_frame(world(box(0, 0, 600, 400), T), T)
    assert back.symmetric_difference(box(0, 0, 600, 400)).area < 1e-6


def test_a_part_as_planned_only_moves_the_program(recipe) -> None:
    door = load_part("door")[0]
    res = fit_recipe(recipe, T_BELT, world(door.outline), spacing_mm=4.0)
    assert res.action == "transformed" and res.deviation_mm < 1e-6
    program = recipe.program.to_program()
    expected = program.position_mm @ T_BELT[:3, :3].T + T_BELT[:3, 3]
    np.testing.assert_allclose(res.program.position_mm, expected, atol=1e-9)
    np.testing.assert_allclose(res.program.axis, program.axis @ T_BELT[:3, :3].T, atol=1e-12)
    faces = res.prediction.metrics.faces
    assert faces["top"].within_tol_pct >= 99.0 and faces["edge"].within_tol_pct >= 90.0


def test_small_deviations_move_trigger_points_and_edge_passes(recipe) -> None:
    # the right edge 1.2 mm further out, everything else as planned
    measured = Polygon([(0, 0), (601.2, 0), (601.2, 400), (0, 400)])
    res = fit_recipe(recipe, T_BELT, world(measured), spacing_mm=4.0)
    assert res.action == "adjusted"
    assert res.deviation_mm == pytest.approx(1.2, abs=1e-6)
    before = recipe.program.to_program()
    after = res.program_part
    move = after.position_mm - before.position_mm
    np.testing.assert_allclose(move[:, 1:], 0.0, atol=1e-9)  # nothing moves in y or z
    x = before.position_mm[:, 0]
    edge = np.zeros(len(before), dtype=bool)
    edge[1:] |= before.kind[1:] == EDGE
    edge[:-1] |= before.kind[1:] == EDGE
    right, left = x > 601.0, x < -1.0
    # edge passes: beside the right edge they follow it, beside the left they stay
    np.testing.assert_allclose(
        move[edge & right & (np.abs(before.position_mm[:, 1] - 200) < 150), 0], 1.2
    )
    np.testing.assert_allclose(move[edge & left, 0], 0.0, atol=1e-9)
    # stroke ends: the trigger points past the right edge slide 1.2 mm along the strokes
    stroke_end = (before.kind == STROKE) & before.trigger
    assert np.allclose(move[stroke_end & right, 0], 1.2)
    assert np.allclose(move[stroke_end & left, 0], 0.0)
    faces = res.prediction.metrics.faces
    assert faces["top"].within_tol_pct >= 99.0 and faces["edge"].within_tol_pct >= 90.0


def test_larger_deviations_re_plan_the_strokes(recipe) -> None:
    door = load_part("door")[0]
    measured = affinity.scale(door.outline, 606.0 / 600.0, 404.0 / 400.0, origin=REF)
    res = fit_recipe(recipe, T_BELT, world(measured), spacing_mm=4.0)
    assert res.action == "replanned"
    assert res.deviation_mm == pytest.approx(math.hypot(3.0, 2.0), abs=1e-6)  # a corner
    assert res.measured.outline.bounds == pytest.approx((-3.0, -2.0, 603.0, 402.0))
    on = res.program_part.trigger & (res.program_part.kind == STROKE)
    xs = res.program_part.position_mm[on, 0]
    assert xs.max() > 603.0 and xs.min() < -3.0  # strokes run past the real edges
    faces = res.prediction.metrics.faces
    assert faces["top"].within_tol_pct >= 99.0 and faces["edge"].within_tol_pct >= 90.0


def test_out_of_tolerance_is_refused(recipe) -> None:
    door = load_part("door")[0]
    measured = affinity.scale(door.outline, 614.0 / 600.0, 1.0, origin=REF)
    with pytest.raises(OutOfToleranceError) as err:
        fit_recipe(recipe, T_BELT, world(measured))
    assert err.value.field == "outline"
    assert "7.00 mm" in err.value.reason and "tolerance 5 mm" in err.value.reason
    holed = box(0, 0, 600, 400).difference(box(250, 150, 350, 250))
    with pytest.raises(OutOfToleranceError, match="1 hole"):
        fit_recipe(recipe, T_BELT, world(holed))


def test_bad_input(recipe) -> None:
    door = load_part("door")[0]
    leg = load_part("chair_leg")[0]
    program = recipe.program.to_program()
    args = (recipe.finish, recipe.gun)
    with pytest.raises(InvalidInputError) as err:
        fit_program(leg, program, *args, T_BELT, world(door.outline))
    assert err.value.field == "part.outline"
    tilted = T_BELT.copy()
    tilted[:3, :3] = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])
    with pytest.raises(InvalidInputError, match="lie flat"):
        fit_program(door, program, *args, tilted, world(door.outline))
    with pytest.raises(InvalidInputError, match="rigid"):
        fit_program(door, program, *args, 2 * T_BELT, world(door.outline))
    with pytest.raises(InvalidInputError, match="outline"):
        fit_program(door, program, *args, T_BELT, np.zeros((2, 2)))
    with pytest.raises(InvalidInputError, match="move_below_mm"):
        fit_program(door, program, *args, T_BELT, world(door.outline), replan_above_mm=9.0)

"""Hole walls: passes from inside the hole, where they fit, and what they leave."""

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from recipes.finish import builtin_finish
from recipes.fit import adjust_program
from recipes.gun import GunModel
from recipes.parts.templates import cutout_panel, make_template, parse_template_spec
from recipes.planner import PlannerParams, plan
from recipes.planner.holes import HOLE_CLEARANCE_MM, hole_pass
from recipes.program import EDGE, Program
from recipes.simulate import predict, sprayed_holes

GUN = GunModel()
FINISH = builtin_finish("benchmark")
HOLES = PlannerParams(hole_passes=True)


def _square_hole(size_mm: float):
    """The clockwise ring of a square hole centred at (200, 200), as a panel holds it."""
    part = cutout_panel(cutout_width_mm=size_mm, cutout_height_mm=size_mm)
    return part.outline.interiors[0]


@pytest.fixture(scope="module")
def cutout():
    part = make_template(*parse_template_spec("cutout_panel"))
    result = plan(part, FINISH, GUN, HOLES)
    return part, result, predict(part, result.program, GUN, FINISH, spacing_mm=1.0)


def test_the_cutout_panels_hole_wall_is_sprayed_and_judged(cutout):
    part, result, pred = cutout
    faces = pred.metrics.faces
    hole = faces["hole_edge"]
    assert hole.judged and hole.tolerance_pct == FINISH.edge_tolerance_pct
    assert hole.within_tol_pct >= 92.0  # 93.9 % measured at 1 mm
    assert hole.dft_mean_um == pytest.approx(40.0, rel=0.03)
    assert result.holes_sprayed == [True]
    assert any(n.startswith("hole 1: pass from inside") for n in result.notes)
    # the outer edge and the top face as without the hole pass
    assert faces["top"].within_tol_pct >= 99.5
    assert faces["edge"].within_tol_pct >= 99.0
    # at the default tilt (0 deg) no hole paint lands on the top face or the outer edge
    s = pred.samples
    hole_paint = pred.group_wet_um["hole"]
    assert hole_paint[s.face_mask("top")].max() == 0.0
    assert hole_paint[s.face_mask("edge")].max() == 0.0


def test_top_and_edge_are_the_same_without_the_hole_pass(cutout):
    part, result, pred = cutout
    prog = result.program
    xy = prog.position_mm[:, :2]
    first = int(np.argmax(shapely.contains_xy(part.holes[0], xy[:, 0], xy[:, 1])))
    assert first > 0 and not prog.trigger[first - 2 : first + 1].any()
    fields = ("position_mm", "axis", "fan_x", "speed_mm_s", "trigger", "kind")
    before = Program(*(getattr(prog, f)[:first] for f in fields))
    other = predict(part, before, GUN, FINISH, spacing_mm=1.0).metrics.faces
    faces = pred.metrics.faces
    assert faces["top"].within_tol_pct == pytest.approx(other["top"].within_tol_pct, abs=0.05)
    assert faces["edge"].within_tol_pct == pytest.approx(other["edge"].within_tol_pct, abs=0.05)
    assert not other["hole_edge"].judged and other["hole_edge"].dft_mean_um < 5.0


def test_hole_pass_guns_stand_inside_the_hole_at_the_standoff(cutout):
    part, result, _ = cutout
    prog = result.program
    hole = part.holes[0]
    on = (prog.kind == EDGE) & prog.trigger
    xy = prog.position_mm[:, :2]
    inside = on & shapely.contains_xy(hole, xy[:, 0], xy[:, 1])
    assert inside.sum() >= 4
    pts = shapely.points(xy[inside])
    assert np.all(shapely.distance(hole.exterior, pts) >= HOLE_CLEARANCE_MM - 1e-6)
    # tilt 0: the gun at mid-thickness, the axis horizontal, aimed at a wall at the standoff
    np.testing.assert_allclose(prog.position_mm[inside, 2], part.thickness_mm / 2)
    np.testing.assert_allclose(prog.axis[inside, 2], 0.0, atol=1e-9)
    aim = xy[inside] + 120.0 * prog.axis[inside, :2]
    np.testing.assert_allclose(shapely.distance(hole.exterior, shapely.points(aim)), 0, atol=1e-6)


def test_a_square_hole_gets_one_run_per_wall():
    hp = hole_pass(_square_hole(150.0), 18.0, 120.0, 0.0, 300.0, 1200.0, 60.0)
    assert hp.program is not None and hp.runs == 4
    prog = hp.program
    on = prog.trigger
    # each run along one wall, the gun 120 mm off it, up to 10 mm short of the corners
    xy = prog.position_mm[on, :2]
    assert np.all(np.abs(xy - 200.0) <= 75.0 - HOLE_CLEARANCE_MM + 1e-9)
    # runs are entered and left from above the top face
    assert prog.position_mm[~on, 2].max() == pytest.approx(18.0 + 50.0)


def test_rounded_corners_split_the_runs_where_the_gun_would_swing():
    part = cutout_panel(cutout_radius_mm=30.0)
    hp = hole_pass(part.outline.interiors[0], 18.0, 140.0, 0.0, 300.0, 1200.0, 70.0)
    assert hp.program is not None and hp.runs == 4


@pytest.mark.parametrize(
    "size_mm, standoff_mm, fits",
    [(150.0, 120.0, True), (150.0, 200.0, False), (100.0, 120.0, False)],
)
def test_the_gun_must_fit_in_the_hole(size_mm, standoff_mm, fits):
    hp = hole_pass(_square_hole(size_mm), 18.0, standoff_mm, 0.0, 300.0, 1200.0, 60.0)
    assert (hp.program is not None) == fits
    if not fits:
        assert "too small" in hp.reason and f"{standoff_mm:g} mm" in hp.reason


def test_a_small_hole_is_skipped_with_the_reason():
    part = make_template(*parse_template_spec("cutout_panel:cutout_width_mm=100"))
    result = plan(part, FINISH, GUN, PlannerParams(spacing_mm=4.0, hole_passes=True))
    assert result.holes_sprayed == [False]
    note = next(n for n in result.notes if n.startswith("hole 1"))
    assert "no pass" in note and "too small" in note and "120 mm" in note
    assert sprayed_holes(part, result.program) == [False]
    pred = predict(part, result.program, GUN, FINISH, spacing_mm=4.0)
    assert not pred.metrics.faces["hole_edge"].judged
    assert pred.metrics.faces["hole_edge"].paint_ml == 0.0


def test_adjusting_a_program_moves_hole_passes_with_the_wall_they_aim_at(cutout):
    part, result, _ = cutout
    # the hole's left wall 1 mm further left, all else as planned
    measured = Polygon(box(0, 0, 400, 400).exterior, [box(124, 125, 275, 275).exterior])
    adjusted, _ = adjust_program(result.program, part.outline, measured, result.chosen())
    prog = result.program
    on = (prog.kind == EDGE) & prog.trigger
    hole = part.holes[0]
    xy = prog.position_mm[:, :2]
    inside = on & shapely.contains_xy(hole, xy[:, 0], xy[:, 1])
    aims_left = inside & (prog.axis[:, 0] < -0.99)
    aims_right = inside & (prog.axis[:, 0] > 0.99)
    move = adjusted.position_mm - prog.position_mm
    assert aims_left.any() and aims_right.any()
    np.testing.assert_allclose(move[aims_left, 0], -1.0, atol=1e-6)
    np.testing.assert_allclose(move[aims_right, 0], 0.0, atol=1e-6)


def test_the_standard_gun_leaves_hole_walls_unsprayed_and_unjudged():
    part = make_template(*parse_template_spec("cutout_panel"))
    result = plan(part, FINISH, GUN, PlannerParams(spacing_mm=4.0))
    assert sprayed_holes(part, result.program) == [False]
    assert not any(n.startswith("hole 1") for n in result.notes)
    pred = predict(part, result.program, GUN, FINISH, spacing_mm=4.0)
    assert not pred.metrics.faces["hole_edge"].judged
    assert pred.metrics.faces["edge"].judged and pred.metrics.faces["edge"].within_tol_pct > 95

"""Predicted metrics per face: what the passes planned for each face cost and deliver."""

import pytest

from recipes.finish import builtin_finish
from recipes.gun import GunModel
from recipes.parts.mesh import chair_leg
from recipes.parts.templates import make_template, parse_template_spec
from recipes.planner import PlannerParams, plan
from recipes.planner.mesh_raster import MeshRasterSpec, plan_mesh_raster
from recipes.simulate import predict

GUN = GunModel()
FINISH = builtin_finish("benchmark")
PASS_KEYS = ("transfer_efficiency_pct", "overspray_pct", "paint_ml", "cycle_s", "path_m")


def _sums_match(m) -> None:
    faces = m.faces.values()
    assert sum(f.paint_ml for f in faces) == pytest.approx(m.paint_ml, rel=1e-9)
    assert sum(f.cycle_s for f in faces) == pytest.approx(m.cycle_s, rel=1e-9)
    assert sum(f.path_m for f in faces) == pytest.approx(m.path_m, rel=1e-9)


def test_panel_faces_carry_their_passes_figures_and_add_up_to_the_part():
    part = make_template(*parse_template_spec("rect:width_mm=300,height_mm=200"))
    result = plan(part, FINISH, GUN, PlannerParams(spacing_mm=4.0))
    m = predict(part, result.program, GUN, FINISH, spacing_mm=4.0).metrics
    top, edge = m.faces["top"], m.faces["edge"]
    for face in (top, edge):
        assert all(getattr(face, k) is not None for k in PASS_KEYS)
        assert face.paint_ml > 0 and face.cycle_s > 0 and face.path_m > 0
        assert face.transfer_efficiency_pct == pytest.approx(face.capture_pct * GUN.gun_efficiency)
        assert face.overspray_pct == pytest.approx(100 - face.transfer_efficiency_pct)
    _sums_match(m)
    # the part's transfer efficiency is the paint-weighted mean of the faces'
    weighted = sum(f.transfer_efficiency_pct * f.paint_ml for f in (top, edge)) / m.paint_ml
    assert weighted == pytest.approx(m.transfer_efficiency_pct, rel=1e-6)


def test_a_mesh_side_gets_the_whole_program():
    leg = chair_leg()
    program = plan_mesh_raster(leg, MeshRasterSpec(8, 30.0, 300.0, 200.0, 60.0))
    m = predict(leg, program, GUN, FINISH, spacing_mm=6.0, sample_hz=250.0).metrics
    side = m.faces["side"]
    assert side.paint_ml == pytest.approx(m.paint_ml)
    assert side.cycle_s == pytest.approx(m.cycle_s) and side.path_m == pytest.approx(m.path_m)
    assert side.transfer_efficiency_pct == pytest.approx(m.transfer_efficiency_pct)
    assert m.faces["end"].paint_ml == 0.0 and m.faces["end"].transfer_efficiency_pct is None
    _sums_match(m)

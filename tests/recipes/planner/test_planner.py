import numpy as np
import pytest
from pydantic import ValidationError

from recipes.errors import InvalidInputError, UnreachableTargetError
from recipes.finish import Finish, builtin_finish
from recipes.gun import GunModel
from recipes.parts.mesh import chair_leg
from recipes.parts.templates import make_template, parse_template_spec
from recipes.planner import PlannerParams, plan
from recipes.program import EDGE, STROKE
from recipes.simulate import predict

GUN = GunModel()
FINISH = builtin_finish("benchmark")


@pytest.fixture(scope="module")
def door_result():
    part = make_template(*parse_template_spec("door"))
    result = plan(part, FINISH, GUN)
    return part, result, predict(part, result.program, GUN, FINISH, spacing_mm=1.0)


def test_door_meets_the_top_face_and_edge_goals(door_result):
    _, result, pred = door_result
    top, edge = pred.metrics.faces["top"], pred.metrics.faces["edge"]
    assert top.within_tol_pct >= 99.0
    assert top.capture_pct >= 75.0
    assert edge.within_tol_pct >= 90.0
    assert top.dft_mean_um == pytest.approx(40.0, rel=0.06)


def test_door_strokes_run_along_the_long_edge_at_constant_speed(door_result):
    _, result, _ = door_result
    prog = result.program
    strokes = (prog.kind == STROKE) & prog.trigger
    assert result.chosen()["angle_deg"] == 0.0
    seg = np.diff(prog.position_mm, axis=0)[strokes[1:]]
    assert np.all(np.abs(seg[:, 1]) < 1e-9)  # along x, the 600 mm edge
    assert np.ptp(prog.speed_mm_s[strokes]) < 1e-9
    # trigger off on every turnaround, on during edge passes
    assert not prog.trigger[prog.kind == 2].any()
    assert prog.trigger[prog.kind == EDGE].sum() > 10


def test_paint_accounting_adds_up(door_result):
    _, _, pred = door_result
    m = pred.metrics
    assert m.transfer_efficiency_pct == pytest.approx(m.capture_pct * GUN.gun_efficiency)
    assert m.overspray_pct == pytest.approx(100 - m.transfer_efficiency_pct)
    assert m.paint_on_part_ml == pytest.approx(m.paint_ml * m.transfer_efficiency_pct / 100)


def test_round_top_is_uniform():
    part = make_template(*parse_template_spec("round_top"))
    result = plan(part, FINISH, GUN, PlannerParams(spacing_mm=4.0))
    pred = predict(part, result.program, GUN, FINISH, spacing_mm=4.0)
    assert pred.metrics.faces["top"].within_tol_pct >= 97.0
    assert pred.metrics.faces["edge"].within_tol_pct >= 90.0


def test_chair_leg_is_uniform_around():
    part = chair_leg()
    result = plan(part, FINISH, GUN)
    pred = predict(part, result.program, GUN, FINISH, spacing_mm=4.0, sample_hz=500)
    assert pred.metrics.faces["side"].within_tol_pct >= 97.0
    # the gun stays on the surface normal at the standoff
    strokes = result.program.kind == STROKE
    r = np.linalg.norm(result.program.position_mm[strokes][:, 1:] - [0, 20.0], axis=1)
    assert r.min() > 200.0 and r.max() < 221.0


def test_thicker_target_takes_more_coats_or_slower_strokes():
    part = make_template(*parse_template_spec("rect:width_mm=300,height_mm=200"))
    thick = Finish(name="thick", paint=FINISH.paint, target_dft_um=100.0, max_coats=4)
    result = plan(part, thick, GUN, PlannerParams(spacing_mm=4.0, edge_passes=False))
    assert result.coats >= 2  # the paint sags above 60 um per coat


def test_unreachable_target_names_the_field_and_the_limit():
    part = make_template(*parse_template_spec("rect:width_mm=300,height_mm=200"))
    too_thin = Finish(name="thin", paint=FINISH.paint, target_dft_um=2.0)
    with pytest.raises(UnreachableTargetError) as err:
        plan(part, too_thin, GUN)
    assert err.value.field == "finish.target_dft_um"
    assert "speed_max_mm_s" in err.value.reason
    # the sag limit binds: 60 um per coat x 2 coats, not the slowest speed
    too_thick = Finish(name="thick", paint=FINISH.paint, target_dft_um=2000.0, max_coats=2)
    with pytest.raises(UnreachableTargetError) as err:
        plan(part, too_thick, GUN)
    assert err.value.field == "finish.target_dft_um"
    assert "finish.paint.max_dry_per_coat_um=60 um" in err.value.reason
    assert "finish.max_coats=2" in err.value.reason
    assert "needs 34 coats" in err.value.reason
    assert "thickest reachable film is 120 um" in err.value.reason
    thick = Finish(name="thick", paint=FINISH.paint, target_dft_um=500.0, max_coats=3)
    with pytest.raises(UnreachableTargetError, match="thickest reachable film is 180 um"):
        plan(part, thick, GUN)


def test_the_slowest_speed_binds_when_the_sag_limit_does_not():
    part = make_template(*parse_template_spec("rect:width_mm=300,height_mm=200"))
    # a paint that does not sag: 3 coats at 50 mm/s are the limit
    paint = FINISH.paint.model_copy(update={"max_dry_per_coat_um": 1000.0})
    thick = Finish(name="thick", paint=paint, target_dft_um=1500.0, max_coats=3)
    with pytest.raises(UnreachableTargetError) as err:
        plan(part, thick, GUN, PlannerParams(edge_passes=False))
    assert err.value.field == "finish.target_dft_um"
    assert "speed_min_mm_s 50" in err.value.reason and "finish.max_coats=3" in err.value.reason
    per_coat = float(err.value.reason.split("each coat lays at most ")[1].split(" um")[0])
    assert 100.0 < per_coat < 500.0  # the mass balance at 50 mm/s, well below 1000 um
    assert f"so at most {3 * per_coat:.0f} um" in err.value.reason


def test_fixed_coats_respect_the_sag_limit_and_max_coats():
    part = make_template(*parse_template_spec("rect:width_mm=300,height_mm=200"))
    thick = Finish(name="thick", paint=FINISH.paint, target_dft_um=100.0, max_coats=3)
    with pytest.raises(UnreachableTargetError) as err:
        plan(part, thick, GUN, PlannerParams(coats=1))
    assert err.value.field == "planner.coats"
    assert "finish.paint.max_dry_per_coat_um=60 um" in err.value.reason
    assert "at least 2 coats" in err.value.reason
    with pytest.raises(UnreachableTargetError) as err:
        plan(part, thick, GUN, PlannerParams(coats=4))
    assert err.value.field == "planner.coats"
    assert "finish.max_coats=3" in err.value.reason


def test_a_fixed_speed_must_meet_the_target():
    part = make_template(*parse_template_spec("rect:width_mm=300,height_mm=200"))
    params = PlannerParams(edge_passes=False, spacing_mm=4.0)
    free = plan(part, FINISH, GUN, params)
    v = free.chosen()["speed_mm_s"]
    with pytest.raises(UnreachableTargetError) as err:
        plan(part, FINISH, GUN, params.model_copy(update={"speed_mm_s": 100.0}))
    assert err.value.field == "planner.speed_mm_s"
    assert "max_dry_per_coat_um=60" in err.value.reason  # 100 mm/s lays ~4x the target
    needed = float(err.value.reason.split("needs about ")[1].split(" mm/s")[0])
    assert needed == pytest.approx(v, rel=0.01)
    with pytest.raises(UnreachableTargetError, match=r"planner.speed_mm_s: .* % of the area"):
        plan(part, FINISH, GUN, params.model_copy(update={"speed_mm_s": 0.85 * v}))
    # the solver's own speed, fixed, passes and lays the same film
    fixed = plan(part, FINISH, GUN, params.model_copy(update={"speed_mm_s": v}))
    top = predict(part, fixed.program, GUN, FINISH, spacing_mm=4.0).metrics.faces["top"]
    top_free = predict(part, free.program, GUN, FINISH, spacing_mm=4.0).metrics.faces["top"]
    assert top.within_tol_pct == pytest.approx(top_free.within_tol_pct, abs=0.1)
    assert top.dft_mean_um == pytest.approx(40.0, rel=0.06)


def test_a_fixed_speed_on_a_mesh_must_meet_the_target():
    with pytest.raises(UnreachableTargetError) as err:
        plan(chair_leg(), FINISH, GUN, PlannerParams(speed_mm_s=100.0))
    assert err.value.field == "planner.speed_mm_s"
    assert "needs about" in err.value.reason


def test_bad_planner_input_is_refused():
    part = make_template(*parse_template_spec("door"))
    with pytest.raises(InvalidInputError, match=r"standoff_mm.*\[120, 320\]"):
        plan(part, FINISH, GUN, PlannerParams(standoff_mm=500))
    with pytest.raises(ValidationError):
        PlannerParams(speed_mm_s=0)
    with pytest.raises(InvalidInputError, match="speed_mm_s"):
        plan(part, FINISH, GUN, PlannerParams(speed_mm_s=5000))


def test_cutout_panel_meets_its_capture_goal():
    part = make_template(*parse_template_spec("cutout_panel"))
    result = plan(part, FINISH, GUN, PlannerParams(edge_passes=False))
    top = predict(part, result.program, GUN, FINISH, spacing_mm=1.0).metrics.faces["top"]
    assert top.within_tol_pct >= 99.0
    assert top.capture_pct >= 68.0


def test_standoff_is_searched_within_the_valid_range_unless_fixed():
    part = make_template(*parse_template_spec("rect:width_mm=300,height_mm=200"))
    free = plan(part, FINISH, GUN, PlannerParams(edge_passes=False, spacing_mm=4.0))
    assert GUN.standoff_min_mm <= free.chosen()["standoff_mm"] <= GUN.standoff_ref_mm
    fixed = plan(part, FINISH, GUN, PlannerParams(edge_passes=False, standoff_mm=230.0))
    assert fixed.chosen()["standoff_mm"] == 230.0
    z = fixed.program.position_mm[fixed.program.kind == STROKE][:, 2]
    np.testing.assert_allclose(z, 18.0 + 230.0)

"""Recipes planned by the current spray core, through acceptance, planning and a run.

Face rasters (``PlannerParams(edge_passes=False)``) of the standard parts are accepted at
the default station and hold their stroke speed; the door's full program, whose edge passes
keep the gun horizontal all round the part, is out of painter6's reach from any station
pose (see docs/robot_nodes.md) and is refused naming the pose.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from recipes.approval import ApprovalVerifier, approve_recipe
from robot_nodes.controller import (
    AcceptedProgram,
    CellController,
    CellMode,
    FaultCode,
    ProgramRejected,
    ProgramState,
    RecipeStore,
    compile_plan,
    validate_program,
)
from robot_nodes.fake_driver import FakeDriver
from robot_nodes.kinematics import RobotModel

from .cell_factories import KEY, cell_config, planned_recipe, program_msg
from .test_cell_planning import assert_limits, tool_speed_while_spraying

CONFIG = cell_config()
FACES = ["door", "rect:width_mm=300,height_mm=200", "round_top"]


def accept(spec: str, *, edge_passes: bool) -> AcceptedProgram:
    doc = approve_recipe(planned_recipe(spec, edge_passes=edge_passes), KEY.signing_key_hex, "op")
    store = RecipeStore()
    store.add(doc)
    verifier = ApprovalVerifier(KEY.public_key_hex)
    return validate_program(program_msg(doc), CONFIG, verifier, store, now_wall_ns=time.time_ns())


@pytest.mark.parametrize("spec", FACES)
def test_planned_face_raster_is_accepted_and_keeps_its_stroke_speed(
    painter6: RobotModel, spec: str
) -> None:
    accepted = accept(spec, edge_passes=False)
    program = planned_recipe(spec, edge_passes=False).program.to_program()
    plan = compile_plan(painter6, accepted, painter6.home_rad, CONFIG)
    traj = plan.trajectory
    assert traj.deviations == () and not traj.corner.any()  # turnarounds never stop
    assert (traj.speed_mm_s[1:-1] > 0).all()
    assert_limits(painter6, plan.first_leg)
    v, v_req = tool_speed_while_spraying(painter6, plan.program_leg)
    assert np.abs(v / v_req - 1.0).max() <= 0.02
    assert v_req.min() >= 250.0 and v_req.max() <= 450.0
    seg = np.linalg.norm(np.diff(program.position_mm, axis=0), axis=1)
    assert plan.spray_length_mm == pytest.approx(seg[program.trigger[1:]].sum(), rel=1e-3)
    strokes = int(np.sum(np.diff(program.trigger.astype(int)) == 1))
    t_ev, on, _ = plan.program_leg.spray_events()
    assert on.sum() == strokes and (~on).sum() == strokes
    assert traj.duration_s < 2.0 * program.cycle_s + 2.0


def test_door_with_edge_passes_is_refused_naming_the_pose(painter6: RobotModel) -> None:
    accepted = accept("door", edge_passes=True)
    with pytest.raises(ProgramRejected) as err:
        compile_plan(painter6, accepted, painter6.home_rad, CONFIG)
    assert err.value.code is FaultCode.UNREACHABLE
    assert "no single arm configuration covers the path" in err.value.text
    assert "TCP at (" in err.value.text and "outside joint limits" in err.value.text


def test_planned_face_raster_runs_to_done(painter6: RobotModel) -> None:
    """The rectangle's face raster through the controller and the fake driver: every
    stroke painted once, at its length."""
    doc = approve_recipe(planned_recipe(FACES[1], edge_passes=False), KEY.signing_key_hex, "op")
    store = RecipeStore()
    store.add(doc)
    driver = FakeDriver(painter6.joint_names, painter6.home_rad, lag_tau_s=0.02)
    t0_ns = 1_800_000_000_000_000_000
    clock = {"t": 0.0}
    config = cell_config(interlocks={"timeout_s": 0.0})
    ctl = CellController(
        config, painter6, driver, verifier=ApprovalVerifier(KEY.public_key_hex), recipes=store,
        wall_ns=lambda: t0_ns + round(clock["t"] * 1e9),
    )  # fmt: skip
    ctl.on_interlocks(
        {"estop": False, "door_closed": True, "paint_pressure_ok": True, "booth_airflow_ok": True},
        0.0,
    )
    t = driver.run(ctl, 0.0, 0.05)
    ctl.on_program(program_msg(doc, stamp_ns=t0_ns + round(t * 1e9)), t)
    assert ctl.state is CellMode.RUNNING
    t = driver.run(ctl, t, t + 30.0, until=lambda: ctl.state is CellMode.IDLE)
    assert driver.statuses[-1].state is ProgramState.DONE
    program = doc.program.to_program()
    strokes = int(np.sum(np.diff(program.trigger.astype(int)) == 1))
    assert [on for _, on in driver.gun] == [True, False] * strokes
    (result,) = driver.results
    seg = np.linalg.norm(np.diff(program.position_mm, axis=0), axis=1)
    assert result.completed
    assert result.spray_length_mm == pytest.approx(seg[program.trigger[1:]].sum(), rel=0.01)

"""Planning of accepted programs: approach, program timing, controlled stop, resume."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.interpolate import CubicHermiteSpline

from recipes.approval import ApprovalVerifier
from robot_nodes.controller import (
    AcceptedProgram,
    ExecutionPlan,
    FaultCode,
    Leg,
    ProgramRejected,
    RecipeStore,
    compile_plan,
    joint_move,
    resume_leg,
    stop_leg,
    validate_program,
)
from robot_nodes.controller.legs import APPROACH, BACKUP, PROGRAM
from robot_nodes.kinematics import RobotModel
from robot_nodes.toolpath import ToolPath

from .cell_factories import KEY, cell_config, program_msg, signed_recipe
from .conftest import tcp_pose

CONFIG = cell_config()


@pytest.fixture(scope="module")
def accepted() -> AcceptedProgram:
    doc = signed_recipe()
    store = RecipeStore()
    store.add(doc)
    return validate_program(
        program_msg(doc), CONFIG, ApprovalVerifier(KEY.public_key_hex), store,
        now_wall_ns=time.time_ns(),
    )  # fmt: skip


@pytest.fixture(scope="module")
def plan(painter6: RobotModel, accepted: AcceptedProgram) -> ExecutionPlan:
    return compile_plan(painter6, accepted, painter6.home_rad, CONFIG)


def assert_limits(robot: RobotModel, leg: Leg, rel: float = 1e-6) -> None:
    chain = robot.chain
    assert chain.within_limits(leg.q_rad).all()
    assert (np.abs(leg.qd_rad_s) <= chain.velocity_rad_s * (1 + rel)).all()
    assert (np.abs(leg.qdd_rad_s2) <= chain.acceleration_rad_s2 * (1 + rel)).all()


def tool_speed_while_spraying(robot: RobotModel, leg: Leg, dt: float = 0.001) -> np.ndarray:
    """TCP speed where the gun is on, from a 1 kHz cubic Hermite interpolation (mm/s)."""
    keep = np.concatenate([[True], np.diff(leg.t_s) > 0])
    spline = CubicHermiteSpline(leg.t_s[keep], leg.q_rad[keep], leg.qd_rad_s[keep], axis=0)
    t = np.arange(0.0, leg.duration_s, dt)
    p = robot.chain.fk(spline(t))[:, :3, 3] * 1000.0
    v = np.linalg.norm(np.diff(p, axis=0), axis=1) / dt
    t_mid = 0.5 * (t[1:] + t[:-1])
    k = np.clip(np.searchsorted(leg.t_s, t_mid, side="right"), 1, len(leg) - 1)
    return v[leg.trigger[k]], leg.v_req_mm_s[k][leg.trigger[k]]


def test_plan_approaches_then_runs_the_program_within_limits(painter6, plan) -> None:
    leg = plan.first_leg
    assert leg.label == "approach+program" and leg.completes_program
    assert leg.phase[0] == APPROACH and leg.phase[-1] == PROGRAM
    np.testing.assert_allclose(leg.q_rad[0], painter6.home_rad)
    assert np.abs(leg.qd_rad_s[[0, -1]]).max() == 0.0
    assert_limits(painter6, leg)
    assert (np.diff(leg.t_s) > 0).all() and (np.diff(leg.s_mm) >= 0).all()
    assert (np.diff(leg.waypoint) >= 0).all() and leg.waypoint[-1] == len(
        signed_recipe().program.waypoints
    ) - 1
    v, v_req = tool_speed_while_spraying(painter6, leg)
    assert len(v) > 1000
    assert (np.abs(v / v_req - 1.0) <= 0.02).all()  # the acceptance's +-2 %
    assert plan.trajectory.deviations == ()
    # gun on only on the program's strokes: two of them
    t_ev, on, _ = leg.spray_events()
    assert on.tolist() == [True, False, True, False]
    program = signed_recipe().program.to_program()
    seg = np.linalg.norm(np.diff(program.position_mm, axis=0), axis=1)
    assert plan.spray_length_mm == pytest.approx(seg[program.trigger[1:]].sum(), rel=1e-3)


def test_approach_uses_scaled_limits_and_is_time_optimal(painter6) -> None:
    q0 = painter6.home_rad
    q1 = q0 + np.array([0.8, -0.3, 0.2, 0.0, -0.4, 1.0])
    leg = joint_move(painter6.chain, q0, q1, speed_scale=0.5)
    np.testing.assert_allclose(leg.q_rad[[0, -1]], [q0, q1])
    ratio_v = np.abs(leg.qd_rad_s).max(axis=0) / (0.5 * painter6.chain.velocity_rad_s)
    ratio_a = np.abs(leg.qdd_rad_s2).max(axis=0) / (0.5 * painter6.chain.acceleration_rad_s2)
    assert max(ratio_v.max(), ratio_a.max()) == pytest.approx(1.0, abs=1e-9)
    moving = q1 != q0
    lam = (leg.q_rad - q0)[:, moving] / (q1 - q0)[moving]  # one profile: a joint-space line
    np.testing.assert_allclose(lam, np.repeat(lam[:, :1], moving.sum(), axis=1), atol=1e-12)
    assert not leg.trigger.any()


def test_unreachable_station_is_refused_with_the_pose(painter6, accepted) -> None:
    far = AcceptedProgram(**{
        **accepted.__dict__,
        "path": ToolPath(
            accepted.path.T_base_tcp + np.array([[0, 0, 0, 0.9]] * 3 + [[0, 0, 0, 0]]),
            accepted.path.speed_mm_s, accepted.path.trigger,
        ),
    })  # fmt: skip
    with pytest.raises(ProgramRejected) as err:
        compile_plan(painter6, far, painter6.home_rad, CONFIG)
    assert err.value.code is FaultCode.UNREACHABLE
    assert "beyond reach" in err.value.text and "TCP at (" in err.value.text


def _no_run_up(accepted: AcceptedProgram) -> AcceptedProgram:
    ys = [-0.2, 0.2]
    path = ToolPath(
        np.array([tcp_pose(1.0, y, 0.9) for y in ys]), np.array([0.0, 400.0]),
        np.array([False, True]),
    )  # fmt: skip
    return AcceptedProgram(**{**accepted.__dict__, "path": path})


def test_stroke_without_run_up_is_refused_or_warned(painter6, accepted) -> None:
    program = _no_run_up(accepted)
    with pytest.raises(ProgramRejected) as err:
        compile_plan(painter6, program, painter6.home_rad, CONFIG)
    assert err.value.code is FaultCode.SPEED_NOT_ACHIEVABLE
    assert "run-up" in err.value.text and "instead of 400 mm/s" in err.value.text
    lenient = cell_config(limits={"speed_deviation_policy": "warn"})
    plan = compile_plan(painter6, program, painter6.home_rad, lenient)
    assert "speed deviations accepted by policy" in plan.notes[0]


def _on_polyline(points: np.ndarray, x: np.ndarray) -> float:
    a, b = points[:-1], points[1:]
    d = b - a
    f = np.clip(
        np.einsum("ij,ij->i", x - a, d) / np.maximum(np.einsum("ij,ij->i", d, d), 1e-18), 0, 1
    )
    return float(np.min(np.linalg.norm(a + f[:, None] * d - x, axis=1)))


def test_controlled_stop_stays_on_the_path_within_limits(painter6, plan) -> None:
    leg = plan.first_leg
    t_on = leg.spray_events()[0][0]
    tau0 = t_on + 0.3  # in the middle of the first stroke, at full speed
    stop = stop_leg(leg, tau0, painter6.chain)
    assert stop is not None and not stop.trigger.any()
    assert_limits(painter6, stop)
    assert np.abs(stop.qd_rad_s[-1]).max() == 0.0
    speed = np.linalg.norm(np.diff(stop.p_mm, axis=0), axis=1) / np.diff(stop.t_s)
    assert speed[0] > 250.0 and speed[-1] < 0.2 * speed[0]
    assert (np.diff(speed) < 1e-6).all()  # slows down all the way
    for x in stop.p_mm:  # never leaves the commanded path
        assert _on_polyline(leg.p_mm, x) < 1e-6
    assert stop.s_mm[-1] > stop.s_mm[0] and stop.duration_s < 0.5
    assert stop_leg(leg, leg.duration_s + 1.0, painter6.chain) is None


def test_resume_mid_stroke_backs_up_and_sprays_from_where_it_stopped(painter6, plan) -> None:
    leg = plan.first_leg
    t_on = leg.spray_events()[0][0]
    stop = stop_leg(leg, t_on + 0.3, painter6.chain)
    s_painted = float(np.interp(t_on + 0.3, leg.t_s, leg.s_mm))  # gun went off at the pause
    resumed = resume_leg(
        painter6, plan, stop.q_rad[-1], float(stop.s_mm[-1]), s_painted, True, CONFIG
    )
    assert resumed.label == "backup+resume" and resumed.completes_program
    assert (resumed.phase == BACKUP).any()
    np.testing.assert_allclose(resumed.q_rad[0], stop.q_rad[-1], atol=1e-12)
    assert_limits(painter6, resumed)
    backup = resumed.phase == BACKUP
    assert not resumed.trigger[backup].any()
    assert resumed.s_mm[backup].min() < s_painted - 20.0  # ran back far enough to run up
    # the gun comes on again where painting stopped, at full speed
    first_on = int(np.argmax(resumed.trigger))
    assert resumed.s_mm[first_on - 1] == pytest.approx(s_painted, abs=2.5)
    v, v_req = tool_speed_while_spraying(painter6, resumed)
    assert (np.abs(v / v_req - 1.0) <= 0.02).all()
    np.testing.assert_allclose(resumed.q_rad[-1], leg.q_rad[-1], atol=1e-12)


def test_resume_in_a_turnaround_needs_no_backup(painter6, plan) -> None:
    leg = plan.first_leg
    t_ev, on, _ = leg.spray_events()
    stop = stop_leg(leg, t_ev[1] + 0.1, painter6.chain)  # just after the first stroke
    resumed = resume_leg(
        painter6, plan, stop.q_rad[-1], float(stop.s_mm[-1]), float(stop.s_mm[0]), True, CONFIG
    )
    assert resumed.label == "resume" and not (resumed.phase == BACKUP).any()
    assert resumed.spray_events()[1].tolist() == [True, False]  # the second stroke only
    assert_limits(painter6, resumed)


def test_resume_during_the_approach_approaches_again(painter6, plan) -> None:
    leg = plan.first_leg
    stop = stop_leg(leg, 0.4, painter6.chain)
    assert (stop.phase == APPROACH).all()
    resumed = resume_leg(painter6, plan, stop.q_rad[-1], 0.0, 0.0, False, CONFIG)
    assert resumed.label == "approach+program"
    assert resumed.spray_events()[1].tolist() == [True, False, True, False]


def test_stop_starts_now_and_brakes_after_the_lead(painter6, plan) -> None:
    leg = plan.first_leg
    tau_now = leg.spray_events()[0][0] + 0.2
    stop = stop_leg(leg, tau_now, painter6.chain, lead_s=0.05)
    # unchanged for the lead: same positions at the same times as the running leg
    for t in (0.0, 0.02, 0.049):
        k = stop.sample_at(t)
        expected = np.array([np.interp(tau_now + stop.t_s[k], leg.t_s, leg.q_rad[:, j])
                             for j in range(6)])  # fmt: skip
        np.testing.assert_allclose(stop.q_rad[k], expected, atol=1e-9)
    assert_limits(painter6, stop)
    assert np.abs(stop.qd_rad_s[-1]).max() == 0.0 and stop.duration_s > 0.05

"""From an accepted program to legs the driver runs: IK, timing, approach, resume.

:func:`compile_plan` is the slow part of accepting a program: IK along the densified path
in one arm configuration chosen near the robot's current joints (no wrist flips, singularity
margins, joint limits), time-parameterisation with :func:`robot_nodes.timing.time_parameterize`
(tool speed on strokes, joint velocity and acceleration limits, blended turnarounds), and a
joint move from where the robot is to the first waypoint. Failures become
:class:`~robot_nodes.controller.faults.ProgramRejected` with UNREACHABLE, TIMING_FAILED or
SPEED_NOT_ACHIEVABLE.

:func:`resume_leg` continues a paused program: from the stop point to the end, re-timed
from rest; when the next spray stroke would start before the tool is up to speed, the robot
first backs up along the path (gun off) far enough to run up, and the gun comes on exactly
where painting stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recipes.errors import InvalidInputError, UnreachableTargetError
from robot_nodes.controller.config import CellConfig
from robot_nodes.controller.faults import FaultCode, ProgramRejected
from robot_nodes.controller.legs import (
    BACKUP,
    PROGRAM,
    Leg,
    concat_legs,
    joint_move,
    retime_samples,
)
from robot_nodes.controller.validation import AcceptedProgram
from robot_nodes.kinematics import RobotModel
from robot_nodes.timing import TimedTrajectory, TimingOptions, time_parameterize

_AT_START_RAD = 1e-3


@dataclass(frozen=True)
class ExecutionPlan:
    """Everything needed to run one accepted program.

    Attributes
    ----------
    program : AcceptedProgram
    trajectory : TimedTrajectory
        The program path, timed, starting and ending at rest.
    program_leg : Leg
        ``trajectory`` as a leg (phase PROGRAM).
    first_leg : Leg
        Approach from the robot's joints at planning time, then the program.
    path_length_mm : float
        Length of the program path (its path coordinate at the end).
    spray_length_mm : float
        Path length with the gun on.
    timing_options : TimingOptions
    notes : tuple of str
        Warnings (speed deviations when the policy is ``warn``).
    """

    program: AcceptedProgram
    trajectory: TimedTrajectory
    program_leg: Leg
    first_leg: Leg
    path_length_mm: float
    spray_length_mm: float
    timing_options: TimingOptions
    notes: tuple[str, ...] = ()


def _program_leg(traj: TimedTrajectory, speed_mm_s: np.ndarray, n_waypoints: int) -> Leg:
    K = len(traj.t_s)
    waypoint = np.clip(traj.segment - 1, 0, n_waypoints - 1)
    waypoint[-1] = n_waypoints - 1
    return Leg(
        t_s=traj.t_s,
        q_rad=traj.q_rad,
        qd_rad_s=traj.qd_rad_s,
        qdd_rad_s2=traj.qdd_rad_s2,
        p_mm=traj.T_base_tcp[:, :3, 3] * 1000.0,
        s_mm=traj.s_mm,
        trigger=traj.trigger.copy(),
        v_req_mm_s=speed_mm_s[traj.segment],
        waypoint=waypoint,
        phase=np.full(K, PROGRAM),
        completes_program=True,
        label="program",
    )


def timing_options(config: CellConfig) -> TimingOptions:
    return TimingOptions(
        speed_tolerance=config.limits.speed_tolerance,
        max_tool_acc_mm_s2=config.limits.max_tool_acc_mm_s2,
    )


def compile_plan(
    robot: RobotModel,
    program: AcceptedProgram,
    q_now_rad: np.ndarray,
    config: CellConfig,
) -> ExecutionPlan:
    """IK, timing and approach of an accepted program.

    Parameters
    ----------
    robot : RobotModel
    program : AcceptedProgram
    q_now_rad : (6,) array
        Where the robot is; picks the arm configuration and starts the approach.
    config : CellConfig

    Raises
    ------
    ProgramRejected
        UNREACHABLE (IK, joint limits, singularities), TIMING_FAILED, or
        SPEED_NOT_ACHIEVABLE (spray strokes slower than requested beyond the tolerance,
        with policy ``reject``).
    """
    pid = program.program_id
    options = timing_options(config)
    q_now = np.asarray(q_now_rad, dtype=float)
    try:
        traj = time_parameterize(robot, program.path, q_now, options)
    except UnreachableTargetError as exc:
        raise ProgramRejected(FaultCode.UNREACHABLE, f"program '{pid}': {exc}") from None
    except InvalidInputError as exc:
        raise ProgramRejected(FaultCode.TIMING_FAILED, f"program '{pid}': {exc}") from None
    notes: list[str] = []
    if traj.deviations:
        text = "; ".join(str(d) for d in traj.deviations[:3])
        more = len(traj.deviations) - 3
        if more > 0:
            text += f"; and {more} more"
        if config.limits.speed_deviation_policy == "reject":
            raise ProgramRejected(
                FaultCode.SPEED_NOT_ACHIEVABLE,
                f"program '{pid}': spray speed not held within "
                f"{config.limits.speed_tolerance:.0%}: {text}",
            )
        notes.append(f"speed deviations accepted by policy: {text}")
    limit_s = config.limits.max_duration_factor * program.recipe_cycle_s + 10.0
    if not np.isfinite(traj.duration_s) or traj.duration_s > limit_s:
        raise ProgramRejected(
            FaultCode.TIMING_FAILED,
            f"program '{pid}': timed path takes {traj.duration_s:.1f} s, more than "
            f"{limit_s:.1f} s ({config.limits.max_duration_factor:g} x the recipe's "
            f"{program.recipe_cycle_s:.1f} s + 10 s)",
        )
    leg = _program_leg(traj, program.path.speed_mm_s, program.path.n_waypoints)
    first = leg
    if np.max(np.abs(traj.q_rad[0] - q_now)) > _AT_START_RAD:
        approach = joint_move(
            robot.chain,
            q_now,
            traj.q_rad[0],
            speed_scale=config.execution.approach_speed_scale,
        )
        first = concat_legs(approach, leg, label="approach+program")
    on = traj.trigger[1:]
    ds = np.diff(traj.s_mm)
    return ExecutionPlan(
        program=program,
        trajectory=traj,
        program_leg=leg,
        first_leg=first,
        path_length_mm=float(traj.s_mm[-1]),
        spray_length_mm=float(ds[on].sum()),
        timing_options=options,
        notes=tuple(notes),
    )


def _resume_trigger(leg_s: np.ndarray, leg_trigger: np.ndarray, s_painted_mm: float) -> np.ndarray:
    """Gun pattern of the rest of the program: spray only intervals ending beyond s_painted."""
    return leg_trigger & (leg_s > s_painted_mm + 1e-6)


def _forward_samples(plan: ExecutionPlan, s_from: float, q_from: np.ndarray, p_from: np.ndarray):
    """Program samples strictly after ``s_from``, preceded by the point (s_from, q_from)."""
    leg = plan.program_leg
    idx = np.flatnonzero(leg.s_mm > s_from + 1e-6)
    s = np.concatenate([[s_from], leg.s_mm[idx]])
    q = np.vstack([q_from[None], leg.q_rad[idx]])
    p = np.vstack([p_from[None], leg.p_mm[idx]])
    first_wp = leg.waypoint[max(idx[0] - 1, 0)] if len(idx) else leg.waypoint[-1]
    return idx, s, q, p, int(first_wp)


def _first_spray_shortfall(
    retimed_speed: np.ndarray, trigger: np.ndarray, v_req: np.ndarray, tol: float
) -> bool:
    """Whether the first spray stretch runs slower than requested beyond ``tol``."""
    on = trigger[1:]
    if not on.any():
        return False
    first = int(np.argmax(on))
    off_after = np.flatnonzero(~on[first:])
    last = first + (int(off_after[0]) if len(off_after) else len(on) - first)
    v_int = np.minimum(retimed_speed[:-1], retimed_speed[1:])[first:last]
    return bool((v_int < (1.0 - tol) * v_req[1:][first:last]).any())


def resume_leg(
    robot: RobotModel,
    plan: ExecutionPlan,
    q_stop_rad: np.ndarray,
    s_stop_mm: float,
    s_painted_mm: float,
    in_program: bool,
    config: CellConfig,
) -> Leg:
    """The leg that finishes a program after a stop.

    Parameters
    ----------
    robot : RobotModel
    plan : ExecutionPlan
    q_stop_rad : (6,) array
        Where the robot stopped (on the program path when ``in_program``).
    s_stop_mm : float
        Program path coordinate of the stop point.
    s_painted_mm : float
        Everything sprayed before this path coordinate is done; spraying resumes there.
    in_program : bool
        False when the robot stopped during the approach: it then approaches again and runs
        the whole program.
    config : CellConfig

    Raises
    ------
    ProgramRejected
        TIMING_FAILED when the remaining path cannot be timed.
    """
    chain = robot.chain
    leg = plan.program_leg
    q_stop = np.asarray(q_stop_rad, dtype=float)
    exe = config.execution
    if not in_program:
        approach = joint_move(chain, q_stop, leg.q_rad[0], speed_scale=exe.approach_speed_scale)
        return concat_legs(approach, leg, label="approach+program")
    a_tool = plan.timing_options.max_tool_acc_mm_s2
    tol = config.limits.speed_tolerance
    p_stop = chain.fk(q_stop)[:3, 3] * 1000.0
    v_max = float(np.max(leg.v_req_mm_s)) if len(leg) else 0.0
    backup_mm = 0.0
    for attempt in range(5):
        s_from = max(0.0, s_stop_mm - backup_mm)
        if backup_mm > 0:
            back_idx = np.flatnonzero((leg.s_mm < s_stop_mm - 1e-6) & (leg.s_mm > s_from))[::-1]
            k_from = int(np.argmin(np.abs(leg.s_mm - s_from)))
            s_from = float(leg.s_mm[k_from])
            q_from, p_from = leg.q_rad[k_from], leg.p_mm[k_from]
        else:
            q_from, p_from = q_stop, p_stop
        idx, s, q, p, wp0 = _forward_samples(plan, s_from, q_from, p_from)
        if len(idx) == 0:  # stopped at the very end: nothing left to do
            return joint_move(chain, q_stop, q_stop, s_mm=s_stop_mm, label="resume")
        v_req = np.concatenate([[0.0], leg.v_req_mm_s[idx]])
        trigger = _resume_trigger(s, np.concatenate([[False], leg.trigger[idx]]), s_painted_mm)
        corner = np.concatenate([[False], plan.trajectory.corner[idx]])
        try:
            fwd = retime_samples(
                chain, q, p, s, v_req, max_tool_acc_mm_s2=a_tool, corner_candidates=corner
            )
        except InvalidInputError as exc:
            raise ProgramRejected(
                FaultCode.TIMING_FAILED, f"resume at s = {s_stop_mm:.1f} mm: {exc}"
            ) from None
        short = _first_spray_shortfall(fwd.speed_mm_s, trigger, v_req, tol)
        if not short or s_from <= 0.0 or attempt == 4:
            break
        backup_mm = max(2.0 * backup_mm, 1.5 * v_max**2 / (2.0 * a_tool) + 10.0)
    forward = Leg(
        t_s=fwd.t_s,
        q_rad=q,
        qd_rad_s=fwd.qd_rad_s,
        qdd_rad_s2=fwd.qdd_rad_s2,
        p_mm=p,
        s_mm=s,
        trigger=trigger,
        v_req_mm_s=v_req,
        waypoint=np.concatenate([[wp0], leg.waypoint[idx]]),
        phase=np.full(len(s), PROGRAM),
        completes_program=True,
        label="resume",
    )
    if backup_mm <= 0:
        return forward
    # back up from the stop point along the path to s_from (reverse order, gun off)
    s_back = np.concatenate([[s_stop_mm], leg.s_mm[back_idx], [s_from]])
    q_back = np.vstack([q_stop[None], leg.q_rad[back_idx], q_from[None]])
    p_back = np.vstack([p_stop[None], leg.p_mm[back_idx], p_from[None]])
    corner_back = np.concatenate([[False], plan.trajectory.corner[back_idx], [False]])
    keep = np.concatenate([[True], np.abs(np.diff(s_back)) > 1e-6])
    s_back, q_back, p_back = s_back[keep], q_back[keep], p_back[keep]
    if len(s_back) < 2:
        return forward
    u = s_back[0] - s_back  # increasing coordinate along the reverse path
    v_back = np.full(len(u), max(v_max, 1.0))
    back = retime_samples(
        chain, q_back, p_back, u, v_back, max_tool_acc_mm_s2=a_tool,
        corner_candidates=corner_back[keep],
    )  # fmt: skip
    n = len(u)
    backup = Leg(
        t_s=back.t_s,
        q_rad=q_back,
        qd_rad_s=back.qd_rad_s,
        qdd_rad_s2=back.qdd_rad_s2,
        p_mm=p_back,
        s_mm=s_back,
        trigger=np.zeros(n, dtype=bool),
        v_req_mm_s=np.zeros(n),
        waypoint=np.full(n, wp0),
        phase=np.full(n, BACKUP),
        completes_program=False,
        label="backup",
    )
    return concat_legs(backup, forward, label="backup+resume")


__all__ = [
    "ExecutionPlan",
    "compile_plan",
    "resume_leg",
    "timing_options",
]

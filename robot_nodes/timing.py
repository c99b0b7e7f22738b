"""Time-parameterisation of a gun path into a joint trajectory.

Pipeline: :func:`~robot_nodes.toolpath.densify` the Cartesian path, solve IK along it in one
arm configuration (no wrist flips), then assign times along the path coordinate ``s`` by
reachability analysis (TOPP-RA style, on the discretised path):

* path speed at most the requested tool speed of each segment, so on spray segments the
  tool runs exactly at the requested speed wherever the robot can;
* joint velocity and acceleration limits (``|q' sdot| <= v``, ``|q' sddot + q'' sdot^2| <= a``);
* tool acceleration: tangential ``|sddot|`` and centripetal ``kappa sdot^2`` within
  ``max_tool_acc_mm_s2``; with the corner blends of the densifier this gives smooth
  turnarounds;
* start and end at rest.

A backward pass computes, for every sample, the largest squared speed from which the robot
can still stop by the end; a forward pass then accelerates as hard as allowed. The result is
time-optimal for these constraints, so it slows down only where a limit forces it. Spray
intervals that end up more than ``speed_tolerance`` below the request are reported as
:class:`SpeedDeviation` with the limit responsible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from recipes.errors import InvalidInputError
from robot_nodes._reachability import (
    build_bounds,
    path_curvature,
    path_derivatives,
    reachability,
    sharp_corners,
)
from robot_nodes.kinematics.robot import RobotModel
from robot_nodes.toolpath import DensePath, ToolPath, densify


@dataclass(frozen=True)
class TimingOptions:
    """Settings of :func:`time_parameterize`.

    Attributes
    ----------
    step_mm, step_rad, blend_mm, rotation_radius_mm
        Densification, see :func:`robot_nodes.toolpath.densify`.
    max_tool_acc_mm_s2 : float
        Tangential and centripetal TCP acceleration limit.
    speed_tolerance : float
        Relative shortfall on spray intervals that is reported (0.02 = 2 %).
    max_joint_step_rad : float
        Largest joint change between samples before IK reports a jump.
    corner_stop_deg : float
        A waypoint kept sharp by the densifier where the joint-space direction of motion
        (scaled by the velocity limits) turns by more than this is a sharp corner: the robot
        stops there exactly.
    """

    step_mm: float = 2.0
    step_rad: float = math.radians(1.0)
    blend_mm: float = 40.0
    rotation_radius_mm: float = 100.0
    max_tool_acc_mm_s2: float = 5000.0
    speed_tolerance: float = 0.02
    max_joint_step_rad: float = 0.2
    corner_stop_deg: float = 10.0

    def __post_init__(self) -> None:
        if not self.max_tool_acc_mm_s2 > 0:
            raise InvalidInputError("max_tool_acc_mm_s2", "must be > 0")
        if not 0 < self.speed_tolerance < 1:
            raise InvalidInputError("speed_tolerance", "must be within (0, 1)")


@dataclass(frozen=True)
class SpeedDeviation:
    """A spray stretch where the tool runs slower than requested.

    Attributes
    ----------
    segment : int
        Waypoint index i of the segment (ending at waypoint i).
    s_start_mm, s_end_mm : float
        Extent along the path coordinate.
    requested_mm_s : float
    min_speed_mm_s : float
        Lowest speed reached in the stretch.
    limit : str
        What forces it, e.g. ``"joint_1 velocity"``, ``"joint_3 acceleration"``,
        ``"path curvature"``, ``"sharp corner (stop)"`` or acceleration limits around.
    """

    segment: int
    s_start_mm: float
    s_end_mm: float
    requested_mm_s: float
    min_speed_mm_s: float
    limit: str

    def __str__(self) -> str:
        return (
            f"segment {self.segment}: {self.min_speed_mm_s:.0f} mm/s instead of "
            f"{self.requested_mm_s:.0f} mm/s over s = "
            f"{self.s_start_mm:.0f}..{self.s_end_mm:.0f} mm ({self.limit})"
        )


@dataclass(frozen=True)
class TimedTrajectory:
    """A time-parameterised joint trajectory following a gun path.

    Attributes
    ----------
    joint_names : tuple of str
    t_s : (K,) ndarray
        Sample times from 0.
    q_rad, qd_rad_s, qdd_rad_s2 : (K, 6) ndarray
        Joint positions, velocities and accelerations at the samples.
    s_mm : (K,) ndarray
        Path coordinate at the samples.
    speed_mm_s : (K,) ndarray
        Path speed at the samples (TCP speed on translations).
    T_base_tcp : (K, 4, 4) ndarray
        Commanded TCP poses, metres.
    trigger : (K,) bool ndarray
        Gun state on the interval ending at sample k.
    segment : (K,) int ndarray
        Waypoint segment of the interval ending at sample k.
    corner : (K,) bool ndarray
        Sharp corners of the path, where the robot stops.
    deviations : tuple of SpeedDeviation
        Spray stretches slower than requested beyond the tolerance.
    """

    joint_names: tuple[str, ...]
    t_s: np.ndarray
    q_rad: np.ndarray
    qd_rad_s: np.ndarray
    qdd_rad_s2: np.ndarray
    s_mm: np.ndarray
    speed_mm_s: np.ndarray
    T_base_tcp: np.ndarray
    trigger: np.ndarray
    segment: np.ndarray
    corner: np.ndarray
    deviations: tuple[SpeedDeviation, ...] = field(default=())

    @property
    def duration_s(self) -> float:
        """Total time."""
        return float(self.t_s[-1])


def _deviations(
    dense: DensePath,
    speed: np.ndarray,
    x_cap_reason: np.ndarray,
    x_max: np.ndarray,
    joint_names: tuple[str, ...],
    tol: float,
) -> tuple[SpeedDeviation, ...]:
    """Group spray intervals slower than requested and name the limiting constraint."""
    n = len(joint_names)
    v_int = np.minimum(speed[:-1], speed[1:])  # worst end of each interval
    req = dense.speed_mm_s[1:]
    slow = dense.trigger[1:] & (v_int < (1.0 - tol) * req)
    out: list[SpeedDeviation] = []
    k = 0
    K1 = len(slow)
    while k < K1:
        if not slow[k]:
            k += 1
            continue
        seg = int(dense.segment[k + 1])
        j = k
        while j + 1 < K1 and slow[j + 1] and dense.segment[j + 2] == seg:
            j += 1
        samples = np.arange(k, j + 2)
        worst = int(samples[np.argmin(speed[samples])])
        v_worst = float(speed[worst])
        capped = np.sqrt(x_max[worst]) <= v_worst * (1 + 1e-6) + 1e-9
        code = int(x_cap_reason[worst])
        if capped and 0 <= code < n:
            limit = f"{joint_names[code]} velocity"
        elif capped and n <= code < 2 * n:
            limit = f"{joint_names[code - n]} acceleration"
        elif capped and code == 99:
            limit = "path curvature"
        elif capped and code == 98:
            limit = "sharp corner (stop)"
        else:
            limit = "acceleration limits (run-up or slow-down next to the spray segment)"
        out.append(
            SpeedDeviation(
                segment=seg,
                s_start_mm=float(dense.s_mm[k]),
                s_end_mm=float(dense.s_mm[j + 1]),
                requested_mm_s=float(req[k]),
                min_speed_mm_s=float(speed[samples].min()),
                limit=limit,
            )
        )
        k = j + 1
    return tuple(out)


def time_parameterize(
    robot: RobotModel,
    path: ToolPath,
    q_start_rad: np.ndarray | None = None,
    options: TimingOptions | None = None,
) -> TimedTrajectory:
    """Joint trajectory that follows ``path`` at the requested tool speeds within limits.

    Parameters
    ----------
    robot : RobotModel
        Its chain must end at the gun TCP and carry acceleration limits.
    path : ToolPath
        Waypoints in the robot base frame.
    q_start_rad : (6,) array, optional
        Joint position the robot is in (or will be) before the path; selects the arm
        configuration. The robot's home when None.
    options : TimingOptions, optional

    Returns
    -------
    TimedTrajectory
        Starting and ending at rest at the first and last waypoint.

    Raises
    ------
    InvalidInputError
        For a robot without acceleration limits or a malformed path.
    UnreachableTargetError
        When the path leaves the workspace, the joint limits, or crosses a singularity.
    """
    opt = options or TimingOptions()
    chain = robot.chain
    if not np.all(np.isfinite(chain.acceleration_rad_s2)):
        raise InvalidInputError("robot", f"'{robot.name}' has joints without acceleration limits")
    dense = densify(
        path,
        step_mm=opt.step_mm,
        step_rad=opt.step_rad,
        blend_mm=opt.blend_mm,
        rotation_radius_mm=opt.rotation_radius_mm,
    )
    q_ref = robot.home_rad if q_start_rad is None else np.asarray(q_start_rad, dtype=float)
    q = robot.ik.solve_path(
        dense.T_base_tcp, q_ref, max_step_rad=opt.max_joint_step_rad, field="path"
    )
    s = dense.s_mm
    ds = np.diff(s)
    dq, ddq = path_derivatives(q, s)  # per mm
    kappa = path_curvature(dense.T_base_tcp[:, :3, 3] * 1000.0, s)
    v_req = np.minimum(dense.speed_mm_s, np.append(dense.speed_mm_s[1:], dense.speed_mm_s[-1]))
    v_req[0] = dense.speed_mm_s[1]
    corners = sharp_corners(
        q, ds, chain.velocity_rad_s, math.radians(opt.corner_stop_deg), dense.is_waypoint
    )
    bounds = build_bounds(
        dq,
        ddq,
        ds,
        v_req,
        corners,
        kappa,
        chain.velocity_rad_s,
        chain.acceleration_rad_s2,
        opt.max_tool_acc_mm_s2,
    )
    x, u = reachability(bounds, ds)
    speed = np.sqrt(np.maximum(x, 0.0))
    moving = speed[:-1] + speed[1:]
    if not (moving > 0).all():
        k = int(np.argmin(moving))
        raise InvalidInputError(
            "path", f"cannot be traversed at s = {s[k]:.1f} mm (the limits allow no motion there)"
        )
    dt = 2.0 * ds / moving
    t = np.concatenate([[0.0], np.cumsum(dt)])
    u_samples = np.append(u, u[-1])
    qd = dq * speed[:, None]
    qdd = dq * u_samples[:, None] + ddq * x[:, None]
    deviations = _deviations(
        dense, speed, bounds.x_cap_reason, bounds.x_max, chain.joint_names, opt.speed_tolerance
    )
    return TimedTrajectory(
        joint_names=chain.joint_names,
        t_s=t,
        q_rad=q,
        qd_rad_s=qd,
        qdd_rad_s2=qdd,
        s_mm=s,
        speed_mm_s=speed,
        T_base_tcp=dense.T_base_tcp,
        trigger=dense.trigger,
        segment=dense.segment,
        corner=corners,
        deviations=deviations,
    )

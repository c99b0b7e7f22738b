"""Builders for the simulator tests: gun programs on the demo station, run through the
robot as the cell would (IK, time-parameterisation, 250 Hz joint states)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicHermiteSpline

from recipes.program import MOVE, STROKE, Program
from robot_nodes.kinematics import load_painter6
from robot_nodes.timing import time_parameterize
from robot_nodes.toolpath import ToolPath
from sim.frames import PlanarPose, invert

JOINT_STATE_DT_S = 0.004
AXIS_DOWN = np.array([0.0, 0.0, -1.0])
FAN_Y = np.array([0.0, 1.0, 0.0])
#: the door on the demo station, exactly at its nominal place
T_WORLD_DOOR = PlanarPose(0.0, 0.0, 0.0).T_world_part((300.0, 200.0))


@dataclass(frozen=True)
class Waypoint:
    xyz_mm: tuple[float, float, float]
    trigger: bool  # of the segment ending here


@dataclass(frozen=True)
class JointRun:
    """Joint states of a run at 250 Hz with the gun trigger, and the spray windows."""

    t_s: np.ndarray
    q_rad: np.ndarray
    trigger: np.ndarray
    windows: list[tuple[float, float]]


def raster_waypoints(
    ys_mm: list[float], x0_mm: float, x1_mm: float, z_mm: float, lead_mm: float = 60.0
) -> list[Waypoint]:
    """Strokes along x at each y (alternating), gun off on lead-in, lead-out and moves."""
    out: list[Waypoint] = []
    for i, y in enumerate(ys_mm):
        a, b = (x0_mm, x1_mm) if i % 2 == 0 else (x1_mm, x0_mm)
        d = 1.0 if b > a else -1.0
        out += [
            Waypoint((a - d * lead_mm, y, z_mm), False),
            Waypoint((a, y, z_mm), False),
            Waypoint((b, y, z_mm), True),
            Waypoint((b + d * lead_mm, y, z_mm), False),
        ]
    return out


def program_of(waypoints: list[Waypoint], speed_mm_s: float) -> Program:
    """The spraying part of a path as a recipe program (part frame)."""
    rows = []
    for w0, w1 in zip(waypoints[:-1], waypoints[1:], strict=True):
        if w1.trigger:
            rows += [(w0.xyz_mm, False, MOVE), (w1.xyz_mm, True, STROKE)]
    pos = np.array([r[0] for r in rows], dtype=float)
    n = len(rows)
    return Program(
        pos,
        np.tile(AXIS_DOWN, (n, 1)),
        np.tile(FAN_Y, (n, 1)),
        np.full(n, speed_mm_s),
        np.array([r[1] for r in rows]),
        np.array([r[2] for r in rows]),
    )


def run_on_robot(
    waypoints: list[Waypoint], speed_mm_s: float, T_world_base: np.ndarray
) -> JointRun:
    """What the cell would publish: IK and timing of the path (door at its nominal place),
    joint states every 4 ms from the controller's interpolation, the trigger switched
    exactly at the spray windows (the grid is aligned with the first one)."""
    robot = load_painter6()
    y = np.cross(AXIS_DOWN, FAN_Y)
    R = np.column_stack([FAN_Y, y, AXIS_DOWN])
    T_base_part = invert(T_world_base) @ T_WORLD_DOOR
    poses = []
    for w in waypoints:
        T = np.eye(4)
        T[:3, :3] = R
        T[:3, 3] = w.xyz_mm
        T = T_base_part @ T
        T[:3, 3] /= 1000.0
        poses.append(T)
    path = ToolPath(
        np.array(poses),
        np.full(len(waypoints), speed_mm_s),
        np.array([w.trigger for w in waypoints]),
    )
    traj = time_parameterize(robot, path)
    on = traj.trigger.astype(int)
    starts = np.flatnonzero(np.diff(on) == 1)  # sample before the first on-sample
    ends = np.flatnonzero(np.diff(on) == -1)
    windows = [(float(traj.t_s[a]), float(traj.t_s[b])) for a, b in zip(starts, ends, strict=True)]
    t0 = windows[0][0]
    k = np.arange(-int(t0 / JOINT_STATE_DT_S), int((traj.duration_s - t0) / JOINT_STATE_DT_S) + 1)
    t = t0 + JOINT_STATE_DT_S * k
    t = t[(t >= 0.0) & (t <= traj.duration_s)]
    spline = CubicHermiteSpline(traj.t_s, traj.q_rad, traj.qd_rad_s, axis=0)
    trig = np.zeros(len(t), dtype=bool)
    for a, b in windows:
        trig |= (t >= a - 1e-9) & (t < b - 1e-9)
    return JointRun(t, spline(t), trig, windows)

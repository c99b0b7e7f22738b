"""Fixtures of the robot_nodes tests: the painter6 model, gun paths, private DDS domains."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from robot_nodes.bus.domain_ids import lease_domain_id
from robot_nodes.kinematics import RobotModel, load_painter6
from robot_nodes.toolpath import ToolPath

R_GUN_DOWN = np.array([[-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, -1.0]])
"""Gun TCP orientation with the spray axis (+z) pointing down."""


def tcp_pose(x_m: float, y_m: float, z_m: float, R: np.ndarray = R_GUN_DOWN) -> np.ndarray:
    """4x4 TCP pose in the robot base frame."""
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = [x_m, y_m, z_m]
    return T


def stroke_path(
    *,
    x_m: float = 1.0,
    z_m: float = 1.05,
    y_start_m: float = -0.3,
    y_end_m: float = 0.3,
    lead_m: float = 0.1,
    speed_mm_s: float = 500.0,
) -> ToolPath:
    """One straight spray stroke along y with gun-off lead-in and overtravel of ``lead_m``."""
    direction = np.sign(y_end_m - y_start_m)
    ys = [y_start_m - direction * lead_m, y_start_m, y_end_m, y_end_m + direction * lead_m]
    return ToolPath(
        np.array([tcp_pose(x_m, y, z_m) for y in ys]),
        np.array([0.0, speed_mm_s, speed_mm_s, speed_mm_s]),
        np.array([False, False, True, False]),
    )


@pytest.fixture(scope="session")
def painter6() -> RobotModel:
    return load_painter6()


@pytest.fixture
def domain_id() -> Iterator[int]:
    """A DDS domain id of its own for each test, locked against every other test and run on
    this machine until the test ends (:mod:`robot_nodes.bus.domain_ids`)."""
    with lease_domain_id() as lease:
        yield lease.domain_id

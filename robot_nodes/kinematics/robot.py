"""Robot models: a URDF chain with its IK solver, limits and home position."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from robot_nodes.kinematics.chain import SerialChain
from robot_nodes.kinematics.ik import SphericalWristIK
from robot_nodes.kinematics.urdf import load_urdf

URDF_DIR = Path(__file__).resolve().parents[1] / "urdf"
"""Folder of the robot descriptions shipped with robot_nodes."""
PAINTER6_URDF = URDF_DIR / "painter6.urdf"
PAINTER6_JOINT_LIMITS = URDF_DIR / "painter6_joint_limits.yaml"
PAINTER6_HOME_RAD = np.array([0.0, 0.0, 0.0, 0.0, math.pi / 2, 0.0])
"""painter6 home: gun pointing straight down, TCP at (0.95, 0, 1.05) m."""


@dataclass(frozen=True)
class RobotModel:
    """Kinematics of one robot from its base link to its TCP.

    Attributes
    ----------
    name : str
    chain : SerialChain
        ``base_link`` to the TCP link, with all limits.
    ik : SphericalWristIK
    home_rad : (6,) ndarray
    """

    name: str
    chain: SerialChain
    ik: SphericalWristIK
    home_rad: np.ndarray

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Names of the actuated joints, base to tip."""
        return self.chain.joint_names


def load_robot(
    urdf_path: Path,
    limits_yaml: Path | None,
    *,
    base_link: str = "base_link",
    tip_link: str = "gun_tcp",
    home_rad: np.ndarray | None = None,
) -> RobotModel:
    """Robot model from a URDF (and acceleration-limit sidecar) between two links."""
    model = load_urdf(urdf_path, limits_yaml)
    chain = SerialChain.from_urdf(model, base_link, tip_link)
    home = np.zeros(chain.dof) if home_rad is None else np.asarray(home_rad, dtype=float)
    return RobotModel(model.name, chain, SphericalWristIK(chain), home)


@lru_cache(maxsize=4)
def load_painter6(tip_link: str = "gun_tcp") -> RobotModel:
    """The painter6 robot shipped in ``robot_nodes/urdf`` (cached; treat as read-only)."""
    return load_robot(
        PAINTER6_URDF, PAINTER6_JOINT_LIMITS, tip_link=tip_link, home_rad=PAINTER6_HOME_RAD
    )

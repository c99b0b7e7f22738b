"""Poses and frames of the simulated world (millimetres, degrees in names).

World frame: z up, the belt surface at z = 0. A part on the belt is placed by the pose of
its *reference point* (the centre of its outline's bounding box in the part frame): the
point lands at (x_mm, y_mm) and the part frame is turned by theta_deg about world z.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def rot_z(theta_rad: float) -> np.ndarray:
    c, s = math.cos(theta_rad), math.sin(theta_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def rpy_matrix(roll_rad: float, pitch_rad: float, yaw_rad: float) -> np.ndarray:
    """URDF convention: R = Rz(yaw) Ry(pitch) Rx(roll)."""
    cr, sr = math.cos(roll_rad), math.sin(roll_rad)
    cp, sp = math.cos(pitch_rad), math.sin(pitch_rad)
    cy, sy = math.cos(yaw_rad), math.sin(yaw_rad)
    return np.array(
        [
            [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
            [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
            [-sp, cp * sr, cp * cr],
        ]
    )


def transform(R: np.ndarray, t: np.ndarray) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = t
    return T


def invert(T: np.ndarray) -> np.ndarray:
    """Inverse of a rigid 4x4 transform."""
    R = T[:3, :3]
    return transform(R.T, -R.T @ T[:3, 3])


def yaw_deg(T: np.ndarray) -> float:
    """Rotation of a (flat) frame about world z, in (-180, 180]."""
    angle = math.degrees(math.atan2(T[1, 0], T[0, 0]))
    return 180.0 if angle == -180.0 else angle


def apply(T: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, 3) points moved by ``T``."""
    return np.asarray(points, dtype=float) @ T[:3, :3].T + T[:3, 3]


@dataclass(frozen=True)
class PlanarPose:
    """Pose of a part's reference point on a horizontal plane (world frame)."""

    x_mm: float
    y_mm: float
    theta_deg: float
    z_mm: float = 0.0

    def T_world_part(self, reference_xy_mm: tuple[float, float]) -> np.ndarray:
        """(4, 4) pose of the part frame whose reference point is ``reference_xy_mm``."""
        R = rot_z(math.radians(self.theta_deg))
        ref = np.array([reference_xy_mm[0], reference_xy_mm[1], 0.0])
        return transform(R, np.array([self.x_mm, self.y_mm, self.z_mm]) - R @ ref)

    @staticmethod
    def of(T_world_part: np.ndarray, reference_xy_mm: tuple[float, float]) -> PlanarPose:
        p = apply(T_world_part, np.array([[reference_xy_mm[0], reference_xy_mm[1], 0.0]]))[0]
        return PlanarPose(float(p[0]), float(p[1]), yaw_deg(T_world_part), float(p[2]))

    def moved(self, dx_mm: float = 0.0, dy_mm: float = 0.0, dtheta_deg: float = 0.0) -> PlanarPose:
        return PlanarPose(
            self.x_mm + dx_mm, self.y_mm + dy_mm, self.theta_deg + dtheta_deg, self.z_mm
        )

    def to_dict(self) -> dict:
        theta = (self.theta_deg + 180.0) % 360.0 - 180.0
        return dict(x_mm=round(self.x_mm, 4), y_mm=round(self.y_mm, 4), theta_deg=round(theta, 5))


@dataclass(frozen=True)
class BeltFrame:
    """A belt's frame: centreline from ``origin_mm`` (x, y) along ``direction_deg``.

    Belt coordinates: ``s_mm`` along the travel direction from the belt start, ``l_mm``
    to the left of the travel direction; the surface is the world plane z = 0.
    """

    origin_mm: tuple[float, float] = (0.0, 0.0)
    direction_deg: float = 0.0
    width_mm: float = 1000.0
    length_mm: float = 1e9

    @property
    def axis(self) -> np.ndarray:
        a = math.radians(self.direction_deg)
        return np.array([math.cos(a), math.sin(a)])

    @property
    def left(self) -> np.ndarray:
        a = self.axis
        return np.array([-a[1], a[0]])

    def to_belt(self, xy_mm: np.ndarray) -> np.ndarray:
        """(N, 2) belt coordinates (s, l) of world points (N, 2)."""
        d = np.asarray(xy_mm, dtype=float) - np.asarray(self.origin_mm)
        return np.column_stack([d @ self.axis, d @ self.left])

    def to_world(self, s_mm: float, l_mm: float) -> np.ndarray:
        """(2,) world xy of belt coordinates."""
        return np.asarray(self.origin_mm) + s_mm * self.axis + l_mm * self.left

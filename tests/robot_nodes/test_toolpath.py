"""Tool paths and their densification."""

import math

import numpy as np
import pytest

from recipes.errors import InvalidInputError
from robot_nodes.toolpath import ToolPath, densify

from .conftest import R_GUN_DOWN, stroke_path, tcp_pose


def test_densify_keeps_waypoints_and_step() -> None:
    dense = densify(stroke_path(lead_m=0.1), step_mm=2.0)
    p = dense.T_base_tcp[:, :3, 3]
    steps_mm = np.linalg.norm(np.diff(p, axis=0), axis=1) * 1000
    assert steps_mm.max() <= 2.0 + 1e-9
    assert len(dense.s_mm) == 1 + 50 + 300 + 50
    assert dense.s_mm[-1] == pytest.approx(800.0)
    np.testing.assert_allclose(p[dense.is_waypoint, 1], [-0.4, -0.3, 0.3, 0.4], atol=1e-12)
    assert dense.trigger.sum() == 300 and (dense.speed_mm_s[1:] == 500.0).all()
    assert dense.segment[1:51].tolist() == [1] * 50 and dense.segment[-1] == 3


def test_pure_reorientation_gets_path_length() -> None:
    R_tilted = R_GUN_DOWN @ np.array(
        [[math.cos(0.5), -math.sin(0.5), 0], [math.sin(0.5), math.cos(0.5), 0], [0, 0, 1]]
    )
    path = ToolPath(
        np.array([tcp_pose(1.0, 0.0, 1.0), tcp_pose(1.0, 0.0, 1.0, R_tilted)]),
        np.array([0.0, 100.0]),
        np.array([False, False]),
    )
    dense = densify(path, rotation_radius_mm=100.0, step_rad=math.radians(1.0))
    assert dense.s_mm[-1] == pytest.approx(50.0)  # 0.5 rad x 100 mm/rad
    assert len(dense.s_mm) == 1 + math.ceil(math.degrees(0.5))


def test_blend_only_between_gun_off_segments() -> None:
    W = [tcp_pose(1.0, -0.3, 1.0), tcp_pose(1.0, 0.3, 1.0), tcp_pose(0.9, 0.3, 1.0),
         tcp_pose(0.9, -0.3, 1.0)]  # fmt: skip
    on_off_on = ToolPath(np.array(W), np.full(4, 300.0), np.array([False, True, False, True]))
    dense = densify(on_off_on, blend_mm=40.0)
    assert dense.is_waypoint.sum() == 4  # corners touch spray strokes: kept sharp
    all_off = ToolPath(np.array(W), np.full(4, 300.0), np.zeros(4, dtype=bool))
    dense = densify(all_off, blend_mm=40.0)
    assert dense.is_waypoint.sum() == 2  # both corners rounded
    xy = dense.T_base_tcp[:, :2, 3]
    d_corner_mm = np.linalg.norm(xy - [1.0, 0.3], axis=1).min() * 1000
    assert 40 * (1 - math.sqrt(0.5)) * 0.9 < d_corner_mm < 40.0  # Bezier midpoint at d/2 * sqrt 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"trigger": np.array([True, False])}, "trigger[0]"),
        ({"speed_mm_s": np.array([0.0, 0.0])}, "speed_mm_s[1]"),
        ({"speed_mm_s": np.array([0.0, 1.0, 2.0])}, "speed_mm_s"),
    ],
)
def test_tool_path_validation(kwargs: dict, field: str) -> None:
    args = {
        "T_base_tcp": np.array([tcp_pose(1, 0, 1), tcp_pose(1, 0.1, 1)]),
        "speed_mm_s": np.array([0.0, 100.0]),
        "trigger": np.array([False, True]),
    }
    args.update(kwargs)
    with pytest.raises(InvalidInputError) as info:
        ToolPath(**args)
    assert info.value.field == field


def test_non_rotation_is_refused() -> None:
    bad = tcp_pose(1, 0, 1)
    bad[:3, :3] *= 2.0
    with pytest.raises(InvalidInputError, match="not orthonormal"):
        ToolPath(np.array([tcp_pose(1, 0, 1), bad]), np.array([0.0, 1.0]), np.zeros(2, bool))


def test_blend_then_straight_run_to_a_sharp_corner() -> None:
    """A 20 mm gun-off segment (10 mm blend), then 38 mm gun-off into a spray stroke: the
    straight part runs from 10/38 to exactly 1, where rounding of t0 + (1 - t0) k / n once
    gave 1 + 2e-16 and the interpolation refused it."""
    W = [tcp_pose(1.0, 0.0, 1.0), tcp_pose(1.02, 0.0, 1.0), tcp_pose(1.02, 0.038, 1.0),
         tcp_pose(1.12, 0.038, 1.0)]  # fmt: skip
    path = ToolPath(np.array(W), np.full(4, 300.0), np.array([False, False, False, True]))
    dense = densify(path, step_mm=2.0, blend_mm=40.0)
    p = dense.T_base_tcp[:, :3, 3]
    np.testing.assert_allclose(p[dense.is_waypoint], [W[0][:3, 3], W[2][:3, 3], W[3][:3, 3]])
    assert (np.linalg.norm(np.diff(p, axis=0), axis=1) * 1000 <= 2.0 + 1e-9).all()
    R = dense.T_base_tcp[:, :3, :3]
    np.testing.assert_allclose(R @ R.transpose(0, 2, 1), np.broadcast_to(np.eye(3), R.shape),
                               atol=1e-12)  # fmt: skip


def test_orientation_is_slerped_along_segments_and_blends() -> None:
    """Batched slerp: the angle to the start grows linearly along a straight segment, and a
    blend between two turning gun-off segments turns the tool monotonically."""
    from scipy.spatial.transform import Rotation

    R0 = R_GUN_DOWN
    R1 = Rotation.from_rotvec([0.0, 0.0, 0.8]).as_matrix() @ R_GUN_DOWN
    R2 = Rotation.from_rotvec([0.0, 0.0, 1.6]).as_matrix() @ R_GUN_DOWN
    W = [tcp_pose(1.0, -0.2, 1.0, R0), tcp_pose(1.0, 0.0, 1.0, R1), tcp_pose(0.9, 0.0, 1.0, R2)]
    dense = densify(ToolPath(np.array(W), np.full(3, 200.0), np.zeros(3, bool)), blend_mm=40.0)
    R = dense.T_base_tcp[:, :3, :3]
    yaw = Rotation.from_matrix(R @ R0.T).as_rotvec()[:, 2]
    assert (np.diff(yaw) > 0).all() and yaw[-1] == pytest.approx(1.6)
    first = dense.segment == 1  # straight part of the first segment, before its blend
    y = dense.T_base_tcp[first, 1, 3]
    np.testing.assert_allclose(yaw[first], 0.8 * (y + 0.2) / 0.2, atol=1e-12)

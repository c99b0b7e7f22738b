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

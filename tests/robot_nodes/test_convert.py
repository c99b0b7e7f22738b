"""Messages to and from arrays."""

import numpy as np
import pytest
from rosbags.typesys import Stores, get_typestore
from scipy.spatial.transform import Rotation

from recipes.errors import InvalidInputError
from robot_nodes.bus.dds_types import get_type
from robot_nodes.convert import (
    joint_positions,
    joint_state_msg,
    joint_trajectory_msg,
    matrix_to_pose,
    pose_to_matrix,
    spray_program_msg,
    stamp_to_ns,
    time_msg,
    tool_path_from_program,
)
from robot_nodes.kinematics import RobotModel
from robot_nodes.timing import time_parameterize

from .conftest import stroke_path


def test_pose_round_trip() -> None:
    rng = np.random.default_rng(11)
    for R in Rotation.random(20, random_state=rng).as_matrix():
        T = np.eye(4)
        T[:3, :3] = R
        T[:3, 3] = rng.normal(size=3)
        np.testing.assert_allclose(pose_to_matrix(matrix_to_pose(get_type, T)), T, atol=1e-12)


def test_time_messages() -> None:
    stamp = time_msg(get_type, 1_700_000_000_123_456_789)
    assert (stamp.sec, stamp.nanosec) == (1_700_000_000, 123_456_789)
    assert stamp_to_ns(stamp) == 1_700_000_000_123_456_789
    duration = time_msg(get_type, 2_500_000_000, "builtin_interfaces/msg/Duration")
    assert type(duration).__qualname__ == "builtin_interfaces.msg.Duration"


def program(**overrides):
    fields = dict(
        program_id="p1", recipe_id="r", recipe_version=2, recipe_hash="ab" * 32,
        signature=bytes(range(64)), frame_id="base_link",
    )  # fmt: skip
    fields.update(overrides)
    return spray_program_msg(get_type, stroke_path(speed_mm_s=420.0), **fields)


def test_spray_program_round_trip() -> None:
    msg = program()
    assert msg.header.frame_id == msg.frame_id == "base_link"
    assert bytes(msg.signature) == bytes(range(64))
    path = tool_path_from_program(msg, expected_frame="base_link")
    expected = stroke_path(speed_mm_s=420.0)
    np.testing.assert_allclose(path.T_base_tcp, expected.T_base_tcp, atol=1e-12)
    assert path.speed_mm_s.tolist() == [0.0, 420.0, 420.0, 420.0]
    assert path.trigger.tolist() == [False, False, True, False]


def test_spray_program_errors_name_the_field() -> None:
    msg = program()
    msg.trigger = msg.trigger[:-1]
    with pytest.raises(InvalidInputError) as info:
        tool_path_from_program(msg)
    assert info.value.field == "SprayProgram 'p1'.trigger"
    assert info.value.reason == "has 3 entries for 4 waypoints"
    with pytest.raises(InvalidInputError, match="'tool0', the cell plans in 'base_link'"):
        tool_path_from_program(program(frame_id="tool0"), expected_frame="base_link")
    msg = program()
    msg.waypoints[2].orientation.w = 3.0
    with pytest.raises(InvalidInputError, match=r"waypoints\[2\].orientation"):
        tool_path_from_program(msg)
    msg = program()
    msg.trigger[0] = True
    with pytest.raises(InvalidInputError, match=r"'p1'.trigger\[0\]"):
        tool_path_from_program(msg)


def test_joint_trajectory_message(painter6: RobotModel) -> None:
    traj = time_parameterize(painter6, stroke_path())
    msg = joint_trajectory_msg(get_type, traj, frame_id="base_link")
    assert msg.joint_names == [f"joint_{i}" for i in range(1, 7)]
    assert len(msg.points) == len(traj.t_s)
    last = msg.points[-1]
    assert stamp_to_ns(last.time_from_start) == round(traj.duration_s * 1e9)
    times = [stamp_to_ns(p.time_from_start) for p in msg.points]
    assert times == sorted(times) and len(set(times)) == len(times)
    np.testing.assert_array_equal(msg.points[100].positions, traj.q_rad[100])
    np.testing.assert_array_equal(msg.points[100].accelerations, traj.qdd_rad_s2[100])
    # what goes on the wire reads back the same with an independent ROS 2 deserialiser
    typestore = get_typestore(Stores.ROS2_JAZZY)
    back = typestore.deserialize_cdr(msg.serialize(), "trajectory_msgs/msg/JointTrajectory")
    np.testing.assert_array_equal(back.points[100].velocities, traj.qd_rad_s[100])
    assert back.header.frame_id == "base_link"


def test_joint_state_message_and_lookup() -> None:
    msg = joint_state_msg(get_type, ["b", "a"], np.array([2.0, 1.0]), stamp_ns=5)
    assert (msg.name, msg.position, msg.velocity) == (["b", "a"], [2.0, 1.0], [])
    assert joint_positions(msg, ["a", "b"]).tolist() == [1.0, 2.0]
    with pytest.raises(InvalidInputError, match="lacks c"):
        joint_positions(msg, ["a", "c"])

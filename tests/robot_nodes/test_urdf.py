"""URDF reading and the painter6 description."""

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from recipes.errors import InvalidInputError, NotFoundError
from robot_nodes.kinematics import (
    PAINTER6_JOINT_LIMITS,
    PAINTER6_URDF,
    load_joint_limits_yaml,
    load_urdf,
    parse_urdf,
    rpy_to_matrix,
)

JOINTS = [f"joint_{i}" for i in range(1, 7)]


def test_painter6_joints_and_limits() -> None:
    model = load_urdf(PAINTER6_URDF, PAINTER6_JOINT_LIMITS)
    assert model.name == "painter6"
    assert model.root_link == "base_link"
    revolute = [j for j in model.joints if j.type == "revolute"]
    assert [j.name for j in revolute] == JOINTS
    j1, j5, j6 = model.joint("joint_1"), model.joint("joint_5"), model.joint("joint_6")
    assert (j1.limits.lower, j1.limits.upper) == (-2.9671, 2.9671)
    assert (j1.limits.velocity, j1.limits.acceleration) == (2.27, 6.0)
    assert (j5.limits.lower, j5.limits.acceleration) == (-2.1817, 25.0)
    assert j6.limits.upper - j6.limits.lower > 2 * math.pi  # wide-range wrist roll
    np.testing.assert_allclose(model.joint("joint_2").T_parent_joint[:3, 3], [0.15, 0.0, 0.30])
    np.testing.assert_allclose(model.joint("joint_4").axis, [1.0, 0.0, 0.0])


def test_chain_from_base_to_gun_tcp_in_order() -> None:
    model = load_urdf(PAINTER6_URDF)
    chain = model.chain("base_link", "gun_tcp")
    assert [j.name for j in chain] == [*JOINTS, "joint_6-tool0", "tool0-gun", "gun-gun_tcp"]
    assert model.joint("joint_1").limits.acceleration is None  # no sidecar given
    with pytest.raises(InvalidInputError, match="is not below"):
        model.chain("tool0", "base_link")
    with pytest.raises(NotFoundError, match="link 'flange' not found"):
        model.chain("base_link", "flange")


def test_joint_limits_yaml_reads_accelerations() -> None:
    acc = load_joint_limits_yaml(PAINTER6_JOINT_LIMITS)
    assert acc == {
        "joint_1": 6.0, "joint_2": 6.0, "joint_3": 8.0,
        "joint_4": 25.0, "joint_5": 25.0, "joint_6": 30.0,
    }  # fmt: skip
    model = load_urdf(PAINTER6_URDF)
    with pytest.raises(NotFoundError, match="joint 'joint_7'"):
        model.with_acceleration_limits({"joint_7": 1.0})
    with pytest.raises(InvalidInputError, match="max_acceleration"):
        model.with_acceleration_limits({"joint_1": 0.0})


@pytest.mark.parametrize("rpy", [(0.0, 0.0, 0.0), (0.3, -0.2, 1.1), (math.pi / 2, 0.4, -2.5)])
def test_rpy_is_fixed_axis_xyz(rpy: tuple[float, float, float]) -> None:
    expected = Rotation.from_euler("xyz", rpy).as_matrix()  # extrinsic x, y, z
    np.testing.assert_allclose(rpy_to_matrix(np.array(rpy)), expected, atol=1e-15)


BASE = '<robot name="r"><link name="a"/><link name="b"/>{joint}</robot>'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<robot", "not valid XML"),
        ("<model/>", "not <robot>"),
        (
            BASE.format(joint='<joint name="j" type="revolute"><parent link="a"/>'
                        '<child link="b"/></joint>'),
            "needs a <limit>",
        ),
        (
            BASE.format(joint='<joint name="j" type="fixed"><parent link="a"/>'
                        '<child link="c"/></joint>'),
            "unknown link 'c'",
        ),
        (
            BASE.format(joint='<joint name="j" type="revolute"><parent link="a"/>'
                        '<child link="b"/><limit lower="1" upper="0" velocity="1"/></joint>'),
            "lower 1.0 > upper 0.0",
        ),
        (
            BASE.format(joint='<joint name="j" type="fixed"><parent link="a"/><child link="b"/>'
                        '<origin xyz="0 0"/></joint>'),
            "joint 'j'.origin.xyz",
        ),
    ],
)  # fmt: skip
def test_malformed_urdf_is_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_urdf(text, source="test.urdf")

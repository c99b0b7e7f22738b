"""The robot in PyBullet: tool pose against robot_nodes' kinematics, collisions."""

from __future__ import annotations

import numpy as np
import pytest

from robot_nodes.kinematics import load_painter6
from sim.frames import PlanarPose
from sim.robot import RobotSim


@pytest.fixture(scope="module")
def robot(demo_cell):
    with RobotSim.for_cell(demo_cell) as sim:
        yield sim


@pytest.fixture(scope="module")
def painter6():
    return load_painter6()


def test_tool_pose_agrees_with_robot_nodes_fk(robot, demo_cell, painter6) -> None:
    rng = np.random.default_rng(2)
    chain = painter6.chain
    q = rng.uniform(chain.lower_rad, chain.upper_rad, size=(300, 6))
    T_sim = robot.pybullet_tool_poses(q)
    T_base_tcp = chain.fk(q)
    T_base_tcp[:, :3, 3] *= 1000.0
    T_ref = np.einsum("ij,njk->nik", demo_cell.T_world_base, T_base_tcp)
    assert np.abs(T_sim[:, :3, 3] - T_ref[:, :3, 3]).max() < 0.01  # mm
    assert np.abs(T_sim[:, :3, :3] - T_ref[:, :3, :3]).max() < 1e-5
    # one pose at a time, and the batch left the robot where it was
    robot.set_joint_positions(q[7])
    np.testing.assert_allclose(robot.tool_pose(), T_ref[7], atol=1e-5)
    robot.tool_poses(q[:5])
    np.testing.assert_allclose(robot.joint_positions(), q[7])
    np.testing.assert_allclose(robot.tool_pose(), T_ref[7], atol=1e-5)


def test_batch_tool_poses_are_pybullets_forward_kinematics(robot, painter6) -> None:
    rng = np.random.default_rng(5)
    chain = painter6.chain
    q = rng.uniform(chain.lower_rad, chain.upper_rad, size=(500, 6))
    T_batch, T_bullet = robot.tool_poses(q), robot.pybullet_tool_poses(q)
    assert np.abs(T_batch[:, :3, 3] - T_bullet[:, :3, 3]).max() < 1e-3  # mm
    assert np.abs(T_batch[:, :3, :3] - T_bullet[:, :3, :3]).max() < 1e-5
    np.testing.assert_array_equal(T_batch[:, 3], np.tile([0.0, 0.0, 0.0, 1.0], (500, 1)))


def test_joint_names_and_limits_come_from_the_urdf(robot, painter6) -> None:
    assert robot.joint_names == painter6.joint_names
    np.testing.assert_allclose(robot.lower_rad, painter6.chain.lower_rad)
    np.testing.assert_allclose(robot.velocity_rad_s, painter6.chain.velocity_rad_s)
    assert robot.clock.step_s == pytest.approx(0.004)


def test_home_is_clear_of_booth_and_belt(robot, painter6) -> None:
    robot.set_joint_positions(painter6.home_rad)
    assert robot.contacts(margin_mm=100.0) == []
    assert robot.collision() is None
    tcp = robot.tool_pose()[:3, 3]
    np.testing.assert_allclose(tcp, [0.0, -1000.0 + 950.0, -500.0 + 1050.0], atol=1e-3)


def test_a_link_driven_into_the_booth_floor_is_found(robot, painter6) -> None:
    # turned along the booth (joint 1 at 90 deg, away from the belt) and bent to the floor
    q = np.array([np.radians(90.0), 1.2, 0.6, 0.0, 0.6, 0.0])
    robot.set_joint_positions(q)
    assert robot.collision() == ("gun", "booth_floor")
    found = {(c.link, c.obstacle): c.distance_mm for c in robot.contacts()}
    assert set(found) == {("gun", "booth_floor"), ("link_5", "booth_floor")}
    # the gun's TCP is 185 mm below the floor (z = -500); its body goes in ~190 mm
    assert robot.tool_pose()[2, 3] == pytest.approx(-685.0, abs=1.0)
    assert found[("gun", "booth_floor")] == pytest.approx(-190.0, abs=5.0)
    # lifted clear again
    robot.set_joint_positions(np.array([np.radians(90.0), 0.3, 0.6, 0.0, 0.6, 0.0]))
    assert robot.collision() is None


def test_the_gun_touching_the_part_is_found(robot, painter6, door) -> None:
    robot.set_joint_positions(painter6.home_rad)
    tcp = robot.tool_pose()[:3, 3]
    # a door laid so that the gun tip (TCP 30 mm beyond the gun body) pokes 5 mm into it
    gun_tip_z = tcp[2] + 30.0
    pose = PlanarPose(tcp[0], tcp[1], 0.0, gun_tip_z + 5.0 - door.thickness_mm)
    robot.set_part("part", door, pose.T_world_part((300.0, 200.0)))
    try:
        assert robot.collision() == ("gun", "part")
        # Bullet's collision margins make distances conservative by up to 2 mm
        assert -7.5 <= robot.contacts()[0].distance_mm <= -5.0
    finally:
        robot.remove("part")
    assert robot.collision() is None

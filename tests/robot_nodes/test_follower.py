"""sim.follower: trajectory interpolation and first-order tracking, without a bus."""

from __future__ import annotations

import math

import numpy as np
import pytest

from robot_nodes.bus import dds_types
from sim.follower import PAINTER6_HOME, PAINTER6_JOINTS, TrajectoryFollower

NAMES = ("a", "b")


def test_holds_its_position_without_a_trajectory() -> None:
    f = TrajectoryFollower(NAMES, [0.1, 0.2], tau_s=0.02)
    for t in np.arange(0.0, 0.1, 0.004):
        q, qd = f.step(t)
    np.testing.assert_allclose(q, [0.1, 0.2])
    np.testing.assert_allclose(qd, 0.0)
    assert not f.active


def test_first_order_lag_on_a_step() -> None:
    tau = 0.02
    f = TrajectoryFollower(NAMES, [0.0, 0.0], tau_s=tau)
    f.set_trajectory([0.0], np.array([[1.0, -1.0]]), None, start_s=0.0)
    f.step(0.0)
    for t in np.arange(0.004, 0.1001, 0.004):
        q, _ = f.step(t)
        expected = 1.0 - math.exp(-t / tau)
        np.testing.assert_allclose(q, [expected, -expected], rtol=1e-9)


def test_cubic_hermite_interpolation_through_positions_and_velocities() -> None:
    f = TrajectoryFollower(NAMES, [0.0, 0.0], tau_s=0.0)
    t = np.array([0.0, 1.0])
    pos = np.array([[0.0, 0.0], [1.0, 2.0]])
    vel = np.array([[0.0, 0.0], [0.0, 0.0]])
    f.set_trajectory(t, pos, vel, start_s=10.0)
    np.testing.assert_allclose(f.reference(10.5), [0.5, 1.0])
    np.testing.assert_allclose(f.reference(10.25), [0.15625, 0.3125])  # 3u^2 - 2u^3
    f2 = TrajectoryFollower(NAMES, [0.0, 0.0], tau_s=0.0)
    f2.set_trajectory(t, pos, None, start_s=10.0)
    np.testing.assert_allclose(f2.reference(10.25), [0.25, 0.5])  # linear without velocities
    np.testing.assert_allclose(f.reference(20.0), [1.0, 2.0])


def test_a_new_trajectory_takes_over_at_its_start_time() -> None:
    f = TrajectoryFollower(NAMES, [0.0, 0.0], tau_s=0.0)
    f.set_trajectory([0.0, 1.0], np.array([[0.0, 0.0], [1.0, 1.0]]), None, start_s=0.0)
    f.step(0.0)
    f.set_trajectory([0.0, 1.0], np.array([[0.5, 0.5], [0.0, 0.0]]), None, start_s=0.5)
    q, _ = f.step(0.4)  # still the first trajectory
    np.testing.assert_allclose(q, [0.4, 0.4])
    q, _ = f.step(0.75)
    np.testing.assert_allclose(q, [0.375, 0.375])
    q, _ = f.step(3.0)  # finished: holds the last point
    np.testing.assert_allclose(q, [0.0, 0.0])
    assert not f.active


def test_first_point_later_than_zero_starts_from_the_reference() -> None:
    f = TrajectoryFollower(NAMES, [0.0, 0.0], tau_s=0.0)
    f.set_trajectory([1.0], np.array([[2.0, 2.0]]), None, start_s=0.0)
    np.testing.assert_allclose(f.reference(0.5), [1.0, 1.0])


def test_empty_trajectory_stops_and_holds() -> None:
    f = TrajectoryFollower(NAMES, [0.0, 0.0], tau_s=0.0)
    f.set_trajectory([0.0, 1.0], np.array([[0.0, 0.0], [1.0, 1.0]]), None, start_s=0.0)
    f.step(0.3)
    f.set_trajectory([], np.zeros((0, 2)), None, start_s=0.3)
    q, _ = f.step(0.9)
    np.testing.assert_allclose(q, [0.3, 0.3])


def test_fault_injection() -> None:
    f = TrajectoryFollower(NAMES, [0.0, 0.0], tau_s=0.0)
    f.set_trajectory([0.0, 1.0], np.array([[0.0, 0.0], [1.0, 1.0]]), None, start_s=0.0)
    f.step(0.0)
    f.frozen = True
    q, qd = f.step(0.5)
    np.testing.assert_allclose(q, 0.0) and np.testing.assert_allclose(qd, 0.0)
    f.frozen = False
    f.offset[1] = 0.1
    q, _ = f.step(0.6)
    np.testing.assert_allclose(q, [0.6, 0.7])


def test_joint_trajectory_message_in_any_joint_order() -> None:
    Traj = dds_types.get_type("trajectory_msgs/msg/JointTrajectory")
    Point = dds_types.get_type("trajectory_msgs/msg/JointTrajectoryPoint")
    Duration = dds_types.get_type("builtin_interfaces/msg/Duration")
    names = list(reversed(PAINTER6_JOINTS))
    target = np.array(PAINTER6_HOME) + 0.1 * np.arange(6)
    msg = Traj(
        joint_names=names,
        points=[
            Point(positions=list(PAINTER6_HOME[::-1]), velocities=[0.0] * 6,
                  time_from_start=Duration(sec=0, nanosec=0)),
            Point(positions=list(target[::-1]), velocities=[0.0] * 6,
                  time_from_start=Duration(sec=0, nanosec=500_000_000)),
        ],
    )  # fmt: skip
    f = TrajectoryFollower(PAINTER6_JOINTS, PAINTER6_HOME, tau_s=0.0)
    f.set_from_message(msg, now_s=100.0)
    np.testing.assert_allclose(f.reference(100.5), target)
    stamped = Traj(joint_names=names, points=msg.points)
    stamped.header.stamp.sec = 2  # starts 2 s after clock_ns = 0 -> at now + 2
    f.set_from_message(stamped, now_s=100.0, clock_ns=0)
    np.testing.assert_allclose(f.reference(101.0), target)  # the first one still runs
    with pytest.raises(ValueError, match="lacks joints"):
        f.set_from_message(Traj(joint_names=["x"], points=msg.points[:1]), now_s=0.0)

"""When a joint state was measured: ``NodeClock.measured_s`` on the host clock and on sim time,
and what dating by the stamp does for a controller that handles joint states late."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from robot_nodes.controller import CellMode
from robot_nodes.fake_driver import FakeDriver
from robot_nodes.kinematics import RobotModel
from robot_nodes.node_time import HOST_STAMP_MAX_AGE_S, MEASUREMENT_WINDOW_S, NodeClock

from .cell_factories import program_msg
from .test_cell_controller import STROKE_MM, T0_NS
from .test_cell_sim_time import DOC, _controller

WALL0_NS = 1_800_000_000_000_000_000  # the wall clock when the monotonic clock reads 0
STEP_S = 0.004  # joint states at 250 Hz


def stamp(ns: int) -> SimpleNamespace:
    return SimpleNamespace(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


class HostClocks:
    """A monotonic clock and the wall clock of the same host, set by the test."""

    def __init__(self) -> None:
        self.now_s = 0.0

    def monotonic(self) -> float:
        return self.now_s

    def wall_ns(self) -> int:
        return WALL0_NS + round(self.now_s * 1e9)

    def wall_at(self, t_s: float) -> int:
        return WALL0_NS + round(t_s * 1e9)


def host_clock() -> tuple[NodeClock, HostClocks]:
    clocks = HostClocks()
    bus = SimpleNamespace(now_ns=lambda: 0)  # not read on the host clock
    clock = NodeClock(bus, sim_time=False, clock=clocks.monotonic, wall_clock=clocks.wall_ns)
    return clock, clocks


@pytest.mark.parametrize("age_s", [0.0, 0.004, 0.03, HOST_STAMP_MAX_AGE_S])
def test_host_clock_dates_a_joint_state_by_its_wall_clock_stamp(age_s: float) -> None:
    clock, clocks = host_clock()
    clocks.now_s = 10.0
    measured = clock.measured_s(stamp(clocks.wall_at(10.0 - age_s)), 10.0)
    assert measured == pytest.approx(10.0 - age_s, abs=1e-9)


@pytest.mark.parametrize(
    ("stamp_t_s", "why"),
    [
        (10.0 + 0.002, "in the future: another clock, or the wall clock stepped back"),
        (10.0 - HOST_STAMP_MAX_AGE_S - 0.001, "older than the bound: stale or another clock"),
        (-WALL0_NS / 1e9, "zero: not stamped"),
        (10.0 - 3600.0, "an hour behind: an unsynchronised driver"),
    ],
)
def test_host_clock_dates_an_implausible_stamp_on_receipt(stamp_t_s: float, why: str) -> None:
    clock, clocks = host_clock()
    clocks.now_s = 10.0
    assert clock.measured_s(stamp(max(clocks.wall_at(stamp_t_s), 0)), 10.0) is None, why


def test_host_clock_dates_never_go_back() -> None:
    """A joint state dated on receipt, then one whose (plausible) stamp is earlier than that:
    the second is dated with the first, so the monitor's time runs forward."""
    clock, clocks = host_clock()
    clocks.now_s = 5.0
    assert clock.measured_s(stamp(clocks.wall_at(4.7)), 5.0) is None  # 0.3 s old: receipt
    clocks.now_s = 5.01
    assert clock.measured_s(stamp(clocks.wall_at(4.8)), 5.01) == pytest.approx(5.0)
    clocks.now_s = 5.02
    assert clock.measured_s(stamp(clocks.wall_at(5.015)), 5.02) == pytest.approx(5.015)


def test_sim_time_dates_by_the_sim_stamp_within_the_window() -> None:
    bus = SimpleNamespace(now_ns=lambda: 12_000_000_000)
    clock = NodeClock(bus, sim_time=True)
    assert clock.measured_s(stamp(11_992_000_000), 12.0) == pytest.approx(11.992)
    assert clock.measured_s(stamp(0), 12.0) is None
    late = round((12.0 - MEASUREMENT_WINDOW_S - 0.01) * 1e9)
    assert clock.measured_s(stamp(late), 12.0) is None


def run_with_stalls(
    robot: RobotModel, phase_s: float, *, dated: bool
) -> tuple[float, float, list[float]]:
    """The two-stroke program on the fake driver, its joint states (stamped with the host's
    wall clock when measured) handled by a controller that stalls for 80 ms every 250 ms
    (a loaded machine) and then takes the queue at once, dated through ``NodeClock`` on the
    host clock (``dated``) or on receipt. Returns spray length, spray time and the lag
    estimates while the gun is on."""
    driver = FakeDriver(robot.joint_names, robot.home_rad, lag_tau_s=0.02)
    ctl = _controller(robot, driver)
    t = driver.run(ctl, 0.0, 0.05, tick_period_s=STEP_S)
    ctl.on_program(program_msg(DOC, stamp_ns=T0_NS), t)
    clock, clocks = host_clock()
    queue: list[tuple[int, np.ndarray]] = []
    lags: list[float] = []
    for k in range(1, 5000):
        now = t + k * STEP_S
        clocks.now_s = driver.now_s = now
        queue.append((clocks.wall_at(now), driver.step(now)))
        if (now - phase_s) % 0.25 >= 0.08:
            for wall_ns, q in queue:
                measured = clock.measured_s(stamp(wall_ns), now) if dated else None
                ctl.on_joint_state(robot.joint_names, q, now, measured_s=measured)
            queue.clear()
        ctl.tick(now)
        monitor = ctl.runner.monitor
        if monitor is not None and ctl.gun_on:
            lags.append(monitor.lag_estimate_s)
        if ctl.state is CellMode.IDLE and driver.results:
            break
    (result,) = driver.results
    assert result.completed
    return result.spray_length_mm, result.spray_time_s, lags


@pytest.mark.parametrize("phase_s", [0.0, 0.175, 0.2])
def test_joint_states_handled_late_are_accounted_when_measured(
    painter6: RobotModel, phase_s: float
) -> None:
    """Dated on receipt, positions measured before the gun went off but handled after it
    are not counted (or ones measured before paint flowed are): 379..426 mm for 400 mm of
    strokes, as a loaded machine once produced between processes. Dated by their stamps,
    every stall pattern gives the strokes' length and time."""
    length, time_s, lags = run_with_stalls(painter6, phase_s, dated=True)
    assert length == pytest.approx(2 * STROKE_MM, abs=1.5)
    assert time_s == pytest.approx(2 * STROKE_MM / 300.0, abs=0.006)
    assert np.median(lags) == pytest.approx(0.02, abs=0.002)  # the follower's true delay
    on_receipt, _, _ = run_with_stalls(painter6, phase_s, dated=False)
    assert abs(on_receipt - 2 * STROKE_MM) > 8.0

"""Execution monitoring and gun scheduling on one leg, with simulated joint states."""

from __future__ import annotations

import numpy as np
import pytest

from robot_nodes.controller import ExecutionMonitor, FaultCode, Leg, TriggerScheduler, joint_move
from robot_nodes.controller.config import ExecutionConfig
from robot_nodes.kinematics import RobotModel

CFG = ExecutionConfig()


@pytest.fixture(scope="module")
def leg(painter6: RobotModel) -> Leg:
    q1 = painter6.home_rad + np.array([0.6, 0.2, -0.3, 0.0, 0.2, 0.4])
    return joint_move(painter6.chain, painter6.home_rad, q1, speed_scale=0.5)


def feed(
    monitor: ExecutionMonitor,
    leg: Leg,
    t_end: float,
    *,
    delay: float = 0.0,
    offset: np.ndarray | None = None,
    freeze_after: float | None = None,
    dt: float = 0.004,
):
    """Joint states of a robot that follows ``leg`` ``delay`` seconds late."""
    faults, t = [], 0.0
    while t <= t_end:
        tc = t - delay if freeze_after is None else min(t - delay, freeze_after)
        q = np.array([np.interp(tc, leg.t_s, leg.q_rad[:, j]) for j in range(6)])
        monitor.update(t, q + (0 if offset is None else offset))
        fault = monitor.check(t)
        if fault:
            faults.append((t, fault))
            break
        t += dt
    return faults


# fmt: skip


def test_perfect_tracking_progresses_and_completes(painter6, leg) -> None:
    monitor = ExecutionMonitor(leg, 0.0, painter6.chain, CFG)
    assert feed(monitor, leg, leg.duration_s + 0.1) == []
    assert monitor.done
    p = monitor.progress
    assert p.k == len(leg) - 1 and p.tracking_error_mm < 1e-6
    assert abs(monitor.lag_estimate_s) < 0.005


def test_lag_is_measured(painter6, leg) -> None:
    monitor = ExecutionMonitor(leg, 0.0, painter6.chain, CFG)
    feed(monitor, leg, 0.5 * leg.duration_s, delay=0.03)
    assert monitor.lag_estimate_s == pytest.approx(0.03, abs=0.004)
    assert monitor.progress.tracking_error_mm < 0.5  # late, but on the path


def test_displaced_robot_is_a_tracking_error(painter6, leg) -> None:
    monitor = ExecutionMonitor(leg, 0.0, painter6.chain, CFG)
    faults = feed(monitor, leg, leg.duration_s, offset=np.array([0.0, 0.02, 0, 0, 0, 0]))
    (_, (code, text)), = faults  # fmt: skip
    assert code is FaultCode.TRACKING_ERROR and "from the commanded path" in text


def test_blocked_robot_is_a_tracking_lag(painter6, leg) -> None:
    monitor = ExecutionMonitor(leg, 0.0, painter6.chain, CFG)
    faults = feed(monitor, leg, leg.duration_s, freeze_after=0.3)
    (t, (code, text)), = faults  # fmt: skip
    assert code is FaultCode.TRACKING_LAG and t == pytest.approx(0.8, abs=0.02)


def test_silent_driver_and_unfinished_leg_time_out(painter6, leg) -> None:
    monitor = ExecutionMonitor(leg, 0.0, painter6.chain, CFG)
    monitor.update(0.0, leg.q_rad[0])
    code, text = monitor.check(0.6)
    assert code is FaultCode.JOINT_STATES_TIMEOUT and "0.60 s" in text
    late = ExecutionMonitor(leg, 0.0, painter6.chain, CFG.model_copy(update={"max_lag_s": 99}))
    t = leg.duration_s + CFG.settle_timeout_s + 0.1
    late.update(t, leg.q_rad[len(leg) // 2])
    code, _ = late.check(t)
    assert code is FaultCode.EXECUTION_TIMEOUT


def test_trigger_schedule_compensates_latency_and_lag() -> None:
    sched = TriggerScheduler(
        t_s=np.array([1.0, 2.0, 3.0]), on=np.array([True, False, True]),
        s_mm=np.array([10.0, 20.0, 30.0]), on_latency_s=0.04, off_latency_s=0.03, max_lag_s=0.2,
    )  # fmt: skip
    assert sched.fire_time(0, 0.02) == pytest.approx(0.98)
    assert sched.fire_time(1, 0.02) == pytest.approx(1.99)
    assert sched.fire_time(2, 5.0) == pytest.approx(3.16)  # lag compensation capped
    assert sched.fire_time(2, -1.0) == pytest.approx(2.96)  # never negative
    assert sched.due(0.97, 0.02) == []
    assert sched.due(0.981, 0.02) == [(True, 10.0)]
    assert sched.due(3.5, 0.02) == [(False, 20.0), (True, 30.0)]
    assert sched.finished


def test_segment_search_matches_a_dense_brute_force() -> None:
    from robot_nodes.controller.monitor import _Segments

    rng = np.random.default_rng(7)
    points = np.cumsum(rng.normal(size=(40, 6)), axis=0)
    points[12] = points[11]  # a zero-length segment
    path = _Segments(points)
    for _ in range(50):
        lo = int(rng.integers(0, 35))
        hi = int(rng.integers(lo + 2, 41))
        x = points[lo] + rng.normal(scale=2.0, size=6)
        k, frac, dist = path.nearest(lo, hi, x)
        # every segment sampled at 2,001 points
        f = np.linspace(0.0, 1.0, 2001)
        seg = points[lo:hi]
        cand = seg[:-1, None, :] + f[None, :, None] * np.diff(seg, axis=0)[:, None, :]
        d = np.linalg.norm(cand - x, axis=2)
        kb, fb = np.unravel_index(np.argmin(d), d.shape)
        assert dist == pytest.approx(d[kb, fb], abs=1e-3)
        found = points[lo + k] + frac * (points[lo + k + 1] - points[lo + k])
        assert np.linalg.norm(found - x) == pytest.approx(dist, abs=1e-9)
    k, frac, dist = path.nearest(5, 6, points[5] + [3, 4, 0, 0, 0, 0])
    assert (k, frac, dist) == (0, 0.0, pytest.approx(5.0))


def test_tcp_window_distance_matches_the_segment_search() -> None:
    from robot_nodes.controller.monitor import _Path3, _Segments

    rng = np.random.default_rng(11)
    points = 1000.0 + np.cumsum(rng.normal(scale=2.0, size=(30, 3)), axis=0)
    points[7] = points[6]
    fast, ref = _Path3(points), _Segments(points)
    for _ in range(100):
        lo = int(rng.integers(0, 28))
        hi = int(rng.integers(lo + 1, 31))
        p = points[lo] + rng.normal(scale=3.0, size=3)
        assert fast.distance(lo, hi, tuple(p)) == pytest.approx(ref.nearest(lo, hi, p)[2], abs=1e-9)

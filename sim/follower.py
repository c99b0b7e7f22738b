"""A joint trajectory follower, like ros2_control's ``joint_trajectory_controller``.

:class:`TrajectoryFollower` is the logic, free of any bus, for the simulator to reuse: it
takes a trajectory (times, positions, optional velocities), interpolates it in time (cubic
Hermite through positions and velocities, linear without velocities) and moves the axes
towards that reference with a first-order tracking lag::

    dq/dt = (q_ref(t) - q) / tau

integrated exactly over each step. As with ``joint_trajectory_controller``, a new trajectory
replaces the current one from its start time on (a stamped trajectory starts at its stamp,
the current one runs until then; a zero stamp means now), a first point later than 0 is
reached from the reference, and an empty trajectory stops and holds the current reference.

:class:`FollowerNode` wires it to a bus: ``JointTrajectory`` in on
``joint_trajectory_controller/joint_trajectory``, ``JointState`` out on ``joint_states`` at
250 Hz. ``python -m sim.follower --namespace /cell_c1`` runs one on the ``dds`` backend.
"""

from __future__ import annotations

import argparse
import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from robot_nodes.bus import QOS_DEFAULT, Bus, create_bus

log = logging.getLogger(__name__)

TRAJECTORY_TOPIC = "joint_trajectory_controller/joint_trajectory"
JOINT_STATES_TOPIC = "joint_states"
PAINTER6_JOINTS = tuple(f"joint_{i}" for i in range(1, 7))
PAINTER6_HOME = (0.0, 0.0, 0.0, 0.0, math.pi / 2, 0.0)


@dataclass(frozen=True)
class _Trajectory:
    t: np.ndarray  # (K,) from start
    pos: np.ndarray  # (K, n)
    vel: np.ndarray | None  # (K, n)
    start_s: float

    def sample(self, now_s: float) -> np.ndarray:
        tau = now_s - self.start_s
        t, pos = self.t, self.pos
        if tau <= t[0]:
            return pos[0].copy()
        if tau >= t[-1]:
            return pos[-1].copy()
        k = int(t.searchsorted(tau, "right")) - 1
        t0, t1 = float(t[k]), float(t[k + 1])
        h = t1 - t0
        if h <= 0:
            return pos[k + 1].copy()
        u = (tau - t0) / h
        if self.vel is None:
            return pos[k] + u * (pos[k + 1] - pos[k])
        u2 = u * u
        u3 = u2 * u
        basis = np.array(
            (2 * u3 - 3 * u2 + 1, (u3 - 2 * u2 + u) * h, -2 * u3 + 3 * u2, (u3 - u2) * h)
        )
        return basis @ self._hermite_rows[k]

    @cached_property
    def _hermite_rows(self) -> np.ndarray:
        """(K - 1, 4, n): p_k, v_k, p_k+1, v_k+1 of every interval, for one product per
        sample with the cubic Hermite basis."""
        pos, vel = self.pos, self.vel
        return np.stack([pos[:-1], vel[:-1], pos[1:], vel[1:]], axis=1)

    @property
    def end_s(self) -> float:
        return self.start_s + float(self.t[-1])


class TrajectoryFollower:
    """Interpolates the active trajectory and tracks it with a first-order lag.

    Parameters
    ----------
    joint_names : sequence of str
        Axis order of :attr:`q` and of every array here.
    q0 : (n,) array
        Initial joint positions (also the first reference).
    tau_s : float
        Tracking time constant; 0 follows the reference exactly.
    """

    def __init__(
        self, joint_names: Sequence[str], q0: Sequence[float], tau_s: float = 0.02
    ) -> None:
        self.joint_names = tuple(joint_names)
        self.q = np.asarray(q0, dtype=float).copy()
        if self.q.shape != (len(self.joint_names),):
            raise ValueError(f"q0 has {self.q.size} values for {len(self.joint_names)} joints")
        self.qd = np.zeros_like(self.q)
        self.tau_s = float(tau_s)
        self._hold = self.q.copy()
        self._active: _Trajectory | None = None
        self._pending: _Trajectory | None = None
        self._last_s: float | None = None
        self.offset = np.zeros_like(self.q)
        """Added to the reported positions (fault injection: a displaced axis)."""
        self.frozen = False
        """When True the axes do not move (fault injection: a blocked robot)."""
        self.received = 0

    @property
    def active(self) -> bool:
        """True while a trajectory is running or waiting for its start time."""
        return self._active is not None or self._pending is not None

    def set_trajectory(
        self,
        t_s: Sequence[float],
        positions: np.ndarray,
        velocities: np.ndarray | None,
        start_s: float,
        now_s: float | None = None,
    ) -> None:
        """Replace the trajectory from ``start_s`` on (the current one runs until then).

        Parameters
        ----------
        t_s : (K,) array
            Time from start of each point, non-decreasing; empty = stop and hold.
        positions : (K, n) array
            In :attr:`joint_names` order.
        velocities : (K, n) array or None
            Cubic Hermite interpolation with them, linear without.
        start_s : float
            Follower-clock time of ``t_s = 0``.
        now_s : float, optional
            Current follower time (``start_s`` when None): a trajectory waiting to start
            before then becomes the running one first.
        """
        self.received += 1
        self._advance(start_s if now_s is None else now_s)
        t = np.asarray(t_s, dtype=float)
        if len(t) == 0:
            self._hold = self.reference(start_s)
            self._active = self._pending = None
            return
        pos = np.asarray(positions, dtype=float).reshape(len(t), -1)
        if pos.shape[1] != len(self.joint_names):
            raise ValueError(f"points have {pos.shape[1]} joints, expected {len(self.joint_names)}")
        vel = None if velocities is None else np.asarray(velocities, dtype=float).reshape(pos.shape)
        if np.any(np.diff(t) < 0):
            raise ValueError("time_from_start must not decrease")
        if t[0] > 0:  # reach the first point from where the reference will be at the start
            t = np.concatenate([[0.0], t])
            pos = np.vstack([self.reference(start_s)[None], pos])
            if vel is not None:
                vel = np.vstack([np.zeros((1, pos.shape[1])), vel])
        self._pending = _Trajectory(t, pos, vel, float(start_s))

    def _advance(self, now_s: float) -> None:
        if self._pending is not None and now_s >= self._pending.start_s:
            self._active, self._pending = self._pending, None
        if self._active is not None and now_s >= self._active.end_s and self._pending is None:
            self._hold = self._active.pos[-1].copy()
            self._active = None

    def reference(self, now_s: float) -> np.ndarray:
        """Commanded joint positions at ``now_s``."""
        pending = self._pending
        if pending is not None and now_s >= pending.start_s:
            return pending.sample(now_s)
        if self._active is not None:
            return self._active.sample(now_s)
        return self._hold.copy()

    def step(self, now_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Advance to ``now_s``; returns reported (positions, velocities)."""
        dt = 0.0 if self._last_s is None else max(0.0, now_s - self._last_s)
        self._last_s = now_s
        ref = self.reference(now_s)
        self._advance(now_s)
        # q and qd are replaced, never changed in place: holders of the old arrays keep them
        if self.frozen:
            self.qd = np.zeros_like(self.q)
        elif dt > 0:
            q_old = self.q
            if self.tau_s > 0:
                self.q = ref + (q_old - ref) * math.exp(-dt / self.tau_s)
            else:
                self.q = ref
            self.qd = (self.q - q_old) * (1.0 / dt)
        return self.q + self.offset, self.qd

    def set_from_message(self, msg: Any, now_s: float, clock_ns: int | None = None) -> None:
        """Take a ``trajectory_msgs/JointTrajectory`` (either backend).

        Joints are matched by name; a stamp of zero starts the trajectory at ``now_s``, a
        non-zero stamp is a wall-clock start time compared with ``clock_ns``.

        Raises
        ------
        ValueError
            For missing or unknown joints, or points of the wrong size.
        """
        names = list(msg.joint_names)
        points = list(msg.points)
        if not points:
            self.set_trajectory([], np.zeros((0, len(self.joint_names))), None, now_s, now_s)
            return
        index = {n: i for i, n in enumerate(names)}
        missing = [j for j in self.joint_names if j not in index]
        if missing:
            raise ValueError(f"trajectory lacks joints {missing}")
        order = [index[j] for j in self.joint_names]
        t = np.array([p.time_from_start.sec + 1e-9 * p.time_from_start.nanosec for p in points])
        pos = np.array([[list(p.positions)[i] for i in order] for p in points], dtype=float)
        has_vel = all(len(p.velocities) == len(names) for p in points)
        vel = (
            np.array([[list(p.velocities)[i] for i in order] for p in points], dtype=float)
            if has_vel
            else None
        )
        start = now_s
        stamp_ns = int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec)
        if stamp_ns and clock_ns is not None:
            start = now_s + (stamp_ns - clock_ns) / 1e9
        self.set_trajectory(t, pos, vel, start, now_s)


class FollowerNode:
    """A :class:`TrajectoryFollower` on a bus.

    Parameters
    ----------
    bus : Bus
    follower : TrajectoryFollower
    rate_hz : float
        ``joint_states`` publication rate.
    clock : callable
        Monotonic seconds (the follower's time base).
    """

    def __init__(
        self,
        bus: Bus,
        follower: TrajectoryFollower,
        *,
        rate_hz: float = 250.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bus = bus
        self.follower = follower
        self._clock = clock
        self._lock = threading.Lock()
        self._JointState = bus.message_type("sensor_msgs/msg/JointState")
        self._Header = bus.message_type("std_msgs/msg/Header")
        self._Time = bus.message_type("builtin_interfaces/msg/Time")
        trajectory_type = bus.message_type("trajectory_msgs/msg/JointTrajectory")
        self.publisher = bus.create_publisher(self._JointState, JOINT_STATES_TOPIC, QOS_DEFAULT)
        bus.create_subscription(trajectory_type, TRAJECTORY_TOPIC, self._on_trajectory, QOS_DEFAULT)
        bus.create_timer(1.0 / rate_hz, self._on_timer)
        self.published = 0

    def _on_trajectory(self, msg: Any) -> None:
        try:
            with self._lock:
                self.follower.set_from_message(msg, self._clock(), time.time_ns())
        except ValueError as exc:
            log.error("trajectory refused: %s", exc)

    def _on_timer(self) -> None:
        with self._lock:
            q, qd = self.follower.step(self._clock())
        sec, nanosec = divmod(time.time_ns(), 1_000_000_000)
        self.publisher.publish(
            self._JointState(
                header=self._Header(stamp=self._Time(sec=sec, nanosec=nanosec), frame_id=""),
                name=list(self.follower.joint_names),
                position=[float(v) for v in q],
                velocity=[float(v) for v in qd],
                effort=[],
            )
        )
        self.published += 1

    def inject(self, fn: Callable[[TrajectoryFollower], None]) -> None:
        """Apply ``fn`` to the follower under its lock (fault injection from other threads)."""
        with self._lock:
            fn(self.follower)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.follower``: a painter6 follower on the ``dds`` backend until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespace", default="/cell_c1")
    parser.add_argument("--domain-id", type=int, default=None)
    parser.add_argument("--rate-hz", type=float, default=250.0)
    parser.add_argument("--tau-s", type=float, default=0.02)
    parser.add_argument("--backend", default="dds", choices=("dds", "rclpy"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with create_bus(
        args.backend, "joint_trajectory_follower", args.namespace, domain_id=args.domain_id
    ) as bus:
        follower = TrajectoryFollower(PAINTER6_JOINTS, PAINTER6_HOME, tau_s=args.tau_s)
        FollowerNode(bus, follower, rate_hz=args.rate_hz)
        log.info("following %s on %s", bus.resolve_topic(TRAJECTORY_TOPIC), args.backend)
        bus.spin(until=stop.is_set)
    return 0


__all__ = [
    "JOINT_STATES_TOPIC",
    "PAINTER6_HOME",
    "PAINTER6_JOINTS",
    "TRAJECTORY_TOPIC",
    "FollowerNode",
    "TrajectoryFollower",
    "main",
]

if __name__ == "__main__":
    raise SystemExit(main())

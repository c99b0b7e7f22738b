"""Execution monitoring of one leg from ``joint_states``: progress, tracking error, timeouts.

For each measured joint vector the monitor finds where on the commanded leg the robot is:
the nearest point (in joint space) on the leg's polyline between the last position found and
a little past where the commanded timing is now, so progress only moves forward and a path
that crosses itself is not confused. From that point it reports

* ``tracking_error_mm``: distance of the measured TCP (forward kinematics) from the
  commanded TCP path near that point -- the deviation that matters for paint;
* ``lag_s``: how far the robot is behind the commanded timing (its following delay); the
  trigger scheduler adds it to the gun switching times;
* progress along the program's path coordinate, the last waypoint passed, and the measured
  TCP speed.

:meth:`ExecutionMonitor.check` turns these into faults: TRACKING_ERROR, TRACKING_LAG,
JOINT_STATES_TIMEOUT, EXECUTION_TIMEOUT; :attr:`ExecutionMonitor.done` says when the leg's
end has been reached and settled.
"""

from __future__ import annotations

import bisect
import math
from typing import NamedTuple

import numpy as np

from robot_nodes.controller.config import ExecutionConfig
from robot_nodes.controller.faults import FaultCode
from robot_nodes.controller.legs import Leg
from robot_nodes.controller.tcp import TcpPosition
from robot_nodes.kinematics import SerialChain

_LOOKAHEAD = 8  # samples past the commanded position searched
_TCP_WINDOW = 3  # segments either side for the TCP distance
_SPEED_TAU_S = 0.02
_LAG_TAU_S = 0.05


class Progress(NamedTuple):
    """Where the robot is on the leg, from the last joint state.

    Attributes
    ----------
    k : int
        Segment (sample k to k + 1) of the nearest point.
    frac : float
        Position within that segment, 0..1.
    s_mm : float
        Program path coordinate there.
    t_cmd_s : float
        Leg time at which the command passes there.
    lag_s : float
        Time since leg start minus ``t_cmd_s``.
    tracking_error_mm : float
    waypoint : int
    phase : int
    speed_mm_s : float
        Measured TCP speed (filtered).
    p_mm : (x, y, z) floats
        Measured TCP position.
    """

    k: int
    frac: float
    s_mm: float
    t_cmd_s: float
    lag_s: float
    tracking_error_mm: float
    waypoint: int
    phase: int
    speed_mm_s: float
    p_mm: tuple[float, float, float]


class _Segments:
    """The segments of a polyline (M, d), precomputed once for repeated nearest-point
    searches over short index ranges (two per joint state)."""

    def __init__(self, points: np.ndarray) -> None:
        self.points = np.ascontiguousarray(points, dtype=float)
        self._d = np.diff(self.points, axis=0)
        dd = np.einsum("ij,ij->i", self._d, self._d)
        self._inv_dd = np.where(dd > 0, 1.0 / np.where(dd > 0, dd, 1.0), 0.0)

    def nearest(self, lo: int, hi: int, x: np.ndarray) -> tuple[int, float, float]:
        """Nearest point to ``x`` on the polyline through points ``lo .. hi - 1``:
        segment (from ``lo``), fraction along it, distance."""
        if hi - lo <= 1:
            r = x - self.points[lo]
            return 0, 0.0, math.sqrt(float(r @ r))
        w = x - self.points[lo : hi - 1]
        d = self._d[lo : hi - 1]
        f = np.minimum(np.maximum((w * d).sum(axis=1) * self._inv_dd[lo : hi - 1], 0.0), 1.0)
        e = w - f[:, None] * d
        dist2 = (e * e).sum(axis=1)
        i = int(dist2.argmin())
        return i, float(f[i]), math.sqrt(float(dist2[i]))


class _Path3:
    """A 3-D polyline as plain floats: the distance from a point to a few of its segments
    (the commanded TCP path near the robot), cheaper in Python than in numpy at this size."""

    def __init__(self, points: np.ndarray) -> None:
        pts = [tuple(p) for p in np.asarray(points, dtype=float).tolist()]
        self._a = pts[:-1]
        self._d = [
            (b[0] - a[0], b[1] - a[1], b[2] - a[2]) for a, b in zip(pts[:-1], pts[1:], strict=True)
        ]
        self._dd = [dx * dx + dy * dy + dz * dz for dx, dy, dz in self._d]
        self._last = pts[-1]

    def distance(self, lo: int, hi: int, p: tuple[float, float, float]) -> float:
        """Distance from ``p`` to the polyline through points ``lo .. hi - 1``."""
        px, py, pz = p
        if hi - lo <= 1:
            ax, ay, az = self._a[lo] if lo < len(self._a) else self._last
            return math.sqrt((px - ax) ** 2 + (py - ay) ** 2 + (pz - az) ** 2)
        best = math.inf
        for i in range(lo, hi - 1):
            ax, ay, az = self._a[i]
            dx, dy, dz = self._d[i]
            wx, wy, wz = px - ax, py - ay, pz - az
            dd = self._dd[i]
            f = (wx * dx + wy * dy + wz * dz) / dd if dd > 0 else 0.0
            f = 0.0 if f < 0.0 else 1.0 if f > 1.0 else f
            ex, ey, ez = wx - f * dx, wy - f * dy, wz - f * dz
            e2 = ex * ex + ey * ey + ez * ez
            if e2 < best:
                best = e2
        return math.sqrt(best)


class ExecutionMonitor:
    """Follows the execution of one leg.

    Parameters
    ----------
    leg : Leg
    t0_s : float
        Time (controller clock) at which the leg was sent.
    chain : SerialChain
        For forward kinematics of the measured joints.
    config : ExecutionConfig
    """

    def __init__(self, leg: Leg, t0_s: float, chain: SerialChain, config: ExecutionConfig) -> None:
        self.leg = leg
        self.t0_s = float(t0_s)
        self.chain = chain
        self._tcp = TcpPosition(chain)
        self._q_path = _Segments(leg.q_rad)
        self._p_path = _Path3(leg.p_mm)
        self._p_end = tuple(float(v) for v in leg.p_mm[-1])
        # per-sample lookups as Python lists (one update reads a few of each)
        self._t_s = leg.t_s.tolist()
        self._s_mm = leg.s_mm.tolist()
        self._waypoint = leg.waypoint.tolist()
        self._phase = leg.phase.tolist()
        self.config = config
        self._k = 0
        self._last: Progress | None = None
        self._last_js_s: float | None = None
        self._prev_p: tuple[float, float, float] | None = None
        self._speed = 0.0
        self._lag: float | None = None
        self.max_tracking_error_mm = 0.0
        self.done = False

    @property
    def progress(self) -> Progress | None:
        return self._last

    @property
    def lag_estimate_s(self) -> float:
        """Filtered following delay (0 before the first measurement)."""
        return 0.0 if self._lag is None else self._lag

    def elapsed(self, now_s: float) -> float:
        return now_s - self.t0_s

    def update(self, now_s: float, q_rad: np.ndarray) -> Progress:
        """Take one measured joint vector (measured, or received, at ``now_s``)."""
        n = len(self._t_s)
        q = np.asarray(q_rad, dtype=float)
        t_rel = now_s - self.t0_s
        k_time = min(max(bisect.bisect_right(self._t_s, t_rel) - 1, 0), n - 1)
        lo = self._k
        hi = min(n, max(k_time, lo) + _LOOKAHEAD + 1)
        k_off, frac, _ = self._q_path.nearest(lo, hi, q)
        k = lo + k_off
        if frac > 1.0 - 1e-9:
            k, frac = k + 1, 0.0
        if k >= n - 1:
            k, frac = n - 1, 0.0
        self._k = k
        p_meas = self._tcp.xyz_mm(q)
        w_lo, w_hi = max(0, k - _TCP_WINDOW), min(n, k + _TCP_WINDOW + 2)
        err = self._p_path.distance(w_lo, w_hi, p_meas)
        k1 = min(k + 1, n - 1)
        t_s, s_mm = self._t_s, self._s_mm
        t_cmd = t_s[k] + frac * (t_s[k1] - t_s[k])
        s = s_mm[k] + frac * (s_mm[k1] - s_mm[k])
        lag = t_rel - t_cmd
        if self._last_js_s is not None and self._prev_p is not None:
            dt = now_s - self._last_js_s
            if dt > 1e-6:
                v = math.dist(p_meas, self._prev_p) / dt
                alpha = min(1.0, dt / _SPEED_TAU_S)
                self._speed += alpha * (v - self._speed)
                beta = min(1.0, dt / _LAG_TAU_S)
                if k < n - 1:
                    self._lag = lag if self._lag is None else self._lag + beta * (lag - self._lag)
        self._last_js_s = now_s
        self._prev_p = p_meas
        self.max_tracking_error_mm = max(self.max_tracking_error_mm, err)
        if k == n - 1 and t_rel >= t_s[-1]:
            goal_err = math.dist(p_meas, self._p_end)
            if goal_err <= self.config.goal_tolerance_mm:
                self.done = True
        self._last = Progress(
            k=k,
            frac=frac,
            s_mm=s,
            t_cmd_s=t_cmd,
            lag_s=lag,
            tracking_error_mm=err,
            waypoint=self._waypoint[k1 if frac > 0.5 else k],
            phase=self._phase[k1],
            speed_mm_s=self._speed,
            p_mm=p_meas,
        )
        return self._last

    def check(self, now_s: float) -> tuple[FaultCode, str] | None:
        """A fault to stop for, or None."""
        cfg = self.config
        t_rel = now_s - self.t0_s
        if self.done:
            return None
        last_js = self._last_js_s if self._last_js_s is not None else self.t0_s
        if now_s - last_js > cfg.joint_states_timeout_s:
            return (
                FaultCode.JOINT_STATES_TIMEOUT,
                f"no joint_states for {now_s - last_js:.2f} s "
                f"(limit {cfg.joint_states_timeout_s:g} s) while executing '{self.leg.label}'",
            )
        p = self._last
        if p is not None:
            if p.tracking_error_mm > cfg.tracking_error_limit_mm:
                x, y, z = p.p_mm
                return (
                    FaultCode.TRACKING_ERROR,
                    f"TCP at ({x:.1f}, {y:.1f}, {z:.1f}) mm is {p.tracking_error_mm:.1f} mm "
                    f"from the commanded path (limit {cfg.tracking_error_limit_mm:g} mm) near "
                    f"waypoint {p.waypoint}",
                )
            at_end = p.k >= len(self.leg) - 2
            if not at_end and p.lag_s > cfg.max_lag_s:
                return (
                    FaultCode.TRACKING_LAG,
                    f"robot is {p.lag_s:.2f} s behind the commanded timing "
                    f"(limit {cfg.max_lag_s:g} s) near waypoint {p.waypoint}",
                )
        if t_rel > self.leg.duration_s + cfg.settle_timeout_s:
            where = f"waypoint {p.waypoint}" if p is not None else "the start"
            return (
                FaultCode.EXECUTION_TIMEOUT,
                f"'{self.leg.label}' not completed {t_rel:.1f} s after it was sent "
                f"(planned {self.leg.duration_s:.1f} s + {cfg.settle_timeout_s:g} s); "
                f"robot near {where}",
            )
        return None


__all__ = ["ExecutionMonitor", "Progress"]

"""Legs: the timed joint trajectories a cell sends to the driver, one at a time.

A leg is sampled densely (every ~2 mm on program paths, every 10 ms on joint moves) and
carries, besides the joint trajectory, what supervision needs at each sample: the commanded
TCP position, the program's path coordinate, the gun state and the requested tool speed.

* :func:`joint_move` -- synchronised, time-optimal straight line in joint space (the
  approach to a program's first waypoint);
* :func:`stop_leg` -- a controlled stop *on the current leg's path*: the leg's time runs
  slower and slower (``dtau/dt`` falls linearly to zero), so the robot never leaves the
  path and the joint acceleration stays within limits;
* :func:`retime_samples` -- rest-to-rest time-parameterisation of given path samples with the
  reachability analysis of :mod:`robot_nodes.timing` (used to resume after a pause).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from recipes.errors import InvalidInputError
from robot_nodes._reachability import (
    build_bounds,
    path_curvature,
    path_derivatives,
    reachability,
    sharp_corners,
)
from robot_nodes.kinematics import SerialChain

APPROACH, PROGRAM, BACKUP = 0, 1, 2
"""Phases of a leg sample: joint move to the start, on the program path, backing up."""


@dataclass(frozen=True)
class Leg:
    """One joint trajectory with its supervision data.

    Attributes
    ----------
    t_s : (K,) ndarray
        Time from the start of the leg.
    q_rad, qd_rad_s, qdd_rad_s2 : (K, n) ndarray
    p_mm : (K, 3) ndarray
        Commanded TCP position.
    s_mm : (K,) ndarray
        Program path coordinate (0 before the program starts).
    trigger : (K,) bool ndarray
        Gun on along the interval ending at sample k.
    v_req_mm_s : (K,) ndarray
        Requested tool speed on the interval ending at sample k (0 off the program).
    waypoint : (K,) int ndarray
        Last program waypoint passed.
    phase : (K,) int ndarray
        APPROACH, PROGRAM or BACKUP.
    completes_program : bool
        Reaching the end of this leg finishes the program.
    label : str
    """

    t_s: np.ndarray
    q_rad: np.ndarray
    qd_rad_s: np.ndarray
    qdd_rad_s2: np.ndarray
    p_mm: np.ndarray
    s_mm: np.ndarray
    trigger: np.ndarray
    v_req_mm_s: np.ndarray
    waypoint: np.ndarray
    phase: np.ndarray
    completes_program: bool
    label: str

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1])

    def __len__(self) -> int:
        return len(self.t_s)

    def spray_events(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Gun switching points of the leg.

        Returns
        -------
        t_s : (E,) ndarray
            When the commanded TCP passes the switching sample.
        on : (E,) bool ndarray
        s_mm : (E,) ndarray
        """
        trig = self.trigger.astype(np.int8)
        change = np.flatnonzero(np.diff(trig))  # trigger differs between k and k + 1
        on = trig[change + 1] == 1
        # gun goes on when leaving sample k (interval k -> k+1 is on), off when reaching
        # sample k (interval k-1 -> k was the last on)
        return self.t_s[change], on, self.s_mm[change]

    def sample_at(self, tau_s: float) -> int:
        """Index of the last sample at or before time ``tau_s``."""
        k = int(self.t_s.searchsorted(tau_s, side="right")) - 1
        return min(max(k, 0), len(self.t_s) - 1)


def concat_legs(first: Leg, second: Leg, *, label: str | None = None) -> Leg:
    """``first`` then ``second`` (which must start where ``first`` ends, at rest)."""
    t2 = second.t_s[1:] + first.duration_s

    def cat(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a, b[1:]])

    return Leg(
        t_s=np.concatenate([first.t_s, t2]),
        q_rad=cat(first.q_rad, second.q_rad),
        qd_rad_s=cat(first.qd_rad_s, second.qd_rad_s),
        qdd_rad_s2=cat(first.qdd_rad_s2, second.qdd_rad_s2),
        p_mm=cat(first.p_mm, second.p_mm),
        s_mm=cat(first.s_mm, second.s_mm),
        trigger=cat(first.trigger, second.trigger),
        v_req_mm_s=cat(first.v_req_mm_s, second.v_req_mm_s),
        waypoint=cat(first.waypoint, second.waypoint),
        phase=cat(first.phase, second.phase),
        completes_program=second.completes_program,
        label=label or f"{first.label}+{second.label}",
    )


def joint_move(
    chain: SerialChain,
    q0_rad: np.ndarray,
    q1_rad: np.ndarray,
    *,
    speed_scale: float = 0.5,
    dt_s: float = 0.01,
    s_mm: float = 0.0,
    waypoint: int = 0,
    label: str = "approach",
) -> Leg:
    """Synchronised straight joint move, rest to rest, time-optimal within scaled limits.

    All joints follow ``q0 + lam(t) (q1 - q0)`` with one trapezoidal ``lam`` whose speed and
    acceleration are the largest every joint allows (``speed_scale`` times its limits).
    """
    q0 = np.asarray(q0_rad, dtype=float)
    q1 = np.asarray(q1_rad, dtype=float)
    dq = q1 - q0
    dist = np.abs(dq)
    moving = dist > 1e-12
    if not moving.any():
        one = q0[None]
        zeros = np.zeros_like(one)
        p = chain.fk(one)[:, :3, 3] * 1000.0
        return Leg(
            np.zeros(1), one, zeros, zeros, p, np.full(1, s_mm), np.zeros(1, bool),
            np.zeros(1), np.full(1, waypoint), np.full(1, APPROACH), False, label,
        )  # fmt: skip
    V = float(np.min(speed_scale * chain.velocity_rad_s[moving] / dist[moving]))
    A = float(np.min(speed_scale * chain.acceleration_rad_s2[moving] / dist[moving]))
    if V * V / A >= 1.0:  # triangular: never reaches V
        t_acc = math.sqrt(1.0 / A)
        T = 2.0 * t_acc
        v_peak = A * t_acc
        t_flat = 0.0
    else:
        t_acc = V / A
        t_flat = 1.0 / V - V / A
        T = 2.0 * t_acc + t_flat
        v_peak = V
    n = max(2, math.ceil(T / dt_s) + 1)
    t = np.linspace(0.0, T, n)
    lam = np.empty(n)
    lamd = np.empty(n)
    lamdd = np.empty(n)
    a1 = t < t_acc
    a3 = t > t_acc + t_flat
    a2 = ~a1 & ~a3
    lam[a1] = 0.5 * A * t[a1] ** 2
    lamd[a1] = A * t[a1]
    lamdd[a1] = A
    lam[a2] = 0.5 * A * t_acc**2 + v_peak * (t[a2] - t_acc)
    lamd[a2] = v_peak
    lamdd[a2] = 0.0
    tr = T - t[a3]
    lam[a3] = 1.0 - 0.5 * A * tr**2
    lamd[a3] = A * tr
    lamdd[a3] = -A
    lam[-1], lamd[-1], lamd[0] = 1.0, 0.0, 0.0
    q = q0 + lam[:, None] * dq
    return Leg(
        t_s=t,
        q_rad=q,
        qd_rad_s=lamd[:, None] * dq,
        qdd_rad_s2=lamdd[:, None] * dq,
        p_mm=chain.fk(q)[:, :3, 3] * 1000.0,
        s_mm=np.full(n, s_mm),
        trigger=np.zeros(n, dtype=bool),
        v_req_mm_s=np.zeros(n),
        waypoint=np.full(n, waypoint),
        phase=np.full(n, APPROACH),
        completes_program=False,
        label=label,
    )


def _interp(leg: Leg, tau: float) -> dict[str, np.ndarray]:
    """Linear interpolation of a leg's arrays at time ``tau`` (samples are dense)."""
    k = min(leg.sample_at(tau), len(leg) - 2)
    span = leg.t_s[k + 1] - leg.t_s[k]
    f = float(np.clip((tau - leg.t_s[k]) / span, 0.0, 1.0)) if span > 0 else 0.0

    def mix(a: np.ndarray) -> np.ndarray:
        return a[k] + f * (a[k + 1] - a[k])

    return {
        "q_rad": mix(leg.q_rad),
        "qd_rad_s": mix(leg.qd_rad_s),
        "qdd_rad_s2": mix(leg.qdd_rad_s2),
        "p_mm": mix(leg.p_mm),
        "s_mm": mix(leg.s_mm),
        "v_req_mm_s": leg.v_req_mm_s[k + 1],
        "waypoint": leg.waypoint[k],
        "phase": leg.phase[k + 1] if f > 0 else leg.phase[k],
    }


def stop_leg(
    leg: Leg,
    tau_now_s: float,
    chain: SerialChain,
    *,
    lead_s: float = 0.0,
    min_stop_s: float = 0.05,
    label: str = "stop",
) -> Leg | None:
    """Controlled stop along ``leg``; gun off throughout.

    The stop leg starts at the leg's time ``tau_now_s`` (where the command is now), follows
    the leg unchanged for ``lead_s`` (the time the new trajectory needs to reach the
    driver), then slows the leg's clock with ``dtau/dt = 1 - t / T``: the robot stays on
    the leg's path, velocities fall linearly to zero, and ``T`` is the shortest (from a
    first guess, grown until it fits) for which every joint acceleration
    ``sigma^2 qdd - qd / T`` stays within its limit.

    Returns
    -------
    Leg or None
        None when the leg will have ended by then (the robot rests at its end).
    """
    tau_now = max(0.0, float(tau_now_s))
    tau0 = tau_now + max(0.0, float(lead_s))
    if tau0 >= leg.duration_s:
        return None
    amax = chain.acceleration_rad_s2
    start = _interp(leg, tau0)

    def build(T: float) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, float]:
        tau_end = min(tau0 + T / 2.0, leg.duration_s)
        inner = np.flatnonzero((leg.t_s > tau0) & (leg.t_s < tau_end))
        end = _interp(leg, tau_end)

        def stack(key: str) -> np.ndarray:
            first, mid, last = start[key], getattr(leg, key)[inner], end[key]
            if np.ndim(first):
                return np.vstack([first[None], mid, last[None]])
            return np.concatenate([[first], mid, [last]])

        keys = ("q_rad", "qd_rad_s", "qdd_rad_s2", "p_mm", "s_mm", "waypoint", "phase")
        arrays = {key: stack(key) for key in keys}
        tau = np.concatenate([[tau0], leg.t_s[inner], [tau_end]])
        sigma = np.sqrt(np.clip(1.0 - 2.0 * (tau - tau0) / T, 0.0, 1.0))  # dtau/dt
        acc = sigma[:, None] ** 2 * arrays["qdd_rad_s2"] - arrays["qd_rad_s"] / T
        return arrays, sigma, acc, float(np.max(np.abs(acc) / amax))

    T = max(min_stop_s, 1.5 * float(np.max(np.abs(start["qd_rad_s"]) / amax)))
    for _ in range(20):
        arrays, sigma, acc, ratio = build(T)
        if ratio <= 1.0 + 1e-9:
            break
        T *= max(1.05, ratio)
    t = T * (1.0 - sigma)
    sigma[-1] = 0.0  # the stop (or the leg's own end, at rest) is the last sample
    acc[-1] = 0.0
    qd = sigma[:, None] * arrays["qd_rad_s"]
    if tau0 > tau_now:  # unchanged prefix: the leg from now until the stop begins
        here = _interp(leg, tau_now)
        mid = np.flatnonzero((leg.t_s > tau_now) & (leg.t_s < tau0))

        def prefix(key: str, values: np.ndarray) -> np.ndarray:
            first, inner = here[key], getattr(leg, key)[mid]
            head = (
                np.vstack([first[None], inner])
                if np.ndim(first)
                else np.concatenate([[first], inner])
            )
            return np.concatenate([head, values])

        t = np.concatenate([[0.0], leg.t_s[mid] - tau_now, t + (tau0 - tau_now)])
        for key in arrays:
            arrays[key] = prefix(key, arrays[key])
        qd = prefix("qd_rad_s", qd)
        acc = prefix("qdd_rad_s2", acc)
    keep = np.concatenate([[True], np.diff(t) > 1e-9])
    n = int(keep.sum())
    return Leg(
        t_s=t[keep],
        q_rad=arrays["q_rad"][keep],
        qd_rad_s=qd[keep],
        qdd_rad_s2=acc[keep],
        p_mm=arrays["p_mm"][keep],
        s_mm=arrays["s_mm"][keep],
        trigger=np.zeros(n, dtype=bool),
        v_req_mm_s=np.zeros(n),
        waypoint=arrays["waypoint"][keep].astype(int),
        phase=arrays["phase"][keep].astype(int),
        completes_program=False,
        label=label,
    )


def hold_leg(chain: SerialChain, q_rad: np.ndarray, *, label: str = "hold") -> Leg:
    """A one-point trajectory holding ``q_rad`` (what a stop without a path can do)."""
    return joint_move(chain, q_rad, q_rad, label=label)


@dataclass(frozen=True)
class Retimed:
    """Rest-to-rest timing of path samples (see :func:`retime_samples`)."""

    t_s: np.ndarray
    qd_rad_s: np.ndarray
    qdd_rad_s2: np.ndarray
    speed_mm_s: np.ndarray


def retime_samples(
    chain: SerialChain,
    q_rad: np.ndarray,
    p_mm: np.ndarray,
    s_mm: np.ndarray,
    v_req_mm_s: np.ndarray,
    *,
    max_tool_acc_mm_s2: float,
    corner_stop_deg: float = 10.0,
    corner_candidates: np.ndarray | None = None,
) -> Retimed:
    """Time-optimal rest-to-rest timing of densely sampled path points.

    Same constraints as :func:`robot_nodes.timing.time_parameterize` (requested speed, joint
    velocity and acceleration, tool acceleration, stops at sharp joint-space corners), on
    samples whose joint positions are already known.

    Parameters
    ----------
    q_rad : (K, n) array
    p_mm : (K, 3) array
    s_mm : (K,) array
        Strictly increasing path coordinate.
    v_req_mm_s : (K,) array
        Requested speed on the interval ending at sample k (entry 0 unused).
    corner_candidates : (K,) bool array, optional
        Samples where the path may have a sharp corner (see
        :func:`robot_nodes._reachability.sharp_corners`); every sample when None.

    Raises
    ------
    InvalidInputError
        When the samples cannot be traversed.
    """
    s = np.asarray(s_mm, dtype=float)
    ds = np.diff(s)
    if len(s) < 2 or not (ds > 0).all():
        raise InvalidInputError("s_mm", "needs at least 2 strictly increasing samples")
    dq, ddq = path_derivatives(q_rad, s)
    kappa = path_curvature(p_mm, s)
    v = np.asarray(v_req_mm_s, dtype=float)
    v_samples = np.minimum(v, np.append(v[1:], v[-1]))
    v_samples[0] = v[1]
    corners = sharp_corners(
        q_rad, ds, chain.velocity_rad_s, math.radians(corner_stop_deg), corner_candidates
    )
    bounds = build_bounds(
        dq, ddq, ds, v_samples, corners, kappa,
        chain.velocity_rad_s, chain.acceleration_rad_s2, max_tool_acc_mm_s2,
    )  # fmt: skip
    x, u = reachability(bounds, ds)
    speed = np.sqrt(np.maximum(x, 0.0))
    moving = speed[:-1] + speed[1:]
    if not (moving > 0).all():
        k = int(np.argmin(moving))
        raise InvalidInputError("path", f"cannot be traversed at s = {s[k]:.1f} mm")
    t = np.concatenate([[0.0], np.cumsum(2.0 * ds / moving)])
    u_samples = np.append(u, u[-1])
    return Retimed(t, dq * speed[:, None], dq * u_samples[:, None] + ddq * x[:, None], speed)


def with_trigger(leg: Leg, trigger: np.ndarray, label: str | None = None) -> Leg:
    """A copy of ``leg`` with another gun pattern."""
    return replace(leg, trigger=np.asarray(trigger, dtype=bool), label=label or leg.label)


__all__ = [
    "APPROACH",
    "BACKUP",
    "PROGRAM",
    "Leg",
    "Retimed",
    "concat_legs",
    "hold_leg",
    "joint_move",
    "retime_samples",
    "stop_leg",
    "with_trigger",
]

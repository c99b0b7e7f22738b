"""Reachability analysis along a path coordinate (the core of :mod:`robot_nodes.timing`).

With ``x = sdot^2`` and ``u = sddot`` constant on each interval of a discretised path,
joint velocity, joint acceleration and tool acceleration limits are linear constraints on
``(u, x)``. A backward pass computes for every sample the largest ``x`` from which the
path can still be completed (stopping at the end); a forward pass then takes the largest
admissible ``u`` (as in TOPP-RA, Pham and Pham 2018, here with closed-form 2-variable
projections instead of LPs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Bounds:
    """Constraints on the path coordinate.

    Stage k (the interval from sample k to k + 1, with constant path acceleration u)
    requires ``gamma + delta x_k <= u <= alpha + beta x_k`` row by row; ``x_max`` caps
    ``x = sdot^2`` at each sample.
    """

    alpha: np.ndarray  # (K - 1, m)
    beta: np.ndarray
    gamma: np.ndarray
    delta: np.ndarray
    x_max: np.ndarray  # (K,)
    x_cap_reason: (
        np.ndarray
    )  # (K,) -1 requested speed, j velocity, n + j acceleration, 99 curvature


def path_derivatives(q: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """dq/ds and d2q/ds2 on a non-uniform grid: (K, n) each."""
    dq = np.gradient(q, s, axis=0, edge_order=1)
    ddq = np.gradient(dq, s, axis=0, edge_order=1)
    return dq, ddq


def path_curvature(p_mm: np.ndarray, s: np.ndarray) -> np.ndarray:
    """|d2p/ds2| (1/mm), (K,)."""
    dp = np.gradient(p_mm, s, axis=0, edge_order=1)
    return np.linalg.norm(np.gradient(dp, s, axis=0, edge_order=1), axis=1)


def sharp_corners(
    q: np.ndarray,
    ds: np.ndarray,
    vmax: np.ndarray,
    limit_rad: float,
    candidates: np.ndarray | None = None,
) -> np.ndarray:
    """(K,) mask of interior samples where the joint motion turns by more than ``limit_rad``.

    Parameters
    ----------
    q : (K, n) array
    ds : (K - 1,) array
    vmax : (n,) array
        Joint velocity limits; directions are compared in ``dq / vmax``.
    limit_rad : float
    candidates : (K,) bool array, optional
        Samples where the path may have a corner (the waypoints a densified path keeps
        sharp); every sample when None. Elsewhere the path is smooth by construction: a
        quick turn of the joint motion there (e.g. joints 2/3 handing over to joint 1 at the
        far end of a turnaround, which the one-sided differences of a few samples see as
        10-20 deg each) is curvature, which the acceleration limits slow down for, not a
        corner to stop at.
    """
    d = np.diff(q, axis=0) / ds[:, None] / vmax  # one-sided directions, (K - 1, n)
    norm = np.linalg.norm(d, axis=1)
    cos = np.einsum("ij,ij->i", d[:-1], d[1:]) / np.maximum(norm[:-1] * norm[1:], 1e-300)
    moving = (norm[:-1] > 1e-12) & (norm[1:] > 1e-12)
    corner = np.concatenate([[False], moving & (cos < np.cos(limit_rad)), [False]])
    if candidates is not None:
        corner &= np.asarray(candidates, dtype=bool)
    return corner


def build_bounds(
    dq: np.ndarray,
    ddq: np.ndarray,
    ds: np.ndarray,
    v_req: np.ndarray,
    stop: np.ndarray,
    kappa: np.ndarray,
    vmax: np.ndarray,
    amax: np.ndarray,
    a_tool: float,
) -> Bounds:
    """Build the constraints.

    Joint accelerations ``q' u + q'' x`` are bounded at both ends of every stage: at sample
    k with ``x_k``, and at sample k + 1 with ``x_{k+1} = x_k + 2 ds u``, which is linear in
    ``(u, x_k)`` as well. So every sample satisfies the limits with the acceleration of the
    stage before and after it.
    """
    K, n = dq.shape
    eps = 1e-12
    # rows: |A u + B x_k| <= lim
    A = np.concatenate([dq[:-1], dq[1:] + 2.0 * ds[:, None] * ddq[1:], np.ones((K - 1, 1))], axis=1)
    B = np.concatenate([ddq[:-1], ddq[1:], np.zeros((K - 1, 1))], axis=1)
    lim = np.concatenate([amax, amax, [a_tool]])
    small = np.abs(A) < 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        upper = np.where(A > 0, lim / A, -lim / A)
        lower = np.where(A > 0, -lim / A, lim / A)
        coef = -B / A
        stage_cap = np.where(small, lim / np.maximum(np.abs(B), eps), np.inf)  # x_k caps
    alpha = np.where(small, np.inf, upper)
    beta = np.where(small, 0.0, coef)
    gamma = np.where(small, -np.inf, lower)

    with np.errstate(divide="ignore"):
        acc_cap = np.full((K, n), np.inf)
        acc_cap[:-1] = np.minimum(stage_cap[:, :n], stage_cap[:, n : 2 * n])
        caps = np.column_stack(
            [
                v_req**2,
                (vmax / np.maximum(np.abs(dq), eps)) ** 2,
                acc_cap,
                np.where(kappa > eps, a_tool / np.maximum(kappa, eps), np.inf),
                np.where(stop, 0.0, np.inf),
            ]
        )
    x_max = caps.min(axis=1)
    arg = caps.argmin(axis=1)
    last = caps.shape[1] - 1
    reason = np.select([arg == 0, arg == last - 1, arg == last], [-1, 99, 98], arg - 1)
    return Bounds(alpha, beta, gamma, beta.copy(), x_max, reason)


def _static_x_limit(b: Bounds, ds: np.ndarray) -> np.ndarray:
    """Largest x at each sample feasible with every pair of bounds not involving k + 1.

    Pairs: (lower_l, upper_m) of the stage, and (u >= -x / (2 ds), upper_m).
    """
    # lower_l <= upper_m  <=>  (delta_l - beta_m) x <= alpha_m - gamma_l
    coef = b.delta[:, :, None] - b.beta[:, None, :]
    with np.errstate(invalid="ignore"):
        rhs = b.alpha[:, None, :] - b.gamma[:, :, None]  # never nan: alpha > -inf, gamma < inf
    lim = np.full_like(coef, np.inf)
    np.divide(rhs, coef, out=lim, where=coef > 1e-15)
    x_pairs = lim.reshape(len(coef), -1).min(axis=1)
    # -x/(2ds) <= alpha_m + beta_m x  <=>  (-1/(2ds) - beta_m) x <= alpha_m
    coef2 = -1.0 / (2.0 * ds)[:, None] - b.beta
    with np.errstate(divide="ignore", invalid="ignore"):
        lim2 = np.where(coef2 > 1e-15, b.alpha / coef2, np.inf)
    x_stage = np.minimum(x_pairs, lim2.min(axis=1))
    return np.minimum(b.x_max, np.append(x_stage, np.inf))


def _runs_end(flags: np.ndarray, *, backward: bool) -> np.ndarray:
    """For each index, where the run of True ``flags`` containing it stops.

    ``backward``: the largest j <= k with ``flags[j]`` False (-1 when none); else the
    smallest j >= k with ``flags[j]`` False (``len(flags)`` when none).
    """
    n = len(flags)
    idx = np.arange(n)
    if backward:
        return np.maximum.accumulate(np.where(flags, -1, idx))
    return np.minimum.accumulate(np.where(flags, n, idx)[::-1])[::-1]


def reachability(b: Bounds, ds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Backward (controllable) then forward (greedy) pass.

    Both passes are recurrences along the path, but on most samples of a spray path the
    answer is simply the static cap (backward) or the controllable speed (forward), and
    whether it is can be checked for all samples at once. The Python loop visits only the
    samples where a constraint of the recurrence binds and jumps over the runs in between;
    the result is the same as visiting every sample.

    Returns
    -------
    x : (K,) ndarray
        Squared path speed at the samples.
    u : (K - 1,) ndarray
        Path acceleration on each interval.
    """
    K = len(b.x_max)
    x_static = np.maximum(_static_x_limit(b, ds), 0.0)
    h = 1.0 / (2.0 * ds)
    # dynamic pair: lower_l <= (X_{k+1} - x)/(2ds)  <=>  (delta_l + h) x <= h X_{k+1} - gamma_l
    den = b.delta + h[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        finite = den > 1e-15
        slope = np.where(finite, h[:, None] / den, np.inf)
        offset = np.where(finite, -b.gamma / den, np.inf)
        # backward: with c_{k+1} at its static cap, c_k is at its static cap too
        at_cap = np.where(finite, slope * x_static[1:, None] + offset, np.inf).min(axis=1)
    free = at_cap >= x_static[:-1]
    jump_back = _runs_end(free, backward=True)

    controllable = x_static.copy()
    controllable[-1] = 0.0
    c = controllable.tolist()
    xs = x_static.tolist()
    k = K - 2
    exact = c[-1] == xs[-1]
    while k >= 0:
        if exact and free[k]:
            k = int(jump_back[k])  # samples in between stay at their static cap
            if k < 0:
                break
        nxt = c[k + 1]
        best = xs[k]
        for sl, of in zip(slope[k].tolist(), offset[k].tolist(), strict=True):
            if sl != math.inf:
                v = sl * nxt + of
                if v < best:
                    best = v
        best = max(best, 0.0)
        c[k] = best
        exact = best == xs[k]
        k -= 1
    controllable = np.array(c)

    # forward: from x_k at the controllable speed, reaching the next controllable speed
    # is admissible; then x stays on the controllable profile
    ds_l = ds.tolist()
    u_follow = (controllable[1:] - controllable[:-1]) * h
    with np.errstate(invalid="ignore"):
        u_cap = (b.alpha + b.beta * controllable[:-1, None]).min(axis=1)
    follow = u_cap >= u_follow
    jump_fwd = _runs_end(follow, backward=False)
    x_arr = controllable.copy()
    x_arr[0] = 0.0
    u_arr = u_follow.copy()
    x = x_arr.tolist()
    u = u_arr.tolist()
    k = 0
    exact = x[0] == c[0]
    while k < K - 1:
        if exact and follow[k]:
            k = int(jump_fwd[k])  # samples in between follow the controllable profile
            if k >= K - 1:
                break
        xk = x[k]
        two_ds = 2.0 * ds_l[k]
        u_max = (c[k + 1] - xk) / two_ds
        reach_next = True
        for al, be in zip(b.alpha[k].tolist(), b.beta[k].tolist(), strict=True):
            v = al + be * xk
            if v < u_max:
                u_max = v
                reach_next = False
        xn = c[k + 1] if reach_next else min(max(xk + two_ds * u_max, 0.0), c[k + 1])
        u[k] = (xn - xk) / two_ds
        x[k + 1] = xn
        exact = xn == c[k + 1]
        k += 1
    return np.array(x), np.array(u)

"""Planar pose of a part from edge points: robust Gauss-Newton and point-to-outline ICP.

A pose is ``p = [x_mm, y_mm, theta_rad, sx, sy]``: the reference point lands at (x, y), the
part frame is turned by theta about world z, and the outline is scaled by (sx, sy) along
the part's own axes about the reference point (size drift). A model point ``m`` (part frame,
relative to the reference) with outward normal ``nu`` lands at ``P = c + R S m``; a measured
world point ``Q`` on that edge has the residual ``r = (R nu) . (Q - P)`` (outward > 0).
"""

from __future__ import annotations

import math

import numpy as np

from edge_gateway.vision.model import ExpectedPart

#: free parameters: position + angle, and the two scales
RIGID = np.array([True, True, True, False, False])
SCALED = np.array([True, True, True, True, True])
#: Tukey's constant and the smallest residual scale it is applied with (mm)
_TUKEY_C = 4.685
_MIN_SIGMA_MM = 0.15
#: scales outside this range stop the fit (not the expected part at all)
SCALE_RANGE = (0.4, 2.5)


def rotation(theta_rad: float) -> np.ndarray:
    c, s = math.cos(theta_rad), math.sin(theta_rad)
    return np.array([[c, -s], [s, c]])


def place(p: np.ndarray, m: np.ndarray) -> np.ndarray:
    """(K, 2) world points of model points ``m`` (K, 2) at pose ``p``."""
    R = rotation(p[2])
    return (m * p[3:5]) @ R.T + p[:2]


def to_model(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """(K, 2) model coordinates of world points ``q`` (K, 2) at pose ``p``."""
    R = rotation(p[2])
    return ((q - p[:2]) @ R) / p[3:5]


def residuals(p: np.ndarray, m: np.ndarray, nu: np.ndarray, q: np.ndarray) -> np.ndarray:
    R = rotation(p[2])
    n = nu @ R.T
    return np.einsum("ij,ij->i", n, q - place(p, m))


def median_abs(r: np.ndarray) -> float:
    """Median of |r| (the upper middle value for an even count; 0 for none)."""
    if len(r) == 0:
        return 0.0
    a = np.abs(r)
    k = len(a) // 2
    return float(np.partition(a, k)[k])


def tukey_weights(r: np.ndarray, min_sigma: float = _MIN_SIGMA_MM) -> tuple[np.ndarray, float]:
    """Tukey biweights of residuals and the robust scale (1.4826 median |r|) they use."""
    sigma = max(1.4826 * median_abs(r), min_sigma)
    u = r / (_TUKEY_C * sigma)
    w = np.where(np.abs(u) < 1.0, (1.0 - u * u) ** 2, 0.0)
    return w, sigma


def gauss_newton(
    p: np.ndarray,
    m: np.ndarray,
    nu: np.ndarray,
    q: np.ndarray,
    free: np.ndarray,
    *,
    iterations: int = 5,
    min_sigma: float = _MIN_SIGMA_MM,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Robust (Tukey) Gauss-Newton on point-to-edge residuals with fixed association.

    Parameters
    ----------
    p : (5,) start pose.
    m, nu : (K, 2) model points and their outward normals (part frame).
    q : (K, 2) measured world points.
    free : (5,) bool, the parameters to fit.

    Returns
    -------
    p : (5,) pose; r : (K,) residuals (mm); w : (K,) weights of the last step.
    """
    p = np.asarray(p, dtype=float).copy()
    r = residuals(p, m, nu, q)
    w = np.ones(len(r))
    idx = np.flatnonzero(free)
    if len(r) < len(idx) + 2:
        return p, r, np.zeros(len(r))
    for _ in range(iterations):
        w, _ = tukey_weights(r, min_sigma)
        sm = m * p[3:5]
        J = np.empty((len(r), 5))
        R = rotation(p[2])
        n = nu @ R.T
        J[:, 0] = -n[:, 0]
        J[:, 1] = -n[:, 1]
        J[:, 2] = nu[:, 0] * sm[:, 1] - nu[:, 1] * sm[:, 0]
        J[:, 3] = -nu[:, 0] * m[:, 0]
        J[:, 4] = -nu[:, 1] * m[:, 1]
        Jf = J[:, idx]
        H = (Jf * w[:, None]).T @ Jf
        g = (Jf * w[:, None]).T @ r
        H += np.eye(len(idx)) * (1e-9 * (np.trace(H) + 1.0))
        try:
            delta = -np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        p[idx] += delta
        r = residuals(p, m, nu, q)
        if not (SCALE_RANGE[0] < p[3] < SCALE_RANGE[1] and SCALE_RANGE[0] < p[4] < SCALE_RANGE[1]):
            break
        step = np.zeros(5)
        step[idx] = delta  # the angle is not free for a circle
        if np.abs(step[:2]).max() < 1e-4 and abs(step[2]) < 1e-7:
            break
    return p, r, w


def nearest_on_outline(
    part: ExpectedPart, m: np.ndarray, coarse: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Foot points (K, 2) on the nearest outline segment of model points ``m`` (K, 2), and
    that segment's outward normal (K, 2); ``coarse``: on the simplified exterior."""
    if coarse:
        a, b, normal = part.coarse_a, part.coarse_b, part.coarse_normal
    else:
        a, b, normal = part.seg_a, part.seg_b, part.seg_normal
    d = b - a
    dd = np.einsum("ij,ij->i", d, d)
    out_f = np.empty_like(m)
    out_n = np.empty_like(m)
    # blocks keep the (K, M) temporaries small for detailed outlines
    block = max(1, 60000 // max(len(a), 1))
    for s in range(0, len(m), block):
        mm = m[s : s + block]
        rel = mm[:, None, :] - a[None, :, :]
        t = np.clip(np.einsum("kmj,mj->km", rel, d) / dd, 0.0, 1.0)
        foot = a[None, :, :] + t[:, :, None] * d[None, :, :]
        dist = np.sum((mm[:, None, :] - foot) ** 2, axis=2)
        j = np.argmin(dist, axis=1)
        k = np.arange(len(mm))
        out_f[s : s + block] = foot[k, j]
        out_n[s : s + block] = normal[j]
    return out_f, out_n


def icp(
    part: ExpectedPart,
    q: np.ndarray,
    p: np.ndarray,
    free: np.ndarray,
    *,
    iterations: int = 12,
    min_sigma: float = 1.0,
    coarse: bool = True,
    q_bottom: np.ndarray | None = None,
    camera_xy: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Point-to-outline ICP of measured world points ``q`` (K, 2) from pose ``p``: each point
    is paired with the nearest segment of the outline (``coarse``: its simplified exterior,
    for points on a region's outer boundary), then one robust Gauss-Newton step.

    Points of a silhouette lie on the top edge where the side face is hidden and on the
    bottom edge where it shows: with ``q_bottom`` (the same pixels back-projected onto the
    plane z = 0) and ``camera_xy`` (the camera centre over the belt), a point paired with a
    segment whose side face looks towards the camera is taken from ``q_bottom``.

    Returns the pose and the final residuals (mm).
    """
    p = np.asarray(p, dtype=float).copy()
    r = np.zeros(len(q))
    for _ in range(iterations):
        foot, nu, qq = _pair(part, q, p, coarse, q_bottom, camera_xy)
        p_new, r, _ = gauss_newton(p, foot, nu, qq, free, iterations=1, min_sigma=min_sigma)
        moved = np.abs(p_new[:2] - p[:2]).max() + 200.0 * abs(p_new[2] - p[2])
        p = p_new
        if moved < 0.05:
            break
    foot, nu, qq = _pair(part, q, p, coarse, q_bottom, camera_xy)
    return p, residuals(p, foot, nu, qq)


def _pair(part, q, p, coarse, q_bottom, camera_xy):
    foot, nu = nearest_on_outline(part, to_model(p, q), coarse)
    if q_bottom is None or camera_xy is None:
        return foot, nu, q
    n = nu @ rotation(p[2]).T
    facing = np.einsum("ij,ij->i", n, camera_xy - place(p, foot)) > 0
    return foot, nu, np.where(facing[:, None], q_bottom, q)

"""Cartesian tool paths: waypoints with per-segment speed and trigger, and their densification.

A :class:`ToolPath` carries what a ``SprayProgram`` carries: gun TCP poses in the robot
base frame (4x4, metres) and, for the segment that ends at each waypoint, the requested
tool speed and the gun trigger state. :func:`densify` samples it every few millimetres and
rounds corners between two gun-off segments (turnarounds) with a blend, so that the robot
does not have to stop there; corners touching a spray segment are kept sharp, so strokes
are sprayed exactly where planned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from recipes.errors import InvalidInputError


@dataclass(frozen=True)
class ToolPath:
    """Gun TCP waypoints with per-segment speed and trigger.

    Attributes
    ----------
    T_base_tcp : (M, 4, 4) ndarray
        Waypoint poses in the robot base frame, metres; M >= 2.
    speed_mm_s : (M,) ndarray
        Requested TCP speed on the segment ending at waypoint i; entry 0 is unused.
    trigger : (M,) bool ndarray
        Gun on along the segment ending at waypoint i; entry 0 must be False.
    """

    T_base_tcp: np.ndarray
    speed_mm_s: np.ndarray
    trigger: np.ndarray

    def __post_init__(self) -> None:
        T = np.asarray(self.T_base_tcp, dtype=float)
        speed = np.asarray(self.speed_mm_s, dtype=float)
        trigger = np.asarray(self.trigger, dtype=bool)
        if T.ndim != 3 or T.shape[1:] != (4, 4) or len(T) < 2:
            raise InvalidInputError("T_base_tcp", f"must be (M>=2, 4, 4), got {T.shape}")
        M = len(T)
        if speed.shape != (M,):
            raise InvalidInputError("speed_mm_s", f"has {speed.size} entries for {M} waypoints")
        if trigger.shape != (M,):
            raise InvalidInputError("trigger", f"has {trigger.size} entries for {M} waypoints")
        if trigger[0]:
            raise InvalidInputError(
                "trigger[0]", "the approach to the first waypoint must be gun-off"
            )
        bad = np.nonzero(~(speed[1:] > 0) | ~np.isfinite(speed[1:]))[0]
        if len(bad):
            i = int(bad[0]) + 1
            raise InvalidInputError(f"speed_mm_s[{i}]", f"must be > 0, got {speed[i]}")
        R = T[:, :3, :3]
        ortho = np.abs(R @ R.transpose(0, 2, 1) - np.eye(3)).max(axis=(1, 2))
        det = np.linalg.det(R)
        bad = np.nonzero((ortho > 1e-6) | (np.abs(det - 1.0) > 1e-6))[0]
        if len(bad):
            raise InvalidInputError(f"T_base_tcp[{int(bad[0])}]", "rotation is not orthonormal")
        object.__setattr__(self, "T_base_tcp", T)
        object.__setattr__(self, "speed_mm_s", speed)
        object.__setattr__(self, "trigger", trigger)

    @property
    def n_waypoints(self) -> int:
        """Number of waypoints M."""
        return len(self.T_base_tcp)


@dataclass(frozen=True)
class DensePath:
    """A tool path sampled densely.

    Attributes
    ----------
    T_base_tcp : (K, 4, 4) ndarray
        Sample poses, metres.
    s_mm : (K,) ndarray
        Path coordinate, 0 at the first sample; see :func:`densify`.
    speed_mm_s : (K,) ndarray
        Requested speed on the interval ending at sample k (entry 0 unused).
    trigger : (K,) bool ndarray
        Gun state on the interval ending at sample k (entry 0 False).
    segment : (K,) int ndarray
        Waypoint index i of the segment (ending at waypoint i) that interval k belongs to;
        blend intervals belong to the segment after the corner.
    is_waypoint : (K,) bool ndarray
        Samples that are waypoints (blended corners are not).
    """

    T_base_tcp: np.ndarray
    s_mm: np.ndarray
    speed_mm_s: np.ndarray
    trigger: np.ndarray
    segment: np.ndarray
    is_waypoint: np.ndarray


def _rotation_angle(R_a: np.ndarray, R_b: np.ndarray) -> np.ndarray:
    """Angles (rad) between rotation matrices, batched: (N, 3, 3) x2 -> (N,)."""
    cos = (np.trace(R_a.transpose(0, 2, 1) @ R_b, axis1=1, axis2=2) - 1.0) / 2.0
    return np.arccos(np.clip(cos, -1.0, 1.0))


def _poses(p: np.ndarray, R: np.ndarray) -> np.ndarray:
    T = np.zeros((len(p), 4, 4))
    T[:, :3, :3] = R
    T[:, :3, 3] = p
    T[:, 3, 3] = 1.0
    return T


def densify(
    path: ToolPath,
    *,
    step_mm: float = 2.0,
    step_rad: float = math.radians(1.0),
    blend_mm: float = 40.0,
    rotation_radius_mm: float = 100.0,
) -> DensePath:
    """Sample a tool path densely and round gun-off corners.

    Parameters
    ----------
    path : ToolPath
    step_mm : float
        Largest translation between samples (0.5-10 mm).
    step_rad : float
        Largest reorientation between samples.
    blend_mm : float
        Corner blend size: a corner between two gun-off segments is replaced by a quadratic
        Bezier from ``blend`` before to ``blend`` after it (at most half of each segment).
        0 disables blending.
    rotation_radius_mm : float
        Converts reorientation to path length: an interval's path coordinate increment is
        ``max(translation_mm, rotation_radius_mm * angle_rad)``, so pure reorientations
        get a finite duration at the requested speed. On pure translations (spray strokes)
        it is the TCP travel, so path speed is TCP speed.

    Returns
    -------
    DensePath
    """
    if not 0.5 <= step_mm <= 10.0:
        raise InvalidInputError("step_mm", f"must be within 0.5..10 mm, got {step_mm}")
    if not step_rad > 0:
        raise InvalidInputError("step_rad", f"must be > 0, got {step_rad}")
    T = path.T_base_tcp
    p_mm = T[:, :3, 3] * 1000.0
    rots = Rotation.from_matrix(T[:, :3, :3])
    M = len(T)
    seg_vec = np.diff(p_mm, axis=0)
    seg_len = np.linalg.norm(seg_vec, axis=1)  # (M-1,), segment i+1 ends at waypoint i+1
    seg_dir = np.divide(
        seg_vec, seg_len[:, None], out=np.zeros_like(seg_vec), where=seg_len[:, None] > 1e-9
    )

    # blend distance at interior waypoints 1..M-2
    blend = np.zeros(M)
    if blend_mm > 0:
        for i in range(1, M - 1):
            off_off = not path.trigger[i] and not path.trigger[i + 1]
            turn = float(seg_dir[i - 1] @ seg_dir[i])
            if off_off and seg_len[i - 1] > 1e-9 and seg_len[i] > 1e-9 and turn < 1.0 - 1e-9:
                blend[i] = min(blend_mm, 0.5 * seg_len[i - 1], 0.5 * seg_len[i])

    pts: list[np.ndarray] = [p_mm[:1]]
    rot_list: list[Rotation] = [rots[:1]]
    speed: list[np.ndarray] = [np.zeros(1)]
    trig: list[np.ndarray] = [np.zeros(1, dtype=bool)]
    seg: list[np.ndarray] = [np.zeros(1, dtype=int)]
    wp: list[np.ndarray] = [np.ones(1, dtype=bool)]

    def emit(p: np.ndarray, r: Rotation, i: int, waypoint_last: bool) -> None:
        n = len(p)
        pts.append(p)
        rot_list.append(r)
        speed.append(np.full(n, path.speed_mm_s[i]))
        trig.append(np.full(n, bool(path.trigger[i])))
        seg.append(np.full(n, i))
        flags = np.zeros(n, dtype=bool)
        flags[-1] = waypoint_last
        wp.append(flags)

    for i in range(1, M):
        L = seg_len[i - 1]
        slerp = Slerp([0.0, 1.0], rots[[i - 1, i]])
        t0 = blend[i - 1] / L if L > 1e-9 else 0.0
        t1 = 1.0 - (blend[i] / L if L > 1e-9 else 0.0)
        angle = float(_rotation_angle(T[i - 1 : i, :3, :3], T[i : i + 1, :3, :3])[0])
        span = (t1 - t0) * L
        # at least 2 steps, so that two sharp corners never sit on adjacent samples
        n = max(2, math.ceil(span / step_mm - 1e-9), math.ceil((t1 - t0) * angle / step_rad - 1e-9))
        if span < 1e-9 and (t1 - t0) * angle < 1e-12:
            n = 0  # the straight part vanished between two blends
        if n:
            t = t0 + (t1 - t0) * np.arange(1, n + 1) / n
            emit(p_mm[i - 1] + np.outer(t, seg_vec[i - 1]), slerp(t), i, blend[i] == 0)
        if blend[i] > 0:
            # quadratic Bezier A -> C with control point at the corner; orientation slerped
            d = blend[i]
            A, P, C = p_mm[i] - d * seg_dir[i - 1], p_mm[i], p_mm[i] + d * seg_dir[i]
            r_a = slerp([t1])
            r_c = Slerp([0.0, 1.0], rots[[i, i + 1]])([d / seg_len[i]])
            chord = float(np.linalg.norm(C - A))
            ang = float(_rotation_angle(r_a.as_matrix(), r_c.as_matrix())[0])
            nb = max(2, math.ceil(1.2 * (chord + 2 * d) / 2 / step_mm), math.ceil(ang / step_rad))
            u = np.arange(1, nb + 1) / nb
            bez = np.outer((1 - u) ** 2, A) + np.outer(2 * u * (1 - u), P) + np.outer(u**2, C)
            r_blend = Slerp([0.0, 1.0], Rotation.concatenate([r_a, r_c]))(u)
            emit(bez, r_blend, i + 1, False)

    p_all = np.concatenate(pts)
    R_all = Rotation.concatenate(rot_list).as_matrix()
    dp = np.linalg.norm(np.diff(p_all, axis=0), axis=1)
    dth = _rotation_angle(R_all[:-1], R_all[1:])
    ds = np.maximum(dp, rotation_radius_mm * dth)
    keep = np.concatenate([[True], ds > 1e-9])  # drop zero-length intervals
    ds = ds[keep[1:]]
    return DensePath(
        T_base_tcp=_poses(p_all[keep] / 1000.0, R_all[keep]),
        s_mm=np.concatenate([[0.0], np.cumsum(ds)]),
        speed_mm_s=np.concatenate(speed)[keep],
        trigger=np.concatenate(trig)[keep],
        segment=np.concatenate(seg)[keep],
        is_waypoint=np.concatenate(wp)[keep],
    )

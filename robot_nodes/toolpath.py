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
from scipy.spatial.transform import Rotation

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


def _quat_arc(qa: np.ndarray, qb: np.ndarray) -> np.ndarray:
    """Angle between unit quaternions as 4-vectors on the shorter arc (half the rotation
    angle between them), batched: (N, 4) x2 -> (N,). Accurate near 0 and near pi."""
    s = np.where(np.einsum("ij,ij->i", qa, qb) < 0.0, -1.0, 1.0)[:, None]
    return 2.0 * np.arctan2(
        np.linalg.norm(qb - s * qa, axis=1), np.linalg.norm(qb + s * qa, axis=1)
    )


def _quat_slerp(qa: np.ndarray, qb: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Spherical linear interpolation of unit quaternions on the shorter arc, batched.

    Parameters
    ----------
    qa, qb : (N, 4) arrays
        Unit quaternions.
    u : (N,) array
        Interpolation parameters, clipped to [0, 1].

    Returns
    -------
    (N, 4) ndarray
        Unit quaternions: ``qa`` at ``u = 0``, ``+-qb`` at ``u = 1``.
    """
    qb = np.where((np.einsum("ij,ij->i", qa, qb) < 0.0)[:, None], -qb, qb)
    omega = _quat_arc(qa, qb)[:, None]
    u = np.clip(u, 0.0, 1.0)[:, None]
    sin_omega = np.sin(omega)
    small = sin_omega < 1e-9
    safe = np.where(small, 1.0, sin_omega)
    wa = np.where(small, 1.0 - u, np.sin((1.0 - u) * omega) / safe)
    wb = np.where(small, u, np.sin(u * omega) / safe)
    q = wa * qa + wb * qb
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def _poses(p: np.ndarray, R: np.ndarray) -> np.ndarray:
    T = np.zeros((len(p), 4, 4))
    T[:, :3, :3] = R
    T[:, :3, 3] = p
    T[:, 3, 3] = 1.0
    return T


def _corner_blends(
    path: ToolPath, seg_len: np.ndarray, seg_dir: np.ndarray, blend_mm: float
) -> np.ndarray:
    """Blend distance (mm) at each waypoint, (M,): > 0 only at interior corners between two
    gun-off segments, at most half of either segment."""
    M = path.n_waypoints
    blend = np.zeros(M)
    if blend_mm <= 0 or M < 3:
        return blend
    i = np.arange(1, M - 1)
    off_off = ~path.trigger[i] & ~path.trigger[i + 1]
    turn = np.einsum("ij,ij->i", seg_dir[i - 1], seg_dir[i])
    corner = off_off & (seg_len[i - 1] > 1e-9) & (seg_len[i] > 1e-9) & (turn < 1.0 - 1e-9)
    size = np.minimum(blend_mm, 0.5 * np.minimum(seg_len[i - 1], seg_len[i]))
    blend[i] = np.where(corner, size, 0.0)
    return blend


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

    Notes
    -----
    Vectorised over segments: the path is cut into pieces (the straight part of each
    segment, then the blend at its end corner, if any), every piece is a quadratic Bezier
    in position (a straight piece has its control point in the middle, which makes it
    linear in the parameter) and a slerp in orientation, and all samples of all pieces are
    evaluated at once.
    """
    if not 0.5 <= step_mm <= 10.0:
        raise InvalidInputError("step_mm", f"must be within 0.5..10 mm, got {step_mm}")
    if not step_rad > 0:
        raise InvalidInputError("step_rad", f"must be > 0, got {step_rad}")
    T = path.T_base_tcp
    M = len(T)
    p_mm = T[:, :3, 3] * 1000.0
    quat = Rotation.from_matrix(T[:, :3, :3]).as_quat()  # (M, 4)
    seg_vec = np.diff(p_mm, axis=0)
    seg_len = np.linalg.norm(seg_vec, axis=1)  # (M-1,), segment i+1 ends at waypoint i+1
    has_len = seg_len > 1e-9
    seg_dir = np.divide(
        seg_vec, seg_len[:, None], out=np.zeros_like(seg_vec), where=has_len[:, None]
    )
    blend = _corner_blends(path, seg_len, seg_dir, blend_mm)

    # straight part of segment i (1..M-1): from t0 to t1 along it
    i = np.arange(1, M)
    L = np.where(has_len, seg_len, 1.0)
    t0 = np.where(has_len, np.minimum(blend[i - 1] / L, 0.5), 0.0)
    t1 = np.where(has_len, np.maximum(1.0 - blend[i] / L, t0), 1.0)
    seg_angle = 2.0 * _quat_arc(quat[:-1], quat[1:])
    span = (t1 - t0) * seg_len
    n_str = np.maximum.reduce(
        [
            np.full(M - 1, 2),
            np.ceil(span / step_mm - 1e-9).astype(int),
            np.ceil((t1 - t0) * seg_angle / step_rad - 1e-9).astype(int),
        ]
    )  # at least 2 steps, so that two sharp corners never sit on adjacent samples
    n_str[(span < 1e-9) & ((t1 - t0) * seg_angle < 1e-12)] = 0  # vanished between two blends
    q_t0 = _quat_slerp(quat[:-1], quat[1:], t0)
    q_t1 = _quat_slerp(quat[:-1], quat[1:], t1)
    A_str = p_mm[:-1] + t0[:, None] * seg_vec
    C_str = p_mm[:-1] + t1[:, None] * seg_vec
    C_str[blend[1:] == 0] = p_mm[1:][blend[1:] == 0]  # waypoints exactly

    # blend at corner i (1..M-2): A -> C with the control point on the corner
    d = blend[1:-1]
    d_next = np.concatenate([d, [0.0]])  # per segment i: the blend at its end
    A_bl = p_mm[1:-1] - d[:, None] * seg_dir[:-1]
    C_bl = p_mm[1:-1] + d[:, None] * seg_dir[1:]
    q_c = _quat_slerp(quat[1:-1], quat[2:], d / np.where(has_len[1:], seg_len[1:], 1.0))
    q_a = q_t1[:-1]
    chord = np.linalg.norm(C_bl - A_bl, axis=1)
    ang = 2.0 * _quat_arc(q_a, q_c)
    n_bl = np.maximum.reduce(
        [
            np.full(M - 2, 2),
            np.ceil(1.2 * (chord + 2 * d) / 2 / step_mm).astype(int),
            np.ceil(ang / step_rad).astype(int),
        ]
    )
    n_bl[d <= 0] = 0

    # pieces in path order: straight 1, blend 1, straight 2, blend 2, ..., straight M-1
    n_pieces = 2 * (M - 1) - 1
    count = np.empty(n_pieces, dtype=int)
    count[0::2], count[1::2] = n_str, n_bl
    A = np.empty((n_pieces, 3))
    C = np.empty((n_pieces, 3))
    A[0::2], A[1::2] = A_str, A_bl
    C[0::2], C[1::2] = C_str, C_bl
    P = 0.5 * (A + C)
    P[1::2] = p_mm[1:-1]
    QA = np.empty((n_pieces, 4))
    QC = np.empty((n_pieces, 4))
    QA[0::2], QA[1::2] = q_t0, q_a
    QC[0::2], QC[1::2] = q_t1, q_c
    seg_of_piece = np.empty(n_pieces, dtype=int)
    seg_of_piece[0::2], seg_of_piece[1::2] = i, i[1:]  # blends belong to the next segment
    wp_last = np.zeros(n_pieces, dtype=bool)
    wp_last[0::2] = d_next == 0

    piece = np.repeat(np.arange(n_pieces), count)
    ends = np.cumsum(count)
    k_in = np.arange(len(piece)) - np.repeat(ends - count, count) + 1
    u = k_in / count[piece]
    w0, w1, w2 = (1.0 - u) ** 2, 2.0 * u * (1.0 - u), u**2
    p_all = np.vstack(
        [p_mm[:1], w0[:, None] * A[piece] + w1[:, None] * P[piece] + w2[:, None] * C[piece]]
    )
    q_all = np.vstack([quat[:1], _quat_slerp(QA[piece], QC[piece], u)])
    seg = np.concatenate([[0], seg_of_piece[piece]])
    is_wp = np.concatenate([[True], wp_last[piece] & (k_in == count[piece])])

    dp = np.linalg.norm(np.diff(p_all, axis=0), axis=1)
    dth = 2.0 * _quat_arc(q_all[:-1], q_all[1:])
    ds = np.maximum(dp, rotation_radius_mm * dth)
    keep = np.concatenate([[True], ds > 1e-9])  # drop zero-length intervals
    ds = ds[keep[1:]]
    R_all = Rotation.from_quat(q_all[keep]).as_matrix()
    speed = path.speed_mm_s[seg]
    speed[0] = 0.0
    trig = path.trigger[seg]
    return DensePath(
        T_base_tcp=_poses(p_all[keep] / 1000.0, R_all),
        s_mm=np.concatenate([[0.0], np.cumsum(ds)]),
        speed_mm_s=speed[keep],
        trigger=trig[keep],
        segment=seg[keep],
        is_waypoint=is_wp[keep],
    )

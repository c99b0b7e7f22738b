"""Analytic inverse kinematics of 6R arms with an ortho-parallel base and a spherical wrist.

The geometry is read from the chain at its zero pose (product of exponentials), so any URDF
of this class works, whatever its link frames: joint 1 about the base z axis, joints 2 and 3
about parallel horizontal axes (y at zero), and joints 4, 5 and 6 meeting at one point
(the wrist centre) in the arm plane. Every pose has up to 8 solutions: shoulder front/back x
elbow up/down x wrist flip. Each is polished by Newton steps on the full chain, checked
against singularity margins and joint limits, and joints with more than a full turn of
range take the 2 pi multiple closest to a reference.
"""

from __future__ import annotations

import math

import numpy as np

from recipes.errors import InvalidInputError, UnreachableTargetError
from robot_nodes.kinematics.chain import SerialChain, rotation_log
from robot_nodes.kinematics.solutions import CONFIGS, IkSolutions, IkStatus, config_label

__all__ = ["CONFIGS", "IkSolutions", "IkStatus", "SphericalWristIK", "config_label"]

_TOL_GEOMETRY = 1e-6
_TWO_PI = 2.0 * math.pi


def _wrap(angle: np.ndarray) -> np.ndarray:
    return (angle + math.pi) % _TWO_PI - math.pi


def _closest_point_of_axes(
    p_a: np.ndarray, d_a: np.ndarray, p_b: np.ndarray, d_b: np.ndarray
) -> tuple[np.ndarray, float]:
    """Point on axis a closest to axis b, and the distance between the axes."""
    n = np.cross(d_a, d_b)
    nn = float(n @ n)
    if nn < 1e-12:
        raise InvalidInputError("wrist", "joint 4 and joint 5 axes are parallel")
    t = float(np.cross(p_b - p_a, d_b) @ n) / nn
    point = p_a + t * d_a
    return point, abs(float((p_b - p_a) @ n)) / math.sqrt(nn)


def _dist_to_axis(point: np.ndarray, p: np.ndarray, d: np.ndarray) -> float:
    return float(np.linalg.norm(np.cross(point - p, d)))


class SphericalWristIK:
    """Analytic IK for a :class:`SerialChain` of the ortho-parallel, spherical-wrist class.

    Parameters
    ----------
    chain : SerialChain
        Six revolute joints, base to TCP.
    shoulder_margin_m : float
        Minimum distance of the wrist centre from the joint 1 axis.
    elbow_margin_rad : float
        Minimum angle away from the arm fully stretched or folded.
    wrist_margin_rad : float
        Minimum ``|joint_5|`` (and distance from pi) away from the wrist singularity, where
        joints 4 and 6 align.
    newton_steps : int
        Refinement steps on the full chain.

    Raises
    ------
    InvalidInputError
        When the chain is not of this class, saying which condition fails.
    """

    def __init__(
        self,
        chain: SerialChain,
        *,
        shoulder_margin_m: float = 0.05,
        elbow_margin_rad: float = math.radians(2.0),
        wrist_margin_rad: float = math.radians(5.0),
        newton_steps: int = 2,
    ) -> None:
        if chain.dof != 6:
            raise InvalidInputError("chain", f"needs 6 joints, has {chain.dof}")
        self.chain = chain
        self.shoulder_margin_m = float(shoulder_margin_m)
        self.elbow_margin_rad = float(elbow_margin_rad)
        self.wrist_margin_rad = float(wrist_margin_rad)
        self.newton_steps = int(newton_steps)
        self._extract_geometry()

    def _extract_geometry(self) -> None:
        frames, T_tip0 = self.chain.joint_frames(np.zeros(6))
        p = frames[0, :, :3, 3]
        w = np.einsum("ijk,ik->ij", frames[0, :, :3, :3], self.chain.axes)
        names = self.chain.joint_names
        ez, ey = np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0])

        def parallel(i: int, ref: np.ndarray, what: str) -> float:
            if np.linalg.norm(np.cross(w[i], ref)) > _TOL_GEOMETRY:
                raise InvalidInputError(f"joint '{names[i]}'", f"axis must be {what} at zero pose")
            return float(np.sign(w[i] @ ref))

        s1 = parallel(0, ez, "the base z axis")
        if np.hypot(p[0, 0], p[0, 1]) > _TOL_GEOMETRY:
            raise InvalidInputError(f"joint '{names[0]}'", "axis must pass through the base origin")
        s2 = parallel(1, ey, "parallel to base y")
        s3 = parallel(2, ey, "parallel to base y")
        if abs(w[3] @ w[4]) > _TOL_GEOMETRY:
            raise InvalidInputError(f"joint '{names[4]}'", "axis must be perpendicular to joint 4")
        s6 = parallel(5, w[3], "parallel to joint 4")
        W0, gap = _closest_point_of_axes(p[3], w[3], p[4], w[4])
        if gap > _TOL_GEOMETRY or _dist_to_axis(W0, p[5], w[5]) > _TOL_GEOMETRY:
            raise InvalidInputError("wrist", "joint 4, 5 and 6 axes must meet in one point")
        if max(abs(p[1, 1]), abs(p[2, 1]), abs(W0[1])) > _TOL_GEOMETRY:
            raise InvalidInputError("arm", "shoulder, elbow and wrist centre must lie in x-z plane")

        self._signs = np.array([s1, s2, s3, 1.0, 1.0, s6])
        self._a1, self._c1 = float(p[1, 0]), float(p[1, 2])
        self._u = np.array([p[2, 0] - p[1, 0], p[2, 2] - p[1, 2]])
        self._v = np.array([W0[0] - p[2, 0], W0[2] - p[2, 2]])
        lu, lv = float(np.linalg.norm(self._u)), float(np.linalg.norm(self._v))
        self._K = lu * lv
        self._uu_vv = lu * lu + lv * lv
        self._beta = math.atan2(
            self._u[0] * self._v[1] - self._u[1] * self._v[0], float(self._u @ self._v)
        )
        self.reach_m = (abs(lu - lv), lu + lv)
        """Range of wrist-centre distances from the shoulder (joint 2) axis, metres."""
        self._R_w = np.column_stack([w[3], w[4], np.cross(w[3], w[4])])
        self._R_tip0 = T_tip0[0, :3, :3]
        self._W_in_tip = np.linalg.solve(T_tip0[0], np.append(W0, 1.0))[:3]

    def wrist_centre(self, T_base_tip: np.ndarray) -> np.ndarray:
        """Wrist centre positions for TCP poses.

        Parameters
        ----------
        T_base_tip : (N, 4, 4) array

        Returns
        -------
        (N, 3) ndarray, metres.
        """
        return T_base_tip[:, :3, :3] @ self._W_in_tip + T_base_tip[:, :3, 3]

    def solve(self, T_base_tip: np.ndarray, q_ref_rad: np.ndarray | None = None) -> IkSolutions:
        """All solutions for each pose.

        Parameters
        ----------
        T_base_tip : (N, 4, 4) or (4, 4) array
            TCP poses in the chain's base frame, metres.
        q_ref_rad : (N, 6) or (6,) array, optional
            Reference for choosing among 2 pi multiples of wide-range joints; zero if None.

        Returns
        -------
        IkSolutions
            With N = 1 for a single pose.
        """
        T = np.asarray(T_base_tip, dtype=float).reshape(-1, 4, 4)
        N = len(T)
        ref = np.zeros((N, 6)) if q_ref_rad is None else np.broadcast_to(q_ref_rad, (N, 6))
        W = self.wrist_centre(T)
        rho = np.hypot(W[:, 0], W[:, 1])
        phi = np.arctan2(W[:, 1], W[:, 0])
        theta = np.zeros((N, 8, 6))
        status = np.full((N, 8), IkStatus.OK, dtype=np.int8)
        u, v = self._u, self._v

        for si, shoulder in enumerate((1.0, -1.0)):
            theta1 = phi if shoulder > 0 else phi + math.pi
            x = shoulder * rho - self._a1
            z = W[:, 2] - self._c1
            D = (x * x + z * z - self._uu_vv) / (2.0 * self._K)
            unreachable = np.abs(D) > 1.0
            gamma = np.arccos(np.clip(D, -1.0, 1.0))
            elbow_singular = np.sin(gamma) < math.sin(self.elbow_margin_rad)
            shoulder_singular = rho < self.shoulder_margin_m
            for ei, elbow in enumerate((1.0, -1.0)):
                theta3 = self._beta + elbow * gamma
                c3, s3 = np.cos(theta3), np.sin(theta3)
                wx = u[0] + c3 * v[0] + s3 * v[1]
                wz = u[1] - s3 * v[0] + c3 * v[1]
                theta2 = np.arctan2(wz, wx) - np.arctan2(z, x)
                M = self._wrist_matrix(T[:, :3, :3], theta1, theta2 + theta3)
                sin5 = np.hypot(M[:, 0, 1], M[:, 0, 2])
                for wi, wrist in enumerate((1.0, -1.0)):
                    k = si * 4 + ei * 2 + wi
                    q5 = np.arctan2(wrist * sin5, M[:, 0, 0])
                    q4 = np.arctan2(wrist * M[:, 1, 0], -wrist * M[:, 2, 0])
                    q6 = np.arctan2(wrist * M[:, 0, 1], wrist * M[:, 0, 2])
                    theta[:, k] = np.stack([theta1, theta2, theta3, q4, q5, q6], axis=1)
                    st = status[:, k]
                    st[np.abs(np.sin(q5)) < math.sin(self.wrist_margin_rad)] = (
                        IkStatus.WRIST_SINGULAR
                    )
                    st[elbow_singular] = IkStatus.ELBOW_SINGULAR
                    st[shoulder_singular] = IkStatus.SHOULDER_SINGULAR
                    st[unreachable] = IkStatus.UNREACHABLE

        q = _wrap(theta * self._signs)
        q = self._refine(T, q, status == IkStatus.OK)
        q, limit_joint = self._fit_limits(q, ref)
        status[(status == IkStatus.OK) & (limit_joint >= 0)] = IkStatus.JOINT_LIMIT
        return IkSolutions(q, status, limit_joint)

    def _wrist_matrix(
        self, R_target: np.ndarray, theta1: np.ndarray, theta23: np.ndarray
    ) -> np.ndarray:
        """``Rx(q4) Ry(q5) Rx(q6)`` in the wrist basis, from the target and the arm angles."""
        c1, s1 = np.cos(theta1), np.sin(theta1)
        c23, s23 = np.cos(theta23), np.sin(theta23)
        N = len(theta1)
        R_arm = np.empty((N, 3, 3))
        # Rz(theta1) @ Ry(theta23)
        R_arm[:, 0] = np.stack([c1 * c23, -s1, c1 * s23], axis=1)
        R_arm[:, 1] = np.stack([s1 * c23, c1, s1 * s23], axis=1)
        R_arm[:, 2] = np.stack([-s23, np.zeros(N), c23], axis=1)
        M_world = R_arm.transpose(0, 2, 1) @ R_target @ self._R_tip0.T
        return self._R_w.T @ M_world @ self._R_w

    def _refine(self, T: np.ndarray, q: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Newton steps on the full chain for the masked solutions."""
        idx = np.nonzero(mask.ravel())[0]
        if len(idx) == 0 or self.newton_steps <= 0:
            return q
        flat = q.reshape(-1, 6).copy()
        target = np.repeat(T, 8, axis=0)[idx]
        qi = flat[idx]
        for _ in range(self.newton_steps):
            frames_T = self.chain.fk(qi)
            err = np.concatenate(
                [
                    target[:, :3, 3] - frames_T[:, :3, 3],
                    rotation_log(target[:, :3, :3] @ frames_T[:, :3, :3].transpose(0, 2, 1)),
                ],
                axis=1,
            )
            J = self.chain.jacobian(qi)
            step = np.linalg.solve(J, err[:, :, None])[:, :, 0]
            qi = qi + np.clip(step, -0.05, 0.05)
        flat[idx] = qi
        return flat.reshape(q.shape)

    def _fit_limits(self, q: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pick the 2 pi multiple closest to ``ref`` within limits; flag joints that have none."""
        shifts = _TWO_PI * np.arange(-2, 3)
        cand = q[..., None] + shifts  # (N, 8, 6, 5)
        lo = self.chain.lower_rad[:, None] - 1e-9
        hi = self.chain.upper_rad[:, None] + 1e-9
        inside = (cand >= lo) & (cand <= hi)
        cost = np.abs(cand - ref[:, None, :, None])
        cost = np.where(inside, cost, np.inf)
        best = np.argmin(cost, axis=-1)
        chosen = np.take_along_axis(cand, best[..., None], axis=-1)[..., 0]
        bad = ~np.isfinite(np.min(cost, axis=-1))  # (N, 8, 6)
        limit_joint = np.where(bad.any(axis=-1), np.argmax(bad, axis=-1), -1)
        chosen = np.where(bad, q, chosen)
        return chosen, limit_joint

    def explain(self, solutions: IkSolutions, i: int = 0) -> str:
        """Why pose ``i`` has no usable solution, in words."""
        parts = []
        st = solutions.status[i]
        for code in IkStatus:
            ks = np.nonzero(st == code)[0]
            if code is IkStatus.OK or len(ks) == 0:
                continue
            if code is IkStatus.UNREACHABLE:
                text = f"beyond reach ({self.reach_m[0]:.3f}..{self.reach_m[1]:.3f} m)"
            elif code is IkStatus.SHOULDER_SINGULAR:
                text = f"wrist centre within {self.shoulder_margin_m * 1000:.0f} mm of joint 1 axis"
            elif code is IkStatus.ELBOW_SINGULAR:
                text = f"arm within {math.degrees(self.elbow_margin_rad):.1f} deg of stretched"
            elif code is IkStatus.WRIST_SINGULAR:
                text = (
                    f"within {math.degrees(self.wrist_margin_rad):.1f} deg of the wrist "
                    "singularity (joint 5 near 0)"
                )
            else:
                joints = sorted({self.chain.joint_names[j] for j in solutions.limit_joint[i, ks]})
                text = f"outside joint limits ({', '.join(joints)})"
            parts.append(f"{len(ks)} {text}")
        return "no usable IK solution: " + "; ".join(parts)

    def _cost(self, q: np.ndarray, q_ref: np.ndarray) -> np.ndarray:
        """Time-like distance: joint moves divided by joint velocity limits (max over joints)."""
        return np.max(np.abs(q - q_ref) / self.chain.velocity_rad_s, axis=-1)

    def solve_near(
        self, T_base_tip: np.ndarray, q_ref_rad: np.ndarray, *, field: str = "pose"
    ) -> np.ndarray:
        """The usable solution closest to ``q_ref_rad`` (by time at velocity limits).

        Parameters
        ----------
        T_base_tip : (4, 4) array
        q_ref_rad : (6,) array
        field : str
            Name of the pose in error messages.

        Returns
        -------
        (6,) ndarray

        Raises
        ------
        UnreachableTargetError
            With the reasons, when no solution is usable.
        """
        ref = np.asarray(q_ref_rad, dtype=float)
        sols = self.solve(T_base_tip, ref)
        valid = sols.valid[0]
        if not valid.any():
            raise UnreachableTargetError(field, self._describe_pose(T_base_tip, sols, 0))
        cost = np.where(valid, self._cost(sols.q_rad[0], ref), np.inf)
        return sols.q_rad[0, int(np.argmin(cost))]

    def _describe_pose(self, T_base_tip: np.ndarray, sols: IkSolutions, i: int) -> str:
        T = np.asarray(T_base_tip).reshape(-1, 4, 4)[i]
        x, y, z = T[:3, 3] * 1000.0
        return f"TCP at ({x:.1f}, {y:.1f}, {z:.1f}) mm: {self.explain(sols, i)}"

    def solve_path(
        self,
        T_base_tip: np.ndarray,
        q_start_rad: np.ndarray,
        *,
        max_step_rad: float = 0.2,
        field: str = "path",
    ) -> np.ndarray:
        """Joint path along densely sampled TCP poses, in one configuration throughout.

        The configuration (shoulder, elbow, wrist) usable along the whole path and closest
        to ``q_start_rad`` at the first pose is kept, so the wrist never flips mid-path;
        wide-range joints are unwrapped for continuity.

        Parameters
        ----------
        T_base_tip : (N, 4, 4) array
            Consecutive poses, close enough that joints move little between them.
        q_start_rad : (6,) array
            Current or expected joint position before the path.
        max_step_rad : float
            Largest joint change allowed between consecutive poses.
        field : str
            Name of the path in error messages.

        Returns
        -------
        (N, 6) ndarray

        Raises
        ------
        UnreachableTargetError
            When no single configuration covers the path, a joint would leave its limits or
            jump (near a singularity), naming the first failing pose and the reason.
        """
        T = np.asarray(T_base_tip, dtype=float).reshape(-1, 4, 4)
        q_start = np.asarray(q_start_rad, dtype=float)
        sols = self.solve(T)
        usable = sols.valid.all(axis=0)
        if not usable.any():
            raise UnreachableTargetError(field, self._path_failure(T, sols))
        cost = np.where(usable, self._cost(_nearest_turn(sols.q_rad[0], q_start), q_start), np.inf)
        k = int(np.argmin(cost))
        q = sols.q_rad[:, k].copy()
        q[1:] = q[0] + np.cumsum(_wrap(np.diff(q, axis=0)), axis=0)  # unwrap
        q = self._shift_into_limits(q, q_start, field)
        steps = np.abs(np.diff(q, axis=0))
        if len(steps) and steps.max() > max_step_rad:
            i, j = np.unravel_index(int(np.argmax(steps)), steps.shape)
            raise UnreachableTargetError(
                f"{field}[{i + 1}]",
                f"{self.chain.joint_names[j]} jumps {math.degrees(steps[i, j]):.1f} deg between "
                f"consecutive poses in configuration {config_label(k)} (near a singularity)",
            )
        return q

    def _shift_into_limits(self, q: np.ndarray, q_start: np.ndarray, field: str) -> np.ndarray:
        out = q.copy()
        for j in range(6):
            offsets = _TWO_PI * np.arange(-2, 3)
            best = None
            for off in sorted(offsets, key=lambda o: abs(q[0, j] + o - q_start[j])):
                path = q[:, j] + off
                if path.min() >= self.chain.lower_rad[j] - 1e-9 and (
                    path.max() <= self.chain.upper_rad[j] + 1e-9
                ):
                    best = path
                    break
            if best is None:
                outside = (q[:, j] < self.chain.lower_rad[j]) | (q[:, j] > self.chain.upper_rad[j])
                i = int(np.argmax(outside)) if outside.any() else 0
                raise UnreachableTargetError(
                    f"{field}[{i}]",
                    f"{self.chain.joint_names[j]} would leave its limits "
                    f"[{self.chain.lower_rad[j]:.3f}, {self.chain.upper_rad[j]:.3f}] rad "
                    f"(range used along the path: {np.ptp(q[:, j]):.3f} rad)",
                )
            out[:, j] = best
        return out

    def _path_failure(self, T: np.ndarray, sols: IkSolutions) -> str:
        reasons = []
        for k in range(8):
            bad = np.nonzero(~sols.valid[:, k])[0]
            i = int(bad[0])
            code = IkStatus(int(sols.status[i, k]))
            reasons.append(f"{config_label(k)} fails at pose {i} ({code.name.lower()})")
        first_any = (
            int(np.argmax(~sols.valid.any(axis=1))) if (~sols.valid.any(axis=1)).any() else -1
        )
        head = "no single arm configuration covers the path"
        if first_any >= 0:
            head += f"; pose {first_any}: {self._describe_pose(T, sols, first_any)}"
        return head + " [" + "; ".join(reasons) + "]"


def _nearest_turn(q: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``q`` shifted by multiples of 2 pi towards ``ref`` (for distances only)."""
    return ref + _wrap(q - ref)

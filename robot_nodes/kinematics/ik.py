"""Analytic inverse kinematics of 6R arms with an ortho-parallel base and a spherical wrist.

The geometry is read from the chain at its zero pose (product of exponentials), so any URDF
of this class works, whatever its link frames: joint 1 about the base z axis, joints 2 and 3
about parallel horizontal axes (y at zero), and joints 4, 5 and 6 meeting at one point
(the wrist centre) in the arm plane. Every pose has up to 8 solutions: shoulder front/back x
elbow up/down x wrist flip. Each is checked against singularity margins and joint limits,
joints with more than a full turn of range take the 2 pi multiple closest to a reference,
and Newton steps on the full chain polish solutions the closed form leaves off their pose
(a chain within the tolerance of the class rather than exactly in it; for painter6 the
closed form is exact to 1e-15, which a check at construction establishes, and nothing is
polished). Along a path, only the configuration kept is polished.
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
    """Angles wrapped to [-pi, pi) (floor instead of ``%``: a third of the time)."""
    return angle - _TWO_PI * np.floor((angle + math.pi) * (1.0 / _TWO_PI))


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
        Largest number of refinement steps on the full chain (each first checks the pose
        error and stops once it is below 1e-12).

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
        self.closed_form_exact = self._closed_form_error() < 1e-10
        """Whether the closed form reproduces poses of this chain to 1e-10 (m, rad); then
        solutions are not polished."""

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
        q, status = self._analytic(T)
        ok = status == IkStatus.OK
        flat = q.reshape(-1, 6)
        idx = np.nonzero(ok.ravel())[0]
        flat[idx] = self._refine(np.repeat(T, 8, axis=0)[idx], flat[idx])
        return self._with_limits(q, status, ref)

    def _with_limits(self, q: np.ndarray, status: np.ndarray, ref: np.ndarray) -> IkSolutions:
        q, limit_joint = self._fit_limits(q, ref)
        status[(status == IkStatus.OK) & (limit_joint >= 0)] = IkStatus.JOINT_LIMIT
        return IkSolutions(q, status, limit_joint)

    def _analytic(self, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Closed-form solutions before refinement: q (N, 8, 6) wrapped to [-pi, pi), and
        their status (N, 8) without the joint-limit check."""
        N = len(T)
        W = self.wrist_centre(T)
        rho = np.hypot(W[:, 0], W[:, 1])
        phi = np.arctan2(W[:, 1], W[:, 0])
        cos_phi, sin_phi = np.cos(phi), np.sin(phi)
        X = T[:, :3, :3] @ self._R_tip0.T  # target wrist orientation, base frame
        theta = np.zeros((N, 8, 6))
        status = np.full((N, 8), IkStatus.OK, dtype=np.int8)
        u, v = self._u, self._v
        z = W[:, 2] - self._c1
        shoulder_singular = rho < self.shoulder_margin_m

        for si, shoulder in enumerate((1.0, -1.0)):
            theta1 = phi if shoulder > 0 else phi + math.pi
            # rows of Rz(theta1)^T X
            c1, s1 = (shoulder * cos_phi)[:, None], (shoulder * sin_phi)[:, None]
            Y0 = c1 * X[:, 0] + s1 * X[:, 1]
            Y1 = -s1 * X[:, 0] + c1 * X[:, 1]
            Y2 = X[:, 2]
            x = shoulder * rho - self._a1
            D = (x * x + z * z - self._uu_vv) / (2.0 * self._K)
            unreachable = np.abs(D) > 1.0
            gamma = np.arccos(np.clip(D, -1.0, 1.0))
            elbow_singular = np.sin(gamma) < math.sin(self.elbow_margin_rad)
            for ei, elbow in enumerate((1.0, -1.0)):
                theta3 = self._beta + elbow * gamma
                c3, s3 = np.cos(theta3), np.sin(theta3)
                wx = u[0] + c3 * v[0] + s3 * v[1]
                wz = u[1] - s3 * v[0] + c3 * v[1]
                theta2 = np.arctan2(wz, wx) - np.arctan2(z, x)
                m00, m01, m02, m10, m20 = self._wrist_entries(Y0, Y1, Y2, theta2 + theta3)
                sin5 = np.hypot(m01, m02)
                for wi, wrist in enumerate((1.0, -1.0)):
                    k = si * 4 + ei * 2 + wi
                    q5 = np.arctan2(wrist * sin5, m00)
                    q4 = np.arctan2(wrist * m10, -wrist * m20)
                    q6 = np.arctan2(wrist * m01, wrist * m02)
                    theta[:, k, 0] = theta1
                    theta[:, k, 1] = theta2
                    theta[:, k, 2] = theta3
                    theta[:, k, 3] = q4
                    theta[:, k, 4] = q5
                    theta[:, k, 5] = q6
                    st = status[:, k]
                    st[np.abs(np.sin(q5)) < math.sin(self.wrist_margin_rad)] = (
                        IkStatus.WRIST_SINGULAR
                    )
                    st[elbow_singular] = IkStatus.ELBOW_SINGULAR
                    st[shoulder_singular] = IkStatus.SHOULDER_SINGULAR
                    st[unreachable] = IkStatus.UNREACHABLE

        return _wrap(theta * self._signs), status

    def _wrist_entries(
        self, Y0: np.ndarray, Y1: np.ndarray, Y2: np.ndarray, theta23: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        """Entries (0,0), (0,1), (0,2), (1,0), (2,0) of ``Rx(q4) Ry(q5) Rx(q6)`` in the wrist
        basis: ``R_w^T Ry(theta23)^T Y R_w``, with ``Y = Rz(theta1)^T R_target R_tip0^T``
        given by rows (N, 3) each."""
        c, s = np.cos(theta23)[:, None], np.sin(theta23)[:, None]
        Z0 = c * Y0 - s * Y2  # rows of Ry(theta23)^T Y
        Z2 = s * Y0 + c * Y2
        R_w = self._R_w
        w0 = R_w[:, 0]
        row0 = (w0[0] * Z0 + w0[1] * Y1 + w0[2] * Z2) @ R_w  # w0^T Z R_w
        col0 = np.stack([Z0 @ w0, Y1 @ w0, Z2 @ w0], axis=1) @ R_w  # (R_w^T Z w0)^T
        return row0[:, 0], row0[:, 1], row0[:, 2], col0[:, 1], col0[:, 2]

    def _closed_form_error(self) -> float:
        """Largest pose error (m or rad) of the closed form over 64 seeded joint vectors.

        The closed form is exact when the chain has exactly the geometry of the class; a
        chain that is only within the tolerance of :meth:`_extract_geometry` shows its
        deviation on any pose, so a fixed sample tells which of the two a chain is.
        """
        rng = np.random.default_rng(20240601)
        lo = np.maximum(self.chain.lower_rad, -math.pi)
        hi = np.minimum(self.chain.upper_rad, math.pi)
        T = self.chain.fk(rng.uniform(lo, hi, (64, 6)))
        q, status = self._analytic(T)
        ok = (status == IkStatus.OK).ravel()
        if not ok.any():
            return math.inf
        F = self.chain.fk(q.reshape(-1, 6)[ok])
        target = np.repeat(T, 8, axis=0)[ok]
        dp = np.abs(F[:, :3, 3] - target[:, :3, 3]).max()
        dr = np.abs(rotation_log(target[:, :3, :3] @ F[:, :3, :3].transpose(0, 2, 1))).max()
        return float(max(dp, dr))

    def _refine(self, target: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Newton steps on the full chain, (N, 4, 4) targets and (N, 6) joints.

        Nothing to do when the closed form is exact for this chain
        (:attr:`closed_form_exact`). Otherwise each step first measures the pose error and
        stops once every solution reproduces its target within 1e-12 (m, rad), else moves
        the remaining solutions by one step (at most 0.05 rad per joint).
        """
        if self.closed_form_exact:
            return q.copy()
        q = q.copy()
        active = np.arange(len(q))
        for _ in range(self.newton_steps):
            if len(active) == 0:
                break
            frames, T_tip = self.chain.joint_frames(q[active])
            err = np.concatenate(
                [
                    target[active, :3, 3] - T_tip[:, :3, 3],
                    rotation_log(target[active, :3, :3] @ T_tip[:, :3, :3].transpose(0, 2, 1)),
                ],
                axis=1,
            )
            far = np.abs(err).max(axis=1) > 1e-12
            if not far.any():
                break
            active, err = active[far], err[far]
            J = self.chain.jacobian_from_frames(frames[far], T_tip[far])
            step = np.linalg.solve(J, err[:, :, None])[:, :, 0]
            q[active] += np.clip(step, -0.05, 0.05)
        return q

    def _fit_limits(self, q: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pick the 2 pi multiple closest to ``ref`` within limits; flag joints that have none.

        The multiple nearest ``ref`` is taken when it is within the joint's range (nearly
        always); only the other entries try every multiple that can fall inside the range.
        """
        chosen = q.copy()
        bad = np.zeros(q.shape, dtype=bool)
        for j in range(q.shape[-1]):
            lo = self.chain.lower_rad[j] - 1e-9
            hi = self.chain.upper_rad[j] + 1e-9
            qj, rj = q[..., j], ref[:, None, j]
            nearest = qj + _TWO_PI * np.round((rj - qj) * (1.0 / _TWO_PI))
            inside = (nearest >= lo) & (nearest <= hi)
            chosen[..., j] = nearest
            if inside.all():
                continue
            out = np.nonzero(~inside)
            k_lo = max(-2, math.ceil((lo - math.pi - 0.01) / _TWO_PI))
            k_hi = min(2, math.floor((hi + math.pi + 0.01) / _TWO_PI))
            cand = qj[out][:, None] + _TWO_PI * np.arange(k_lo, k_hi + 1)
            ok = (cand >= lo) & (cand <= hi)
            cost = np.where(ok, np.abs(cand - np.broadcast_to(rj, qj.shape)[out][:, None]), np.inf)
            best = cand[np.arange(len(cand)), np.argmin(cost, axis=1)]
            none = ~ok.any(axis=1)
            chosen[..., j][out] = np.where(none, qj[out], best)
            bad[..., j][out] = none
        limit_joint = np.where(bad.any(axis=-1), np.argmax(bad, axis=-1), -1)
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
        wide-range joints are unwrapped for continuity. When that configuration's unwrapped
        path leaves a joint's range (a loop round a part turns joints 4 or 6 by a full
        turn) or jumps, the next closest usable one is tried. All 8 configurations are
        solved in closed form to choose; only the one kept is polished on the full chain.

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
        q_all, status = self._analytic(T)
        sols = self._with_limits(q_all, status, np.zeros((len(T), 6)))
        usable = sols.valid.all(axis=0)
        if not usable.any():
            raise UnreachableTargetError(field, self._path_failure(T, sols))
        cost = np.where(usable, self._cost(_nearest_turn(sols.q_rad[0], q_start), q_start), np.inf)
        first_error: UnreachableTargetError | None = None
        for k in np.argsort(cost)[: int(usable.sum())]:
            try:
                return self._continuous(T, sols.q_rad[:, k], int(k), q_start, max_step_rad, field)
            except UnreachableTargetError as exc:
                # the next configuration may keep its wide joints within range (a wrist flip
                # moves joint 6 by half a turn) or stay clear of the singularity
                first_error = first_error or exc
        assert first_error is not None
        raise first_error

    def _continuous(
        self,
        T: np.ndarray,
        q_k: np.ndarray,
        k: int,
        q_start: np.ndarray,
        max_step_rad: float,
        field: str,
    ) -> np.ndarray:
        """Configuration ``k`` along the path: polished, unwrapped, within limits, no jumps."""
        q = self._refine(T, q_k)  # only the configuration tried
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

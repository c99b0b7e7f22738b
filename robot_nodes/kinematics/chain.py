"""Serial kinematic chains: batched forward kinematics and Jacobians (numpy).

Poses are 4x4 homogeneous transforms in metres, named by frame (``T_base_tcp``: the TCP
frame expressed in the base frame). Joint vectors are radians, batched as ``(N, n)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recipes.errors import InvalidInputError
from robot_nodes.kinematics.urdf import UrdfModel


def axis_angle_matrices(axis: np.ndarray, angle_rad: np.ndarray) -> np.ndarray:
    """Rotations about one unit axis (Rodrigues), batched over angles.

    Parameters
    ----------
    axis : (3,) array
        Unit axis.
    angle_rad : (N,) array

    Returns
    -------
    (N, 3, 3) ndarray
    """
    k = np.asarray(axis, dtype=float)
    K = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    s = np.sin(angle_rad)[:, None, None]
    c = np.cos(angle_rad)[:, None, None]
    return np.eye(3) + s * K + (1.0 - c) * (K @ K)


def rotation_log(R: np.ndarray) -> np.ndarray:
    """Rotation vectors (axis times angle) of rotation matrices.

    Parameters
    ----------
    R : (N, 3, 3) array

    Returns
    -------
    (N, 3) ndarray
        Angle in [0, pi] times unit axis.
    """
    cos = np.clip((np.trace(R, axis1=1, axis2=2) - 1.0) / 2.0, -1.0, 1.0)
    angle = np.arccos(cos)
    v = np.stack([R[:, 2, 1] - R[:, 1, 2], R[:, 0, 2] - R[:, 2, 0], R[:, 1, 0] - R[:, 0, 1]], 1)
    sin = np.sin(angle)
    out = np.zeros((len(R), 3))
    regular = sin > 1e-6
    out[regular] = (angle[regular] / (2.0 * sin[regular]))[:, None] * v[regular]
    small = (~regular) & (angle < 1.0)
    out[small] = 0.5 * v[small]  # angle ~ 0: first-order
    near_pi = (~regular) & (angle >= 1.0)
    if np.any(near_pi):
        # R = 2 a a^T - I at angle pi: take the largest column of (R + I) / 2
        A = (R[near_pi] + np.eye(3)) / 2.0
        i = np.argmax(np.diagonal(A, axis1=1, axis2=2), axis=1)
        cols = A[np.arange(len(A)), :, i]  # (M, 3)
        axis = cols / np.linalg.norm(cols, axis=1, keepdims=True)
        out[near_pi] = axis * angle[near_pi, None]
    return out


@dataclass(frozen=True)
class SerialChain:
    """A chain of revolute joints between two links, from a URDF.

    Attributes
    ----------
    base_link, tip_link : str
    joint_names : tuple of str
        The n actuated joints, base to tip.
    T_before : (n, 4, 4) ndarray
        Fixed transform from the previous joint's moving frame (or the base) to joint i's
        frame, fixed joints in between folded in.
    axes : (n, 3) ndarray
        Joint axes in their joint frames.
    T_after : (4, 4) ndarray
        Fixed transform from the last joint's moving frame to the tip link.
    lower_rad, upper_rad, velocity_rad_s : (n,) ndarray
    acceleration_rad_s2 : (n,) ndarray
        ``inf`` where no acceleration limit is known.
    """

    base_link: str
    tip_link: str
    joint_names: tuple[str, ...]
    T_before: np.ndarray
    axes: np.ndarray
    T_after: np.ndarray
    lower_rad: np.ndarray
    upper_rad: np.ndarray
    velocity_rad_s: np.ndarray
    acceleration_rad_s2: np.ndarray

    @classmethod
    def from_urdf(cls, model: UrdfModel, base_link: str, tip_link: str) -> SerialChain:
        """Chain of the joints between two links; only revolute and fixed joints allowed."""
        T = np.eye(4)
        befores, axes, names, limits = [], [], [], []
        for joint in model.chain(base_link, tip_link):
            T = T @ joint.T_parent_joint
            if joint.type == "fixed":
                continue
            if joint.type not in ("revolute", "continuous"):
                raise InvalidInputError(
                    f"joint '{joint.name}'", f"type '{joint.type}' is not supported in a chain"
                )
            befores.append(T)
            axes.append(joint.axis)
            names.append(joint.name)
            limits.append(joint.limits)
            T = np.eye(4)
        if not names:
            raise InvalidInputError("chain", f"no joints between '{base_link}' and '{tip_link}'")
        acc = [lim.acceleration if lim.acceleration is not None else np.inf for lim in limits]
        return cls(
            base_link=base_link,
            tip_link=tip_link,
            joint_names=tuple(names),
            T_before=np.array(befores),
            axes=np.array(axes),
            T_after=T,
            lower_rad=np.array([lim.lower for lim in limits]),
            upper_rad=np.array([lim.upper for lim in limits]),
            velocity_rad_s=np.array([lim.velocity for lim in limits]),
            acceleration_rad_s2=np.array(acc, dtype=float),
        )

    @property
    def dof(self) -> int:
        """Number of actuated joints."""
        return len(self.joint_names)

    def _as_batch(self, q_rad: np.ndarray) -> tuple[np.ndarray, bool]:
        q = np.asarray(q_rad, dtype=float)
        single = q.ndim == 1
        q = np.atleast_2d(q)
        if q.shape[1] != self.dof:
            raise InvalidInputError("q_rad", f"expects {self.dof} joint values, got {q.shape[1]}")
        return q, single

    def joint_frames(self, q_rad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Frames of every joint (after its rotation) and of the tip.

        Parameters
        ----------
        q_rad : (N, n) or (n,) array

        Returns
        -------
        T_base_joint : (N, n, 4, 4) ndarray
            Moving frame of each joint in the base frame.
        T_base_tip : (N, 4, 4) ndarray
        """
        q, _ = self._as_batch(q_rad)
        N = len(q)
        frames = np.empty((N, self.dof, 4, 4))
        T = np.broadcast_to(np.eye(4), (N, 4, 4)).copy()
        R = np.zeros((N, 4, 4))
        R[:, 3, 3] = 1.0
        for i in range(self.dof):
            R[:, :3, :3] = axis_angle_matrices(self.axes[i], q[:, i])
            T = T @ self.T_before[i] @ R
            frames[:, i] = T
        return frames, T @ self.T_after

    def fk(self, q_rad: np.ndarray) -> np.ndarray:
        """Forward kinematics.

        Parameters
        ----------
        q_rad : (N, n) or (n,) array

        Returns
        -------
        (N, 4, 4) or (4, 4) ndarray
            ``T_base_tip`` for each joint vector.
        """
        q, single = self._as_batch(q_rad)
        _, T_tip = self.joint_frames(q)
        return T_tip[0] if single else T_tip

    def jacobian(self, q_rad: np.ndarray) -> np.ndarray:
        """Geometric Jacobian at the tip, in the base frame.

        Parameters
        ----------
        q_rad : (N, n) or (n,) array

        Returns
        -------
        (N, 6, n) or (6, n) ndarray
            Rows 0-2: linear velocity of the tip origin (m/rad); rows 3-5: angular velocity.
        """
        q, single = self._as_batch(q_rad)
        J = self.jacobian_from_frames(*self.joint_frames(q))
        return J[0] if single else J

    def jacobian_from_frames(self, T_base_joint: np.ndarray, T_base_tip: np.ndarray) -> np.ndarray:
        """Geometric Jacobian from the frames :meth:`joint_frames` returned.

        Parameters
        ----------
        T_base_joint : (N, n, 4, 4) array
        T_base_tip : (N, 4, 4) array

        Returns
        -------
        (N, 6, n) ndarray
        """
        z = np.einsum("nijk,ik->nij", T_base_joint[:, :, :3, :3], self.axes)  # (N, n, 3)
        r = T_base_tip[:, None, :3, 3] - T_base_joint[:, :, :3, 3]
        return np.concatenate([np.cross(z, r), z], axis=2).transpose(0, 2, 1)

    def within_limits(self, q_rad: np.ndarray, tol_rad: float = 1e-9) -> np.ndarray:
        """Mask of joint vectors inside the position limits.

        Parameters
        ----------
        q_rad : (..., n) array

        Returns
        -------
        (...) bool ndarray
        """
        q = np.asarray(q_rad, dtype=float)
        ok = (q >= self.lower_rad - tol_rad) & (q <= self.upper_rad + tol_rad)
        return np.all(ok, axis=-1)

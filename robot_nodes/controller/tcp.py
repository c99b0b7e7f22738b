"""The TCP position of one joint vector, for the execution monitor's per-joint-state path.

:meth:`robot_nodes.kinematics.SerialChain.fk` is built for batches: for a single joint
vector its array set-up costs far more than the arithmetic (about 0.2 ms, once per joint
state at 250 Hz). :class:`TcpPosition` evaluates the same chain for one vector in plain
floats: the tip point is carried from the last joint to the base, each joint rotating it
about its axis (Rodrigues, with cross products) and its fixed transform moving it into
the previous frame. Only the position is computed: the monitor needs no orientation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from robot_nodes.kinematics import SerialChain


class TcpPosition:
    """Tip position of ``chain`` for one joint vector, in mm (``chain.fk(q)[:3, 3]`` x 1000).

    Parameters
    ----------
    chain : SerialChain
    """

    def __init__(self, chain: SerialChain) -> None:
        self._joints = tuple(
            (
                tuple(float(v) for v in axis),
                tuple(float(v) for v in T[:3, :3].ravel()),
                tuple(float(v) for v in T[:3, 3]),
            )
            for axis, T in zip(chain.axes, chain.T_before, strict=True)
        )[::-1]
        self._tip = tuple(float(v) for v in chain.T_after[:3, 3])

    def xyz_mm(self, q_rad: Sequence[float]) -> tuple[float, float, float]:
        """TCP position (x, y, z) in the base frame, millimetres, for ``q_rad`` (n,)."""
        x, y, z = self._tip
        for ((kx, ky, kz), r, (tx, ty, tz)), angle in zip(
            self._joints,
            reversed(q_rad.tolist() if isinstance(q_rad, np.ndarray) else list(q_rad)),
            strict=True,
        ):
            s, c1 = math.sin(angle), 1.0 - math.cos(angle)
            cx, cy, cz = ky * z - kz * y, kz * x - kx * z, kx * y - ky * x
            dx, dy, dz = ky * cz - kz * cy, kz * cx - kx * cz, kx * cy - ky * cx
            x, y, z = x + s * cx + c1 * dx, y + s * cy + c1 * dy, z + s * cz + c1 * dz
            x, y, z = (
                r[0] * x + r[1] * y + r[2] * z + tx,
                r[3] * x + r[4] * y + r[5] * z + ty,
                r[6] * x + r[7] * y + r[8] * z + tz,
            )
        return (x * 1000.0, y * 1000.0, z * 1000.0)


__all__ = ["TcpPosition"]

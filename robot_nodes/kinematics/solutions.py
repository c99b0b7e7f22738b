"""Result types of the inverse kinematics: solution status, configurations, solution sets."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np


class IkStatus(IntEnum):
    """Why a solution is (not) usable; ordered from worst to best is not implied."""

    OK = 0
    UNREACHABLE = 1
    SHOULDER_SINGULAR = 2
    ELBOW_SINGULAR = 3
    WRIST_SINGULAR = 4
    JOINT_LIMIT = 5


CONFIGS = np.array([(s, e, w) for s in (1, -1) for e in (1, -1) for w in (1, -1)], dtype=np.int8)
"""(8, 3) array: (shoulder, elbow, wrist) signs of solution k; shoulder +1 = front."""


def config_label(k: int) -> str:
    """Readable name of configuration ``k`` (e.g. ``"front/elbow+/wrist-"``)."""
    s, e, w = CONFIGS[k]
    return (
        f"{'front' if s > 0 else 'back'}/elbow{'+' if e > 0 else '-'}/wrist{'+' if w > 0 else '-'}"
    )


@dataclass(frozen=True)
class IkSolutions:
    """All IK solutions of N poses.

    Attributes
    ----------
    q_rad : (N, 8, 6) ndarray
        Joint vectors; entries with a status other than OK are best effort.
    status : (N, 8) ndarray of IkStatus values
    limit_joint : (N, 8) ndarray of int
        Index of a joint outside its limits (JOINT_LIMIT), else -1.
    """

    q_rad: np.ndarray
    status: np.ndarray
    limit_joint: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        """(N, 8) bool mask of usable solutions."""
        return self.status == IkStatus.OK

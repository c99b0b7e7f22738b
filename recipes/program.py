"""Spray programs: gun waypoints in the part frame, and their timed dense trajectory.

A :class:`Program` is what a recipe stores and what a cell executes: waypoints with the
gun position, spray axis (tool z), fan axis (tool x), the tool speed and trigger state of
the segment that *ends* at each waypoint, and a segment kind. :meth:`Program.sample`
turns it into a :class:`GunTrajectory` sampled at a fixed rate for deposition.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recipes.errors import InvalidInputError

#: segment kinds
MOVE, STROKE, TURN, EDGE = 0, 1, 2, 3
KIND_NAMES = {MOVE: "move", STROKE: "stroke", TURN: "turn", EDGE: "edge"}
#: fastest gun re-orientation when a segment only rotates the gun (rad/s)
MAX_TURN_RATE_RAD_S = np.deg2rad(180.0)


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 0, n, 1.0)


@dataclass(frozen=True)
class Program:
    """Gun waypoints in the part frame.

    Attributes
    ----------
    position_mm : (W, 3) gun TCP positions.
    axis : (W, 3) unit spray direction (tool z).
    fan_x : (W, 3) unit fan major axis (tool x), perpendicular to ``axis``.
    speed_mm_s : (W,) tool speed on the segment ending at each waypoint (entry 0 unused).
    trigger : (W,) bool, gun on along the segment ending at each waypoint (entry 0 unused).
    kind : (W,) int segment kind (MOVE, STROKE, TURN, EDGE).
    """

    position_mm: np.ndarray
    axis: np.ndarray
    fan_x: np.ndarray
    speed_mm_s: np.ndarray
    trigger: np.ndarray
    kind: np.ndarray

    def __post_init__(self) -> None:
        w = self.position_mm.shape[0]
        if w < 2:
            raise InvalidInputError("program.waypoints", "needs at least 2 waypoints")
        for name in ("axis", "fan_x"):
            if getattr(self, name).shape != (w, 3):
                raise InvalidInputError(f"program.{name}", f"expected shape ({w}, 3)")
        for name in ("speed_mm_s", "trigger", "kind"):
            if getattr(self, name).shape != (w,):
                raise InvalidInputError(f"program.{name}", f"expected shape ({w},)")
        bad = np.flatnonzero(~(self.speed_mm_s[1:] > 0))
        if bad.size:
            i = int(bad[0]) + 1
            raise InvalidInputError(
                f"program.waypoints[{i}].speed_mm_s",
                f"must be > 0, got {self.speed_mm_s[i]:g}",
            )

    @staticmethod
    def concat(programs: list[Program]) -> Program:
        return Program(
            *(np.concatenate([getattr(p, f) for p in programs]) for f in _FIELDS)  # type: ignore[arg-type]
        )

    def __len__(self) -> int:
        return int(self.position_mm.shape[0])

    def segment_durations_s(self) -> np.ndarray:
        """(W-1,) time of each segment: length / speed, or the re-orientation time."""
        length = np.linalg.norm(np.diff(self.position_mm, axis=0), axis=1)
        cosang = np.clip(np.sum(self.axis[1:] * self.axis[:-1], axis=1), -1.0, 1.0)
        turn_s = np.arccos(cosang) / MAX_TURN_RATE_RAD_S
        return np.maximum(length / self.speed_mm_s[1:], turn_s)

    @property
    def path_length_mm(self) -> float:
        return float(np.linalg.norm(np.diff(self.position_mm, axis=0), axis=1).sum())

    @property
    def cycle_s(self) -> float:
        return float(self.segment_durations_s().sum())

    def transformed(self, T_new_part: np.ndarray) -> Program:
        """The same program expressed in another frame (4x4 homogeneous transform)."""
        R, t = T_new_part[:3, :3], T_new_part[:3, 3]
        return Program(
            self.position_mm @ R.T + t,
            self.axis @ R.T,
            self.fan_x @ R.T,
            self.speed_mm_s.copy(),
            self.trigger.copy(),
            self.kind.copy(),
        )

    def sample(self, sample_hz: float = 1000.0) -> GunTrajectory:
        """Dense trajectory at ``sample_hz``: sample k is the midpoint of [k dt, (k+1) dt]."""
        if not sample_hz > 0:
            raise InvalidInputError("sample_hz", f"must be > 0, got {sample_hz}")
        seg_s = self.segment_durations_s()
        t_end = np.concatenate([[0.0], np.cumsum(seg_s)])
        total_s = float(t_end[-1])
        n = max(1, int(np.ceil(total_s * sample_hz)))
        dt_s = total_s / n
        t_s = (np.arange(n) + 0.5) * dt_s
        seg = np.clip(np.searchsorted(t_end, t_s, side="right") - 1, 0, len(seg_s) - 1)
        frac = ((t_s - t_end[seg]) / np.where(seg_s[seg] > 0, seg_s[seg], 1.0))[:, None]
        a, b = seg, seg + 1
        pos = self.position_mm[a] + (self.position_mm[b] - self.position_mm[a]) * frac
        axis = _unit(self.axis[a] + (self.axis[b] - self.axis[a]) * frac)
        fan = self.fan_x[a] + (self.fan_x[b] - self.fan_x[a]) * frac
        fan = _unit(fan - np.sum(fan * axis, axis=1, keepdims=True) * axis)
        return GunTrajectory(
            t_s=t_s,
            dt_s=np.full(n, dt_s),
            position_mm=pos,
            axis=axis,
            fan_x=fan,
            trigger=self.trigger[b].astype(bool),
            kind=self.kind[b],
        )


_FIELDS = ("position_mm", "axis", "fan_x", "speed_mm_s", "trigger", "kind")


@dataclass(frozen=True)
class GunTrajectory:
    """A timed gun trajectory, one row per sample (midpoint rule).

    Attributes
    ----------
    t_s, dt_s : (M,) sample time and the time it stands for.
    position_mm, axis, fan_x : (M, 3) gun pose per sample.
    trigger : (M,) bool.  kind : (M,) int segment kind.
    """

    t_s: np.ndarray
    dt_s: np.ndarray
    position_mm: np.ndarray
    axis: np.ndarray
    fan_x: np.ndarray
    trigger: np.ndarray
    kind: np.ndarray

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    @property
    def spray_time_s(self) -> float:
        return float(self.dt_s[self.trigger].sum())

    def select(self, mask: np.ndarray) -> GunTrajectory:
        return GunTrajectory(
            self.t_s[mask],
            self.dt_s[mask],
            self.position_mm[mask],
            self.axis[mask],
            self.fan_x[mask],
            self.trigger[mask],
            self.kind[mask],
        )

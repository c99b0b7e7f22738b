"""Gun trigger scheduling with latency compensation.

A leg's gun pattern (:meth:`robot_nodes.controller.legs.Leg.spray_events`) says at which
commanded times the gun switches: on when the TCP leaves the last gun-off sample before a
stroke, off when it reaches the end of the stroke. Two delays separate a command from paint
on the part: the robot follows the commanded timing ``lag`` seconds late (measured by the
execution monitor), and the gun needs ``on_latency_s`` / ``off_latency_s`` from the trigger
command until paint flows / stops. The command for a switching point at leg time ``t`` is
therefore sent at ``t + lag - latency``: paint starts and stops where the path says.

Safety overrides (gun off on any fault, pause, e-stop, interlock) are the controller's job
and never wait for this schedule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from robot_nodes.controller.legs import Leg


@dataclass
class TriggerScheduler:
    """Gun switching times of one leg, compensated for latency.

    The gun takes ``on_latency_s`` / ``off_latency_s`` from the command to paint flowing /
    stopping, and the robot follows the commanded timing with a delay (``lag_s`` from the
    monitor). To start and stop paint exactly where the path says, the command for a
    switching point commanded at leg time ``t`` is sent at ``t + lag - latency``.

    Attributes
    ----------
    t_s, on, s_mm : (E,) ndarrays
        Switching points of the leg (see :meth:`Leg.spray_events`).
    on_latency_s, off_latency_s, max_lag_s : float
    """

    t_s: np.ndarray
    on: np.ndarray
    s_mm: np.ndarray
    on_latency_s: float
    off_latency_s: float
    max_lag_s: float
    next_index: int = 0

    @classmethod
    def for_leg(
        cls, leg: Leg, on_latency_s: float, off_latency_s: float, max_lag_s: float
    ) -> TriggerScheduler:
        t, on, s = leg.spray_events()
        return cls(t, on, s, on_latency_s, off_latency_s, max_lag_s)

    def fire_time(self, i: int, lag_s: float) -> float:
        """Leg time at which to command switching point ``i``."""
        lag = min(max(lag_s, 0.0), self.max_lag_s)
        latency = self.on_latency_s if self.on[i] else self.off_latency_s
        return float(self.t_s[i] + lag - latency)

    def due(self, t_rel_s: float, lag_s: float) -> list[tuple[bool, float]]:
        """Switching points whose command time has come, as (on, s_mm), in order."""
        return [(on, s) for on, s, _ in self.due_at(t_rel_s, lag_s)]

    def due_at(self, t_rel_s: float, lag_s: float) -> list[tuple[bool, float, float]]:
        """Switching points whose command time has come, as (on, s_mm, leg time it came
        at), in order: a timed output switches at that time rather than now."""
        out: list[tuple[bool, float, float]] = []
        while self.next_index < len(self.t_s):
            fire = self.fire_time(self.next_index, lag_s)
            if t_rel_s < fire:
                break
            i = self.next_index
            out.append((bool(self.on[i]), float(self.s_mm[i]), fire))
            self.next_index += 1
        return out

    @property
    def finished(self) -> bool:
        return self.next_index >= len(self.t_s)


__all__ = ["TriggerScheduler"]

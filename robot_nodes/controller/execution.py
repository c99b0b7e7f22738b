"""The leg the driver runs now, its monitor and gun schedule, and how it is stopped.

One leg runs at a time. Sending a leg starts an :class:`ExecutionMonitor` on it (timed from
when the driver starts it) and, for legs that spray, a :class:`TriggerScheduler`. Stopping
replaces it either by a controlled stop on its own path (pause, abort, interlock faults) or
by holding the measured position (tracking faults, e-stop); while a stop runs, ``stopping``
is set and the gun must stay off.
"""

from __future__ import annotations

import numpy as np

from robot_nodes.controller.config import CellConfig
from robot_nodes.controller.legs import Leg, hold_leg, stop_leg
from robot_nodes.controller.monitor import ExecutionMonitor
from robot_nodes.controller.reports import CellOutputs
from robot_nodes.controller.trigger import TriggerScheduler
from robot_nodes.kinematics import SerialChain

STOP_POINTS = 400
"""Size assumed for a stop leg when choosing its start delay."""


class LegRunner:
    """The running leg of a cell and what supervises it.

    Parameters
    ----------
    chain : SerialChain
    config : CellConfig
    outputs : CellOutputs
        Where legs are sent.
    """

    def __init__(self, chain: SerialChain, config: CellConfig, outputs: CellOutputs) -> None:
        self.chain = chain
        self.config = config
        self.out = outputs
        self.leg: Leg | None = None
        self.monitor: ExecutionMonitor | None = None
        self.trigger: TriggerScheduler | None = None
        self.stopping = False

    def send(
        self, leg: Leg, now_s: float, *, schedule_gun: bool, delay_s: float | None = None
    ) -> None:
        """Send ``leg`` to the driver; it replaces the running one after its start delay."""
        delay = self.out.start_delay_s(len(leg)) if delay_s is None else delay_s
        self.leg = leg
        self.monitor = ExecutionMonitor(leg, now_s + delay, self.chain, self.config.execution)
        gun = self.config.gun
        self.trigger = (
            TriggerScheduler.for_leg(
                leg, gun.on_latency_s, gun.off_latency_s, gun.max_lag_compensation_s
            )
            if schedule_gun
            else None
        )
        self.out.send_leg(leg, delay)

    def stop(self, now_s: float, *, controlled: bool, q_meas: np.ndarray | None) -> None:
        """Stop the robot: along the path when ``controlled``, else hold ``q_meas``."""
        self.trigger = None
        leg, monitor = self.leg, self.monitor
        if leg is None or monitor is None or monitor.done:
            self.clear()
            return
        stop = None
        delay = 0.0
        if controlled:
            # starts now on the current path; slowing down begins once the driver has it
            lead = self.out.start_delay_s(STOP_POINTS)
            stop = stop_leg(leg, monitor.elapsed(now_s), self.chain, lead_s=lead)
        elif q_meas is not None:
            stop = hold_leg(self.chain, q_meas)
            delay = self.out.start_delay_s(1)
        if stop is None:
            self.clear()
            return
        self.stopping = True
        self.send(stop, now_s, schedule_gun=False, delay_s=delay)

    def clear(self) -> None:
        """Forget the leg (it ended, or there is nothing to supervise any more)."""
        self.leg, self.monitor, self.trigger, self.stopping = None, None, None, False


__all__ = ["STOP_POINTS", "LegRunner"]

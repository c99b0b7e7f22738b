"""The cell controller node's time base: the host's monotonic clock, or sim time.

With ``use_sim_time`` the node's clock is the bus's ``/clock`` (as a ROS 2 node with the
``use_sim_time`` parameter): :class:`NodeClock` reads it, converts controller times to
message stamps and dates joint states by their stamps. :class:`ClockGrant` is the node's
side of the lock-step with a simulator: as ``/clock`` advances it tells the simulator on
``clock_grant`` how far it may step.

**Lock-step.** A simulator that hears a ``clock_grant`` from a cell waits for it: it steps
only from times up to the last grant. The node grants the last ``/clock`` it has handled
(its tick at that time done) plus a lookahead, so the simulator runs ahead of the
controller by at most that much and the two work in parallel. Everything the controller
sends later takes effect after that grant: a trajectory starts at least the start delay
(20 ms) after it is sent, and a gun switch is stamped with its scheduled time, which lies
after the last tick that did not fire it (the time of that grant), and acts at the valve
only the gun's latency (30-40 ms) later. With the lookahead at most these delays (16 ms by
default), every command is due after the steps the simulator may take without it, so it
reaches the simulator in time however fast the simulator runs; the margin (14 ms at the
defaults) absorbs a message that overtakes another.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from robot_nodes.bus import Bus
from robot_nodes.cell_bus import CLOCK_GRANT, QOS_GRANT, clock_msg
from robot_nodes.controller import CellConfig
from robot_nodes.convert import stamp_to_ns

_NS = 1_000_000_000
MEASUREMENT_WINDOW_S = 1.0
"""A joint state stamped further than this from the node's clock is dated on receipt."""


class NodeClock:
    """Time of the cell controller node.

    Parameters
    ----------
    bus : Bus
    sim_time : bool
        Sim time from the bus (the bus must be created with ``use_sim_time``); otherwise
        ``clock`` (monotonic seconds).
    clock : callable, optional
        The host clock, ``time.monotonic`` by default.
    """

    def __init__(
        self, bus: Bus, *, sim_time: bool, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.bus = bus
        self.sim_time = bool(sim_time)
        self._host = clock

    def now_s(self) -> float:
        """The controller's time: sim seconds, or the host's monotonic seconds."""
        if self.sim_time:
            return self.bus.now_ns() / _NS
        return self._host()

    @property
    def started(self) -> bool:
        """Whether time runs: always on the host clock; on sim time from the first
        non-zero ``/clock`` (ROS 2 counts a zero time as a clock not started)."""
        return not self.sim_time or self.bus.now_ns() > 0

    def stamp_ns(self, at_s: float) -> int:
        """A time on the controller's clock as a message stamp on the bus's clock (sim
        time as it is; a monotonic time shifted to the wall clock)."""
        if self.sim_time:
            return round(at_s * _NS)
        return time.time_ns() + round((at_s - self._host()) * _NS)

    def measured_s(self, stamp: Any, now_s: float) -> float | None:
        """When a joint state was measured: on sim time its stamp (the simulator stamps it
        with the step it describes, and it may be handled a few steps later), unless zero
        or implausible; on the host clock None (driver stamps are wall-clock times)."""
        if not self.sim_time:
            return None
        t = stamp_to_ns(stamp) / _NS
        if t <= 0 or abs(t - now_s) > MEASUREMENT_WINDOW_S:
            return None
        return t


def lockstep_lookahead_s(config: CellConfig, start_delay_s: float) -> float:
    """How far a simulator may run ahead of the controller: the configured lookahead,
    at most the gun's latencies and the shortest start delay of a trajectory."""
    gun = config.gun
    return min(config.lockstep.lookahead_s, gun.on_latency_s, gun.off_latency_s, start_delay_s)


class ClockGrant:
    """Publishes on ``clock_grant`` the sim time up to which a simulator may step.

    Parameters
    ----------
    bus : Bus
    lookahead_s : float
        Granted beyond the last ``/clock`` handled.
    """

    def __init__(self, bus: Bus, lookahead_s: float) -> None:
        self.bus = bus
        self.lookahead_ns = round(lookahead_s * _NS)
        msg_type = bus.message_type("rosgraph_msgs/msg/Clock")
        self._pub = bus.create_publisher(msg_type, CLOCK_GRANT, QOS_GRANT)
        self.granted_ns = 0

    def publish(self, now_s: float) -> None:
        """The node has handled everything up to ``now_s``: grant ``now_s`` plus the
        lookahead once that is three quarters of a lookahead beyond the last grant (fewer
        messages; a simulator waiting at the last grant still gets a new one with its
        next ``/clock``, which is at least a lookahead beyond it)."""
        grant = round(now_s * _NS) + self.lookahead_ns
        if grant - self.granted_ns >= max(3 * self.lookahead_ns // 4, 1):
            self.granted_ns = grant
            self._pub.publish(clock_msg(self.bus.message_type, grant))


__all__ = ["MEASUREMENT_WINDOW_S", "ClockGrant", "NodeClock", "lockstep_lookahead_s"]

"""The cell controller node's time base: the host's monotonic clock, or sim time.

With ``use_sim_time`` the node's clock is the bus's ``/clock`` (as a ROS 2 node with the
``use_sim_time`` parameter), else the host's monotonic clock: :class:`NodeClock` reads it,
converts controller times to message stamps and dates joint states by their stamps (on
either clock: below). :class:`ClockGrant` is the node's
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

**When a joint state was measured.** The execution monitor, the trigger's lag compensation
and the spray accounting need the time the positions describe, not the time the node got
round to them: a joint state handled late (a loaded machine, a simulator running ahead)
would otherwise count the robot as slower than it is, and paint that flowed while it was
measured would be missed. So a joint state is dated by its header stamp when the stamp is
plausible, and on receipt otherwise:

* on sim time: the stamp is a sim time (the step it describes); plausible within
  ``MEASUREMENT_WINDOW_S`` of ``/clock``;
* on the host clock: the stamp is a wall-clock time (a driver on this host, such as
  ``sim.follower``, stamps with ``time.time_ns()``; one on another host with a clock
  synchronised to this one by PTP or NTP; the simulator stamps its sim time, which is never
  plausible here, so its joint states are dated on receipt). It is mapped onto the monotonic
  clock through its age on the wall clock, and plausible when not in the future (a later
  stamp is another clock, or the wall clock was stepped back) and at most
  ``HOST_STAMP_MAX_AGE_S`` (0.25 s) old: far more than handling delays (milliseconds, tens of
  milliseconds under load), half the joint-state timeout, so a stale or unsynchronised
  stamp is dated on receipt as before. A driver whose clock runs behind this host's by less
  than the bound is taken at its word: drivers on other machines need synchronised clocks.
  Dated times never go back: a stamp earlier than the previous joint state's date (the
  previous one dated on receipt) is dated with it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from robot_nodes.bus import Bus
from robot_nodes.cell_bus import CLOCK_GRANT, QOS_GRANT, clock_msg
from robot_nodes.controller import CellConfig
from robot_nodes.convert import stamp_to_ns

_NS = 1_000_000_000
MEASUREMENT_WINDOW_S = 1.0
"""On sim time: a joint state stamped further than this from the node's clock is dated on
receipt."""
HOST_STAMP_MAX_AGE_S = 0.25
"""On the host clock: a joint state whose wall-clock stamp is older than this, or in the
future, is dated on receipt."""


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
    wall_clock : callable, optional
        The host's wall clock in nanoseconds (what drivers stamp with), ``time.time_ns`` by
        default.
    """

    def __init__(
        self,
        bus: Bus,
        *,
        sim_time: bool,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.bus = bus
        self.sim_time = bool(sim_time)
        self._host = clock
        self._wall = wall_clock
        self._last_measured_s = -math.inf

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
        return self._wall() + round((at_s - self._host()) * _NS)

    def measured_s(self, stamp: Any, now_s: float) -> float | None:
        """When a joint state was measured, on the controller's clock, from its header stamp
        (see the module's docstring); None (dated on receipt, ``now_s``) for a zero or
        implausible stamp.

        Parameters
        ----------
        stamp : builtin_interfaces/Time
        now_s : float
            The controller's time now (the joint state's receipt).
        """
        stamp_ns = stamp_to_ns(stamp)
        if self.sim_time:
            t = stamp_ns / _NS
            return None if t <= 0 or abs(t - now_s) > MEASUREMENT_WINDOW_S else t
        host_s, wall_ns = self._host(), self._wall()
        age_s = (wall_ns - stamp_ns) / _NS
        if stamp_ns <= 0 or not 0.0 <= age_s <= HOST_STAMP_MAX_AGE_S:
            self._last_measured_s = now_s
            return None
        t = max(min(host_s - age_s, now_s), self._last_measured_s)
        self._last_measured_s = t
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


__all__ = [
    "HOST_STAMP_MAX_AGE_S",
    "MEASUREMENT_WINDOW_S",
    "ClockGrant",
    "NodeClock",
    "lockstep_lookahead_s",
]

"""The gun trigger output: what was commanded when, whether paint flows, and stall watch.

Paint starts ``on_latency_s`` after the trigger goes on and stops ``off_latency_s`` after it
goes off (the valve and the hose). :class:`GunOutput` keeps the commanded state and the time
of the last switch, so the controller can account spray time and length while paint
actually flows. :class:`StallWatch` finds a gun that is on while the tool crawls: paint
would pile up where the robot stands.
"""

from __future__ import annotations

from collections.abc import Callable

from robot_nodes.controller.config import GunConfig


class GunOutput:
    """The trigger output of one gun.

    Parameters
    ----------
    config : GunConfig
        Latencies from trigger to paint.
    switch : callable
        Called with the new state and the time it switches at on every change (the node
        publishes ``gun/trigger`` and ``gun/trigger_timed``).
    """

    def __init__(self, config: GunConfig, switch: Callable[[bool, float], None]) -> None:
        self.config = config
        self._switch = switch
        self.on = False
        self.switched_s = -1e9

    def set(self, on: bool, now_s: float, at_s: float | None = None) -> bool:
        """Command the trigger now, switching at ``at_s`` (a scheduled time that has just
        come, not after ``now_s``; None: now); returns whether the output changed."""
        if on == self.on:
            return False
        self.on = on
        self.switched_s = now_s if at_s is None else min(at_s, now_s)
        self._switch(on, self.switched_s)
        return True

    def paint_flowing(self, now_s: float) -> bool:
        """Whether paint leaves the gun now (the output delayed by the gun latency)."""
        if self.on:
            return now_s >= self.switched_s + self.config.on_latency_s
        return now_s < self.switched_s + self.config.off_latency_s


class StallWatch:
    """Gun on while the tool runs slower than ``fraction`` of the request for ``time_s``.

    Parameters
    ----------
    fraction : float
        Share of the requested tool speed below which the tool counts as stalled.
    time_s : float
        How long a stall may last before :meth:`update` reports it.
    """

    def __init__(self, fraction: float, time_s: float) -> None:
        self.fraction = float(fraction)
        self.time_s = float(time_s)
        self._since: float | None = None

    def update(self, now_s: float, speed_mm_s: float, requested_mm_s: float) -> bool:
        """Feed the measured and requested tool speed while the gun is on; True once the
        tool has been too slow for ``time_s``."""
        if requested_mm_s > 0 and speed_mm_s < self.fraction * requested_mm_s:
            if self._since is None:
                self._since = now_s
            return now_s - self._since >= self.time_s
        self._since = None
        return False

    def reset(self) -> None:
        """The gun is off (or the program ended): forget a stall in progress."""
        self._since = None


__all__ = ["GunOutput", "StallWatch"]

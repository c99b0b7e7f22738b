"""Telling a new dispatch of a program from a repeated or redelivered one.

``spray_program`` is latched (reliable, transient local): a controller that restarts
receives the last program again, although it may have run already. A program is run only
when its id has not been run on this cell (the ids are the edge's idempotency keys) and its
header stamp is later than the controller's start.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from robot_nodes.controller.faults import FaultCode, ProgramRejected

_CLOCK_SKEW_NS = 1_000_000_000


class DispatchLog:
    """Program ids run on this cell (the last ``capacity``) and the controller's start.

    Parameters
    ----------
    started_wall_ns : int
        Wall clock at the controller's start.
    require_stamp : bool
        Refuse programs without a header stamp (when the age of programs is checked).
    capacity : int
    """

    def __init__(self, started_wall_ns: int, *, require_stamp: bool, capacity: int = 1000) -> None:
        self.started_wall_ns = int(started_wall_ns)
        self.require_stamp = require_stamp
        self.capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()

    def check(self, msg: Any) -> None:
        """Raise :class:`ProgramRejected` unless ``msg`` is a new dispatch."""
        pid = str(msg.program_id)
        if pid in self._seen:
            raise ProgramRejected(
                FaultCode.DUPLICATE_PROGRAM,
                f"program '{pid}' was run on this cell already; a new dispatch needs a new id",
            )
        if not self.require_stamp:
            return
        stamp_ns = int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec)
        if stamp_ns == 0:
            raise ProgramRejected(
                FaultCode.PROGRAM_MALFORMED,
                f"program '{pid}' has no header stamp (needed to tell a new dispatch from a "
                "redelivered one)",
            )
        if stamp_ns < self.started_wall_ns - _CLOCK_SKEW_NS:
            raise ProgramRejected(
                FaultCode.PROGRAM_STALE,
                f"program '{pid}' was dispatched before this controller started (redelivered "
                "latched sample); send it again to run it",
            )

    def remember(self, program_id: str) -> None:
        self._seen[program_id] = None
        while len(self._seen) > self.capacity:
            self._seen.popitem(last=False)

    def __contains__(self, program_id: str) -> bool:
        return program_id in self._seen


__all__ = ["DispatchLog"]

"""What the controller reports, as plain data, and the output port it reports through.

The node turns these into ``ProgramStatus``, ``CellState``, ``PartResult`` and
``JointTrajectory`` messages and the ``gun/trigger`` output; tests record them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol, runtime_checkable

from robot_nodes.controller.legs import Leg
from robot_nodes.controller.state_machine import CellMode


class ProgramState(IntEnum):
    """``coatshare_interfaces/ProgramStatus`` state constants."""

    QUEUED = 0
    VALIDATING = 1
    REJECTED = 2
    RUNNING = 3
    DONE = 4
    ABORTED = 5


class DriverMode(IntEnum):
    """``coatshare_interfaces/CellState`` mode constants."""

    OFFLINE = 0
    MANUAL = 1
    AUTO = 2
    MAINTENANCE = 3


@dataclass(frozen=True)
class StatusReport:
    program_id: str
    state: ProgramState
    progress: float = 0.0
    waypoint_index: int = 0
    fault_code: str = ""
    fault_text: str = ""
    tracking_error_mm: float = 0.0


CELL_STATE_CODES: dict[CellMode, int] = {
    CellMode.IDLE: 0,
    CellMode.LOADED: 1,
    CellMode.RUNNING: 2,
    CellMode.PAUSED: 3,
    CellMode.FAULT: 4,
    CellMode.ESTOP: 5,
}
"""``coatshare_interfaces/CellState`` ``STATE_*`` constants of the controller states."""


@dataclass(frozen=True)
class CellReport:
    cell_id: str
    controller_state: CellMode
    mode: DriverMode
    estop: bool
    door_closed: bool
    booth_airflow_ok: bool
    paint_pressure_ok: bool
    spray_enabled: bool
    gun_on: bool
    active_program_id: str
    fault_code: str = ""


@dataclass(frozen=True)
class PartReport:
    program_id: str
    part_id: str
    recipe_id: str
    recipe_version: int
    completed: bool
    fault_code: str
    started_wall_ns: int
    finished_wall_ns: int
    path_length_mm: float
    spray_length_mm: float
    spray_time_s: float
    max_tracking_error_mm: float


class CellOutputs(Protocol):
    """Where the controller's decisions go (the node publishes them)."""

    def start_delay_s(self, n_points: int) -> float:
        """How long after sending a leg of ``n_points`` the driver starts it (the leg is
        stamped with that start time, so both sides agree on when it begins)."""
        ...

    def send_leg(self, leg: Leg, start_delay_s: float) -> None:
        """Send a joint trajectory that replaces the driver's from ``start_delay_s`` on."""
        ...

    def set_gun(self, on: bool) -> None:
        """Switch the gun trigger output."""
        ...

    def publish_status(self, report: StatusReport) -> None: ...

    def publish_cell(self, report: CellReport) -> None: ...

    def publish_part_result(self, report: PartReport) -> None: ...


@runtime_checkable
class TimedGunOutput(Protocol):
    """An output port whose trigger output can switch at a given time (a time-stamped
    output): the controller then gives each switch its exact scheduled time, which may lie
    up to one tick in the past, instead of :meth:`CellOutputs.set_gun` (now)."""

    def set_gun_at(self, on: bool, at_s: float) -> None:
        """Switch the gun trigger output at ``at_s`` (the controller's clock)."""
        ...


__all__ = [
    "CELL_STATE_CODES",
    "CellOutputs",
    "CellReport",
    "DriverMode",
    "PartReport",
    "ProgramState",
    "StatusReport",
    "TimedGunOutput",
]

"""Book-keeping of one program run and the reports made from it.

A :class:`RunRecord` accumulates, from the monitor's progress, what the cell reports about
the program it runs: progress along the path, the last waypoint passed, tracking error, and
the spray time and length while paint flows. It builds the ``ProgramStatus`` and
``PartResult`` reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from robot_nodes.controller.legs import PROGRAM
from robot_nodes.controller.monitor import Progress
from robot_nodes.controller.planning import ExecutionPlan
from robot_nodes.controller.reports import PartReport, ProgramState, StatusReport


@dataclass
class RunRecord:
    """What happened so far in the run of ``plan``.

    Attributes
    ----------
    plan : ExecutionPlan
    started_wall_ns : int
    progress_mm : float
        Furthest program path coordinate reached.
    waypoint : int
        Last program waypoint passed.
    tracking_error_mm, max_tracking_error_mm : float
    spray_time_s, spray_length_mm : float
        While paint flowed, from measured TCP positions.
    s_painted_mm : float
        Everything to be sprayed before this path coordinate has been (resume point).
    """

    plan: ExecutionPlan
    started_wall_ns: int = 0
    progress_mm: float = 0.0
    waypoint: int = 0
    tracking_error_mm: float = 0.0
    max_tracking_error_mm: float = 0.0
    spray_time_s: float = 0.0
    spray_length_mm: float = 0.0
    s_painted_mm: float = 0.0
    _last_s: float | None = None
    _last_p_mm: tuple[float, float, float] | None = None

    @property
    def program_id(self) -> str:
        return self.plan.program.program_id

    def account(self, p: Progress, paint_flowing: bool, now_s: float) -> None:
        """Take one monitored joint state."""
        if p.phase == PROGRAM or p.s_mm > 0:
            self.progress_mm = max(self.progress_mm, p.s_mm)
            self.waypoint = max(self.waypoint, p.waypoint)
        self.tracking_error_mm = p.tracking_error_mm
        self.max_tracking_error_mm = max(self.max_tracking_error_mm, p.tracking_error_mm)
        if paint_flowing and self._last_p_mm is not None and self._last_s is not None:
            self.spray_length_mm += math.dist(p.p_mm, self._last_p_mm)
            self.spray_time_s += now_s - self._last_s
        self._last_p_mm, self._last_s = p.p_mm, now_s

    def gun_off_at(self, p: Progress | None, off_latency_s: float) -> None:
        """The gun was switched off with the robot at ``p``: paint stops where the robot will
        be ``off_latency_s`` later."""
        if p is not None and p.phase == PROGRAM:
            ahead = p.speed_mm_s * off_latency_s
            self.s_painted_mm = max(self.s_painted_mm, p.s_mm + ahead)

    def progress_fraction(self) -> float:
        length = self.plan.path_length_mm
        return 0.0 if length <= 0 else float(min(1.0, self.progress_mm / length))

    def running_status(self, *, paused: bool) -> StatusReport:
        return StatusReport(
            self.program_id,
            ProgramState.RUNNING,
            progress=self.progress_fraction(),
            waypoint_index=self.waypoint,
            fault_text="paused" if paused else "",
            tracking_error_mm=self.tracking_error_mm,
        )

    def final_status(self, state: ProgramState, code: str, text: str) -> StatusReport:
        done = state is ProgramState.DONE
        return StatusReport(
            self.program_id,
            state,
            progress=1.0 if done else self.progress_fraction(),
            waypoint_index=self.plan.program.path.n_waypoints - 1 if done else self.waypoint,
            fault_code=code,
            fault_text=text,
            tracking_error_mm=self.tracking_error_mm,
        )

    def part_report(self, *, completed: bool, code: str, finished_wall_ns: int) -> PartReport:
        program = self.plan.program
        return PartReport(
            program_id=program.program_id,
            part_id=program.part_id,
            recipe_id=program.recipe_id,
            recipe_version=program.recipe_version,
            completed=completed,
            fault_code=code,
            started_wall_ns=self.started_wall_ns,
            finished_wall_ns=finished_wall_ns,
            path_length_mm=self.plan.path_length_mm if completed else self.progress_mm,
            spray_length_mm=self.spray_length_mm,
            spray_time_s=self.spray_time_s,
            max_tracking_error_mm=self.max_tracking_error_mm,
        )


__all__ = ["RunRecord"]

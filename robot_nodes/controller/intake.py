"""Programs on their way in: from a ``SprayProgram`` message to a plan the cell can load.

:class:`ProgramIntake` runs the acceptance of one program at a time: the message type, a
new dispatch (:mod:`~robot_nodes.controller.dispatch`), validation
(:mod:`~robot_nodes.controller.validation`, in the caller's thread), whether the cell can
take it (the controller's check), then planning
(:func:`~robot_nodes.controller.planning.compile_plan`) through ``submit``, a worker thread
in the node. It reports VALIDATING and every refusal as a
:class:`~robot_nodes.controller.reports.StatusReport`; the controller polls for the plan and
loads it. It also reports, once each, publishers of the wrong message type on the cell's
input topics.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import numpy as np

from recipes.approval import ApprovalVerifier
from robot_nodes.controller.config import CellConfig
from robot_nodes.controller.dispatch import DispatchLog
from robot_nodes.controller.faults import FaultCode, ProgramRejected
from robot_nodes.controller.planning import ExecutionPlan, compile_plan
from robot_nodes.controller.recipe_store import RecipeStore
from robot_nodes.controller.reports import ProgramState, StatusReport
from robot_nodes.controller.validation import validate_program
from robot_nodes.kinematics import RobotModel

log = logging.getLogger(__name__)

Submit = Callable[[Callable[[], ExecutionPlan]], "Future[ExecutionPlan]"]
_PROGRAM_FIELDS = (
    "program_id",
    "recipe_id",
    "waypoints",
    "tool_speed_mm_s",
    "trigger",
    "signature",
)


def run_now(fn: Callable[[], ExecutionPlan]) -> Future[ExecutionPlan]:
    """``submit`` that plans synchronously (tests, tools)."""
    future: Future[ExecutionPlan] = Future()
    try:
        future.set_result(fn())
    except BaseException as exc:  # noqa: BLE001 - handed over to the caller via the future
        future.set_exception(exc)
    return future


class ProgramIntake:
    """Acceptance and planning of incoming programs, one at a time.

    Parameters
    ----------
    config : CellConfig
    robot : RobotModel
    verifier : ApprovalVerifier or None
        The cell's approval key; None refuses every program.
    recipes : RecipeStore
    report : callable
        Takes every :class:`StatusReport` the intake makes.
    submit : callable
        Runs planning and returns a Future.
    wall_ns : callable
        Wall clock in ns (program age).
    started_wall_ns : int
        When the controller started (redelivered latched programs are older).
    """

    def __init__(
        self,
        config: CellConfig,
        robot: RobotModel,
        *,
        verifier: ApprovalVerifier | None,
        recipes: RecipeStore,
        report: Callable[[StatusReport], None],
        submit: Submit,
        wall_ns: Callable[[], int],
        started_wall_ns: int,
    ) -> None:
        self.config = config
        self.robot = robot
        self.verifier = verifier
        self.recipes = recipes
        self._report = report
        self._submit = submit
        self._wall_ns = wall_ns
        self._pending: tuple[str, Future[ExecutionPlan]] | None = None
        self._dispatches = DispatchLog(
            started_wall_ns, require_stamp=config.execution.program_max_age_s > 0
        )
        self._wrong_types: set[tuple[str, str]] = set()

    @property
    def pending_id(self) -> str:
        """The program being planned, empty when none."""
        return self._pending[0] if self._pending is not None else ""

    def receive(
        self,
        msg: Any,
        q_now_rad: np.ndarray,
        *,
        active_id: str,
        check_ready: Callable[[str], None],
    ) -> bool:
        """Take a ``SprayProgram``; True when its planning was submitted.

        Parameters
        ----------
        msg : SprayProgram message (or anything that arrived on ``spray_program``)
        q_now_rad : (6,) array
            Where the robot is (planning starts from there).
        active_id : str
            The program the cell has loaded or runs: a repeat of it is ignored.
        check_ready : callable
            Raises :class:`ProgramRejected` when the cell cannot take the program now.
        """
        if not all(hasattr(msg, name) for name in _PROGRAM_FIELDS):
            self._report(
                StatusReport(
                    str(getattr(msg, "program_id", "")),
                    ProgramState.REJECTED,
                    fault_code=FaultCode.WRONG_MESSAGE_TYPE,
                    fault_text=f"spray_program: expected a SprayProgram, got {type(msg).__name__}",
                )
            )
            return False
        pid = str(msg.program_id)
        if pid and pid == active_id:
            log.info("program '%s' received again while active: ignored", pid)
            return False
        self._report(StatusReport(pid, ProgramState.VALIDATING))
        try:
            self._dispatches.check(msg)
            accepted = validate_program(
                msg, self.config, self.verifier, self.recipes, now_wall_ns=self._wall_ns()
            )
            check_ready(pid)
        except ProgramRejected as exc:
            self.reject(pid, exc)
            return False
        q_now = np.asarray(q_now_rad, dtype=float).copy()
        robot, config = self.robot, self.config
        self._pending = (pid, self._submit(lambda: compile_plan(robot, accepted, q_now, config)))
        return True

    def poll(self) -> tuple[str, ExecutionPlan] | None:
        """The finished plan (once), or None while planning runs or after a refusal (which is
        reported here)."""
        if self._pending is None or not self._pending[1].done():
            return None
        pid, future = self._pending
        self._pending = None
        try:
            return pid, future.result()
        except ProgramRejected as exc:
            self.reject(pid, exc)
        except Exception as exc:  # noqa: BLE001 - reported, never crashes the node
            log.exception("planning of '%s' failed", pid)
            self.reject(pid, ProgramRejected(FaultCode.INTERNAL_ERROR, f"planning failed: {exc}"))
        return None

    def loaded(self, program_id: str) -> None:
        """The cell loaded the program: its id is not run again."""
        self._dispatches.remember(program_id)

    def reject(self, pid: str, exc: ProgramRejected) -> None:
        """Report a refusal of program ``pid``."""
        log.warning("program '%s' refused: %s", pid, exc)
        self._report(
            StatusReport(pid, ProgramState.REJECTED, fault_code=exc.code, fault_text=exc.text)
        )

    def wrong_type(self, topic: str, found: str, expected: str) -> None:
        """Somebody publishes ``found`` on ``topic``, which carries ``expected``: reported
        once per (topic, type)."""
        key = (topic, found)
        if key in self._wrong_types:
            return
        self._wrong_types.add(key)
        self._report(
            StatusReport(
                "",
                ProgramState.REJECTED,
                fault_code=FaultCode.WRONG_MESSAGE_TYPE,
                fault_text=(
                    f"a publisher sends {found} on {topic}, which carries {expected}: "
                    "its messages are not received"
                ),
            )
        )


__all__ = ["ProgramIntake", "Submit", "run_now"]

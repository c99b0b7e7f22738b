"""The cell controller's logic: programs in, legs and gun commands out, no bus.

:class:`CellController` receives what the node hears (programs, joint states, interlock
signals, operator commands) and a periodic :meth:`~CellController.tick`, always with the
time on a monotonic clock, and acts through a :class:`~robot_nodes.controller.reports.CellOutputs`
port. It owns the state machine (IDLE, LOADED, RUNNING, PAUSED, FAULT, ESTOP) and applies
the safety rules before anything else on every input:

* the gun is commanded on only while RUNNING, on a spray stroke of the program, with every
  interlock fresh and safe and no stop in progress;
* it is commanded off immediately on any fault, pause, abort, e-stop or interlock loss, and
  on every turnaround by the program's own gun pattern;
* nothing moves unless a program passed validation and planning.

Validation (:mod:`~robot_nodes.controller.validation`) runs in the caller's thread; planning
(:mod:`~robot_nodes.controller.planning`, tenths of a second) runs through ``submit``, a
worker thread in the node, so supervision never waits for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

import numpy as np

from robot_nodes.controller.config import CellConfig
from robot_nodes.controller.dispatch import DispatchLog
from robot_nodes.controller.faults import FaultCode, ProgramRejected
from robot_nodes.controller.interlocks import Interlocks
from robot_nodes.controller.legs import (
    APPROACH,
    Leg,
    concat_legs,
    hold_leg,
    joint_move,
    stop_leg,
)
from robot_nodes.controller.monitor import ExecutionMonitor
from robot_nodes.controller.planning import ExecutionPlan, compile_plan, resume_leg
from robot_nodes.controller.recipe_store import RecipeStore
from robot_nodes.controller.reports import (
    CellOutputs,
    CellReport,
    DriverMode,
    ProgramState,
    StatusReport,
)
from robot_nodes.controller.run_record import RunRecord
from robot_nodes.controller.state_machine import (
    CellEvent,
    CellMode,
    CellStateMachine,
    IllegalTransition,
    Transition,
)
from robot_nodes.controller.trigger import TriggerScheduler
from robot_nodes.controller.validation import validate_program
from robot_nodes.kinematics import RobotModel
from robot_nodes.signing import ApprovalVerifier

log = logging.getLogger(__name__)

Submit = Callable[[Callable[[], ExecutionPlan]], "Future[ExecutionPlan]"]
_STOP_POINTS = 400  # size assumed for a stop leg when choosing its start delay
_CONTROLLED_STOP = {
    FaultCode.DOOR_OPEN,
    FaultCode.PAINT_PRESSURE_LOST,
    FaultCode.BOOTH_AIRFLOW_LOST,
    FaultCode.INTERLOCK_STALE,
    FaultCode.ABORTED_BY_OPERATOR,
    FaultCode.CONTROLLER_SHUTDOWN,
}
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


class CellController:
    """State, safety and execution logic of one spray cell.

    Parameters
    ----------
    config : CellConfig
    robot : RobotModel
    outputs : CellOutputs
    verifier : ApprovalVerifier or None
        The cell's approval key; None refuses every program.
    recipes : RecipeStore
    submit : callable, optional
        Runs planning (a zero-argument callable) and returns a Future; synchronous by
        default.
    wall_ns : callable, optional
        Wall clock in ns (stamps of results, program age), ``time.time_ns`` by default.
    """

    def __init__(
        self,
        config: CellConfig,
        robot: RobotModel,
        outputs: CellOutputs,
        *,
        verifier: ApprovalVerifier | None,
        recipes: RecipeStore,
        submit: Submit | None = None,
        wall_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.config = config
        self.robot = robot
        self.out = outputs
        self.verifier = verifier
        self.recipes = recipes
        self._submit = submit or run_now
        self._wall_ns = wall_ns
        self.started_wall_ns = wall_ns()
        self.interlocks = Interlocks(config.interlocks)
        self.sm = CellStateMachine(self._on_transition)
        self.q_meas: np.ndarray | None = None
        self._last_js_s: float | None = None
        self._pending: tuple[str, Future[ExecutionPlan]] | None = None
        self._plan: ExecutionPlan | None = None
        self._run: RunRecord | None = None
        self._leg: Leg | None = None
        self._monitor: ExecutionMonitor | None = None
        self._trigger: TriggerScheduler | None = None
        self._stopping = False  # a stop leg runs (pause, abort, controlled fault stop)
        self._resume_requested = False
        self._stall_since: float | None = None
        self.gun_on = False
        self._gun_switched_s = -1e9
        self._dispatches = DispatchLog(
            self.started_wall_ns, require_stamp=config.execution.program_max_age_s > 0
        )
        self._last_cell: CellReport | None = None
        self._last_cell_s = -1e9
        self._last_status_s = -1e9
        self._wrong_types: set[tuple[str, str]] = set()
        self._now_s = 0.0

    # -- properties ---------------------------------------------------------------------
    @property
    def state(self) -> CellMode:
        return self.sm.state

    @property
    def active_program_id(self) -> str:
        if self._plan is not None:
            return self._plan.program.program_id
        if self._pending is not None:
            return self._pending[0]
        return ""

    def driver_online(self, now_s: float) -> bool:
        return (
            self._last_js_s is not None
            and now_s - self._last_js_s <= self.config.execution.driver_timeout_s
        )

    # -- inputs -------------------------------------------------------------------------
    def on_program(self, msg: Any, now_s: float) -> None:
        """A ``SprayProgram`` arrived."""
        self._now_s = now_s
        if not all(hasattr(msg, name) for name in _PROGRAM_FIELDS):
            self._status(
                StatusReport(
                    str(getattr(msg, "program_id", "")),
                    ProgramState.REJECTED,
                    fault_code=FaultCode.WRONG_MESSAGE_TYPE,
                    fault_text=f"spray_program: expected a SprayProgram, got {type(msg).__name__}",
                )
            )
            return
        pid = str(msg.program_id)
        if pid and pid == self.active_program_id:
            log.info("program '%s' received again while active: ignored", pid)
            return
        self._status(StatusReport(pid, ProgramState.VALIDATING))
        try:
            self._dispatches.check(msg)
            accepted = validate_program(
                msg, self.config, self.verifier, self.recipes, now_wall_ns=self._wall_ns()
            )
            self._check_ready(pid, now_s)
        except ProgramRejected as exc:
            self._reject(pid, exc)
            return
        q_now = self.q_meas.copy() if self.q_meas is not None else self.robot.home_rad
        robot, config = self.robot, self.config
        self._pending = (pid, self._submit(lambda: compile_plan(robot, accepted, q_now, config)))
        self._poll_pending(now_s)

    def on_joint_state(
        self, names: Sequence[str], positions: Sequence[float], now_s: float
    ) -> None:
        """A ``JointState`` arrived (names and positions as in the message)."""
        self._now_s = now_s
        joints = self.robot.joint_names
        index = {name: i for i, name in enumerate(names)}
        missing = [j for j in joints if j not in index]
        pos = list(positions)
        q = None
        if not missing and len(pos) == len(names):
            q = np.array([pos[index[j]] for j in joints], dtype=float)
        if q is None or not np.isfinite(q).all():
            why = f"lacks {', '.join(missing)}" if missing else "has bad positions"
            if self.sm.state in (CellMode.RUNNING, CellMode.PAUSED):
                self._fault(FaultCode.JOINT_STATES_INVALID, f"joint_states {why}", now_s)
            return
        self.q_meas = q
        self._last_js_s = now_s
        if self._monitor is not None:
            progress = self._monitor.update(now_s, q)
            if self._run is not None:
                self._run.account(progress, self._paint_flowing(now_s), now_s)
        self._supervise(now_s)

    def on_interlock(self, signal: str, value: bool, now_s: float) -> None:
        """An interlock signal arrived (``estop``, ``door_closed``, ...)."""
        self._now_s = now_s
        self.interlocks.update(signal, value, now_s)
        self._supervise(now_s)
        self._publish_cell(now_s)

    def on_command(self, text: str, now_s: float) -> None:
        """An operator command: ``start|pause|resume|abort|reset [program_id]``."""
        self._now_s = now_s
        parts = str(text).strip().split()
        verb = parts[0].lower() if parts else ""
        target = parts[1] if len(parts) > 1 else None
        handlers = {
            "start": self._cmd_start,
            "pause": self._cmd_pause,
            "resume": self._cmd_resume,
            "abort": self._cmd_abort,
            "reset": self._cmd_reset,
        }
        handler = handlers.get(verb)
        if handler is None:
            self._refuse_command(f"unknown command '{text}' (known: {', '.join(handlers)})")
            return
        if target is not None and target != self.active_program_id:
            self._refuse_command(
                f"'{verb} {target}': the active program is '{self.active_program_id or 'none'}'"
            )
            return
        try:
            handler(now_s)
        except IllegalTransition as exc:
            self._refuse_command(exc.reason)

    def on_wrong_type(self, topic: str, found: str, expected: str, now_s: float) -> None:
        """Somebody publishes ``found`` on ``topic``, which carries ``expected``."""
        key = (topic, found)
        if key in self._wrong_types:
            return
        self._wrong_types.add(key)
        self._status(
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

    def tick(self, now_s: float) -> None:
        """Periodic work: planning results, auto-start, gun schedule, timeouts, reports."""
        self._now_s = now_s
        self._poll_pending(now_s)
        self._supervise(now_s)
        exe = self.config.execution
        if (
            self.sm.state is CellMode.RUNNING
            and self._run is not None
            and now_s - self._last_status_s >= exe.status_period_s
        ):
            self._status(self._run.running_status(paused=False))
        if now_s - self._last_cell_s >= exe.cell_state_period_s:
            self._publish_cell(now_s, force=True)
        else:
            self._publish_cell(now_s)

    def fail(self, code: FaultCode, text: str, now_s: float) -> None:
        """Stop for a fault found outside the controller (e.g. a failing callback)."""
        self._now_s = now_s
        self._fault(code, text, now_s)

    def shutdown(self, now_s: float) -> None:
        """Stop for good: gun off, the robot stopped, an active program aborted."""
        self._set_gun(False, now_s)
        if self.sm.state in (CellMode.RUNNING, CellMode.PAUSED, CellMode.LOADED):
            self._fault(
                FaultCode.CONTROLLER_SHUTDOWN, "the cell controller is shutting down", now_s
            )

    # -- program acceptance --------------------------------------------------------------
    def _check_ready(self, pid: str, now_s: float) -> None:
        state = self.sm.state
        if state in (CellMode.FAULT, CellMode.ESTOP):
            raise ProgramRejected(
                FaultCode.CELL_NOT_READY,
                f"program '{pid}': the cell is in {state.value}; reset it first",
            )
        if state is not CellMode.IDLE or self._pending is not None:
            raise ProgramRejected(
                FaultCode.CELL_BUSY,
                f"program '{pid}': the cell is busy with '{self.active_program_id}' "
                f"({state.value})",
            )
        if self._stopping:
            raise ProgramRejected(
                FaultCode.CELL_BUSY, f"program '{pid}': the robot is still stopping; send it again"
            )
        if not self.driver_online(now_s) or self.q_meas is None:
            raise ProgramRejected(
                FaultCode.DRIVER_OFFLINE,
                f"program '{pid}': no joint_states from the robot driver "
                f"(within {self.config.execution.driver_timeout_s:g} s)",
            )

    def _reject(self, pid: str, exc: ProgramRejected) -> None:
        log.warning("program '%s' refused: %s", pid, exc)
        self._status(
            StatusReport(pid, ProgramState.REJECTED, fault_code=exc.code, fault_text=exc.text)
        )

    def _poll_pending(self, now_s: float) -> None:
        if self._pending is None or not self._pending[1].done():
            return
        pid, future = self._pending
        self._pending = None
        try:
            plan = future.result()
        except ProgramRejected as exc:
            self._reject(pid, exc)
            return
        except Exception as exc:  # noqa: BLE001 - reported, never crashes the node
            log.exception("planning of '%s' failed", pid)
            self._reject(pid, ProgramRejected(FaultCode.INTERNAL_ERROR, f"planning failed: {exc}"))
            return
        if self.sm.state is not CellMode.IDLE:
            self._reject(
                pid,
                ProgramRejected(
                    FaultCode.CELL_NOT_READY,
                    f"program '{pid}': the cell went to {self.sm.state.value} during planning",
                ),
            )
            return
        self._plan = plan
        self._dispatches.remember(pid)
        self.sm.apply(CellEvent.LOAD)
        note = "; ".join(plan.notes)
        self._status(StatusReport(pid, ProgramState.QUEUED, fault_text=note))
        self._supervise(now_s)

    # -- commands -----------------------------------------------------------------------
    def _refuse_command(self, text: str) -> None:
        log.warning("command refused: %s", text)
        state = ProgramState.QUEUED if self.sm.state is CellMode.LOADED else ProgramState.RUNNING
        if self._plan is None:
            state = ProgramState.REJECTED
        self._status(
            StatusReport(
                self.active_program_id,
                state,
                fault_code=FaultCode.COMMAND_REFUSED,
                fault_text=text,
            )
        )

    def _cmd_start(self, now_s: float) -> None:
        if not self.sm.can(CellEvent.START):
            self.sm.apply(CellEvent.START)  # raises with the reason
        self._start(now_s, explicit=True)

    def _cmd_pause(self, now_s: float) -> None:
        if not self.sm.can(CellEvent.PAUSE):
            self.sm.apply(CellEvent.PAUSE)  # raises with the reason
        self._set_gun(False, now_s)
        self._stop_motion(now_s, controlled=True)
        self.sm.apply(CellEvent.PAUSE)
        if self._run is not None:
            self._status(self._run.running_status(paused=True))

    def _cmd_resume(self, now_s: float) -> None:
        if not self.sm.can(CellEvent.RESUME):
            self.sm.apply(CellEvent.RESUME)
        problems = self.interlocks.problems(now_s)
        if problems or not self.driver_online(now_s):
            why = problems[0].text if problems else "robot driver offline"
            self._refuse_command(f"cannot resume: {why}")
            return
        self._resume_requested = True
        self._try_resume(now_s)

    def _cmd_abort(self, now_s: float) -> None:
        if not self.sm.can(CellEvent.ABORT):
            self.sm.apply(CellEvent.ABORT)
        self._end_program(
            ProgramState.ABORTED, FaultCode.ABORTED_BY_OPERATOR, "aborted by the operator", now_s
        )
        self.sm.apply(CellEvent.ABORT)

    def _cmd_reset(self, now_s: float) -> None:
        if self.sm.state is CellMode.ESTOP and (
            self.interlocks.estop_engaged() or not self.interlocks.is_fresh("estop", now_s)
        ):
            self._refuse_command("reset refused: the e-stop is still engaged (or not reported)")
            return
        self.sm.apply(CellEvent.RESET)

    # -- execution ----------------------------------------------------------------------
    def _send(
        self, leg: Leg, now_s: float, *, schedule_gun: bool, delay_s: float | None = None
    ) -> None:
        delay = self.out.start_delay_s(len(leg)) if delay_s is None else delay_s
        self._leg = leg
        self._monitor = ExecutionMonitor(
            leg, now_s + delay, self.robot.chain, self.config.execution
        )
        gun = self.config.gun
        self._trigger = (
            TriggerScheduler.for_leg(
                leg, gun.on_latency_s, gun.off_latency_s, gun.max_lag_compensation_s
            )
            if schedule_gun
            else None
        )
        self.out.send_leg(leg, delay)

    def _start(self, now_s: float, *, explicit: bool = False) -> None:
        plan = self._plan
        assert plan is not None
        problems = self.interlocks.problems(now_s)
        if problems or not self.driver_online(now_s):
            if explicit:
                why = problems[0].text if problems else "robot driver offline"
                self._refuse_command(f"cannot start: {why}")
            return
        leg = plan.first_leg
        q0 = leg.q_rad[0]
        if self.q_meas is not None and np.max(np.abs(self.q_meas - q0)) > 1e-3:
            approach = joint_move(
                self.robot.chain,
                self.q_meas,
                plan.program_leg.q_rad[0],
                speed_scale=self.config.execution.approach_speed_scale,
            )
            leg = concat_legs(approach, plan.program_leg, label="approach+program")
        self._run = RunRecord(plan=plan, started_wall_ns=self._wall_ns())
        self.sm.apply(CellEvent.START)
        self._send(leg, now_s, schedule_gun=True)
        self._status(self._run.running_status(paused=False))

    def _stop_motion(self, now_s: float, *, controlled: bool) -> None:
        """Stop the robot: along the path when ``controlled``, else hold where it is."""
        self._trigger = None
        leg, monitor = self._leg, self._monitor
        if leg is None or monitor is None or monitor.done:
            self._leg, self._monitor, self._stopping = None, None, False
            return
        stop = None
        delay = 0.0
        if controlled:
            # starts now on the current path; slowing down begins once the driver has it
            lead = self.out.start_delay_s(_STOP_POINTS)
            stop = stop_leg(leg, monitor.elapsed(now_s), self.robot.chain, lead_s=lead)
        elif self.q_meas is not None:
            stop = hold_leg(self.robot.chain, self.q_meas)
            delay = self.out.start_delay_s(1)
        if stop is None:
            self._leg, self._monitor, self._stopping = None, None, False
            return
        self._stopping = True
        self._send(stop, now_s, schedule_gun=False, delay_s=delay)

    def _try_resume(self, now_s: float) -> None:
        if not self._resume_requested or self._stopping or self._run is None:
            return
        self._resume_requested = False
        leg = self._leg
        run = self._run
        if leg is not None:
            q_stop, s_stop = leg.q_rad[-1], float(leg.s_mm[-1])
            in_program = int(leg.phase[-1]) != APPROACH
        else:
            q_stop = self.q_meas if self.q_meas is not None else run.plan.program_leg.q_rad[0]
            s_stop, in_program = run.progress_mm, run.progress_mm > 0
        try:
            new_leg = resume_leg(
                self.robot, run.plan, q_stop, s_stop, run.s_painted_mm, in_program, self.config
            )
        except ProgramRejected as exc:
            self._fault(exc.code, exc.text, now_s)
            return
        self.sm.apply(CellEvent.RESUME)
        self._send(new_leg, now_s, schedule_gun=True)
        self._status(run.running_status(paused=False))

    def _paint_flowing(self, now_s: float) -> bool:
        """Whether paint leaves the gun now (the trigger output, delayed by the gun latency)."""
        gun = self.config.gun
        if self.gun_on:
            return now_s >= self._gun_switched_s + gun.on_latency_s
        return now_s < self._gun_switched_s + gun.off_latency_s

    def _set_gun(self, on: bool, now_s: float) -> None:
        if on == self.gun_on:
            return
        self.gun_on = on
        self._gun_switched_s = now_s
        self.out.set_gun(on)
        if self._run is not None and not on:
            progress = self._monitor.progress if self._monitor is not None else None
            self._run.gun_off_at(progress, self.config.gun.off_latency_s)
        self._publish_cell(now_s)

    def _supervise(self, now_s: float) -> None:
        """Safety first, then the gun schedule, then execution progress."""
        state = self.sm.state
        problems = self.interlocks.problems(now_s)
        if self.gun_on and (problems or state is not CellMode.RUNNING or self._stopping):
            self._set_gun(False, now_s)
        if self.interlocks.estop_engaged() and state is not CellMode.ESTOP:
            self._estop(now_s)
            return
        if state in (CellMode.RUNNING, CellMode.PAUSED) and problems:
            worst = problems[0]
            self._fault(worst.code, worst.text, now_s)
            return
        if state is CellMode.LOADED and self.config.execution.auto_start:
            self._start(now_s)
            return
        monitor = self._monitor
        if monitor is None:
            return
        fault = monitor.check(now_s)
        if fault is not None:
            if state in (CellMode.RUNNING, CellMode.PAUSED):
                self._fault(fault[0], fault[1], now_s)
            else:  # a stop after abort/fault did not settle: give up on it
                log.warning("stop not completed: %s", fault[1])
                self._leg, self._monitor, self._stopping = None, None, False
            return
        if state is CellMode.RUNNING and not self._stopping:
            self._run_gun_schedule(now_s, monitor)
        if monitor.done:
            self._leg_done(now_s)

    def _run_gun_schedule(self, now_s: float, monitor: ExecutionMonitor) -> None:
        sched = self._trigger
        if sched is not None:
            due = sched.due(monitor.elapsed(now_s), monitor.lag_estimate_s)
            if due:
                self._set_gun(due[-1][0], now_s)
        p = monitor.progress
        run = self._run
        if not self.gun_on or p is None or run is None or self._leg is None:
            self._stall_since = None
            return
        v_req = float(self._leg.v_req_mm_s[min(p.k + 1, len(self._leg) - 1)])
        if v_req > 0 and p.speed_mm_s < self.config.execution.stall_speed_fraction * v_req:
            if self._stall_since is None:
                self._stall_since = now_s
            elif now_s - self._stall_since >= self.config.execution.stall_time_s:
                self._fault(
                    FaultCode.SPRAY_STALLED,
                    f"gun on but the TCP moves at {p.speed_mm_s:.0f} mm/s instead of "
                    f"{v_req:.0f} mm/s near waypoint {p.waypoint}",
                    now_s,
                )
        else:
            self._stall_since = None

    def _leg_done(self, now_s: float) -> None:
        leg = self._leg
        state = self.sm.state
        if self._stopping:
            self._stopping = False
            if state is CellMode.PAUSED:
                self._try_resume(now_s)
            else:
                self._leg, self._monitor = None, None
            return
        if state is CellMode.RUNNING and leg is not None and leg.completes_program:
            self._set_gun(False, now_s)
            self._end_program(ProgramState.DONE, None, "", now_s)
            self.sm.apply(CellEvent.FINISH)

    def _end_program(
        self, state: ProgramState, code: FaultCode | None, text: str, now_s: float
    ) -> None:
        """Publish the outcome of the loaded/active program and forget it."""
        self._set_gun(False, now_s)
        plan, run = self._plan, self._run
        if self.sm.state in (CellMode.RUNNING, CellMode.PAUSED):
            self._stop_motion(now_s, controlled=code is None or code in _CONTROLLED_STOP)
        else:
            self._leg, self._monitor = None, None
        if run is not None:
            self._status(run.final_status(state, code or "", text))
            self.out.publish_part_result(
                run.part_report(
                    completed=state is ProgramState.DONE,
                    code=code or "",
                    finished_wall_ns=self._wall_ns(),
                )
            )
        elif plan is not None:  # loaded, never started
            pid = plan.program.program_id
            self._status(StatusReport(pid, state, fault_code=code or "", fault_text=text))
        self._plan, self._run = None, None
        self._resume_requested = False
        self._stall_since = None

    def _fault(self, code: FaultCode, text: str, now_s: float) -> None:
        self._set_gun(False, now_s)
        log.error("fault %s: %s", code, text)
        if not self.sm.can(CellEvent.FAULT):
            return
        self._end_program(ProgramState.ABORTED, code, text, now_s)
        self.sm.apply(CellEvent.FAULT)

    def _estop(self, now_s: float) -> None:
        self._set_gun(False, now_s)
        if self._plan is not None:
            self._end_program(ProgramState.ABORTED, FaultCode.ESTOP, "emergency stop", now_s)
        else:
            self._stop_motion(now_s, controlled=False)
        self.sm.apply(CellEvent.ESTOP)

    # -- reports ------------------------------------------------------------------------
    def _status(self, report: StatusReport) -> None:
        self._last_status_s = self._now_s
        self.out.publish_status(report)

    def cell_report(self, now_s: float) -> CellReport:
        il = self.interlocks
        return CellReport(
            cell_id=self.config.cell_id,
            controller_state=self.sm.state,
            mode=DriverMode.AUTO if self.driver_online(now_s) else DriverMode.OFFLINE,
            estop=il.estop_engaged(),
            door_closed=bool(il.value("door_closed")),
            booth_airflow_ok=bool(il.value("booth_airflow_ok")),
            paint_pressure_ok=bool(il.value("paint_pressure_ok")),
            spray_enabled=il.spray_permitted(now_s),
            gun_on=self.gun_on,
            active_program_id=self.active_program_id,
        )

    def _publish_cell(self, now_s: float, *, force: bool = False) -> None:
        report = self.cell_report(now_s)
        if force or report != self._last_cell:
            self._last_cell = report
            self._last_cell_s = now_s
            self.out.publish_cell(report)

    def _on_transition(self, transition: Transition) -> None:
        log.info(
            "%s --%s--> %s", transition.before.value, transition.event.value, transition.after.value
        )
        self._publish_cell(self._now_s)


__all__ = ["CellController", "Submit", "run_now"]

"""The cell controller's logic: programs in, legs and gun commands out, no bus.

:class:`CellController` receives what the node hears (programs, joint states, interlock
signals, operator commands) and a periodic :meth:`~CellController.tick`, always with the
time on the node's clock (monotonic, or sim time; never going back), and acts through a
:class:`~robot_nodes.controller.reports.CellOutputs` port. It owns the state machine (IDLE,
LOADED, RUNNING, PAUSED, FAULT, ESTOP) and applies the safety rules before anything else on
every input:

* the gun is commanded on only while RUNNING, on a spray stroke of the program, with every
  interlock fresh and safe and no stop in progress;
* it is commanded off immediately on any fault, pause, abort, e-stop or interlock loss, and
  on every turnaround by the program's own gun pattern;
* nothing moves unless a program passed validation and planning.

Its parts: :class:`~robot_nodes.controller.intake.ProgramIntake` takes programs from message
to plan (validation in the caller's thread, planning through ``submit``, a worker thread in
the node, so supervision never waits for it);
:class:`~robot_nodes.controller.execution.LegRunner` holds the leg the driver runs, its
monitor and gun schedule, and stops it; :class:`~robot_nodes.controller.gun.GunOutput` and
:class:`~robot_nodes.controller.gun.StallWatch` are the trigger output; commands arrive as
:class:`~robot_nodes.controller.commands.Command`. This class decides: states, safety,
starting, pausing, resuming and ending programs, and what is reported.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from recipes.approval import ApprovalVerifier
from robot_nodes.controller.commands import (
    COMMAND_CODES,
    Command,
    command_from_code,
    parse_command_text,
)
from robot_nodes.controller.config import CellConfig
from robot_nodes.controller.execution import LegRunner
from robot_nodes.controller.faults import FaultCode, ProgramRejected
from robot_nodes.controller.gun import GunOutput, StallWatch
from robot_nodes.controller.intake import ProgramIntake, Submit, run_now
from robot_nodes.controller.interlocks import Interlocks
from robot_nodes.controller.legs import APPROACH, concat_legs, joint_move
from robot_nodes.controller.monitor import ExecutionMonitor
from robot_nodes.controller.planning import ExecutionPlan, resume_leg
from robot_nodes.controller.recipe_store import RecipeStore
from robot_nodes.controller.reports import (
    CellOutputs,
    CellReport,
    DriverMode,
    ProgramState,
    StatusReport,
    TimedGunOutput,
)
from robot_nodes.controller.run_record import RunRecord
from robot_nodes.controller.state_machine import (
    CellEvent,
    CellMode,
    CellStateMachine,
    IllegalTransition,
    Transition,
)
from robot_nodes.kinematics import RobotModel

log = logging.getLogger(__name__)

_CONTROLLED_STOP = {
    FaultCode.DOOR_OPEN,
    FaultCode.PAINT_PRESSURE_LOST,
    FaultCode.BOOTH_AIRFLOW_LOST,
    FaultCode.INTERLOCK_STALE,
    FaultCode.ABORTED_BY_OPERATOR,
    FaultCode.CONTROLLER_SHUTDOWN,
}


class CellController:
    """State, safety and execution logic of one spray cell.

    Parameters
    ----------
    config : CellConfig
    robot : RobotModel
    outputs : CellOutputs
        A :class:`TimedGunOutput` as well gets every gun switch with its scheduled time.
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
        self._wall_ns = wall_ns
        self.started_wall_ns = wall_ns()
        self.intake = ProgramIntake(
            config,
            robot,
            verifier=verifier,
            recipes=recipes,
            report=self._status,
            submit=submit or run_now,
            wall_ns=wall_ns,
            started_wall_ns=self.started_wall_ns,
        )
        self.interlocks = Interlocks(config.interlocks)
        self.sm = CellStateMachine(self._on_transition)
        self.runner = LegRunner(robot.chain, config, outputs)
        self._timed_gun = isinstance(outputs, TimedGunOutput)
        self.gun = GunOutput(config.gun, self._switch_gun)
        self._stall = StallWatch(
            config.execution.stall_speed_fraction, config.execution.stall_time_s
        )
        self.q_meas: np.ndarray | None = None
        self._cell_key: tuple | None = None  # what the last cell report was built from
        self._inputs = 0  # inputs taken (messages, commands, planning results)
        self._supervised: tuple[float, int] | None = None
        self._joint_orders: dict[tuple[str, ...], tuple[list[int] | None, list[str]]] = {}
        self._last_js_s: float | None = None
        self._plan: ExecutionPlan | None = None
        self._run: RunRecord | None = None
        self._resume_requested = False
        self._fault_code = ""
        self._last_cell: CellReport | None = None
        self._last_cell_s = -1e9
        self._last_status_s = -1e9
        self._now_s = 0.0

    # -- properties ---------------------------------------------------------------------
    @property
    def state(self) -> CellMode:
        return self.sm.state

    @property
    def recipes(self) -> RecipeStore:
        """The approved recipe versions the cell may run."""
        return self.intake.recipes

    @recipes.setter
    def recipes(self, store: RecipeStore) -> None:
        self.intake.recipes = store

    @property
    def verifier(self) -> ApprovalVerifier | None:
        """The cell's approval key (None: every program is refused)."""
        return self.intake.verifier

    @verifier.setter
    def verifier(self, verifier: ApprovalVerifier | None) -> None:
        self.intake.verifier = verifier

    @property
    def gun_on(self) -> bool:
        """The trigger output as commanded."""
        return self.gun.on

    @property
    def fault_code(self) -> str:
        """Why the cell is in FAULT or ESTOP; empty in the other states."""
        return self._fault_code if self.sm.state in (CellMode.FAULT, CellMode.ESTOP) else ""

    @property
    def active_program_id(self) -> str:
        if self._plan is not None:
            return self._plan.program.program_id
        return self.intake.pending_id

    def driver_online(self, now_s: float) -> bool:
        return (
            self._last_js_s is not None
            and now_s - self._last_js_s <= self.config.execution.driver_timeout_s
        )

    # -- inputs -------------------------------------------------------------------------
    def on_program(self, msg: Any, now_s: float) -> None:
        """A ``SprayProgram`` arrived."""
        self._now_s = now_s
        self._inputs += 1
        q_now = self.q_meas if self.q_meas is not None else self.robot.home_rad
        if self.intake.receive(
            msg,
            q_now,
            active_id=self.active_program_id,
            check_ready=lambda pid: self._check_ready(pid, now_s),
        ):
            self._poll_pending(now_s)

    def on_joint_state(
        self,
        names: Sequence[str],
        positions: Sequence[float],
        now_s: float,
        *,
        measured_s: float | None = None,
    ) -> None:
        """A ``JointState`` arrived (names and positions as in the message).

        ``measured_s`` is when the positions were measured, on the controller's clock (the
        message's stamp where it is plausible: :meth:`robot_nodes.node_time.NodeClock.
        measured_s`); None: ``now_s``.
        The execution monitor, the run's spray accounting and the driver watchdog use it.
        """
        self._now_s = now_s
        self._inputs += 1
        t_meas = now_s if measured_s is None else float(measured_s)
        order, missing = self._joint_order_of(tuple(names))
        q = None
        if order is not None and len(positions) == len(names):
            q = np.asarray(positions, dtype=float)[order]
        if q is None or not np.isfinite(q).all():
            why = f"lacks {', '.join(missing)}" if missing else "has bad positions"
            if self.sm.state in (CellMode.RUNNING, CellMode.PAUSED):
                self._fault(FaultCode.JOINT_STATES_INVALID, f"joint_states {why}", now_s)
            return
        self.q_meas = q
        self._last_js_s = t_meas
        monitor = self.runner.monitor
        if monitor is not None:
            progress = monitor.update(t_meas, q)
            if self._run is not None:
                self._run.account(progress, self.gun.paint_flowing(t_meas), t_meas)
        self._supervise(now_s)

    def _joint_order_of(self, names: tuple[str, ...]) -> tuple[list[int] | None, list[str]]:
        """Where the robot's joints are in a message naming ``names`` (None when some are
        missing), and the missing ones; remembered per name list."""
        known = self._joint_orders.get(names)
        if known is None:
            index = {name: i for i, name in enumerate(names)}
            missing = [j for j in self.robot.joint_names if j not in index]
            order = None if missing else [index[j] for j in self.robot.joint_names]
            known = self._joint_orders[names] = (order, missing)
        return known

    def on_interlocks(self, values: Mapping[str, bool], now_s: float) -> None:
        """An ``Interlocks`` message arrived: every signal in it at once."""
        self._now_s = now_s
        self._inputs += 1
        for signal, value in values.items():
            self.interlocks.update(signal, value, now_s)
        self._supervise(now_s)
        self._publish_cell(now_s)

    def on_interlock(self, signal: str, value: bool, now_s: float) -> None:
        """One interlock signal arrived (``estop``, ``door_closed``, ...)."""
        self.on_interlocks({signal: value}, now_s)

    def on_cell_command(self, command: Command | int, program_id: str, now_s: float) -> None:
        """An operator command: a :class:`Command`, or the ``command`` code of a
        ``CellCommand`` (START=1 ... RESET=5); ``program_id`` names the program it is meant
        for (empty: the active one)."""
        self._now_s = now_s
        self._inputs += 1
        if not isinstance(command, Command):
            code = int(command)
            known = command_from_code(code)
            if known is None:
                codes = ", ".join(f"{c.name}={k}" for k, c in COMMAND_CODES.items())
                self._refuse_command(f"unknown command code {code} (CellCommand: {codes})")
                return
            command = known
        self._command(command, program_id, now_s)

    def on_command(self, text: str, now_s: float) -> None:
        """An operator command as text: ``start|pause|resume|abort|reset [program_id]``."""
        self._now_s = now_s
        self._inputs += 1
        verb, target = parse_command_text(text)
        try:
            command = Command(verb)
        except ValueError:
            known = ", ".join(c.value for c in Command)
            self._refuse_command(f"unknown command '{text}' (known: {known})")
            return
        self._command(command, target, now_s)

    def on_wrong_type(self, topic: str, found: str, expected: str, now_s: float) -> None:
        """Somebody publishes ``found`` on ``topic``, which carries ``expected``."""
        self._now_s = now_s
        self._inputs += 1
        self.intake.wrong_type(topic, found, expected)

    def tick(self, now_s: float) -> None:
        """Periodic work: planning results, auto-start, gun schedule, timeouts, reports."""
        self._now_s = now_s
        self._poll_pending(now_s)
        if self._supervised != (now_s, self._inputs):  # else nothing new since the last one
            self._supervise(now_s)
        exe = self.config.execution
        if (
            self.sm.state is CellMode.RUNNING
            and self._run is not None
            and now_s - self._last_status_s >= exe.status_period_s
        ):
            self._status(self._run.running_status(paused=False))
        self._publish_cell(now_s, force=now_s - self._last_cell_s >= exe.cell_state_period_s)

    def poll_planning(self, now_s: float) -> None:
        """Load a program whose planning has finished (and start it when it may start):
        what :meth:`tick` does first, for a node whose ticks wait for sim time."""
        self._now_s = now_s
        self._inputs += 1
        self._poll_pending(now_s)

    def fail(self, code: FaultCode, text: str, now_s: float) -> None:
        """Stop for a fault found outside the controller (e.g. a failing callback)."""
        self._now_s = now_s
        self._inputs += 1
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
        if state is not CellMode.IDLE or self.intake.pending_id:
            raise ProgramRejected(
                FaultCode.CELL_BUSY,
                f"program '{pid}': the cell is busy with '{self.active_program_id}' "
                f"({state.value})",
            )
        if self.runner.stopping:
            raise ProgramRejected(
                FaultCode.CELL_BUSY, f"program '{pid}': the robot is still stopping; send it again"
            )
        if not self.driver_online(now_s) or self.q_meas is None:
            raise ProgramRejected(
                FaultCode.DRIVER_OFFLINE,
                f"program '{pid}': no joint_states from the robot driver "
                f"(within {self.config.execution.driver_timeout_s:g} s)",
            )

    def _poll_pending(self, now_s: float) -> None:
        ready = self.intake.poll()
        if ready is None:
            return
        self._inputs += 1
        pid, plan = ready
        if self.sm.state is not CellMode.IDLE:
            self.intake.reject(
                pid,
                ProgramRejected(
                    FaultCode.CELL_NOT_READY,
                    f"program '{pid}': the cell went to {self.sm.state.value} during planning",
                ),
            )
            return
        self._plan = plan
        self.intake.loaded(pid)
        self.sm.apply(CellEvent.LOAD)
        note = "; ".join(plan.notes)
        self._status(StatusReport(pid, ProgramState.QUEUED, fault_text=note))
        self._supervise(now_s)

    # -- commands -----------------------------------------------------------------------
    def _command(self, command: Command, target: str, now_s: float) -> None:
        if target and command is not Command.RESET and target != self.active_program_id:
            self._refuse_command(
                f"'{command.value} {target}': the active program is "
                f"'{self.active_program_id or 'none'}'"
            )
            return
        handler = {
            Command.START: self._cmd_start,
            Command.PAUSE: self._cmd_pause,
            Command.RESUME: self._cmd_resume,
            Command.ABORT: self._cmd_abort,
            Command.RESET: self._cmd_reset,
        }[command]
        try:
            if command is not Command.RESET and not self.sm.can(command.event):
                self.sm.apply(command.event)  # raises with the reason
            handler(now_s)
        except IllegalTransition as exc:
            self._refuse_command(exc.reason)

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
        self._start(now_s, explicit=True)

    def _cmd_pause(self, now_s: float) -> None:
        self._set_gun(False, now_s)
        self.runner.stop(now_s, controlled=True, q_meas=self.q_meas)
        self.sm.apply(CellEvent.PAUSE)
        if self._run is not None:
            self._status(self._run.running_status(paused=True))

    def _cmd_resume(self, now_s: float) -> None:
        problems = self.interlocks.problems(now_s)
        if problems or not self.driver_online(now_s):
            why = problems[0].text if problems else "robot driver offline"
            self._refuse_command(f"cannot resume: {why}")
            return
        self._resume_requested = True
        self._try_resume(now_s)

    def _cmd_abort(self, now_s: float) -> None:
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
        self.runner.send(leg, now_s, schedule_gun=True)
        self._status(self._run.running_status(paused=False))

    def _try_resume(self, now_s: float) -> None:
        if not self._resume_requested or self.runner.stopping or self._run is None:
            return
        self._resume_requested = False
        leg = self.runner.leg
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
        self.runner.send(new_leg, now_s, schedule_gun=True)
        self._status(run.running_status(paused=False))

    def _switch_gun(self, on: bool, at_s: float) -> None:
        if self._timed_gun:
            self.out.set_gun_at(on, at_s)  # type: ignore[attr-defined]
        else:
            self.out.set_gun(on)

    def _set_gun(self, on: bool, now_s: float, at_s: float | None = None) -> None:
        if not self.gun.set(on, now_s, at_s):
            return
        if not on:
            self._stall.reset()
            if self._run is not None:
                monitor = self.runner.monitor
                progress = monitor.progress if monitor is not None else None
                self._run.gun_off_at(progress, self.config.gun.off_latency_s)
        self._publish_cell(now_s)

    def _supervise(self, now_s: float) -> None:
        """Safety first, then the gun schedule, then execution progress. Remembers when it
        changed nothing, so that :meth:`tick` need not repeat it at the same time with no
        input in between."""
        before = (self.sm.state, self.runner.monitor, self.gun.on)
        self._supervised = None
        self._supervise_once(now_s)
        if (self.sm.state, self.runner.monitor, self.gun.on) == before:
            self._supervised = (now_s, self._inputs)

    def _supervise_once(self, now_s: float) -> None:
        state = self.sm.state
        problems = self.interlocks.problems(now_s)
        if self.gun.on and (problems or state is not CellMode.RUNNING or self.runner.stopping):
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
        monitor = self.runner.monitor
        if monitor is None:
            return
        fault = monitor.check(now_s)
        if fault is not None:
            if state in (CellMode.RUNNING, CellMode.PAUSED):
                self._fault(fault[0], fault[1], now_s)
            else:  # a stop after abort/fault did not settle: give up on it
                log.warning("stop not completed: %s", fault[1])
                self.runner.clear()
            return
        if state is CellMode.RUNNING and not self.runner.stopping:
            self._run_gun_schedule(now_s, monitor)
        if monitor.done:
            self._leg_done(now_s)

    def _run_gun_schedule(self, now_s: float, monitor: ExecutionMonitor) -> None:
        sched = self.runner.trigger
        if sched is not None:
            due = sched.due_at(monitor.elapsed(now_s), monitor.lag_estimate_s)
            if due:
                on, _, t_fire = due[-1]
                self._set_gun(on, now_s, at_s=monitor.t0_s + t_fire)
        p = monitor.progress
        leg = self.runner.leg
        if not self.gun.on or p is None or self._run is None or leg is None:
            self._stall.reset()
            return
        v_req = float(leg.v_req_mm_s[min(p.k + 1, len(leg) - 1)])
        if self._stall.update(now_s, p.speed_mm_s, v_req):
            self._fault(
                FaultCode.SPRAY_STALLED,
                f"gun on but the TCP moves at {p.speed_mm_s:.0f} mm/s instead of "
                f"{v_req:.0f} mm/s near waypoint {p.waypoint}",
                now_s,
            )

    def _leg_done(self, now_s: float) -> None:
        leg = self.runner.leg
        state = self.sm.state
        if self.runner.stopping:
            self.runner.stopping = False
            if state is CellMode.PAUSED:
                self._try_resume(now_s)
            else:
                self.runner.clear()
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
            controlled = code is None or code in _CONTROLLED_STOP
            self.runner.stop(now_s, controlled=controlled, q_meas=self.q_meas)
        elif not self.runner.stopping:
            self.runner.clear()
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
        self._stall.reset()

    def _fault(self, code: FaultCode, text: str, now_s: float) -> None:
        self._set_gun(False, now_s)
        log.error("fault %s: %s", code, text)
        if not self.sm.can(CellEvent.FAULT):
            return
        self._fault_code = str(code)
        self._end_program(ProgramState.ABORTED, code, text, now_s)
        self.sm.apply(CellEvent.FAULT)

    def _estop(self, now_s: float) -> None:
        self._set_gun(False, now_s)
        self._fault_code = str(FaultCode.ESTOP)
        if self._plan is not None:
            self._end_program(ProgramState.ABORTED, FaultCode.ESTOP, "emergency stop", now_s)
        else:
            self.runner.stop(now_s, controlled=False, q_meas=self.q_meas)
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
            fault_code=self.fault_code,
            mode=DriverMode.AUTO if self.driver_online(now_s) else DriverMode.OFFLINE,
            estop=il.estop_engaged(),
            door_closed=bool(il.value("door_closed")),
            booth_airflow_ok=bool(il.value("booth_airflow_ok")),
            paint_pressure_ok=bool(il.value("paint_pressure_ok")),
            spray_enabled=il.spray_permitted(now_s),
            gun_on=self.gun.on,
            active_program_id=self.active_program_id,
        )

    def _publish_cell(self, now_s: float, *, force: bool = False) -> None:
        """Publish the cell state when it changed (or ``force``). What a report holds is
        decided by the key below; an unchanged key skips building it (every tick asks)."""
        il = self.interlocks
        key = (
            self.sm.state,
            self._fault_code,
            self.gun.on,
            self.active_program_id,
            self.driver_online(now_s),
            il.spray_permitted(now_s),
            il.updates,
        )
        if not force and key == self._cell_key:
            return
        self._cell_key = key
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

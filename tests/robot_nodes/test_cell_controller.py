"""The cell controller's logic against the fake driver, on simulated time."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from recipes.approval import ApprovalVerifier
from robot_nodes.controller import (
    CellConfig,
    CellController,
    CellMode,
    Command,
    FaultCode,
    ProgramState,
    RecipeStore,
    recipe_tool_poses,
)
from robot_nodes.controller.legs import BACKUP
from robot_nodes.fake_driver import FakeDriver
from robot_nodes.kinematics import RobotModel

from .cell_factories import KEY, cell_config, program_msg, signed_recipe

T0_NS = 1_800_000_000_000_000_000
SAFE = {"estop": False, "door_closed": True, "paint_pressure_ok": True, "booth_airflow_ok": True}
DOC = signed_recipe()
STROKE_MM = 200.0


class Cell:
    """A controller, the fake driver and a simulated clock."""

    def __init__(self, robot: RobotModel, config: CellConfig | None = None, **driver: Any) -> None:
        self.robot = robot
        self.config = config or cell_config(interlocks={"timeout_s": 0.0})
        self.driver = FakeDriver(robot.joint_names, robot.home_rad, **{"lag_tau_s": 0.02, **driver})
        store = RecipeStore()
        store.add(DOC)
        self.t = 0.0
        self.ctl = CellController(
            self.config, robot, self.driver, verifier=ApprovalVerifier(KEY.public_key_hex),
            recipes=store, wall_ns=lambda: T0_NS + round(self.t * 1e9),
        )  # fmt: skip
        for name, value in SAFE.items():
            self.ctl.on_interlock(name, value, 0.0)
        self.run(0.05)

    def run(self, seconds: float, until=None, events=()) -> None:
        self.t = self.driver.run(self.ctl, self.t, self.t + seconds, until=until, events=events)
        self.driver.now_s = self.t

    def send(self, program_id: str = "prog-1", **kw: Any) -> None:
        msg = program_msg(DOC, program_id=program_id, stamp_ns=T0_NS + round(self.t * 1e9), **kw)
        self.ctl.on_program(msg, self.t)

    def run_until_state(self, state: CellMode, timeout: float = 15.0) -> None:
        self.run(timeout, until=lambda: self.ctl.state is state)
        assert self.ctl.state is state

    def run_until_gun(self, on: bool, nth: int = 1, timeout: float = 10.0) -> None:
        def seen() -> bool:
            return sum(1 for _, g in self.driver.gun if g == on) >= nth

        self.run(timeout, until=seen)
        assert seen()

    def statuses(self, program_id: str | None = None):
        return [s for s in self.driver.statuses if program_id is None or s.program_id == program_id]

    @property
    def last(self):
        return self.driver.statuses[-1]

    def states(self) -> list[str]:
        out: list[str] = []
        for c in self.driver.cells:
            if not out or out[-1] != c.controller_state.value:
                out.append(c.controller_state.value)
        return out

    def tcp_mm(self, t: float) -> np.ndarray:
        ts = np.array([h[0] for h in self.driver.history])
        qs = np.array([h[1] for h in self.driver.history])
        q = np.array([np.interp(t, ts, qs[:, j]) for j in range(6)])
        return self.robot.chain.fk(q)[:3, 3] * 1000.0


@pytest.fixture
def cell(painter6: RobotModel) -> Cell:
    return Cell(painter6)


def stroke_ends_mm(config: CellConfig) -> np.ndarray:
    """(strokes, 2, 3) start and end of each spray stroke in the base frame."""
    program = DOC.program.to_program()
    p = (config.T_base_part @ recipe_tool_poses(program))[:, :3, 3] * 1000.0
    on = np.flatnonzero(program.trigger)
    return np.stack([p[on - 1], p[on]], axis=1)


def test_program_runs_to_done_with_the_gun_on_exactly_along_the_strokes(cell: Cell) -> None:
    cell.send()
    assert [s.state for s in cell.statuses()][:3] == [
        ProgramState.VALIDATING,
        ProgramState.QUEUED,
        ProgramState.RUNNING,
    ]
    cell.run_until_state(CellMode.IDLE)
    done = cell.last
    assert done.state is ProgramState.DONE and done.progress == 1.0 and done.fault_code == ""
    assert cell.states() == ["IDLE", "LOADED", "RUNNING", "IDLE"]
    gun = cell.driver.gun
    assert [on for _, on in gun] == [True, False, True, False]
    # paint flows gun latency after each command: the TCP is then at the stroke's ends
    lat = {True: cell.config.gun.on_latency_s, False: cell.config.gun.off_latency_s}
    ends = stroke_ends_mm(cell.config)
    for i, (t, on) in enumerate(gun):
        target = ends[i // 2, 0 if on else 1]
        assert np.linalg.norm(cell.tcp_mm(t + lat[on]) - target) < 1.0
    (result,) = cell.driver.results
    assert result.completed and result.fault_code == "" and result.program_id == "prog-1"
    assert result.spray_length_mm == pytest.approx(2 * STROKE_MM, abs=3.0)
    assert result.spray_time_s == pytest.approx(2 * STROKE_MM / 300.0, abs=0.01)
    assert result.max_tracking_error_mm < 1.0
    assert not cell.driver.gun_is_on()


def _placed_at(dx_m: float, dy_m: float, dz_m: float):
    """The program as an edge sends it in the robot base frame for a part located this far
    from the default station pose (700, -240, 500) mm."""

    def apply(msg: Any) -> None:
        T = cell_config().T_base_part.copy()
        T[:3, 3] += [dx_m, dy_m, dz_m]
        placed = program_msg(DOC, frame_id="base_link", T_frame_part=T)
        msg.frame_id, msg.waypoints = placed.frame_id, placed.waypoints

    return apply


BAD: list[tuple[str, Any, FaultCode, str]] = [
    ("unsigned", lambda m: setattr(m, "signature", []), FaultCode.SIGNATURE_MISSING, "not signed"),
    ("tampered", lambda m: setattr(m.waypoints[3].position, "z", 0.3), FaultCode.PROGRAM_MISMATCH,
     "waypoints[3] is 82.00 mm"),
    ("unknown recipe", lambda m: setattr(m, "recipe_id", "chair"), FaultCode.SIGNATURE_INVALID,
     "recipe 'chair' v1"),
    ("nan", lambda m: setattr(m.waypoints[2].position, "y", math.nan), FaultCode.POSE_NOT_FINITE,
     "waypoints[2] has a non-finite value"),
    ("inf speed", lambda m: m.tool_speed_mm_s.__setitem__(2, math.inf), FaultCode.SPEED_INVALID,
     "tool_speed_mm_s[2] = inf"),
    ("nan approach speed", lambda m: m.tool_speed_mm_s.__setitem__(0, math.nan),
     FaultCode.SPEED_INVALID, "tool_speed_mm_s[0] = nan (the approach to waypoints[0])"),
    ("negative approach speed", lambda m: m.tool_speed_mm_s.__setitem__(0, -300.0),
     FaultCode.SPEED_INVALID, "tool_speed_mm_s[0] = -300.0 (the approach to waypoints[0])"),
    ("too fast", lambda m: m.tool_speed_mm_s.__setitem__(2, 2000.0), FaultCode.SPEED_LIMIT,
     "tool_speed_mm_s[2] = 2000.0 mm/s"),
    ("empty", lambda m: (setattr(m, "waypoints", []), setattr(m, "tool_speed_mm_s", []),
                         setattr(m, "trigger", [])), FaultCode.PROGRAM_EMPTY, "no waypoints"),
    # a part located 0.9 m above the station: the path leaves the workspace box
    ("outside workspace", _placed_at(0.0, 0.0, 0.9), FaultCode.OUTSIDE_WORKSPACE,
     "waypoints[0] at (640.0, -220.0, 1618.0) mm in base_link is outside the workspace"),
    # inside the box but beyond painter6's reach (IK in the planning worker)
    ("unreachable", _placed_at(0.6, 1.0, -0.1), FaultCode.UNREACHABLE,
     "TCP at (1410.0, 780.0, 618.0) mm: no usable IK solution: 8 beyond reach"),
]  # fmt: skip


def test_bad_programs_are_refused_the_gun_stays_off_and_the_cell_keeps_working(painter6) -> None:
    from robot_nodes.bus import dds_types

    # placements far from the station pass the placement check, so that the workspace and
    # reachability checks behind it are reached
    station = {"T_base_part": {"xyz_mm": [700.0, -240.0, 500.0], "rpy_deg": [0.0, 0.0, 0.0]},
               "placement_tolerance_mm": 2000.0}  # fmt: skip
    cell = Cell(painter6, cell_config(interlocks={"timeout_s": 0.0}, station=station))
    for i, (name, mutate, code, text) in enumerate(BAD):
        msg = program_msg(DOC, program_id=f"bad-{i}", stamp_ns=T0_NS + round(cell.t * 1e9))
        mutate(msg)
        cell.ctl.on_program(msg, cell.t)
        cell.run(0.05)
        statuses = cell.statuses(f"bad-{i}")
        rejected = [s for s in statuses if s.state is ProgramState.REJECTED]
        assert [s.fault_code for s in rejected] == [code], name
        assert text in rejected[0].fault_text, (name, rejected[0].fault_text)
        assert rejected[0].fault_text.startswith(f"program 'bad-{i}'"), name
        assert ProgramState.RUNNING not in [s.state for s in statuses], name
        assert cell.driver.gun == [] and cell.driver.legs == [], name
        assert cell.ctl.state is CellMode.IDLE, name
    JointState = dds_types.get_type("sensor_msgs/msg/JointState")
    cell.ctl.on_program(JointState(name=["joint_1"]), cell.t)  # a message of the wrong type
    assert cell.last.fault_code == FaultCode.WRONG_MESSAGE_TYPE
    assert "got JointState" in cell.last.fault_text
    assert cell.driver.gun == [] and cell.driver.legs == [] and cell.ctl.state is CellMode.IDLE
    cell.send("good")
    cell.run_until_state(CellMode.IDLE)
    assert cell.last.state is ProgramState.DONE and cell.last.program_id == "good"
    assert [on for _, on in cell.driver.gun] == [True, False, True, False]
    (result,) = cell.driver.results
    assert result.program_id == "good" and result.completed
    assert result.spray_length_mm == pytest.approx(2 * STROKE_MM, abs=3.0)


def test_unknown_recipe_version_signed_correctly(painter6) -> None:
    cell = Cell(painter6)
    cell.ctl.recipes = RecipeStore()  # the cell holds no recipes
    cell.send()
    assert cell.last.fault_code == FaultCode.RECIPE_UNKNOWN
    assert cell.last.state is ProgramState.REJECTED


def test_pause_then_resume_mid_stroke(cell: Cell) -> None:
    cell.send()
    cell.run_until_gun(True)
    cell.run(0.25)
    t_pause = cell.t
    cell.ctl.on_command("pause", cell.t)
    assert not cell.driver.gun_is_on() and cell.driver.gun[-1][0] == pytest.approx(t_pause)
    assert cell.ctl.state is CellMode.PAUSED and cell.last.fault_text == "paused"
    cell.run(1.0)
    assert cell.driver.legs[-1][1].label == "stop"
    still = [h for h in cell.driver.history if h[0] > cell.t - 0.3]
    assert np.ptp([h[1] for h in still], axis=0).max() < 1e-6  # at rest
    cell.ctl.on_command("resume", cell.t)
    assert cell.ctl.state is CellMode.RUNNING
    resumed = cell.driver.legs[-1][1]
    assert resumed.label == "backup+resume" and (resumed.phase == BACKUP).any()
    cell.run_until_state(CellMode.IDLE)
    assert cell.last.state is ProgramState.DONE
    (result,) = cell.driver.results
    # both strokes painted once: nothing missing, at most a couple of mm painted twice
    assert 2 * STROKE_MM - 1.0 < result.spray_length_mm < 2 * STROKE_MM + 6.0
    assert cell.states() == ["IDLE", "LOADED", "RUNNING", "PAUSED", "RUNNING", "IDLE"]


def test_abort_stops_the_robot_and_reports(cell: Cell) -> None:
    cell.send()
    cell.run_until_gun(True)
    cell.ctl.on_command("abort prog-1", cell.t)
    assert not cell.driver.gun_is_on() and cell.ctl.state is CellMode.IDLE
    status = cell.last
    assert status.state is ProgramState.ABORTED
    assert status.fault_code == FaultCode.ABORTED_BY_OPERATOR and 0 < status.progress < 0.5
    (result,) = cell.driver.results
    assert not result.completed and result.fault_code == FaultCode.ABORTED_BY_OPERATOR
    cell.send("next")  # the robot is still braking
    assert cell.last.fault_code == FaultCode.CELL_BUSY
    cell.run(1.0)
    cell.send("next-again")
    assert cell.last.state is ProgramState.QUEUED or cell.ctl.state is CellMode.RUNNING


@pytest.mark.parametrize(
    ("signal", "code"),
    [
        ("door_closed", FaultCode.DOOR_OPEN),
        ("paint_pressure_ok", FaultCode.PAINT_PRESSURE_LOST),
        ("booth_airflow_ok", FaultCode.BOOTH_AIRFLOW_LOST),
    ],
)
def test_interlock_loss_turns_the_gun_off_at_once_and_faults(cell, signal, code) -> None:
    cell.send()
    cell.run_until_gun(True)
    cell.run(0.1)
    cell.ctl.on_interlock(signal, False, cell.t)
    assert not cell.driver.gun_is_on() and cell.driver.gun[-1][0] == cell.t  # same instant
    assert cell.ctl.state is CellMode.FAULT
    assert cell.last.state is ProgramState.ABORTED and cell.last.fault_code == code
    assert cell.driver.legs[-1][1].label == "stop"  # a controlled stop on the path
    cell.send("while-faulted")
    assert cell.last.fault_code == FaultCode.CELL_NOT_READY
    cell.run(1.0)
    cell.ctl.on_interlock(signal, True, cell.t)
    cell.ctl.on_command("reset", cell.t)
    assert cell.ctl.state is CellMode.IDLE
    assert not any(on for t, on in cell.driver.gun if t > cell.driver.gun[1][0])


def test_estop_holds_and_needs_release_before_reset(cell: Cell) -> None:
    cell.send()
    cell.run_until_gun(True)
    cell.ctl.on_interlock("estop", True, cell.t)
    assert not cell.driver.gun_is_on() and cell.ctl.state is CellMode.ESTOP
    assert cell.last.fault_code == FaultCode.ESTOP
    assert cell.driver.legs[-1][1].label == "hold"
    cell.ctl.on_command("reset", cell.t)
    assert cell.ctl.state is CellMode.ESTOP
    assert (
        cell.last.fault_code == FaultCode.COMMAND_REFUSED
        and "still engaged" in cell.last.fault_text
    )
    cell.ctl.on_interlock("estop", False, cell.t)
    cell.ctl.on_command("reset", cell.t)
    assert cell.ctl.state is CellMode.IDLE


def test_stale_interlock_faults_a_running_program(painter6) -> None:
    cell = Cell(painter6, cell_config(interlocks={"timeout_s": 0.5}))
    beats = [(0.1 * k, lambda: [cell.ctl.on_interlock(s, v, cell.t) for s, v in SAFE.items()])
             for k in range(1, 200)]  # fmt: skip
    cell.send()
    cell.run(1.0, events=beats[:9])  # heartbeats until 0.9 s, then silence
    cell.run(2.0, until=lambda: cell.ctl.state is CellMode.FAULT)
    assert cell.last.fault_code == FaultCode.INTERLOCK_STALE
    assert "not refreshed" in cell.last.fault_text
    assert not cell.driver.gun_is_on()


def test_displaced_arm_is_a_tracking_error(cell: Cell) -> None:
    cell.send()
    cell.run_until_gun(True)
    cell.driver.offset_rad = np.array([0.0, 0.0, 0.02, 0.0, 0.0, 0.0])
    cell.run(0.5, until=lambda: cell.ctl.state is CellMode.FAULT)
    assert cell.last.fault_code == FaultCode.TRACKING_ERROR
    assert cell.last.tracking_error_mm > cell.config.execution.tracking_error_limit_mm
    assert not cell.driver.gun_is_on() and cell.driver.legs[-1][1].label == "hold"


def test_stalled_robot_while_spraying_stops_the_gun_quickly(cell: Cell) -> None:
    cell.send()
    cell.run_until_gun(True)
    cell.run(0.1)
    cell.driver.frozen = True
    t_freeze = cell.t
    cell.run(1.0, until=lambda: cell.ctl.state is CellMode.FAULT)
    assert cell.last.fault_code == FaultCode.SPRAY_STALLED
    t_off = cell.driver.gun[-1][0]
    assert not cell.driver.gun[-1][1] and t_off - t_freeze < 0.2


def test_silent_driver_faults(cell: Cell) -> None:
    cell.send()
    cell.run_until_gun(True)
    t = cell.t
    while cell.ctl.state is CellMode.RUNNING and cell.t < t + 1.0:
        cell.t += 0.002
        cell.ctl.tick(cell.t)  # no joint states any more
    assert cell.last.fault_code == FaultCode.JOINT_STATES_TIMEOUT
    assert cell.t - t == pytest.approx(cell.config.execution.joint_states_timeout_s, abs=0.01)


def test_joint_states_without_our_joints_fault_a_running_program(cell: Cell) -> None:
    cell.send()
    cell.run(0.3)
    cell.ctl.on_joint_state(["a", "b"], [0.0, 0.0], cell.t)
    assert cell.last.fault_code == FaultCode.JOINT_STATES_INVALID


@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("pause", "'pause' is not allowed in IDLE"),
        ("resume", "'resume' is not allowed in IDLE"),
        ("launch", "unknown command 'launch'"),
        ("abort other", "the active program is 'none'"),
        ("", "unknown command"),
    ],
)
def test_illegal_commands_are_refused_and_change_nothing(cell, command, text) -> None:
    cell.ctl.on_command(command, cell.t)
    assert cell.ctl.state is CellMode.IDLE
    assert cell.last.fault_code == FaultCode.COMMAND_REFUSED and text in cell.last.fault_text


def test_duplicate_stale_unstamped_and_offline(painter6) -> None:
    cell = Cell(painter6)
    cell.send()
    cell.run_until_state(CellMode.IDLE)
    cell.send()  # same id again after it ran
    assert cell.last.fault_code == FaultCode.DUPLICATE_PROGRAM
    msg = program_msg(DOC, program_id="old", stamp_ns=T0_NS - 5_000_000_000)
    cell.ctl.on_program(msg, cell.t)
    assert cell.last.fault_code == FaultCode.PROGRAM_STALE
    msg = program_msg(DOC, program_id="nostamp", stamp_ns=0)
    cell.ctl.on_program(msg, cell.t)
    assert cell.last.fault_code == FaultCode.PROGRAM_MALFORMED
    cell.t += 5.0  # no joint states for 5 s
    cell.send("offline")
    assert cell.last.fault_code == FaultCode.DRIVER_OFFLINE


def test_loaded_program_waits_for_the_door(cell: Cell) -> None:
    cell.ctl.on_interlock("door_closed", False, cell.t)
    cell.send()
    assert cell.ctl.state is CellMode.LOADED and cell.driver.legs == []
    cell.ctl.on_command("start", cell.t)
    assert "booth door open" in cell.last.fault_text and cell.ctl.state is CellMode.LOADED
    cell.run(0.2)
    cell.ctl.on_interlock("door_closed", True, cell.t)
    assert cell.ctl.state is CellMode.RUNNING
    cell.run_until_state(CellMode.IDLE)
    assert cell.last.state is ProgramState.DONE


def test_without_auto_start_a_start_command_is_needed(painter6) -> None:
    config = cell_config(interlocks={"timeout_s": 0.0}, execution={"auto_start": False})
    cell = Cell(painter6, config)
    cell.send()
    cell.run(0.5)
    assert cell.ctl.state is CellMode.LOADED
    cell.ctl.on_command("start prog-1", cell.t)
    assert cell.ctl.state is CellMode.RUNNING


def test_wrong_type_publisher_is_reported_once(cell: Cell) -> None:
    found, expected = (
        "std_msgs::msg::dds_::String_",
        "coatshare_interfaces::msg::dds_::SprayProgram_",
    )
    for _ in range(3):
        cell.ctl.on_wrong_type("/cell_t1/spray_program", found, expected, cell.t)
    reports = [s for s in cell.statuses() if s.fault_code == FaultCode.WRONG_MESSAGE_TYPE]
    assert len(reports) == 1 and "std_msgs::msg::dds_::String_" in reports[0].fault_text


def test_legs_start_when_the_driver_starts_them(painter6) -> None:
    cell = Cell(painter6, start_delay=0.15)
    cell.send()
    cell.run_until_state(CellMode.IDLE)
    assert cell.last.state is ProgramState.DONE
    assert [on for _, on in cell.driver.gun] == [True, False, True, False]


def test_interlocks_message_and_cell_commands(cell: Cell) -> None:
    """The Interlocks message sets every signal at once; CellCommand carries the program id;
    the cell report says why the cell stopped."""
    cell.send()
    cell.run_until_gun(True)
    cell.ctl.on_cell_command(Command.PAUSE, "other", cell.t)  # meant for another program
    assert cell.ctl.state is CellMode.RUNNING
    assert cell.last.fault_code == FaultCode.COMMAND_REFUSED and "'prog-1'" in cell.last.fault_text
    cell.ctl.on_cell_command(0, "", cell.t)  # no command (an unset CellCommand)
    assert "unknown command code 0" in cell.last.fault_text
    assert "PAUSE=2" in cell.last.fault_text and cell.ctl.state is CellMode.RUNNING
    cell.ctl.on_cell_command(2, "prog-1", cell.t)  # PAUSE, as the message carries it
    assert cell.ctl.state is CellMode.PAUSED and not cell.driver.gun_is_on()
    cell.run(1.0)  # at rest
    cell.ctl.on_cell_command(Command.RESUME, "", cell.t)  # empty id: the active program
    assert cell.ctl.state is CellMode.RUNNING
    cell.run_until_gun(True, nth=2)
    cell.ctl.on_interlocks({**SAFE, "paint_pressure_ok": False}, cell.t)
    assert cell.ctl.state is CellMode.FAULT and not cell.driver.gun_is_on()
    report = cell.driver.cells[-1]
    assert (report.controller_state, report.fault_code) == (CellMode.FAULT, "PAINT_PRESSURE_LOST")
    assert not report.paint_pressure_ok and report.door_closed and not report.spray_enabled
    cell.ctl.on_interlocks(SAFE, cell.t)
    cell.ctl.on_cell_command(Command.RESET, "prog-1", cell.t)  # the id does not matter here
    assert cell.ctl.state is CellMode.IDLE
    assert cell.driver.cells[-1].fault_code == "" and cell.driver.cells[-1].spray_enabled

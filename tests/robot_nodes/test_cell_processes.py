"""The cell controller in its own process (``coatshare cell run``), the robot and booth in
another (sim.follower + interlocks), the edge in this one: everything over ``dds`` on
loopback, a private domain per test."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from robot_nodes.bus import QOS_DEFAULT, QOS_LATCHED, QOS_STATUS
from robot_nodes.bus.dds import LOOPBACK_CONFIG_XML
from robot_nodes.cell_bus import cell_command_msg, cell_mode_of, create_cell_bus
from robot_nodes.controller import Command, load_cell_config, recipe_tool_poses
from robot_nodes.controller.commands import parse_command_text
from robot_nodes.kinematics import load_painter6

from .cell_factories import program_msg, signed_recipe, write_cell_setup
from .processes import NS, Proc, start_controller, start_plant

DOC = signed_recipe()
DONE, ABORTED, REJECTED = 4, 5, 2


class Edge:
    """This process's view of the cell: what an edge dispatcher would see.

    Controller states come from ``CellState.state`` (consecutive repeats dropped); commands
    go out as ``CellCommand``. ``legacy`` uses the deprecated std_msgs topics instead
    (``controller_state`` and ``command``).
    """

    def __init__(self, domain_id: int, *, legacy: bool = False) -> None:
        self.bus = create_cell_bus(
            "dds", "edge", NS, domain_id=domain_id, config_xml=LOOPBACK_CONFIG_XML
        )
        mt = self.bus.message_type
        self.status: list[Any] = []
        self.states: list[tuple[float, str]] = []
        self.gun: list[tuple[float, bool]] = []
        self.cells: list[Any] = []
        self.results: list[Any] = []
        sub = self.bus.create_subscription
        sub(mt("coatshare_interfaces/msg/ProgramStatus"), "program_status", self.status.append,
            QOS_STATUS)  # fmt: skip
        self.legacy = legacy
        if legacy:
            sub(mt("std_msgs/msg/String"), "controller_state",
                lambda m: self._state(str(m.data)), QOS_LATCHED)  # fmt: skip
        sub(mt("std_msgs/msg/Bool"), "gun/trigger",
            lambda m: self.gun.append((time.monotonic(), bool(m.data))), QOS_LATCHED)  # fmt: skip
        sub(mt("coatshare_interfaces/msg/CellState"), "cell_state", self._on_cell, QOS_LATCHED)
        sub(mt("coatshare_interfaces/msg/PartResult"), "part_result", self.results.append,
            QOS_STATUS)  # fmt: skip
        self.programs = self.bus.create_publisher(
            mt("coatshare_interfaces/msg/SprayProgram"), "spray_program", QOS_LATCHED
        )
        if legacy:
            self.commands = self.bus.create_publisher(
                mt("std_msgs/msg/String"), "command", QOS_DEFAULT
            )
        else:
            self.commands = self.bus.create_publisher(
                mt("coatshare_interfaces/msg/CellCommand"), "cell_command", QOS_DEFAULT
            )

    def _state(self, state: str) -> None:
        if not self.states or self.states[-1][1] != state:
            self.states.append((time.monotonic(), state))

    def _on_cell(self, msg: Any) -> None:
        self.cells.append(msg)
        if not self.legacy:
            self._state(cell_mode_of(msg).value)

    def wait(self, what: Callable[[], bool], timeout_s: float, text: str) -> None:
        if not self.bus.spin(until=what, timeout_s=timeout_s):
            recent = [(s.program_id, s.state, s.fault_code) for s in self.status[-5:]]
            pytest.fail(f"timed out waiting for {text}; states {self.states[-5:]}, status {recent}")

    def wait_ready(self, *, driver: bool) -> None:
        self.wait(lambda: bool(self.states), 30.0, "the controller")
        if driver:
            self.wait(lambda: bool(self.cells) and self.cells[-1].mode == 2, 30.0, "joint_states")
        self.wait(lambda: self.commands.subscription_count() > 0, 10.0, "command subscriber")

    def publish(self, **kw: Any) -> str:
        msg = program_msg(DOC, message_type=self.bus.message_type, **kw)
        self.programs.publish(msg)
        return msg.program_id

    def command(self, text: str) -> None:
        """``"pause"``, ``"resume run-2"``, ...: as text on ``command`` (legacy) or as a
        ``CellCommand``."""
        mt = self.bus.message_type
        if self.legacy:
            self.commands.publish(mt("std_msgs/msg/String")(data=text))
            return
        verb, program_id = parse_command_text(text)
        self.commands.publish(cell_command_msg(mt, Command(verb), program_id, time.time_ns()))

    def final(self, program_id: str, timeout_s: float = 30.0) -> Any:
        def ended() -> bool:
            return any(s.program_id == program_id and s.state in (DONE, ABORTED, REJECTED)
                       for s in self.status)  # fmt: skip

        self.wait(ended, timeout_s, f"the end of '{program_id}'")
        return next(s for s in self.status if s.program_id == program_id
                    and s.state in (DONE, ABORTED, REJECTED))  # fmt: skip

    def state_is(self, state: str) -> Callable[[], bool]:
        return lambda: bool(self.states) and self.states[-1][1] == state

    def close(self) -> None:
        self.bus.shutdown()


@pytest.fixture
def setup(tmp_path: Path, domain_id: int, request: pytest.FixtureRequest):
    """The edge here, a controller and a plant to start; ``legacy`` (indirect parameter)
    talks over the deprecated std_msgs topics."""
    legacy = bool(getattr(request, "param", False))
    config = write_cell_setup(tmp_path / "cell", [DOC])
    procs: list[Proc] = []
    edge = Edge(domain_id, legacy=legacy)

    def start(*, plant: bool) -> tuple[Proc, Proc | None]:
        ctl = start_controller(config, domain_id)
        procs.append(ctl)
        p = None
        if plant:
            p = start_plant(domain_id, legacy=legacy)
            procs.append(p)
            p.expect("READY")
        return ctl, p

    yield edge, start
    edge.close()
    for proc in procs:
        if proc.proc.poll() is None:
            proc.proc.kill()
            proc.proc.wait()


def tcp_at(history: np.ndarray, t: float) -> np.ndarray:
    q = np.array([np.interp(t, history[:, 0], history[:, j + 1]) for j in range(6)])
    return load_painter6().chain.fk(q)[:3, 3] * 1000.0


def test_program_runs_between_processes_with_the_gun_on_the_strokes(setup) -> None:
    edge, start = setup
    ctl, plant = start(plant=True)
    edge.wait_ready(driver=True)
    pid = edge.publish(program_id="run-1")
    final = edge.final(pid)
    assert final.state == DONE and final.progress == pytest.approx(1.0)
    edge.wait(edge.state_is("IDLE"), 5.0, "IDLE after the program")
    # cell_state keeps the last value only (depth 1): LOADED, which auto-start leaves within
    # microseconds, may be overtaken; program_status (depth 10) shows QUEUED for it
    assert [s for _, s in edge.states if s != "LOADED"] == ["IDLE", "RUNNING", "IDLE"]
    seq = [s.state for s in edge.status if s.program_id == pid]
    assert seq[:2] == [1, 0] and seq[-1] == DONE and 3 in seq  # VALIDATING, QUEUED, RUNNING
    edge.wait(lambda: bool(edge.results), 5.0, "the part result")
    result = edge.results[-1]
    assert result.completed and result.program_id == pid and result.fault_code == ""
    assert result.spray_length_mm == pytest.approx(400.0, abs=8.0)
    assert result.max_tracking_error_mm < 2.0
    plant.send("quit")
    record = json.loads(plant.expect("{"))
    # the plant saw the gun commands; paint flows gun latency later, at the stroke ends
    config = load_cell_config()
    history = np.array(record["history"])
    program = DOC.program.to_program()
    p = (config.T_base_part @ recipe_tool_poses(program))[:, :3, 3] * 1000.0
    on = np.flatnonzero(program.trigger)
    ends = np.stack([p[on - 1], p[on]], axis=1)
    gun = record["gun"]
    switches = gun[next(i for i, g in enumerate(gun) if g["on"]) :]  # after the initial "off"
    assert [g["on"] for g in switches] == [True, False, True, False]
    for i, g in enumerate(switches):
        latency = config.gun.on_latency_s if g["on"] else config.gun.off_latency_s
        error = np.linalg.norm(
            tcp_at(history, g["t"] + latency) - ends[i // 2, 0 if g["on"] else 1]
        )
        assert error < 3.0, (
            f"switch {i}: paint {'starts' if g['on'] else 'stops'} {error:.1f} mm off"
        )
    assert record["published"] > 250  # joint_states at 250 Hz
    assert ctl.stop() == 0
    assert edge.gun[-1][1] is False


def test_bad_programs_over_dds_are_refused_and_the_node_keeps_running(setup, domain_id) -> None:
    edge, start = setup
    ctl, _ = start(plant=False)
    edge.wait_ready(driver=False)

    def bad(program_id: str, mutate: Callable[[Any], None]) -> Any:
        msg = program_msg(DOC, program_id=program_id, message_type=edge.bus.message_type)
        mutate(msg)
        edge.programs.publish(msg)
        return edge.final(program_id, 15.0)

    cases = {
        "unsigned": (lambda m: setattr(m, "signature", []), "SIGNATURE_MISSING"),
        "tampered": (lambda m: setattr(m.waypoints[2].position, "x", 0.9), "PROGRAM_MISMATCH"),
        "unknown": (lambda m: setattr(m, "recipe_version", 9), "SIGNATURE_INVALID"),
        "nan": (lambda m: setattr(m.waypoints[1].orientation, "w", math.nan), "POSE_NOT_FINITE"),
        "fast": (lambda m: m.tool_speed_mm_s.__setitem__(3, 5000.0), "SPEED_LIMIT"),
        "empty": (lambda m: (setattr(m, "waypoints", []), setattr(m, "tool_speed_mm_s", []),
                             setattr(m, "trigger", [])), "PROGRAM_EMPTY"),
    }  # fmt: skip
    for name, (mutate, code) in cases.items():
        status = bad(name, mutate)
        assert (status.state, status.fault_code) == (REJECTED, code), name
        assert status.fault_text
    offline = bad("no-robot", lambda m: None)  # valid, but no joint_states from a driver
    assert offline.fault_code == "DRIVER_OFFLINE"
    # somebody publishes another message type on the program topic
    wrong = create_cell_bus("dds", "wrong", NS, domain_id=domain_id, config_xml=LOOPBACK_CONFIG_XML)
    try:
        String = wrong.message_type("std_msgs/msg/String")
        wrong.create_publisher(String, "spray_program", QOS_LATCHED).publish(String(data="go"))
        edge.wait(
            lambda: any(s.fault_code == "WRONG_MESSAGE_TYPE" for s in edge.status),
            10.0,
            "the wrong-type report",
        )
    finally:
        wrong.shutdown()
    report = next(s for s in edge.status if s.fault_code == "WRONG_MESSAGE_TYPE")
    assert "std_msgs::msg::dds_::String_" in report.fault_text
    n = len(edge.cells)
    edge.wait(lambda: len(edge.cells) > n + 1, 5.0, "cell_state heartbeats")  # still alive
    assert edge.states[-1][1] == "IDLE"
    assert [on for _, on in edge.gun] == [False]  # the gun never came on
    assert ctl.proc.poll() is None
    assert ctl.stop() == 0


def test_pause_resume_and_door_interlock_over_dds(setup) -> None:
    edge, start = setup
    _, plant = start(plant=True)
    edge.wait_ready(driver=True)
    pid = edge.publish(program_id="run-2")

    def gun_count(on: bool) -> int:
        return sum(1 for _, g in edge.gun if g == on)

    edge.wait(lambda: gun_count(True) >= 1, 20.0, "the gun on the first stroke")
    edge.bus.spin(timeout_s=0.2)
    t_cmd = time.monotonic()
    edge.command("pause")
    edge.wait(edge.state_is("PAUSED"), 5.0, "PAUSED")
    assert edge.gun[-1][1] is False and edge.gun[-1][0] - t_cmd < 0.1
    edge.bus.spin(timeout_s=0.6)
    edge.command(f"resume {pid}")
    edge.wait(edge.state_is("RUNNING"), 5.0, "RUNNING again")
    edge.wait(lambda: gun_count(True) >= 2, 10.0, "the gun on again")
    t_door = time.monotonic()
    plant.send("set door_closed 0")
    edge.wait(edge.state_is("FAULT"), 5.0, "FAULT")
    off = [t for t, g in edge.gun if not g and t > t_door]
    assert off and off[0] - t_door < 0.25  # stdin -> plant -> controller -> gun, all processes
    final = edge.final(pid)
    assert (final.state, final.fault_code) == (ABORTED, "DOOR_OPEN")
    assert 0.0 < final.progress < 1.0
    cell = edge.cells[-1]  # CellState says why, with every interlock
    assert (cell.state, cell.fault_code) == (cell.STATE_FAULT, "DOOR_OPEN")
    assert not cell.door_closed and cell.paint_pressure_ok and cell.booth_airflow_ok
    assert not cell.spray_enabled and not cell.gun_on and cell.active_program_id == ""
    plant.send("set door_closed 1")
    edge.bus.spin(timeout_s=0.2)
    edge.command("reset")
    edge.wait(edge.state_is("IDLE"), 5.0, "IDLE after reset")
    assert edge.gun[-1][1] is False
    edge.wait(lambda: edge.cells[-1].spray_enabled, 2.0, "spraying permitted again")
    assert edge.cells[-1].fault_code == ""


@pytest.mark.parametrize("setup", [True], indirect=True, ids=["legacy_std_msgs"])
def test_estop_and_tracking_error_over_dds(setup) -> None:
    edge, start = setup
    _, plant = start(plant=True)
    edge.wait_ready(driver=True)
    pid = edge.publish(program_id="run-3")
    edge.wait(lambda: any(g for _, g in edge.gun), 20.0, "the gun on")
    plant.send("push 2 0.03")
    final = edge.final(pid)
    assert (final.state, final.fault_code) == (ABORTED, "TRACKING_ERROR")
    assert final.tracking_error_mm > 10.0 and edge.gun[-1][1] is False
    plant.send("push 2 0")
    edge.bus.spin(timeout_s=0.3)
    edge.command("reset")
    edge.wait(edge.state_is("IDLE"), 5.0, "IDLE")
    plant.send("set estop 1")
    edge.wait(edge.state_is("ESTOP"), 5.0, "ESTOP")
    edge.command("reset")
    edge.wait(lambda: any(s.fault_code == "COMMAND_REFUSED" for s in edge.status), 5.0, "a refusal")
    assert edge.states[-1][1] == "ESTOP"
    plant.send("set estop 0")
    edge.bus.spin(timeout_s=0.3)
    edge.command("reset")
    edge.wait(edge.state_is("IDLE"), 5.0, "IDLE after the e-stop")

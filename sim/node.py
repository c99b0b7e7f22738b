"""The simulator as a ROS 2 node: every cell of a world on the topics its hardware uses.

One process, one node (``simulator``) on the ``dds`` backend, a fixed-step sim clock
published on ``/clock``. Per cell (namespace ``/cell_<id>``) it is the robot driver, the
booth's safety PLC, the belt and the camera:

| topic | type | dir | |
|---|---|---|---|
| ``joint_trajectory_controller/joint_trajectory`` | JointTrajectory | in | the follower |
| ``gun/trigger`` | std_msgs/Bool | in | the gun valve, at once |
| ``gun/trigger_timed`` | coatshare_interfaces/TimedTrigger | in | the gun valve, at the stamp |
| ``clock_grant`` | rosgraph_msgs/Clock | in | the cell controller lets the clock run this far |
| ``part_result`` | coatshare_interfaces/PartResult | in | the part's program ended |
| ``station/release`` | std_msgs/String | in | the edge gives up on the part at the station |
| ``joint_states`` | sensor_msgs/JointState | out | every step (250 Hz at 4 ms) |
| ``interlocks/<signal>`` | std_msgs/Bool | out | e-stop, paint pressure (the faults) |
| ``interlocks`` | coatshare_interfaces/Interlocks | out | the same, one message |
| ``camera/image_raw`` | sensor_msgs/Image | out | mono8, when a part passes the camera |
| ``camera/ground_truth`` | std_msgs/String | out | JSON: the imaged part's pose and outline |
| ``station/part`` | std_msgs/String | out | JSON: a part arrived at the station |
| ``sim/part_result`` | std_msgs/String | out | JSON: the part's film metrics and QC |

and for the whole world ``/clock`` (rosgraph_msgs/Clock), ``/sim/fault`` (in: live fault
commands, :func:`sim.faults.parse_fault_command`), ``/sim/control`` (in: ``pause``,
``unpause``, ``stop``) and ``/sim/status`` (out, JSON). Names, types and QoS are in
:mod:`sim.topics`; the ``Interlocks`` message goes out when the interface package has it.

**Time.** Messages that arrive between two steps act at the next step; paced, a trigger
acts at the sim time of its arrival (the clock's wall anchor maps it), so a late step does
not shift the paint. Stamps (trajectories, timed triggers) are read as wall-clock times when
they are nearer the wall clock than the sim clock (a cell controller on the host clock) and
mapped the same way, as sim times otherwise (a controller on sim time).

**Lock-step.** A cell whose controller publishes ``clock_grant`` (a controller with
``use_sim_time``) is waited for: the node steps from a time only once every such cell has
granted it, so it runs as fast as the controllers keep up, and a controller's timed
commands reach it before they take effect (see :mod:`robot_nodes.node_time`). While
waiting it repeats ``/clock``; a controller silent for ``GRANT_TIMEOUT_S`` of wall time is
no longer waited for. Such a cell's gun follows ``gun/trigger_timed`` (the plain trigger is
ignored once the timed one is heard). And sim time stands while a part that has arrived at
its station waits for the cell's first trajectory (at most ``HOLD_TIMEOUT_S`` of wall
time): the edge's dispatch and the controller's planning take no sim time, so a cycle, and
faults tied to its start, do not depend on how fast the processes are.

**Pacing.** ``real_time_factor`` None runs as fast as possible; a factor paces every step
(``pace="always"``) or only while some cell has a part at the station or its robot moving
(``pace="cycles"``), which is how a cell controller on the wall clock drives the simulator
without waiting for belts. Unpaced, an idle robot's joint states go out every 4 ms of
wall time or 0.1 s of sim time, whichever comes first (every step while it moves or has a
trajectory), and the interlocks on every change and every 0.1 s of wall or sim time.

Run it with ``python -m sim.node WORLD.yaml --domain-id N`` (``coatshare sim run`` starts
it with the cell controllers).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from recipes.errors import CoatshareError, InvalidInputError
from robot_nodes.bus import (
    QOS_CLOCK,
    QOS_DEFAULT,
    QOS_LATCHED,
    Bus,
    Durability,
    QosProfile,
    Reliability,
)
from robot_nodes.cell_bus import create_cell_bus
from sim._cdr import ClockPublisher, ImagePublisher, JointStatePublisher
from sim.cell import CameraEvent, PartCycle, SimCell, StationEvent, StepOutput
from sim.clock import GRANT_TIMEOUT_S, Lockstep, SimClock
from sim.faults import FaultInjector, FaultState, parse_fault_command
from sim.results import PartOutcome, RecipeBook, cycle_result
from sim.topics import (
    CLOCK_TOPIC,
    CONTROL_TOPIC,
    FAULT_TOPIC,
    GROUND_TRUTH,
    GUN_TRIGGER,
    IMAGE,
    INTERLOCK_SIGNALS,
    INTERLOCKS,
    JOINT_STATES,
    PART_RESULT,
    SIM_PART_RESULT,
    STATION_PART,
    STATION_RELEASE,
    STATUS_TOPIC,
    TRAJECTORY,
    Topic,
    cell_topic,
    has_type,
    interlock_topic,
)

log = logging.getLogger(__name__)

NODE_NAME = "simulator"
UNPACED_SPIN_STEPS = 5
"""Running as fast as possible, incoming messages are taken every this many steps (20 ms
of sim time at 4 ms): their arrival in sim time is arbitrary then anyway."""
HOLD_TIMEOUT_S = 10.0
"""Wall seconds a part at a station holds sim time while its cell prepares the first move."""
_INTERLOCK_PERIOD_S = 0.1  # wall and sim
_IDLE_JOINT_STATES_S = 0.004  # wall
_IDLE_JOINT_STATES_SIM_S = 0.1
_CLOCK_REPEAT_S = 0.005  # wall, while waiting for a grant
_STATUS_PERIOD_S = 1.0
_STRING = "std_msgs/msg/String"
_BOOL = "std_msgs/msg/Bool"
_NS = 1_000_000_000

CLOCK_GRANT = Topic(
    "clock_grant",
    "rosgraph_msgs/msg/Clock",
    QosProfile(Reliability.RELIABLE, Durability.VOLATILE, 1),
)
"""From a cell controller on sim time: the node may step from times up to this one."""
GUN_TRIGGER_TIMED = Topic("gun/trigger_timed", "coatshare_interfaces/msg/TimedTrigger", QOS_DEFAULT)
"""From a cell controller: the gun switches at the stamp."""


def program_of(msg: Any) -> dict:
    """The fields of a ``PartResult`` the per-part result keeps."""
    return dict(
        program_id=str(msg.program_id),
        recipe_id=str(msg.recipe_id),
        recipe_version=int(msg.recipe_version),
        completed=bool(msg.completed),
        fault_code=str(msg.fault_code),
        path_length_mm=round(float(msg.path_length_mm), 3),
        spray_length_mm=round(float(msg.spray_length_mm), 3),
        spray_time_s=round(float(msg.spray_time_s), 4),
        max_tracking_error_mm=round(float(msg.max_tracking_error_mm), 4),
    )


class _CellIO:
    """Publishers and per-cell bookkeeping of the node."""

    def __init__(self, node: SimNode, cell: SimCell) -> None:
        bus = node.bus
        self.cell = cell

        def pub(topic: Topic, name: str | None = None) -> Any:
            return bus.create_publisher(
                bus.message_type(topic.type), cell_topic(cell.id, name or topic.name), topic.qos
            )

        self.names = list(cell.robot.joint_names)
        self.joint_states = JointStatePublisher(bus, pub(JOINT_STATES), self.names)
        cal = cell.world_cell.calibration
        self.image = ImagePublisher(
            bus, pub(IMAGE), cal.width, cal.height, f"cell_{cell.id}_camera"
        )
        self.truth = pub(GROUND_TRUTH)
        self.station = pub(STATION_PART)
        self.result = pub(SIM_PART_RESULT)
        bool_signal = Topic("", "std_msgs/msg/Bool", INTERLOCKS.qos)
        self.interlocks = {s: pub(bool_signal, interlock_topic(s)) for s in INTERLOCK_SIGNALS}
        self.interlocks_msg = pub(INTERLOCKS) if has_type(bus, INTERLOCKS.type) else None
        self.last_interlocks: dict[str, bool] | None = None
        self.last_state: FaultState | None = None
        self.last_interlock_wall = 0.0
        self.last_interlock_ns = 0
        self.last_js_wall = 0.0
        self.last_js_ns = 0
        self.fk_robot = None  # a second PyBullet client for work in the deposition thread
        self.timed_trigger: Any = None  # subscription to the controller's timed triggers
        self.hold: tuple[float, int, int] | None = None  # (wall, trajectories, from step)


class SimNode:
    """The simulator node (see the module docstring).

    Parameters
    ----------
    bus : Bus
        Root namespace, created with :func:`robot_nodes.cell_bus.create_cell_bus`.
    world : sim.world.World
    recipes : RecipeBook
        The recipes the cells may run (gun model, finish, prediction for QC).
    max_parts : int, optional
        Parts fed per cell (None: no end).
    out_dir : path, optional
        Per-part ``<part_id>.json`` and ``.npz`` (thickness map, cycle log) go here.
    real_time_factor : float, optional
        None: as fast as possible; else see ``pace``.
    pace : "always" or "cycles"
    paused : bool
        Start paused (``unpause`` on ``/sim/control``), as ``gzserver --pause``.
    camera : bool
        Render camera frames.
    exit_when_done : bool
        :meth:`run` returns once every cell has finished its ``max_parts`` (else it idles
        on until stopped, so that late subscribers still get the results).
    """

    def __init__(
        self,
        bus: Bus,
        world,
        *,
        recipes: RecipeBook,
        max_parts: int | None = None,
        out_dir: str | Path | None = None,
        real_time_factor: float | None = None,
        pace: str = "always",
        paused: bool = False,
        camera: bool = True,
        exit_when_done: bool = False,
    ) -> None:
        if pace not in ("always", "cycles"):
            raise InvalidInputError("pace", f"must be 'always' or 'cycles', got {pace!r}")
        self.bus = bus
        self.world = world
        self.recipes = recipes
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.real_time_factor = real_time_factor
        self.pace = pace
        self.paused = paused
        self.exit_when_done = exit_when_done
        self.stopped = False
        self.faults = FaultInjector(world.doc.faults)
        self.clock = SimClock(world.doc.clock.step_s, sleep=self._sleep_spinning)
        self.lockstep = Lockstep()
        self.cells = {
            c.id: SimCell(c, world.doc.seed, max_parts=max_parts, camera=camera)
            for c in world.cells
        }
        self.outcomes: list[PartOutcome] = []
        self.on_outcome: Callable[[PartOutcome], None] | None = None
        self.step_hooks: list[Callable[[float], None]] = []
        """Called with the step's time before the cells step (in-process drivers)."""
        self.event_hooks: list[Callable[[str, Any], None]] = []
        """Called with (cell id, event) for every camera, station and collision event."""
        self._pending: list[tuple[_CellIO, Future[PartOutcome]]] = []
        self._executor: ThreadPoolExecutor | None = None
        self._in_tick = False
        self._clock_wall = 0.0
        self._last_status_wall = 0.0
        self._last_status = ""
        mt = bus.message_type
        self._types = {
            n: mt(n)
            for n in (
                "sensor_msgs/msg/Image",
                "std_msgs/msg/Header",
                "builtin_interfaces/msg/Time",
                "rosgraph_msgs/msg/Clock",
                _STRING,
                _BOOL,
            )
        }
        self._io = {cid: _CellIO(self, cell) for cid, cell in self.cells.items()}
        self._clock_pub = ClockPublisher(
            bus,
            bus.create_publisher(self._types["rosgraph_msgs/msg/Clock"], CLOCK_TOPIC, QOS_CLOCK),
        )
        self._status_pub = bus.create_publisher(self._types[_STRING], STATUS_TOPIC, QOS_LATCHED)
        for io in self._io.values():
            self._subscribe_cell(io)
        bus.create_subscription(self._types[_STRING], FAULT_TOPIC, self._on_fault, QOS_DEFAULT)
        bus.create_subscription(self._types[_STRING], CONTROL_TOPIC, self._on_control, QOS_DEFAULT)
        for io in self._io.values():
            self._publish_joint_state(io, io.cell.follower.q, np.zeros(len(io.names)))
            self._publish_interlocks(io, self.faults.state(io.cell.id, 0.0), force=True)
        self._publish_status(force=True)
        log.info(
            "simulator up: world '%s', %d cell(s), step %.1f ms, %s",
            world.doc.name,
            len(self.cells),
            self.clock.step_s * 1000,
            "as fast as possible"
            if real_time_factor is None
            else f"real-time factor {real_time_factor:g} ({pace})",
        )

    # -- wiring ------------------------------------------------------------------------------
    def _subscribe_cell(self, io: _CellIO) -> None:
        cell, bus = io.cell, self.bus

        def sub(topic: Topic, callback: Callable[[Any], None]) -> Any:
            return bus.create_subscription(
                bus.message_type(topic.type),
                cell_topic(cell.id, topic.name),
                self._guard(callback),
                topic.qos,
            )

        sub(TRAJECTORY, lambda m: self._on_trajectory(cell, m))
        sub(GUN_TRIGGER, lambda m: self._on_trigger(io, bool(m.data)))
        if has_type(bus, GUN_TRIGGER_TIMED.type):
            io.timed_trigger = sub(GUN_TRIGGER_TIMED, lambda m: self._on_timed_trigger(io, m))
        sub(PART_RESULT, lambda m: self._finish(io, str(m.part_id), program_of(m)))
        sub(STATION_RELEASE, lambda m: self._on_release(io, str(m.data)))
        sub(CLOCK_GRANT, lambda m: self._on_grant(io, m))

    @staticmethod
    def _guard(fn: Callable[[Any], None]) -> Callable[[Any], None]:
        def guarded(msg: Any) -> None:
            try:
                fn(msg)
            except (CoatshareError, ValueError) as exc:
                log.error("%s", exc)

        return guarded

    @property
    def input_time_s(self) -> float:
        """Sim time at which a message arriving now acts: the next step's."""
        return self.clock.now_s + (self.clock.step_s if self._in_tick else 0.0)

    def _sleep_spinning(self, seconds: float) -> None:
        self.bus.spin_once(seconds)

    # -- inputs ------------------------------------------------------------------------------
    def _on_trajectory(self, cell: SimCell, msg: Any) -> None:
        now_s = self.input_time_s
        stamp_ns = _stamp_ns(msg.header.stamp)
        clock_ns = round(now_s * 1e9)  # a sim-time stamp
        if stamp_ns:
            start_s = self._stamp_to_sim_s(stamp_ns, now_s)
            clock_ns = stamp_ns - round((start_s - now_s) * 1e9)
            if start_s < self.clock.now_s:
                log.warning(
                    "cell %s: trajectory due at t = %.3f s arrived at t = %.3f s",
                    cell.id,
                    start_s,
                    self.clock.now_s,
                )
        cell.on_trajectory(msg, now_s, clock_ns)

    def _stamp_to_sim_s(self, stamp_ns: int, now_s: float) -> float:
        """Sim time of a stamp: a wall-clock time (nearer the wall clock than the sim clock,
        from a controller on the host clock) mapped through :meth:`_wall_to_sim_s`, else a
        sim time."""
        wall_ns = time.time_ns()
        if abs(stamp_ns - wall_ns) < abs(stamp_ns - round(now_s * 1e9)):
            return self._wall_to_sim_s(stamp_ns, wall_ns, now_s)
        return stamp_ns / _NS

    def _wall_to_sim_s(self, stamp_ns: int, wall_ns: int, now_s: float) -> float:
        """Sim time of a wall-clock instant. Paced, through the clock's anchor (exact even
        when this step runs late); unpaced, relative to the step at hand."""
        mono = time.monotonic() - (wall_ns - stamp_ns) * 1e-9
        mapped = self.clock.sim_time_at(mono)
        return now_s + (stamp_ns - wall_ns) * 1e-9 if mapped is None else mapped

    def _on_trigger(self, io: _CellIO, on: bool) -> None:
        """The valve switches when the command arrived (paced: the sim time of its arrival,
        so a late step does not delay it); unpaced, at the next step. Ignored while the
        cell has a publisher of timed triggers (the controller sends every switch both
        ways, and the plain one may come first)."""
        if io.timed_trigger is not None and io.timed_trigger.publisher_count() > 0:
            return
        now_s = self.input_time_s
        mapped = self.clock.sim_time_at(time.monotonic())
        io.cell.on_trigger(on, now_s if mapped is None else max(mapped, self.clock.now_s))

    def _on_timed_trigger(self, io: _CellIO, msg: Any) -> None:
        """The valve switches at the command's stamp (zero, or past: at the next step)."""
        now_s = self.input_time_s
        stamp_ns = _stamp_ns(msg.header.stamp)
        at_s = self._stamp_to_sim_s(stamp_ns, now_s) if stamp_ns else now_s
        io.cell.on_trigger(bool(msg.on), at_s)

    def _on_grant(self, io: _CellIO, msg: Any) -> None:
        if self.lockstep.grant(io.cell.id, _stamp_ns(msg.clock)):
            log.info("cell %s: its controller runs on sim time: lock-step", io.cell.id)

    def _on_release(self, io: _CellIO, text: str) -> None:
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = {"part_id": text.strip()}
        if not isinstance(data, dict):
            data = {"part_id": str(data)}
        program = dict(
            program_id=str(data.get("program_id", "")),
            recipe_id=str(data.get("recipe_id", "")),
            recipe_version=int(data.get("recipe_version", 0) or 0),
            completed=False,
            fault_code=str(data.get("reason", "RELEASED")),
        )
        self._finish(io, str(data.get("part_id", "")), program)

    def _on_fault(self, msg: Any) -> None:
        try:
            command = parse_fault_command(str(msg.data), source=FAULT_TOPIC)
        except CoatshareError as exc:
            log.error("fault command refused: %s", exc)
            return
        for fault in self.faults.apply(command, self.input_time_s):
            log.info("fault %s on cell %s from t = %.3f s", fault.kind, fault.cell, fault.start_s)

    def _on_control(self, msg: Any) -> None:
        word = str(msg.data).strip().lower()
        if word == "pause":
            self.paused = True
        elif word in ("unpause", "run", "start"):
            self.paused = False
        elif word == "stop":
            self.stopped = True
        else:
            log.error("unknown control %r (pause, unpause, stop)", word)
        self._publish_status(force=True)

    # -- the loop ----------------------------------------------------------------------------
    def granted(self) -> bool:
        """Every controller in lock-step lets the node step from the current time."""
        return self.lockstep.allows(self.clock.now_ns)

    def _await_grants(self) -> None:
        """Spin until a grant arrives (or briefly), repeating ``/clock`` (best effort: a
        lost one must not stall the lock-step); give up on controllers that fell silent."""
        self.bus.spin_once(_CLOCK_REPEAT_S)
        now_ns = self.clock.now_ns
        for cell_id in self.lockstep.expire(now_ns):
            log.warning(
                "cell %s: no grant for %.0f s at t = %.3f s: no longer waiting for it",
                cell_id,
                GRANT_TIMEOUT_S,
                now_ns / _NS,
            )
        if not self.granted() and time.monotonic() - self._clock_wall >= _CLOCK_REPEAT_S:
            self._publish_clock()
        self._poll_outcomes()
        self._publish_status()

    def holding(self) -> bool:
        """A part at a station waits for its cell's first trajectory (sim time stands)."""
        wall = time.monotonic()
        held = False
        for io in self._io.values():
            if io.hold is None:
                continue
            since, received, from_step = io.hold
            if io.cell.cycle is None or io.cell.follower.received > received:
                io.hold = None
            elif self.clock.steps < from_step:
                continue
            elif wall - since > HOLD_TIMEOUT_S:
                log.warning(
                    "cell %s: no trajectory %.0f s after the part arrived: time runs on",
                    io.cell.id,
                    HOLD_TIMEOUT_S,
                )
                io.hold = None
            else:
                held = True
        return held

    def step(self) -> None:
        """One clock step of every cell, then the clock ticks (pacing, if any, spins the bus
        while it waits; unpaced, the bus is looked at every ``UNPACED_SPIN_STEPS`` steps)."""
        if self.clock.real_time_factor is not None or self.clock.steps % UNPACED_SPIN_STEPS == 0:
            self.bus.spin_once(0.0)
        now_s, dt_s = self.clock.now_s, self.clock.step_s
        for hook in self.step_hooks:
            hook(now_s)
        for io in self._io.values():
            out = io.cell.step(now_s, dt_s, self.faults)
            self._publish_step(io, out)
            for event in out.events:
                self._on_event(io, event, now_s)
        self._poll_outcomes()
        self._pace()
        self._in_tick = True
        try:
            self.clock.tick()
        finally:
            self._in_tick = False
        self._publish_clock()
        self._publish_status()

    def _pace(self) -> None:
        rtf = self.real_time_factor
        if rtf is None:
            return
        if self.pace == "cycles":
            busy = any(c.busy or c.follower.active for c in self.cells.values())
            rtf = rtf if busy else None
        self.clock.set_real_time_factor(rtf)

    def run(
        self, until: Callable[[], bool] | None = None, *, max_sim_s: float | None = None
    ) -> None:
        """Step until ``until()`` is true, ``max_sim_s`` of sim time passed or a ``stop``
        command; with ``max_parts``, time stands once every cell is done and its results
        are out (``exit_when_done`` returns then)."""
        bounded = any(c.max_parts is not None for c in self.cells.values())
        while not self.stopped:
            if until is not None and until():
                return
            if max_sim_s is not None and self.clock.now_s >= max_sim_s:
                return
            finished = bounded and self.finished
            if finished and self.exit_when_done:
                self._publish_status(force=True)
                return
            if self.paused or finished or self.holding():
                self._idle_spin()
                continue
            if not self.granted():
                self._await_grants()
                continue
            self.step()

    @property
    def finished(self) -> bool:
        """Every cell fed and finished its parts and every result is out."""
        return all(c.done for c in self.cells.values()) and not self._pending

    def _idle_spin(self) -> None:
        """Paused or holding: sim time stands; joint states and interlocks keep going (wall
        clock)."""
        self.bus.spin_once(_IDLE_JOINT_STATES_S)
        now = self.clock.now_s
        self._publish_clock()
        for io in self._io.values():
            self._publish_joint_state(io, io.cell.follower.q, np.zeros(len(io.names)))
            self._publish_interlocks(io, self.faults.state(io.cell.id, now))
        self._poll_outcomes()
        self._publish_status()

    # -- outputs -----------------------------------------------------------------------------
    def _stamp(self, t_s: float) -> Any:
        ns = round(t_s * 1e9)
        Time = self._types["builtin_interfaces/msg/Time"]
        return Time(sec=ns // 10**9, nanosec=ns % 10**9)

    def _publish_clock(self) -> None:
        self._clock_wall = time.monotonic()
        self._clock_pub.publish(self.clock.now_ns)

    def _publish_joint_state(self, io: _CellIO, q: np.ndarray, qd: np.ndarray) -> None:
        io.last_js_wall = time.monotonic()
        io.last_js_ns = self.clock.now_ns
        io.joint_states.publish(self.clock.now_ns, q, qd)

    def _publish_step(self, io: _CellIO, out: StepOutput) -> None:
        paced = self.clock.real_time_factor is not None
        if (
            out.moving
            or paced
            or io.cell.follower.active
            or time.monotonic() - io.last_js_wall >= _IDLE_JOINT_STATES_S
            or (self.clock.now_ns - io.last_js_ns) / _NS >= _IDLE_JOINT_STATES_SIM_S
        ):
            self._publish_joint_state(io, out.q_rad, out.qd_rad_s)
        self._publish_interlocks(io, out.state)

    def _publish_interlocks(self, io: _CellIO, state: FaultState, *, force: bool = False) -> None:
        now = time.monotonic()
        due = (
            now - io.last_interlock_wall >= _INTERLOCK_PERIOD_S
            or (self.clock.now_ns - io.last_interlock_ns) / _NS >= _INTERLOCK_PERIOD_S
        )
        if not force and state is io.last_state and not due:
            return  # the same (cached) fault state as last step: nothing changed
        io.last_state = state
        values = {
            "estop": state.estop,
            "door_closed": True,
            "paint_pressure_ok": state.pressure_ok,
            "booth_airflow_ok": True,
        }
        changed = values != io.last_interlocks
        if not (force or changed or due):
            return
        Bool = self._types[_BOOL]
        for name, pub in io.interlocks.items():
            pub.publish(Bool(data=bool(values[name])))
        if io.interlocks_msg is not None:
            io.interlocks_msg.publish(
                self.bus.message_type(INTERLOCKS.type)(
                    header=self._types["std_msgs/msg/Header"](
                        stamp=self._stamp(self.clock.now_s), frame_id=""
                    ),
                    **{k: bool(v) for k, v in values.items()},
                )
            )
        io.last_interlocks = values
        io.last_interlock_wall = now
        io.last_interlock_ns = self.clock.now_ns

    def _publish_json(self, pub: Any, data: dict) -> None:
        pub.publish(self._types[_STRING](data=json.dumps(data)))

    def _on_event(self, io: _CellIO, event: Any, now_s: float) -> None:
        for hook in self.event_hooks:
            hook(io.cell.id, event)
        if isinstance(event, CameraEvent):
            self._publish_frame(io, event)
        elif isinstance(event, StationEvent):
            if self.lockstep.synced(io.cell.id):  # from the cycle's first logged step on
                io.hold = (time.monotonic(), io.cell.follower.received, self.clock.steps + 2)
            cycle = event.cycle
            fed = cycle.fed
            self._publish_json(
                io.station,
                dict(
                    cell=io.cell.id,
                    part_id=cycle.part_id,
                    index=cycle.index,
                    expected_spec=fed.expected_spec,
                    t_s=round(cycle.t_start_s, 6),
                    truth=dict(
                        spec=fed.spec,
                        pose=cycle.pose.to_dict(),
                        T_world_part=np.round(cycle.T_world_part, 6).tolist(),
                    ),
                ),
            )
            log.info("cell %s: %s at the station (t = %.2f s)", io.cell.id, cycle.part_id, now_s)

    def _publish_frame(self, io: _CellIO, event: CameraEvent) -> None:
        truth = dict(
            cell=io.cell.id,
            part_id=io.cell.part_id(event.part.fed.index),
            t_s=round(event.t_s, 6),
            published=event.frame is not None,
            truth=event.truth.to_dict(),
        )
        if event.frame is not None:
            io.image.publish(round(event.t_s * 1e9), event.frame.image)
        else:
            log.info("cell %s: camera dropout, no frame of %s", io.cell.id, truth["part_id"])
        self._publish_json(io.truth, truth)

    def finish_part(self, cell_id: str, part_id: str, program: dict) -> None:
        """The program for the part at a cell's station ended (what a ``PartResult`` on
        the cell's topic does; ``program`` as :func:`program_of` gives it)."""
        self._finish(self._io[cell_id], part_id, program)

    def _finish(self, io: _CellIO, part_id: str, program: dict) -> None:
        now_s = self.input_time_s
        cycle = io.cell.finish(part_id, program, now_s, self.faults)
        if cycle is None:
            return
        recipe = None
        if program.get("recipe_id"):
            recipe = self.recipes.get(program["recipe_id"], program.get("recipe_version", 0))
            if recipe is None:
                log.error(
                    "cell %s: recipe '%s' v%s unknown to the simulator: no film for %s",
                    io.cell.id,
                    program["recipe_id"],
                    program.get("recipe_version"),
                    cycle.part_id,
                )
        snapshot = self.faults.snapshot()
        others_paced = self.real_time_factor is not None and any(
            c.busy or c.follower.active for c in self.cells.values()
        )
        if others_paced:  # keep the loop on time for the cells still working
            if io.fk_robot is None:
                from sim.robot import RobotSim

                wc = io.cell.world_cell
                io.fk_robot = RobotSim(wc.urdf_path, wc.T_world_base)
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="sim-deposition")
            future = self._executor.submit(cycle_result, cycle, recipe, io.fk_robot, snapshot)
        else:
            future = Future()
            try:
                future.set_result(cycle_result(cycle, recipe, io.cell.robot, snapshot))
            except Exception as exc:  # noqa: BLE001 - reported with the part, the sim goes on
                future.set_exception(exc)
        self._pending.append((io, future))
        self._poll_outcomes()

    def _poll_outcomes(self) -> None:
        for io, future in [p for p in self._pending if p[1].done()]:
            self._pending.remove((io, future))
            try:
                outcome = future.result()
            except Exception:  # noqa: BLE001
                log.exception("cell %s: the film of a part could not be computed", io.cell.id)
                continue
            result = outcome.result
            if self.out_dir is not None:
                result = {**result, "files": outcome.write(self.out_dir)}
                outcome = PartOutcome(result, outcome.arrays)
            self.outcomes.append(outcome)
            self._publish_json(io.result, result)
            qc = result["qc"]
            m = result["metrics"] or {}
            log.info(
                "cell %s: %s done, within tol %.2f %%, QC %s%s",
                io.cell.id,
                result["part_id"],
                m.get("within_tol_pct", float("nan")),
                "passed" if qc["passed"] else "failed",
                "" if qc["passed"] else f" ({'; '.join(qc['reasons'])})",
            )
            if self.on_outcome is not None:
                self.on_outcome(outcome)

    def _publish_status(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_status_wall < _STATUS_PERIOD_S:
            return
        state = (
            "stopped"
            if self.stopped
            else "done"
            if self.finished
            else "paused"
            if self.paused
            else "running"
        )
        data = dict(
            state=state,
            t_s=round(self.clock.now_s, 3),
            cells={
                cid: dict(fed=c.fed_count, finished=c.finished_count, busy=c.busy)
                for cid, c in self.cells.items()
            },
        )
        text = json.dumps(data)
        self._last_status_wall = now
        if force or text != self._last_status:
            self._last_status = text
            self._status_pub.publish(self._types[_STRING](data=text))

    def close(self) -> None:
        """Stop the deposition worker and the PyBullet clients (the bus is the caller's)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._poll_outcomes()
        for io in self._io.values():
            io.cell.close()
            if io.fk_robot is not None:
                io.fk_robot.close()


def run_simulator(
    world_path: str | Path,
    *,
    domain_id: int | None = None,
    config_xml: str | None = None,
    recipe_dir: str | Path | None = None,
    max_parts: int | None = None,
    out_dir: str | Path | None = None,
    real_time_factor: float | None = None,
    pace: str = "always",
    paused: bool = False,
    camera: bool = True,
    stop: threading.Event | None = None,
) -> int:
    """Load a world and run its simulator node until stopped (or done with ``max_parts``)."""
    from sim.world import load_world

    world = load_world(world_path)
    if real_time_factor is None:
        real_time_factor = world.doc.clock.real_time_factor
    stop = stop or threading.Event()
    with create_cell_bus("dds", NODE_NAME, "", domain_id=domain_id, config_xml=config_xml) as bus:
        node = SimNode(
            bus,
            world,
            recipes=RecipeBook(recipe_dir),
            max_parts=max_parts,
            out_dir=out_dir,
            real_time_factor=real_time_factor,
            pace=pace,
            paused=paused,
            camera=camera,
        )
        try:
            node.run(until=stop.is_set)
        finally:
            node.stopped = True
            node.close()
            node._publish_status(force=True)
            bus.spin(timeout_s=0.2)  # let the last messages go out
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.node WORLD.yaml [--domain-id N] ...`` until Ctrl-C or ``stop``."""
    parser = argparse.ArgumentParser(description="coatshare cell simulator node")
    parser.add_argument("world", type=Path)
    parser.add_argument("--domain-id", type=int, default=None)
    parser.add_argument("--recipe-dir", type=Path, default=None)
    parser.add_argument("--parts", type=int, default=None, help="parts per cell")
    parser.add_argument("--out", type=Path, default=None, help="folder for per-part files")
    parser.add_argument("--real-time-factor", type=float, default=None)
    parser.add_argument("--pace", default="always", choices=("always", "cycles"))
    parser.add_argument("--paused", action="store_true")
    parser.add_argument("--no-camera", action="store_true")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        return run_simulator(
            args.world,
            domain_id=args.domain_id,
            recipe_dir=args.recipe_dir,
            max_parts=args.parts,
            out_dir=args.out,
            real_time_factor=args.real_time_factor,
            pace=args.pace,
            paused=args.paused,
            camera=not args.no_camera,
            stop=stop,
        )
    except CoatshareError as exc:
        log.error("%s", exc)
        return 2


def _stamp_ns(stamp: Any) -> int:
    return int(stamp.sec) * _NS + int(stamp.nanosec)


__all__ = [
    "CLOCK_GRANT",
    "GUN_TRIGGER_TIMED",
    "HOLD_TIMEOUT_S",
    "NODE_NAME",
    "PartCycle",
    "SimNode",
    "main",
    "program_of",
    "run_simulator",
]

if __name__ == "__main__":
    raise SystemExit(main())

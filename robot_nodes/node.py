"""The cell controller node: the ROS 2 wiring of :class:`~robot_nodes.controller.CellController`.

The constructor creates publishers, subscriptions and timers; every callback hands its
message to the controller, which decides, and the node publishes what the controller
reports (it is the controller's :class:`~robot_nodes.controller.CellOutputs`, with timed
gun switches). Planning runs in one worker thread; everything else in the thread that
spins the bus.

**Time.** On the host's monotonic clock, or with ``use_sim_time`` (cell configuration, or
``--use-sim-time``) on ``/clock`` (:mod:`robot_nodes.node_time`). On either clock joint
states are dated by their stamps when plausible (on receipt otherwise). On sim time the
tick timer fires on sim time, legs and timed gun switches are stamped in sim time, and as
``/clock`` advances (after the tick) the node grants a simulator the next steps on
``clock_grant`` (lock-step). Before the first ``/clock`` nothing
time-dependent happens: programs and commands wait for it, joint states and interlocks
(repeated by their senders) are dropped. A wall timer loads a program whose planning has
finished even while sim time stands (a simulator waiting for the cell's first move).
Stamps of ``ProgramStatus``, ``CellState`` and ``PartResult`` headers are the node's clock,
as ROS 2 sets them; the ``started``/``finished`` times of a ``PartResult`` and program ages
stay on the wall clock.

Run it with ``coatshare cell run --cell c1`` or ``python -m robot_nodes.node --cell c1``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from recipes.approval import ApprovalVerifier
from recipes.errors import CoatshareError
from robot_nodes.bus import Bus
from robot_nodes.cell_bus import (
    CELL_COMMAND,
    CELL_STATE,
    COMMAND,
    CONTROLLER_STATE,
    GUN_TRIGGER,
    GUN_TRIGGER_TIMED,
    INTERLOCKS,
    JOINT_STATES,
    PART_RESULT,
    PROGRAM_STATUS,
    SPRAY_PROGRAM,
    TOPICS,
    TRAJECTORY,
    TopicTypeWatch,
    cell_state_msg,
    create_cell_bus,
    interlock_topic,
    interlock_values,
    part_result_msg,
    status_msg,
    timed_trigger_msg,
    trajectory_msg,
)
from robot_nodes.controller import (
    INTERLOCK_SIGNALS,
    CellConfig,
    CellController,
    CellReport,
    FaultCode,
    Leg,
    PartReport,
    RecipeStore,
    StatusReport,
    load_cell_config,
)
from robot_nodes.kinematics import RobotModel, load_painter6
from robot_nodes.node_time import ClockGrant, NodeClock, lockstep_lookahead_s

log = logging.getLogger(__name__)

NODE_NAME = "cell_controller"
_DELAY_BASE_S = 0.02
_DELAY_PER_POINT_S = 70e-6  # building, serialising and deserialising a trajectory point
_WATCH_PERIOD_S = 1.0
_GRANT_PERIOD_S = 0.001
"""On sim time: fires at every advance of /clock (after the tick), whatever the tick period."""
_PLANNING_POLL_S = 0.005
"""On sim time, wall clock: how soon a finished plan is loaded while sim time stands."""
_STREAMS = (JOINT_STATES, INTERLOCKS, *(interlock_topic(s) for s in INTERLOCK_SIGNALS))
"""Inputs whose senders repeat them: dropped before the clock starts, not kept for it."""


def load_verifier(config: CellConfig) -> ApprovalVerifier | None:
    """The approval key of the configuration, or None (then every program is refused)."""
    if config.approval_key is None:
        log.warning("no approval key configured: every program will be refused")
        return None
    return ApprovalVerifier.from_file(config.approval_key)


class CellControllerNode:
    """One cell controller on a bus.

    Parameters
    ----------
    bus : Bus
        Created with :func:`robot_nodes.cell_bus.create_cell_bus` (std_msgs Bool/String),
        with ``use_sim_time`` as ``config.use_sim_time`` says. Subscribes to
        ``spray_program``, ``joint_states``, ``interlocks`` and ``cell_command`` (and, with
        ``config.legacy_topics``, to the deprecated ``interlocks/<signal>`` and
        ``command``).
    config : CellConfig
        ``use_sim_time``: the controller runs on the bus's ``/clock`` (the bus must have
        been created with it) and grants a simulator its steps on ``clock_grant``.
    verifier : ApprovalVerifier or None
    recipes : RecipeStore
    robot : RobotModel, optional
        painter6 by default.
    domain_id : int, optional
        The bus's DDS domain, for the wrong-type watch.
    clock : callable
        Monotonic seconds (the host clock, when not on sim time).
    """

    def __init__(
        self,
        bus: Bus,
        config: CellConfig,
        *,
        verifier: ApprovalVerifier | None,
        recipes: RecipeStore,
        robot: RobotModel | None = None,
        domain_id: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bus = bus
        self.config = config
        self.robot = robot or load_painter6()
        self.time = NodeClock(bus, sim_time=config.use_sim_time, clock=clock)
        self._clock = self.time.now_s
        self._deferred: list[Callable[[], None]] = []
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cell-planning")
        mt = bus.message_type
        legacy = config.legacy_topics
        self._types = {name: mt(type_name) for name, (type_name, _) in TOPICS.items()}
        outputs = [
            TRAJECTORY, GUN_TRIGGER, GUN_TRIGGER_TIMED, PROGRAM_STATUS, CELL_STATE, PART_RESULT,
        ]  # fmt: skip
        if legacy:
            outputs.append(CONTROLLER_STATE)
        self._pub = {
            name: bus.create_publisher(self._types[name], name, TOPICS[name][1]) for name in outputs
        }
        self._last_controller_state = ""
        self.controller = CellController(
            config,
            self.robot,
            self,
            verifier=verifier,
            recipes=recipes,
            submit=self._executor.submit,
        )
        inputs = {
            SPRAY_PROGRAM: self._on_program,
            JOINT_STATES: self._on_joint_state,
            INTERLOCKS: self._on_interlocks,
            CELL_COMMAND: self._on_cell_command,
        }
        if legacy:
            inputs[COMMAND] = self._on_command
            for signal_name in INTERLOCK_SIGNALS:
                inputs[interlock_topic(signal_name)] = self._interlock_callback(signal_name)
        for topic, callback in inputs.items():
            self._subscribe(topic, callback)
        tick_s = config.execution.tick_period_s
        bus.create_timer(tick_s, self._guard(self._on_tick))
        self._grant: ClockGrant | None = None
        if self.time.sim_time:
            lookahead = lockstep_lookahead_s(config, self.start_delay_s(0))
            self._grant = ClockGrant(bus, lookahead)
            bus.create_timer(_GRANT_PERIOD_S, self._guard(self._on_grant))
            bus.create_wall_timer(_PLANNING_POLL_S, self._guard(self._on_planning_poll))
        watched = {t: TOPICS[t][0] for t in inputs}
        try:
            self._watch: TopicTypeWatch | None = TopicTypeWatch(bus, watched, domain_id=domain_id)
            bus.create_wall_timer(_WATCH_PERIOD_S, self._guard(self._on_watch))
        except Exception:  # noqa: BLE001 - the watch is a diagnostic, never fatal
            log.exception("wrong-type watch unavailable")
            self._watch = None
        self.set_gun(False)
        if self.time.started:
            self.controller.tick(self._clock())
        log.info(
            "cell '%s' controller up on %s (%s, %s)",
            config.cell_id,
            bus.namespace,
            bus.backend,
            "sim time, lock-step" if self.time.sim_time else "host clock",
        )

    # -- wiring -------------------------------------------------------------------------
    def _subscribe(self, topic: str, callback: Callable[[Any], None]) -> None:
        stream = topic in _STREAMS

        def timed(msg: Any) -> None:
            if self.time.started:
                callback(msg)
            elif not stream:
                self._deferred.append(lambda: callback(msg))

        self.bus.create_subscription(
            self._types[topic], topic, self._guard(timed), TOPICS[topic][1]
        )

    def _guard(self, fn: Callable[..., None]) -> Callable[..., None]:
        """Run a callback; on an unexpected error turn the gun off and fault the cell."""

        def guarded(*args: Any) -> None:
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - the node must keep running
                log.exception("callback failed")
                self.set_gun(False)
                try:
                    self.controller.fail(FaultCode.INTERNAL_ERROR, str(exc), self._clock())
                except Exception:  # noqa: BLE001
                    log.exception("fault handling failed")

        return guarded

    def _on_interlocks(self, msg: Any) -> None:
        self.controller.on_interlocks(interlock_values(msg), self._clock())

    def _on_cell_command(self, msg: Any) -> None:
        self.controller.on_cell_command(int(msg.command), str(msg.program_id), self._clock())

    def _interlock_callback(self, signal_name: str) -> Callable[[Any], None]:
        def callback(msg: Any) -> None:  # deprecated std_msgs/Bool topic
            self.controller.on_interlock(signal_name, bool(msg.data), self._clock())

        return callback

    def _on_program(self, msg: Any) -> None:
        self.controller.on_program(msg, self._clock())

    def _on_joint_state(self, msg: Any) -> None:
        now = self._clock()
        self.controller.on_joint_state(
            list(msg.name),
            list(msg.position),
            now,
            measured_s=self.time.measured_s(msg.header.stamp, now),
        )

    def _on_command(self, msg: Any) -> None:  # deprecated std_msgs/String topic
        self.controller.on_command(str(msg.data), self._clock())

    def _on_tick(self) -> None:
        if not self.time.started:
            return
        now = self._clock()
        deferred, self._deferred = self._deferred, []
        for handle in deferred:  # what came before the clock started, in order
            handle()
        self.controller.tick(now)

    def _on_grant(self) -> None:
        if self._grant is not None and self.time.started:
            self._grant.publish(self._clock())

    def _on_planning_poll(self) -> None:
        if self.time.started:
            self.controller.poll_planning(self._clock())

    def _on_watch(self) -> None:
        if self._watch is None:
            return
        for topic, found, expected in self._watch.poll():
            log.error("%s on %s, expected %s", found, topic, expected)
            self.controller.on_wrong_type(topic, found, expected, self._clock())

    # -- CellOutputs --------------------------------------------------------------------
    def start_delay_s(self, n_points: int) -> float:
        return _DELAY_BASE_S + _DELAY_PER_POINT_S * n_points

    def send_leg(self, leg: Leg, start_delay_s: float) -> None:
        stamp_ns = self.time.stamp_ns(self._clock() + start_delay_s)
        msg = trajectory_msg(self.bus.message_type, leg, self.robot.joint_names, stamp_ns)
        self._pub[TRAJECTORY].publish(msg)
        log.info("sent '%s': %d points, %.2f s", leg.label, len(leg), leg.duration_s)

    def set_gun(self, on: bool) -> None:
        self._publish_gun(on, self.bus.now_ns())

    def set_gun_at(self, on: bool, at_s: float) -> None:
        self._publish_gun(on, self.time.stamp_ns(at_s))

    def _publish_gun(self, on: bool, stamp_ns: int) -> None:
        """The trigger timed on ``gun/trigger_timed``, and at once on ``gun/trigger``."""
        timed = timed_trigger_msg(self.bus.message_type, on, stamp_ns)
        self._pub[GUN_TRIGGER_TIMED].publish(timed)
        self._pub[GUN_TRIGGER].publish(self._types[GUN_TRIGGER](data=bool(on)))

    def publish_status(self, report: StatusReport) -> None:
        msg = status_msg(self.bus.message_type, report, self.bus.now_ns())
        self._pub[PROGRAM_STATUS].publish(msg)

    def publish_cell(self, report: CellReport) -> None:
        msg = cell_state_msg(self.bus.message_type, report, self.bus.now_ns())
        self._pub[CELL_STATE].publish(msg)
        state = report.controller_state.value
        if CONTROLLER_STATE in self._pub and state != self._last_controller_state:
            self._last_controller_state = state
            self._pub[CONTROLLER_STATE].publish(self._types[CONTROLLER_STATE](data=state))

    def publish_part_result(self, report: PartReport) -> None:
        msg = part_result_msg(self.bus.message_type, report, self.bus.now_ns())
        self._pub[PART_RESULT].publish(msg)

    # -- life cycle ---------------------------------------------------------------------
    def close(self) -> None:
        """Gun off, the active program aborted, planning stopped."""
        try:
            self.controller.shutdown(self._clock())
            self.set_gun(False)
        finally:
            self._executor.shutdown(wait=False, cancel_futures=True)
            if self._watch is not None:
                self._watch.close()


def run_cell(
    config: CellConfig,
    *,
    backend: str = "dds",
    domain_id: int | None = None,
    stop: threading.Event | None = None,
    on_ready: Callable[[CellControllerNode], None] | None = None,
) -> int:
    """Run a cell controller until ``stop`` is set (or forever).

    Returns
    -------
    int
        0 after a clean shutdown.
    """
    stop = stop or threading.Event()
    verifier = load_verifier(config)
    recipes = RecipeStore(config.recipe_dir)
    log.info("%d recipe version(s) in %s", len(recipes), config.recipe_dir)
    with create_cell_bus(
        backend, NODE_NAME, config.namespace, domain_id=domain_id, use_sim_time=config.use_sim_time
    ) as bus:
        node = CellControllerNode(
            bus, config, verifier=verifier, recipes=recipes, domain_id=domain_id
        )
        if on_ready is not None:
            on_ready(node)
        try:
            bus.spin(until=stop.is_set)
        finally:
            node.close()
            bus.spin(timeout_s=0.2)  # let the last messages go out
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m robot_nodes.node --cell c1 [--config FILE] ...`` until Ctrl-C."""
    parser = argparse.ArgumentParser(description="coatshare cell controller")
    parser.add_argument("--cell", required=True, help="cell id, e.g. c1 (namespace /cell_c1)")
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--backend", default="dds", choices=("dds", "rclpy"))
    parser.add_argument("--approval-key", type=Path, default=None)
    parser.add_argument("--recipe-dir", type=Path, default=None)
    parser.add_argument("--domain-id", type=int, default=None)
    parser.add_argument(
        "--use-sim-time", action="store_true", help="run on /clock (overrides the config)"
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s: %(message)s")
    try:
        config = load_cell_config(
            args.config,
            cell_id=args.cell,
            approval_key=args.approval_key,
            recipe_dir=args.recipe_dir,
            use_sim_time=True if args.use_sim_time else None,
        )
    except CoatshareError as exc:
        log.error("%s", exc)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    return run_cell(config, backend=args.backend, domain_id=args.domain_id, stop=stop)


__all__ = ["NODE_NAME", "CellControllerNode", "load_verifier", "main", "run_cell"]

if __name__ == "__main__":
    raise SystemExit(main())

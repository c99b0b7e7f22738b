"""The cell controller on sim time: timed gun switches, joint states dated by their stamps,
the node's clock, its lock-step grants and what it does before the clock starts."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pytest

from recipes.approval import ApprovalVerifier
from robot_nodes.bus import QOS_CLOCK, QOS_LATCHED, QOS_STATUS
from robot_nodes.bus.dds import LOOPBACK_CONFIG_XML
from robot_nodes.cell_bus import (
    CELL_STATE,
    CLOCK_GRANT,
    GUN_TRIGGER_TIMED,
    PROGRAM_STATUS,
    QOS_GRANT,
    SPRAY_PROGRAM,
    TOPICS,
    create_cell_bus,
)
from robot_nodes.controller import (
    CellController,
    CellMode,
    ProgramState,
    RecipeStore,
    TriggerScheduler,
    load_cell_config,
)
from robot_nodes.convert import stamp_to_ns
from robot_nodes.fake_driver import FakeDriver
from robot_nodes.kinematics import RobotModel

from .cell_factories import KEY, cell_config, program_msg, signed_recipe
from .test_cell_controller import SAFE, T0_NS, stroke_ends_mm

STEP_S = 0.004  # the simulator's step: joint states and ticks
DOC = signed_recipe()


@dataclass
class TimedDriver(FakeDriver):
    """The fake driver with a time-stamped trigger output."""

    timed: list[tuple[float, float, bool]] = field(default_factory=list)  # (now, at, on)

    def set_gun_at(self, on: bool, at_s: float) -> None:
        self.timed.append((self.now_s, at_s, bool(on)))
        self.set_gun(on)


def _controller(robot: RobotModel, driver: FakeDriver) -> CellController:
    store = RecipeStore()
    store.add(DOC)
    ctl = CellController(
        cell_config(interlocks={"timeout_s": 0.0}), robot, driver,
        verifier=ApprovalVerifier(KEY.public_key_hex), recipes=store, wall_ns=lambda: T0_NS,
    )  # fmt: skip
    ctl.on_interlocks(SAFE, 0.0)
    return ctl


def test_gun_switches_carry_their_scheduled_time(painter6: RobotModel) -> None:
    """With ticks only every 4 ms (a simulator's steps), a timed output still switches at
    the schedule's instant: paint starts and stops at the stroke ends within 0.5 mm."""
    driver = TimedDriver(painter6.joint_names, painter6.home_rad, lag_tau_s=0.02)
    ctl = _controller(painter6, driver)
    t = driver.run(ctl, 0.0, 0.05, tick_period_s=STEP_S)
    ctl.on_program(program_msg(DOC, stamp_ns=T0_NS), t)
    driver.run(ctl, t, t + 15.0, tick_period_s=STEP_S, until=lambda: ctl.state is CellMode.IDLE)
    assert [on for _, _, on in driver.timed] == [True, False, True, False]
    for now, at, _ in driver.timed:
        assert now - STEP_S < at <= now  # due since the last tick
    config = ctl.config
    lat = {True: config.gun.on_latency_s, False: config.gun.off_latency_s}
    ends = stroke_ends_mm(config)
    ts = np.array([h[0] for h in driver.history])
    qs = np.array([h[1] for h in driver.history])
    for i, (_, at, on) in enumerate(driver.timed):
        q = np.array([np.interp(at + lat[on], ts, qs[:, j]) for j in range(6)])
        tcp = painter6.chain.fk(q)[:3, 3] * 1000.0
        assert np.linalg.norm(tcp - ends[i // 2, 0 if on else 1]) < 0.5


def test_due_at_gives_the_leg_time_each_switch_came_at() -> None:
    sched = TriggerScheduler(
        np.array([1.0, 2.0]), np.array([True, False]), np.array([10.0, 20.0]), 0.04, 0.03, 0.2
    )
    assert sched.due_at(0.97, 0.02) == []
    (on, s, t) = sched.due_at(2.5, 0.02)[0]
    assert (on, s) == (True, 10.0) and t == pytest.approx(1.0 + 0.02 - 0.04)
    assert sched.finished


def test_joint_states_are_dated_by_their_measurement(painter6: RobotModel) -> None:
    """Handled two steps after they were measured (a simulator running ahead), joint
    states dated by their stamps give the robot's true following delay; dated on receipt
    they would add the two steps to it, and to the trigger's compensation."""
    lags: dict[bool, list[float]] = {}
    for dated in (True, False):
        driver = FakeDriver(painter6.joint_names, painter6.home_rad, lag_tau_s=0.02)
        ctl = _controller(painter6, driver)
        t = driver.run(ctl, 0.0, 0.05, tick_period_s=STEP_S)
        ctl.on_program(program_msg(DOC, stamp_ns=T0_NS), t)
        queue: list[tuple[float, np.ndarray]] = []
        lags[dated] = []
        for k in range(1, 1000):
            now = t + k * STEP_S
            driver.now_s = now
            queue.append((now, driver.step(now)))
            if len(queue) > 2:
                measured, q = queue.pop(0)
                ctl.on_joint_state(
                    painter6.joint_names, q, now, measured_s=measured if dated else None
                )
            ctl.tick(now)
            monitor = ctl.runner.monitor
            if monitor is not None and ctl.gun_on:
                lags[dated].append(monitor.lag_estimate_s)
    assert np.median(lags[True]) == pytest.approx(0.02, abs=0.002)
    assert np.median(lags[False]) == pytest.approx(0.02 + 2 * STEP_S, abs=0.002)


# -- the node on sim time, over dds in this process --------------------------------------------
class SimSide:
    """What a simulator sees of the node: grants, timed triggers, states, statuses."""

    def __init__(self, bus, namespace: str) -> None:
        mt = bus.message_type
        self.bus = bus
        self.grants: list[int] = []
        self.triggers: list[tuple[int, bool]] = []
        self.states: list[int] = []
        self.statuses: list = []
        sub = bus.create_subscription

        def topic(name: str) -> tuple:
            return mt(TOPICS[name][0]), f"{namespace}/{name}"

        sub(*topic(CLOCK_GRANT), lambda m: self.grants.append(stamp_to_ns(m.clock)), QOS_GRANT)
        sub(*topic(GUN_TRIGGER_TIMED),
            lambda m: self.triggers.append((stamp_to_ns(m.header.stamp), bool(m.on))),
            TOPICS[GUN_TRIGGER_TIMED][1])  # fmt: skip
        sub(*topic(CELL_STATE), lambda m: self.states.append(stamp_to_ns(m.header.stamp)),
            QOS_LATCHED)  # fmt: skip
        sub(*topic(PROGRAM_STATUS), self.statuses.append, QOS_STATUS)
        self.clock = bus.create_publisher(mt("rosgraph_msgs/msg/Clock"), "/clock", QOS_CLOCK)
        self.program = bus.create_publisher(*topic(SPRAY_PROGRAM), QOS_LATCHED)


def _spin(node_bus, side: SimSide, seconds: float, until=None) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        node_bus.spin_once(0.005)
        side.bus.spin_once(0.0)
        if until is not None and until():
            return True
    return until is None


def test_node_waits_for_the_clock_then_grants_the_simulator_its_steps(domain_id: int) -> None:
    from robot_nodes.node import CellControllerNode

    config = load_cell_config(None, cell_id="s1", use_sim_time=True, legacy_topics=False)
    opts = {"domain_id": domain_id, "config_xml": LOOPBACK_CONFIG_XML}
    with (
        create_cell_bus(
            "dds", "cell_controller", config.namespace, use_sim_time=True, **opts
        ) as bus,
        create_cell_bus("dds", "simulator", "", **opts) as sim_bus,
    ):
        side = SimSide(sim_bus, config.namespace)
        node = CellControllerNode(bus, config, verifier=None, recipes=RecipeStore())
        try:
            assert _spin(bus, side, 10.0, until=lambda: side.program.subscription_count() > 0)
            assert _spin(bus, side, 10.0, until=lambda: side.triggers == [(0, False)])
            # a program before the clock starts waits for it; nothing time-dependent happens
            early = program_msg(DOC, program_id="early", message_type=sim_bus.message_type)
            side.program.publish(early)
            Clock = sim_bus.message_type("rosgraph_msgs/msg/Clock")
            Time = sim_bus.message_type("builtin_interfaces/msg/Time")
            side.clock.publish(Clock(clock=Time(sec=0, nanosec=0)))  # zero: not started
            _spin(bus, side, 0.3)
            assert side.grants == [] and side.states == [] and side.statuses == []

            def tick(ns: int) -> None:
                def seen() -> bool:
                    side.clock.publish(Clock(clock=Time(sec=ns // 10**9, nanosec=ns % 10**9)))
                    return bus.now_ns() == ns

                assert _spin(bus, side, 5.0, until=seen)
                _spin(bus, side, 0.05)

            tick(2_000_000_000)
            assert side.grants == [2_016_000_000]  # the clock handled plus the lookahead
            assert side.states and side.states[-1] == 2_000_000_000  # stamped in sim time
            # the early program was handled once the clock ran (refused: no approval key)
            (status,) = [s for s in side.statuses if s.state == ProgramState.REJECTED]
            assert status.program_id == "early" and stamp_to_ns(status.header.stamp) > 0
            tick(2_004_000_000)  # three quarters of a lookahead before the next grant
            tick(2_008_000_000)
            tick(2_012_000_000)
            assert side.grants == [2_016_000_000, 2_028_000_000]
        finally:
            node.close()

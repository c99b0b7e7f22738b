"""The ``rclpy`` backend against a stand-in for rclpy's API as ROS 2 Jazzy has it (there is
no ROS 2 installation here): the calls it makes, and callbacks that receive exactly what the
bus promises whatever rclpy infers from their signatures."""

from __future__ import annotations

import inspect
import sys
import types
from enum import Enum
from typing import Any

import pytest

from robot_nodes.bus import QOS_LATCHED, QOS_SENSOR_DATA
from robot_nodes.bus.rclpy_backend import RclpyBus


class _ClockType(Enum):
    ROS_TIME = 1
    SYSTEM_TIME = 2
    STEADY_TIME = 3


class _Clock:
    def __init__(self, *, clock_type: _ClockType = _ClockType.SYSTEM_TIME) -> None:
        self.clock_type = clock_type


class _Node:
    """Subscriptions and timers as rclpy dispatches them: a subscription callback that binds
    two arguments but not one gets ``(msg, MessageInfo)`` (Iron and later); a timer callback
    that binds one argument gets a ``TimerInfo`` (releases after Jazzy)."""

    def __init__(self, name: str, namespace: str, parameters: dict[str, Any]) -> None:
        self.name, self.namespace, self.parameters = name, namespace, parameters
        self.subscriptions: list[tuple[str, Any, Any]] = []
        self.timers: list[tuple[float, Any, Any]] = []

    def create_publisher(self, msg_type: type, topic: str, qos: Any) -> Any:
        return types.SimpleNamespace(topic_name=topic, get_subscription_count=lambda: 0)

    def create_subscription(self, msg_type: type, topic: str, callback: Any, qos: Any) -> Any:
        self.subscriptions.append((topic, callback, qos))
        return types.SimpleNamespace(topic_name=topic)

    def deliver(self, topic: str, msg: Any) -> None:
        for name, callback, _ in self.subscriptions:
            if name == topic:
                try:
                    inspect.signature(callback).bind(object())
                    callback(msg)
                except TypeError:
                    callback(msg, {"source_timestamp": 0})

    def create_timer(
        self, timer_period_sec: float, callback: Any, callback_group: Any = None, clock: Any = None
    ) -> Any:
        self.timers.append((timer_period_sec, callback, clock))
        return object()

    def fire_timers(self) -> None:
        for _, callback, _ in self.timers:
            try:
                inspect.signature(callback).bind(object())
                callback(types.SimpleNamespace(expected_call_time=0, actual_call_time=0))
            except TypeError:
                callback()

    def destroy_node(self) -> None:
        self.destroyed = True


@pytest.fixture
def fake_rclpy(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    calls: dict[str, Any] = {}
    rclpy = types.ModuleType("rclpy")

    def init(*, args=None, context=None, domain_id=None, signal_handler_options=None):
        calls["init"] = {"args": args, "context": context, "domain_id": domain_id}

    def create_node(node_name, *, context=None, namespace=None, parameter_overrides=None, **_):
        params = {p.name: p.value for p in parameter_overrides or []}
        calls["node"] = node = _Node(node_name, namespace, params)
        calls["node_context"] = context
        return node

    rclpy.init, rclpy.create_node = init, create_node
    context = types.ModuleType("rclpy.context")

    class Context:
        def try_shutdown(self) -> None:
            calls["context_shutdown"] = True

    context.Context = Context
    executors = types.ModuleType("rclpy.executors")

    class SingleThreadedExecutor:
        def __init__(self, *, context=None) -> None:
            calls["executor_context"] = context

        def add_node(self, node) -> None:
            calls["executor_node"] = node

        def spin_once(self, timeout_sec=None) -> None:
            pass

        def shutdown(self, timeout_sec=None) -> bool:
            return True

    executors.SingleThreadedExecutor = SingleThreadedExecutor
    parameter = types.ModuleType("rclpy.parameter")

    class Parameter:
        class Type(Enum):
            BOOL = 1

        def __init__(self, name, type_, value) -> None:
            self.name, self.type_, self.value = name, type_, value

    parameter.Parameter = Parameter
    qos = types.ModuleType("rclpy.qos")
    qos.HistoryPolicy = Enum("HistoryPolicy", "KEEP_LAST KEEP_ALL")
    qos.ReliabilityPolicy = Enum("ReliabilityPolicy", "RELIABLE BEST_EFFORT")
    qos.DurabilityPolicy = Enum("DurabilityPolicy", "TRANSIENT_LOCAL VOLATILE")
    qos.QoSProfile = lambda **kw: kw
    clock = types.ModuleType("rclpy.clock")
    clock.Clock, clock.ClockType = _Clock, _ClockType
    modules = {
        "rclpy": rclpy,
        "rclpy.context": context,
        "rclpy.executors": executors,
        "rclpy.parameter": parameter,
        "rclpy.qos": qos,
        "rclpy.clock": clock,
    }
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return calls


def test_node_on_its_own_context_with_domain_and_sim_time(fake_rclpy) -> None:
    bus = RclpyBus("cell_controller", "/cell_c1", domain_id=17, use_sim_time=True)
    init, node = fake_rclpy["init"], fake_rclpy["node"]
    assert init["domain_id"] == 17 and init["context"] is fake_rclpy["node_context"]
    assert fake_rclpy["executor_context"] is init["context"]
    assert fake_rclpy["executor_node"] is node
    assert (node.name, node.namespace, node.parameters) == (
        "cell_controller",
        "/cell_c1",
        {"use_sim_time": True},
    )
    bus.shutdown()
    assert node.destroyed and fake_rclpy["context_shutdown"]


def test_callbacks_get_the_message_only_and_timers_no_argument(fake_rclpy) -> None:
    bus = RclpyBus("n", "/cell_c1")
    node = fake_rclpy["node"]
    got: list[tuple] = []

    def guarded(*args: Any) -> None:  # like the cell node's error guard
        got.append(args)

    bus.create_subscription(object, "joint_states", guarded, QOS_SENSOR_DATA)
    node.deliver("joint_states", "msg-1")
    bus.create_timer(0.002, guarded)
    bus.create_wall_timer(1.0, guarded)
    node.fire_timers()
    assert got == [("msg-1",), (), ()]
    (_, _, sub_qos) = node.subscriptions[0]
    assert sub_qos["reliability"].name == "BEST_EFFORT" and sub_qos["depth"] == 5
    (tick_s, _, tick_clock), (wall_s, _, wall_clock) = node.timers
    assert (tick_s, tick_clock) == (0.002, None)  # the node's clock: ROS time
    assert wall_s == 1.0 and wall_clock.clock_type is _ClockType.STEADY_TIME


def test_latched_qos_maps_to_transient_local(fake_rclpy) -> None:
    from robot_nodes.bus.rclpy_backend import to_rclpy_qos

    qos = to_rclpy_qos(QOS_LATCHED)
    assert (qos["reliability"].name, qos["durability"].name, qos["depth"]) == (
        "RELIABLE",
        "TRANSIENT_LOCAL",
        1,
    )
    assert qos["history"].name == "KEEP_LAST"

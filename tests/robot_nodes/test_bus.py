"""The bus interface: names, QoS mapping, and the dds backend within one process."""

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import cyclonedds.idl.types as idl
import pytest
from cyclonedds.domain import DomainParticipant
from cyclonedds.idl import IdlStruct
from cyclonedds.qos import Policy
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic

from recipes.errors import InvalidInputError
from robot_nodes.bus import (
    QOS_CLOCK,
    QOS_DEFAULT,
    QOS_LATCHED,
    QOS_SENSOR_DATA,
    Bus,
    Durability,
    QosProfile,
    Reliability,
    create_bus,
    dds_topic_name,
    resolve_topic_name,
)
from robot_nodes.bus.dds import LOOPBACK_CONFIG_XML, to_cyclone_qos

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("topic", "node", "namespace", "expected"),
    [
        ("joint_states", "controller", "/cell_1", "/cell_1/joint_states"),
        ("joint_states", "controller", "cell_1", "/cell_1/joint_states"),
        ("/clock", "controller", "/cell_1", "/clock"),
        ("~/status", "controller", "/cell_1", "/cell_1/controller/status"),
        ("~", "controller", "/", "/controller"),
        ("camera/image_raw", "cam", "", "/camera/image_raw"),
        (
            "joint_trajectory_controller/joint_trajectory",
            "controller",
            "/site_a/cell_2/",
            "/site_a/cell_2/joint_trajectory_controller/joint_trajectory",
        ),
    ],
)
def test_resolve_topic_name(topic: str, node: str, namespace: str, expected: str) -> None:
    assert resolve_topic_name(topic, node, namespace) == expected


def test_dds_topic_name_prefixes_rt() -> None:
    assert dds_topic_name("/cell_1/joint_states") == "rt/cell_1/joint_states"
    with pytest.raises(InvalidInputError):
        dds_topic_name("joint_states")


@pytest.mark.parametrize(
    ("topic", "node", "namespace"),
    [
        ("joint states", "n", "/"),
        ("a//b", "n", "/"),
        ("1abc", "n", "/"),
        ("ok", "bad-name", "/"),
        ("ok", "n", "/cell-1"),
        ("ok", "n", "/2cell"),
    ],
)
def test_invalid_names_are_refused(topic: str, node: str, namespace: str) -> None:
    with pytest.raises(InvalidInputError):
        resolve_topic_name(topic, node, namespace)


def test_qos_maps_to_cyclone_policies() -> None:
    latched = to_cyclone_qos(QOS_LATCHED)
    assert Policy.Reliability.Reliable in latched
    assert latched[Policy.Durability] == Policy.Durability.TransientLocal
    assert latched[Policy.History] == Policy.History.KeepLast(1)
    assert latched[Policy.DataRepresentation] == Policy.DataRepresentation(
        use_cdrv0_representation=True
    )
    sensor = to_cyclone_qos(QOS_SENSOR_DATA)
    assert sensor[Policy.Reliability] == Policy.Reliability.BestEffort
    assert sensor[Policy.Durability] == Policy.Durability.Volatile
    assert sensor[Policy.History] == Policy.History.KeepLast(5)
    assert QosProfile(Reliability.RELIABLE, Durability.VOLATILE, 10) == QOS_DEFAULT
    assert QOS_CLOCK.depth == 1
    with pytest.raises(InvalidInputError, match="depth"):
        QosProfile(depth=0)


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="'zmq' is not one of dds, rclpy"):
        create_bus("zmq", "node")  # type: ignore[arg-type]


def test_bus_package_imports_neither_rclpy_nor_cyclonedds() -> None:
    code = (
        "import sys, robot_nodes, robot_nodes.bus, robot_nodes.bus.rclpy_backend;"
        "import robot_nodes.kinematics, robot_nodes.timing, robot_nodes.convert;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rclpy', 'cyclonedds')))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.fixture
def make_bus(domain_id: int):
    buses: list[Bus] = []

    def make(node: str, namespace: str = "/cell_1", **kwargs) -> Bus:
        bus = create_bus(
            "dds", node, namespace, domain_id=domain_id, config_xml=LOOPBACK_CONFIG_XML, **kwargs
        )
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        bus.shutdown()


def test_publish_subscribe_in_process(make_bus) -> None:
    talker, listener = make_bus("talker"), make_bus("listener")
    JointState = talker.message_type("sensor_msgs/msg/JointState")
    pub = talker.create_publisher(JointState, "joint_states", QOS_DEFAULT)
    received: list = []
    sub = listener.create_subscription(
        JointState, "/cell_1/joint_states", received.append, QOS_DEFAULT
    )
    assert listener.spin(until=lambda: pub.subscription_count() == 1, timeout_s=5.0)
    for i in range(5):
        pub.publish(JointState(name=["joint_1"], position=[0.1 * i]))
    assert listener.spin(until=lambda: len(received) == 5, timeout_s=5.0)
    assert [m.position[0] for m in received] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    assert pub.topic_name == sub.topic_name == "/cell_1/joint_states"
    assert sub.publisher_count() == 1


@dataclass
class _HandTime(IdlStruct, typename="builtin_interfaces::msg::dds_::Time_"):
    sec: idl.int32 = 0
    nanosec: idl.uint32 = 0


@dataclass
class _HandHeader(IdlStruct, typename="std_msgs::msg::dds_::Header_"):
    stamp: _HandTime = field(default_factory=_HandTime)
    frame_id: str = ""


@dataclass
class _HandJointState(IdlStruct, typename="sensor_msgs::msg::dds_::JointState_"):
    """JointState as a ROS 2 node on Cyclone declares it, written out by hand."""

    header: _HandHeader = field(default_factory=_HandHeader)
    name: idl.sequence[str] = field(default_factory=list)
    position: idl.sequence[idl.float64] = field(default_factory=list)
    velocity: idl.sequence[idl.float64] = field(default_factory=list)
    effort: idl.sequence[idl.float64] = field(default_factory=list)


def test_plain_dds_reader_on_ros2_topic_and_type_names(make_bus, domain_id: int) -> None:
    """A reader that knows only the ROS 2 naming rules receives what the bus publishes."""
    bus = make_bus("talker", "/cell_7")
    participant = DomainParticipant(domain_id)
    topic = Topic(participant, "rt/cell_7/joint_states", _HandJointState)
    reader = DataReader(participant, topic, qos=to_cyclone_qos(QOS_LATCHED))
    JointState = bus.message_type("sensor_msgs/msg/JointState")
    pub = bus.create_publisher(JointState, "joint_states", QOS_LATCHED)
    pub.publish(JointState(name=["joint_1", "joint_2"], position=[1.5, -0.5]))
    deadline = time.monotonic() + 5.0
    samples: list = []
    while not samples and time.monotonic() < deadline:
        samples = [s for s in reader.take(10) if isinstance(s, _HandJointState)]
        time.sleep(0.01)
    assert samples and samples[0].name == ["joint_1", "joint_2"]
    assert samples[0].position == [1.5, -0.5]
    assert topic.get_type_name() == "sensor_msgs::msg::dds_::JointState_"


def test_publishing_the_wrong_type_is_refused(make_bus) -> None:
    bus = make_bus("talker")
    pub = bus.create_publisher(
        bus.message_type("sensor_msgs/msg/JointState"), "joint_states", QOS_DEFAULT
    )
    with pytest.raises(InvalidInputError, match="expects sensor_msgs.msg.JointState"):
        pub.publish(bus.message_type("rosgraph_msgs/msg/Clock")())
    with pytest.raises(InvalidInputError, match="already carries"):
        bus.create_publisher(
            bus.message_type("rosgraph_msgs/msg/Clock"), "joint_states", QOS_DEFAULT
        )


def test_timers_fire_and_cancel(make_bus) -> None:
    bus = make_bus("ticker")
    ticks: list[float] = []
    timer = bus.create_timer(0.05, lambda: ticks.append(time.monotonic()))
    bus.spin(timeout_s=0.5)
    assert 5 <= len(ticks) <= 11  # 10 nominal; missed periods are skipped, never burst
    timer.cancel()
    count = len(ticks)
    bus.spin(timeout_s=0.2)
    assert len(ticks) == count


def test_shutdown_from_another_thread_ends_spin(make_bus) -> None:
    bus = make_bus("spinner")
    done = threading.Event()

    def run() -> None:
        bus.spin()
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.2)
    bus.shutdown()
    thread.join(timeout=2.0)
    assert done.is_set()
    bus.shutdown()  # twice is fine
    with pytest.raises(InvalidInputError, match="shut down"):
        bus.create_timer(0.1, lambda: None)


def test_sim_time_follows_clock(make_bus) -> None:
    sim = make_bus("sim", "/")
    node = make_bus("controller", "/cell_1", use_sim_time=True)
    assert node.now_ns() == 0
    Clock = sim.message_type("rosgraph_msgs/msg/Clock")
    Time = sim.message_type("builtin_interfaces/msg/Time")
    pub = sim.create_publisher(Clock, "/clock", QOS_CLOCK)
    assert node.spin(until=lambda: pub.subscription_count() == 1, timeout_s=5.0)

    def ticked() -> bool:
        pub.publish(Clock(clock=Time(sec=12, nanosec=500)))
        return node.now_ns() == 12_000_000_500

    assert node.spin(until=ticked, timeout_s=5.0)


def test_ros_domain_id_from_environment(monkeypatch, domain_id: int) -> None:
    monkeypatch.setenv("CYCLONEDDS_URI", LOOPBACK_CONFIG_XML)
    monkeypatch.setenv("ROS_DOMAIN_ID", str(domain_id))
    bus = create_bus("dds", "envnode")
    try:
        assert bus._participant.get_domain_id() == domain_id
    finally:
        bus.shutdown()
    monkeypatch.setenv("ROS_DOMAIN_ID", "x")
    with pytest.raises(InvalidInputError, match="ROS_DOMAIN_ID"):
        create_bus("dds", "envnode")


def test_timers_run_on_sim_time_and_wall_timers_on_the_host_clock(make_bus) -> None:
    """With use_sim_time a timer fires as /clock passes its times (never before the clock
    has started, once per jump however far), a wall timer whatever the clock does."""
    sim = make_bus("sim", "/")
    node = make_bus("controller", "/cell_1", use_sim_time=True)
    Clock = sim.message_type("rosgraph_msgs/msg/Clock")
    Time = sim.message_type("builtin_interfaces/msg/Time")
    pub = sim.create_publisher(Clock, "/clock", QOS_CLOCK)
    ticks: list[int] = []
    walls: list[float] = []
    node.create_timer(0.002, lambda: ticks.append(node.now_ns()))
    node.create_wall_timer(0.02, lambda: walls.append(time.monotonic()))
    assert node.spin(until=lambda: pub.subscription_count() == 1, timeout_s=5.0)
    node.spin(timeout_s=0.2)
    assert ticks == [] and len(walls) >= 3  # no clock yet: sim time stands at 0

    def clock(ns: int) -> None:
        def seen() -> bool:
            pub.publish(Clock(clock=Time(sec=ns // 10**9, nanosec=ns % 10**9)))
            return node.now_ns() == ns

        assert node.spin(until=seen, timeout_s=5.0)
        node.spin(timeout_s=0.02)

    clock(0)  # a zero clock has not started
    assert ticks == []
    for ns in (1_000_000_000, 1_001_000_000, 1_002_000_000, 1_002_500_000, 1_100_000_000):
        clock(ns)
    assert ticks == [1_000_000_000, 1_002_000_000, 1_100_000_000]

"""The simulator node in this process on a private DDS domain: what it publishes per step,
the camera and the station, live faults from the topic, the gun valve and the e-stop, the
fast joint-state serialisation, the trajectory stamps, the lock-step with a controller on
sim time."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import yaml

from robot_nodes.bus import QOS_CLOCK, QOS_DEFAULT, QOS_LATCHED, QOS_SENSOR_DATA, QOS_STATUS
from robot_nodes.bus.dds import LOOPBACK_CONFIG_XML
from robot_nodes.bus.domain_ids import lease_domain_id
from robot_nodes.cell_bus import create_cell_bus
from sim._cdr import ImagePublisher, JointStatePublisher
from sim.cell import CollisionEvent, GunValve
from sim.node import CLOCK_GRANT, FAULT_TOPIC, GUN_TRIGGER_TIMED, SimNode, cell_topic
from sim.results import RecipeBook
from sim.world import parse_world

from .conftest import DEMO_WORLD, WORLDS

STATION_T_S = 11.4  # the first part reaches the demo station after (3200 - 350) / 250 s


def _world(**feed):
    data = yaml.safe_load(DEMO_WORLD.read_text())
    data["faults"] = []
    data["cells"][0]["feed"].update(p_wrong_part=0.0, p_damaged=0.0, **feed)
    return parse_world(data, source="test", base_dir=WORLDS)


@pytest.fixture
def buses():
    domain = (_lease := lease_domain_id()).domain_id  # locked until the fixture ends
    made = []

    def make(name: str):
        bus = create_cell_bus("dds", name, "", domain_id=domain, config_xml=LOOPBACK_CONFIG_XML)
        made.append(bus)
        return bus

    yield make
    for bus in made:
        bus.shutdown()


class Listener:
    """This test's view of cell 1: everything the simulator publishes."""

    def __init__(self, bus) -> None:
        mt, sub = bus.message_type, bus.create_subscription
        self.bus = bus
        self.js, self.clock, self.images, self.truth, self.station, self.estop = (
            [] for _ in "123456"
        )
        topic = lambda name: cell_topic("1", name)  # noqa: E731
        sub(mt("sensor_msgs/msg/JointState"), topic("joint_states"), self.js.append, QOS_DEFAULT)
        sub(mt("rosgraph_msgs/msg/Clock"), "/clock", self.clock.append, QOS_CLOCK)
        sub(mt("sensor_msgs/msg/Image"), topic("camera/image_raw"), self.images.append,
            QOS_SENSOR_DATA)  # fmt: skip
        String = mt("std_msgs/msg/String")
        sub(String, topic("camera/ground_truth"), lambda m: self.truth.append(json.loads(m.data)),
            QOS_STATUS)  # fmt: skip
        sub(String, topic("station/part"), lambda m: self.station.append(json.loads(m.data)),
            QOS_STATUS)  # fmt: skip
        sub(mt("std_msgs/msg/Bool"), topic("interlocks/estop"),
            lambda m: self.estop.append(bool(m.data)), QOS_LATCHED)  # fmt: skip
        self.faults = bus.create_publisher(String, FAULT_TOPIC, QOS_DEFAULT)

    def fault(self, command: dict | str) -> None:
        text = command if isinstance(command, str) else json.dumps(command)
        self.faults.publish(self.bus.message_type("std_msgs/msg/String")(data=text))


def _wait_matched(node: SimNode, listener: Listener) -> None:
    deadline = time.monotonic() + 10.0
    while listener.faults.subscription_count() == 0 and time.monotonic() < deadline:
        node.bus.spin_once(0.01)
        listener.bus.spin_once(0.01)
    assert listener.faults.subscription_count() > 0


def test_node_publishes_clock_joint_states_camera_and_station(buses) -> None:
    node = SimNode(buses("simulator"), _world(), recipes=RecipeBook(), max_parts=1)
    listener = Listener(buses("listener"))
    _wait_matched(node, listener)
    try:
        node.run(until=lambda: node.cells["1"].busy)
        listener.bus.spin(timeout_s=0.5)
    finally:
        node.close()
    assert node.clock.now_s == pytest.approx(STATION_T_S + 0.004, abs=0.0041)
    # /clock in sim time, the last tick received; joint states stamped in sim time
    assert listener.clock and listener.clock[-1].clock.sec == int(node.clock.now_s)
    last = listener.js[-1]
    assert list(last.name) == [f"joint_{i}" for i in range(1, 7)]
    np.testing.assert_allclose(last.position, [0.0, 0.0, 0.0, 0.0, np.pi / 2, 0.0])
    assert last.header.stamp.sec * 1e9 + last.header.stamp.nanosec <= node.clock.now_ns
    # one mono8 frame as the door passed the camera, with its ground truth
    (image,) = listener.images
    assert (image.width, image.height, image.encoding, image.step) == (1280, 960, "mono8", 1280)
    assert len(image.data) == 1280 * 960
    (truth,) = listener.truth
    assert truth["published"] and truth["part_id"] == "1-0000"
    assert truth["truth"]["visibility"] == "full" and truth["truth"]["name"].startswith("door")
    assert abs(truth["truth"]["pose"]["x_mm"] - -2000.0) < 25.0  # at the camera's view centre
    (station,) = listener.station
    assert station["part_id"] == "1-0000" and station["expected_spec"] == "door"
    assert station["t_s"] == pytest.approx(STATION_T_S, abs=0.005)
    assert listener.estop[-1] is False


def _stroke_trajectory(node: SimNode) -> None:
    """Joint 1 turns at constant speed for 2 s from now on (a stroke across the booth)."""
    cell = node.cells["1"]
    q0 = cell.follower.q.copy()
    t = np.linspace(0.0, 2.0, 201)
    q = np.tile(q0, (len(t), 1))
    q[:, 0] += 0.3 * t
    qd = np.zeros_like(q)
    qd[:, 0] = 0.3
    now = node.clock.now_s
    cell.follower.set_trajectory(t, q, qd, start_s=now, now_s=now)


def test_live_estop_mid_stroke_turns_the_gun_off_from_the_next_step(buses) -> None:
    node = SimNode(buses("simulator"), _world(), recipes=RecipeBook(), max_parts=1)
    listener = Listener(buses("listener"))
    _wait_matched(node, listener)
    cell = node.cells["1"]
    try:
        node.run(until=lambda: cell.busy)
        _stroke_trajectory(node)
        cell.on_trigger(True, node.clock.now_s)
        node.run(max_sim_s=node.clock.now_s + 0.5)
        listener.fault("not json {")  # refused with a log line, nothing happens
        listener.fault({"kind": "estop", "cell": "1", "duration_s": 0.2})
        sent_at = node.clock.now_s
        deadline = time.monotonic() + 5.0
        while not node.faults.state("1", node.clock.now_s + 0.004).estop:
            assert time.monotonic() < deadline, "the e-stop did not arrive"
            node.step()
        for _ in range(125):  # 0.5 s, the listener taking the interlock as it changes
            node.step()
            listener.bus.spin_once(0.0)
        listener.bus.spin(timeout_s=0.3)
        log = cell.cycle.log_arrays()
    finally:
        node.close()
    windows = node.faults.transitions("1", 0.0, 1e9)
    t_e = next(t for t, what, f in windows if f.kind == "estop" and what == "start")
    assert not node.faults.state("1", t_e + 0.2).estop  # 0.2 s long
    t, gun, q = log["t_s"], log["gun_on"], log["q_rad"]
    before, during = t < t_e - 1e-9, (t >= t_e - 1e-9) & (t < t_e + 0.2 - 1e-9)
    # paint flowed mid-stroke up to the e-stop (valve opened 40 ms after the trigger) ...
    assert gun[before & (t > t_e - 0.3)].all()
    # ... and not from the step at which the command acts
    assert t_e - sent_at <= 0.2 and not gun[during].any()
    # the drives stopped with it, and the interlock told the cell controller
    moved = np.abs(np.diff(q[during][:, 0])).max()
    assert moved == 0.0
    assert True in listener.estop and listener.estop[-1] is False
    # once it is released the gun follows the trigger again (the cell controller would
    # have switched it off; here nobody did)
    assert gun[t >= t_e + 0.2 + 1e-9].all()


def test_a_collision_stops_the_drives_and_the_gun_until_the_part_leaves(buses) -> None:
    node = SimNode(buses("simulator"), _world(), recipes=RecipeBook(), max_parts=1, camera=False)
    cell = node.cells["1"]
    hits = []
    node.event_hooks.append(lambda _, e: hits.append(e) if isinstance(e, CollisionEvent) else None)
    try:
        node.run(until=lambda: cell.busy)
        q0 = cell.follower.q.copy()
        t = np.linspace(0.0, 3.0, 31)
        q = np.tile(q0, (len(t), 1))
        q[:, 1] += 0.4 * t  # the shoulder leans the arm forward, the gun down into the door
        now = node.clock.now_s
        cell.follower.set_trajectory(t, q, None, start_s=now, now_s=now)
        cell.on_trigger(True, now)
        node.run(max_sim_s=now + 3.2)
        log = cell.cycle.log_arrays()
        (hit,) = hits
        assert (hit.link, hit.obstacle) == ("gun", "part") and -3.0 < hit.distance_mm <= 0.0
        state = node.faults.state("1", node.clock.now_s)
        assert state.servo_faults and not state.motion_allowed and not state.spray_allowed
        after = log["t_s"] >= hit.t_s
        assert np.ptp(log["q_rad"][after], axis=0).max() == 0.0  # the drives stopped there
        assert log["gun_on"][~after & (log["t_s"] > now + 0.1)].all()
        assert not log["gun_on"][after].any()
        # the cell gives up on the part: it leaves, the drives are released
        node.finish_part("1", "1-0000", {"completed": False, "fault_code": "TRACKING_LAG"})
        assert node.faults.state("1", node.clock.now_s).motion_allowed
        (outcome,) = node.outcomes
        assert outcome.result["collisions"][0]["obstacle"] == "part"
        assert outcome.result["metrics"] is None and not outcome.result["qc"]["passed"]
    finally:
        node.close()


def test_faults_from_the_topic_thin_the_flow_and_stop_the_camera(buses) -> None:
    node = SimNode(buses("simulator"), _world(), recipes=RecipeBook(), max_parts=1)
    listener = Listener(buses("listener"))
    _wait_matched(node, listener)
    try:
        listener.fault({"kind": "camera_dropout", "cell": "1"})
        listener.fault({"kind": "gun_clog", "cell": "1", "duration_s": 60, "flow_factor": 0.3})
        node.run(until=lambda: node.cells["1"].busy)
        listener.bus.spin(timeout_s=0.3)
    finally:
        node.close()
    state = node.faults.state("1", node.clock.now_s)
    assert state.flow_factor == pytest.approx(0.3) and not state.camera_ok
    assert state.spray_allowed  # a clog thins the flow, the gun still opens
    assert listener.images == []  # the frame was dropped ...
    (truth,) = listener.truth  # ... and the ground truth says so
    assert truth["published"] is False and truth["truth"]["visibility"] == "full"


def test_gun_valve_switches_after_its_latencies_in_command_order() -> None:
    valve = GunValve(on_latency_s=0.04, off_latency_s=0.03)
    valve.command(True, 1.0)
    assert [valve.output(t) for t in (1.0, 1.039, 1.04)] == [False, False, True]
    valve.command(False, 2.0)
    assert valve.output(2.029) and not valve.output(2.03)
    # switching acts in the order commanded: an off 5 ms after an on (shorter than the
    # latencies differ) never opens the gun; 20 ms after, it flows for 10 ms
    valve.command(True, 3.0)
    valve.command(False, 3.005)
    assert not any(valve.output(t) for t in (3.035, 3.04, 3.05))
    valve.command(True, 4.0)
    valve.command(False, 4.02)
    assert [valve.output(t) for t in (4.039, 4.04, 4.049, 4.05)] == [False, True, True, False]


def test_fast_joint_states_are_byte_identical_to_the_backend(buses) -> None:
    bus = buses("simulator")
    JointState = bus.message_type("sensor_msgs/msg/JointState")
    pub = bus.create_publisher(JointState, "/cell_1/joint_states", QOS_DEFAULT)
    names = [f"joint_{i}" for i in range(1, 7)]
    fast = JointStatePublisher(bus, pub, names)
    assert fast.fast
    rng = np.random.default_rng(3)
    for _ in range(5):
        q, qd = rng.normal(size=6), rng.normal(size=6)
        stamp = int(rng.integers(0, 10**12))
        fast._patch(fast._fast, stamp, q, qd)
        want = fast._msg(stamp // 10**9, stamp % 10**9, q, qd).serialize(use_version_2=False)
        assert bytes(fast._fast.buf) == want


def test_wall_clock_trajectory_stamps_map_to_sim_time(buses) -> None:
    """A leg stamped 0.5 s ahead on the wall clock starts 0.5 s of sim time ahead when paced
    (through the clock's anchor, however late this step runs), and a sim-time stamp is taken
    as it is."""
    node = SimNode(buses("simulator"), _world(), recipes=RecipeBook(), real_time_factor=1.0)
    try:
        node.run(max_sim_s=0.1)
        bus = node.bus
        Point = bus.message_type("trajectory_msgs/msg/JointTrajectoryPoint")
        Duration = bus.message_type("builtin_interfaces/msg/Duration")
        Time = bus.message_type("builtin_interfaces/msg/Time")

        def msg(stamp_ns: int):
            q = list(node.cells["1"].follower.q)
            q[0] += 0.1
            return bus.message_type("trajectory_msgs/msg/JointTrajectory")(
                header=bus.message_type("std_msgs/msg/Header")(
                    stamp=Time(sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9), frame_id=""
                ),
                joint_names=[f"joint_{i}" for i in range(1, 7)],
                points=[Point(positions=q, velocities=[], accelerations=[], effort=[],
                              time_from_start=Duration(sec=1, nanosec=0))],
            )  # fmt: skip

        cell = node.cells["1"]
        now = node.clock.now_s
        time.sleep(0.05)  # this step is 50 ms late: the stamp still maps to the wall clock
        node._on_trajectory(cell, msg(time.time_ns() + 500_000_000))
        start = cell.follower._pending.start_s
        assert start == pytest.approx(now + 0.55, abs=0.006)
        node._on_trajectory(cell, msg(round((now + 2.0) * 1e9)))
        assert cell.follower._pending.start_s == pytest.approx(now + 2.0, abs=1e-9)
    finally:
        node.close()


def test_fast_camera_frames_arrive_pixel_for_pixel(buses) -> None:
    bus, other = buses("simulator"), buses("listener")
    Image = bus.message_type("sensor_msgs/msg/Image")
    got = []
    other.create_subscription(Image, "/cell_1/camera/image_raw", got.append, QOS_SENSOR_DATA)
    pub = ImagePublisher(
        bus, bus.create_publisher(Image, "/cell_1/camera/image_raw", QOS_SENSOR_DATA),
        320, 240, "cell_1_camera",
    )  # fmt: skip
    assert pub.fast
    deadline = time.monotonic() + 10.0
    while pub.publisher.subscription_count() == 0 and time.monotonic() < deadline:
        other.spin_once(0.01)
    img = np.random.default_rng(5).integers(0, 256, (240, 320), dtype=np.uint8)
    pub.publish(12_345_678_901, img)
    other.spin(until=lambda: bool(got), timeout_s=5.0)
    (msg,) = got
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == (12, 345_678_901)
    assert (msg.width, msg.height, msg.step, msg.encoding) == (320, 240, 320, "mono8")
    assert msg.header.frame_id == "cell_1_camera"
    np.testing.assert_array_equal(np.frombuffer(bytes(msg.data), np.uint8).reshape(240, 320), img)


def test_lockstep_with_a_controller_on_sim_time(buses) -> None:
    """A cell whose controller grants is waited for; sim time stands while its part waits
    for the first trajectory; its gun switches at the timed triggers' stamps (plus the
    valve's latencies) on the step grid, and its plain trigger is ignored."""
    node = SimNode(buses("simulator"), _world(), recipes=RecipeBook(), max_parts=1, camera=False)
    ctl = buses("controller")  # plays the cell controller
    mt = ctl.message_type
    Clock, Time = mt("rosgraph_msgs/msg/Clock"), mt("builtin_interfaces/msg/Time")
    Header = mt("std_msgs/msg/Header")

    def pub(name: str, type_name: str, qos):
        return ctl.create_publisher(mt(type_name), cell_topic("1", name), qos)

    grants = pub(CLOCK_GRANT.name, CLOCK_GRANT.type, CLOCK_GRANT.qos)
    timed = pub(GUN_TRIGGER_TIMED.name, GUN_TRIGGER_TIMED.type, GUN_TRIGGER_TIMED.qos)
    plain = pub("gun/trigger", "std_msgs/msg/Bool", QOS_LATCHED)
    trajectories = pub("joint_trajectory_controller/joint_trajectory",
                       "trajectory_msgs/msg/JointTrajectory", QOS_DEFAULT)  # fmt: skip
    cell = node.cells["1"]

    def stamp(t_s: float):
        ns = round(t_s * 1e9)
        return Time(sec=ns // 10**9, nanosec=ns % 10**9)

    def spin_until(done) -> None:
        deadline = time.monotonic() + 10.0
        while not done():
            assert time.monotonic() < deadline
            node.bus.spin_once(0.01)

    try:
        spin_until(
            lambda: all(p.subscription_count() for p in (grants, timed, plain, trajectories))
        )
        grants.publish(Clock(clock=stamp(1.0)))
        spin_until(lambda: node.lockstep.synced("1"))
        node.run(until=lambda: not node.granted())
        assert node.clock.now_ns == 1_004_000_000  # stepped from 1.0 s, no further
        grants.publish(Clock(clock=stamp(12.0)))
        node.run(until=lambda: cell.busy)  # the door arrives at 11.4 s
        node.run(until=node.holding)
        t_hold = node.clock.now_s
        deadline = time.monotonic() + 0.3
        node.run(until=lambda: time.monotonic() > deadline)
        assert node.clock.now_s == t_hold  # sim time stands until the first trajectory
        t_on, t_off = t_hold + 0.5013, t_hold + 1.2017  # off the 4 ms grid
        for on, t in ((True, t_on), (False, t_off)):
            timed.publish(mt(GUN_TRIGGER_TIMED.type)(header=Header(stamp=stamp(t)), on=on))
            spin_until(lambda on=on: cell.valve.commanded is on)
        plain.publish(mt("std_msgs/msg/Bool")(data=True))  # ignored: the cell sends timed ones
        node.run(until=lambda: time.monotonic() > deadline + 0.5)
        assert cell.valve.commanded is False
        q = list(cell.follower.q)
        Point = mt("trajectory_msgs/msg/JointTrajectoryPoint")
        Duration = mt("builtin_interfaces/msg/Duration")
        trajectories.publish(mt("trajectory_msgs/msg/JointTrajectory")(
            header=Header(stamp=stamp(t_hold + 0.022)),
            joint_names=[f"joint_{i}" for i in range(1, 7)],
            points=[Point(positions=[q[0] + 0.3, *q[1:]], velocities=[], accelerations=[],
                          effort=[], time_from_start=Duration(sec=2, nanosec=0))],
        ))  # fmt: skip
        grants.publish(Clock(clock=stamp(t_hold + 2.0)))
        node.run(until=lambda: node.clock.now_s > t_hold + 1.9 and not node.granted())
        log = cell.cycle.log_arrays()
    finally:
        node.close()
    assert node.clock.now_s == pytest.approx(t_hold + 2.004)  # held at the last grant
    t, gun = log["t_s"], log["gun_on"]
    on_steps = t[gun]
    first = np.ceil((t_on + cell.valve.on_latency_s) / 0.004 - 1e-6) * 0.004
    after = np.ceil((t_off + cell.valve.off_latency_s) / 0.004 - 1e-6) * 0.004
    assert on_steps[0] == pytest.approx(first) and on_steps[-1] == pytest.approx(after - 0.004)
    assert len(on_steps) == round((after - first) / 0.004)
    moved = t[np.flatnonzero(np.diff(log["q_rad"][:, 0]))[0] + 1]
    assert moved == pytest.approx(t_hold + 0.024)  # the leg started at its stamp

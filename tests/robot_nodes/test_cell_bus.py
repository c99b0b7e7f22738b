"""The cell's bus interface: extra std messages (byte-identical CDR), conversions, type watch."""

from __future__ import annotations

import time

import numpy as np
import pytest
from rosbags.typesys import Stores, get_typestore

from robot_nodes.bus import QOS_LATCHED
from robot_nodes.bus.dds import LOOPBACK_CONFIG_XML
from robot_nodes.cell_bus import (
    CELL_COMMAND,
    EXTRA_STD_MSGS,
    INTERLOCKS,
    LEGACY_TOPICS,
    SPRAY_PROGRAM,
    TOPICS,
    TopicTypeWatch,
    cell_command_msg,
    cell_mode_of,
    cell_registry,
    cell_state_msg,
    create_cell_bus,
    interlock_values,
    interlocks_msg,
    part_result_msg,
    status_msg,
    trajectory_msg,
)
from robot_nodes.controller import (
    CELL_STATE_CODES,
    COMMAND_CODES,
    CellMode,
    CellReport,
    Command,
    DriverMode,
    PartReport,
    ProgramState,
    RecipeStore,
    StatusReport,
    command_from_code,
    joint_move,
)

VALUES = {
    "std_msgs/msg/Bool": [{"data": True}, {"data": False}],
    "std_msgs/msg/String": [{"data": ""}, {"data": "pause prog-1"}, {"data": "lacquer ø matt"}],
}


@pytest.mark.parametrize("store", [Stores.ROS2_HUMBLE, Stores.ROS2_JAZZY])
@pytest.mark.parametrize("name", sorted(EXTRA_STD_MSGS))
def test_extra_std_messages_serialise_like_ros2(store: Stores, name: str) -> None:
    typestore = get_typestore(store)
    ours_type = cell_registry().get_type(name)
    fields = [f.name for f in cell_registry().spec(name).fields]
    assert fields == [f[0] for f in typestore.get_msgdef(name).fields]
    for value in VALUES[name]:
        ours = ours_type(**value).serialize()
        theirs = bytes(typestore.serialize_cdr(typestore.types[name](**value), name))
        assert ours == theirs
        assert typestore.deserialize_cdr(ours, name).data == value["data"]
        assert ours_type.deserialize(theirs).data == value["data"]


def test_registry_extends_the_default_one() -> None:
    from robot_nodes.bus.dds_types import default_registry

    assert set(cell_registry().names) == set(default_registry().names) | set(EXTRA_STD_MSGS)
    for topic, (type_name, qos) in TOPICS.items():
        assert cell_registry().get_type(type_name) is not None, topic
        assert qos.depth >= 1
    assert cell_registry().get_type("std_msgs/msg/Bool").__idl_typename__ == (
        "std_msgs::msg::dds_::Bool_"
    )


def test_trajectory_message_of_a_leg(painter6) -> None:
    leg = joint_move(painter6.chain, painter6.home_rad, painter6.home_rad + 0.1)
    mt = cell_registry().get_type
    msg = trajectory_msg(mt, leg, painter6.joint_names, stamp_ns=1_700_000_000_250_000_000)
    assert msg.header.stamp.sec == 1_700_000_000 and msg.header.stamp.nanosec == 250_000_000
    assert msg.joint_names == list(painter6.joint_names) and len(msg.points) == len(leg)
    last = msg.points[-1]
    assert last.time_from_start.sec + 1e-9 * last.time_from_start.nanosec == pytest.approx(
        leg.duration_s, abs=1e-9
    )
    np.testing.assert_allclose(last.positions, leg.q_rad[-1])
    np.testing.assert_allclose(msg.points[3].velocities, leg.qd_rad_s[3])
    back = type(msg).deserialize(msg.serialize())
    np.testing.assert_allclose(back.points[5].accelerations, leg.qdd_rad_s2[5])


def test_report_messages_carry_every_field() -> None:
    mt = cell_registry().get_type
    status = status_msg(
        mt,
        StatusReport("p1", ProgramState.ABORTED, 0.5, 7, "DOOR_OPEN", "booth door open", 1.25),
        5,
    )
    assert (status.program_id, status.state, status.waypoint_index) == ("p1", 5, 7)
    assert status.fault_code == "DOOR_OPEN" and status.progress == pytest.approx(0.5)
    cell = cell_state_msg(
        mt,
        CellReport("c1", CellMode.RUNNING, DriverMode.AUTO, False, True, True, True, True,
                   False, "p1"),
        0,
    )  # fmt: skip
    assert cell.mode == cell.MODE_AUTO and cell.spray_enabled and not cell.gun_on
    result = part_result_msg(
        mt,
        PartReport("p1", "part-1", "door", 3, True, "", 1_000_000_001, 2_500_000_000,
                   800.0, 400.0, 1.3, 0.4),
        0,
    )  # fmt: skip
    assert result.started.sec == 1 and result.started.nanosec == 1
    assert result.finished.sec == 2 and result.finished.nanosec == 500_000_000
    assert result.recipe_version == 3 and result.completed and result.spray_time_s == 1.3


def test_cell_state_carries_the_controller_state_and_fault() -> None:
    mt = cell_registry().get_type
    CellState = mt("coatshare_interfaces/msg/CellState")
    for mode, code in CELL_STATE_CODES.items():  # the message's STATE_* constants
        assert getattr(CellState, f"STATE_{mode.value}") == code
    report = CellReport("c1", CellMode.FAULT, DriverMode.AUTO, False, True, True, False, False,
                        False, "", fault_code="PAINT_PRESSURE_LOST")  # fmt: skip
    msg = cell_state_msg(mt, report, 0)
    assert (msg.state, msg.fault_code) == (CellState.STATE_FAULT, "PAINT_PRESSURE_LOST")
    assert not msg.paint_pressure_ok and msg.booth_airflow_ok and msg.door_closed
    assert cell_mode_of(type(msg).deserialize(msg.serialize())) is CellMode.FAULT


def test_interlock_and_command_messages() -> None:
    mt = cell_registry().get_type
    msg = interlocks_msg(mt, {"estop": False, "door_closed": True}, 1_700_000_000_000_000_001)
    assert msg.header.stamp.nanosec == 1
    # signals not given are sent unsafe
    assert interlock_values(msg) == {
        "estop": False, "door_closed": True, "paint_pressure_ok": False,
        "booth_airflow_ok": False,
    }  # fmt: skip
    msg = interlocks_msg(mt, {"estop": True}, 0)
    assert msg.estop and not msg.door_closed
    CellCommand = mt("coatshare_interfaces/msg/CellCommand")
    for code, command in COMMAND_CODES.items():
        assert getattr(CellCommand, command.name) == code
        sent = cell_command_msg(mt, command, "run-7")
        assert (sent.command, sent.program_id) == (code, "run-7")
        assert command_from_code(sent.command) is command
    assert command_from_code(0) is None and command_from_code(9) is None
    assert Command.PAUSE.event.value == "pause"


@pytest.mark.parametrize("legacy", [False, True])
def test_node_serves_the_deprecated_topics_only_when_configured(domain_id, legacy) -> None:
    from robot_nodes.controller import load_cell_config
    from robot_nodes.node import CellControllerNode

    config = load_cell_config(None, cell_id="w1", legacy_topics=legacy)
    opts = {"domain_id": domain_id, "config_xml": LOOPBACK_CONFIG_XML}
    with create_cell_bus("dds", "cell_controller", config.namespace, **opts) as bus:
        node = CellControllerNode(bus, config, verifier=None, recipes=RecipeStore(),
                                  domain_id=domain_id)  # fmt: skip
        try:
            subscribed = {s.topic_name for s in bus._subscriptions}
            published = set(node._pub)
        finally:
            node.close()
    ns = config.namespace
    assert {f"{ns}/{INTERLOCKS}", f"{ns}/{CELL_COMMAND}", f"{ns}/{SPRAY_PROGRAM}"} <= subscribed
    old = {f"{ns}/{t}" for t in LEGACY_TOPICS} & (subscribed | {f"{ns}/{t}" for t in published})
    assert bool(old) is legacy
    if legacy:
        assert old == {f"{ns}/{t}" for t in LEGACY_TOPICS}


def test_watch_finds_a_publisher_of_the_wrong_type(domain_id: int) -> None:
    opts = {"domain_id": domain_id, "config_xml": LOOPBACK_CONFIG_XML}
    with (
        create_cell_bus("dds", "cell_controller", "/cell_w", **opts) as node,
        create_cell_bus("dds", "misconfigured", "/cell_w", **opts) as other,
    ):
        watch = TopicTypeWatch(node, {SPRAY_PROGRAM: TOPICS[SPRAY_PROGRAM][0]}, domain_id=domain_id)
        try:
            good = other.create_publisher(
                other.message_type(TOPICS[SPRAY_PROGRAM][0]), SPRAY_PROGRAM, QOS_LATCHED
            )
            String = other.message_type("std_msgs/msg/String")
            bad = other.create_publisher(String, "/cell_w/spray_program_", QOS_LATCHED)
            assert good and bad
            assert _poll(watch, 1.0) == []  # right type, and an unrelated topic
            JointState = other.message_type("sensor_msgs/msg/JointState")
            from robot_nodes.bus.dds import DdsBus

            assert isinstance(other, DdsBus)
            other2 = create_cell_bus("dds", "misconfigured2", "/cell_w", **opts)
            try:
                other2.create_publisher(JointState, SPRAY_PROGRAM, QOS_LATCHED)
                found = _poll(watch, 5.0)
            finally:
                other2.shutdown()
            assert found == [
                (
                    "/cell_w/spray_program",
                    "sensor_msgs::msg::dds_::JointState_",
                    "coatshare_interfaces::msg::dds_::SprayProgram_",
                )
            ]
        finally:
            watch.close()


def _poll(watch: TopicTypeWatch, seconds: float) -> list:
    deadline = time.monotonic() + seconds
    found: list = []
    while time.monotonic() < deadline:
        found += watch.poll()
        if found:
            return found
        time.sleep(0.05)
    return found

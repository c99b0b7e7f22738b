"""The cell controller's ROS 2 interface: topics, message types, conversions, type watch.

Topics of a cell (namespace ``/cell_<id>``), besides the contract in ``docs/robot_nodes.md``:

| topic (in) | type | QoS |
|---|---|---|
| ``spray_program`` | coatshare_interfaces/SprayProgram | ``QOS_LATCHED`` |
| ``joint_states`` | sensor_msgs/JointState | ``QOS_SENSOR_DATA`` |
| ``interlocks`` | coatshare_interfaces/Interlocks | ``QOS_LATCHED`` |
| ``cell_command`` | coatshare_interfaces/CellCommand | ``QOS_DEFAULT`` |

| topic (out) | type | QoS |
|---|---|---|
| ``joint_trajectory_controller/joint_trajectory`` | trajectory_msgs/JointTrajectory | default |
| ``gun/trigger`` | std_msgs/Bool | ``QOS_LATCHED`` |
| ``gun/trigger_timed`` | coatshare_interfaces/TimedTrigger | default |
| ``program_status`` | coatshare_interfaces/ProgramStatus | ``QOS_STATUS`` |
| ``cell_state`` | coatshare_interfaces/CellState | ``QOS_LATCHED`` |
| ``part_result`` | coatshare_interfaces/PartResult | ``QOS_STATUS`` |
| ``clock_grant`` | rosgraph_msgs/Clock | :data:`QOS_GRANT` (with ``use_sim_time`` only) |

Deprecated topics (:data:`LEGACY_TOPICS`), served while ``legacy_topics`` is set in the
cell configuration, for senders that have not moved to the messages above:
``interlocks/<signal>`` (std_msgs/Bool, in), ``command`` (std_msgs/String ``"<verb>
[program_id]"``, in) and ``controller_state`` (std_msgs/String, out).

``std_msgs/Bool`` and ``std_msgs/String`` are standard ROS 2 messages; the ``dds`` backend
learns them from :func:`cell_registry` (``create_cell_bus`` passes it), the ``rclpy``
backend has them installed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from robot_nodes.bus import (
    QOS_DEFAULT,
    QOS_LATCHED,
    QOS_SENSOR_DATA,
    QOS_STATUS,
    Bus,
    Durability,
    QosProfile,
    Reliability,
    create_bus,
)
from robot_nodes.controller.commands import Command, code_of
from robot_nodes.controller.config import INTERLOCK_SIGNALS
from robot_nodes.controller.interlocks import SAFE_VALUE
from robot_nodes.controller.legs import Leg
from robot_nodes.controller.reports import (
    CELL_STATE_CODES,
    CellReport,
    PartReport,
    StatusReport,
)
from robot_nodes.controller.state_machine import CellMode
from robot_nodes.convert import header_msg, time_msg

log = logging.getLogger(__name__)

SPRAY_PROGRAM = "spray_program"
JOINT_STATES = "joint_states"
INTERLOCKS = "interlocks"
CELL_COMMAND = "cell_command"
TRAJECTORY = "joint_trajectory_controller/joint_trajectory"
GUN_TRIGGER = "gun/trigger"
GUN_TRIGGER_TIMED = "gun/trigger_timed"
"""The same switches as :data:`GUN_TRIGGER`, each stamped with the time it takes effect."""
CLOCK_GRANT = "clock_grant"
"""With ``use_sim_time``: how far a simulator may step (``rosgraph_msgs/Clock``)."""
PROGRAM_STATUS = "program_status"
CELL_STATE = "cell_state"
PART_RESULT = "part_result"
COMMAND = "command"
"""Deprecated: ``std_msgs/String`` commands; use :data:`CELL_COMMAND`."""
CONTROLLER_STATE = "controller_state"
"""Deprecated: ``std_msgs/String`` controller state; ``CellState.state`` carries it."""


def interlock_topic(signal: str) -> str:
    """Deprecated per-signal ``std_msgs/Bool`` topic; use :data:`INTERLOCKS`."""
    return f"interlocks/{signal}"


LEGACY_TOPICS: tuple[str, ...] = (
    COMMAND,
    CONTROLLER_STATE,
    *(interlock_topic(s) for s in INTERLOCK_SIGNALS),
)
"""The std_msgs stopgaps of the first controller, served while ``legacy_topics`` is set."""

QOS_GRANT = QosProfile(Reliability.RELIABLE, Durability.VOLATILE, 1)
"""``clock_grant``: only the latest value counts, and it must arrive."""

TOPICS: dict[str, tuple[str, QosProfile]] = {
    SPRAY_PROGRAM: ("coatshare_interfaces/msg/SprayProgram", QOS_LATCHED),
    JOINT_STATES: ("sensor_msgs/msg/JointState", QOS_SENSOR_DATA),
    INTERLOCKS: ("coatshare_interfaces/msg/Interlocks", QOS_LATCHED),
    CELL_COMMAND: ("coatshare_interfaces/msg/CellCommand", QOS_DEFAULT),
    TRAJECTORY: ("trajectory_msgs/msg/JointTrajectory", QOS_DEFAULT),
    GUN_TRIGGER: ("std_msgs/msg/Bool", QOS_LATCHED),
    GUN_TRIGGER_TIMED: ("coatshare_interfaces/msg/TimedTrigger", QOS_DEFAULT),
    CLOCK_GRANT: ("rosgraph_msgs/msg/Clock", QOS_GRANT),
    PROGRAM_STATUS: ("coatshare_interfaces/msg/ProgramStatus", QOS_STATUS),
    CELL_STATE: ("coatshare_interfaces/msg/CellState", QOS_LATCHED),
    PART_RESULT: ("coatshare_interfaces/msg/PartResult", QOS_STATUS),
    COMMAND: ("std_msgs/msg/String", QOS_DEFAULT),
    CONTROLLER_STATE: ("std_msgs/msg/String", QOS_LATCHED),
    **{interlock_topic(s): ("std_msgs/msg/Bool", QOS_LATCHED) for s in INTERLOCK_SIGNALS},
}
"""Relative topic name -> (message type, QoS) of every cell topic, deprecated ones too."""

EXTRA_STD_MSGS: dict[str, str] = {
    "std_msgs/msg/Bool": "bool data\n",
    "std_msgs/msg/String": "string data\n",
}
"""Standard messages the cell uses beyond :mod:`robot_nodes.bus.ros_std_msgs`."""


@lru_cache(maxsize=1)
def cell_registry() -> Any:
    """The ``dds`` message registry: the default one plus :data:`EXTRA_STD_MSGS`."""
    from robot_nodes.bus.dds_types import MessageRegistry, default_registry
    from robot_nodes.bus.msgdef import parse_msg

    base = default_registry()
    specs = [base.spec(name) for name in base.names]
    specs += [parse_msg(text, name) for name, text in EXTRA_STD_MSGS.items()]
    return MessageRegistry(specs)


def create_cell_bus(
    backend: str, node_name: str, namespace: str, *, domain_id: int | None = None, **options: Any
) -> Bus:
    """:func:`robot_nodes.bus.create_bus` with the cell's extra messages on ``dds``."""
    if backend == "dds":
        options.setdefault("registry", cell_registry())
    return create_bus(backend, node_name, namespace, domain_id=domain_id, **options)  # type: ignore[arg-type]


# -- messages ------------------------------------------------------------------------------
MessageTypeFn = Callable[[str], type]
_MODE_OF_CODE = {code: mode for mode, code in CELL_STATE_CODES.items()}


def trajectory_msg(
    message_type: MessageTypeFn, leg: Leg, joint_names: Sequence[str], stamp_ns: int
) -> Any:
    """``JointTrajectory`` of a leg, stamped with its start time (the node's clock)."""
    Point = message_type("trajectory_msgs/msg/JointTrajectoryPoint")
    Duration = "builtin_interfaces/msg/Duration"
    q, qd, qdd = leg.q_rad.tolist(), leg.qd_rad_s.tolist(), leg.qdd_rad_s2.tolist()
    points = [
        Point(
            positions=q[k],
            velocities=qd[k],
            accelerations=qdd[k],
            effort=[],
            time_from_start=time_msg(message_type, round(float(t) * 1e9), Duration),
        )
        for k, t in enumerate(leg.t_s)
    ]
    return message_type("trajectory_msgs/msg/JointTrajectory")(
        header=header_msg(message_type, stamp_ns, ""),
        joint_names=list(joint_names),
        points=points,
    )


def timed_trigger_msg(message_type: MessageTypeFn, on: bool, stamp_ns: int) -> Any:
    """``TimedTrigger``: the gun output switches to ``on`` at ``stamp_ns`` (0: at once)."""
    return message_type("coatshare_interfaces/msg/TimedTrigger")(
        header=header_msg(message_type, stamp_ns), on=bool(on)
    )


def clock_msg(message_type: MessageTypeFn, stamp_ns: int) -> Any:
    """``rosgraph_msgs/Clock`` at ``stamp_ns``."""
    return message_type("rosgraph_msgs/msg/Clock")(clock=time_msg(message_type, stamp_ns))


def status_msg(message_type: MessageTypeFn, report: StatusReport, stamp_ns: int) -> Any:
    return message_type("coatshare_interfaces/msg/ProgramStatus")(
        header=header_msg(message_type, stamp_ns),
        program_id=report.program_id,
        state=int(report.state),
        progress=float(report.progress),
        waypoint_index=int(report.waypoint_index),
        fault_code=str(report.fault_code),
        fault_text=report.fault_text,
        tracking_error_mm=float(report.tracking_error_mm),
    )


def cell_state_msg(message_type: MessageTypeFn, report: CellReport, stamp_ns: int) -> Any:
    return message_type("coatshare_interfaces/msg/CellState")(
        header=header_msg(message_type, stamp_ns),
        cell_id=report.cell_id,
        mode=int(report.mode),
        state=CELL_STATE_CODES[report.controller_state],
        fault_code=str(report.fault_code),
        estop=report.estop,
        door_closed=report.door_closed,
        paint_pressure_ok=report.paint_pressure_ok,
        booth_airflow_ok=report.booth_airflow_ok,
        spray_enabled=report.spray_enabled,
        gun_on=report.gun_on,
        active_program_id=report.active_program_id,
    )


def cell_mode_of(msg: Any) -> CellMode:
    """The controller state a ``CellState`` message reports."""
    return _MODE_OF_CODE[int(msg.state)]


def interlocks_msg(message_type: MessageTypeFn, values: Mapping[str, bool], stamp_ns: int) -> Any:
    """``Interlocks`` with ``values`` by signal name (missing signals: unsafe)."""
    unsafe = {s: not SAFE_VALUE[s] for s in INTERLOCK_SIGNALS}
    fields = {s: bool(values.get(s, unsafe[s])) for s in INTERLOCK_SIGNALS}
    return message_type("coatshare_interfaces/msg/Interlocks")(
        header=header_msg(message_type, stamp_ns), **fields
    )


def interlock_values(msg: Any) -> dict[str, bool]:
    """Signal name -> value of an ``Interlocks`` message."""
    return {s: bool(getattr(msg, s)) for s in INTERLOCK_SIGNALS}


def cell_command_msg(
    message_type: MessageTypeFn, command: Command, program_id: str = "", stamp_ns: int = 0
) -> Any:
    """``CellCommand`` for ``command``, meant for ``program_id`` (empty: the active one)."""
    return message_type("coatshare_interfaces/msg/CellCommand")(
        header=header_msg(message_type, stamp_ns),
        command=code_of(command),
        program_id=program_id,
    )


def part_result_msg(message_type: MessageTypeFn, report: PartReport, stamp_ns: int) -> Any:
    return message_type("coatshare_interfaces/msg/PartResult")(
        header=header_msg(message_type, stamp_ns),
        program_id=report.program_id,
        part_id=report.part_id,
        recipe_id=report.recipe_id,
        recipe_version=int(report.recipe_version),
        completed=report.completed,
        fault_code=str(report.fault_code),
        started=time_msg(message_type, report.started_wall_ns),
        finished=time_msg(message_type, report.finished_wall_ns),
        path_length_mm=float(report.path_length_mm),
        spray_length_mm=float(report.spray_length_mm),
        spray_time_s=float(report.spray_time_s),
        max_tracking_error_mm=float(report.max_tracking_error_mm),
    )


# -- wrong message types -------------------------------------------------------------------
class TopicTypeWatch:
    """Finds publishers that send another message type on the topics a node subscribes to.

    Such messages never reach the node (DDS matches writers and readers by type), so
    without this a misconfigured sender would be silently ignored. On ``dds`` the watch
    reads the DCPSPublication built-in topic of the domain; on ``rclpy`` it asks the graph.

    Parameters
    ----------
    bus : Bus
    topics : mapping of str to str
        Relative topic -> ROS type name (``"pkg/msg/Name"``) expected there.
    domain_id : int, optional
        The bus's DDS domain (``ROS_DOMAIN_ID``, else 0, when None).
    """

    def __init__(self, bus: Bus, topics: dict[str, str], *, domain_id: int | None = None) -> None:
        self.bus = bus
        self.expected = {bus.resolve_topic(t): name for t, name in topics.items()}
        self._reader: Any = None
        self._participant: Any = None
        if bus.backend == "dds":
            from cyclonedds.builtin import BuiltinDataReader, BuiltinTopicDcpsPublication
            from cyclonedds.domain import DomainParticipant

            if domain_id is None and os.environ.get("ROS_DOMAIN_ID", "").strip():
                domain_id = int(os.environ["ROS_DOMAIN_ID"])
            self._participant = (
                DomainParticipant(domain_id) if domain_id is not None else DomainParticipant()
            )
            self._reader = BuiltinDataReader(self._participant, BuiltinTopicDcpsPublication)

    @staticmethod
    def _dds_name(ros_type: str) -> str:
        package, _, short = ros_type.split("/")
        return f"{package}::msg::dds_::{short}_"

    def poll(self) -> list[tuple[str, str, str]]:
        """New mismatches as (topic, type found, type expected)."""
        found: list[tuple[str, str, str]] = []
        if self._reader is not None:
            by_dds = {f"rt{topic}": (topic, name) for topic, name in self.expected.items()}
            for sample in self._reader.take(64):
                hit = by_dds.get(getattr(sample, "topic_name", ""))
                if hit is None:
                    continue
                topic, name = hit
                if sample.type_name != self._dds_name(name):
                    found.append((topic, str(sample.type_name), self._dds_name(name)))
            return found
        node = getattr(self.bus, "_node", None)
        if node is None:
            return found
        for topic, name in self.expected.items():
            for info in node.get_publishers_info_by_topic(topic):
                if info.topic_type != name:
                    found.append((topic, str(info.topic_type), name))
        return found

    def close(self) -> None:
        if self._participant is not None:
            self._reader = None
            self._participant.__del__()
            self._participant = None


__all__ = [
    "CELL_COMMAND",
    "CELL_STATE",
    "CLOCK_GRANT",
    "COMMAND",
    "CONTROLLER_STATE",
    "EXTRA_STD_MSGS",
    "GUN_TRIGGER",
    "GUN_TRIGGER_TIMED",
    "INTERLOCKS",
    "JOINT_STATES",
    "LEGACY_TOPICS",
    "PART_RESULT",
    "PROGRAM_STATUS",
    "QOS_GRANT",
    "SPRAY_PROGRAM",
    "TOPICS",
    "TRAJECTORY",
    "TopicTypeWatch",
    "cell_command_msg",
    "cell_mode_of",
    "cell_registry",
    "cell_state_msg",
    "clock_msg",
    "create_cell_bus",
    "interlock_topic",
    "interlock_values",
    "interlocks_msg",
    "part_result_msg",
    "status_msg",
    "timed_trigger_msg",
    "trajectory_msg",
]

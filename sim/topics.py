"""The cell topics the simulator and ``coatshare sim run`` use: name (relative to
``/cell_<id>``), message type and QoS, as ``docs/robot_nodes.md`` specifies them.

The interlocks and the operator commands exist in two forms: the ``std_msgs`` topics of the
cell controller as first built (``interlocks/<signal>`` Bool, ``command`` and
``controller_state`` String) and the interface package's ``Interlocks`` on ``interlocks``
and ``CellCommand`` on ``cell_command`` (with the controller state in ``CellState``). The
simulator publishes the interlocks both ways whenever the package has ``Interlocks``; the
edge of :mod:`sim.run` sends a command the way the controller listens (:func:`has_type` and
the topics' subscriber counts tell).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from robot_nodes.bus import QOS_DEFAULT, QOS_LATCHED, QOS_SENSOR_DATA, QOS_STATUS, QosProfile


class Topic(NamedTuple):
    name: str
    type: str
    qos: QosProfile


JOINT_STATES = Topic("joint_states", "sensor_msgs/msg/JointState", QOS_DEFAULT)
TRAJECTORY = Topic(
    "joint_trajectory_controller/joint_trajectory",
    "trajectory_msgs/msg/JointTrajectory",
    QOS_DEFAULT,
)
GUN_TRIGGER = Topic("gun/trigger", "std_msgs/msg/Bool", QOS_LATCHED)
IMAGE = Topic("camera/image_raw", "sensor_msgs/msg/Image", QOS_SENSOR_DATA)
SPRAY_PROGRAM = Topic("spray_program", "coatshare_interfaces/msg/SprayProgram", QOS_LATCHED)
PROGRAM_STATUS = Topic("program_status", "coatshare_interfaces/msg/ProgramStatus", QOS_STATUS)
CELL_STATE = Topic("cell_state", "coatshare_interfaces/msg/CellState", QOS_LATCHED)
PART_RESULT = Topic("part_result", "coatshare_interfaces/msg/PartResult", QOS_STATUS)
CONTROLLER_STATE = Topic("controller_state", "std_msgs/msg/String", QOS_LATCHED)
COMMAND = Topic("command", "std_msgs/msg/String", QOS_DEFAULT)
CELL_COMMAND = Topic("cell_command", "coatshare_interfaces/msg/CellCommand", QOS_DEFAULT)
INTERLOCKS = Topic("interlocks", "coatshare_interfaces/msg/Interlocks", QOS_LATCHED)
INTERLOCK_SIGNALS = ("estop", "door_closed", "paint_pressure_ok", "booth_airflow_ok")

# the simulator's own
GROUND_TRUTH = Topic("camera/ground_truth", "std_msgs/msg/String", QOS_STATUS)
STATION_PART = Topic("station/part", "std_msgs/msg/String", QOS_STATUS)
STATION_RELEASE = Topic("station/release", "std_msgs/msg/String", QOS_DEFAULT)
SIM_PART_RESULT = Topic("sim/part_result", "std_msgs/msg/String", QOS_STATUS)
CLOCK_TOPIC = "/clock"
FAULT_TOPIC = "/sim/fault"
CONTROL_TOPIC = "/sim/control"
STATUS_TOPIC = "/sim/status"

#: ``CellState.state`` codes (``STATE_*``) by controller state name
CELL_STATE_NAMES = {0: "IDLE", 1: "LOADED", 2: "RUNNING", 3: "PAUSED", 4: "FAULT", 5: "ESTOP"}
#: ``CellCommand.command`` codes
CELL_COMMAND_CODES = {"start": 1, "pause": 2, "resume": 3, "abort": 4, "reset": 5}


def cell_topic(cell_id: str, name: str) -> str:
    """Absolute name of a cell topic: ``/cell_<id>/<name>``."""
    return f"/cell_{cell_id}/{name}"


def interlock_topic(signal: str) -> str:
    return f"interlocks/{signal}"


def has_type(bus: Any, name: str) -> bool:
    """Whether the bus knows message type ``name`` (the interface package has it)."""
    try:
        bus.message_type(name)
    except Exception:  # noqa: BLE001 - unknown types raise backend-specific errors
        return False
    return True

"""The cell controller's logic, free of any bus: validation, planning, supervision.

Modules (one idea each):

``config``
    Cell configuration (station pose, workspace, limits, timeouts) from YAML.
``state_machine``
    IDLE, LOADED, RUNNING, PAUSED, FAULT, ESTOP and the legal transitions.
``commands``
    The operator commands (start, pause, resume, abort, reset) and how they arrive.
``intake`` / ``dispatch`` / ``validation`` / ``recipe_store``
    Acceptance of a SprayProgram: a new dispatch, message, signature, recipe, placement,
    workspace, then planning in the worker thread.
``legs`` / ``planning``
    Joint trajectories: approach, program, controlled stop, resume with back-up.
``execution`` / ``monitor`` / ``tcp`` / ``trigger`` / ``gun``
    The running leg and how it is stopped; execution monitoring from joint states (with
    the TCP position of one joint vector); gun switching with latency compensation; the
    trigger output and stall watch.
``interlocks``
    E-stop, door, paint pressure and airflow signals.
``reports`` / ``run_record``
    What the controller reports, and the book-keeping of one run.
``cell``
    :class:`CellController`, which ties them together behind a :class:`CellOutputs` port.

:mod:`robot_nodes.node` wires it to the ROS 2 bus.
"""

from robot_nodes.controller.cell import CellController
from robot_nodes.controller.commands import COMMAND_CODES, Command, command_from_code
from robot_nodes.controller.config import (
    DEFAULT_CONFIG,
    INTERLOCK_SIGNALS,
    CellConfig,
    load_cell_config,
)
from robot_nodes.controller.faults import FaultCode, ProgramRejected
from robot_nodes.controller.intake import ProgramIntake, run_now
from robot_nodes.controller.interlocks import Interlocks
from robot_nodes.controller.legs import Leg, joint_move, retime_samples, stop_leg
from robot_nodes.controller.monitor import ExecutionMonitor, Progress
from robot_nodes.controller.planning import ExecutionPlan, compile_plan, resume_leg
from robot_nodes.controller.recipe_store import (
    RecipeStore,
    program_message_from_recipe,
    recipe_tool_poses,
)
from robot_nodes.controller.reports import (
    CELL_STATE_CODES,
    CellOutputs,
    CellReport,
    DriverMode,
    PartReport,
    ProgramState,
    StatusReport,
    TimedGunOutput,
)
from robot_nodes.controller.state_machine import (
    TRANSITIONS,
    CellEvent,
    CellMode,
    CellStateMachine,
    IllegalTransition,
)
from robot_nodes.controller.trigger import TriggerScheduler
from robot_nodes.controller.validation import AcceptedProgram, validate_program

__all__ = [
    "CELL_STATE_CODES",
    "COMMAND_CODES",
    "DEFAULT_CONFIG",
    "INTERLOCK_SIGNALS",
    "TRANSITIONS",
    "AcceptedProgram",
    "CellConfig",
    "CellController",
    "CellEvent",
    "CellMode",
    "CellOutputs",
    "CellReport",
    "CellStateMachine",
    "Command",
    "DriverMode",
    "ExecutionMonitor",
    "ExecutionPlan",
    "FaultCode",
    "IllegalTransition",
    "Interlocks",
    "Leg",
    "PartReport",
    "ProgramIntake",
    "ProgramRejected",
    "ProgramState",
    "Progress",
    "RecipeStore",
    "StatusReport",
    "TimedGunOutput",
    "TriggerScheduler",
    "command_from_code",
    "compile_plan",
    "joint_move",
    "load_cell_config",
    "program_message_from_recipe",
    "recipe_tool_poses",
    "resume_leg",
    "retime_samples",
    "run_now",
    "stop_leg",
    "validate_program",
]

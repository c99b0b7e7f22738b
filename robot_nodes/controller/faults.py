"""Fault codes of the cell controller and the refusal of a program.

Codes are stable upper-case strings sent in ``ProgramStatus.fault_code``; the text beside
them (``fault_text``) is for people and may change.
"""

from __future__ import annotations

from enum import StrEnum

from recipes.errors import InvalidInputError


class FaultCode(StrEnum):
    """Why a program was refused or stopped."""

    # the message itself
    PROGRAM_MALFORMED = "PROGRAM_MALFORMED"
    PROGRAM_EMPTY = "PROGRAM_EMPTY"
    POSE_NOT_FINITE = "POSE_NOT_FINITE"
    POSE_INVALID = "POSE_INVALID"
    SPEED_INVALID = "SPEED_INVALID"
    SPEED_LIMIT = "SPEED_LIMIT"
    WRONG_MESSAGE_TYPE = "WRONG_MESSAGE_TYPE"
    PROGRAM_STALE = "PROGRAM_STALE"
    DUPLICATE_PROGRAM = "DUPLICATE_PROGRAM"
    # approval
    NO_APPROVAL_KEY = "NO_APPROVAL_KEY"
    SIGNATURE_MISSING = "SIGNATURE_MISSING"
    SIGNING_KEY_UNKNOWN = "SIGNING_KEY_UNKNOWN"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    RECIPE_UNKNOWN = "RECIPE_UNKNOWN"
    RECIPE_HASH_MISMATCH = "RECIPE_HASH_MISMATCH"
    PROGRAM_MISMATCH = "PROGRAM_MISMATCH"
    # geometry and timing
    FRAME_UNKNOWN = "FRAME_UNKNOWN"
    PLACEMENT_OUT_OF_TOLERANCE = "PLACEMENT_OUT_OF_TOLERANCE"
    OUTSIDE_WORKSPACE = "OUTSIDE_WORKSPACE"
    UNREACHABLE = "UNREACHABLE"
    SPEED_NOT_ACHIEVABLE = "SPEED_NOT_ACHIEVABLE"
    TIMING_FAILED = "TIMING_FAILED"
    # the cell
    CELL_BUSY = "CELL_BUSY"
    CELL_NOT_READY = "CELL_NOT_READY"
    DRIVER_OFFLINE = "DRIVER_OFFLINE"
    # execution
    TRACKING_ERROR = "TRACKING_ERROR"
    TRACKING_LAG = "TRACKING_LAG"
    JOINT_STATES_TIMEOUT = "JOINT_STATES_TIMEOUT"
    JOINT_STATES_INVALID = "JOINT_STATES_INVALID"
    EXECUTION_TIMEOUT = "EXECUTION_TIMEOUT"
    SPRAY_STALLED = "SPRAY_STALLED"
    # interlocks and operator
    ESTOP = "ESTOP"
    DOOR_OPEN = "DOOR_OPEN"
    PAINT_PRESSURE_LOST = "PAINT_PRESSURE_LOST"
    BOOTH_AIRFLOW_LOST = "BOOTH_AIRFLOW_LOST"
    INTERLOCK_STALE = "INTERLOCK_STALE"
    ABORTED_BY_OPERATOR = "ABORTED_BY_OPERATOR"
    COMMAND_REFUSED = "COMMAND_REFUSED"
    CONTROLLER_SHUTDOWN = "CONTROLLER_SHUTDOWN"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class ProgramRejected(InvalidInputError):  # noqa: N818 - a domain error, like its base
    """A program the cell will not run: a stable fault code and a reason for people.

    An :class:`~recipes.errors.InvalidInputError` whose ``field`` is the fault code and
    whose ``reason`` is the text.
    """

    def __init__(self, code: FaultCode, text: str) -> None:
        self.code = FaultCode(code)
        self.text = text
        super().__init__(str(self.code), text)


__all__ = ["FaultCode", "ProgramRejected"]

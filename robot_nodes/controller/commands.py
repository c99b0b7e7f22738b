"""The operator commands a cell takes, and how they arrive.

A command is a :class:`Command` and, optionally, the program it is meant for. It arrives as
a ``coatshare_interfaces/CellCommand`` (a code and a program id) or, on the deprecated
``command`` topic, as the text ``"<verb> [program_id]"`` of a ``std_msgs/String``.
"""

from __future__ import annotations

from enum import StrEnum

from robot_nodes.controller.state_machine import CellEvent


class Command(StrEnum):
    """What an operator (or the edge) may ask a cell to do."""

    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    ABORT = "abort"
    RESET = "reset"

    @property
    def event(self) -> CellEvent:
        """The state machine event the command asks for."""
        return CellEvent(self.value)


COMMAND_CODES: dict[int, Command] = {
    1: Command.START,
    2: Command.PAUSE,
    3: Command.RESUME,
    4: Command.ABORT,
    5: Command.RESET,
}
"""``CellCommand.command`` constants (START=1 ... RESET=5) to commands."""


def command_from_code(code: int) -> Command | None:
    """The command of a ``CellCommand.command`` value, None for an unknown one."""
    return COMMAND_CODES.get(int(code))


def code_of(command: Command) -> int:
    """The ``CellCommand.command`` value of a command."""
    return next(code for code, c in COMMAND_CODES.items() if c is command)


def parse_command_text(text: str) -> tuple[str, str]:
    """``"pause prog-1"`` -> ``("pause", "prog-1")``; the verb lower-cased, the id may be
    empty. The verb is not checked here (see :class:`Command`)."""
    parts = str(text).strip().split()
    verb = parts[0].lower() if parts else ""
    return verb, parts[1] if len(parts) > 1 else ""


__all__ = ["COMMAND_CODES", "Command", "code_of", "command_from_code", "parse_command_text"]

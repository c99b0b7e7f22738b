"""The cell's states and the only transitions allowed between them.

::

    IDLE --load--> LOADED --start--> RUNNING --finish--> IDLE
                   LOADED --abort--> IDLE
                              RUNNING --pause--> PAUSED --resume--> RUNNING
                              RUNNING/PAUSED --abort--> IDLE
    IDLE/LOADED/RUNNING/PAUSED --fault--> FAULT --reset--> IDLE
    every state but ESTOP --estop--> ESTOP --reset--> IDLE (once the e-stop is released)

Anything else raises :class:`IllegalTransition`; the machine never changes state by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from recipes.errors import InvalidInputError


class CellMode(StrEnum):
    """State of the cell controller (published on ``controller_state``)."""

    IDLE = "IDLE"
    LOADED = "LOADED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    FAULT = "FAULT"
    ESTOP = "ESTOP"


class CellEvent(StrEnum):
    LOAD = "load"
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    FINISH = "finish"
    ABORT = "abort"
    FAULT = "fault"
    ESTOP = "estop"
    RESET = "reset"


_I, _L, _R, _P, _F, _E = (
    CellMode.IDLE,
    CellMode.LOADED,
    CellMode.RUNNING,
    CellMode.PAUSED,
    CellMode.FAULT,
    CellMode.ESTOP,
)
TRANSITIONS: dict[tuple[CellMode, CellEvent], CellMode] = {
    (_I, CellEvent.LOAD): _L,
    (_L, CellEvent.START): _R,
    (_L, CellEvent.ABORT): _I,
    (_R, CellEvent.PAUSE): _P,
    (_P, CellEvent.RESUME): _R,
    (_R, CellEvent.FINISH): _I,
    (_R, CellEvent.ABORT): _I,
    (_P, CellEvent.ABORT): _I,
    **{(s, CellEvent.FAULT): _F for s in (_I, _L, _R, _P)},
    (_F, CellEvent.RESET): _I,
    **{(s, CellEvent.ESTOP): _E for s in (_I, _L, _R, _P, _F)},
    (_E, CellEvent.RESET): _I,
}
"""(state, event) -> next state: the complete list of legal transitions."""


class IllegalTransition(InvalidInputError):  # noqa: N818 - an InvalidInputError
    """An event the current state does not accept."""


@dataclass(frozen=True)
class Transition:
    before: CellMode
    event: CellEvent
    after: CellMode


class CellStateMachine:
    """Holds the state and applies events; listeners hear every transition.

    Parameters
    ----------
    on_transition : callable, optional
        Called with each :class:`Transition`, after the state changed.
    """

    def __init__(self, on_transition: Callable[[Transition], None] | None = None) -> None:
        self._state = CellMode.IDLE
        self._listeners: list[Callable[[Transition], None]] = []
        if on_transition is not None:
            self._listeners.append(on_transition)

    @property
    def state(self) -> CellMode:
        return self._state

    def can(self, event: CellEvent) -> bool:
        """Whether ``event`` is legal now."""
        return (self._state, event) in TRANSITIONS

    def allowed_events(self) -> list[CellEvent]:
        return [e for (s, e) in TRANSITIONS if s is self._state]

    def apply(self, event: CellEvent) -> Transition:
        """Take the transition for ``event``.

        Raises
        ------
        IllegalTransition
            Naming the state, the event and what the state accepts.
        """
        after = TRANSITIONS.get((self._state, event))
        if after is None:
            allowed = ", ".join(e.value for e in self.allowed_events()) or "nothing"
            raise IllegalTransition(
                "command",
                f"'{event.value}' is not allowed in {self._state.value} (allowed: {allowed})",
            )
        transition = Transition(self._state, event, after)
        self._state = after
        for listener in self._listeners:
            listener(transition)
        return transition

    def add_listener(self, listener: Callable[[Transition], None]) -> None:
        self._listeners.append(listener)


__all__ = [
    "TRANSITIONS",
    "CellEvent",
    "CellMode",
    "CellStateMachine",
    "IllegalTransition",
    "Transition",
]

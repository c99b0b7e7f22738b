"""The cell state machine: exactly the legal transitions, each one heard."""

from __future__ import annotations

import itertools

import pytest

from robot_nodes.controller import (
    TRANSITIONS,
    CellEvent,
    CellMode,
    CellStateMachine,
    IllegalTransition,
)

LEGAL = {
    ("IDLE", "load"): "LOADED",
    ("LOADED", "start"): "RUNNING",
    ("LOADED", "abort"): "IDLE",
    ("RUNNING", "pause"): "PAUSED",
    ("PAUSED", "resume"): "RUNNING",
    ("RUNNING", "finish"): "IDLE",
    ("RUNNING", "abort"): "IDLE",
    ("PAUSED", "abort"): "IDLE",
    ("IDLE", "fault"): "FAULT",
    ("LOADED", "fault"): "FAULT",
    ("RUNNING", "fault"): "FAULT",
    ("PAUSED", "fault"): "FAULT",
    ("FAULT", "reset"): "IDLE",
    ("IDLE", "estop"): "ESTOP",
    ("LOADED", "estop"): "ESTOP",
    ("RUNNING", "estop"): "ESTOP",
    ("PAUSED", "estop"): "ESTOP",
    ("FAULT", "estop"): "ESTOP",
    ("ESTOP", "reset"): "IDLE",
}

PATH_TO = {
    CellMode.IDLE: [],
    CellMode.LOADED: [CellEvent.LOAD],
    CellMode.RUNNING: [CellEvent.LOAD, CellEvent.START],
    CellMode.PAUSED: [CellEvent.LOAD, CellEvent.START, CellEvent.PAUSE],
    CellMode.FAULT: [CellEvent.FAULT],
    CellMode.ESTOP: [CellEvent.ESTOP],
}


def test_table_is_exactly_the_documented_one() -> None:
    assert {(s.value, e.value): a.value for (s, e), a in TRANSITIONS.items()} == LEGAL


@pytest.mark.parametrize(
    ("state", "event"), list(itertools.product(list(CellMode), list(CellEvent)))
)
def test_every_state_event_pair(state: CellMode, event: CellEvent) -> None:
    heard = []
    sm = CellStateMachine()
    for e in PATH_TO[state]:
        sm.apply(e)
    assert sm.state is state
    sm.add_listener(heard.append)
    expected = LEGAL.get((state.value, event.value))
    assert sm.can(event) == (expected is not None)
    if expected is None:
        with pytest.raises(IllegalTransition, match=f"'{event.value}' is not allowed in {state}"):
            sm.apply(event)
        assert sm.state is state and heard == []
    else:
        transition = sm.apply(event)
        assert sm.state.value == expected
        assert heard == [transition]
        assert (transition.before, transition.event, transition.after.value) == (
            state,
            event,
            expected,
        )


def test_refusal_lists_what_is_allowed() -> None:
    sm = CellStateMachine()
    with pytest.raises(IllegalTransition) as err:
        sm.apply(CellEvent.PAUSE)
    assert "allowed: load, fault, estop" in err.value.reason

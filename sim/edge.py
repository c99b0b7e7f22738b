"""The edge's part of a production run, on the cells' topics.

:class:`SimEdge` does for the simulated cells what the edge gateway does for real ones, no
more: when a part arrives at a station (``station/part``) it sends the recipe's
``SprayProgram`` placed at the part's pose (the ground truth, as a perfect vision system
would locate it, or the nominal pose); it resets a controller in FAULT or ESTOP (every
0.5 s, refused while an e-stop is engaged); it releases a part whose program was rejected
(``station/release``); it collects the simulator's per-part results. Commands go on
``cell_command`` when the controller listens there, else on ``command``; the controller
state comes from ``controller_state`` or ``CellState.state``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recipes.document import RecipeDoc
from robot_nodes.bus import QOS_DEFAULT, QOS_LATCHED
from sim.cell_setup import nominal_T_world_part, program_message
from sim.frames import invert
from sim.topics import (
    CELL_COMMAND,
    CELL_COMMAND_CODES,
    CELL_STATE,
    CELL_STATE_NAMES,
    COMMAND,
    CONTROL_TOPIC,
    CONTROLLER_STATE,
    FAULT_TOPIC,
    GUN_TRIGGER,
    PROGRAM_STATUS,
    SIM_PART_RESULT,
    SPRAY_PROGRAM,
    STATION_PART,
    STATION_RELEASE,
    STATUS_TOPIC,
    Topic,
    cell_topic,
    has_type,
)

log = logging.getLogger(__name__)

_REJECTED, _DONE, _ABORTED = 2, 4, 5
_MODE_AUTO = 2
_RESET_PERIOD_S = 0.5
_RESULT_GRACE_S = 15.0


@dataclass
class EdgeCell:
    """What the edge knows about one cell."""

    id: str
    T_world_base: np.ndarray
    controller_state: str = ""
    mode: int = 0
    waiting: dict | None = None  # the station/part message of the part waiting for a program
    program_id: str = ""  # the program in flight
    program_part: str = ""
    program_ended_wall: float | None = None
    last_reset_wall: float = 0.0
    gun: list[tuple[float, bool, str]] = field(default_factory=list)  # (wall, on, program)
    statuses: list[Any] = field(default_factory=list)
    state_topic: bool = False  # the controller publishes controller_state (String)


class SimEdge:
    """The edge of a production run on ``bus`` (root namespace).

    Parameters
    ----------
    bus : Bus
    world : sim.world.World
    docs : mapping of part spec to RecipeDoc
        The approved recipes (filled in while the cells start).
    key_id : str
        Approval key id the programs name.
    placement : "truth" or "nominal"
    tag : str
        Prefix of the program ids (unique per run).
    """

    def __init__(
        self,
        bus: Any,
        world,
        docs: Mapping[str, RecipeDoc],
        *,
        key_id: str,
        placement: str = "truth",
        tag: str = "run",
    ) -> None:
        self._bus = bus
        self.world = world
        self.docs = docs
        self.key_id = key_id
        self.placement = placement
        self.tag = tag
        self.cells = {c.id: EdgeCell(c.id, c.T_world_base) for c in world.cells}
        self.results: list[dict] = []
        self.events: list[tuple[float, str, str]] = []  # (wall, cell, text)
        self.sim_status: dict = {}
        self.on_result: Callable[[dict], None] | None = None
        self.dispatching = False
        self._pub: dict[str, Any] = {}
        self._wire()

    def _wire(self) -> None:
        bus, mt = self._bus, self._bus.message_type
        String = mt("std_msgs/msg/String")
        commands = has_type(bus, CELL_COMMAND.type)
        for cid, cell in self.cells.items():

            def sub(topic: Topic, cb: Callable[[Any], None], cid: str = cid) -> None:
                bus.create_subscription(
                    mt(topic.type), cell_topic(cid, topic.name), self._guard(cb), topic.qos
                )

            def pub(topic: Topic, cid: str = cid) -> Any:
                return bus.create_publisher(mt(topic.type), cell_topic(cid, topic.name), topic.qos)

            sub(STATION_PART, lambda m, c=cell: self._on_station(c, m))
            sub(SIM_PART_RESULT, lambda m, c=cell: self._on_result(c, m))
            sub(PROGRAM_STATUS, lambda m, c=cell: self._on_status(c, m))
            sub(CONTROLLER_STATE, lambda m, c=cell: self._on_controller_state(c, m))
            sub(CELL_STATE, lambda m, c=cell: self._on_cell_state(c, m))
            sub(
                GUN_TRIGGER,
                lambda m, c=cell: c.gun.append((time.monotonic(), bool(m.data), c.program_id)),
            )
            self._pub[f"{cid}/program"] = pub(SPRAY_PROGRAM)
            self._pub[f"{cid}/command"] = pub(COMMAND)
            if commands:
                self._pub[f"{cid}/cell_command"] = pub(CELL_COMMAND)
            self._pub[f"{cid}/release"] = pub(STATION_RELEASE)
        self._pub["fault"] = bus.create_publisher(String, FAULT_TOPIC, QOS_DEFAULT)
        self._pub["control"] = bus.create_publisher(String, CONTROL_TOPIC, QOS_DEFAULT)
        bus.create_subscription(
            String, STATUS_TOPIC, self._guard(lambda m: self.sim_status.update(json.loads(m.data))),
            QOS_LATCHED,
        )  # fmt: skip

    @staticmethod
    def _on_controller_state(cell: EdgeCell, msg: Any) -> None:
        cell.state_topic = True
        cell.controller_state = str(msg.data)

    @staticmethod
    def _on_cell_state(cell: EdgeCell, msg: Any) -> None:
        """``CellState``: the mode, and the controller state where the message carries it
        (a controller that still publishes ``controller_state`` is believed on that)."""
        cell.mode = int(msg.mode)
        state = getattr(msg, "state", None)
        if not cell.state_topic and state is not None and int(state) in CELL_STATE_NAMES:
            cell.controller_state = CELL_STATE_NAMES[int(state)]

    @staticmethod
    def _guard(fn: Callable[[Any], None]) -> Callable[[Any], None]:
        def guarded(msg: Any) -> None:
            try:
                fn(msg)
            except Exception:  # noqa: BLE001 - a bad message must not stop the run
                log.exception("message handling failed")

        return guarded

    def connected(self) -> bool:
        """The simulator and every controller are up: the simulator reports, and both take
        what this edge sends (controllers on sim time report only once the clock runs)."""
        return (
            bool(self.sim_status)
            and self._pub["control"].subscription_count() > 0
            and all(self._command_pub(cid) is not None for cid in self.cells)
        )

    def ready(self) -> bool:
        """Connected, and every controller reports and sees its robot (mode AUTO)."""
        return self.connected() and all(
            c.controller_state and c.mode == _MODE_AUTO for c in self.cells.values()
        )

    def _command_pub(self, cell_id: str) -> Any:
        """The publisher the cell's controller takes commands on (``cell_command`` or
        ``command``), None until one is matched."""
        for key in (f"{cell_id}/cell_command", f"{cell_id}/command"):
            pub = self._pub.get(key)
            if pub is not None and pub.subscription_count() > 0:
                return pub
        return None

    def why_not_ready(self) -> str:
        parts = [] if self.sim_status else ["no simulator status"]
        for c in self.cells.values():
            if not c.controller_state:
                parts.append(f"cell {c.id}: no controller")
            elif c.mode != _MODE_AUTO:
                parts.append(f"cell {c.id}: controller sees no robot (mode {c.mode})")
        return "; ".join(parts) or "topics not matched"

    # -- the edge ------------------------------------------------------------------------------
    def _on_station(self, cell: EdgeCell, msg: Any) -> None:
        data = json.loads(msg.data)
        if any(r["part_id"] == data["part_id"] for r in self.results):
            return  # redelivered after its result
        cell.waiting = data
        self.events.append((time.monotonic(), cell.id, f"{data['part_id']} at the station"))

    def _on_status(self, cell: EdgeCell, msg: Any) -> None:
        cell.statuses.append(msg)
        if msg.program_id != cell.program_id or not cell.program_id:
            return
        if msg.state == _REJECTED:
            self.events.append(
                (time.monotonic(), cell.id, f"{msg.program_id} rejected: {msg.fault_code}")
            )
            self._release(cell, f"REJECTED {msg.fault_code}: {msg.fault_text}")
        elif msg.state in (_DONE, _ABORTED) and cell.program_ended_wall is None:
            cell.program_ended_wall = time.monotonic()

    def _on_result(self, cell: EdgeCell, msg: Any) -> None:
        result = json.loads(msg.data)
        if any(r["part_id"] == result["part_id"] for r in self.results):
            return
        self.results.append(result)
        if cell.program_part == result["part_id"]:
            cell.program_id, cell.program_part, cell.program_ended_wall = "", "", None
        if cell.waiting is not None and cell.waiting["part_id"] == result["part_id"]:
            cell.waiting = None
        if self.on_result is not None:
            self.on_result(result)

    def _release(self, cell: EdgeCell, reason: str) -> None:
        doc = self._doc_for(cell.waiting) if cell.waiting else None
        data = dict(part_id=cell.program_part, program_id=cell.program_id, reason=reason)
        if doc is not None:
            data.update(recipe_id=doc.id, recipe_version=doc.version)
        self._publish_string(f"{cell.id}/release", json.dumps(data))
        cell.program_ended_wall = time.monotonic()

    def _doc_for(self, station: dict | None) -> RecipeDoc | None:
        return None if station is None else self.docs.get(station["expected_spec"])

    def _service(self) -> None:
        """Dispatch to cells with a waiting part, reset faulted controllers, watchdogs."""
        now = time.monotonic()
        for cell in self.cells.values():
            if cell.controller_state in ("FAULT", "ESTOP"):
                if now - cell.last_reset_wall >= _RESET_PERIOD_S:
                    cell.last_reset_wall = now
                    self._command(cell, "reset")
                continue
            if cell.program_id:
                ended = cell.program_ended_wall
                if ended is not None and now - ended > _RESULT_GRACE_S:
                    log.warning(
                        "cell %s: no result for %s, releasing it", cell.id, cell.program_part
                    )
                    self._release(cell, "NO_RESULT")
                    cell.program_ended_wall = now
                continue
            if cell.waiting is not None and cell.controller_state == "IDLE":
                self._dispatch(cell)

    def _dispatch(self, cell: EdgeCell) -> None:
        station = cell.waiting
        assert station is not None
        doc = self._doc_for(station)
        world_cell = self.world.cell(cell.id)
        part_id = station["part_id"]
        if self.placement == "truth":
            T_world_part = np.asarray(station["truth"]["T_world_part"], dtype=float)
        else:
            T_world_part = nominal_T_world_part(world_cell, station["expected_spec"])
        program_id = f"{self.tag}-{part_id}"
        cell.program_id, cell.program_part, cell.program_ended_wall = program_id, part_id, None
        if doc is None:
            self._release(cell, f"NO_RECIPE for {station['expected_spec']}")
            return
        msg = program_message(
            self._bus.message_type,
            doc,
            program_id=program_id,
            part_id=part_id,
            T_base_part=invert(cell.T_world_base) @ T_world_part,
            key_id=self.key_id,
        )
        self._pub[f"{cell.id}/program"].publish(msg)
        self.events.append((time.monotonic(), cell.id, f"{program_id} sent ({doc.id})"))

    def _command(self, cell: EdgeCell, verb: str, program_id: str = "") -> None:
        pub = self._command_pub(cell.id)
        if pub is None:
            return
        if pub is self._pub.get(f"{cell.id}/cell_command"):
            mt = self._bus.message_type
            sec, nanosec = divmod(time.time_ns(), 1_000_000_000)
            Header, Time = mt("std_msgs/msg/Header"), mt("builtin_interfaces/msg/Time")
            pub.publish(
                mt(CELL_COMMAND.type)(
                    header=Header(stamp=Time(sec=sec, nanosec=nanosec), frame_id=""),
                    command=CELL_COMMAND_CODES[verb],
                    program_id=program_id,
                )
            )
        else:
            String = self._bus.message_type("std_msgs/msg/String")
            pub.publish(String(data=f"{verb} {program_id}".strip()))

    def _control(self, text: str) -> None:
        self._publish_string("control", text)

    def _publish_string(self, key: str, text: str) -> None:
        String = self._bus.message_type("std_msgs/msg/String")
        self._pub[key].publish(String(data=text))

    def control(self, text: str) -> None:
        """``pause``, ``unpause`` or ``stop`` on ``/sim/control``."""
        self._control(text)

    def inject_fault(self, command: Mapping | str) -> None:
        """A live fault command on ``/sim/fault`` (see :func:`sim.faults.parse_fault_command`)."""
        text = command if isinstance(command, str) else json.dumps(dict(command))
        self._publish_string("fault", text)

    def service(self) -> None:
        """Dispatch, reset and release as needed (call after every spin)."""
        if self.dispatching:
            self._service()


__all__ = ["EdgeCell", "SimEdge"]

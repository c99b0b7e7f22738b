"""The edge's link to one cell controller over ROS 2 (``robot_nodes`` bus: dds or rclpy).

It sends a signed recipe version as a ``SprayProgram`` on ``/cell_<id>/spray_program``
and follows it on ``program_status`` until it is done, aborted or rejected, then takes the
``part_result`` the controller reports for it. The controller checks everything again
(signature, the program against its own copy of the recipe, reach, speed): the edge's
checks are not trusted by the cell.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from recipes.document import RecipeDoc
from robot_nodes.bus import QOS_LATCHED, QOS_STATUS
from robot_nodes.cell_bus import cell_mode_of, create_cell_bus
from robot_nodes.controller import program_message_from_recipe

#: ``ProgramStatus.state`` values (coatshare_interfaces/msg/ProgramStatus.msg)
REJECTED, DONE, ABORTED = 2, 4, 5
_FINAL = {REJECTED: "rejected", DONE: "done", ABORTED: "aborted"}


@dataclass(frozen=True)
class CellOutcome:
    """How one program ended at the cell."""

    program_id: str
    state: str  # done, aborted, rejected, or timeout
    fault_code: str
    fault_text: str
    progress: float
    spray_length_mm: float | None = None
    spray_time_s: float | None = None
    path_length_mm: float | None = None
    max_tracking_error_mm: float | None = None
    cycle_s: float | None = None

    @property
    def completed(self) -> bool:
        return self.state == "done"

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class CellClient:
    """Programs to the controller of cell ``cell_id`` (namespace ``/cell_<id>``)."""

    def __init__(
        self,
        cell_id: str,
        *,
        backend: str = "dds",
        domain_id: int | None = None,
        config_xml: str | None = None,
        node_name: str = "edge_dispatch",
    ) -> None:
        self.cell_id = cell_id
        #: held by whoever dispatches to the cell (an operator's request, the loop)
        self.lock = threading.Lock()
        kw: dict[str, Any] = {"domain_id": domain_id}
        if config_xml is not None:
            kw["config_xml"] = config_xml
        self.bus = create_cell_bus(backend, node_name, f"/cell_{cell_id}", **kw)
        mt = self.bus.message_type
        # the newest status and the part result of each program in flight (dropped when
        # its run returns), and the controller's last reported state
        self._status: dict[str, Any] = {}
        self._results: dict[str, Any] = {}
        self._state: Any = None
        self.bus.create_subscription(
            mt("coatshare_interfaces/msg/ProgramStatus"), "program_status",
            self._on_status, QOS_STATUS,
        )  # fmt: skip
        self.bus.create_subscription(
            mt("coatshare_interfaces/msg/PartResult"), "part_result",
            self._on_result, QOS_STATUS,
        )  # fmt: skip
        self.bus.create_subscription(
            mt("coatshare_interfaces/msg/CellState"), "cell_state",
            lambda m: setattr(self, "_state", m), QOS_LATCHED,
        )  # fmt: skip
        self._programs = self.bus.create_publisher(
            mt("coatshare_interfaces/msg/SprayProgram"), "spray_program", QOS_LATCHED
        )

    def status(self) -> dict[str, Any]:
        """What the edge knows of the cell: the controller's last reported state (None
        before it reported one) and whether a dispatch holds it now."""
        busy = not self.lock.acquire(blocking=False)
        if not busy:  # take in what the cell said since (a dispatch would have, spinning)
            try:
                self.bus.spin(timeout_s=0.05)
            finally:
                self.lock.release()
        mode = cell_mode_of(self._state).value if self._state is not None else None
        return {"cell": self.cell_id, "state": mode, "busy": busy}

    def wait_ready(self, timeout_s: float = 30.0) -> bool:
        """True once the controller reports its state and listens for programs."""
        return self.bus.spin(
            until=lambda: self._state is not None and self._programs.subscription_count() > 0,
            timeout_s=timeout_s,
        )

    def run(
        self,
        doc: RecipeDoc,
        *,
        program_id: str,
        part_id: str,
        T_frame_part: np.ndarray | None = None,
        frame_id: str = "part",
        timeout_s: float = 120.0,
    ) -> CellOutcome:
        """Run the approved, signed ``doc`` on one part and wait for how it ended."""
        if doc.approval.status != "approved" or not doc.approval.signature:
            raise ValueError(f"recipe {doc.id} v{doc.version} is not approved and signed")
        msg = program_message_from_recipe(
            self.bus.message_type,
            doc,
            program_id=program_id,
            signature=bytes.fromhex(doc.approval.signature),
            signing_key_id=doc.approval.key_id or "",
            part_id=part_id,
            frame_id=frame_id,
            T_frame_part=T_frame_part,
            stamp_ns=time.time_ns(),
        )
        t0 = time.monotonic()
        self._status[program_id] = None
        self._programs.publish(msg)
        try:
            return self._follow(program_id, t0, timeout_s)
        finally:
            self._status.pop(program_id, None)
            self._results.pop(program_id, None)

    def _on_status(self, msg: Any) -> None:
        """Keep the newest status of a program this client runs; a final one stays."""
        pid = str(msg.program_id)
        if pid in self._status and int(getattr(self._status[pid], "state", -1)) not in _FINAL:
            self._status[pid] = msg

    def _on_result(self, msg: Any) -> None:
        if str(msg.program_id) in self._status:  # one of this client's programs
            self._results[str(msg.program_id)] = msg

    def _follow(self, program_id: str, t0: float, timeout_s: float) -> CellOutcome:
        def final() -> Any | None:
            s = self._status.get(program_id)
            return s if s is not None and int(s.state) in _FINAL else None

        if not self.bus.spin(until=lambda: final() is not None, timeout_s=timeout_s):
            last = self._status.get(program_id)
            progress = float(last.progress) if last is not None else 0.0
            return CellOutcome(program_id, "timeout", "TIMEOUT", "no end in time", progress)
        end = final()
        outcome = dict(
            program_id=program_id,
            state=_FINAL[int(end.state)],
            fault_code=str(end.fault_code),
            fault_text=str(end.fault_text),
            progress=float(end.progress),
            cycle_s=time.monotonic() - t0,
        )
        if end.state != REJECTED:  # a program that moved reports its part
            self.bus.spin(until=lambda: program_id in self._results, timeout_s=10.0)
            result = self._results.get(program_id)
            if result is not None:
                outcome.update(
                    spray_length_mm=float(result.spray_length_mm),
                    spray_time_s=float(result.spray_time_s),
                    path_length_mm=float(result.path_length_mm),
                    max_tracking_error_mm=float(result.max_tracking_error_mm),
                )
        return CellOutcome(**outcome)

    def close(self) -> None:
        self.bus.shutdown()


__all__ = ["CellClient", "CellOutcome"]

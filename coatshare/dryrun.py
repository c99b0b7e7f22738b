"""A pipeline's dry run in the simulator: one world cell and its controller, in one process.

:class:`DryRunCell` steps a :class:`sim.cell.SimCell` (belt, camera, robot, gun) and the cell
controller's own logic (:class:`robot_nodes.controller.CellController`: approval and
signature checks, reach, IK and timing, execution monitoring, trigger schedule) in lock-step
on the sim clock, with no bus between them: the controller's legs go to the simulated
joint follower, its trigger to the gun valve, the follower's joints back to the controller
every step, interlocks from the fault schedule every 100 ms of sim time. It is what
``coatshare pipeline run FILE --world WORLD.yaml --parts N`` uses: the pipeline sees each
part as an edge would (a camera frame, a located pose, a fitted program sent to the cell,
the simulator's film), and the run reports reach (programs the cell refused), predicted
and simulated quality, and cycle times.

This module lives in ``coatshare/`` because it joins the simulator and the controller,
which may not import each other (see DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recipes.approval import ApprovalKeyPair, ApprovalVerifier
from recipes.document import RecipeDoc
from recipes.errors import InvalidInputError
from recipes.film import ThicknessMap
from recipes.fit import FittedProgram
from robot_nodes.controller import CellController, RecipeStore, load_cell_config, run_now
from robot_nodes.controller.reports import PartReport, ProgramState, StatusReport
from robot_nodes.kinematics import load_painter6
from sim.blocks import CapturedFrame
from sim.cell import CameraEvent, PartCycle, SimCell, StationEvent
from sim.cell_setup import cell_config, program_message
from sim.faults import FaultInjector
from sim.frames import invert
from sim.node import program_of
from sim.results import PartOutcome, cycle_result
from sim.world import World

#: interlocks reach the controller this often (sim seconds), as from a PLC
INTERLOCK_PERIOD_S = 0.1
#: longest a part may take to arrive, or a program to run (sim seconds)
ARRIVAL_TIMEOUT_S = 120.0
EXECUTION_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Arrival:
    """A part at the station: its cycle (ground truth kept by the simulator) and the
    camera frame taken of it on the way (None when the camera dropped out)."""

    cycle: PartCycle
    frame: CapturedFrame | None

    @property
    def part_id(self) -> str:
        return self.cycle.part_id


@dataclass(frozen=True)
class Execution:
    """What the cell did with a program: completed or not (the fault code says why), the
    cycle time at the station, and the simulator's outcome (film, QC, ground truth)."""

    completed: bool
    fault_code: str
    fault_text: str
    cycle_s: float
    outcome: PartOutcome
    film: ThicknessMap | None


class _Outputs:
    """The controller's output port, wired straight into the simulated cell."""

    def __init__(self, cell: DryRunCell) -> None:
        self.cell = cell
        self.statuses: list[StatusReport] = []
        self.results: list[PartReport] = []

    def start_delay_s(self, n_points: int) -> float:
        return self.cell.step_s  # the follower takes the leg at the next step

    def send_leg(self, leg, start_delay_s: float) -> None:
        now = self.cell.now_s
        self.cell.sim.follower.set_trajectory(
            leg.t_s, leg.q_rad, leg.qd_rad_s, now + start_delay_s, now
        )

    def set_gun(self, on: bool) -> None:
        self.cell.sim.on_trigger(on, self.cell.now_s)

    def publish_status(self, report: StatusReport) -> None:
        self.statuses.append(report)

    def publish_cell(self, report) -> None:
        return None

    def publish_part_result(self, report: PartReport) -> None:
        self.results.append(report)


class DryRunCell:
    """One cell of ``world`` (the first, unless ``cell_id``) fed ``parts`` parts, its
    controller trusting ``key`` and knowing ``recipes`` (approved with that key)."""

    def __init__(
        self,
        world: World,
        recipes: dict[str, RecipeDoc],
        key: ApprovalKeyPair,
        *,
        parts: int,
        cell_id: str | None = None,
    ) -> None:
        cells = {c.id: c for c in world.cells}
        if cell_id is None:
            cell_id = world.cells[0].id
        if cell_id not in cells:
            raise InvalidInputError("cell", f"no cell {cell_id!r} in the world ({sorted(cells)})")
        self.world_cell = cells[cell_id]
        self.recipes = dict(recipes)
        self.key = key
        self.step_s = world.doc.clock.step_s
        self.now_s = 0.0
        self.steps = 0
        self.sim = SimCell(self.world_cell, world.doc.seed, max_parts=parts, camera=True)
        self.faults = FaultInjector(world.doc.faults)
        data = cell_config(self.world_cell, list(recipes))
        for key_name in ("schema", "approval_key", "recipe_dir"):
            data.pop(key_name)
        config = load_cell_config(None, **data)
        store = RecipeStore(None)
        for doc in recipes.values():
            store.add(doc)
        self.out = _Outputs(self)
        self.controller = CellController(
            config,
            load_painter6(),
            self.out,
            verifier=ApprovalVerifier(key.public_key_hex),
            recipes=store,
            submit=run_now,
        )
        self._frames: dict[int, CapturedFrame | None] = {}
        self._arrivals: list[Arrival] = []
        self._programs = 0

    # -- the clock -----------------------------------------------------------------------------
    def step(self) -> None:
        """One sim step: interlocks (every 100 ms), joints to the controller, its tick, then
        the cell (robot, gun, belt, camera)."""
        now, ctl = self.now_s, self.controller
        every = max(1, round(INTERLOCK_PERIOD_S / self.step_s))
        if self.steps % every == 0:
            state = self.faults.state(self.sim.id, now)
            ctl.on_interlocks(
                {
                    "estop": state.estop,
                    "door_closed": True,
                    "paint_pressure_ok": state.pressure_ok,
                    "booth_airflow_ok": True,
                },
                now,
            )
        follower = self.sim.follower
        ctl.on_joint_state(self.sim.robot.joint_names, follower.q + follower.offset, now)
        ctl.tick(now)
        out = self.sim.step(now, self.step_s, self.faults)
        for event in out.events:
            if isinstance(event, CameraEvent):
                self._frames[event.part.uid] = self._frame(event)
            elif isinstance(event, StationEvent):
                part = event.cycle.part
                self._arrivals.append(Arrival(event.cycle, self._frames.pop(part.uid, None)))
        self.steps += 1
        self.now_s = self.steps * self.step_s

    def _frame(self, event: CameraEvent) -> CapturedFrame | None:
        if event.frame is None:
            return None
        conveyor = self.sim.conveyor
        at_camera = conveyor.nominal_pose(conveyor.camera_s_mm)
        at_station = conveyor.nominal_pose(conveyor.station_s_mm)
        travel = (at_station.x_mm - at_camera.x_mm, at_station.y_mm - at_camera.y_mm)
        return CapturedFrame(
            event.frame.image, self.world_cell.calibration.to_dict(), (travel[0], travel[1])
        )

    # -- parts -------------------------------------------------------------------------------
    def next_part(self) -> Arrival | None:
        """Step until the next part stands at the station; None when the feed is done."""
        deadline = self.now_s + ARRIVAL_TIMEOUT_S
        while not self._arrivals:
            if self.sim.done or self.now_s > deadline:
                return None
            self.step()
        return self._arrivals.pop(0)

    def execute(self, fitted: FittedProgram, arrival: Arrival) -> Execution:
        """Send the fitted recipe to the controller as an edge would, run until it reports
        the part (or refuses the program), and take the simulator's film."""
        return self.run_recipe(fitted.recipe, fitted.T_world_part, arrival)

    def run_recipe(
        self, recipe: RecipeDoc, T_world_part: np.ndarray, arrival: Arrival
    ) -> Execution:
        """:meth:`execute` for a recipe placed at ``T_world_part`` (mm)."""
        doc = self.recipes_by_id().get((recipe.id, int(recipe.version)))
        if doc is None:
            raise InvalidInputError(
                "program.recipe", f"{recipe.id} v{recipe.version} is not on the cell"
            )
        self._recover()
        self._programs += 1
        program_id = f"{arrival.part_id}-p{self._programs}"
        T_base_part = invert(self.world_cell.T_world_base) @ T_world_part
        msg = program_message(
            self.controller_message_type,
            doc,
            program_id=program_id,
            part_id=arrival.part_id,
            T_base_part=T_base_part,
            key_id=self.key.key_id,
        )
        self.out.statuses.clear()
        self.out.results.clear()
        t0 = self.now_s
        self.controller.on_program(msg, self.now_s)
        deadline = self.now_s + EXECUTION_TIMEOUT_S
        result = refusal = None
        n_results = n_statuses = -1
        while result is None and refusal is None:
            if self.now_s > deadline:
                self.controller.on_command("abort", self.now_s)
                refusal = StatusReport(program_id, ProgramState.ABORTED, fault_code="TIMEOUT")
                break
            self.step()
            if len(self.out.results) == n_results and len(self.out.statuses) == n_statuses:
                continue
            n_results, n_statuses = len(self.out.results), len(self.out.statuses)
            result = next((r for r in self.out.results if r.program_id == program_id), None)
            refusal = next(
                (
                    s
                    for s in self.out.statuses
                    if s.program_id == program_id and s.state == ProgramState.REJECTED
                ),
                None,
            )
        if result is not None:
            program = program_of(result)
            completed, code, text = result.completed, result.fault_code, ""
            if not completed:
                last = [s for s in self.out.statuses if s.program_id == program_id]
                text = last[-1].fault_text if last else ""
        else:
            program = dict(
                program_id=program_id,
                recipe_id=doc.id,
                recipe_version=int(doc.version),
                completed=False,
                fault_code=refusal.fault_code,
            )
            completed, code, text = False, refusal.fault_code, refusal.fault_text
        outcome = self._finish(arrival, program, doc)
        film = None
        if outcome.spray is not None:
            film = ThicknessMap.of(outcome.spray, "simulated", doc.finish)
        return Execution(completed, code, text, self.now_s - t0, outcome, film)

    def release(self, arrival: Arrival, reason: str) -> PartOutcome:
        """The part leaves the station unpainted (held, rejected or failed), after at least
        one control step there."""
        self.step()
        program = dict(program_id="", completed=False, fault_code=reason)
        return self._finish(arrival, program, None)

    # -- helpers -----------------------------------------------------------------------------
    def recipes_by_id(self) -> dict[tuple[str, int], RecipeDoc]:
        return {(d.id, int(d.version)): d for d in self.recipes.values()}

    @staticmethod
    def controller_message_type(name: str) -> type:
        from robot_nodes.bus import dds_types

        return dds_types.get_type(name)

    def _recover(self) -> None:
        """Reset a controller left in FAULT or ESTOP once its cause has cleared."""
        state = self.controller.state.value
        if state in ("FAULT", "ESTOP"):
            self.controller.on_command("reset", self.now_s)
            for _ in range(3):
                self.step()

    def _finish(self, arrival: Arrival, program: dict, doc: RecipeDoc | None) -> PartOutcome:
        cycle = self.sim.finish(arrival.part_id, program, self.now_s, self.faults)
        if cycle is None:
            raise InvalidInputError("part", f"{arrival.part_id} is not at the station")
        return cycle_result(cycle, doc, self.sim.robot, self.faults.snapshot())

    def close(self) -> None:
        self.sim.close()


__all__ = ["Arrival", "DryRunCell", "Execution"]

"""``coatshare pipeline run FILE --world WORLD.yaml --parts N``: a pipeline in the simulator.

Binds every block of the catalog for a dry run on one world cell
(:class:`coatshare.dryrun.DryRunCell`):

| block | implementation |
|---|---|
| ``camera.capture`` | the cell camera's frame of the part (``sim.blocks``) |
| ``vision.locate``, ``vision.check_part`` | the edge's OpenCV locator (``edge_gateway.blocks``) |
| ``recipe.fit``, ``qc.evaluate`` | the spray core's fit and metrics (``edge_gateway.blocks``) |
| ``sim.predict_thickness`` | the deposition model on the fitted path (``sim.blocks``) |
| ``robot.execute`` | the cell controller's logic driving the simulated robot (here) |
| ``data.record``, ``notify`` | an edge database (SQLite) and the console log |

For each part the belt brings to the station the pipeline runs with the job's expected part
and its approved recipe as inputs (the recipes are planned for the world's part types and
approved with a key made for the run, which the cell trusts). A part that a ``robot.execute``
did not take leaves the station unpainted. An ``operator.ask`` hold is answered with
``decision`` when one is given, else the part stays held (and leaves unpainted).

The run reports per part the pipeline's status, the located pose error (against the
simulator's ground truth), the fit, the predicted and simulated quality, the cell's verdict
and cycle time, and over all parts the target check: how many programs the cell refused
(reach, placement), predicted and simulated quality, cycle times.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from coatshare.dryrun import Arrival, DryRunCell, Execution
from edge_gateway.blocks import (
    BlockFailedError,
    PartContext,
    RecipeBlocks,
    RecordBlocks,
    VisionBlocks,
    edge_implementations,
)
from edge_gateway.db import open_database
from edge_gateway.records import PartRecordStore
from pipelines import Catalog, PartRun, PipelineDoc, Runner, summarize_runs
from recipes.approval import ApprovalKeyPair, approve_recipe, generate_key_pair
from recipes.document import RecipeDoc
from recipes.errors import InvalidInputError
from recipes.fit import FittedProgram
from sim.blocks import capture_block, predict_thickness
from sim.cell_setup import nominal_T_world_part, plan_recipes
from sim.feed import panel
from sim.world import World


@dataclass
class PartRow:
    """One part of a dry run."""

    part_id: str
    label: str  # the simulator's truth: ok, wrong_part, damaged
    status: str  # the pipeline's: completed, held, rejected, stopped
    failure: str = ""
    held_by: str = ""  # "ask" (an operator.ask) or "failure" (the failure policy)
    pose_error_mm: float | None = None
    pose_error_deg: float | None = None
    fit_action: str = ""
    fit_deviation_mm: float | None = None
    predicted_within_tol_pct: float | None = None
    simulated_within_tol_pct: float | None = None
    qc_passed: bool | None = None
    completed: bool | None = None
    cell_fault: str = ""
    cycle_s: float | None = None
    decision: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class DryRun:
    """Everything a dry run produced."""

    pipeline: str
    world: str
    cell: str
    rows: list[PartRow] = field(default_factory=list)
    runs: list[PartRun] = field(default_factory=list)
    #: per painted part: the simulator's film and the fitted program (part frame)
    films: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The runner's figures and the target check (reach, quality, cycle time)."""
        executed = [r for r in self.rows if r.completed is not None]
        refused = [r for r in self.rows if r.cell_fault and not r.completed]
        pred = [r.predicted_within_tol_pct for r in self.rows if r.predicted_within_tol_pct]
        simd = [r.simulated_within_tol_pct for r in executed if r.simulated_within_tol_pct]
        cycles = [r.cycle_s for r in executed if r.completed and r.cycle_s is not None]
        pos = [r.pose_error_mm for r in self.rows if r.pose_error_mm is not None]
        return dict(
            pipeline=self.pipeline,
            world=self.world,
            cell=self.cell,
            runner=summarize_runs(self.runs),
            target=dict(
                parts=len(self.rows),
                sent_to_cell=len(executed),
                completed=sum(1 for r in executed if r.completed),
                refused_or_aborted=[f"{r.part_id}: {r.cell_fault}" for r in refused],
                qc_passed=sum(1 for r in self.rows if r.qc_passed),
                predicted_within_tol_pct_mean=_mean(pred),
                simulated_within_tol_pct_mean=_mean(simd),
                cycle_s_mean=_mean(cycles),
                cycle_s_max=round(max(cycles), 3) if cycles else None,
                pose_error_mm_max=round(max(pos), 4) if pos else None,
            ),
        )


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 3) if values else None


class _ExecuteBlock:
    """``robot.execute`` on the dry-run cell, for the part now at the station."""

    def __init__(self, cell: DryRunCell) -> None:
        self.cell = cell
        self.arrival: Arrival | None = None
        self.last: Execution | None = None

    def __call__(self, inputs: dict, params: Any) -> dict:
        program = inputs["program"]
        if not isinstance(program, FittedProgram):
            raise InvalidInputError("program", "expected a program from recipe.fit")
        prediction = inputs.get("prediction")
        floor = params.min_predicted_within_tol_pct
        if prediction is not None and float(prediction["within_tol_pct"]) < floor:
            raise BlockFailedError(
                "prediction",
                f"predicted within ±tol {float(prediction['within_tol_pct']):.2f} % is below "
                f"{floor:g} %: not sprayed",
            )
        if params.cell is not None and params.cell != self.cell.world_cell.id:
            raise InvalidInputError("cell", f"this run drives cell {self.cell.world_cell.id!r}")
        if self.arrival is None or self.last is not None:
            raise InvalidInputError("program", "no unpainted part at the station")
        self.last = ex = self.cell.execute(program, self.arrival)
        if not ex.completed and _refused(ex):
            raise BlockFailedError(
                "program", f"the cell refused it: {ex.fault_code}: {ex.fault_text}"
            )
        return {"film": ex.film, "cycle_s": round(ex.cycle_s, 4), "completed": ex.completed}


class _Observed:
    """The last outputs of each block type for the part being run (for the report)."""

    def __init__(self) -> None:
        self.outputs: dict[str, dict] = {}

    def wrap(self, impls: dict[str, Callable]) -> dict[str, Callable]:
        def watched(block_type: str, fn: Callable) -> Callable:
            def call(inputs: dict, params: Any) -> dict:
                out = fn(inputs, params)
                self.outputs[block_type] = out
                return out

            return call

        return {t: watched(t, fn) for t, fn in impls.items()}

    def get(self, block_type: str, port: str) -> Any:
        return self.outputs.get(block_type, {}).get(port)


def _refused(ex: Execution) -> bool:
    """Refused before any motion (no path was run): reach, approval, placement."""
    program = ex.outcome.result.get("program", {})
    return not program.get("path_length_mm")


def _expected_specs(world: World) -> list[str]:
    """The part specs the world's feeds expect, in order of appearance."""
    specs: list[str] = []
    for cell in world.cells:
        for spec in cell.spec.feed.sequence:
            if spec not in specs:
                specs.append(spec)
    return specs


def plan_approved_recipes(world: World, finish: str, gun: str | None, key) -> dict[str, RecipeDoc]:
    """A recipe per part type the world's feeds expect, approved with ``key``."""
    planned = plan_recipes(_expected_specs(world), finish, gun, edge_passes=False)
    return {
        s: approve_recipe(d, key.signing_key_hex, "coatshare pipeline run")
        for s, d in planned.items()
    }


def run_in_sim(
    doc: PipelineDoc,
    catalog: Catalog,
    world: World,
    *,
    parts: int,
    cell_id: str | None = None,
    finish: str = "benchmark",
    gun: str | None = None,
    database: str | Path | None = None,
    decision: str | None = None,
    job_id: str | None = None,
    on_part: Callable[[PartRow], None] | None = None,
    approved: tuple[dict[str, RecipeDoc], ApprovalKeyPair] | None = None,
) -> DryRun:
    """Run ``doc`` on ``parts`` parts of one cell of ``world`` (see the module docstring);
    ``job_id`` (a job of the edge database at ``database``) goes on the part records.
    ``approved``: the recipe per expected part spec and the key they were approved with
    (the cell trusts its public half); by default each is planned here and approved with a
    key made for the run."""
    if parts < 1:
        raise InvalidInputError("parts", f"must be >= 1, got {parts}")
    if approved is None:
        key = generate_key_pair()
        recipes = plan_approved_recipes(world, finish, gun, key)
    else:
        recipes, key = approved
        missing = sorted(set(_expected_specs(world)) - set(recipes))
        if missing:
            raise InvalidInputError("recipes", f"no approved recipe for {missing}")
    cell = DryRunCell(world, recipes, key, parts=parts, cell_id=cell_id)
    station = {d.id: nominal_T_world_part(cell.world_cell, spec) for spec, d in recipes.items()}
    engine = open_database(sqlite_path=database) if database else open_database("sqlite://")
    records = RecordBlocks(PartRecordStore(engine))
    execute = _ExecuteBlock(cell)
    frame = {"current": None}
    impls = {
        **edge_implementations(VisionBlocks(), RecipeBlocks(station), records),
        "camera.capture": capture_block(lambda: frame["current"]),
        "sim.predict_thickness": predict_thickness,
        "robot.execute": execute,
    }
    observed = _Observed()
    runner = Runner(doc, catalog, observed.wrap(impls), dry_run=True, isolation="inline")
    expected = {spec: panel(spec) for spec in recipes}
    out = DryRun(doc.key, world.doc.name, cell.world_cell.id)
    try:
        while len(out.rows) < parts:
            arrival = cell.next_part()
            if arrival is None:
                break
            fed = arrival.cycle.fed
            frame["current"] = arrival.frame
            execute.arrival, execute.last = arrival, None
            observed.outputs.clear()
            records.context = PartContext(
                arrival.part_id, job_id=job_id, cell_id=cell.world_cell.id, pipeline=doc.key
            )
            inputs = {"part": expected[fed.expected_spec], "recipe": recipes[fed.expected_spec]}
            run = runner.run_part(inputs, part_id=arrival.part_id)
            if run.status == "held" and decision is not None and run.held.kind == "ask":
                run = runner.resume(run.held, decision)
            if execute.last is None:
                cell.release(arrival, f"pipeline {run.status}")
            row = _row(arrival, run, execute.last, observed)
            fitted = observed.get("recipe.fit", "program")
            if execute.last is not None and execute.last.film is not None and fitted is not None:
                out.films[arrival.part_id] = (execute.last.film, fitted.fit.program_part)
            out.rows.append(row)
            out.runs.append(run)
            if on_part is not None:
                on_part(row)
    finally:
        cell.close()
        engine.dispose()
    return out


def _row(arrival: Arrival, run: PartRun, ex: Execution | None, seen: _Observed) -> PartRow:
    fed = arrival.cycle.fed
    row = PartRow(arrival.part_id, fed.label, run.status)
    if run.failure is not None:
        row.failure = str(run.failure)
    pose = seen.get("vision.locate", "pose")
    if pose is not None and fed.label == "ok":  # a wrong part has no true pose to compare
        T_true = arrival.cycle.T_world_part
        ref = np.array([*fed.reference_xy_mm, 0.0, 1.0])
        err = (pose.T_world_part @ ref)[:2] - (T_true @ ref)[:2]
        row.pose_error_mm = round(float(np.linalg.norm(err)), 4)
        d = math.degrees(math.atan2(T_true[1, 0], T_true[0, 0])) - pose.theta_deg
        row.pose_error_deg = round(abs((d + 180) % 360 - 180), 4)
    program = seen.get("recipe.fit", "program")
    if isinstance(program, FittedProgram):
        row.fit_action = program.fit.action
        row.fit_deviation_mm = round(float(program.fit.deviation_mm), 3)
    report = seen.get("sim.predict_thickness", "report")
    if isinstance(report, dict):
        row.predicted_within_tol_pct = round(float(report["within_tol_pct"]), 3)
    if ex is not None:
        row.completed = ex.completed
        row.cell_fault = ex.fault_code
        row.cycle_s = round(ex.cycle_s, 3)
        metrics = ex.outcome.result.get("metrics")
        if metrics:
            row.simulated_within_tol_pct = round(float(metrics["within_tol_pct"]), 3)
    passed = seen.get("qc.evaluate", "passed")
    row.qc_passed = None if passed is None else bool(passed)
    if run.status == "held" and run.held is not None:
        row.held_by = run.held.kind
    asked = run.outputs.get("decision")
    if asked is not None:
        row.decision = str(asked)
    return row


__all__ = ["DryRun", "PartRow", "plan_approved_recipes", "run_in_sim"]

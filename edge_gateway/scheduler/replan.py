"""Rolling re-planning on events: new job, cancellation, cell fault, finished job.

Tasks that started before ``now_s`` are frozen (same cell, same times), except one running
on a cell that faults: its parts must be re-sprayed, so it goes back to the queue whole.
The current plan is the warm start, and moving a task to another cell costs
``weights.stability`` in the objective, so tasks move only when that buys something.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from edge_gateway.scheduler.model import Cell, Job, Problem, Window, compile_problem
from edge_gateway.scheduler.plans import Frozen, Plan, as_index_sequences
from edge_gateway.scheduler.solver import solve_plan
from recipes.errors import InvalidInputError


@dataclass(frozen=True)
class NewJob:
    job: Job


@dataclass(frozen=True)
class Cancel:
    job_id: str


@dataclass(frozen=True)
class CellFault:
    cell_id: str
    start_s: int
    end_s: int


@dataclass(frozen=True)
class JobFinished:
    job_id: str
    at_s: int


Event = NewJob | Cancel | CellFault | JobFinished


def _add_outage(cell: Cell, start_s: int, end_s: int) -> None:
    """Block ``[start_s, end_s)`` on ``cell``, merging with maintenance it overlaps."""
    merged = Window(start_s=start_s, end_s=end_s)
    keep = []
    for w in cell.maintenance:
        if w.start_s <= merged.end_s and merged.start_s <= w.end_s:
            merged = Window(
                start_s=min(w.start_s, merged.start_s), end_s=max(w.end_s, merged.end_s)
            )
        else:
            keep.append(w)
    # a booking inside an outage is lost time for that firm: the outage wins
    cell.bookings = [
        b for b in cell.bookings if b.end_s <= merged.start_s or b.start_s >= merged.end_s
    ]
    cell.maintenance = sorted([*keep, merged], key=lambda w: w.start_s)


def replan(
    problem: Problem,
    current: Plan,
    now_s: int,
    events: list[Event],
    *,
    time_limit_s: float = 3.0,
    seed: int = 0,
    workers: int = 2,
) -> tuple[Problem, Plan]:
    """Apply ``events`` at ``now_s`` and re-plan; returns the updated problem and plan.

    ``time_limit_s`` is the whole wall-clock budget, applying the events included.
    """
    t0 = time.perf_counter()
    prob = problem.model_copy(deep=True)
    prob.origin_s = max(prob.origin_s, now_s)
    cells = {c.id: c for c in prob.cells}
    jobs = {j.id: j for j in prob.jobs}
    interrupted: set[str] = set()
    finished_at: dict[str, int] = {}
    for ev in events:
        if isinstance(ev, NewJob):
            if ev.job.id in jobs:
                raise InvalidInputError(f"jobs[{ev.job.id}]", "duplicate job id")
            jobs[ev.job.id] = ev.job.model_copy()
        elif isinstance(ev, Cancel):
            if ev.job_id not in jobs:
                raise InvalidInputError(f"jobs[{ev.job_id}]", "unknown job")
            del jobs[ev.job_id]
        elif isinstance(ev, CellFault):
            if ev.cell_id not in cells:
                raise InvalidInputError(f"cells[{ev.cell_id}]", "unknown cell")
            if ev.end_s <= ev.start_s:
                raise InvalidInputError(f"cells[{ev.cell_id}].fault", "ends before it starts")
            _add_outage(cells[ev.cell_id], ev.start_s, ev.end_s)
            for s in current.cells.get(ev.cell_id, []):
                if s.setup_start_s < ev.end_s and ev.start_s < s.end_s:
                    interrupted.add(s.task)
        elif isinstance(ev, JobFinished):
            finished_at[ev.job_id] = ev.at_s
    # cancelled jobs that already run keep the cell busy until their slot ends
    for cell_id, slots in current.cells.items():
        for s in slots:
            if s.job not in jobs and s.setup_start_s < now_s < s.end_s:
                _add_outage(cells[cell_id], now_s, s.end_s)
    prob.jobs = list(jobs.values())
    comp = compile_problem(prob)
    tidx = {t.id: t.index for t in comp.tasks}
    cidx = {c.id: i for i, c in enumerate(comp.cells)}
    frozen: list[Frozen] = []
    for cell_id, slots in current.cells.items():
        for s in slots:
            if s.task not in tidx or s.task in interrupted:
                continue
            started = s.setup_start_s < now_s or s.frozen
            if not started:
                continue
            end = finished_at.get(s.job, s.end_s)
            frozen.append(Frozen(tidx[s.task], cidx[cell_id], s.setup_start_s, s.start_s, end))
    frozen_ids = {f.task for f in frozen}
    warm = [[t for t in q if t not in frozen_ids] for q in as_index_sequences(comp, current)]
    reference = {
        tidx[s.task]: cidx[cell_id]
        for cell_id, slots in current.cells.items()
        for s in slots
        if s.task in tidx
    }
    new_plan = solve_plan(
        comp,
        time_limit_s=max(0.1, time_limit_s - (time.perf_counter() - t0)),
        seed=seed,
        frozen=frozen,
        warm_start=warm,
        reference_cell=reference,
        workers=workers,
        temperature_scale=0.1,
    )
    return prob, new_plan

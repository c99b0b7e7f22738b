"""The shared factory's scheduling problem: jobs, cells, changeovers, windows and weights.

Times are integer seconds from the plan origin (``*_s``). A job becomes one or more
*tasks* (batches) before scheduling; a task's processing time on a cell is
``ceil((cycle_time_s * quantity + load_unload_s) / speed_factor)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from recipes.errors import InvalidInputError


class Window(BaseModel):
    """A half-open time interval ``[start_s, end_s)``."""

    model_config = ConfigDict(extra="forbid")
    start_s: int
    end_s: int


class Booking(Window):
    """Cell time booked by the hour: the cell is the firm's alone inside the window."""

    firm: str


class Cell(BaseModel):
    """A robot spray cell and what it can take."""

    model_config = ConfigDict(extra="forbid")
    id: str
    max_part_size_mm: float = 2500.0
    takes_3d: bool = False
    finishes: list[str] | None = None  # allowed finishes; None: all
    speed_factor: float = 1.0  # > 1: faster than the recipe's nominal cycle
    maintenance: list[Window] = Field(default_factory=list)
    bookings: list[Booking] = Field(default_factory=list)
    initial_finish: str | None = None  # loaded finish at the origin (None: clean gun)


class Job(BaseModel):
    """A firm's order of parts to finish."""

    model_config = ConfigDict(extra="forbid")
    id: str
    firm: str
    part_type: str
    quantity: int
    finish: str
    cycle_time_s: float  # per part, from the approved recipe
    load_unload_s: float = 0.0  # per job
    part_size_mm: float = 500.0
    is_3d: bool = False
    release_s: int = 0
    due_s: int
    weight: int = 1  # priority tier
    deadline_s: int | None = None  # a promised date: hard
    splittable: bool = False  # may run as batches on several cells


class Changeover(BaseModel):
    """Cleaning time and paint waste when a cell switches finish (cell None: every cell)."""

    model_config = ConfigDict(extra="forbid")
    from_finish: str
    to_finish: str
    time_s: int
    cost: float = 0.0
    cell: str | None = None


class Weights(BaseModel):
    """Objective weights (per second of tardiness times job weight, per changeover second...)."""

    model_config = ConfigDict(extra="forbid")
    tardiness: float = 1.0
    changeover_time: float = 0.5
    changeover_cost: float = 1.0
    makespan: float = 0.05
    stability: float = 600.0  # per task that changes cell in a re-plan


class Problem(BaseModel):
    """Everything the scheduler needs for one factory."""

    model_config = ConfigDict(extra="forbid")
    finishes: list[str]
    cells: list[Cell]
    jobs: list[Job]
    changeovers: list[Changeover] = Field(default_factory=list)
    weights: Weights = Field(default_factory=Weights)
    batch_size: int = 50  # parts per batch when a splittable job is split
    origin_s: int = 0  # nothing starts before this (the "now" of a re-plan)


@dataclass(frozen=True)
class Task:
    """A schedulable unit: a whole job or one batch of a splittable job."""

    id: str
    job: str
    index: int  # position in Compiled.tasks
    job_index: int
    quantity: int
    finish: int  # index into Compiled.finishes
    release_s: int
    due_s: int
    weight: float  # job weight times this task's share of the quantity
    deadline_s: int | None
    firm: str


@dataclass
class Compiled:
    """Arrays the solvers use, built once from a validated Problem.

    Attributes
    ----------
    proc_s : (T, C) int array
        Processing time of task t on cell c; -1 where the cell cannot take it.
    co_time_s : (C, F + 1, F + 1) int array
        Changeover time; index F is "clean" (no finish loaded), free to leave.
    co_cost : (C, F + 1, F + 1) float array
    blocked : list over (cell) of list of (start_s, end_s, firm or None)
        Maintenance (firm None) and bookings, sorted by start.
    """

    problem: Problem
    finishes: list[str]
    cells: list[Cell]
    jobs: list[Job]
    tasks: list[Task]
    proc_s: np.ndarray
    co_time_s: np.ndarray
    co_cost: np.ndarray
    blocked: list[list[tuple[int, int, str | None]]]
    initial_finish: list[int]

    @property
    def clean(self) -> int:
        return len(self.finishes)


def _check_windows(field: str, windows: list[Window]) -> None:
    for i, w in enumerate(windows):
        if w.end_s <= w.start_s:
            raise InvalidInputError(
                f"{field}[{i}]", f"ends ({w.end_s}) before it starts ({w.start_s})"
            )
    order = sorted(range(len(windows)), key=lambda i: windows[i].start_s)
    for a, b in zip(order, order[1:], strict=False):
        if windows[b].start_s < windows[a].end_s:
            raise InvalidInputError(f"{field}[{b}]", f"overlaps {field}[{a}]")


def _eligible(job: Job, cell: Cell) -> str | None:
    """None if ``cell`` can take ``job``, else the reason it cannot."""
    if job.part_size_mm > cell.max_part_size_mm:
        return f"part {job.part_size_mm:g} mm > {cell.max_part_size_mm:g} mm"
    if job.is_3d and not cell.takes_3d:
        return "3D part, cell takes flat parts only"
    if cell.finishes is not None and job.finish not in cell.finishes:
        return f"finish '{job.finish}' not allowed"
    return None


def validate(problem: Problem) -> None:
    """Refuse input that breaks a rule, naming the job, cell or window and the reason."""
    finishes = set(problem.finishes)
    if len(finishes) != len(problem.finishes):
        raise InvalidInputError("finishes", "duplicate finish names")
    if not problem.cells:
        raise InvalidInputError("cells", "no cells")
    if problem.batch_size <= 0:
        raise InvalidInputError("batch_size", f"must be positive, got {problem.batch_size}")
    seen_cells: set[str] = set()
    for cell in problem.cells:
        where = f"cells[{cell.id}]"
        if cell.id in seen_cells:
            raise InvalidInputError(where, "duplicate cell id")
        seen_cells.add(cell.id)
        if not (cell.speed_factor > 0 and math.isfinite(cell.speed_factor)):
            raise InvalidInputError(
                f"{where}.speed_factor", f"must be > 0, got {cell.speed_factor}"
            )
        for f in [*(cell.finishes or []), *([cell.initial_finish] if cell.initial_finish else [])]:
            if f not in finishes:
                raise InvalidInputError(f"{where}.finishes", f"unknown finish '{f}'")
        # maintenance and bookings together: a cell cannot be in two windows at once
        windows: list[Window] = [*cell.maintenance, *cell.bookings]
        _check_windows(f"{where}.windows", windows)
    for co in problem.changeovers:
        where = f"changeovers[{co.from_finish}->{co.to_finish}]"
        for f in (co.from_finish, co.to_finish):
            if f not in finishes:
                raise InvalidInputError(where, f"unknown finish '{f}'")
        if co.time_s < 0 or co.cost < 0:
            raise InvalidInputError(where, "negative changeover time or cost")
        if co.cell is not None and co.cell not in seen_cells:
            raise InvalidInputError(where, f"unknown cell '{co.cell}'")
    seen_jobs: set[str] = set()
    for job in problem.jobs:
        where = f"jobs[{job.id}]"
        if job.id in seen_jobs:
            raise InvalidInputError(where, "duplicate job id")
        seen_jobs.add(job.id)
        if job.finish not in finishes:
            raise InvalidInputError(f"{where}.finish", f"unknown finish '{job.finish}'")
        if job.quantity <= 0:
            raise InvalidInputError(f"{where}.quantity", f"must be positive, got {job.quantity}")
        if job.cycle_time_s < 0 or job.load_unload_s < 0:
            raise InvalidInputError(f"{where}.cycle_time_s", "negative duration")
        if job.cycle_time_s * job.quantity + job.load_unload_s <= 0:
            raise InvalidInputError(f"{where}.cycle_time_s", "processing time must be positive")
        if job.due_s < job.release_s:
            raise InvalidInputError(
                f"{where}.due", f"due {job.due_s} before release {job.release_s}"
            )
        if job.deadline_s is not None and job.deadline_s < job.release_s:
            raise InvalidInputError(f"{where}.deadline", "deadline before release")
        if job.weight <= 0:
            raise InvalidInputError(f"{where}.weight", f"must be positive, got {job.weight}")
        reasons = [f"{c.id}: {r}" for c in problem.cells if (r := _eligible(job, c)) is not None]
        if len(reasons) == len(problem.cells):
            raise InvalidInputError(where, "no cell can take it (" + "; ".join(reasons) + ")")


def _split(job: Job, batch_size: int) -> list[int]:
    if not job.splittable or job.quantity <= batch_size:
        return [job.quantity]
    full, rest = divmod(job.quantity, batch_size)
    return [batch_size] * full + ([rest] if rest else [])


def compile_problem(problem: Problem) -> Compiled:
    """Validate and turn a Problem into arrays (tasks x cells, finishes x finishes)."""
    validate(problem)
    fin = {f: i for i, f in enumerate(problem.finishes)}
    cell_idx = {c.id: i for i, c in enumerate(problem.cells)}
    F, C = len(problem.finishes), len(problem.cells)
    co_time = np.zeros((C, F + 1, F + 1), dtype=np.int64)
    co_cost = np.zeros((C, F + 1, F + 1), dtype=np.float64)
    given = np.zeros((C, F, F), dtype=bool)
    # generic rows first, then per-cell overrides
    for co in sorted(problem.changeovers, key=lambda c: c.cell is not None):
        a, b = fin[co.from_finish], fin[co.to_finish]
        cells = range(C) if co.cell is None else [cell_idx[co.cell]]
        for c in cells:
            co_time[c, a, b] = co.time_s
            co_cost[c, a, b] = co.cost
            given[c, a, b] = True
    for c in range(C):
        for a in range(F):
            for b in range(F):
                if a != b and not given[c, a, b]:
                    raise InvalidInputError(
                        "changeovers",
                        f"no changeover {problem.finishes[a]} -> {problem.finishes[b]} "
                        f"for cell {problem.cells[c].id}",
                    )
            co_time[c, a, a] = 0
            co_cost[c, a, a] = 0.0
    tasks: list[Task] = []
    rows: list[list[int]] = []
    for ji, job in enumerate(problem.jobs):
        parts = _split(job, problem.batch_size)
        for bi, q in enumerate(parts):
            tid = job.id if len(parts) == 1 else f"{job.id}#{bi + 1}"
            tasks.append(
                Task(
                    id=tid,
                    job=job.id,
                    index=len(tasks),
                    job_index=ji,
                    quantity=q,
                    finish=fin[job.finish],
                    release_s=max(job.release_s, problem.origin_s),
                    due_s=job.due_s,
                    weight=job.weight * q / job.quantity,
                    deadline_s=job.deadline_s,
                    firm=job.firm,
                )
            )
            row = []
            for cell in problem.cells:
                if _eligible(job, cell) is not None:
                    row.append(-1)
                    continue
                load = (
                    job.load_unload_s if len(parts) == 1 else job.load_unload_s * q / job.quantity
                )
                row.append(max(1, math.ceil((job.cycle_time_s * q + load) / cell.speed_factor)))
            rows.append(row)
    proc = np.asarray(rows, dtype=np.int64).reshape(len(tasks), C)
    blocked = []
    for cell in problem.cells:
        items = [(w.start_s, w.end_s, None) for w in cell.maintenance]
        items += [(b.start_s, b.end_s, b.firm) for b in cell.bookings]
        blocked.append(sorted(items, key=lambda x: x[0]))
    initial = [fin[c.initial_finish] if c.initial_finish else F for c in problem.cells]
    return Compiled(
        problem=problem,
        finishes=list(problem.finishes),
        cells=list(problem.cells),
        jobs=list(problem.jobs),
        tasks=tasks,
        proc_s=proc,
        co_time_s=co_time,
        co_cost=co_cost,
        blocked=blocked,
        initial_finish=initial,
    )


def _loc(loc: tuple, data: dict) -> str:
    """``('jobs', 3, 'due_s')`` -> ``jobs[j004].due_s`` (ids where the item has one)."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and part < len(node) else None
            ident = item.get("id") if isinstance(item, dict) else None
            out += f"[{ident if ident is not None else part}]"
            node = item
        else:
            out += ("." if out else "") + str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def problem_from_dict(data: dict, source: str | None = None) -> Problem:
    """Validate a problem document (as loaded from JSON or YAML)."""
    from pydantic import ValidationError

    if not isinstance(data, dict):
        raise InvalidInputError("document", "expected a mapping", source=source)
    try:
        return Problem.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InvalidInputError(_loc(tuple(err["loc"]), data), err["msg"], source=source) from exc


def load_problem(path: str | Path) -> Problem:
    """Read the project's job format (``.json``, ``.yaml`` or ``.yml``)."""
    import json

    import yaml

    path = Path(path)
    text = path.read_text()
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InvalidInputError("document", f"cannot parse: {exc}", source=str(path)) from exc
    return problem_from_dict(data, source=str(path))

"""Plans: timed task sequences per cell, the decoder that times them, figures and checks.

The decoder turns one task sequence per cell into times: a task starts as soon as the cell is
free and the task released, preceded by the changeover from the cell's loaded finish; the
changeover and the task together must fit between blocked windows (maintenance, and bookings
of other firms). Changeover work may start before the task's release (cleaning needs no parts).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edge_gateway.scheduler.model import Compiled


@dataclass(frozen=True)
class Slot:
    """A task on a cell: changeover ``[setup_start_s, start_s)``, work ``[start_s, end_s)``."""

    task: str
    job: str
    cell: str
    setup_start_s: int
    start_s: int
    end_s: int
    finish: str
    frozen: bool = False


@dataclass
class Figures:
    """What a plan costs."""

    weighted_tardiness: float
    late_jobs: int
    changeovers: int
    changeover_time_s: int
    changeover_cost: float
    makespan_s: int
    deadline_misses: int
    objective: float

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Plan:
    """A complete schedule: slots per cell in time order and its figures."""

    cells: dict[str, list[Slot]]
    figures: Figures
    optimal: bool = False
    stats: dict[str, float] = field(default_factory=dict)

    def slot(self, task_id: str) -> Slot:
        for slots in self.cells.values():
            for s in slots:
                if s.task == task_id:
                    return s
        raise KeyError(task_id)

    def job_completion_s(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for slots in self.cells.values():
            for s in slots:
                out[s.job] = max(out.get(s.job, 0), s.end_s)
        return out

    def sequences(self) -> dict[str, list[str]]:
        return {c: [s.task for s in slots] for c, slots in self.cells.items()}

    def as_dict(self) -> dict:
        return {
            "figures": self.figures.as_dict(),
            "optimal": self.optimal,
            "cells": {
                c: [
                    {
                        "task": s.task,
                        "job": s.job,
                        "finish": s.finish,
                        "setup_start_s": s.setup_start_s,
                        "start_s": s.start_s,
                        "end_s": s.end_s,
                        "frozen": s.frozen,
                    }
                    for s in slots
                ]
                for c, slots in self.cells.items()
            },
        }


@dataclass(frozen=True)
class Frozen:
    """A started (or finished-in-plan) task that keeps its cell and times."""

    task: int
    cell: int
    setup_start_s: int
    start_s: int
    end_s: int


class Decoder:
    """Times sequences and prices them, with the problem's arrays bound once.

    ``cell_cost`` is the hot path of the local search: plain Python over one cell's tasks.
    """

    def __init__(
        self,
        comp: Compiled,
        frozen: list[Frozen] | None = None,
        reference_cell: dict[int, int] | None = None,
    ) -> None:
        self.comp = comp
        w = comp.problem.weights
        self.w_tard, self.w_cot = w.tardiness, w.changeover_time
        self.w_coc, self.w_mk, self.w_stab = w.changeover_cost, w.makespan, w.stability
        self.proc = comp.proc_s.tolist()
        self.fin = [t.finish for t in comp.tasks]
        self.rel = [t.release_s for t in comp.tasks]
        self.due = [t.due_s for t in comp.tasks]
        self.wt = [t.weight for t in comp.tasks]
        self.dl = [t.deadline_s for t in comp.tasks]
        self.firm = [t.firm for t in comp.tasks]
        self.co_t = comp.co_time_s.tolist()
        self.co_c = comp.co_cost.tolist()
        self.blocked = comp.blocked
        self.clean = comp.clean
        self.ref = reference_cell or {}
        self.frozen = {f.task: f for f in (frozen or [])}
        # each cell starts after its frozen tasks, with the last frozen finish loaded
        n_cells = len(comp.cells)
        self.start_t = [comp.problem.origin_s] * n_cells
        self.start_f = list(comp.initial_finish)
        self.frozen_by_cell: list[list[Frozen]] = [[] for _ in range(n_cells)]
        for f in sorted(self.frozen.values(), key=lambda f: f.start_s):
            self.frozen_by_cell[f.cell].append(f)
            self.start_t[f.cell] = max(self.start_t[f.cell], f.end_s)
            self.start_f[f.cell] = self.fin[f.task]
        #: penalty per second past a hard deadline (keeps the search inside the hard set)
        self.deadline_penalty = 1e6

    def place(self, c: int, t: int, time: int, loaded: int) -> tuple[int, int, int]:
        """Earliest (setup_start, start, end) of task ``t`` on cell ``c`` after ``time``."""
        su = (
            self.co_t[c][loaded][t_f]
            if (t_f := self.fin[t]) != loaded and loaded != self.clean
            else 0
        )
        p = self.proc[t][c]
        s = max(time, self.rel[t] - su)
        firm = self.firm[t]
        for a, b, owner in self.blocked[c]:
            if b <= s:
                continue
            if a >= s + su + p:
                break
            if owner is not None and owner == firm:
                continue
            s = b
        return s, s + su, s + su + p

    def cell_cost(self, c: int, seq: list[int]) -> float:
        """Objective contribution of cell ``c`` running ``seq``.

        Weighted tardiness per task (a batch carries its share of the job's weight),
        changeover time and cost, the cell's end times the makespan weight (summed over
        cells: a smooth stand-in for the makespan that also rewards freeing cells early),
        stability and deadline penalties.
        """
        time, loaded = self.start_t[c], self.start_f[c]
        clean = self.clean
        co_t, co_c = self.co_t[c], self.co_c[c]
        proc, fin, rel, due, wt, dl = self.proc, self.fin, self.rel, self.due, self.wt, self.dl
        blocked = self.blocked[c]
        firm = self.firm
        ref = self.ref
        tard = 0.0
        cot = 0
        coc = 0.0
        miss = 0
        moved = 0
        for t in seq:
            f = fin[t]
            if f != loaded and loaded != clean:
                su = co_t[loaded][f]
                cot += su
                coc += co_c[loaded][f]
            else:
                su = 0
            p = proc[t][c]
            s = time if time > rel[t] - su else rel[t] - su
            if blocked:
                ft = firm[t]
                for a, b, owner in blocked:
                    if b <= s:
                        continue
                    if a >= s + su + p:
                        break
                    if owner is not None and owner == ft:
                        continue
                    s = b
            time = s + su + p
            loaded = f
            late = time - due[t]
            if late > 0:
                tard += wt[t] * late
            d = dl[t]
            if d is not None and time > d:
                miss += time - d
            if ref and ref.get(t, c) != c:
                moved += 1
        return (
            self.w_tard * tard
            + self.w_cot * cot
            + self.w_coc * coc
            + self.w_mk * time
            + self.w_stab * moved
            + self.deadline_penalty * miss
        )

    def slots(self, seqs: list[list[int]]) -> dict[str, list[Slot]]:
        comp = self.comp
        out: dict[str, list[Slot]] = {}
        for c, seq in enumerate(seqs):
            cell = comp.cells[c]
            slots = [
                Slot(
                    comp.tasks[f.task].id,
                    comp.tasks[f.task].job,
                    cell.id,
                    f.setup_start_s,
                    f.start_s,
                    f.end_s,
                    comp.finishes[self.fin[f.task]],
                    True,
                )
                for f in self.frozen_by_cell[c]
            ]
            time, loaded = self.start_t[c], self.start_f[c]
            for t in seq:
                a, s, e = self.place(c, t, time, loaded)
                task = comp.tasks[t]
                slots.append(Slot(task.id, task.job, cell.id, a, s, e, comp.finishes[task.finish]))
                time, loaded = e, task.finish
            out[cell.id] = slots
        return out

    def figures(self, seqs: list[list[int]]) -> Figures:
        return figures_of(self.comp, self.slots(seqs), self)


def figures_of(comp: Compiled, cells: dict[str, list[Slot]], dec: Decoder | None = None) -> Figures:
    """Weighted tardiness per job (completion = its last batch), changeovers, makespan."""
    fin = {f: i for i, f in enumerate(comp.finishes)}
    cidx = {c.id: i for i, c in enumerate(comp.cells)}
    completion: dict[str, int] = {}
    n_co, co_time, co_cost, makespan = 0, 0, 0.0, comp.problem.origin_s
    for cell_id, slots in cells.items():
        c = cidx[cell_id]
        loaded = comp.initial_finish[c]
        for s in slots:
            f = fin[s.finish]
            if f != loaded and loaded != comp.clean:
                n_co += 1
                co_time += int(comp.co_time_s[c, loaded, f])
                co_cost += float(comp.co_cost[c, loaded, f])
            loaded = f
            completion[s.job] = max(completion.get(s.job, 0), s.end_s)
            makespan = max(makespan, s.end_s)
    tard, late, misses = 0.0, 0, 0
    for job in comp.jobs:
        if job.id not in completion:
            continue
        over = completion[job.id] - job.due_s
        if over > 0:
            tard += job.weight * over
            late += 1
        if job.deadline_s is not None and completion[job.id] > job.deadline_s:
            misses += 1
    w = comp.problem.weights
    objective = (
        w.tardiness * tard + w.changeover_time * co_time + w.changeover_cost * co_cost
    ) + w.makespan * makespan
    return Figures(
        weighted_tardiness=round(tard, 3),
        late_jobs=late,
        changeovers=n_co,
        changeover_time_s=co_time,
        changeover_cost=round(co_cost, 3),
        makespan_s=int(makespan),
        deadline_misses=misses,
        objective=round(objective, 3),
    )


def hard_violations(comp: Compiled, plan: Plan) -> list[str]:
    """Every broken hard constraint of ``plan`` (empty when it is valid).

    Checked: each task exactly once, on a cell that can take it, not before its release,
    for the right duration, after the changeover from the previous finish, no overlap on a
    cell, no overlap with maintenance or another firm's booking, hard deadlines.
    """
    out: list[str] = []
    tasks = {t.id: t for t in comp.tasks}
    cidx = {c.id: i for i, c in enumerate(comp.cells)}
    fin = {f: i for i, f in enumerate(comp.finishes)}
    seen: set[str] = set()
    for cell_id, slots in plan.cells.items():
        c = cidx[cell_id]
        loaded = comp.initial_finish[c]
        prev_end = None
        for s in slots:
            t = tasks.get(s.task)
            if t is None:
                out.append(f"{s.task}: unknown task")
                continue
            if s.task in seen:
                out.append(f"{s.task}: scheduled twice")
            seen.add(s.task)
            p = int(comp.proc_s[t.index, c])
            if p < 0:
                out.append(f"{s.task}: cell {cell_id} cannot take it")
                continue
            if not s.frozen:
                if s.start_s < t.release_s:
                    out.append(f"{s.task}: starts {s.start_s} before release {t.release_s}")
                if s.end_s - s.start_s != p:
                    out.append(f"{s.task}: runs {s.end_s - s.start_s} s, needs {p} s")
                f = fin[s.finish]
                need = (
                    0
                    if (f == loaded or loaded == comp.clean)
                    else int(comp.co_time_s[c, loaded, f])
                )
                if s.start_s - s.setup_start_s < need:
                    out.append(f"{s.task}: changeover {s.start_s - s.setup_start_s} s < {need} s")
                for a, b, owner in comp.blocked[c]:
                    if owner is not None and owner == t.firm:
                        continue
                    if s.setup_start_s < b and a < s.end_s:
                        what = "maintenance" if owner is None else f"booking of {owner}"
                        out.append(f"{s.task}: overlaps {what} [{a}, {b}) on {cell_id}")
            if prev_end is not None and s.setup_start_s < prev_end:
                out.append(f"{s.task}: overlaps the previous task on {cell_id}")
            if t.deadline_s is not None and s.end_s > t.deadline_s:
                out.append(f"{s.task}: ends {s.end_s} after its deadline {t.deadline_s}")
            prev_end = s.end_s
            loaded = fin[s.finish]
    missing = set(tasks) - seen
    out.extend(f"{t}: not scheduled" for t in sorted(missing))
    return out


def empty_figures() -> Figures:
    return Figures(0.0, 0, 0, 0, 0.0, 0, 0, 0.0)


def as_index_sequences(comp: Compiled, plan: Plan, skip_frozen: bool = True) -> list[list[int]]:
    """Task-index sequences per cell of ``plan`` (tasks unknown to ``comp`` are dropped)."""
    tidx = {t.id: t.index for t in comp.tasks}
    out: list[list[int]] = []
    for cell in comp.cells:
        seq = [
            tidx[s.task]
            for s in plan.cells.get(cell.id, [])
            if s.task in tidx and not (skip_frozen and s.frozen)
        ]
        out.append(seq)
    return out

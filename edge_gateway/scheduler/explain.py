"""Why is a job late? Facts from the plan, in the order an operator would check them."""

from __future__ import annotations

from dataclasses import dataclass, field

from edge_gateway.scheduler.model import Problem, compile_problem
from edge_gateway.scheduler.plans import Plan
from recipes.errors import NotFoundError


@dataclass
class Explanation:
    job_id: str
    completion_s: int
    due_s: int
    late_s: int  # 0 when on time
    reasons: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)

    def text(self) -> str:
        head = (
            f"job {self.job_id}: {'late by ' + _hm(self.late_s) if self.late_s > 0 else 'on time'}"
            f" (completes {_hm(self.completion_s)}, due {_hm(self.due_s)})"
        )
        return "\n".join([head, *(f"- {r}" for r in self.reasons)])


def _hm(seconds: float) -> str:
    seconds = int(seconds)
    sign = "-" if seconds < 0 else ""
    h, rem = divmod(abs(seconds), 3600)
    return f"{sign}{h}h{rem // 60:02d}"


def explain(problem: Problem, plan: Plan, job_id: str) -> Explanation:
    """Explain the completion of ``job_id`` in ``plan`` against its due date."""
    comp = compile_problem(problem)
    job = next((j for j in comp.jobs if j.id == job_id), None)
    if job is None:
        raise NotFoundError("job", job_id)
    tasks = [t for t in comp.tasks if t.job == job_id]
    slots = []
    for cell_id, cell_slots in plan.cells.items():
        for i, s in enumerate(cell_slots):
            if s.job == job_id:
                slots.append((cell_id, i, s))
    if not slots:
        raise NotFoundError("job in plan", job_id)
    completion = max(s.end_s for _, _, s in slots)
    late = max(0, completion - job.due_s)
    ex = Explanation(job_id, completion, job.due_s, late)
    cidx = {c.id: i for i, c in enumerate(comp.cells)}
    # 1. could it be on time at all?
    fastest = sum(min(int(p) for p in comp.proc_s[t.index] if p >= 0) for t in tasks)
    eligible = [c.id for c in comp.cells if comp.proc_s[tasks[0].index, cidx[c.id]] >= 0]
    best_alone = max(job.release_s, problem.origin_s) + (
        min(int(p) for p in comp.proc_s[tasks[0].index] if p >= 0) if len(tasks) == 1 else 0
    )
    if len(tasks) == 1 and best_alone > job.due_s:
        ex.reasons.append(
            f"cannot be on time even alone: released {_hm(job.release_s)}, needs at least "
            f"{_hm(best_alone - job.release_s)} on the fastest cell, due {_hm(job.due_s)}"
        )
    if len(eligible) < len(comp.cells):
        ex.reasons.append(
            f"only {len(eligible)} of {len(comp.cells)} cells can take it: {', '.join(eligible)}"
        )
    # 2. per slot: what ran before it after its release, changeovers, blocked windows
    ahead_s = ahead_n = ahead_urgent = 0
    changeover_s = blocked_s = 0
    for cell_id, i, s in slots:
        c = cidx[cell_id]
        before = plan.cells[cell_id][:i]
        for b in before:
            if b.end_s > job.release_s:
                ahead_n += 1
                ahead_s += b.end_s - max(b.setup_start_s, job.release_s)
                other = next(j for j in comp.jobs if j.id == b.job)
                if other.due_s < job.due_s or other.weight > job.weight:
                    ahead_urgent += 1
        changeover_s += s.start_s - s.setup_start_s
        t = next(t for t in tasks if t.id == s.task)
        for a, b, owner in comp.blocked[c]:
            if owner is not None and owner == t.firm:
                continue
            lo, hi = max(a, job.release_s), min(b, s.setup_start_s)
            if hi > lo:
                blocked_s += hi - lo
                what = "maintenance" if owner is None else f"a booking of {owner}"
                ex.reasons.append(f"{cell_id} was blocked by {what} for {_hm(hi - lo)} before it")
    if ahead_n:
        ex.reasons.append(
            f"{ahead_n} task(s) ran before it on its cell(s) after its release ({_hm(ahead_s)}); "
            f"{ahead_urgent} of them due earlier or weighted higher"
        )
    if changeover_s:
        ex.reasons.append(f"changeover before it: {_hm(changeover_s)}")
    if len(tasks) > 1:
        ex.reasons.append(f"split into {len(tasks)} batches; completes with the last one")
    if late > 0 and not ex.reasons:
        ex.reasons.append("the cells were busy with other work from its release on")
    ex.figures = {
        "fastest_processing_s": float(fastest),
        "waiting_behind_s": float(ahead_s),
        "changeover_s": float(changeover_s),
        "blocked_s": float(blocked_s),
    }
    return ex

"""Plan the factory: construct, anneal, polish windows with CP-SAT, enforce hard deadlines.

Budget (wall clock, ``time_limit_s``):

* small problems (up to ``EXACT_MAX_TASKS`` free tasks): a short anneal gives the hint, then
  the whole CP-SAT model, which usually proves the plan optimal;
* larger ones: the best constructive start, simulated annealing for most of the budget,
  then CP-SAT on windows of two cells (about a dozen consecutive tasks each) while time is
  left, each accepted only if the decoded plan costs less.

Hard deadlines (promised dates) are never relaxed: if the search ends with a missed deadline,
CP-SAT is asked for a plan of the deadline tasks alone (the others can always go after
them); if that is infeasible, the smallest conflicting set found is raised.
"""

from __future__ import annotations

import time

import numpy as np

from edge_gateway.scheduler.factory_cpsat import CellState, solve_cells
from edge_gateway.scheduler.improve import Annealer, construct, insert_best
from edge_gateway.scheduler.model import Compiled, Problem, compile_problem
from edge_gateway.scheduler.plans import Decoder, Frozen, Plan
from recipes.errors import InvalidInputError

#: problems with at most this many free tasks get the whole CP-SAT model
EXACT_MAX_TASKS = 14
#: share of the budget left to CP-SAT windows on large problems
WINDOW_SHARE = 0.15
#: tasks per cell freed in one CP-SAT window
WINDOW_TASKS = 10


class InfeasiblePlanError(InvalidInputError):
    """Hard constraints that no plan can meet; ``conflict`` lists the job ids involved."""

    def __init__(self, conflict: list[str], reason: str) -> None:
        self.conflict = conflict
        super().__init__("jobs[" + ",".join(conflict) + "].deadline", reason)


def _temperatures(dec: Decoder) -> tuple[float, float]:
    """Start and end temperatures: about one changeover's price, down to a hundredth of it."""
    comp = dec.comp
    w = comp.problem.weights
    co = comp.co_time_s[:, : comp.clean, : comp.clean]
    typical = float(co[co > 0].mean()) if (co > 0).any() else 60.0
    t0 = max(1.0, w.changeover_time * typical + w.tardiness * typical * 0.1)
    return t0, t0 / 100.0


def _anneal(
    dec: Decoder, seqs: list[list[int]], deadline: float, seed: int, scale: float = 1.0
) -> Annealer:
    an = Annealer(dec, seqs, seed=seed)
    t_hi, t_lo = _temperatures(dec)
    an.run(deadline, t_hi * scale, t_lo * scale)
    return an


def _cell_states(dec: Decoder, seqs: list[list[int]]) -> list[list[tuple[int, int, int]]]:
    """Decoded (setup_start, start, end) per position, per cell."""
    out = []
    for c, seq in enumerate(seqs):
        time_s, loaded = dec.start_t[c], dec.start_f[c]
        rows = []
        for t in seq:
            a, s, e = dec.place(c, t, time_s, loaded)
            rows.append((a, s, e))
            time_s, loaded = e, dec.fin[t]
        out.append(rows)
    return out


def _window_round(
    dec: Decoder, an: Annealer, rng: np.random.Generator, time_limit_s: float, workers: int
) -> bool:
    """Free about WINDOW_TASKS consecutive tasks on two cells; re-solve them with CP-SAT."""
    seqs = an.seqs
    n_cells = len(seqs)
    busy = [c for c in range(n_cells) if len(seqs[c]) >= 2]
    if len(busy) < 1:
        return False
    a = int(rng.choice(busy))
    times = _cell_states(dec, seqs)
    lo = int(rng.integers(0, max(1, len(seqs[a]) - WINDOW_TASKS + 1)))
    t_lo = times[a][lo][0]
    others = [c for c in range(n_cells) if c != a and seqs[c]]
    cells = [a]
    if others:
        b = int(rng.choice(others))
        starts = [row[0] for row in times[b]]
        lo_b = int(np.searchsorted(starts, t_lo))
        lo_b = min(lo_b, max(0, len(seqs[b]) - 1))
        cells.append(b)
    spans = {a: (lo, min(len(seqs[a]), lo + WINDOW_TASKS))}
    if len(cells) == 2:
        spans[cells[1]] = (lo_b, min(len(seqs[cells[1]]), lo_b + WINDOW_TASKS))
    states: dict[int, CellState] = {}
    free: list[int] = []
    hint: dict[int, list[int]] = {}
    for c, (i, j) in spans.items():
        seq = seqs[c]
        if i > 0:
            start_s, loaded = times[c][i - 1][2], dec.fin[seq[i - 1]]
        else:
            start_s, loaded = dec.start_t[c], dec.start_f[c]
        end_s = times[c][j][1] if j < len(seq) else None
        next_f = dec.fin[seq[j]] if j < len(seq) else None
        states[c] = CellState(start_s, loaded, end_s, next_f)
        free += seq[i:j]
        hint[c] = seq[i:j]
    if not free:
        return False
    res = solve_cells(
        dec,
        free,
        states,
        hint=hint,
        time_limit_s=time_limit_s,
        workers=workers,
        seed=int(rng.integers(1 << 30)),
    )
    if res.seqs is None:
        return False
    new = {c: seqs[c][: spans[c][0]] + res.seqs[c] + seqs[c][spans[c][1] :] for c in spans}
    new_cost = {c: dec.cell_cost(c, q) for c, q in new.items()}
    if sum(new_cost.values()) < sum(an.cost[c] for c in new) - 1e-6:
        for c, q in new.items():
            an.seqs[c] = q
            an.cost[c] = new_cost[c]
        an.best = [list(q) for q in an.seqs]
        an.best_total = an.total()
        return True
    return False


def _deadline_repair(dec: Decoder, seqs: list[list[int]], time_limit_s: float, workers: int):
    """A plan meeting every deadline, or InfeasiblePlanError with a small conflicting set."""
    comp = dec.comp
    free = [t.index for t in comp.tasks if t.index not in dec.frozen]
    with_dl = [t for t in free if dec.dl[t] is not None]
    states = {c: CellState(dec.start_t[c], dec.start_f[c]) for c in range(len(comp.cells))}
    t_end = time.perf_counter() + time_limit_s
    res = solve_cells(dec, with_dl, states, time_limit_s=time_limit_s, workers=workers)
    if res.seqs is not None:
        new = [list(res.seqs.get(c, [])) for c in range(len(comp.cells))]
        cost = [dec.cell_cost(c, q) for c, q in enumerate(new)]
        for t in sorted(set(free) - set(with_dl), key=lambda t: dec.due[t]):
            insert_best(dec, new, cost, t)
        return new
    if res.status != "INFEASIBLE":
        missed = _missed(dec, seqs)
        raise InfeasiblePlanError(
            sorted({comp.tasks[t].job for t in missed}),
            f"no plan meeting every deadline found within {time_limit_s:.1f} s",
        )
    core = list(dict.fromkeys(res.conflict)) or with_dl
    res = solve_cells(
        dec,
        with_dl,
        states,
        time_limit_s=max(0.5, t_end - time.perf_counter()),
        find_conflict=True,
        deadlines_on=set(core),
    )
    if res.status == "INFEASIBLE" and res.conflict:
        core = list(dict.fromkeys(res.conflict))
    # deletion filter: drop each deadline whose removal keeps the set infeasible
    for t in list(core):
        trial = [u for u in core if u != t]
        if not trial:
            break
        r = solve_cells(
            dec,
            trial,
            states,
            time_limit_s=1.0,
            find_conflict=True,
            deadlines_on=set(trial),
        )
        if r.status == "INFEASIBLE":
            core = trial
    jobs = sorted({comp.tasks[t].job for t in core})
    detail = ", ".join(f"{comp.tasks[t].id} by {dec.dl[t]} s" for t in core)
    raise InfeasiblePlanError(jobs, f"these deadlines cannot all be met: {detail}")


def _missed(dec: Decoder, seqs: list[list[int]]) -> list[int]:
    out = []
    for c, rows in enumerate(_cell_states(dec, seqs)):
        for t, (_, _, e) in zip(seqs[c], rows, strict=True):
            if dec.dl[t] is not None and e > dec.dl[t]:
                out.append(t)
    return out


def solve_plan(
    comp: Compiled,
    *,
    time_limit_s: float = 30.0,
    seed: int = 0,
    frozen: list[Frozen] | None = None,
    warm_start: list[list[int]] | None = None,
    reference_cell: dict[int, int] | None = None,
    workers: int = 2,
    temperature_scale: float = 1.0,
) -> Plan:
    """Optimise a compiled problem; see the module doc for the phases.

    ``frozen`` tasks keep their cell and times; ``warm_start`` gives task-index sequences
    per cell (missing tasks are inserted where they cost least); ``reference_cell`` maps
    task index to its cell in the previous plan (moving costs ``weights.stability``); a
    ``temperature_scale`` below 1 keeps the annealing close to the warm start.
    """
    t0 = time.perf_counter()
    # keep a little of the budget for timing the final plan
    deadline = t0 + float(time_limit_s) - min(0.1, 0.02 * float(time_limit_s))
    dec = Decoder(comp, frozen, reference_cell)
    free = [t.index for t in comp.tasks if t.index not in dec.frozen]
    if warm_start is not None:
        seqs = [[t for t in q if t not in dec.frozen] for q in warm_start]
        placed = {t for q in seqs for t in q}
        cost = [dec.cell_cost(c, q) for c, q in enumerate(seqs)]
        for t in sorted(set(free) - placed, key=lambda t: dec.due[t]):
            insert_best(dec, seqs, cost, t)
    else:
        seqs = construct(dec)
    stats: dict[str, float] = {"windows": 0, "window_improvements": 0}
    optimal = False
    rng = np.random.default_rng(seed)
    if len(free) <= EXACT_MAX_TASKS:
        an = _anneal(
            dec, seqs, t0 + min(0.2 * time_limit_s, 0.2 + 0.02 * len(free)), seed, temperature_scale
        )
        seqs = an.seqs
        states = {c: CellState(dec.start_t[c], dec.start_f[c]) for c in range(len(comp.cells))}
        res = solve_cells(
            dec,
            free,
            states,
            hint=dict(enumerate(seqs)),
            time_limit_s=max(0.2, deadline - time.perf_counter()),
            workers=workers,
            seed=seed,
        )
        if res.seqs is not None:
            cand = [res.seqs.get(c, []) for c in range(len(comp.cells))]
            if sum(dec.cell_cost(c, q) for c, q in enumerate(cand)) <= an.total() + 1e-6:
                seqs = cand
            optimal = res.status == "OPTIMAL" and not reference_cell
    else:
        share = WINDOW_SHARE if time_limit_s >= 5 else 0.0
        an = _anneal(dec, seqs, t0 + (1 - share) * time_limit_s, seed, temperature_scale)
        while (left := deadline - time.perf_counter()) > 0.3 and share > 0:
            stats["windows"] += 1
            if _window_round(dec, an, rng, min(1.0, left), workers):
                stats["window_improvements"] += 1
        seqs = an.seqs
        stats["moves"] = an.moves
    if _missed(dec, seqs):
        seqs = _deadline_repair(dec, seqs, max(1.0, deadline - time.perf_counter()), workers)
        missed = _missed(dec, seqs)
        if missed:
            raise InfeasiblePlanError(
                sorted({comp.tasks[t].job for t in missed}), "no plan meeting every deadline found"
            )
    stats["elapsed_s"] = round(time.perf_counter() - t0, 3)
    figures = dec.figures(seqs)
    return Plan(dec.slots(seqs), figures, optimal=optimal, stats=stats)


def plan(problem: Problem, *, time_limit_s: float = 30.0, seed: int = 0, workers: int = 2) -> Plan:
    """Plan a problem from scratch (validates it first: bad input raises InvalidInputError).

    ``time_limit_s`` is the whole wall-clock budget, validation included.
    """
    t0 = time.perf_counter()
    comp = compile_problem(problem)
    left = max(0.1, time_limit_s - (time.perf_counter() - t0))
    return solve_plan(comp, time_limit_s=left, seed=seed, workers=workers)

"""Small hand-made factory problems for the scheduler tests."""

from __future__ import annotations

import itertools

from edge_gateway.scheduler.model import Cell, Changeover, Job, Problem, Weights
from edge_gateway.scheduler.plans import Decoder

FINISHES = ["black", "grey", "white"]
LIGHT = {"black": 0.0, "grey": 0.5, "white": 1.0}


def changeovers(base_s: int = 300, dark_to_light_s: int = 600) -> list[Changeover]:
    out = []
    for a, b in itertools.permutations(FINISHES, 2):
        t = base_s + int(dark_to_light_s * max(0.0, LIGHT[b] - LIGHT[a]))
        out.append(Changeover(from_finish=a, to_finish=b, time_s=t, cost=t / 100))
    return out


def job(jid: str, finish: str, qty: int = 10, *, firm: str = "acme", **kw) -> Job:
    kw.setdefault("cycle_time_s", 30.0)
    kw.setdefault("load_unload_s", 60.0)
    kw.setdefault("due_s", 3 * 3600)
    return Job(id=jid, firm=firm, part_type="door", quantity=qty, finish=finish, **kw)


def small_problem(**kw) -> Problem:
    """2 cells (c2 takes large parts), 3 finishes, 7 jobs."""
    cells = [
        Cell(id="c1", max_part_size_mm=1200),
        Cell(id="c2", max_part_size_mm=3000, takes_3d=True, speed_factor=1.2),
    ]
    jobs = [
        job("j1", "white", 10, due_s=1800),
        job("j2", "black", 8, due_s=3600),
        job("j3", "white", 12, due_s=5400),
        job("j4", "grey", 6, due_s=2400, part_size_mm=2000),
        job("j5", "black", 10, due_s=7200, release_s=600),
        job("j6", "grey", 9, due_s=4000, firm="bolt"),
        job("j7", "white", 5, due_s=6000, weight=2),
    ]
    return Problem(
        finishes=FINISHES,
        cells=cells,
        jobs=jobs,
        changeovers=changeovers(),
        weights=Weights(),
        **kw,
    )


def brute_force_best(dec: Decoder, tasks: list[int]) -> float:
    """Cheapest decoded cost over every assignment and order (tiny problems only)."""
    n_cells = len(dec.comp.cells)
    best = float("inf")
    for assign in itertools.product(range(n_cells), repeat=len(tasks)):
        if any(dec.proc[t][c] < 0 for t, c in zip(tasks, assign, strict=True)):
            continue
        groups = [[t for t, a in zip(tasks, assign, strict=True) if a == c] for c in range(n_cells)]
        total = 0.0
        for c, g in enumerate(groups):
            total += min(dec.cell_cost(c, list(p)) for p in itertools.permutations(g))
        best = min(best, total)
    return best

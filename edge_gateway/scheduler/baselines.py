"""Dispatch baselines a shop would use without an optimiser: FIFO and earliest due date.

Tasks are taken in rule order; each goes to the end of the cell where it would finish first
(changeover, release and blocked windows included). Started tasks stay where they are.
"""

from __future__ import annotations

from edge_gateway.scheduler.model import Compiled, Problem, compile_problem
from edge_gateway.scheduler.plans import Decoder, Plan


def list_schedule(dec: Decoder, order: list[int]) -> list[list[int]]:
    """Append tasks in ``order``, each to the cell where it ends earliest."""
    comp = dec.comp
    n_cells = len(comp.cells)
    seqs: list[list[int]] = [[] for _ in range(n_cells)]
    time = list(dec.start_t)
    loaded = list(dec.start_f)
    for t in order:
        best = None
        for c in range(n_cells):
            if dec.proc[t][c] < 0:
                continue
            _, _, end = dec.place(c, t, time[c], loaded[c])
            if best is None or end < best[0]:
                best = (end, c)
        assert best is not None  # validation guarantees an eligible cell
        end, c = best
        seqs[c].append(t)
        time[c], loaded[c] = end, dec.fin[t]
    return seqs


def _free_tasks(dec: Decoder) -> list[int]:
    return [t.index for t in dec.comp.tasks if t.index not in dec.frozen]


def fifo_order(dec: Decoder) -> list[int]:
    tasks = dec.comp.tasks
    return sorted(_free_tasks(dec), key=lambda t: (tasks[t].release_s, t))


def edd_order(dec: Decoder) -> list[int]:
    tasks = dec.comp.tasks
    return sorted(_free_tasks(dec), key=lambda t: (tasks[t].due_s, tasks[t].release_s, t))


def _plan(comp: Compiled, rule: str) -> Plan:
    dec = Decoder(comp)
    order = fifo_order(dec) if rule == "fifo" else edd_order(dec)
    seqs = list_schedule(dec, order)
    return Plan(dec.slots(seqs), dec.figures(seqs))


def fifo_plan(problem: Problem | Compiled) -> Plan:
    """First come (release time), first served."""
    comp = problem if isinstance(problem, Compiled) else compile_problem(problem)
    return _plan(comp, "fifo")


def edd_plan(problem: Problem | Compiled) -> Plan:
    """Earliest due date first."""
    comp = problem if isinstance(problem, Compiled) else compile_problem(problem)
    return _plan(comp, "edd")

"""CP-SAT model of (part of) the factory problem.

For a set of free tasks and a set of cells, each cell starting at a given time with a given
finish loaded and optionally ending before a given time (``cell_end``, with the finish to
change to next):

* one presence literal per (task, eligible cell), exactly one per task;
* one circuit per cell (depot + its candidate tasks); an arc ``i -> j`` forces the changeover
  between them: ``setup_start_j >= end_i`` and ``start_j >= setup_start_j + changeover``;
* per cell a no-overlap of ``[setup_start, end)`` with maintenance, and per task of another
  firm a no-overlap with each booking;
* release times, and hard deadlines guarded by assumption literals (for conflict sets);
* objective: the decoder's prices (weighted tardiness per task, changeover time and cost,
  each cell's end for the makespan term), scaled by 100 to integers.

Used whole on small problems (optimal plans), on time windows of a large plan (LNS), and to
find a smallest conflicting set of deadlines when no plan meets them all.
"""

from __future__ import annotations

from dataclasses import dataclass

from ortools.sat.python import cp_model

from edge_gateway.scheduler.plans import Decoder

_SCALE = 100


@dataclass
class CellState:
    start_s: int  # the cell is free from here
    loaded: int  # finish index loaded (comp.clean: none)
    end_s: int | None = None  # free tasks must end by here (window LNS)
    next_finish: int | None = None  # finish of the first task after the window


@dataclass
class CpResult:
    seqs: dict[int, list[int]] | None  # cell -> task indices in order
    status: str
    objective: float | None
    conflict: list[int]  # task indices whose deadlines conflict (when infeasible)


def solve_cells(
    dec: Decoder,
    tasks: list[int],
    states: dict[int, CellState],
    *,
    hint: dict[int, list[int]] | None = None,
    time_limit_s: float = 5.0,
    workers: int = 2,
    seed: int = 0,
    find_conflict: bool = False,
    deadlines_on: set[int] | None = None,
) -> CpResult:
    """Assign and sequence ``tasks`` on the cells of ``states`` (see module doc).

    ``deadlines_on`` restricts which deadlines are imposed (default: all); with
    ``find_conflict`` an infeasible model yields the deadlines in one conflicting set.
    """
    comp = dec.comp
    w = comp.problem.weights
    cells = sorted(states)
    horizon = (
        max([s.start_s for s in states.values()] + [dec.rel[t] for t in tasks] + [0])
        + sum(max(dec.proc[t][c] for c in cells) for t in tasks)
        + len(tasks) * int(comp.co_time_s.max(initial=0))
        + sum(b - a for c in cells for a, b, _ in comp.blocked[c])
    )
    m = cp_model.CpModel()
    start, setup_start, end, span = {}, {}, {}, {}
    for t in tasks:
        start[t] = m.NewIntVar(dec.rel[t], horizon, f"s{t}")
        setup_start[t] = m.NewIntVar(0, horizon, f"ss{t}")
        end[t] = m.NewIntVar(0, horizon, f"e{t}")
        m.Add(setup_start[t] <= start[t])
        span[t] = m.NewIntVar(0, horizon, f"d{t}")
        m.Add(span[t] == end[t] - setup_start[t])
    pres: dict[tuple[int, int], cp_model.IntVar] = {}
    arcs_of: dict[int, dict[tuple[int, int], cp_model.IntVar]] = {}
    co_time_terms, co_cost_terms = [], []
    for c in cells:
        st = states[c]
        cand = [t for t in tasks if dec.proc[t][c] >= 0]
        arcs = []
        arc_map: dict[tuple[int, int], cp_model.IntVar] = {}
        empty = m.NewBoolVar(f"empty{c}")
        arcs.append((0, 0, empty))
        intervals = []
        for k, t in enumerate(cand):
            x = m.NewBoolVar(f"x{t}_{c}")
            pres[t, c] = x
            m.AddImplication(empty, ~x)
            arcs.append((k + 1, k + 1, ~x))
            m.Add(end[t] == start[t] + dec.proc[t][c]).OnlyEnforceIf(x)
            m.Add(setup_start[t] >= st.start_s).OnlyEnforceIf(x)
            itv = m.NewOptionalIntervalVar(setup_start[t], span[t], end[t], x, f"i{t}_{c}")
            intervals.append(itv)
            for a, b, owner in comp.blocked[c]:
                if owner is not None and owner != dec.firm[t]:
                    m.AddNoOverlap([itv, m.NewFixedSizeIntervalVar(a, b - a, "")])
            # from the depot: changeover from the loaded finish
            lit = m.NewBoolVar("")
            arcs.append((0, k + 1, lit))
            arc_map[-1, t] = lit
            su = 0 if st.loaded in (comp.clean, dec.fin[t]) else dec.co_t[c][st.loaded][dec.fin[t]]
            m.Add(start[t] >= setup_start[t] + su).OnlyEnforceIf(lit)
            if su:
                co_time_terms.append((lit, su))
                co_cost_terms.append((lit, dec.co_c[c][st.loaded][dec.fin[t]]))
            # to the depot: the window's end and the change to the next finish
            lit = m.NewBoolVar("")
            arcs.append((k + 1, 0, lit))
            arc_map[t, -1] = lit
            if st.end_s is not None:
                nxt = st.next_finish
                su_out = 0 if nxt is None or nxt == dec.fin[t] else dec.co_t[c][dec.fin[t]][nxt]
                m.Add(end[t] + su_out <= st.end_s).OnlyEnforceIf(lit)
                if su_out:
                    co_time_terms.append((lit, su_out))
                    co_cost_terms.append((lit, dec.co_c[c][dec.fin[t]][nxt]))
        for k1, t1 in enumerate(cand):
            for k2, t2 in enumerate(cand):
                if t1 == t2:
                    continue
                lit = m.NewBoolVar("")
                arcs.append((k1 + 1, k2 + 1, lit))
                arc_map[t1, t2] = lit
                f1, f2 = dec.fin[t1], dec.fin[t2]
                su = dec.co_t[c][f1][f2] if f1 != f2 else 0
                m.Add(setup_start[t2] >= end[t1]).OnlyEnforceIf(lit)
                m.Add(start[t2] >= setup_start[t2] + su).OnlyEnforceIf(lit)
                if su:
                    co_time_terms.append((lit, su))
                    co_cost_terms.append((lit, dec.co_c[c][f1][f2]))
        for a, b, owner in comp.blocked[c]:
            if owner is None:
                intervals.append(m.NewFixedSizeIntervalVar(a, b - a, ""))
        m.AddNoOverlap(intervals)
        m.AddCircuit(arcs)
        arcs_of[c] = arc_map
    for t in tasks:
        lits = [pres[t, c] for c in cells if (t, c) in pres]
        if not lits:
            return CpResult(None, "NO_CELL", None, [t])
        m.AddExactlyOne(lits)
    # hard deadlines, each behind an assumption literal
    assumptions: dict[int, cp_model.IntVar] = {}
    for t in tasks:
        d = dec.dl[t]
        if d is None or (deadlines_on is not None and t not in deadlines_on):
            continue
        if not find_conflict:
            m.Add(end[t] <= d)
            continue
        a = m.NewBoolVar(f"deadline{t}")
        m.Add(end[t] <= d).OnlyEnforceIf(a)
        assumptions[t] = a
    # objective: the decoder's prices (tardiness per task, each cell's end for the makespan)
    obj = []
    for t in tasks:
        tard = m.NewIntVar(0, horizon, f"T{t}")
        m.Add(tard >= end[t] - dec.due[t])
        obj.append(tard * int(round(w.tardiness * dec.wt[t] * _SCALE)))
    obj += [lit * int(round(w.changeover_time * v * _SCALE)) for lit, v in co_time_terms]
    obj += [lit * int(round(w.changeover_cost * v * _SCALE)) for lit, v in co_cost_terms]
    for c in cells:
        cend = m.NewIntVar(states[c].start_s, horizon, f"cend{c}")
        for t in tasks:
            if (t, c) in pres:
                m.Add(cend >= end[t]).OnlyEnforceIf(pres[t, c])
        obj.append(cend * int(round(w.makespan * _SCALE)))
    if not find_conflict:
        m.Minimize(sum(obj))
    if hint:
        pos = {t: c for c, seq in hint.items() for t in seq}
        for (t, c), x in pres.items():
            m.AddHint(x, pos.get(t) == c)
        for c, seq in hint.items():
            if c not in arcs_of:
                continue
            chain = set(zip([-1, *seq], [*seq, -1], strict=True)) if seq else set()
            for key, lit in arcs_of[c].items():
                m.AddHint(lit, key in chain)
    if assumptions:
        m.AddAssumptions(list(assumptions.values()))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = 1 if assumptions and find_conflict else int(workers)
    solver.parameters.random_seed = int(seed)
    status = solver.Solve(m)
    name = solver.StatusName(status)
    if status == cp_model.INFEASIBLE:
        core: list[int] = []
        if assumptions:
            inv = {a.Index(): t for t, a in assumptions.items()}
            core = [inv[i] for i in solver.SufficientAssumptionsForInfeasibility() if i in inv]
        return CpResult(None, name, None, core)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return CpResult(None, name, None, [])
    seqs: dict[int, list[int]] = {}
    for c in cells:
        succ = {i: j for (i, j), lit in arcs_of[c].items() if solver.BooleanValue(lit)}
        seq, cur = [], succ.get(-1, -1)
        while cur != -1:
            seq.append(cur)
            cur = succ[cur]
        seqs[c] = seq
    objective = solver.ObjectiveValue() / _SCALE if not find_conflict else None
    return CpResult(seqs, name, objective, [])

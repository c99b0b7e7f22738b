"""CP-SAT model of UPMSP-SDST on a subset of machines: assignment + one circuit per machine.

Node 0 of each machine's circuit is the depot; node ``i + 1`` is the i-th free job. A job not
on machine ``k`` takes its self-loop there. The objective is lexicographic: the largest load
of the chosen machines first, then their total load (so the free jobs are packed tightly).
Used whole for small instances (proves optimality) and on a few machines at a time by the
large-neighbourhood search.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model


@dataclass
class SubResult:
    """Outcome of one sub-problem solve."""

    machines: list[list[int]] | None  # one sequence per chosen machine, in that order
    loads: list[int] | None
    optimal: bool
    infeasible: bool
    bound: int  # lower bound on the largest load of the chosen machines


def solve_subset(
    p: np.ndarray,
    s: np.ndarray,
    machine_ids: list[int],
    jobs: list[int],
    *,
    hint: list[list[int]] | None = None,
    max_load: int | None = None,
    target: int | None = None,
    time_limit_s: float = 1.0,
    workers: int = 2,
    seed: int = 0,
) -> SubResult:
    """Assign and sequence ``jobs`` on ``machine_ids`` to minimise (max load, total load).

    Parameters
    ----------
    p : (m, n) int array
    s : (m, n, n) int array
    hint : list of sequences, one per machine of ``machine_ids`` (the incumbent)
    max_load : int, optional
        Every chosen machine's load must stay ``<= max_load`` (prunes arcs and jobs).
    target : int, optional
        If given, minimise (total load above ``target``, total load) instead of
        (largest load, total load).
    """
    jobs_arr = np.asarray(jobs, dtype=np.int64)
    K = len(jobs)
    model = cp_model.CpModel()
    if max_load is not None:
        cap = int(max_load)
    else:
        cap = int(p[machine_ids][:, jobs_arr].max(axis=0).sum() + s[machine_ids].max() * K + 1)
    cap_all = cap
    assign: dict[tuple[int, int], cp_model.IntVar] = {}
    arcs_of: dict[int, dict[tuple[int, int], cp_model.IntVar]] = {}
    loads = []
    empties = []
    for kk, k in enumerate(machine_ids):
        pk = p[k, jobs_arr]
        sk = s[k][np.ix_(jobs_arr, jobs_arr)]
        arcs: list[tuple[int, int, cp_model.IntVar]] = []
        arc_map: dict[tuple[int, int], cp_model.IntVar] = {}
        terms_v, terms_c = [], []
        empty = model.NewBoolVar(f"empty_{kk}")
        arcs.append((0, 0, empty))
        for i in range(K):
            if pk[i] > cap:
                continue
            a = model.NewBoolVar(f"a_{kk}_{i}")
            assign[kk, i] = a
            arcs.append((i + 1, i + 1, ~a))
            terms_v.append(a)
            terms_c.append(int(pk[i]))
            st = model.NewBoolVar(f"st_{kk}_{i}")
            en = model.NewBoolVar(f"en_{kk}_{i}")
            arcs.append((0, i + 1, st))
            arcs.append((i + 1, 0, en))
            arc_map[-1, i] = st
            arc_map[i, -1] = en
            model.AddImplication(empty, ~a)
        for i in range(K):
            if (kk, i) not in assign:
                continue
            for j in range(K):
                if i == j or (kk, j) not in assign:
                    continue
                if pk[i] + pk[j] + sk[i, j] > cap:
                    continue
                x = model.NewBoolVar("")
                arcs.append((i + 1, j + 1, x))
                arc_map[i, j] = x
                if sk[i, j]:
                    terms_v.append(x)
                    terms_c.append(int(sk[i, j]))
        model.AddCircuit(arcs)
        load = model.NewIntVar(0, cap, f"load_{kk}")
        model.Add(load == cp_model.LinearExpr.WeightedSum(terms_v, terms_c))
        loads.append(load)
        arcs_of[kk] = arc_map
        empties.append(empty)
    for i in range(K):
        lits = [assign[kk, i] for kk in range(len(machine_ids)) if (kk, i) in assign]
        if not lits:
            return SubResult(None, None, False, True, cap + 1)
        model.AddExactlyOne(lits)
    cmax = model.NewIntVar(0, cap_all, "cmax")
    model.AddMaxEquality(cmax, loads)
    total_ub = cap_all * len(machine_ids) + 1
    if target is None:
        model.Minimize(cmax * total_ub + sum(loads))
    else:
        excess = []
        for kk, load in enumerate(loads):
            e = model.NewIntVar(0, max(0, cap_all - int(target)), f"excess_{kk}")
            model.Add(e >= load - int(target))
            excess.append(e)
        model.Minimize(total_ub * sum(excess) + sum(loads))

    if hint is not None:
        pos = {int(j): idx for idx, j in enumerate(jobs)}
        hint_loads: list[int] = []
        for kk, seq in enumerate(hint):
            local = [pos[j] for j in seq]
            on = set(local)
            for i in range(K):
                if (kk, i) in assign:
                    model.AddHint(assign[kk, i], i in on)
            chain = list(zip([-1, *local], [*local, -1], strict=True)) if local else []
            chain_set = set(chain)
            for key, var in arcs_of[kk].items():
                model.AddHint(var, key in chain_set)
            model.AddHint(empties[kk], not local)
            load = int(p[machine_ids[kk], seq].sum()) + sum(
                int(s[machine_ids[kk], a, b]) for a, b in zip(seq[:-1], seq[1:], strict=True)
            )
            hint_loads.append(load)
            model.AddHint(loads[kk], load)
        model.AddHint(cmax, max(hint_loads))

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = int(seed)
    if K > 20:
        # probing costs about a second on 50 free jobs and rarely pays back inside an LNS step
        solver.parameters.cp_model_probing_level = 0
    status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return SubResult(None, None, False, status == cp_model.INFEASIBLE, cap + 1)
    seqs: list[list[int]] = []
    for kk in range(len(machine_ids)):
        succ = {}
        for (i, j), var in arcs_of[kk].items():
            if solver.BooleanValue(var):
                succ[i] = j
        seq, cur = [], succ.get(-1, -1)
        while cur != -1:
            seq.append(int(jobs[cur]))
            cur = succ[cur]
        seqs.append(seq)
    bound = int(solver.BestObjectiveBound()) // total_ub
    if target is not None:
        bound = 0  # the objective bounds the excess, not the largest load
    return SubResult(
        seqs,
        [int(solver.Value(x)) for x in loads],
        status == cp_model.OPTIMAL,
        False,
        bound,
    )

"""Assignment relaxation of UPMSP-SDST: a linear programme whose rounding is a strong start.

Each job is assigned (fractionally) to machines and, on its machine, picks one predecessor:
another job of that machine or the machine's start. Every job is the predecessor of at most
one job, each machine has at most one start, and every machine's processing plus chosen
setups stays below ``C``, which is minimised. Without subtour elimination this is the
relaxation behind the exact methods for this problem (its optimum is close to the best
lower bounds known for the public instances); its assignment part, rounded, puts jobs on
fast machines with cheap setup partners while keeping the loads even, which insertion
heuristics do not.

To keep the programme small, a job may go only to its ``machines_per_job`` fastest machines
and pick only its ``preds_per_job`` cheapest predecessors among the jobs allowed there. A
*fallback* predecessor, priced at the next cheapest setup and not using up another job's
successor slot, keeps the model feasible with few arcs (it makes the bound weaker, not the
rounding worse).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from edge_gateway.scheduler.upmsp_cpsat import solve_subset

#: a job may be assigned only to this many of its fastest machines
MACHINES_PER_JOB = 4
#: predecessor candidates per job and machine (the cheapest setups into it)
PREDS_PER_JOB = 8
#: upper bound on arc variables: fewer predecessor candidates on big instances
MAX_ARCS = 40_000
#: wall-clock cap of one machine's exact sequencing in the start
SEQUENCE_LIMIT_S = 0.5


def allowed_machines(p: np.ndarray, machines_per_job: int) -> np.ndarray:
    """``(m, n)`` bool: machine ``k`` is one of job ``j``'s fastest ``machines_per_job``."""
    m, n = p.shape
    r = min(m, machines_per_job)
    rank = np.argsort(np.argsort(p, axis=0, kind="stable"), axis=0, kind="stable")
    return rank < r


@dataclass(frozen=True)
class Relaxation:
    """Solution of the relaxation.

    Attributes
    ----------
    x : (m, n) float array
        Share of job ``j`` on machine ``k`` (each column sums to 1).
    makespan : float
        Optimal ``C``. A lower bound on the makespan only without pruning
        (``machines_per_job >= m`` and ``preds_per_job >= n - 1``).
    """

    x: np.ndarray
    makespan: float


def relaxed_assignment(
    p: np.ndarray,
    s: np.ndarray,
    *,
    machines_per_job: int = MACHINES_PER_JOB,
    preds_per_job: int = PREDS_PER_JOB,
    time_limit_s: float = 10.0,
) -> Relaxation | None:
    """Solve the relaxation; None if the solver fails or runs out of time.

    Parameters
    ----------
    p : (m, n) int array
        Processing times.
    s : (m, n, n) int array
        Setups (row = predecessor, column = successor).
    """
    m, n = p.shape
    allowed = allowed_machines(p, machines_per_job)
    arcs_per_pred = max(1, MAX_ARCS // max(1, int(allowed.sum())))
    k_pred = max(1, min(preds_per_job, arcs_per_pred))

    # variables: x (allowed pairs) | start (allowed pairs) | fallback (allowed pairs)
    # | arcs | C; x, start and fallback share the pair index
    pair_k, pair_j = np.nonzero(allowed)
    n_pairs = pair_k.size
    pair_id = np.full((m, n), -1, dtype=np.int64)
    pair_id[pair_k, pair_j] = np.arange(n_pairs)
    arc_k, arc_i, arc_j, arc_cost, fallback_cost = [], [], [], [], np.zeros(n_pairs)
    for k in range(m):
        pool = np.flatnonzero(allowed[k])
        if pool.size == 0:
            continue
        sk = s[k][np.ix_(pool, pool)].astype(np.float64)
        np.fill_diagonal(sk, np.inf)  # a job does not precede itself
        kk = min(k_pred, pool.size - 1)
        order = np.argsort(sk, axis=0, kind="stable")  # predecessors by setup, per column
        if kk > 0:
            pred_local = order[:kk, :]  # (kk, |pool|)
            cols = np.broadcast_to(np.arange(pool.size), pred_local.shape)
            arc_k.append(np.full(pred_local.size, k))
            arc_i.append(pool[pred_local].ravel())
            arc_j.append(pool[cols].ravel())
            arc_cost.append(sk[pred_local, cols].ravel())
        nxt = sk[order[min(kk, pool.size - 1)], np.arange(pool.size)] if pool.size > 1 else 0.0
        # with every job of the pool a candidate, the fallback is priced out of use
        fallback_cost[pair_id[k, pool]] = np.where(np.isfinite(nxt), nxt, float(s.max()) + 1.0)
    a_k = np.concatenate(arc_k) if arc_k else np.zeros(0, dtype=np.int64)
    a_i = np.concatenate(arc_i) if arc_i else np.zeros(0, dtype=np.int64)
    a_j = np.concatenate(arc_j) if arc_j else np.zeros(0, dtype=np.int64)
    a_c = np.concatenate(arc_cost) if arc_cost else np.zeros(0)
    n_arcs = a_k.size

    x0, st0, fb0, arc0 = 0, n_pairs, 2 * n_pairs, 3 * n_pairs
    c_var = arc0 + n_arcs
    n_var = c_var + 1
    pairs = np.arange(n_pairs)
    in_row = pair_id[a_k, a_j]
    out_row = pair_id[a_k, a_i]

    # equalities: each job assigned once (n rows); in-degree equals assignment (pairs)
    eq_r = [pair_j, n + pairs, n + pairs, n + pairs, n + in_row]
    eq_c = [x0 + pairs, st0 + pairs, fb0 + pairs, x0 + pairs, arc0 + np.arange(n_arcs)]
    eq_v = [np.ones(n_pairs), np.ones(n_pairs), np.ones(n_pairs), -np.ones(n_pairs)]
    eq_v.append(np.ones(n_arcs))
    a_eq = coo_matrix(
        (np.concatenate(eq_v), (np.concatenate(eq_r), np.concatenate(eq_c))),
        shape=(n + n_pairs, n_var),
    ).tocsr()
    b_eq = np.concatenate([np.ones(n), np.zeros(n_pairs)])

    # inequalities: out-degree <= assignment (pairs); one start per machine (m);
    # load - C <= 0 (m)
    r_start, r_load = n_pairs, n_pairs + m
    ub_r = [out_row, pairs, r_start + pair_k, r_load + pair_k, r_load + pair_k, r_load + a_k]
    ub_c = [arc0 + np.arange(n_arcs), x0 + pairs, st0 + pairs, x0 + pairs, fb0 + pairs]
    ub_c.append(arc0 + np.arange(n_arcs))
    ub_v = [np.ones(n_arcs), -np.ones(n_pairs), np.ones(n_pairs)]
    ub_v += [p[pair_k, pair_j].astype(np.float64), fallback_cost, a_c]
    ub_r.append(r_load + np.arange(m))
    ub_c.append(np.full(m, c_var))
    ub_v.append(-np.ones(m))
    a_ub = coo_matrix(
        (np.concatenate(ub_v), (np.concatenate(ub_r), np.concatenate(ub_c))),
        shape=(n_pairs + 2 * m, n_var),
    ).tocsr()
    b_ub = np.concatenate([np.zeros(n_pairs), np.ones(m), np.zeros(m)])

    cost = np.zeros(n_var)
    cost[c_var] = 1.0
    res = linprog(
        cost,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=(0, None),
        method="highs-ipm",  # about twice as fast as the simplex here
        options={"time_limit": float(time_limit_s)},
    )
    if res.status != 0 or res.x is None:
        return None
    x = np.zeros((m, n))
    x[pair_k, pair_j] = res.x[x0 : x0 + n_pairs]
    return Relaxation(x=x, makespan=float(res.fun))


def round_assignment(x: np.ndarray) -> list[list[int]]:
    """Each job to the machine holding the largest share of it: one job set per machine."""
    assign = x.argmax(axis=0)
    return [[int(j) for j in np.flatnonzero(assign == k)] for k in range(x.shape[0])]


def sequence_machines(
    p: np.ndarray, s: np.ndarray, sets: list[list[int]], deadline: float
) -> list[list[int]]:
    """Order each machine's jobs by an exact (or time-capped) asymmetric-TSP solve."""
    seqs = []
    for k, jobs in enumerate(sets):
        left = deadline - time.perf_counter()
        if len(jobs) >= 2 and left > 0.01:
            res = solve_subset(p, s, [k], jobs, time_limit_s=min(left, SEQUENCE_LIMIT_S), workers=1)
            if res.machines is not None:
                seqs.append(res.machines[0])
                continue
        seqs.append(list(jobs))
    return seqs


def relaxation_start(p: np.ndarray, s: np.ndarray, time_limit_s: float) -> list[list[int]] | None:
    """A schedule from the rounded relaxation, each machine sequenced; None if out of time.

    Half of ``time_limit_s`` at most goes to the linear programme, the rest to sequencing.
    """
    t0 = time.perf_counter()
    relaxed = relaxed_assignment(p, s, time_limit_s=0.5 * time_limit_s)
    if relaxed is None:
        return None
    return sequence_machines(p, s, round_assignment(relaxed.x), t0 + time_limit_s)

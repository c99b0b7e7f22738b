"""UPMSP-SDST makespan solver: warm start, iterated greedy, CP-SAT large-neighbourhood search.

Phases, all inside one wall-clock budget:

1. the start: on all but small instances, the rounded assignment relaxation, each machine
   sequenced exactly (:mod:`upmsp_relax`, at most 30 % of the budget, usually 0.3-3 s);
   otherwise (or if that runs out of time) greedy insertion; then a descent
   (:mod:`localsearch`);
2. small instances: the whole CP-SAT model, hinted with the incumbent, usually proves
   optimality in well under a second;
3. otherwise, rounds of
   - iterated greedy (remove 2-12 jobs, one of them from the critical machine, reinsert each
     at its cheapest gap, descend; accept when the target objective does not get worse),
   - exact re-sequencing of machines, fullest first (each an asymmetric TSP, CP-SAT; with
     long sequences also once before the first round),
   - unless machines hold long sequences (n >= 10 m), CP-SAT on a few machines at a time
     (those above target plus random others, about 40 jobs), hinted with the incumbent:
     re-assigns and re-sequences their jobs exactly, which repairs what insertion moves
     cannot reach;
4. with ``workers >= 2``, two differently seeded searches of step 3 run in two processes
   (CP-SAT on one worker in each), both restarting from the better one three times in the
   budget.

The target objective (see :mod:`localsearch`): with ``T`` = best makespan - 1, minimise
``W * sum(max(0, L_k - T)) + sum(L_k)``; when no machine is above ``T`` the makespan has
improved and ``T`` drops.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from edge_gateway.scheduler.localsearch import LoadSearch, greedy_construct
from edge_gateway.scheduler.upmsp import UpmspInstance, machine_loads
from edge_gateway.scheduler.upmsp_cpsat import solve_subset
from edge_gateway.scheduler.upmsp_relax import relaxation_start

#: instances up to this many (job, job, machine) arcs are solved by the full model
FULL_MODEL_MAX_ARCS = 2_500
#: jobs freed per CP-SAT neighbourhood (the machines chosen hold about this many)
LNS_TARGET_JOBS = 40
#: most jobs removed by one iterated-greedy step
MAX_DESTROY = 12
#: share of the budget spent in CP-SAT neighbourhoods (the rest: iterated greedy)
CPSAT_SHARE = 0.3
#: jobs per machine from which rounds only re-sequence machines (no multi-machine CP-SAT)
LONG_SEQUENCES = 10
#: iterated greedy between two rounds of exact re-sequencing, long sequences (+0.02 s / 10 jobs)
IG_SLICE_S = 0.5
#: parallel searches restart from the better of the two this many times in the budget
PARALLEL_EPOCHS = 3
#: most of the budget the relaxation start may take (linear programme + sequencing)
RELAXATION_SHARE = 0.3
#: the searches stop this much before the wall-clock limit (at most 2 % of it)
DEADLINE_MARGIN_S = 0.5
#: wall-clock limit of one CP-SAT neighbourhood
SUB_TIME_LIMIT_S = 1.0


@dataclass
class UpmspResult:
    """A schedule and how it was found."""

    machines: list[list[int]]
    makespan: int
    optimal: bool
    lower_bound: int | None
    elapsed_s: float
    stats: dict[str, int] = field(default_factory=dict)


class _Search:
    """The current state (a :class:`LoadSearch` with a target) and the best schedule seen."""

    def __init__(self, inst: UpmspInstance, ls: LoadSearch, rng: np.random.Generator) -> None:
        self.inst, self.ls, self.rng = inst, ls, rng
        self.best = ls.machines()
        self.best_makespan = ls.makespan()
        self._sequenced: dict[int, tuple[int, ...]] = {}  # machine -> last exactly sequenced
        ls.target = np.int64(self.best_makespan - 1)
        self.stats = {
            "ig_iterations": 0,
            "cpsat_rounds": 0,
            "cpsat_improvements": 0,
            "resequenced": 0,
        }
        self._settle()

    def _settle(self) -> None:
        """Descend; whenever the makespan beats the best, record it and lower the target."""
        ls = self.ls
        while True:
            ls.descend()
            if ls.makespan() >= self.best_makespan:
                break
            self.best, self.best_makespan = ls.machines(), ls.makespan()
            ls.target = np.int64(self.best_makespan - 1)
        self.cur, self.cur_obj = ls.machines(), ls.objective()
        self.cur_snap = ls.snapshot()

    def offer(self, machines: list[list[int]]) -> bool:
        """Take ``machines`` as the current state if its objective is not worse."""
        ls = self.ls
        ls.set_machines(machines)
        if ls.objective() > self.cur_obj:
            ls.restore(self.cur_snap)
            return False
        self._settle()
        return True

    def iterated_greedy(self, deadline: float) -> None:
        """Destroy / repair / descend until ``deadline``."""
        ls, rng, n = self.ls, self.rng, self.inst.n
        while time.perf_counter() < deadline:
            self.stats["ig_iterations"] += 1
            d = int(rng.integers(2, min(MAX_DESTROY, n) + 1))
            crit = int(ls.L.argmax())
            picked: set[int] = set()
            if ls.seqs[crit]:
                picked.add(int(rng.choice(ls.seqs[crit])))
            while len(picked) < d:
                picked.add(int(rng.integers(n)))
            jobs = list(picked)
            rng.shuffle(jobs)
            ls.remove_jobs(jobs)
            for j in jobs:
                ls.insert_greedy(j)
            ls.descend()
            if ls.objective() <= self.cur_obj:
                self._settle()
            else:
                ls.restore(self.cur_snap)

    def _choose_machines(self) -> list[int]:
        inst, rng, L = self.inst, self.rng, self.ls.L
        per_machine = inst.n / inst.m
        k = int(np.clip(round(LNS_TARGET_JOBS / max(per_machine, 1.0)), 2, inst.m))
        over = [int(i) for i in np.flatnonzero(self.ls.target < L)]
        first = int(rng.choice(over)) if over else int(rng.integers(inst.m))
        chosen = [first]
        others = [i for i in over if i != first]
        rng.shuffle(others)
        rest = [i for i in range(inst.m) if i not in over]
        rng.shuffle(rest)
        for i in [*others, *rest]:
            if len(chosen) >= k:
                break
            chosen.append(i)
        return chosen

    def cpsat_round(self, time_limit_s: float, workers: int) -> None:
        """Re-assign and re-sequence a few machines exactly (objective: excess, then load)."""
        inst, ls = self.inst, self.ls
        chosen = self._choose_machines()
        jobs = [j for k in chosen for j in self.cur[k]]
        if not jobs:
            return
        self.stats["cpsat_rounds"] += 1
        res = solve_subset(
            inst.p,
            inst.s,
            chosen,
            jobs,
            hint=[self.cur[k] for k in chosen],
            max_load=int(ls.L[chosen].max()),
            target=int(ls.target),
            time_limit_s=time_limit_s,
            workers=workers,
            seed=int(self.rng.integers(1 << 30)),
        )
        if res.machines is None:
            return
        new = [list(seq) for seq in self.cur]
        for k, seq in zip(chosen, res.machines, strict=True):
            new[k] = seq
        before = self.cur_obj
        if self.offer(new) and self.cur_obj < before:
            self.stats["cpsat_improvements"] += 1

    def resequence(self, deadline: float, workers: int) -> None:
        """Solve machine sequences exactly (asymmetric TSPs), fullest first.

        A machine whose sequence has not changed since its last exact solve is skipped.
        """
        inst = self.inst
        new = [list(seq) for seq in self.cur]
        loads = machine_loads(inst, new)
        for k in np.argsort(-loads):
            k = int(k)
            left = deadline - time.perf_counter()
            if left <= 0.05:
                break
            if len(new[k]) < 3 or self._sequenced.get(k) == tuple(new[k]):
                continue
            res = solve_subset(
                inst.p,
                inst.s,
                [k],
                new[k],
                hint=[new[k]],
                max_load=int(loads[k]),
                time_limit_s=min(left, 1.0),
                workers=workers,
            )
            if res.machines is not None and res.loads is not None and res.loads[0] < loads[k]:
                new[k] = res.machines[0]
                self.stats["resequenced"] += 1
            if res.optimal:
                self._sequenced[k] = tuple(new[k])
        self.offer(new)


def solve_upmsp(
    inst: UpmspInstance,
    time_limit_s: float = 30.0,
    *,
    seed: int = 0,
    workers: int = 2,
    warm_start: list[list[int]] | None = None,
) -> UpmspResult:
    """Minimise the makespan of ``inst`` within ``time_limit_s`` seconds of wall clock.

    Parameters
    ----------
    warm_start : one sequence per machine, optional
        A schedule to start from (else the relaxation start, or greedy insertion on
        instances small enough for the whole CP-SAT model).
    """
    t0 = time.perf_counter()
    # the last IG step, CP-SAT solve and process join overrun the deadline a little
    deadline = t0 + float(time_limit_s) - min(DEADLINE_MARGIN_S, 0.02 * float(time_limit_s))
    rng = np.random.default_rng(seed)
    small = inst.n * inst.n * inst.m <= FULL_MODEL_MAX_ARCS
    start = warm_start
    if start is None and not small:
        start = relaxation_start(inst.p, inst.s, RELAXATION_SHARE * float(time_limit_s))
    from_relaxation = warm_start is None and start is not None
    if start is None:
        start = greedy_construct(inst.p, inst.s)
    ls = LoadSearch(inst.p, inst.s, start)
    search = _Search(inst, ls, rng)
    lower_bound: int | None = None

    if small:
        res = solve_subset(
            inst.p,
            inst.s,
            list(range(inst.m)),
            list(range(inst.n)),
            hint=search.best,
            max_load=search.best_makespan,
            time_limit_s=max(0.1, deadline - time.perf_counter()),
            workers=workers,
            seed=seed,
        )
        lower_bound = res.bound
        if res.machines is not None and res.loads is not None:
            if max(res.loads) <= search.best_makespan:
                search.best, search.best_makespan = res.machines, max(res.loads)
            if res.optimal:
                return UpmspResult(
                    search.best,
                    search.best_makespan,
                    True,
                    search.best_makespan,
                    time.perf_counter() - t0,
                    search.stats,
                )

    if workers >= 2:
        # one search per core: the iterated greedy is single-threaded Python, so a second,
        # differently seeded search (its CP-SAT solves on one worker) uses the other core
        best, best_makespan = search.best, search.best_makespan
        stats: dict[str, int] = {}
        with ProcessPoolExecutor(1, mp_context=mp.get_context("fork")) as pool:
            for epoch in range(PARALLEL_EPOCHS):
                now = time.perf_counter()
                # an absolute end (perf_counter is the system-wide monotonic clock), so the
                # time spent handing the instance to the other process is not added to it
                epoch_end = now + (deadline - now) / (PARALLEL_EPOCHS - epoch)
                s1, s2 = seed + 2 * epoch, seed + 2 * epoch + 1
                other = pool.submit(_rounds, inst, best, epoch_end, s2, 1)
                mine = _rounds(inst, best, epoch_end, s1, 1, search if epoch == 0 else None)
                theirs = other.result()
                for r in (mine, theirs):
                    for k, v in r[2].items():
                        stats[k] = stats.get(k, 0) + v
                    if r[1] < best_makespan:
                        best, best_makespan = r[0], r[1]
    else:
        best, best_makespan, stats = _rounds(inst, search.best, deadline, seed, workers, search)
    stats["relaxation_start"] = int(from_relaxation)
    return UpmspResult(
        best,
        best_makespan,
        lower_bound is not None and lower_bound >= best_makespan,
        lower_bound,
        time.perf_counter() - t0,
        stats,
    )


def _rounds(
    inst: UpmspInstance,
    start: list[list[int]],
    deadline: float,
    seed: int,
    workers: int,
    search: _Search | None = None,
) -> tuple[list[list[int]], int, dict[str, int]]:
    """Iterated greedy and CP-SAT rounds from ``start`` until ``deadline`` (perf_counter)."""
    budget_s = max(0.0, deadline - time.perf_counter())
    if search is None:
        search = _Search(inst, LoadSearch(inst.p, inst.s, start), np.random.default_rng(seed))
    long_sequences = inst.n >= LONG_SEQUENCES * inst.m
    ig_slice = IG_SLICE_S + 0.02 * inst.n / 10 if long_sequences else 1.0 + 0.04 * inst.n / 10
    if long_sequences:
        # insertion leaves long setup chains far from optimal: fix them before searching
        search.resequence(min(deadline, time.perf_counter() + 0.25 * budget_s), workers)
    while time.perf_counter() < deadline - 0.05:
        search.iterated_greedy(min(deadline, time.perf_counter() + ig_slice))
        if deadline - time.perf_counter() < 0.3:
            break
        if long_sequences:
            # long machine sequences: exact re-sequencing pays, multi-machine CP-SAT rarely does
            search.resequence(min(deadline, time.perf_counter() + 0.5 * ig_slice), workers)
            continue
        cp_window = max(2.0 * SUB_TIME_LIMIT_S, ig_slice * CPSAT_SHARE / (1.0 - CPSAT_SHARE))
        cp_end = time.perf_counter() + cp_window
        search.resequence(min(deadline, cp_end - SUB_TIME_LIMIT_S), workers)
        while (left := min(deadline, cp_end) - time.perf_counter()) > 0.3:
            search.cpsat_round(min(SUB_TIME_LIMIT_S, left), workers)
    return search.best, search.best_makespan, search.stats
